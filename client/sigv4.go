package client

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/chatstack/websocketchatapi/internal/sigv4"
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
	// presignExpires is how long a presigned handshake URL stays valid: it is used at once.
	presignExpires = 5 * time.Minute
	// amzDateFormat is the format of X-Amz-Date.
	amzDateFormat = "20060102T150405Z"
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
		query.Set("X-Amz-Algorithm", sigv4.Algorithm)
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
	sig, signed := sigv4.Signature(http.MethodGet, u.Path, query, headers, sigv4.EmptyPayloadHash, creds.SecretAccessKey, scope, date)
	h := http.Header{}
	if inQuery {
		query.Set("X-Amz-Signature", sig)
		u.RawQuery = sigv4.CanonicalQuery(query)
		return u, h
	}
	h.Set("X-Amz-Date", date)
	if creds.SessionToken != "" {
		h.Set("X-Amz-Security-Token", creds.SessionToken)
	}
	h.Set("Authorization", sigv4.Algorithm+" Credential="+creds.AccessKeyID+"/"+scope+", SignedHeaders="+signed+", Signature="+sig)
	return u, h
}

// checkAWSCredentials reports what is missing from credentials returned by
// Options.AWSCredentials.
func checkAWSCredentials(c AWSCredentials) error {
	if c.AccessKeyID == "" || c.SecretAccessKey == "" {
		return errors.New("client: Options.AWSCredentials returned credentials without AccessKeyID or SecretAccessKey")
	}
	return nil
}
