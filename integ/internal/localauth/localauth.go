// Package localauth is a local OpenID Connect issuer that stands in for Amazon Cognito (or any
// OIDC provider) when the synthesized stack runs locally.
//
// Start generates an RSA key and serves its public half as a JWKS on loopback
// (/.well-known/jwks.json, plus a minimal /.well-known/openid-configuration). Mint signs tokens
// with RS256 and the key's kid, as Cognito does. The "iss" the tokens carry is configurable: the
// local emulator sets it to the authorizer function's AUTH_ISSUER from the template (such as
// https://cognito-idp.us-east-1.amazonaws.com/us-east-1_xxxx) and points only the function's
// AUTH_JWKS_URL at this server, so the real authorizer checks the issuer unchanged.
package localauth

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	_ "crypto/sha256" // crypto.SHA256 for key thumbprints
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/lestrrat-go/jwx/v3/jwt"
)

const (
	// JWKSPath is where the issuer serves its key set.
	JWKSPath = "/.well-known/jwks.json"
	// DiscoveryPath is where the issuer serves its OpenID provider metadata.
	DiscoveryPath = "/.well-known/openid-configuration"
	// DefaultTTL is a token's lifetime when Claims.TTL is zero (Cognito's default for ID and
	// access tokens).
	DefaultTTL = time.Hour
	// KeyBits is the size of the RSA key.
	KeyBits = 2048
)

// Token uses, as Cognito sets them in the token_use claim.
const (
	// TokenUseID marks an ID token: aud is the app client id.
	TokenUseID = "id"
	// TokenUseAccess marks an access token: no aud, client_id is the app client id.
	TokenUseAccess = "access"
)

// Options configure an Issuer.
type Options struct {
	// Issuer is the "iss" claim of minted tokens. Default: the server's own base URL
	// (http://127.0.0.1:<port>), whose JWKS is then at the default <issuer>/.well-known/jwks.json.
	Issuer string
	// Addr is the loopback address to listen on. Default 127.0.0.1:0 (a free port).
	Addr string
	// Now is the clock for iat, nbf and exp. Default time.Now.
	Now func() time.Time
}

// Claims describe a token to mint.
type Claims struct {
	// Subject is the "sub" claim: the user id. Required.
	Subject string
	// Name is the "name" claim, which the authorizer shows as display name ("" to leave out).
	Name string
	// Username is the "cognito:username" claim ("" to leave out).
	Username string
	// Email is the "email" claim ("" to leave out).
	Email string
	// Audience is the "aud" claim of an ID token ("" to leave out).
	Audience string
	// ClientID is the "client_id" claim of an access token ("" to leave out).
	ClientID string
	// TokenUse is the "token_use" claim: TokenUseID, TokenUseAccess or anything else ("" to
	// leave out).
	TokenUse string
	// TTL is the token's lifetime from now; zero means DefaultTTL. A negative TTL mints a token
	// that expired -TTL ago.
	TTL time.Duration
	// NotBefore, when set, is the "nbf" claim.
	NotBefore time.Time
	// Extra holds further claims; they may override the ones above.
	Extra map[string]any
}

// Issuer is a running local OIDC issuer. Its methods are safe for concurrent use.
type Issuer struct {
	issuer  string
	baseURL string
	kid     string
	priv    *rsa.PrivateKey
	jwks    []byte
	disco   []byte
	now     func() time.Time
	srv     *http.Server
	served  chan struct{}

	closeOnce sync.Once
	closeErr  error
}

// Start generates a key and serves its JWKS on a loopback address until Close. ctx bounds only
// the start.
func Start(ctx context.Context, opts Options) (*Issuer, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("start local issuer: %w", err)
	}
	addr := opts.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	if err := checkLoopback(addr); err != nil {
		return nil, fmt.Errorf("start local issuer: %w", err)
	}
	priv, err := rsa.GenerateKey(rand.Reader, KeyBits)
	if err != nil {
		return nil, fmt.Errorf("start local issuer: generate RSA key: %w", err)
	}
	kid, jwks, err := publicKeySet(priv)
	if err != nil {
		return nil, fmt.Errorf("start local issuer: %w", err)
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("start local issuer: %w", err)
	}
	base := "http://" + ln.Addr().String()
	iss := opts.Issuer
	if iss == "" {
		iss = base
	}
	disco, err := json.Marshal(map[string]any{
		"issuer":                                iss,
		"jwks_uri":                              base + JWKSPath,
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"subject_types_supported":               []string{"public"},
		"response_types_supported":              []string{"code", "token"},
	})
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("start local issuer: %w", err)
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	i := &Issuer{
		issuer:  iss,
		baseURL: base,
		kid:     kid,
		priv:    priv,
		jwks:    jwks,
		disco:   disco,
		now:     now,
		served:  make(chan struct{}),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+JWKSPath, i.serveJSON(i.jwks))
	mux.HandleFunc("GET "+DiscoveryPath, i.serveJSON(i.disco))
	i.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		defer close(i.served)
		_ = i.srv.Serve(ln) // ends with ErrServerClosed
	}()
	return i, nil
}

