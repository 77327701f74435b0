// Package contract is what the construct (constructs/chatapi), the Lambda handlers
// (lambdas/...) and the local emulator (integ/...) must agree on, written once: the
// environment variables the construct sets and the handlers read, the table's key layout,
// the authorizer context keys, the metric namespace, names and dimension, and the defaults
// that both sides apply.
//
// No other non-test file spells one of these values; each side refers to the constant here.
// A value changed here changes the synthesized template and the handlers together, so the two
// cannot drift apart. The package is internal to this module: users configure the construct
// through its props, never through these names.
//
// The test in lambdas/env_test.go synthesizes the construct and checks, for every function,
// that the environment the construct sets is exactly what that handler's config loader reads.
package contract
