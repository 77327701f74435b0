package auth

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jws"
)

// fixture is an issuer with an RSA and an EC key, another issuer ("user pool") with
// its own JWKS, and an attacker key that no JWKS publishes.
type fixture struct {
	clock    *fakeClock
	pool     *jwksServer
	rsa, ec  testKey
	other    *jwksServer
	otherKey testKey
	attacker testKey
	verifier *Verifier
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{
		clock:    newFakeClock(),
		rsa:      newRSAKey(t, "rsa-1"),
		ec:       newECKey(t, "ec-1"),
		otherKey: newRSAKey(t, "other-rsa-1"),
		attacker: newRSAKey(t, "rsa-1"), // same kid as the real key
	}
	f.pool = newJWKSServer(t, f.rsa, f.ec)
	f.other = newJWKSServer(t, f.otherKey)
	f.verifier = newTestVerifier(t, f.pool, f.clock)
	return f
}

// tokenCase is a token and what Verify must make of it.
type tokenCase struct {
	name  string
	token string
	want  error // nil: accepted
}

// tokenCases are the attacks (each must be refused for the stated reason) and the good
// tokens (each must be accepted).
func tokenCases(t *testing.T, f *fixture) []tokenCase {
	t.Helper()
	iss := f.pool.issuer
	good := idClaims(iss)

	rsaPubDER, err := x509.MarshalPKIXPublicKey(f.rsa.priv.Public())
	if err != nil {
		t.Fatalf("marshal public key: %v", err)
	}
	rsaPubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: rsaPubDER})

	// Tampered: the header and payload of one token with the signature of another,
	// both signed by the real key.
	signedA := strings.Split(f.rsa.sign(t, good, nil), ".")
	signedB := strings.Split(f.rsa.sign(t, with(good, map[string]any{"sub": "someone-else"}), nil), ".")
	tampered := signedB[0] + "." + signedB[1] + "." + signedA[2]

	padding := strings.Repeat("x", MaxTokenBytes)

	return []tokenCase{
		// Attacks and bad tokens.
		{"empty token", "", ErrMalformedToken},
		{"not a JWT", "not-a-jwt", ErrMalformedToken},
		{"JWS JSON serialization", `{"payload":"e30","signatures":[]}`, ErrMalformedToken},
		{"alg none", unsignedToken(t, map[string]any{"alg": "none", "kid": "rsa-1", "typ": "JWT"}, good), ErrAlgorithmNotAllowed},
		// jwx refuses to parse a header with an algorithm name it does not know.
		{"alg None spelled oddly", unsignedToken(t, map[string]any{"alg": "nOnE", "kid": "rsa-1"}, good), ErrMalformedToken},
		{"no alg", unsignedToken(t, map[string]any{"kid": "rsa-1"}, good), ErrAlgorithmNotAllowed},
		{"HS256 with the RSA public key as secret", signWith(t, good, jwa.HS256(), rsaPubPEM, "rsa-1", nil), ErrAlgorithmNotAllowed},
		{"HS256 with the RSA public key DER as secret", signWith(t, good, jwa.HS256(), rsaPubDER, "rsa-1", nil), ErrAlgorithmNotAllowed},
		{"RS512 (validly signed, not allowlisted)", signWith(t, good, jwa.RS512(), f.rsa.priv, "rsa-1", nil), ErrAlgorithmNotAllowed},
		{"expired", f.rsa.sign(t, with(good, map[string]any{"exp": base.Add(-time.Hour)}), nil), ErrExpired},
		{"expired just beyond leeway", f.rsa.sign(t, with(good, map[string]any{"exp": base.Add(-31 * time.Second)}), nil), ErrExpired},
		{"no exp", f.rsa.sign(t, with(good, map[string]any{"exp": nil}), nil), ErrMissingClaim},
		{"not yet valid (nbf)", f.rsa.sign(t, with(good, map[string]any{"nbf": base.Add(5 * time.Minute)}), nil), ErrNotYetValid},
		{"issued in the future (iat)", f.rsa.sign(t, with(good, map[string]any{"iat": base.Add(5 * time.Minute)}), nil), ErrNotYetValid},
		{"wrong issuer", f.rsa.sign(t, with(good, map[string]any{"iss": "https://evil.example/pool"}), nil), ErrWrongIssuer},
		{"issuer with trailing slash", f.rsa.sign(t, with(good, map[string]any{"iss": iss + "/"}), nil), ErrWrongIssuer},
		{"no issuer", f.rsa.sign(t, with(good, map[string]any{"iss": nil}), nil), ErrWrongIssuer},
		{"wrong audience", f.rsa.sign(t, with(good, map[string]any{"aud": []string{"client-z"}}), nil), ErrWrongAudience},
		{"wrong client_id", f.rsa.sign(t, with(accessClaims(iss), map[string]any{"client_id": "client-z"}), nil), ErrWrongAudience},
		{"wrong aud, right client_id", f.rsa.sign(t, with(good, map[string]any{"aud": []string{"client-z"}, "client_id": "client-a"}), nil), ErrWrongAudience},
		{"neither aud nor client_id", f.rsa.sign(t, with(good, map[string]any{"aud": nil}), nil), ErrWrongAudience},
		{"unknown kid", f.attacker.signAs(t, "kid-nobody-has", good), ErrUnknownKey},
		{"no kid", signWith(t, good, jwa.RS256(), f.rsa.priv, "", nil), ErrUnknownKey},
		{"RS256 header with the EC key's kid", signWith(t, good, jwa.RS256(), f.rsa.priv, "ec-1", nil), ErrUnknownKey},
		{"ES256 header with the RSA key's kid", signWith(t, good, jwa.ES256(), f.ec.priv, "rsa-1", nil), ErrUnknownKey},
		{"tampered payload", tampered, ErrBadSignature},
		{"signed by an attacker key under the real kid", f.attacker.sign(t, good, nil), ErrBadSignature},
		{"attacker key embedded in the jwk header", f.attacker.sign(t, good, map[string]any{jws.JWKKey: f.attacker.publicJWK(t)}), ErrBadSignature},
		{"attacker JWKS URL in the jku header", f.attacker.sign(t, good, map[string]any{jws.JWKSetURLKey: f.other.issuer + "/.well-known/jwks.json"}), ErrBadSignature},
		{"oversize (validly signed)", f.rsa.sign(t, with(good, map[string]any{"padding": padding}), nil), ErrTokenTooLarge},
		{"oversize garbage", strings.Repeat("a", MaxTokenBytes+1), ErrTokenTooLarge},
		{"another user pool's token", f.otherKey.sign(t, idClaims(f.other.issuer), nil), ErrUnknownKey},
		{"another user pool's key claiming our issuer", f.otherKey.sign(t, good, nil), ErrUnknownKey},
		{"missing sub", f.rsa.sign(t, with(good, map[string]any{"sub": nil}), nil), ErrMissingClaim},
		{"empty sub", f.rsa.sign(t, with(good, map[string]any{"sub": ""}), nil), ErrMissingClaim},
		{"oversize sub", f.rsa.sign(t, with(good, map[string]any{"sub": strings.Repeat("s", MaxSubjectBytes+1)}), nil), ErrMissingClaim},
		{"token_use not allowed", f.rsa.sign(t, with(good, map[string]any{"token_use": "refresh"}), nil), ErrTokenUseNotAllowed},
		{"token_use missing", f.rsa.sign(t, with(good, map[string]any{"token_use": nil}), nil), ErrTokenUseNotAllowed},
		{"crit header", f.rsa.sign(t, good, map[string]any{jws.CriticalKey: []string{"exp"}}), ErrMalformedToken},

		// Good tokens.
		{"RS256 id token (aud)", f.rsa.sign(t, good, nil), nil},
		{"ES256 id token (aud)", f.ec.sign(t, good, nil), nil},
		{"RS256 access token (client_id)", f.rsa.sign(t, accessClaims(iss), nil), nil},
		{"ES256 access token (client_id)", f.ec.sign(t, accessClaims(iss), nil), nil},
		{"aud as a single string", f.rsa.sign(t, with(good, map[string]any{"aud": "client-b"}), nil), nil},
		{"one of several aud accepted", f.ec.sign(t, with(good, map[string]any{"aud": []string{"client-z", "client-b"}}), nil), nil},
		{"expired within leeway", f.rsa.sign(t, with(good, map[string]any{"exp": base.Add(-10 * time.Second)}), nil), nil},
		{"nbf within leeway", f.rsa.sign(t, with(good, map[string]any{"nbf": base.Add(10 * time.Second)}), nil), nil},
	}
}

