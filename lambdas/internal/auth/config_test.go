package auth

import (
	"slices"
	"strings"
	"testing"

	"github.com/chatstack/websocketchatapi/internal/contract"
)

// goodEnv is a valid environment with changes applied ("" deletes a variable).
func goodEnv(changes map[string]string) map[string]string {
	m := map[string]string{
		contract.EnvAuthIssuer:    "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf",
		contract.EnvAuthAudiences: "client-a",
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
		{"issuer missing", goodEnv(map[string]string{contract.EnvAuthIssuer: ""}), contract.EnvAuthIssuer},
		{"issuer blank", goodEnv(map[string]string{contract.EnvAuthIssuer: "   "}), contract.EnvAuthIssuer},
		{"issuer plain http", goodEnv(map[string]string{contract.EnvAuthIssuer: "http://idp.example.com/pool"}), contract.EnvAuthIssuer},
		{"issuer http on a look-alike host", goodEnv(map[string]string{contract.EnvAuthIssuer: "http://localhost.evil.example/pool"}), contract.EnvAuthIssuer},
		{"issuer http with loopback user info", goodEnv(map[string]string{contract.EnvAuthIssuer: "http://127.0.0.1@evil.example/pool"}), contract.EnvAuthIssuer},
		{"issuer not a URL", goodEnv(map[string]string{contract.EnvAuthIssuer: "cognito pool"}), contract.EnvAuthIssuer},
		{"issuer relative", goodEnv(map[string]string{contract.EnvAuthIssuer: "/pool"}), contract.EnvAuthIssuer},
		{"issuer other scheme", goodEnv(map[string]string{contract.EnvAuthIssuer: "ftp://idp.example.com"}), contract.EnvAuthIssuer},
		{"issuer with query", goodEnv(map[string]string{contract.EnvAuthIssuer: "https://idp.example.com/pool?x=1"}), contract.EnvAuthIssuer},
		{"issuer bad escape", goodEnv(map[string]string{contract.EnvAuthIssuer: "https://idp.example.com/%zz"}), contract.EnvAuthIssuer},
		{"audiences missing", goodEnv(map[string]string{contract.EnvAuthAudiences: ""}), contract.EnvAuthAudiences},
		{"audiences only commas", goodEnv(map[string]string{contract.EnvAuthAudiences: " , "}), contract.EnvAuthAudiences},
		{"audiences empty entry", goodEnv(map[string]string{contract.EnvAuthAudiences: "a,,b"}), contract.EnvAuthAudiences},
		{"JWKS URL plain http", goodEnv(map[string]string{contract.EnvAuthJWKSURL: "http://idp.example.com/jwks.json"}), contract.EnvAuthJWKSURL},
		{"JWKS URL not absolute", goodEnv(map[string]string{contract.EnvAuthJWKSURL: "jwks.json"}), contract.EnvAuthJWKSURL},
		{"token use unknown", goodEnv(map[string]string{contract.EnvAuthTokenUse: "id,refresh"}), contract.EnvAuthTokenUse},
		{"token use wrong case", goodEnv(map[string]string{contract.EnvAuthTokenUse: "ID"}), contract.EnvAuthTokenUse},
		{"token use empty entry", goodEnv(map[string]string{contract.EnvAuthTokenUse: "id,"}), contract.EnvAuthTokenUse},
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
				contract.EnvAuthIssuer:    " https://idp.example.com/ ",
				contract.EnvAuthAudiences: " client-a , client-b ",
				contract.EnvAuthJWKSURL:   "https://keys.example.com/jwks.json",
				contract.EnvAuthTokenUse:  "id, access",
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
			env:  map[string]string{contract.EnvAuthIssuer: "http://127.0.0.1:9229/local_pool", contract.EnvAuthAudiences: "local", contract.EnvAuthJWKSURL: "http://localhost:9229/jwks"},
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

func TestConfigFromEnvNamesEveryWrongVariable(t *testing.T) {
	_, err := ConfigFromEnv(env(map[string]string{
		contract.EnvAuthJWKSURL:  "http://idp.example.com/jwks.json",
		contract.EnvAuthTokenUse: "refresh",
	}))
	for _, want := range []string{
		contract.EnvAuthIssuer + " is required",
		contract.EnvAuthAudiences + " is required",
		contract.EnvAuthJWKSURL + ":",
		contract.EnvAuthTokenUse + ":",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not say %q", err, want)
		}
	}
}
