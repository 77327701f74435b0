package auth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/lestrrat-go/jwx/v3/jwt"
)

// base is the fake "now" of the tests. It is in the past on purpose: a verifier that
// used the real clock instead of Config.Now would find every good token expired.
var base = time.Date(2020, 3, 4, 5, 6, 7, 0, time.UTC)

// fakeClock is a settable clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: base} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// testKey is a signing key with its kid and algorithm.
type testKey struct {
	kid  string
	alg  jwa.SignatureAlgorithm
	priv crypto.Signer
}

func newRSAKey(t *testing.T, kid string) testKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatalf("generate RSA key: %v", err)
	}
	return testKey{kid: kid, alg: jwa.RS256(), priv: k}
}

func newECKey(t *testing.T, kid string) testKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("generate EC key: %v", err)
	}
	return testKey{kid: kid, alg: jwa.ES256(), priv: k}
}

// publicJWK is the JWKS entry of k.
func (k testKey) publicJWK(t *testing.T) jwk.Key {
	t.Helper()
	pub, err := jwk.Import(k.priv.Public())
	if err != nil {
		t.Fatalf("import public key: %v", err)
	}
	for name, v := range map[string]any{jwk.KeyIDKey: k.kid, jwk.AlgorithmKey: k.alg, jwk.KeyUsageKey: "sig"} {
		if err := pub.Set(name, v); err != nil {
			t.Fatalf("set %s: %v", name, err)
		}
	}
	return pub
}

// sign mints a token signed with k, kid in the header, plus extra header fields.
func (k testKey) sign(t *testing.T, claims map[string]any, extraHeaders map[string]any) string {
	t.Helper()
	return signWith(t, claims, k.alg, k.priv, k.kid, extraHeaders)
}

// signWith mints a token with any algorithm and key (including an HMAC secret).
func signWith(t *testing.T, claims map[string]any, alg jwa.SignatureAlgorithm, key any, kid string, extraHeaders map[string]any) string {
	t.Helper()
	tok := jwt.New()
	for name, v := range claims {
		if err := tok.Set(name, v); err != nil {
			t.Fatalf("set claim %s: %v", name, err)
		}
	}
	hdr := jws.NewHeaders()
	if kid != "" {
		if err := hdr.Set(jws.KeyIDKey, kid); err != nil {
			t.Fatalf("set kid: %v", err)
		}
	}
	for name, v := range extraHeaders {
		if err := hdr.Set(name, v); err != nil {
			t.Fatalf("set header %s: %v", name, err)
		}
	}
	signed, err := jwt.Sign(tok, jwt.WithKey(alg, key, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		t.Fatalf("sign token: %v", err)
	}
	return string(signed)
}

// jwksServer is a loopback issuer that serves a JWKS at <issuer>/.well-known/jwks.json
// and counts the requests for it.
// env returns a getenv over m.
func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// mustVerify stops the test unless v accepts token; what names the token in the failure.
func mustVerify(t *testing.T, v *Verifier, token, what string) {
	t.Helper()
	if _, err := v.Verify(context.Background(), token); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// newPool starts an issuer that serves keys and returns it with a verifier of its tokens
// (newTestVerifier) on a fake clock.
func newPool(t *testing.T, keys ...testKey) (*fakeClock, *jwksServer, *Verifier) {
	t.Helper()
	clock := newFakeClock()
	pool := newJWKSServer(t, keys...)
	return clock, pool, newTestVerifier(t, pool, clock)
}

type jwksServer struct {
	srv    *httptest.Server
	issuer string
	hits   atomic.Int64

	mu     sync.Mutex
	body   []byte
	status int
}

// wantHits reports an error unless the issuer served its JWKS want times; why, when not "",
// explains the count.
func (s *jwksServer) wantHits(t *testing.T, want int64, why string) {
	t.Helper()
	if got := s.hits.Load(); got != want && why == "" {
		t.Errorf("JWKS fetched %d times, want %d", got, want)
	} else if got != want {
		t.Errorf("JWKS fetched %d times, want %d (%s)", got, want, why)
	}
}

func newJWKSServer(t *testing.T, keys ...testKey) *jwksServer {
	t.Helper()
	s := &jwksServer{status: http.StatusOK}
	s.serve(t, keys...)
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/pool/.well-known/jwks.json" {
			http.NotFound(w, r)
			return
		}
		s.hits.Add(1)
		s.mu.Lock()
		body, status := s.body, s.status
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write(body)
	}))
	t.Cleanup(s.srv.Close)
	s.issuer = s.srv.URL + "/pool"
	return s
}

// serve replaces the served JWKS with the public halves of keys.
func (s *jwksServer) serve(t *testing.T, keys ...testKey) {
	t.Helper()
	set := jwk.NewSet()
	for _, k := range keys {
		if err := set.AddKey(k.publicJWK(t)); err != nil {
			t.Fatalf("add key: %v", err)
		}
	}
	body, err := json.Marshal(set)
	if err != nil {
		t.Fatalf("marshal JWKS: %v", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.body = body
}

// fail makes the server answer status with an error body.
func (s *jwksServer) fail(status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status = status
	s.body = []byte(`{"error":"down"}`)
}

// newTestVerifier returns a verifier for s's issuer on clock, with optional changes.
func newTestVerifier(t *testing.T, s *jwksServer, clock *fakeClock, change ...func(*Config)) *Verifier {
	t.Helper()
	cfg := Config{
		Issuer:     s.issuer,
		Audiences:  []string{"client-a", "client-b"},
		TokenUses:  []string{"id", "access"},
		HTTPClient: s.srv.Client(),
		Now:        clock.Now,
	}
	for _, f := range change {
		f(&cfg)
	}
	v, err := NewVerifier(cfg)
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	return v
}

// idClaims are the claims of a good Cognito-style ID token from issuer at base.
func idClaims(issuer string) map[string]any {
	return map[string]any{
		"iss":              issuer,
		"sub":              "3f1c2a9e-user-1",
		"aud":              []string{"client-a"},
		"exp":              base.Add(time.Hour),
		"iat":              base.Add(-time.Minute),
		"token_use":        "id",
		"cognito:username": "alice",
		"email":            "alice@example.com",
	}
}

// accessClaims are the claims of a good Cognito-style access token (no aud, client_id).
func accessClaims(issuer string) map[string]any {
	return map[string]any{
		"iss":       issuer,
		"sub":       "3f1c2a9e-user-1",
		"client_id": "client-b",
		"exp":       base.Add(time.Hour),
		"iat":       base.Add(-time.Minute),
		"token_use": "access",
		"username":  "alice",
	}
}

// with returns a copy of claims with changes applied; a nil value deletes the claim.
func with(claims map[string]any, changes map[string]any) map[string]any {
	out := make(map[string]any, len(claims)+len(changes))
	for k, v := range claims {
		out[k] = v
	}
	for k, v := range changes {
		if v == nil {
			delete(out, k)
			continue
		}
		out[k] = v
	}
	return out
}
