// Package codeshape holds tests of the module's own shape, run by make test: no non-test
// function outside bench/ is longer than [MaxFunctionLines] lines, and the values of
// internal/contract (environment variable names, key prefixes, metric names) are spelled in
// internal/contract alone, so the construct and the handlers cannot drift apart.
package codeshape

// MaxFunctionLines is the longest a non-test function outside bench/ may be, from its func
// line to its closing brace.
const MaxFunctionLines = 80
