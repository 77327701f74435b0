package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// tokenSource returns the token function: the -token given, or a fresh token from the token
// service (GET <token-url>?user=<user>[&name=<name>], answered with the token as text).
func tokenSource(cfg config) func(context.Context) (string, error) {
	if cfg.token != "" {
		return func(context.Context) (string, error) { return cfg.token, nil }
	}
	return func(ctx context.Context) (string, error) {
		u, err := url.Parse(cfg.tokenURL)
		if err != nil {
			return "", fmt.Errorf("-token-url %q: %w", cfg.tokenURL, err)
		}
		q := u.Query()
		q.Set("user", cfg.user)
		if cfg.name != "" {
			q.Set("name", cfg.name)
		}
		u.RawQuery = q.Encode()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
		if err != nil {
			return "", fmt.Errorf("-token-url %q: %w", cfg.tokenURL, err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return "", fmt.Errorf("fetch a token: %w", err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		if err != nil {
			return "", fmt.Errorf("fetch a token: %w", err)
		}
		if resp.StatusCode != http.StatusOK {
			return "", fmt.Errorf("fetch a token: %s: %s", resp.Status, strings.TrimSpace(string(body)))
		}
		return strings.TrimSpace(string(body)), nil
	}
}