// signAs signs claims with k but names kid in the header.
func (k testKey) signAs(t *testing.T, kid string, claims map[string]any) string {
	t.Helper()
	return signWith(t, claims, k.alg, k.priv, kid, nil)
}

// unsignedToken builds "header.payload." by hand, as an attacker would.
func unsignedToken(t *testing.T, header, claims map[string]any) string {
	t.Helper()
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	c := make(map[string]any, len(claims))
	for k, v := range claims {
		if tv, ok := v.(time.Time); ok {
			v = tv.Unix()
		}
		c[k] = v
	}
	return enc(header) + "." + enc(c) + "."
}

func TestVerifyTable(t *testing.T) {
	f := newFixture(t)
	for _, tc := range tokenCases(t, f) {
		t.Run(tc.name, func(t *testing.T) {
			id, err := f.verifier.Verify(context.Background(), tc.token)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Verify: %v, want accepted", err)
				}
				if id.UserID != "3f1c2a9e-user-1" {
					t.Errorf("UserID = %q", id.UserID)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("Verify error = %v, want %v", err, tc.want)
			}
			if id != (Identity{}) {
				t.Errorf("refused token gave identity %+v", id)
			}
			if tc.token != "" && strings.Contains(err.Error(), tc.token) {
				t.Errorf("error message contains the token")
			}
		})
	}
	if got := f.other.hits.Load(); got != 0 {
		t.Errorf("the other pool's JWKS was fetched %d times; only the configured JWKS may be used", got)
	}
}

