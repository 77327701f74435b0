package auth

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/chatstack/websocketchatapi/internal/contract"
)

// TestUsageIdentifierKey: with Config.APIKeyClaim the authorizer returns the claim's value as
// the API key, both as usageIdentifierKey and in the context (where the WebSocket selection
// expression $context.authorizer.usageIdentifierKey names it); a token without the claim is
// denied; without APIKeyClaim no key is returned. The key is never logged.
func TestUsageIdentifierKey(t *testing.T) {
	f := newFixture(t)
	const key = "k3yOfAlice0123456789abcdef"
	withKey := newTestVerifier(t, f.pool, f.clock, func(c *Config) { c.APIKeyClaim = "custom:api_key" })
	iss := f.pool.issuer
	cases := []struct {
		name     string
		verifier *Verifier
		claims   map[string]any
		effect   string
		wantKey  string
	}{
		{"claim present", withKey, with(idClaims(iss), map[string]any{"custom:api_key": key}), "Allow", key},
		{"claim absent: denied", withKey, idClaims(iss), "Deny", ""},
		{"claim empty: denied", withKey, with(idClaims(iss), map[string]any{"custom:api_key": ""}), "Deny", ""},
		{"claim not a string: denied", withKey, with(idClaims(iss), map[string]any{"custom:api_key": 42}), "Deny", ""},
		{"no APIKeyClaim: no key", f.verifier, with(idClaims(iss), map[string]any{"custom:api_key": key}), "Allow", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, _, raw, err := invoke(t, tc.verifier, queryRequest(f.rsa.sign(t, tc.claims, nil)))
			if err != nil {
				t.Fatalf("Handle: %v", err)
			}
			checkPolicy(t, resp, tc.effect)
			if resp.UsageIdentifierKey != tc.wantKey {
				t.Errorf("usageIdentifierKey = %q, want %q", resp.UsageIdentifierKey, tc.wantKey)
			}
			got, present := resp.Context[contract.ContextUsageIdentifierKey]
			if (tc.wantKey != "") != present || (present && got != tc.wantKey) {
				t.Errorf("context[%s] = %v (present %v), want %q", contract.ContextUsageIdentifierKey, got, present, tc.wantKey)
			}
			if strings.Contains(raw, key) {
				t.Errorf("the log contains the API key:\n%s", raw)
			}
		})
	}
}

func TestVerifyAPIKeyClaim(t *testing.T) {
	f := newFixture(t)
	v := newTestVerifier(t, f.pool, f.clock, func(c *Config) { c.APIKeyClaim = "tier_key" })
	id, err := v.Verify(context.Background(), f.rsa.sign(t, with(idClaims(f.pool.issuer), map[string]any{"tier_key": "abc"}), nil))
	if err != nil || id.APIKey != "abc" {
		t.Fatalf("Verify = %+v, %v; want APIKey abc", id, err)
	}
	_, err = v.Verify(context.Background(), f.rsa.sign(t, idClaims(f.pool.issuer), nil))
	if !errors.Is(err, ErrMissingClaim) || !strings.Contains(err.Error(), "tier_key") {
		t.Errorf("without the claim: err = %v, want ErrMissingClaim naming tier_key", err)
	}
}

func TestConfigFromEnvAPIKeyClaim(t *testing.T) {
	good := goodEnv(map[string]string{contract.EnvAuthAPIKeyClaim: "custom:api_key"})
	cfg, err := ConfigFromEnv(env(good))
	if err != nil || cfg.APIKeyClaim != "custom:api_key" {
		t.Fatalf("ConfigFromEnv = %+v, %v; want APIKeyClaim custom:api_key", cfg, err)
	}
	bad := goodEnv(map[string]string{contract.EnvAuthAPIKeyClaim: "two words"})
	if _, err := ConfigFromEnv(env(bad)); err == nil || !strings.Contains(err.Error(), contract.EnvAuthAPIKeyClaim) {
		t.Errorf("a claim name with a space: err = %v, want one naming %s", err, contract.EnvAuthAPIKeyClaim)
	}
}
