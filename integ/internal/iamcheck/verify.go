package iamcheck

import (
	"crypto/hmac"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/chatstack/websocketchatapi/internal/sigv4"
)

// Errors of VerifySigV4, each matching a refusal of AWS.
var (
	// ErrSignatureMismatch: AWS's InvalidSignatureException, "The request signature we
	// calculated does not match the signature you provided. ...".
	ErrSignatureMismatch = errors.New("the request signature we calculated does not match the signature you provided")
	// ErrSignatureExpired: the request's date is more than MaxClockSkew away, or a presigned
	// URL is past X-Amz-Expires.
	ErrSignatureExpired = errors.New("signature expired")
	// ErrMalformedSignature: a SigV4 element is missing or malformed.
	ErrMalformedSignature = errors.New("malformed SigV4 signature")
)

// MaxClockSkew is how far a signed request's X-Amz-Date may be from the server's clock.
const MaxClockSkew = 15 * time.Minute

// signed is a SigV4 signature as a request carries it, in its headers or its query string.
type signed struct {
	cred          Credential
	scope         string // date/region/service/aws4_request
	date          string // X-Amz-Date
	signedHeaders []string
	signature     string
	presigned     bool
	expires       time.Duration // X-Amz-Expires of a presigned URL
}

// VerifySigV4 checks the AWS4-HMAC-SHA256 signature of a request without a body (a GET, such
// as a WebSocket handshake) against secret, as AWS does: from the Authorization header, or
// from the X-Amz-* query parameters of a presigned URL. The canonical URI encodes each
// segment of the path once (every service but S3); headers are the signed ones of
// SignedHeaders, the Host header as r.Host. now bounds the date (MaxClockSkew) and a
// presigned URL's X-Amz-Expires. It returns the credential scope, for the caller to check the
// access key, region and service.
func VerifySigV4(r *http.Request, secret string, now time.Time) (Credential, error) {
	s, err := parseSigned(r)
	if err != nil {
		return Credential{}, err
	}
	t, err := time.Parse("20060102T150405Z", s.date)
	if err != nil || !strings.HasPrefix(s.scope, s.date[:8]+"/") {
		return s.cred, fmt.Errorf("%w: X-Amz-Date %q does not match the credential scope %q", ErrMalformedSignature, s.date, s.scope)
	}
	switch {
	case s.presigned && now.After(t.Add(s.expires)):
		return s.cred, fmt.Errorf("%w: the presigned URL expired at %s", ErrSignatureExpired, t.Add(s.expires).Format(time.RFC3339))
	case now.Sub(t) > MaxClockSkew || t.Sub(now) > MaxClockSkew:
		return s.cred, fmt.Errorf("%w: signed at %s, more than %v from now (%s)", ErrSignatureExpired, s.date, MaxClockSkew, now.UTC().Format("20060102T150405Z"))
	}
	headers := map[string]string{}
	for _, name := range s.signedHeaders {
		if name == "host" {
			headers[name] = r.Host
			continue
		}
		values := r.Header.Values(name)
		if len(values) == 0 {
			return s.cred, fmt.Errorf("%w: signed header %s is missing", ErrMalformedSignature, name)
		}
		for i, v := range values {
			values[i] = strings.Join(strings.Fields(v), " ")
		}
		headers[name] = strings.Join(values, ",")
	}
	query := r.URL.Query()
	query.Del("X-Amz-Signature")
	payload := r.Header.Get("X-Amz-Content-Sha256")
	if payload == "" {
		payload = sigv4.EmptyPayloadHash
	}
	want, _ := sigv4.Signature(r.Method, r.URL.Path, query, headers, payload, secret, s.scope, s.date)
	if !hmac.Equal([]byte(want), []byte(s.signature)) {
		return s.cred, ErrSignatureMismatch
	}
	return s.cred, nil
}

// parseSigned reads the signature elements of r: its Authorization header, else the X-Amz-*
// query parameters.
func parseSigned(r *http.Request) (signed, error) {
	if h := r.Header.Get("Authorization"); h != "" {
		alg, rest, _ := strings.Cut(strings.TrimSpace(h), " ")
		if alg != "AWS4-HMAC-SHA256" {
			return signed{}, fmt.Errorf("%w: algorithm %q, want AWS4-HMAC-SHA256", ErrMalformedSignature, alg)
		}
		fields := map[string]string{}
		for _, f := range strings.Split(rest, ",") {
			k, v, _ := strings.Cut(strings.TrimSpace(f), "=")
			fields[k] = v
		}
		return newSigned(fields["Credential"], r.Header.Get("X-Amz-Date"), fields["SignedHeaders"], fields["Signature"])
	}
	q := r.URL.Query()
	if q.Get("X-Amz-Algorithm") != "AWS4-HMAC-SHA256" {
		return signed{}, fmt.Errorf("%w: X-Amz-Algorithm %q, want AWS4-HMAC-SHA256", ErrMalformedSignature, q.Get("X-Amz-Algorithm"))
	}
	s, err := newSigned(q.Get("X-Amz-Credential"), q.Get("X-Amz-Date"), q.Get("X-Amz-SignedHeaders"), q.Get("X-Amz-Signature"))
	if err != nil {
		return s, err
	}
	secs, err := strconv.Atoi(q.Get("X-Amz-Expires"))
	if err != nil || secs < 1 || secs > 604800 {
		return s, fmt.Errorf("%w: X-Amz-Expires %q must be 1 to 604800 seconds", ErrMalformedSignature, q.Get("X-Amz-Expires"))
	}
	s.presigned, s.expires = true, time.Duration(secs)*time.Second
	return s, nil
}

func newSigned(credential, date, signedHeaders, sig string) (signed, error) {
	cred, err := parseScope(credential)
	if err != nil || cred.Region == "" {
		return signed{}, fmt.Errorf("%w: credential %q", ErrMalformedSignature, credential)
	}
	if date == "" || signedHeaders == "" || len(sig) != 64 {
		return signed{}, fmt.Errorf("%w: X-Amz-Date, SignedHeaders and a 64-digit Signature are required", ErrMalformedSignature)
	}
	_, scope, _ := strings.Cut(credential, "/")
	return signed{cred: cred, scope: scope, date: date, signedHeaders: strings.Split(signedHeaders, ";"), signature: sig}, nil
}
