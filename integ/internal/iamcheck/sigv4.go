package iamcheck

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Credential is the credential scope of a SigV4-signed request.
type Credential struct {
	// AccessKeyID identifies the caller's credentials.
	AccessKeyID string
	// Date is the scope date, YYYYMMDD.
	Date string
	// Region is the scope region ("" for SigV4a, whose scope has none).
	Region string
	// Service is the signing name, e.g. dynamodb or execute-api.
	Service string
}

// ParseAuthorization reads the credential scope from a SigV4 (or SigV4a) Authorization header:
// "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=...,
// Signature=...". The signature is not verified.
func ParseAuthorization(header string) (Credential, error) {
	alg, rest, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || (alg != "AWS4-HMAC-SHA256" && alg != "AWS4-ECDSA-P256-SHA256") {
		return Credential{}, errors.New("authorization: not a SigV4 Authorization header")
	}
	for _, field := range strings.Split(rest, ",") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(field), "Credential="); ok {
			return parseScope(v)
		}
	}
	return Credential{}, errors.New("authorization: no Credential= in the Authorization header")
}

// parseScope splits AKID/date/region/service/aws4_request (or AKID/date/service/aws4_request).
func parseScope(v string) (Credential, error) {
	parts := strings.Split(v, "/")
	switch {
	case len(parts) == 5 && parts[4] == "aws4_request" && parts[0] != "":
		return Credential{AccessKeyID: parts[0], Date: parts[1], Region: parts[2], Service: parts[3]}, nil
	case len(parts) == 4 && parts[3] == "aws4_request" && parts[0] != "":
		return Credential{AccessKeyID: parts[0], Date: parts[1], Service: parts[2]}, nil
	}
	return Credential{}, fmt.Errorf("authorization: malformed credential scope %q", v)
}

// RequestCredential reads the credential scope of a signed request: from its Authorization
// header, else from the X-Amz-Credential query parameter of a presigned URL.
func RequestCredential(r *http.Request) (Credential, error) {
	if h := r.Header.Get("Authorization"); h != "" {
		return ParseAuthorization(h)
	}
	if c := r.URL.Query().Get("X-Amz-Credential"); c != "" {
		return parseScope(c)
	}
	return Credential{}, errors.New("authorization: the request is not signed")
}

// AccessKeyID returns the access key id of a SigV4 Authorization header.
func AccessKeyID(authorization string) (string, error) {
	c, err := ParseAuthorization(authorization)
	if err != nil {
		return "", err
	}
	return c.AccessKeyID, nil
}
