package wsevent

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// OriginHeader is the header in which a browser names the origin of the page that opens a
// WebSocket. Other clients usually send none.
const OriginHeader = "Origin"

// OriginPolicy says which browser origins may open connections: the defence against
// Cross-Site WebSocket Hijacking, where a page on another site opens a connection that the
// browser authenticates with the user's credentials. A nil *OriginPolicy allows any origin.
type OriginPolicy struct {
	allowed []string // canonical origins
}

// ParseOriginPolicy parses an allowlist: comma-separated origins, each scheme://host[:port]
// with no path, query, fragment or user, in ASCII (write internationalized host names in
// their xn-- form, as browsers send them). Scheme and host are compared without regard to
// case, and a default port (80 for http and ws, 443 for https and wss) may be written or not.
// "" and "*" allow any origin and return nil; "*" cannot be combined with origins.
func ParseOriginPolicy(list string) (*OriginPolicy, error) {
	list = strings.TrimSpace(list)
	if list == "" || list == "*" {
		return nil, nil
	}
	p := &OriginPolicy{}
	var errs []error
	for entry := range strings.SplitSeq(list, ",") {
		entry = strings.TrimSpace(entry)
		switch {
		case entry == "":
			errs = append(errs, errors.New("empty entry"))
			continue
		case entry == "*":
			errs = append(errs, errors.New(`"*" allows any origin and must stand alone`))
			continue
		}
		o, err := CanonicalOrigin(entry)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !slices.Contains(p.allowed, o) {
			p.allowed = append(p.allowed, o)
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%q: %w", list, errors.Join(errs...))
	}
	return p, nil
}

// Origins returns the allowed origins in canonical form, nil when any origin is allowed.
func (p *OriginPolicy) Origins() []string {
	if p == nil {
		return nil
	}
	return slices.Clone(p.allowed)
}

// Allows reports whether a handshake may proceed: always for a nil policy; otherwise when no
// Origin header is present (not a browser: the attack needs one) or when every Origin value
// is an allowed origin. It returns the first refused value.
func (p *OriginPolicy) Allows(req events.APIGatewayWebsocketProxyRequest) (refused string, ok bool) {
	if p == nil {
		return "", true
	}
	for _, v := range RequestOrigins(req) {
		o, err := CanonicalOrigin(v)
		if err != nil || !slices.Contains(p.allowed, o) {
			return v, false
		}
	}
	return "", true
}

// RequestOrigins returns the non-empty values of the request's Origin header (any letter
// case), from multiValueHeaders when present there, else from headers.
func RequestOrigins(req events.APIGatewayWebsocketProxyRequest) []string {
	return slices.DeleteFunc(headerValues(req, OriginHeader), func(v string) bool { return strings.TrimSpace(v) == "" })
}

// headerValues returns the values of a request header (name in any letter case) from
// multiValueHeaders when present there, else from headers, as API Gateway sends both.
func headerValues(req events.APIGatewayWebsocketProxyRequest, name string) []string {
	var values []string
	for k, vs := range req.MultiValueHeaders {
		if strings.EqualFold(k, name) {
			values = append(values, vs...)
		}
	}
	if len(values) == 0 {
		for k, v := range req.Headers {
			if strings.EqualFold(k, name) {
				values = append(values, v)
			}
		}
	}
	return values
}

// defaultPorts are the ports an origin leaves out.
var defaultPorts = map[string]string{"http": "80", "https": "443", "ws": "80", "wss": "443"}

// CanonicalOrigin returns origin as origins are compared: scheme and host in lower case, the
// scheme's default port dropped. It fails for anything but scheme://host[:port] in ASCII
// (so for "null", which sandboxed pages send).
func CanonicalOrigin(origin string) (string, error) {
	bad := func(why string) error {
		return fmt.Errorf("origin %q: %s; want scheme://host[:port], such as https://chat.example.com", origin, why)
	}
	for i := 0; i < len(origin); i++ {
		if origin[i] <= ' ' || origin[i] > '~' {
			return "", bad("only printable ASCII without spaces (write internationalized hosts as xn--)")
		}
	}
	scheme, rest, ok := strings.Cut(origin, "://")
	if !ok || scheme == "" {
		return "", bad("no scheme")
	}
	if strings.ContainsAny(rest, "/?#") {
		return "", bad("an origin has no path, query or fragment")
	}
	if strings.Contains(rest, "@") {
		return "", bad("an origin has no user")
	}
	u, err := url.Parse(origin)
	if err != nil {
		return "", bad(err.Error())
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if host == "" {
		return "", bad("no host")
	}
	if strings.HasSuffix(u.Host, ":") {
		return "", bad("empty port")
	}
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return "", bad("port out of 1..65535")
		}
		port = strconv.Itoa(n)
	}
	scheme = strings.ToLower(u.Scheme)
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port == "" || port == defaultPorts[scheme] {
		return scheme + "://" + host, nil
	}
	return scheme + "://" + host + ":" + port, nil
}
