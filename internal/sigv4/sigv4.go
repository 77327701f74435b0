// Package sigv4 computes AWS Signature Version 4 signatures: what the Go client signs its
// IAM handshake with and what the local emulator verifies one against, so the two share one
// canonical form. It links no AWS SDK (the client must not).
package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"sort"
	"strings"
)

// Algorithm is the signing algorithm's name.
const Algorithm = "AWS4-HMAC-SHA256"

// EmptyPayloadHash is HexSHA256 of an empty payload, such as a GET's.
const EmptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// Signature returns the SigV4 signature of a request and its signed header list.
// headers are the signed headers by lower-case name; scope is date/region/service/aws4_request;
// date is X-Amz-Date. The canonical URI encodes each segment of path once, as every AWS
// service but S3 expects.
func Signature(method, path string, query url.Values, headers map[string]string, payloadHash, secret, scope, date string) (signature, signedHeaders string) {
	names := make([]string, 0, len(headers))
	for name := range headers {
		names = append(names, name)
	}
	sort.Strings(names)
	var canonHeaders strings.Builder
	for _, name := range names {
		canonHeaders.WriteString(name + ":" + strings.Join(strings.Fields(headers[name]), " ") + "\n")
	}
	signedHeaders = strings.Join(names, ";")
	canonical := strings.Join([]string{method, canonicalURI(path), CanonicalQuery(query), canonHeaders.String(), signedHeaders, payloadHash}, "\n")
	toSign := Algorithm + "\n" + date + "\n" + scope + "\n" + HexSHA256(canonical)
	key := []byte("AWS4" + secret)
	for _, part := range strings.Split(scope, "/") {
		key = hmacSHA256(key, part)
	}
	return hex.EncodeToString(hmacSHA256(key, toSign)), signedHeaders
}

// canonicalURI encodes each segment of path ("/" when empty).
func canonicalURI(path string) string {
	if path == "" {
		return "/"
	}
	segments := strings.Split(path, "/")
	for i, s := range segments {
		segments[i] = uriEncode(s)
	}
	return strings.Join(segments, "/")
}

// CanonicalQuery encodes names and values and sorts them by name, then value.
func CanonicalQuery(q url.Values) string {
	type pair struct{ name, value string }
	var pairs []pair
	for name, values := range q {
		for _, v := range values {
			pairs = append(pairs, pair{uriEncode(name), uriEncode(v)})
		}
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].name != pairs[j].name {
			return pairs[i].name < pairs[j].name
		}
		return pairs[i].value < pairs[j].value
	})
	out := make([]string, len(pairs))
	for i, p := range pairs {
		out[i] = p.name + "=" + p.value
	}
	return strings.Join(out, "&")
}

// uriEncode percent-encodes every byte but the unreserved A-Z a-z 0-9 - _ . ~, in upper-case
// hex, as SigV4 requires.
func uriEncode(s string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

// HexSHA256 is the lower-case hex SHA-256 of s, as SigV4 hashes payloads and requests.
func HexSHA256(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// hmacSHA256 is HMAC-SHA256 of data under key.
func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}
