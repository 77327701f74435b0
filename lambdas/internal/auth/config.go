package auth

import (
	"fmt"
	"net"
	"net/url"

	"github.com/chatstack/websocketchatapi/internal/contract"
	"github.com/chatstack/websocketchatapi/lambdas/internal/envconfig"
)

// ConfigFromEnv builds a Config from environment variables, looked up with getenv
// (os.Getenv in production): [contract.EnvAuthIssuer] (required: an https URL, or http on
// loopback), [contract.EnvAuthAudiences] (required: comma-separated audiences or client ids),
// [contract.EnvAuthJWKSURL] (default: <issuer>/.well-known/jwks.json) and
// [contract.EnvAuthTokenUse] (comma-separated: id, access; default: any). Its error names
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
	return cfg, r.Err()
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
