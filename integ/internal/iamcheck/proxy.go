package iamcheck

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"

	"github.com/chatstack/websocketchatapi/integ/internal/assembly"
)

// maxDynamoDBRequest bounds the body the proxy reads (DynamoDB's own request limit is 16 MB).
const maxDynamoDBRequest = 16 << 20

// ProxyConfig configures a DynamoDBProxy.
type ProxyConfig struct {
	// Target is the DynamoDB endpoint allowed requests are forwarded to, e.g. DynamoDB Local.
	Target *url.URL
	// Env gives the region, account and partition table ARNs are built with.
	Env assembly.Env
	// Lookup finds the policy of the caller of an access key id; false for an unknown key.
	Lookup func(accessKeyID string) (*Policy, bool)
	// Observe, if set, is called with every decision the proxy makes (for logs and tests).
	Observe func(r *http.Request, d Decision)
}

// DynamoDBProxy is an http.Handler that authorizes each DynamoDB JSON-protocol request against
// the policy of the caller (found by the access key id the request is signed with) and forwards
// the allowed ones to the target. It answers as DynamoDB does, with HTTP 400 and a JSON error
// body: AccessDeniedException for a denied request, UnrecognizedClientException for an unknown
// access key, MissingAuthenticationTokenException for an unsigned request.
type DynamoDBProxy struct {
	cfg   ProxyConfig
	proxy *httputil.ReverseProxy
}

// NewDynamoDBProxy returns a proxy for cfg.
func NewDynamoDBProxy(cfg ProxyConfig) (*DynamoDBProxy, error) {
	if cfg.Target == nil || cfg.Target.Host == "" {
		return nil, errors.New("dynamodb proxy: no target endpoint")
	}
	if cfg.Lookup == nil {
		return nil, errors.New("dynamodb proxy: no Lookup")
	}
	target := cfg.Target
	return &DynamoDBProxy{
		cfg: cfg,
		proxy: &httputil.ReverseProxy{
			Rewrite: func(pr *httputil.ProxyRequest) { pr.SetURL(target) },
		},
	}, nil
}

// ServeHTTP implements http.Handler.
func (p *DynamoDBProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	cred, err := RequestCredential(r)
	if err != nil {
		writeDynamoDBError(w, "com.amazon.coral.service#MissingAuthenticationTokenException", "Request is missing Authentication Token")
		return
	}
	pol, ok := p.cfg.Lookup(cred.AccessKeyID)
	if !ok {
		writeDynamoDBError(w, "com.amazon.coral.service#UnrecognizedClientException", "The security token included in the request is invalid.")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxDynamoDBRequest))
	if err != nil {
		writeDynamoDBError(w, "com.amazon.coral.service#SerializationException", fmt.Sprintf("could not read the request body: %v", err))
		return
	}
	checks, err := DynamoDBChecks(p.cfg.Env, r.Header.Get("X-Amz-Target"), body)
	if err != nil {
		writeDynamoDBError(w, "com.amazon.coral.validate#ValidationException", err.Error())
		return
	}
	d := pol.AllowedAll(checks)
	if p.cfg.Observe != nil {
		p.cfg.Observe(r, d)
	}
	if !d.Allowed {
		writeDynamoDBError(w, "com.amazon.coral.service#AccessDeniedException", d.Reason)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	p.proxy.ServeHTTP(w, r)
}

// writeDynamoDBError answers as DynamoDB does for a client error.
func writeDynamoDBError(w http.ResponseWriter, typ, msg string) {
	body, err := json.Marshal(map[string]string{"__type": typ, "Message": msg})
	if err != nil {
		http.Error(w, msg, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("X-Amzn-Requestid", requestID())
	w.WriteHeader(http.StatusBadRequest)
	_, _ = w.Write(body)
}

// requestID returns a random 52-character id shaped like DynamoDB's.
func requestID() string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, 52)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}
