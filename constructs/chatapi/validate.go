package chatapi

import (
	"fmt"
	"math"
	"net/url"
	"regexp"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"

	"github.com/chatstack/websocketchatapi/protocol"
)

var (
	stageNamePattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)
	routeKeyPattern  = regexp.MustCompile(`^[A-Za-z0-9_.:-]{1,128}$`)
)

// validator panics on an invalid prop with a message that names the construct's path, the
// prop and the rule ("chatapi: Stack/Chat: StageName: ..."), as aws-cdk-lib's constructs do,
// so that two chats in one stack can be told apart.
type validator struct{ path string }

func newValidator(scope constructs.Construct) validator {
	return validator{path: *scope.Node().Path()}
}

// fail panics with the prop and the broken rule.
func (v validator) fail(prop, format string, args ...any) {
	panic(fmt.Sprintf("chatapi: %s: %s: %s", v.path, prop, fmt.Sprintf(format, args...)))
}

func resolved(s *string) bool { return s != nil && !*awscdk.Token_IsUnresolved(s) }

func (v validator) rate(prop string, n float64) float64 {
	if n <= 0 || math.IsNaN(n) {
		v.fail(prop, "must be greater than 0, got %g", n)
	}
	return n
}

func (v validator) burst(prop string, n float64) float64 {
	if n < 0 || n != math.Trunc(n) {
		v.fail(prop, "must be a whole number of at least 0, got %g", n)
	}
	return n
}

// origin accepts "*" or scheme://host[:port], as browsers send the Origin header.
func (v validator) origin(o string) string {
	if o == "*" {
		return o
	}
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
		v.fail("AllowedOrigins", "%q must be an origin: scheme://host[:port], no path", o)
	}
	return u.Scheme + "://" + u.Host
}

// seconds reads a concrete duration; a token duration cannot be checked at synth.
func (v validator) seconds(prop string, d awscdk.Duration) (s float64) {
	defer func() {
		if r := recover(); r != nil {
			v.fail(prop, "must be a concrete duration, not a token (%v)", r)
		}
	}()
	return *d.ToSeconds(nil)
}

func (v validator) memory(prop string, mb float64) float64 {
	if mb < MinMemorySize || mb > MaxMemorySize || mb != math.Trunc(mb) {
		v.fail(prop, "must be a whole number of MB from %d to %d, got %g", MinMemorySize, MaxMemorySize, mb)
	}
	return mb
}

func (v validator) https(prop, raw string) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		v.fail(prop, "%q must be an https URL", raw)
	}
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

// isBuiltInRoute reports whether key is one of the routes API Gateway predefines.
func isBuiltInRoute(key string) bool {
	return key == "$connect" || key == "$disconnect" || key == "$default"
}

// routeKey checks a route key given to AddRoute against the keys the API already has.
func (v validator) routeKey(key string, existing int, exists bool) {
	switch {
	case key == "":
		v.fail("AddRoute", "route key must not be empty")
	case isBuiltInRoute(key):
		v.fail("AddRoute", "route key %q is reserved: the construct owns $connect, $disconnect and $default", key)
	case key == protocol.RoutePing:
		v.fail("AddRoute", "route key %q is reserved: the construct's heartbeat route, which API Gateway answers itself ({\"type\":%q})", key, protocol.FramePong)
	case strings.HasPrefix(key, "$"):
		v.fail("AddRoute", "route key %q must not start with $ (reserved by API Gateway)", key)
	case !routeKeyPattern.MatchString(key):
		v.fail("AddRoute", "route key %q must be 1 to 128 letters, digits, _ . : or -", key)
	case exists:
		v.fail("AddRoute", "route key %q already exists", key)
	case existing >= MaxRoutes:
		v.fail("AddRoute", "route %q would be route %d: API Gateway allows at most %d routes per API", key, existing+1, MaxRoutes)
	}
}

// derefAll turns jsii's string pointers into strings; the props' checks have refused nil.
func derefAll(ps []*string) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = *p
	}
	return out
}
