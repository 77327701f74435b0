// Command authorizer is the Lambda REQUEST authorizer of the WebSocket API's $connect route.
// Its environment is what [auth.ConfigFromEnv] reads. It builds the token verifier once, warms
// its key cache, and serves authorizer events. A bad configuration makes the init phase fail.
package main

import (
	"context"
	"log/slog"

	"github.com/chatstack/websocketchatapi/lambdas/internal/auth"
	"github.com/chatstack/websocketchatapi/lambdas/internal/lambdamain"
)

func main() { lambdamain.Start(auth.ConfigFromEnv, newHandler) }

// newHandler builds the authorizer over a verifier of cfg, with the issuer's keys fetched
// during init when the issuer answers in time (otherwise the first request fetches them).
func newHandler(in lambdamain.Init, cfg auth.Config) (any, error) {
	logger := slog.New(slog.NewJSONHandler(in.Stdout, nil))
	verifier, err := auth.NewVerifier(cfg)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), auth.DefaultFetchTimeout)
	defer cancel()
	if err := verifier.Prefetch(ctx); err != nil {
		logger.Warn("JWKS prefetch failed", "error", err.Error())
	}
	return auth.NewAuthorizer(verifier, logger).Handle, nil
}
