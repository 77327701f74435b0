package iamcheck

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// suiteRequest is aws-sig-v4-test-suite's get-vanilla (or another GET of its suite) with the
// suite's published signature.
func suiteRequest(target, signature string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "http://example.amazonaws.com"+target, nil)
	r.Header.Set("X-Amz-Date", "20150830T123600Z")
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature="+signature)
	return r
}

// TestVerifySigV4TestSuite accepts AWS's published signatures and refuses tampered, expired
// and malformed ones.
func TestVerifySigV4TestSuite(t *testing.T) {
	const secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
	at := time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC)
	for target, sig := range map[string]string{
		"/":                             "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
		"/?Param2=value2&Param1=value1": "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
		"/%E1%88%B4":                    "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85",
	} {
		cred, err := VerifySigV4(suiteRequest(target, sig), secret, at.Add(time.Minute))
		if err != nil || cred.AccessKeyID != "AKIDEXAMPLE" || cred.Region != "us-east-1" || cred.Service != "service" {
			t.Errorf("%s: %+v, %v", target, cred, err)
		}
	}
	good := "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
	tests := []struct {
		name   string
		r      *http.Request
		secret string
		now    time.Time
		want   error
	}{
		{"other path", suiteRequest("/other", good), secret, at, ErrSignatureMismatch},
		{"other secret", suiteRequest("/", good), "wrong", at, ErrSignatureMismatch},
		{"skewed clock", suiteRequest("/", good), secret, at.Add(16 * time.Minute), ErrSignatureExpired},
		{"short signature", suiteRequest("/", "abc"), secret, at, ErrMalformedSignature},
	}
	for _, tt := range tests {
		if _, err := VerifySigV4(tt.r, tt.secret, tt.now); !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
	}
	unsigned := httptest.NewRequest(http.MethodGet, "http://example.amazonaws.com/", nil)
	if _, err := VerifySigV4(unsigned, secret, at); !errors.Is(err, ErrMalformedSignature) {
		t.Errorf("unsigned: %v", err)
	}
}