// checkLoopback refuses a listen address whose host is not a loopback address.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("listen address %q: %w", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("listen address %q is not a loopback address", addr)
	}
	return nil
}

// publicKeySet returns the kid of priv (its RFC 7638 thumbprint) and the JWKS that holds its
// public half with kid, alg RS256 and use sig.
func publicKeySet(priv *rsa.PrivateKey) (kid string, jwks []byte, err error) {
	pub, err := jwk.Import(&priv.PublicKey)
	if err != nil {
		return "", nil, fmt.Errorf("import public key: %w", err)
	}
	tp, err := pub.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", nil, fmt.Errorf("key thumbprint: %w", err)
	}
	kid = base64.RawURLEncoding.EncodeToString(tp)
	for name, v := range map[string]any{jwk.KeyIDKey: kid, jwk.AlgorithmKey: jwa.RS256(), jwk.KeyUsageKey: "sig"} {
		if err := pub.Set(name, v); err != nil {
			return "", nil, fmt.Errorf("set %s: %w", name, err)
		}
	}
	set := jwk.NewSet()
	if err := set.AddKey(pub); err != nil {
		return "", nil, fmt.Errorf("build key set: %w", err)
	}
	jwks, err = json.Marshal(set)
	if err != nil {
		return "", nil, fmt.Errorf("encode key set: %w", err)
	}
	return kid, jwks, nil
}

// serveJSON answers with body as JSON.
func (i *Issuer) serveJSON(body []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "max-age=3600")
		_, _ = w.Write(body)
	}
}

// Issuer returns the "iss" claim that minted tokens carry.
func (i *Issuer) Issuer() string { return i.issuer }

// URL returns the server's base URL, http://127.0.0.1:<port>.
func (i *Issuer) URL() string { return i.baseURL }

// JWKSURL returns the URL of the key set, for a verifier's AUTH_JWKS_URL.
func (i *Issuer) JWKSURL() string { return i.baseURL + JWKSPath }

// KeyID returns the kid of the signing key.
func (i *Issuer) KeyID() string { return i.kid }

// Mint returns a compact JWS (RS256, kid in the protected header, typ JWT) with iss, sub, iat,
// exp, auth_time, jti and the claims that c sets.
func (i *Issuer) Mint(c Claims) (string, error) {
	if strings.TrimSpace(c.Subject) == "" {
		return "", errors.New("mint token: Subject is required")
	}
	now := i.now().Truncate(time.Second)
	ttl := c.TTL
	if ttl == 0 {
		ttl = DefaultTTL
	}
	exp := now.Add(ttl)
	iat := now
	if ttl < 0 {
		// An expired token was issued before it expired.
		iat = exp.Add(-DefaultTTL)
	}
	jti := make([]byte, 16)
	if _, err := rand.Read(jti); err != nil {
		return "", fmt.Errorf("mint token: %w", err)
	}
	claims := map[string]any{
		jwt.IssuerKey:     i.issuer,
		jwt.SubjectKey:    c.Subject,
		jwt.IssuedAtKey:   iat,
		jwt.ExpirationKey: exp,
		jwt.JwtIDKey:      base64.RawURLEncoding.EncodeToString(jti),
		"auth_time":       iat.Unix(),
	}
	if !c.NotBefore.IsZero() {
		claims[jwt.NotBeforeKey] = c.NotBefore
	}
	for name, v := range map[string]string{
		"name":             c.Name,
		"cognito:username": c.Username,
		"email":            c.Email,
		jwt.AudienceKey:    c.Audience,
		"client_id":        c.ClientID,
		"token_use":        c.TokenUse,
	} {
		if v != "" {
			claims[name] = v
		}
	}
	for name, v := range c.Extra {
		claims[name] = v
	}
	tok := jwt.New()
	for name, v := range claims {
		if err := tok.Set(name, v); err != nil {
			return "", fmt.Errorf("mint token: claim %s: %w", name, err)
		}
	}
	hdr := jws.NewHeaders()
	if err := hdr.Set(jws.KeyIDKey, i.kid); err != nil {
		return "", fmt.Errorf("mint token: %w", err)
	}
	if err := hdr.Set(jws.TypeKey, "JWT"); err != nil {
		return "", fmt.Errorf("mint token: %w", err)
	}
	signed, err := jwt.Sign(tok, jwt.WithKey(jwa.RS256(), i.priv, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		return "", fmt.Errorf("mint token: sign: %w", err)
	}
	return string(signed), nil
}

// Close stops the server. It is safe to call more than once.
func (i *Issuer) Close() error {
	i.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if err := i.srv.Shutdown(ctx); err != nil {
			i.closeErr = fmt.Errorf("close local issuer: %w", err)
			_ = i.srv.Close()
		}
		<-i.served
	})
	return i.closeErr
}
