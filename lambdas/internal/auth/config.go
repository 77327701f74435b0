package auth

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// Environment variable names read by ConfigFromEnv.
const (
	// EnvIssuer names the expected "iss" claim; it must be an https URL (or http on loopback).
	EnvIssuer = "AUTH_ISSUER"
	// EnvAudiences names the comma-separated list of accepted audiences / client ids.
	EnvAudiences = "AUTH_AUDIENCES"
	// EnvJWKSURL names the optional JWKS URL (default: <issuer>/.well-known/jwks.json).
	EnvJWKSURL = "AUTH_JWKS_URL"
	// EnvTokenUse names the optional comma-separated list of accepted "token_use" values.
	EnvTokenUse = "AUTH_TOKEN_USE"
)

// ConfigFromEnv builds a Config from environment variables, looked up with getenv
// (os.Getenv in production). Every error names the offending variable. Fields that
// are not read from the environment (HTTPClient, timeouts, clock) are left zero, so
// that NewVerifier applies its defaults.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	var cfg Config

	issuer := strings.TrimSpace(getenv(EnvIssuer))
	if issuer == "" {
		return Config{}, fmt.Errorf("%s is required", EnvIssuer)
	}
	if err := checkFetchableURL(issuer); err != nil {
		return Config{}, fmt.Errorf("%s: %w", EnvIssuer, err)
	}
	cfg.Issuer = issuer

	audiences, err := splitList(getenv(EnvAudiences))
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", EnvAudiences, err)
	}
	if len(audiences) == 0 {
		return Config{}, fmt.Errorf("%s is required (comma-separated audiences or client ids)", EnvAudiences)
	}
	cfg.Audiences = audiences

	if raw := strings.TrimSpace(getenv(EnvJWKSURL)); raw != "" {
		if err := checkFetchableURL(raw); err != nil {
			return Config{}, fmt.Errorf("%s: %w", EnvJWKSURL, err)
		}
		cfg.JWKSURL = raw
	}

	uses, err := splitList(getenv(EnvTokenUse))
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", EnvTokenUse, err)
	}
	for _, u := range uses {
		if u != "id" && u != "access" {
			return Config{}, fmt.Errorf("%s: unknown token use %q (want id and/or access)", EnvTokenUse, u)
		}
	}
	cfg.TokenUses = uses

	return cfg, nil
}

// splitList splits a comma-separated value, trimming spaces. An empty or blank value
// gives an empty list; an empty entry inside a non-empty list ("a,,b") is an error.
func splitList(raw string) ([]string, error) {
	if strings.TrimSpace(raw) == "" {
		return nil, nil
	}
	parts := strings.Split(raw, ",")
	out := make([]string, 0, len(parts))
	for _, p := range parts {
		p = strings.TrimSpace(p)
		if p == "" {
			return nil, fmt.Errorf("empty entry in list %q", raw)
		}
		out = append(out, p)
	}
	return out, nil
}

// checkFetchableURL accepts absolute https URLs, and http URLs whose host is loopback
// (127.0.0.1, localhost, ::1) for local runs. User info, queries and fragments are refused.
func checkFetchableURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("not a URL: %w", err)
	}
	if u.Host == "" || u.Hostname() == "" {
		return fmt.Errorf("%q is not an absolute URL with a host", raw)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("%q must not contain user info, a query or a fragment", raw)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if isLoopbackHost(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("%q must use https (http is allowed only for 127.0.0.1 or localhost)", raw)
	default:
		return fmt.Errorf("%q must use https", raw)
	}
}

func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
