package wsevent_test

import (
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/chatstack/websocketchatapi/lambdas/internal/wsevent"
)

func getenv(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoadConnectConfig(t *testing.T) {
	c, err := wsevent.LoadConnectConfig(getenv(map[string]string{"TABLE_NAME": "chat"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.TableName != "chat" || c.ConnectionTTL != 7800*time.Second || c.Subprotocol != "chat.v1" || c.LogLevel != slog.LevelInfo {
		t.Errorf("defaults: %+v", c)
	}
	c, err = wsevent.LoadConnectConfig(getenv(map[string]string{"TABLE_NAME": "chat", "CONNECTION_TTL_SECONDS": "9000", "SUBPROTOCOL": "chat.v2", "LOG_LEVEL": "DEBUG"}))
	if err != nil || c.ConnectionTTL != 9000*time.Second || c.Subprotocol != "chat.v2" || c.LogLevel != slog.LevelDebug {
		t.Errorf("set: %+v, %v", c, err)
	}
	_, err = wsevent.LoadConnectConfig(getenv(map[string]string{"CONNECTION_TTL_SECONDS": "3600", "SUBPROTOCOL": "a b", "LOG_LEVEL": "loud"}))
	for _, want := range []string{"TABLE_NAME is required", "CONNECTION_TTL_SECONDS:", "SUBPROTOCOL:", "LOG_LEVEL:"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not say %q", err, want)
		}
	}
}

func TestLoadDisconnectConfig(t *testing.T) {
	if c, err := wsevent.LoadDisconnectConfig(getenv(map[string]string{"TABLE_NAME": "t", "LOG_LEVEL": "warn"})); err != nil || c.TableName != "t" || c.LogLevel != slog.LevelWarn {
		t.Errorf("%+v, %v", c, err)
	}
	if _, err := wsevent.LoadDisconnectConfig(getenv(nil)); err == nil || !strings.Contains(err.Error(), "TABLE_NAME") {
		t.Errorf("missing table: %v", err)
	}
}

func TestLoadChatConfig(t *testing.T) {
	c, err := wsevent.LoadChatConfig(getenv(map[string]string{"TABLE_NAME": "t", "CALLBACK_URL": "https://abc123.execute-api.us-east-1.amazonaws.com/prod/"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.CallbackURL != "https://abc123.execute-api.us-east-1.amazonaws.com/prod" || c.HistoryRetention != 30*24*time.Hour || c.FanoutConcurrency != 32 {
		t.Errorf("defaults: %+v", c)
	}
	c, err = wsevent.LoadChatConfig(getenv(map[string]string{"TABLE_NAME": "t", "CALLBACK_URL": "http://127.0.0.1:4010/local", "HISTORY_RETENTION_SECONDS": "86400", "FANOUT_CONCURRENCY": "8"}))
	if err != nil || c.HistoryRetention != 24*time.Hour || c.FanoutConcurrency != 8 {
		t.Errorf("set: %+v, %v", c, err)
	}
	bad := []map[string]string{
		{"TABLE_NAME": "t"},
		{"TABLE_NAME": "t", "CALLBACK_URL": "abc123.execute-api.us-east-1.amazonaws.com/prod"},
		{"TABLE_NAME": "t", "CALLBACK_URL": "wss://abc123.execute-api.us-east-1.amazonaws.com/prod"},
		{"TABLE_NAME": "t", "CALLBACK_URL": "https://abc123.execute-api.us-east-1.amazonaws.com/prod/@connections"},
	}
	for _, env := range bad {
		if _, err := wsevent.LoadChatConfig(getenv(env)); err == nil || !strings.Contains(err.Error(), "CALLBACK_URL") {
			t.Errorf("%v: error %v, want one naming CALLBACK_URL", env, err)
		}
	}
	for _, kv := range [][2]string{{"FANOUT_CONCURRENCY", "0"}, {"FANOUT_CONCURRENCY", "many"}, {"FANOUT_CONCURRENCY", "5000"}, {"HISTORY_RETENTION_SECONDS", "-1"}, {"HISTORY_RETENTION_SECONDS", "1.5"}} {
		env := map[string]string{"TABLE_NAME": "t", "CALLBACK_URL": "https://x.example/prod", kv[0]: kv[1]}
		if _, err := wsevent.LoadChatConfig(getenv(env)); err == nil || !strings.Contains(err.Error(), kv[0]) {
			t.Errorf("%s=%s: error %v", kv[0], kv[1], err)
		}
	}
}

func TestLoadDefaultConfig(t *testing.T) {
	c, err := wsevent.LoadDefaultConfig(getenv(map[string]string{"CHAT_ACTIONS": " sendmessage,joinroom , leaveroom,history"}))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(c.Actions, "|") != "sendmessage|joinroom|leaveroom|history" || c.RouteSelection.String() != "$request.body.action" {
		t.Errorf("%+v", c)
	}
	c, err = wsevent.LoadDefaultConfig(getenv(map[string]string{"CHAT_ACTIONS": "a", "ROUTE_SELECTION_EXPRESSION": "$request.body.type"}))
	if err != nil || strings.Join(c.RouteSelection.Fields(), ",") != "type" {
		t.Errorf("custom expression: %+v, %v", c, err)
	}
	for _, env := range []map[string]string{
		{},
		{"CHAT_ACTIONS": "a,,b"},
		{"CHAT_ACTIONS": "a,b,a"},
		{"CHAT_ACTIONS": "a", "ROUTE_SELECTION_EXPRESSION": "$request.header.x"},
	} {
		_, err := wsevent.LoadDefaultConfig(getenv(env))
		want := "CHAT_ACTIONS"
		if env["ROUTE_SELECTION_EXPRESSION"] != "" {
			want = "ROUTE_SELECTION_EXPRESSION"
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%v: error %v, want one naming %s", env, err, want)
		}
	}
}

func TestIdentityFrom(t *testing.T) {
	rc := func(auth any) events.APIGatewayWebsocketProxyRequestContext {
		return events.APIGatewayWebsocketProxyRequestContext{ConnectionID: "c1", Authorizer: auth}
	}
	tests := []struct {
		name    string
		auth    any
		user    string
		display string
		wantErr bool
	}{
		{"absent", nil, "anon-c1", "", false},
		{"empty", map[string]any{}, "anon-c1", "", false},
		{"decoded JSON", map[string]any{"userId": "u1", "displayName": "Ann", "principalId": "p1"}, "u1", "Ann", false},
		{"string map", map[string]string{"userId": "u2", "displayName": "Bo"}, "u2", "Bo", false},
		{"principal only", map[string]any{"principalId": "p3"}, "p3", "", false},
		{"number id", map[string]any{"userId": 1234.0}, "1234", "", false},
		{"no user", map[string]any{"tokenUse": "access"}, "", "", true},
		{"not a map", "u1", "", "", true},
	}
	for _, tt := range tests {
		id, err := wsevent.IdentityFrom(rc(tt.auth))
		if (err != nil) != tt.wantErr || id.UserID != tt.user || id.DisplayName != tt.display {
			t.Errorf("%s: %+v, %v", tt.name, id, err)
		}
		if tt.name == "no user" && !errors.Is(err, wsevent.ErrNoUserID) {
			t.Errorf("no user: %v, want ErrNoUserID", err)
		}
	}
}

// TestIdentityFromIAM: without an authorizer context, the IAM caller API Gateway verified
// is the user; an authorizer context wins; a malformed userArn is refused.
func TestIdentityFromIAM(t *testing.T) {
	tests := []struct {
		name, arn     string
		auth          any
		user, display string
		wantErr       bool
	}{
		{"role session", "arn:aws:sts::123456789012:assumed-role/Device/thing-42", nil,
			"arn:aws:sts::123456789012:assumed-role/Device/thing-42", "thing-42", false},
		{"IAM user with path", "arn:aws:iam::123456789012:user/ops/alice", nil,
			"arn:aws:iam::123456789012:user/ops/alice", "alice", false},
		{"root", "arn:aws-cn:iam::123456789012:root", nil, "arn:aws-cn:iam::123456789012:root", "root", false},
		{"authorizer wins", "arn:aws:iam::123456789012:user/alice", map[string]any{"userId": "u1"}, "u1", "", false},
		{"not an ARN", "alice", nil, "", "", true},
		{"other service", "arn:aws:s3:::bucket", nil, "", "", true},
	}
	for _, tt := range tests {
		rc := events.APIGatewayWebsocketProxyRequestContext{ConnectionID: "c1", Authorizer: tt.auth,
			Identity: events.APIGatewayRequestIdentity{UserArn: tt.arn, Caller: "AROAEXAMPLE:thing-42", AccountID: "123456789012"}}
		id, err := wsevent.IdentityFrom(rc)
		if (err != nil) != tt.wantErr || id.UserID != tt.user || id.DisplayName != tt.display {
			t.Errorf("%s: %+v, %v", tt.name, id, err)
		}
		if tt.wantErr && !errors.Is(err, wsevent.ErrBadIAMCaller) {
			t.Errorf("%s: %v, want ErrBadIAMCaller", tt.name, err)
		}
	}
}

func TestParseLevel(t *testing.T) {
	for in, want := range map[string]slog.Level{"": slog.LevelInfo, "debug": slog.LevelDebug, "Info": slog.LevelInfo, "WARN": slog.LevelWarn, "error": slog.LevelError} {
		if got, err := wsevent.ParseLevel(in); err != nil || got != want {
			t.Errorf("ParseLevel(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := wsevent.ParseLevel("trace"); err == nil {
		t.Error("trace accepted")
	}
}
