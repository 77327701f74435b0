package wsevent

import (
	"log/slog"
	"net/url"
	"strings"

	"github.com/chatstack/websocketchatapi/internal/contract"
	"github.com/chatstack/websocketchatapi/lambdas/internal/envconfig"
	"github.com/chatstack/websocketchatapi/protocol/selection"
)

// reader reads the handlers' environment: envconfig's reads, plus those only the handlers of
// this package make. Like envconfig.Reader, it collects the errors of every variable it reads.
type reader struct {
	*envconfig.Reader
}

func newReader(getenv func(string) string) reader {
	return reader{envconfig.NewReader(getenv)}
}

// logLevel reads [contract.EnvLogLevel] (see ParseLevel).
func (r reader) logLevel() slog.Level {
	return envconfig.Parse(r.Reader, contract.EnvLogLevel, ParseLevel)
}

// origins reads an origin allowlist (see ParseOriginPolicy).
func (r reader) origins(key string) *OriginPolicy {
	return envconfig.Parse(r.Reader, key, ParseOriginPolicy)
}

// routeSelection reads a route selection expression, [contract.DefaultRouteSelection] when
// key is unset.
func (r reader) routeSelection(key string) *selection.Expression {
	return envconfig.Parse(r.Reader, key, func(v string) (*selection.Expression, error) {
		if v == "" {
			v = contract.DefaultRouteSelection
		}
		return selection.Parse(v)
	})
}

// token reads an HTTP token (RFC 9110), as a WebSocket subprotocol must be.
func (r reader) token(key, def string) string {
	v := r.Optional(key)
	if v == "" {
		return def
	}
	for _, c := range v {
		if c > '~' || c <= ' ' || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, c) {
			r.Fail(key, "%q is not a valid subprotocol token (no spaces, commas or separators)", v)
			return def
		}
	}
	return v
}

// stageURL reads the URL of a stage, such as
// https://abc123.execute-api.us-east-1.amazonaws.com/prod, without its trailing slashes. When
// required is false, an unset key gives "".
func (r reader) stageURL(key string, required bool) string {
	read := r.Optional
	if required {
		read = r.Required
	}
	v := strings.TrimRight(read(key), "/")
	if v == "" {
		return ""
	}
	u, err := url.Parse(v)
	switch {
	case err != nil:
		r.Fail(key, "%q is not a URL: %v", v, err)
	case u.Scheme != "https" && u.Scheme != "http":
		r.Fail(key, "%q must be an https:// URL (http:// only for local emulators)", v)
	case u.Host == "":
		r.Fail(key, "%q has no host", v)
	case u.RawQuery != "" || u.Fragment != "":
		r.Fail(key, "%q must not have a query or fragment", v)
	case strings.Contains(u.Path, "@connections"):
		r.Fail(key, "%q must be the stage URL, without /@connections", v)
	}
	return v
}

// actions reads a required list of route keys, with no empty or duplicate entries.
func (r reader) actions(key string) []string {
	if r.Required(key) == "" {
		return nil
	}
	list := r.List(key)
	seen := map[string]bool{}
	for _, a := range list {
		if seen[a] {
			r.Fail(key, "%q lists %q twice", r.Optional(key), a)
			return nil
		}
		seen[a] = true
	}
	return list
}
