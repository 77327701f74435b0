package client

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// AWSCredentials sign the handshake with AWS Signature Version 4 for an API whose $connect
// uses IAM authorization. Get them from your credential source (a role's temporary
// credentials, for instance); the package itself reads no environment or files.
type AWSCredentials struct {
	// AccessKeyID and SecretAccessKey are required.
	AccessKeyID     string
	SecretAccessKey string
	// SessionToken comes with temporary credentials (access key ids starting ASIA).
	SessionToken string
}

// SigV4 settings of the handshake.
const (
	// sigV4Service is the signing name of API Gateway's execute-api.
	sigV4Service = "execute-api"
	// sigV4Algorithm is the signing algorithm's name.
	sigV4Algorithm = "AWS4-HMAC-SHA256"
	// presignExpires is how long a presigned handshake URL stays valid: it is used at once.
	presignExpires = 5 * time.Minute
	// amzDateFormat is the format of X-Amz-Date.
	amzDateFormat = "20060102T150405Z"
	// emptySHA256 is the hash of an empty payload: a handshake is a GET without a body.
	emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
)

// signHandshake signs the GET handshake of u for region at now. With inQuery the signature
// goes in the URL's query string (X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date,
// X-Amz-Expires, X-Amz-SignedHeaders, X-Amz-Security-Token, X-Amz-Signature), as browsers
// and devices that cannot set handshake headers must; otherwise in the Authorization,
// X-Amz-Date and X-Amz-Security-Token headers. Only the host is signed besides the X-Amz
// values, so the WebSocket headers the dialer adds do not matter.
func signHandshake(u url.URL, creds AWSCredentials, region string, now time.Time, inQuery bool) (url.URL, http.Header) {
	now = now.UTC()
	date := now.Format(amzDateFormat)
	scope := now.Format("20060102") + "/" + region + "/" + sigV4Service + "/aws4_request"
	query := u.Query()
	headers := map[string]string{"host": u.Host}
	if inQuery {
		query.Set("X-Amz-Algorithm", sigV4Algorithm)
		query.Set("X-Amz-Credential", creds.AccessKeyID+"/"+scope)
		query.Set("X-Amz-Date", date)
		query.Set("X-Amz-Expires", strconv.Itoa(int(presignExpires.Seconds())))
		query.Set("X-Amz-SignedHeaders", "host")
		if creds.SessionToken != "" {
			query.Set("X-Amz-Security-Token", creds.SessionToken)
		}
	} else {
		headers["x-amz-date"] = date
		if creds.SessionToken != "" {
			headers["x-amz-security-token"] = creds.SessionToken
		}
	}
	sig, signed := sigV4Signature(http.MethodGet, u.Path, query, headers, emptySHA256, creds.SecretAccessKey, scope, date)
	h := http.Header{}
	if inQuery {
		query.Set("X-Amz-Signature", sig)
		u.RawQuery = canonicalQuery(query)
		return u, h
	}
	h.Set("X-Amz-Date", date)
	if creds.SessionToken != "" {
		h.Set("X-Amz-Security-Token", creds.SessionToken)
	}
	h.Set("Authorization", sigV4Algorithm+" Credential="+creds.AccessKeyID+"/"+scope+", SignedHeaders="+signed+", Signature="+sig)
	return u, h
}

// sigV4Signature returns the SigV4 signature of a request and its signed header list.
// headers are the signed headers by lower-case name; scope is date/region/service/aws4_request;
// date is X-Amz-Date. The canonical URI encodes each segment of path once, as every AWS
// service but S3 expects.
func sigV4Signature(method, path string, query url.Values, headers map[string]string, payloadHash, secret, scope, date string) (signature, signedHeaders string) {
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
	canonical := strings.Join([]string{method, canonicalURI(path), canonicalQuery(query), canonHeaders.String(), signedHeaders, payloadHash}, "\n")
	toSign := sigV4Algorithm + "\n" + date + "\n" + scope + "\n" + hexSHA256(canonical)
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

// canonicalQuery encodes names and values and sorts them by name, then value.
func canonicalQuery(q url.Values) string {
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

func hexSHA256(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

// checkAWSCredentials reports what is missing from credentials returned by
// Options.AWSCredentials.
func checkAWSCredentials(c AWSCredentials) error {
	if c.AccessKeyID == "" || c.SecretAccessKey == "" {
		return errors.New("client: Options.AWSCredentials returned credentials without AccessKeyID or SecretAccessKey")
	}
	return nil
}
