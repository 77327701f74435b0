package client

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chatstack/websocketchatapi/internal/contract"
)

func TestOptionsErrorsNameTheOption(t *testing.T) {
	token := func(context.Context) (string, error) { return "t", nil }
	awsCreds := func(context.Context) (AWSCredentials, error) {
		return AWSCredentials{AccessKeyID: "AKID", SecretAccessKey: "secret"}, nil
	}
	for _, tc := range []struct {
		name string
		url  string
		opts Options
		want string
	}{
		{"no token", "", Options{}, "Options.Token is required"},
		{"token and credentials", "", Options{Token: token, AWSCredentials: awsCreds, AWSRegion: "eu-west-1"}, "Options.Token and Options.AWSCredentials exclude each other"},
		{"credentials without region", "", Options{AWSCredentials: awsCreds}, `Options.AWSRegion ("") must name the API's region`},
		{"bad region", "", Options{AWSCredentials: awsCreds, AWSRegion: "Ireland"}, `Options.AWSRegion ("Ireland")`},
		{"region without credentials", "", Options{Token: token, AWSRegion: "eu-west-1"}, "Options.AWSRegion is set without Options.AWSCredentials"},
		{"backoff order", "", Options{Token: token, MaxBackoff: -time.Second}, "client: Options.MaxBackoff (-1s) must be ≥ Options.MinBackoff (500ms)"},
		{"backoff below min", "", Options{Token: token, MinBackoff: time.Second, MaxBackoff: time.Millisecond}, "Options.MaxBackoff (1ms) must be ≥ Options.MinBackoff (1s)"},
		{"negative min", "", Options{Token: token, MinBackoff: -1}, "Options.MinBackoff (-1ns) must be positive"},
		{"heartbeat", "", Options{Token: token, HeartbeatInterval: 10 * time.Minute}, "Options.HeartbeatInterval (10m0s) must be below API Gateway's idle timeout"},
		{"pong", "", Options{Token: token, PongTimeout: -time.Second}, "Options.PongTimeout (-1s)"},
		{"age", "", Options{Token: token, MaxConnectionAge: 2 * time.Hour}, "Options.MaxConnectionAge (2h0m0s) must be below"},
		{"request timeout", "", Options{Token: token, RequestTimeout: -1}, "Options.RequestTimeout"},
		{"gap", "", Options{Token: token, GapTimeout: -1}, "Options.GapTimeout"},
		{"buffer", "", Options{Token: token, EventBuffer: -1}, "Options.EventBuffer (-1)"},
		{"transport", "", Options{Token: token, TokenTransport: 7}, "Options.TokenTransport (7)"},
		{"scheme", "https://example.com/prod", Options{Token: token}, "must start with ws:// or wss://"},
		{"token in url", "wss://example.com/prod?token=secret", Options{Token: token}, "carries a token"},
		{"presigned url", "wss://example.com/prod?X-Amz-Signature=secret", Options{AWSCredentials: awsCreds, AWSRegion: "eu-west-1"}, "is presigned"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url := tc.url
			if url == "" {
				url = "ws://127.0.0.1:1/prod"
			}
			_, err := Dial(context.Background(), url, tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Dial: %v, want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Fatalf("error %q shows the token", err)
			}
		})
	}
}

func TestConnectErrorsHideTheToken(t *testing.T) {
	opts := Options{Token: func(context.Context) (string, error) { return "secret-token", nil }}
	_, err := Dial(context.Background(), "ws://127.0.0.1:1/prod", opts) // nothing listens on port 1
	if err == nil || strings.Contains(err.Error(), "secret-token") || !strings.Contains(err.Error(), "ws://127.0.0.1:1/prod") {
		t.Fatalf("Dial: %v, want an error naming the URL without the token", err)
	}
}

// TestGatewayLimitsMatchTheContract keeps the documented limits equal to the ones the
// construct and the handlers use.
func TestGatewayLimitsMatchTheContract(t *testing.T) {
	if GatewayMaxConnectionAge != contract.MaxConnectionDuration {
		t.Errorf("GatewayMaxConnectionAge %v, contract.MaxConnectionDuration %v", GatewayMaxConnectionAge, contract.MaxConnectionDuration)
	}
	if DefaultMaxConnectionAge >= GatewayMaxConnectionAge || DefaultHeartbeatInterval >= GatewayIdleTimeout {
		t.Error("a default breaks its own rule")
	}
}

// TestNoAWSDependencies keeps the client light: users import it into apps and services that
// link neither CDK nor the AWS SDK.
func TestNoAWSDependencies(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.HasPrefix(pkg, "github.com/aws/") {
			t.Errorf("the client depends on %s", pkg)
		}
	}
}
