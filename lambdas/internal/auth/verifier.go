// Package auth verifies OIDC JSON Web Tokens (Amazon Cognito or any issuer that publishes
// a JWKS) and implements the API Gateway WebSocket $connect REQUEST authorizer on top of it.
//
// Only RS256 and ES256 signatures are accepted, with a key chosen by "kid" from the
// issuer's JWKS (never from the token itself). The JWKS is cached; an unknown kid
// triggers at most one refetch per minimum interval.
package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/lestrrat-go/jwx/v3/jwt"
)

// Limits and defaults.
const (
	// MaxTokenBytes is the largest token accepted; longer ones are refused before parsing.
	MaxTokenBytes = 8 << 10
	// MaxSubjectBytes bounds the "sub" claim, which becomes the principal id and user id.
	MaxSubjectBytes = 256
	// MaxDisplayNameRunes bounds Identity.DisplayName (API Gateway's context is limited to 8 KB).
	MaxDisplayNameRunes = 128
	// maxTokenUseRunes bounds Identity.TokenUse when Config.TokenUses does not restrict it.
	maxTokenUseRunes = 32

	// DefaultFetchTimeout bounds one JWKS request.
	DefaultFetchTimeout = 3 * time.Second
	// DefaultMinRefreshInterval is the least time between two JWKS fetches caused by
	// unknown kids or a stale key set.
	DefaultMinRefreshInterval = 60 * time.Second
	// DefaultMaxKeySetAge is how long a fetched JWKS is used before it is refetched, so
	// that keys removed by the issuer stop being accepted.
	DefaultMaxKeySetAge = 15 * time.Minute
	// DefaultLeeway is the clock skew allowed on exp, nbf and iat.
	DefaultLeeway = 30 * time.Second
)

// Reasons a token is refused. Verify wraps one of them, so callers can use errors.Is.
var (
	// ErrTokenTooLarge: the token is longer than MaxTokenBytes.
	ErrTokenTooLarge = errors.New("auth: token too large")
	// ErrMalformedToken: not a compact JWS, or its header or claims cannot be decoded.
	ErrMalformedToken = errors.New("auth: malformed token")
	// ErrAlgorithmNotAllowed: the header's alg is not RS256 or ES256.
	ErrAlgorithmNotAllowed = errors.New("auth: signature algorithm not allowed")
	// ErrUnknownKey: the header has no kid, or the kid is not in the issuer's JWKS, or
	// that key cannot be used with the header's alg.
	ErrUnknownKey = errors.New("auth: unknown signing key")
	// ErrKeysUnavailable: the JWKS could not be fetched and no copy is cached.
	ErrKeysUnavailable = errors.New("auth: signing keys unavailable")
	// ErrBadSignature: the signature does not verify with the issuer's key.
	ErrBadSignature = errors.New("auth: bad signature")
	// ErrWrongIssuer: iss is not the configured issuer.
	ErrWrongIssuer = errors.New("auth: wrong issuer")
	// ErrWrongAudience: neither aud nor (without aud) client_id is an accepted audience.
	ErrWrongAudience = errors.New("auth: wrong audience")
	// ErrExpired: exp is in the past (beyond the leeway).
	ErrExpired = errors.New("auth: token expired")
	// ErrNotYetValid: nbf or iat is in the future (beyond the leeway).
	ErrNotYetValid = errors.New("auth: token not yet valid")
	// ErrMissingClaim: a required claim (exp, sub) is absent or unusable.
	ErrMissingClaim = errors.New("auth: missing or invalid claim")
	// ErrTokenUseNotAllowed: token_use is absent or not one of the accepted values.
	ErrTokenUseNotAllowed = errors.New("auth: token_use not allowed")
)

