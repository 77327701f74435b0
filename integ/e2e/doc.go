// Package e2e holds the end-to-end scenarios of the chat backend: real WebSocket clients
// (github.com/coder/websocket) talk to a running stack and assert what API Gateway, Lambda and
// DynamoDB do on AWS: the handshake's status codes, route responses, model validation, fan-out,
// history, clean-up of closed and lost connections, size limits and close codes, concurrency,
// the per-connection rate limit, and the ping route that API Gateway answers itself.
//
// The package has only tests. They run against one of two targets:
//
//   - local (the default): TestMain synthesizes the reference app (local.Synth) and runs it with
//     package local (the API Gateway emulator, the very arm64 bootstraps, @connections, DynamoDB
//     Local behind IAM checks). Every scenario runs, including those that need what only this
//     target gives: minting expired or foreign tokens, reading and writing the table, counting
//     invocations, IAM denials, dropping a connection as a lost network would, and a second stack synthesized from a broken variant of the app
//     (testdata/brokenapp).
//   - deployed: WSCHAT_E2E_TARGET=deployed with WSCHAT_E2E_URL (the stack's wss:// URL) and
//     WSCHAT_E2E_TOKENS (comma-separated valid tokens of at least three distinct users). The
//     scenarios that need the local target skip with "needs the local target: ..."; the others
//     run unchanged. Rooms are named per run, so a deployed table's old data does not interfere.
//
// Run them with:
//
//	go test -count=1 ./integ/e2e/
//	WSCHAT_E2E_TARGET=deployed WSCHAT_E2E_URL=wss://... WSCHAT_E2E_TOKENS=t1,t2,t3 go test -count=1 ./integ/e2e/
//
// Frames are read by one goroutine per client into a queue, and every wait has a deadline: a
// scenario waits for a frame, a close or a DynamoDB state, never for a fixed time, except where
// it asserts silence, and then only after a marker frame proved the stream live.
package e2e
