package auth

import (
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/chatstack/websocketchatapi/internal/contract"
	"github.com/chatstack/websocketchatapi/lambdas/internal/envconfig"
)

// ConfigFromEnv builds a Config from environment variables, looked up with getenv
// (os.Getenv in production): [contract.EnvAuthIssuer] (required: an https URL, or http on
// loopback), [contract.EnvAuthAudiences] (required: comma-separated audiences or client ids),
// [contract.EnvAuthJWKSURL] (default: <issuer>/.well-known/jwks.json) and
// [contract.EnvAuthTokenUse] (comma-separated: id, access; default: any) and
// [contract.EnvAuthAPIKeyClaim] (the claim holding the user's API key; default: none). Its error names
// every variable that is wrong. Fields that are not read from the environment (HTTPClient,
// timeouts, clock) are left zero, so that NewVerifier applies its defaults.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	r := envconfig.NewReader(getenv)
	var cfg Config
	if cfg.Issuer = r.Required(contract.EnvAuthIssuer); cfg.Issuer != "" {
		if err := checkFetchableURL(cfg.Issuer); err != nil {
			r.Fail(contract.EnvAuthIssuer, "%v", err)
		}
	}
	if r.Required(contract.EnvAuthAudiences) != "" {
		cfg.Audiences = r.List(contract.EnvAuthAudiences)
	}
	cfg.JWKSURL = r.Checked(contract.EnvAuthJWKSURL, "", checkFetchableURL)
	cfg.TokenUses = r.List(contract.EnvAuthTokenUse)
	for _, u := range cfg.TokenUses {
		if u != "id" && u != "access" {
			r.Fail(contract.EnvAuthTokenUse, "unknown token use %q (want id and/or access)", u)
		}
	}
	cfg.APIKeyClaim = r.Checked(contract.EnvAuthAPIKeyClaim, "", checkClaimName)
	return cfg, r.Err()
}

// checkClaimName accepts a JWT claim name: not blank, at most 128 bytes, no spaces.
func checkClaimName(name string) error {
	if strings.TrimSpace(name) == "" || len(name) > 128 || strings.ContainsAny(name, " \t\r\n") {
		return fmt.Errorf("%q is not a claim name (1 to 128 characters, no spaces)", name)
	}
	return nil
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
