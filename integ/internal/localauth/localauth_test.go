package localauth_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/lestrrat-go/jwx/v3/jwt"

	"github.com/chatstack/websocketchatapi/integ/internal/localauth"
)

const cognitoIssuer = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_local"

func start(t *testing.T, opts localauth.Options) *localauth.Issuer {
	t.Helper()
	iss, err := localauth.Start(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := iss.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return iss
}

// fetchKeys gets the served JWKS, as a verifier does.
func fetchKeys(t *testing.T, url string) jwk.Set {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("GET %s: %s %q", url, resp.Status, resp.Header.Get("Content-Type"))
	}
	set, err := jwk.Parse(body)
	if err != nil {
		t.Fatalf("parse JWKS %s: %v", body, err)
	}
	return set
}

func TestMintVerifiesAgainstServedJWKS(t *testing.T) {
	iss := start(t, localauth.Options{Issuer: cognitoIssuer})
	if iss.Issuer() != cognitoIssuer {
		t.Errorf("Issuer() = %q, want %q", iss.Issuer(), cognitoIssuer)
	}
	if !strings.HasPrefix(iss.JWKSURL(), "http://127.0.0.1:") || !strings.HasSuffix(iss.JWKSURL(), localauth.JWKSPath) {
		t.Errorf("JWKSURL() = %q, want http://127.0.0.1:<port>%s", iss.JWKSURL(), localauth.JWKSPath)
	}
	set := fetchKeys(t, iss.JWKSURL())
	if set.Len() != 1 {
		t.Fatalf("JWKS has %d keys, want 1", set.Len())
	}
	key, _ := set.Key(0)
	if kid, _ := key.KeyID(); kid != iss.KeyID() || kid == "" {
		t.Errorf("JWKS kid %q, want %q", kid, iss.KeyID())
	}
	if alg, _ := key.Algorithm(); alg.String() != "RS256" {
		t.Errorf("JWKS alg %v, want RS256", alg)
	}
	if _, ok := key.(jwk.RSAPublicKey); !ok {
		t.Errorf("JWKS key is %T, want a public RSA key (no private half)", key)
	}

	before := time.Now().Add(-time.Second)
	signed, err := iss.Mint(localauth.Claims{
		Subject: "alice", Name: "Alice", Audience: "client-1", TokenUse: localauth.TokenUseID,
		Extra: map[string]any{"custom:team": "blue"},
	})
	if err != nil {
		t.Fatal(err)
	}
	msg, err := jws.Parse([]byte(signed))
	if err != nil {
		t.Fatal(err)
	}
	hdr := msg.Signatures()[0].ProtectedHeaders()
	if kid, _ := hdr.KeyID(); kid != iss.KeyID() {
		t.Errorf("header kid %q, want %q", kid, iss.KeyID())
	}
	if alg, _ := hdr.Algorithm(); alg.String() != "RS256" {
		t.Errorf("header alg %v, want RS256", alg)
	}
	tok, err := jwt.Parse([]byte(signed), jwt.WithKeySet(set), jwt.WithValidate(true),
		jwt.WithIssuer(cognitoIssuer), jwt.WithAudience("client-1"))
	if err != nil {
		t.Fatalf("verify minted token against the served JWKS: %v", err)
	}
	sub, _ := tok.Subject()
	exp, _ := tok.Expiration()
	var name, use, team string
	_ = tok.Get("name", &name)
	_ = tok.Get("token_use", &use)
	_ = tok.Get("custom:team", &team)
	if sub != "alice" || name != "Alice" || use != "id" || team != "blue" {
		t.Errorf("claims sub=%q name=%q token_use=%q custom:team=%q", sub, name, use, team)
	}
	if exp.Before(before.Add(localauth.DefaultTTL)) || exp.After(time.Now().Add(localauth.DefaultTTL+time.Second)) {
		t.Errorf("exp %v, want about %v from now", exp, localauth.DefaultTTL)
	}
	if tok.Has("client_id") || tok.Has("email") {
		t.Errorf("unset claims client_id/email present: %v", tok.Keys())
	}
}

func TestAccessTokenAndExpiry(t *testing.T) {
	iss := start(t, localauth.Options{})
	if iss.Issuer() != iss.URL() || !strings.HasPrefix(iss.URL(), "http://127.0.0.1:") {
		t.Errorf("default Issuer() = %q, want the server URL %q", iss.Issuer(), iss.URL())
	}
	set := fetchKeys(t, iss.JWKSURL())
	access, err := iss.Mint(localauth.Claims{Subject: "bob", ClientID: "client-1", TokenUse: localauth.TokenUseAccess})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.Parse([]byte(access), jwt.WithKeySet(set), jwt.WithIssuer(iss.URL()))
	if err != nil {
		t.Fatal(err)
	}
	var clientID string
	if err := tok.Get("client_id", &clientID); err != nil || clientID != "client-1" || tok.Has("aud") {
		t.Errorf("access token client_id=%q (%v), aud present=%v; want client_id client-1 and no aud", clientID, err, tok.Has("aud"))
	}

	expired, err := iss.Mint(localauth.Claims{Subject: "bob", TTL: -time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := jwt.Parse([]byte(expired), jwt.WithKeySet(set)); !errors.Is(err, jwt.TokenExpiredError()) {
		t.Errorf("token minted with TTL -1m: %v, want expired", err)
	}
	if _, err := iss.Mint(localauth.Claims{}); err == nil {
		t.Error("Mint without Subject succeeded")
	}
}

func TestDiscoveryAndClose(t *testing.T) {
	iss, err := localauth.Start(context.Background(), localauth.Options{Issuer: cognitoIssuer})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(iss.URL() + localauth.DiscoveryPath)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	err = json.NewDecoder(resp.Body).Decode(&doc)
	resp.Body.Close()
	if err != nil || doc.Issuer != cognitoIssuer || doc.JWKSURI != iss.JWKSURL() {
		t.Errorf("discovery %+v (%v), want issuer %s and jwks_uri %s", doc, err, cognitoIssuer, iss.JWKSURL())
	}
	if err := iss.Close(); err != nil {
		t.Fatal(err)
	}
	if err := iss.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if resp, err := http.Get(iss.JWKSURL()); err == nil {
		resp.Body.Close()
		t.Errorf("JWKS still served after Close: %s", resp.Status)
	}
}

func TestStartRefusesNonLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "192.0.2.1:0"} {
		if iss, err := localauth.Start(context.Background(), localauth.Options{Addr: addr}); err == nil {
			iss.Close()
			t.Errorf("Start on %s succeeded, want a loopback-only refusal", addr)
		}
	}
}
