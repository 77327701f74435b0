// Package lambdaemu runs Lambda functions locally through the Lambda Runtime API: it starts
// the very `bootstrap` executables that the construct uploads, serves them the
// 2018-06-01 runtime API (invocation/next, invocation/{id}/response, invocation/{id}/error,
// init/error) on loopback, and drives invocations the way Lambda does.
//
// An Emulator holds functions (Add) and invokes them (Invoke). Each function keeps a pool of
// execution environments, one operating-system process each, with its own runtime API
// endpoint on 127.0.0.1: an idle process is reused (warm start); when all are busy another is
// started (cold start) up to the function's MaxConcurrency, beyond which invocations queue.
// A process that times out, exits, or fails its init is killed with its whole process group,
// and a fresh one serves the next invocation.
//
// Processes see only the environment that Lambda gives (AWS_LAMBDA_RUNTIME_API,
// AWS_LAMBDA_FUNCTION_NAME, AWS_REGION, LAMBDA_TASK_ROOT, credentials, ...), the function's
// own variables, the extra variables that the caller adds, and the host's PATH: nothing else
// of the host environment (no AWS_PROFILE, no HOME) leaks in.
//
// Their standard output and error are split into lines, kept per function in a ring buffer
// (Emulator.Logs), copied to an optional sink with the function name as prefix, and returned
// per invocation in Result.Log, between Lambda's own START, END and REPORT lines.
//
// The construct builds handlers for linux/arm64. Such a bootstrap runs on another machine
// through an emulator: Function.Interpreter (qemu-user, found by FindInterpreter) starts it as
// "<interpreter> <dir>/bootstrap", so the very binary that would be uploaded is what runs.
// Alternatively BuildHost builds the same package, with the same flags, for the machine that
// runs the emulator. Add refuses (ErrNotRunnable) a bootstrap that this machine cannot execute,
// natively or through the interpreter given.
package lambdaemu
