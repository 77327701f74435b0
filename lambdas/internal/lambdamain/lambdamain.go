// Package lambdamain is the main every handler shares: during Lambda's init phase it loads the
// handler's configuration from the environment and builds the handler from it, once; then it
// serves every invocation with that handler. A failure of either step ends the init with one
// JSON log line.
//
// It links no AWS SDK, so that a handler that makes no AWS call does not carry one.
package lambdamain

import (
	"io"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
)

// Init is what the process gives a handler's build function.
type Init struct {
	// Getenv reads an environment variable (os.Getenv).
	Getenv func(key string) string
	// Stdout receives the handler's JSON log lines and metrics (os.Stdout), which Lambda sends
	// to CloudWatch Logs.
	Stdout io.Writer
}

// Start is the whole main of a handler. It loads the configuration with load and builds the
// handler with build, once, then serves every invocation with that handler (lambda.Start),
// which must be a function that lambda.Start accepts. When load or build fails, Start writes
// one JSON log line ({"level":"ERROR","msg":"init failed","error":...}) to standard error and
// exits with status 1: Lambda reports an init error and the function gets no event.
func Start[C any](load func(getenv func(string) string) (C, error), build func(Init, C) (any, error)) {
	h, err := initialize(Init{Getenv: os.Getenv, Stdout: os.Stdout}, load, build)
	if err != nil {
		slog.New(slog.NewJSONHandler(os.Stderr, nil)).Error("init failed", "error", err.Error())
		os.Exit(1)
	}
	lambda.Start(h)
}

// initialize loads the configuration from in's environment and builds the handler.
func initialize[C any](in Init, load func(getenv func(string) string) (C, error), build func(Init, C) (any, error)) (any, error) {
	cfg, err := load(in.Getenv)
	if err != nil {
		return nil, err
	}
	return build(in, cfg)
}
