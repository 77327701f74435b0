package client

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chatstack/websocketchatapi/internal/sigv4"
)

// The credentials and time of AWS's Signature Version 4 test suite.
const (
	suiteKeyID  = "AKIDEXAMPLE"
	suiteSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
	suiteDate   = "20150830T123600Z"
	suiteScope  = "20150830/us-east-1/service/aws4_request"
)

// TestSigV4TestSuite checks the signer against AWS's published aws-sig-v4-test-suite vectors
// (GET requests without a body, signed headers host and x-amz-date).
func TestSigV4TestSuite(t *testing.T) {
	tests := []struct {
		name, path, query, want string
	}{
		{"get-vanilla", "/", "", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
		{"get-vanilla-query-order-key-case", "/", "Param2=value2&Param1=value1", "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"},
		{"get-utf8", "/ሴ", "", "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85"},
	}
	for _, tt := range tests {
		q, err := url.ParseQuery(tt.query)
		if err != nil {
			t.Fatal(err)
		}
		headers := map[string]string{"host": "example.amazonaws.com", "x-amz-date": suiteDate}
		sig, signed := sigv4.Signature("GET", tt.path, q, headers, sigv4.EmptyPayloadHash, suiteSecret, suiteScope, suiteDate)
		if sig != tt.want || signed != "host;x-amz-date" {
			t.Errorf("%s: signature %s (%s), want %s", tt.name, sig, signed, tt.want)
		}
	}
}

// TestSignHandshake: the header form carries the Authorization, X-Amz-Date and session token
// headers; the query form the X-Amz-* parameters; both name execute-api and the region.
func TestSignHandshake(t *testing.T) {
	u, _ := url.Parse("wss://abc123.execute-api.eu-west-1.amazonaws.com/prod")
	creds := AWSCredentials{AccessKeyID: suiteKeyID, SecretAccessKey: suiteSecret, SessionToken: "tok/en+="}
	now := time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC)

	signed, h := signHandshake(*u, creds, "eu-west-1", now, false)
	if signed.String() != u.String() {
		t.Errorf("header signing changed the URL to %s", signed.String())
	}
	auth := h.Get("Authorization")
	if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/eu-west-1/execute-api/aws4_request, SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=") ||
		h.Get("X-Amz-Date") != suiteDate || h.Get("X-Amz-Security-Token") != creds.SessionToken {
		t.Errorf("headers %v", h)
	}

	signed, h = signHandshake(*u, creds, "eu-west-1", now, true)
	q := signed.Query()
	if len(h) != 0 || q.Get("X-Amz-Algorithm") != "AWS4-HMAC-SHA256" || q.Get("X-Amz-Credential") != "AKIDEXAMPLE/20150830/eu-west-1/execute-api/aws4_request" ||
		q.Get("X-Amz-SignedHeaders") != "host" || q.Get("X-Amz-Expires") != "300" || q.Get("X-Amz-Security-Token") != creds.SessionToken || len(q.Get("X-Amz-Signature")) != 64 {
		t.Errorf("presigned URL %s, headers %v", signed.String(), h)
	}
	if !strings.Contains(signed.RawQuery, "X-Amz-Security-Token=tok%2Fen%2B%3D") {
		t.Errorf("query %s: the token is not encoded as SigV4 encodes it", signed.RawQuery)
	}
}
