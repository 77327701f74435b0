package auth

import (
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// Where a token was found in the $connect request.
const (
	// SourceQuery: the "token" query string parameter.
	SourceQuery = "query"
	// SourceProtocol: a "bearer.<jwt>" entry of the Sec-WebSocket-Protocol header.
	SourceProtocol = "protocol"
)

const (
	// QueryParam is the query string parameter that may carry the token.
	QueryParam = "token"
	// ProtocolHeader is the handshake header that may carry the token (any case).
	ProtocolHeader = "Sec-WebSocket-Protocol"
	// ProtocolPrefix starts the Sec-WebSocket-Protocol entry that carries the token.
	ProtocolPrefix = "bearer."
)

// ErrNoToken is returned by TokenFromRequest when the request carries no token at all.
var ErrNoToken = errors.New("auth: no token in request")

// ErrAmbiguousToken is returned by TokenFromRequest when the request carries several
// different tokens.
var ErrAmbiguousToken = errors.New("auth: several different tokens in request")

// TokenFromRequest finds the token of a $connect authorizer request, in the "token"
// query string parameter or in a "bearer.<jwt>" entry of the Sec-WebSocket-Protocol
// header (browsers cannot set other headers on a WebSocket handshake), and says which
// source it came from (SourceQuery or SourceProtocol). A present but empty token is
// returned as such; the verifier refuses it. No token gives ErrNoToken; two different
// tokens give ErrAmbiguousToken.
func TokenFromRequest(req events.APIGatewayCustomAuthorizerRequestTypeRequest) (token, source string, err error) {
	var query, protocol []string
	if v, ok := req.QueryStringParameters[QueryParam]; ok {
		query = append(query, v)
	}
	query = append(query, req.MultiValueQueryStringParameters[QueryParam]...)

	for name, v := range req.Headers {
		if strings.EqualFold(name, ProtocolHeader) {
			protocol = append(protocol, bearerEntries(v)...)
		}
	}
	for name, vs := range req.MultiValueHeaders {
		if strings.EqualFold(name, ProtocolHeader) {
			for _, v := range vs {
				protocol = append(protocol, bearerEntries(v)...)
			}
		}
	}

	all := append(append([]string(nil), query...), protocol...)
	if len(all) == 0 {
		return "", "", ErrNoToken
	}
	for _, t := range all[1:] {
		if t != all[0] {
			return "", "", fmt.Errorf("%w: %d candidates", ErrAmbiguousToken, len(all))
		}
	}
	if len(query) > 0 {
		return all[0], SourceQuery, nil
	}
	return all[0], SourceProtocol, nil
}

// bearerEntries returns the tokens of the "bearer.<jwt>" entries of one
// comma-separated Sec-WebSocket-Protocol value.
func bearerEntries(header string) []string {
	var out []string
	for entry := range strings.SplitSeq(header, ",") {
		if t, ok := strings.CutPrefix(strings.TrimSpace(entry), ProtocolPrefix); ok {
			out = append(out, t)
		}
	}
	return out
}
