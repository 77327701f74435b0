package auth

import (
	"slices"
	"strings"
	"testing"
)

// env returns a getenv over m.
func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// goodEnv is a valid environment with changes applied ("" deletes a variable).
func goodEnv(changes map[string]string) map[string]string {
	m := map[string]string{
		EnvIssuer:    "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf",
		EnvAudiences: "client-a",
	}
	for k, v := range changes {
		if v == "" {
			delete(m, k)
			continue
		}
		m[k] = v
	}
	return m
}

func TestConfigFromEnvErrorsNameTheVariable(t *testing.T) {
	cases := []struct {
		name    string
		env     map[string]string
		wantVar string
	}{
		{"issuer missing", goodEnv(map[string]string{EnvIssuer: ""}), EnvIssuer},
		{"issuer blank", goodEnv(map[string]string{EnvIssuer: "   "}), EnvIssuer},
		{"issuer plain http", goodEnv(map[string]string{EnvIssuer: "http://idp.example.com/pool"}), EnvIssuer},
		{"issuer http on a look-alike host", goodEnv(map[string]string{EnvIssuer: "http://localhost.evil.example/pool"}), EnvIssuer},
		{"issuer http with loopback user info", goodEnv(map[string]string{EnvIssuer: "http://127.0.0.1@evil.example/pool"}), EnvIssuer},
		{"issuer not a URL", goodEnv(map[string]string{EnvIssuer: "cognito pool"}), EnvIssuer},
		{"issuer relative", goodEnv(map[string]string{EnvIssuer: "/pool"}), EnvIssuer},
		{"issuer other scheme", goodEnv(map[string]string{EnvIssuer: "ftp://idp.example.com"}), EnvIssuer},
		{"issuer with query", goodEnv(map[string]string{EnvIssuer: "https://idp.example.com/pool?x=1"}), EnvIssuer},
		{"issuer bad escape", goodEnv(map[string]string{EnvIssuer: "https://idp.example.com/%zz"}), EnvIssuer},
		{"audiences missing", goodEnv(map[string]string{EnvAudiences: ""}), EnvAudiences},
		{"audiences only commas", goodEnv(map[string]string{EnvAudiences: " , "}), EnvAudiences},
		{"audiences empty entry", goodEnv(map[string]string{EnvAudiences: "a,,b"}), EnvAudiences},
		{"JWKS URL plain http", goodEnv(map[string]string{EnvJWKSURL: "http://idp.example.com/jwks.json"}), EnvJWKSURL},
		{"JWKS URL not absolute", goodEnv(map[string]string{EnvJWKSURL: "jwks.json"}), EnvJWKSURL},
		{"token use unknown", goodEnv(map[string]string{EnvTokenUse: "id,refresh"}), EnvTokenUse},
		{"token use wrong case", goodEnv(map[string]string{EnvTokenUse: "ID"}), EnvTokenUse},
		{"token use empty entry", goodEnv(map[string]string{EnvTokenUse: "id,"}), EnvTokenUse},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := ConfigFromEnv(env(tc.env))
			if err == nil {
				t.Fatalf("ConfigFromEnv = %+v, want an error", cfg)
			}
			if !strings.Contains(err.Error(), tc.wantVar) {
				t.Errorf("error %q does not name %s", err, tc.wantVar)
			}
		})
	}
}

func TestConfigFromEnvGood(t *testing.T) {
	cases := []struct {
		name string
		env  map[string]string
		want Config
	}{
		{
			name: "minimal",
			env:  goodEnv(nil),
			want: Config{Issuer: "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf", Audiences: []string{"client-a"}},
		},
		{
			name: "everything, with spaces",
			env: map[string]string{
				EnvIssuer:    " https://idp.example.com/ ",
				EnvAudiences: " client-a , client-b ",
				EnvJWKSURL:   "https://keys.example.com/jwks.json",
				EnvTokenUse:  "id, access",
			},
			want: Config{
				Issuer:    "https://idp.example.com/",
				Audiences: []string{"client-a", "client-b"},
				JWKSURL:   "https://keys.example.com/jwks.json",
				TokenUses: []string{"id", "access"},
			},
		},
		{
			name: "loopback http for local runs",
			env:  map[string]string{EnvIssuer: "http://127.0.0.1:9229/local_pool", EnvAudiences: "local", EnvJWKSURL: "http://localhost:9229/jwks"},
			want: Config{Issuer: "http://127.0.0.1:9229/local_pool", Audiences: []string{"local"}, JWKSURL: "http://localhost:9229/jwks"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ConfigFromEnv(env(tc.env))
			if err != nil {
				t.Fatalf("ConfigFromEnv: %v", err)
			}
			if got.Issuer != tc.want.Issuer || got.JWKSURL != tc.want.JWKSURL ||
				!slices.Equal(got.Audiences, tc.want.Audiences) || !slices.Equal(got.TokenUses, tc.want.TokenUses) {
				t.Errorf("config = %+v, want %+v", got, tc.want)
			}
			if _, err := NewVerifier(got); err != nil {
				t.Errorf("NewVerifier refuses a config ConfigFromEnv accepted: %v", err)
			}
		})
	}
}