func TestVerifyIdentity(t *testing.T) {
	f := newFixture(t)
	iss := f.pool.issuer
	long := strings.Repeat("é", 300)
	cases := []struct {
		name   string
		claims map[string]any
		want   Identity
	}{
		{"name first", with(idClaims(iss), map[string]any{"name": "Alice A.", "preferred_username": "ali"}),
			Identity{UserID: "3f1c2a9e-user-1", DisplayName: "Alice A.", TokenUse: "id"}},
		{"preferred_username before cognito:username", with(idClaims(iss), map[string]any{"preferred_username": "ali"}),
			Identity{UserID: "3f1c2a9e-user-1", DisplayName: "ali", TokenUse: "id"}},
		{"cognito:username before email", idClaims(iss),
			Identity{UserID: "3f1c2a9e-user-1", DisplayName: "alice", TokenUse: "id"}},
		{"email", with(idClaims(iss), map[string]any{"cognito:username": nil}),
			Identity{UserID: "3f1c2a9e-user-1", DisplayName: "alice@example.com", TokenUse: "id"}},
		{"blank name skipped", with(idClaims(iss), map[string]any{"name": "   ", "cognito:username": nil, "email": nil}),
			Identity{UserID: "3f1c2a9e-user-1", DisplayName: "3f1c2a9e-user-1", TokenUse: "id"}},
		{"non-string name skipped", with(idClaims(iss), map[string]any{"name": 42}),
			Identity{UserID: "3f1c2a9e-user-1", DisplayName: "alice", TokenUse: "id"}},
		{"access token falls back to sub", accessClaims(iss),
			Identity{UserID: "3f1c2a9e-user-1", DisplayName: "3f1c2a9e-user-1", TokenUse: "access"}},
		{"long name truncated to 128 runes", with(idClaims(iss), map[string]any{"name": long}),
			Identity{UserID: "3f1c2a9e-user-1", DisplayName: strings.Repeat("é", MaxDisplayNameRunes), TokenUse: "id"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := f.verifier.Verify(context.Background(), f.rsa.sign(t, tc.claims, nil))
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if got != tc.want {
				t.Errorf("identity = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestVerifyWithoutTokenUseRestriction(t *testing.T) {
	f := newFixture(t)
	v := newTestVerifier(t, f.pool, f.clock, func(c *Config) { c.TokenUses = nil })
	id, err := v.Verify(context.Background(), f.rsa.sign(t, with(idClaims(f.pool.issuer), map[string]any{"token_use": nil}), nil))
	if err != nil {
		t.Fatalf("Verify without token_use and no restriction: %v", err)
	}
	if id.TokenUse != "" {
		t.Errorf("TokenUse = %q, want empty", id.TokenUse)
	}

	only := newTestVerifier(t, f.pool, f.clock, func(c *Config) { c.TokenUses = []string{"id"} })
	if _, err := only.Verify(context.Background(), f.rsa.sign(t, accessClaims(f.pool.issuer), nil)); !errors.Is(err, ErrTokenUseNotAllowed) {
		t.Errorf("access token with AUTH_TOKEN_USE=id: err = %v, want %v", err, ErrTokenUseNotAllowed)
	}
}

func TestVerifyUsesConfiguredClock(t *testing.T) {
	f := newFixture(t)
	token := f.rsa.sign(t, idClaims(f.pool.issuer), nil)
	if _, err := f.verifier.Verify(context.Background(), token); err != nil {
		t.Fatalf("Verify at issue time: %v", err)
	}
	f.clock.Advance(time.Hour + time.Minute)
	if _, err := f.verifier.Verify(context.Background(), token); !errors.Is(err, ErrExpired) {
		t.Fatalf("Verify an hour later: err = %v, want %v", err, ErrExpired)
	}
}

func TestNewVerifierRejectsBadConfig(t *testing.T) {
	cases := []struct {
		name string
		cfg  Config
	}{
		{"no issuer", Config{Audiences: []string{"a"}}},
		{"http issuer", Config{Issuer: "http://idp.example", Audiences: []string{"a"}}},
		{"no audience", Config{Issuer: "https://idp.example"}},
		{"empty audience", Config{Issuer: "https://idp.example", Audiences: []string{""}}},
		{"empty token use", Config{Issuer: "https://idp.example", Audiences: []string{"a"}, TokenUses: []string{""}}},
		{"http JWKS URL", Config{Issuer: "https://idp.example", Audiences: []string{"a"}, JWKSURL: "http://idp.example/jwks"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if v, err := NewVerifier(tc.cfg); err == nil {
				t.Fatalf("NewVerifier(%+v) = %v, want an error", tc.cfg, v)
			}
		})
	}
}

func TestNewVerifierDefaultJWKSURL(t *testing.T) {
	for issuer, want := range map[string]string{
		"https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc/.well-known/jwks.json",
		"https://tenant.auth0.example/":                             "https://tenant.auth0.example/.well-known/jwks.json",
	} {
		v, err := NewVerifier(Config{Issuer: issuer, Audiences: []string{"a"}})
		if err != nil {
			t.Fatalf("NewVerifier(%q): %v", issuer, err)
		}
		if v.keys.url != want {
			t.Errorf("JWKS URL for %q = %q, want %q", issuer, v.keys.url, want)
		}
	}
}
