// Command authorizer is the Lambda REQUEST authorizer of the WebSocket API's $connect
// route. It reads AUTH_ISSUER, AUTH_AUDIENCES, AUTH_JWKS_URL and AUTH_TOKEN_USE (see
// package auth), builds the token verifier once and serves authorizer events.
// A bad configuration makes the init phase fail.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/chatstack/websocketchatapi/lambdas/internal/auth"
)

func main() {
	logger := slog.New(slog.NewJSONHandler(os.Stdout, nil))

	cfg, err := auth.ConfigFromEnv(os.Getenv)
	if err != nil {
		logger.Error("invalid configuration", "error", err.Error())
		os.Exit(1)
	}
	verifier, err := auth.NewVerifier(cfg)
	if err != nil {
		logger.Error("invalid configuration", "error", err.Error())
		os.Exit(1)
	}

	// Warm the key cache during init; on failure the first request fetches again.
	ctx, cancel := context.WithTimeout(context.Background(), auth.DefaultFetchTimeout)
	if err := verifier.Prefetch(ctx); err != nil {
		logger.Warn("JWKS prefetch failed", "error", err.Error())
	}
	cancel()

	lambda.Start(auth.NewAuthorizer(verifier, logger).Handle)
}