// Config configures a Verifier. Issuer and Audiences are required; every other zero
// field takes its default.
type Config struct {
	// Issuer is the exact expected "iss" claim.
	Issuer string
	// Audiences are accepted "aud" values, or "client_id" values for tokens without "aud".
	Audiences []string
	// JWKSURL is where the issuer's keys are; default Issuer + "/.well-known/jwks.json".
	JWKSURL string
	// TokenUses, when not empty, are the accepted "token_use" values (Cognito: id, access).
	TokenUses []string
	// APIKeyClaim, when not empty, names the string claim that holds the user's API key:
	// Identity.APIKey gets its value, and a token without it (or with an empty one) is
	// refused with ErrMissingClaim.
	APIKeyClaim string

	// HTTPClient fetches the JWKS; default a client with FetchTimeout as its timeout.
	HTTPClient *http.Client
	// FetchTimeout bounds each JWKS fetch; default DefaultFetchTimeout.
	FetchTimeout time.Duration
	// MinRefreshInterval rate-limits JWKS refetches; default DefaultMinRefreshInterval.
	MinRefreshInterval time.Duration
	// MaxKeySetAge is when a cached JWKS becomes stale; default DefaultMaxKeySetAge.
	MaxKeySetAge time.Duration
	// Leeway is the allowed clock skew; default DefaultLeeway. Negative means none.
	Leeway time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Identity is who a verified token speaks for.
type Identity struct {
	// UserID is the "sub" claim.
	UserID string
	// DisplayName is the first non-empty of name, preferred_username, cognito:username,
	// email and sub, cut to MaxDisplayNameRunes.
	DisplayName string
	// TokenUse is the "token_use" claim ("id" or "access" for Cognito), or empty.
	TokenUse string
	// APIKey is the value of Config.APIKeyClaim, or empty when that is not set.
	APIKey string
}

// Verifier checks tokens from one issuer. It is safe for concurrent use; build it
// once and reuse it, since it caches the issuer's keys.
type Verifier struct {
	issuer    string
	audiences []string
	tokenUses []string
	keyClaim  string
	leeway    time.Duration
	now       func() time.Time
	keys      *keyCache
}

// NewVerifier checks cfg, applies defaults and returns a Verifier. It does not fetch
// the JWKS; the first Verify (or Prefetch) does.
func NewVerifier(cfg Config) (*Verifier, error) {
	if cfg.Issuer == "" {
		return nil, errors.New("auth: issuer is required")
	}
	if err := checkFetchableURL(cfg.Issuer); err != nil {
		return nil, fmt.Errorf("auth: issuer: %w", err)
	}
	if len(cfg.Audiences) == 0 || slices.Contains(cfg.Audiences, "") {
		return nil, errors.New("auth: at least one audience is required, and none may be empty")
	}
	if slices.Contains(cfg.TokenUses, "") {
		return nil, errors.New("auth: token uses may not be empty")
	}
	jwksURL := cfg.JWKSURL
	if jwksURL == "" {
		jwksURL = strings.TrimSuffix(cfg.Issuer, "/") + "/.well-known/jwks.json"
	}
	if err := checkFetchableURL(jwksURL); err != nil {
		return nil, fmt.Errorf("auth: JWKS URL: %w", err)
	}
	fetchTimeout := orDefault(cfg.FetchTimeout, DefaultFetchTimeout)
	client := cfg.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: fetchTimeout}
	}
	leeway := cfg.Leeway
	switch {
	case leeway == 0:
		leeway = DefaultLeeway
	case leeway < 0:
		leeway = 0
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	return &Verifier{
		issuer:    cfg.Issuer,
		audiences: slices.Clone(cfg.Audiences),
		tokenUses: slices.Clone(cfg.TokenUses),
		keyClaim:  cfg.APIKeyClaim,
		leeway:    leeway,
		now:       now,
		keys: &keyCache{
			url:         jwksURL,
			client:      client,
			timeout:     fetchTimeout,
			minInterval: orDefault(cfg.MinRefreshInterval, DefaultMinRefreshInterval),
			maxAge:      orDefault(cfg.MaxKeySetAge, DefaultMaxKeySetAge),
			now:         now,
		},
	}, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// Prefetch loads the issuer's JWKS into the cache unless it is already there, so that
// the first request does not pay for it. A failure is not fatal: Verify retries.
func (v *Verifier) Prefetch(ctx context.Context) error {
	if err := v.keys.ensure(ctx); err != nil {
		return fmt.Errorf("prefetch JWKS: %w", err)
	}
	return nil
}

// Verify checks token and returns the identity it carries. A refused token gives an
// error that wraps one of the Err* values of this package; the error never contains
// the token.
func (v *Verifier) Verify(ctx context.Context, token string) (Identity, error) {
	if len(token) > MaxTokenBytes {
		return Identity{}, fmt.Errorf("%w: %d bytes (max %d)", ErrTokenTooLarge, len(token), MaxTokenBytes)
	}
	if token == "" {
		return Identity{}, fmt.Errorf("%w: empty token", ErrMalformedToken)
	}

	msg, err := jws.Parse([]byte(token), jws.WithCompact())
	if err != nil {
		return Identity{}, fmt.Errorf("%w: not a compact JWS", ErrMalformedToken)
	}
	sigs := msg.Signatures()
	if len(sigs) != 1 || sigs[0].ProtectedHeaders() == nil {
		return Identity{}, fmt.Errorf("%w: want exactly one signature with a protected header", ErrMalformedToken)
	}
	hdr := sigs[0].ProtectedHeaders()
	hdrAlg, ok := hdr.Algorithm()
	if !ok {
		return Identity{}, fmt.Errorf("%w: no alg in header", ErrAlgorithmNotAllowed)
	}
	alg, ok := allowedAlgorithm(hdrAlg.String())
	if !ok {
		return Identity{}, fmt.Errorf("%w: %.16q", ErrAlgorithmNotAllowed, hdrAlg.String())
	}
	if hdr.Has(jws.CriticalKey) {
		return Identity{}, fmt.Errorf("%w: crit header is not supported", ErrMalformedToken)
	}
	kid, ok := hdr.KeyID()
	if !ok || kid == "" {
		return Identity{}, fmt.Errorf("%w: no kid in header", ErrUnknownKey)
	}

	key, err := v.keys.lookup(ctx, kid)
	if err != nil {
		return Identity{}, err
	}
	pub, err := publicKeyFor(key, alg)
	if err != nil {
		return Identity{}, fmt.Errorf("%w: kid %.64q: %w", ErrUnknownKey, kid, err)
	}

	// The signature is verified with the issuer's key and the allowlisted alg that the
	// header names; nothing else in the header (jwk, jku, x5u) is trusted.
	tok, err := jwt.Parse([]byte(token), jwt.WithKey(alg, pub), jwt.WithValidate(false))
	if err != nil {
		if errors.Is(err, jws.VerificationError()) {
			return Identity{}, fmt.Errorf("%w: kid %.64q", ErrBadSignature, kid)
		}
		return Identity{}, fmt.Errorf("%w: %w", ErrMalformedToken, err)
	}

	if err := v.checkClaims(tok); err != nil {
		return Identity{}, err
	}
	id := identityOf(tok)
	if v.keyClaim != "" {
		if id.APIKey = stringClaim(tok, v.keyClaim); id.APIKey == "" {
			return Identity{}, fmt.Errorf("%w: no API key in claim %.64q", ErrMissingClaim, v.keyClaim)
		}
	}
	return id, nil
}

// allowedAlgorithm is the signature algorithm allowlist: RS256 and ES256, nothing else
// (in particular not "none" and no HMAC, which a public key could be abused as).
func allowedAlgorithm(name string) (jwa.SignatureAlgorithm, bool) {
	switch name {
	case jwa.RS256().String():
		return jwa.RS256(), true
	case jwa.ES256().String():
		return jwa.ES256(), true
	default:
		return jwa.SignatureAlgorithm{}, false
	}
}

// publicKeyFor exports key to a crypto public key usable with alg, refusing keys that
// are meant for another algorithm or use, weak RSA keys and non-P-256 curves.
func publicKeyFor(key jwk.Key, alg jwa.SignatureAlgorithm) (any, error) {
	if use, ok := key.KeyUsage(); ok && use != "" && use != "sig" {
		return nil, fmt.Errorf("key use is %q, not sig", use)
	}
	if ka, ok := key.Algorithm(); ok && ka.String() != "" && ka.String() != alg.String() {
		return nil, fmt.Errorf("key is for %s, token says %s", ka, alg)
	}
	var raw any
	if err := jwk.Export(key, &raw); err != nil {
		return nil, fmt.Errorf("export key: %w", err)
	}
	switch alg.String() {
	case jwa.RS256().String():
		pub, ok := raw.(*rsa.PublicKey)
		if !ok {
			return nil, fmt.Errorf("%s needs an RSA public key, JWKS has %T", alg, raw)
		}
		if pub.N.BitLen() < 2048 {
			return nil, fmt.Errorf("RSA key of %d bits is too small", pub.N.BitLen())
		}
		return pub, nil
	case jwa.ES256().String():
		pub, ok := raw.(*ecdsa.PublicKey)
		if !ok || pub.Curve != elliptic.P256() {
			return nil, fmt.Errorf("%s needs a P-256 public key, JWKS has %T", alg, raw)
		}
		return pub, nil
	default:
		return nil, fmt.Errorf("algorithm %s not allowed", alg)
	}
}

// checkClaims checks iss, exp, nbf, iat, sub, the audience and token_use.
func (v *Verifier) checkClaims(tok jwt.Token) error {
	if iss, _ := tok.Issuer(); iss != v.issuer {
		return fmt.Errorf("%w: %.128q", ErrWrongIssuer, iss)
	}
	if !tok.Has(jwt.ExpirationKey) {
		return fmt.Errorf("%w: exp", ErrMissingClaim)
	}
	err := jwt.Validate(tok,
		jwt.WithClock(jwt.ClockFunc(v.now)),
		jwt.WithAcceptableSkew(v.leeway),
	)
	switch {
	case err == nil:
	case errors.Is(err, jwt.TokenExpiredError()):
		return fmt.Errorf("%w: %w", ErrExpired, err)
	case errors.Is(err, jwt.TokenNotYetValidError()), errors.Is(err, jwt.InvalidIssuedAtError()):
		return fmt.Errorf("%w: %w", ErrNotYetValid, err)
	default:
		return fmt.Errorf("%w: %w", ErrMalformedToken, err)
	}

	sub, _ := tok.Subject()
	if sub == "" {
		return fmt.Errorf("%w: sub", ErrMissingClaim)
	}
	if len(sub) > MaxSubjectBytes || !utf8.ValidString(sub) {
		return fmt.Errorf("%w: sub is longer than %d bytes or not UTF-8", ErrMissingClaim, MaxSubjectBytes)
	}

	if err := v.checkAudience(tok); err != nil {
		return err
	}

	if len(v.tokenUses) > 0 {
		use := stringClaim(tok, "token_use")
		if !slices.Contains(v.tokenUses, use) {
			return fmt.Errorf("%w: %.32q", ErrTokenUseNotAllowed, use)
		}
	}
	return nil
}

// checkAudience accepts a token whose aud contains an accepted audience; a token
// without aud (a Cognito access token) is accepted on its client_id instead.
func (v *Verifier) checkAudience(tok jwt.Token) error {
	if aud, ok := tok.Audience(); ok && len(aud) > 0 {
		for _, a := range aud {
			if slices.Contains(v.audiences, a) {
				return nil
			}
		}
		return fmt.Errorf("%w: aud not accepted", ErrWrongAudience)
	}
	clientID := stringClaim(tok, "client_id")
	if clientID != "" && slices.Contains(v.audiences, clientID) {
		return nil
	}
	return fmt.Errorf("%w: no accepted aud or client_id", ErrWrongAudience)
}

// identityOf builds the Identity of a checked token.
func identityOf(tok jwt.Token) Identity {
	sub, _ := tok.Subject()
	display := sub
	for _, claim := range []string{"name", "preferred_username", "cognito:username", "email"} {
		if s := strings.TrimSpace(stringClaim(tok, claim)); s != "" {
			display = s
			break
		}
	}
	return Identity{
		UserID:      sub,
		DisplayName: truncateRunes(display, MaxDisplayNameRunes),
		TokenUse:    truncateRunes(stringClaim(tok, "token_use"), maxTokenUseRunes),
	}
}

// stringClaim returns a string claim, or "" when it is absent or not a string.
func stringClaim(tok jwt.Token, name string) string {
	var s string
	if err := tok.Get(name, &s); err != nil {
		return ""
	}
	return s
}

// truncateRunes makes s valid UTF-8 and cuts it to at most n runes.
func truncateRunes(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	i := 0
	for pos := range s {
		if i == n {
			return s[:pos]
		}
		i++
	}
	return s
}
