package wsevent_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/chatstack/websocketchatapi/internal/chat"
	"github.com/chatstack/websocketchatapi/internal/emf"
	"github.com/chatstack/websocketchatapi/lambdas/internal/wsevent"
	"github.com/chatstack/websocketchatapi/protocol"
)

func TestLoadConnectConfigOrigins(t *testing.T) {
	for _, v := range []string{"", "*", " * "} {
		c, err := wsevent.LoadConnectConfig(getenv(map[string]string{"TABLE_NAME": "t", "ALLOWED_ORIGINS": v}))
		if err != nil || c.Origins != nil {
			t.Errorf("ALLOWED_ORIGINS=%q: %v, %v; want any origin (nil policy)", v, c.Origins, err)
		}
	}
	c, err := wsevent.LoadConnectConfig(getenv(map[string]string{"TABLE_NAME": "t",
		"ALLOWED_ORIGINS": "https://Chat.Example.com, http://localhost:3000,https://chat.example.com:443,app://desktop"}))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(c.Origins.Origins(), " "); got != "https://chat.example.com http://localhost:3000 app://desktop" {
		t.Errorf("origins %q", got)
	}
	for _, bad := range []string{
		"chat.example.com",
		"https://chat.example.com/",
		"https://chat.example.com/app",
		"https://chat.example.com?x=1",
		"https://chat.example.com#top",
		"https://user@chat.example.com",
		"https://chat.example.com:99999",
		"https://chat.example.com:",
		"https://",
		"https://bücher.example",
		"null",
		"https://a.example,,https://b.example",
		"https://a.example,*",
	} {
		_, err := wsevent.LoadConnectConfig(getenv(map[string]string{"TABLE_NAME": "t", "ALLOWED_ORIGINS": bad}))
		if err == nil || !strings.Contains(err.Error(), "ALLOWED_ORIGINS:") {
			t.Errorf("ALLOWED_ORIGINS=%q: error %v, want one naming ALLOWED_ORIGINS", bad, err)
		}
	}
}

func TestCanonicalOrigin(t *testing.T) {
	for in, want := range map[string]string{
		"https://chat.example.com":      "https://chat.example.com",
		"HTTPS://CHAT.Example.COM:443":  "https://chat.example.com",
		"http://chat.example.com:80":    "http://chat.example.com",
		"http://chat.example.com:443":   "http://chat.example.com:443",
		"https://chat.example.com:8443": "https://chat.example.com:8443",
		"http://[::1]:8080":             "http://[::1]:8080",
		"http://127.0.0.1":              "http://127.0.0.1",
		"chrome-extension://abcdef":     "chrome-extension://abcdef",
	} {
		if got, err := wsevent.CanonicalOrigin(in); err != nil || got != want {
			t.Errorf("CanonicalOrigin(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestConnectOriginAllowlist(t *testing.T) {
	w := newWorld(t)
	policy, err := wsevent.ParseOriginPolicy("https://chat.example.com,http://localhost:3000")
	if err != nil {
		t.Fatal(err)
	}
	w.connect.Origins = policy
	ctx := context.Background()
	tests := []struct {
		name       string
		headers    map[string]string
		multiValue map[string][]string
		status     int
	}{
		{"allowed", map[string]string{"Origin": "https://chat.example.com"}, nil, 200},
		{"allowed, other case and default port", map[string]string{"origin": "HTTPS://Chat.Example.com:443"}, nil, 200},
		{"allowed dev origin", map[string]string{"ORIGIN": "http://localhost:3000"}, nil, 200},
		{"no Origin (not a browser)", map[string]string{}, nil, 200},
		{"empty Origin", map[string]string{"Origin": " "}, nil, 200},
		{"foreign site", map[string]string{"Origin": "https://evil.example"}, nil, 403},
		{"look-alike", map[string]string{"Origin": "https://chat.example.com.evil.example"}, nil, 403},
		{"other scheme", map[string]string{"Origin": "http://chat.example.com"}, nil, 403},
		{"other port", map[string]string{"Origin": "http://localhost:3001"}, nil, 403},
		{"sandboxed page", map[string]string{"Origin": "null"}, nil, 403},
		{"multi-value only", nil, map[string][]string{"origin": {"https://evil.example"}}, 403},
		{"one of two values foreign", nil, map[string][]string{"Origin": {"https://chat.example.com", "https://evil.example"}}, 403},
	}
	for i, tt := range tests {
		connID := "o" + string(rune('a'+i))
		req := event(t, "$connect", connID, authorizerContext("u1", "U"), tt.headers, "")
		if tt.multiValue != nil {
			req.MultiValueHeaders = tt.multiValue
		}
		w.log.Reset()
		resp, err := w.connect.Handle(ctx, req)
		if err != nil || resp.StatusCode != tt.status {
			t.Errorf("%s: %d %q, %v; want %d", tt.name, resp.StatusCode, resp.Body, err, tt.status)
			continue
		}
		_, getErr := w.store.GetConnection(ctx, connID)
		if stored := getErr == nil; stored != (tt.status == 200) {
			t.Errorf("%s: stored = %v (%v)", tt.name, stored, getErr)
		}
		if tt.status != 403 {
			continue
		}
		if !strings.Contains(resp.Body, "origin") || !strings.Contains(resp.Body, "ALLOWED_ORIGINS") {
			t.Errorf("%s: body %q does not say why", tt.name, resp.Body)
		}
		var rec map[string]any
		if err := json.Unmarshal(w.log.Bytes(), &rec); err != nil {
			t.Fatalf("%s: log %q", tt.name, w.log)
		}
		if rec["outcome"] != "refused" || rec["reason"] != "origin not allowed" || rec["origin"] == "" {
			t.Errorf("%s: log line %v", tt.name, rec)
		}
	}
	// Without a policy, any origin connects.
	w.connect.Origins = nil
	resp, _ := w.connect.Handle(ctx, event(t, "$connect", "any", authorizerContext("u1", "U"), map[string]string{"Origin": "https://evil.example"}, ""))
	if resp.StatusCode != http.StatusOK {
		t.Errorf("no policy: %d", resp.StatusCode)
	}
}

func TestLoadChatConfigRateLimitAndMetrics(t *testing.T) {
	base := map[string]string{"TABLE_NAME": "t", "CALLBACK_URL": "https://x.example/prod"}
	c, err := wsevent.LoadChatConfig(getenv(base))
	if err != nil {
		t.Fatal(err)
	}
	if c.RateLimit != (chat.RateLimit{PerSecond: 10, Burst: 20}) || c.Metrics != (wsevent.MetricsConfig{Namespace: "WebSocketChatApi", Service: "chat"}) {
		t.Errorf("defaults: %+v", c)
	}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	c, err = wsevent.LoadChatConfig(getenv(with("RATE_LIMIT_PER_SECOND", "0.5", "RATE_LIMIT_BURST", "3", "METRICS_NAMESPACE", "Acme/Chat", "METRICS_SERVICE", "chat-prod")))
	if err != nil || c.RateLimit != (chat.RateLimit{PerSecond: 0.5, Burst: 3}) || c.Metrics != (wsevent.MetricsConfig{Namespace: "Acme/Chat", Service: "chat-prod"}) {
		t.Errorf("set: %+v, %v", c, err)
	}
	if c, err := wsevent.LoadChatConfig(getenv(with("RATE_LIMIT_PER_SECOND", "0"))); err != nil || c.RateLimit.PerSecond != 0 {
		t.Errorf("rate 0 (off): %+v, %v", c.RateLimit, err)
	}
	for _, kv := range [][2]string{
		{"RATE_LIMIT_PER_SECOND", "-1"}, {"RATE_LIMIT_PER_SECOND", "fast"}, {"RATE_LIMIT_PER_SECOND", "NaN"},
		{"RATE_LIMIT_PER_SECOND", "Inf"}, {"RATE_LIMIT_PER_SECOND", "2e6"},
		{"RATE_LIMIT_BURST", "0"}, {"RATE_LIMIT_BURST", "2.5"}, {"RATE_LIMIT_BURST", "lots"},
		{"METRICS_NAMESPACE", "AWS/Chat"}, {"METRICS_NAMESPACE", "chat!"},
		{"METRICS_SERVICE", ":chat"}, {"METRICS_SERVICE", "ch\x01at"},
	} {
		if _, err := wsevent.LoadChatConfig(getenv(with(kv[0], kv[1]))); err == nil || !strings.Contains(err.Error(), kv[0]+":") {
			t.Errorf("%s=%q: error %v, want one naming %s", kv[0], kv[1], err, kv[0])
		}
	}
}

func TestLoadDisconnectConfigCallback(t *testing.T) {
	c, err := wsevent.LoadDisconnectConfig(getenv(map[string]string{"TABLE_NAME": "t"}))
	if err != nil || c.CallbackURL != "" || c.FanoutConcurrency != 32 {
		t.Errorf("defaults: %+v, %v", c, err)
	}
	c, err = wsevent.LoadDisconnectConfig(getenv(map[string]string{"TABLE_NAME": "t", "CALLBACK_URL": "https://abc.execute-api.eu-west-1.amazonaws.com/prod/", "FANOUT_CONCURRENCY": "4"}))
	if err != nil || c.CallbackURL != "https://abc.execute-api.eu-west-1.amazonaws.com/prod" || c.FanoutConcurrency != 4 {
		t.Errorf("set: %+v, %v", c, err)
	}
	if _, err := wsevent.LoadDisconnectConfig(getenv(map[string]string{"TABLE_NAME": "t", "CALLBACK_URL": "wss://abc/prod"})); err == nil || !strings.Contains(err.Error(), "CALLBACK_URL") {
		t.Errorf("bad CALLBACK_URL: %v", err)
	}
}

// emfRecords decodes the EMF lines of out (lines with an _aws member).
func emfRecords(t *testing.T, out *bytes.Buffer) []map[string]any {
	t.Helper()
	var recs []map[string]any
	for line := range strings.Lines(out.String()) {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("metrics line %q is not JSON", line)
		}
		if _, ok := rec["_aws"]; !ok {
			t.Fatalf("metrics line %q has no _aws", line)
		}
		recs = append(recs, rec)
	}
	return recs
}

// meteredHandler is a chat handler on w's table and @connections server with a rate limit,
// writing its metrics to the returned buffer.
func meteredHandler(t *testing.T, w *world, limit chat.RateLimit) (*wsevent.ChatHandler, *bytes.Buffer) {
	t.Helper()
	logger := wsevent.NewLogger(w.log, 0)
	svc, err := chat.NewService(w.store, w.api.Client(), chat.Options{RateLimit: limit, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	metrics, err := emf.New(&out, "WebSocketChatApi", []emf.Dimension{{Name: "Service", Value: "chat"}})
	if err != nil {
		t.Fatal(err)
	}
	return &wsevent.ChatHandler{Service: svc, Logger: logger, Metrics: metrics}, &out
}

func TestChatHandlerMetrics(t *testing.T) {
	w := newWorld(t)
	h, out := meteredHandler(t, w, chat.RateLimit{PerSecond: 0.001, Burst: 4})
	w.chat = h
	w.open("A", "alice")
	w.open("B", "bob")
	w.send("A", "alice", "joinroom", `{"roomId":"lobby"}`) // nobody to tell: an empty broadcast
	w.send("B", "bob", "joinroom", `{"roomId":"lobby"}`)   // A is told
	out.Reset()

	if f := w.send("A", "alice", "sendmessage", `{"roomId":"lobby","text":"hi"}`); f["type"] != "ack" {
		t.Fatalf("send: %v", f)
	}
	recs := emfRecords(t, out)
	if len(recs) != 1 {
		t.Fatalf("%d metric records for one message, want 1: %s", len(recs), out)
	}
	r := recs[0]
	want := map[string]float64{"MessagesSent": 1, "FanoutRecipients": 1, "FanoutDelivered": 1, "FanoutFailures": 0, "FanoutGone": 0, "FanoutRetries": 0}
	for name, v := range want {
		if r[name] != v {
			t.Errorf("%s = %v, want %v", name, r[name], v)
		}
	}
	if d, ok := r["FanoutDurationMs"].(float64); !ok || d < 0 || d > 10_000 {
		t.Errorf("FanoutDurationMs = %v", r["FanoutDurationMs"])
	}
	if r["Service"] != "chat" || r["action"] != "sendmessage" {
		t.Errorf("record %v: want Service chat and action sendmessage", r)
	}
	directive := r["_aws"].(map[string]any)["CloudWatchMetrics"].([]any)[0].(map[string]any)
	if directive["Namespace"] != "WebSocketChatApi" || len(directive["Metrics"].([]any)) != 7 {
		t.Errorf("directive %v", directive)
	}

	// History answers without a broadcast: no record.
	out.Reset()
	w.send("A", "alice", "history", `{"roomId":"lobby"}`)
	w.send("A", "alice", "history", `{"roomId":"lobby","limit":1}`)
	if out.Len() != 0 {
		t.Errorf("history wrote metrics: %s", out)
	}

	// A's bucket of 4 is now empty: the next message is refused, with a RateLimited record only.
	w.api.Reset()
	f := w.send("A", "alice", "sendmessage", `{"roomId":"lobby","text":"again"}`)
	if f["type"] != "error" || f["code"] != protocol.CodeRateLimited || f["action"] != "sendmessage" {
		t.Fatalf("over the limit: %v, want a rate_limited error frame", f)
	}
	if n := len(w.api.Requests()); n != 0 {
		t.Errorf("a refused message was fanned out: %d posts", n)
	}
	recs = emfRecords(t, out)
	if len(recs) != 1 || recs[0]["RateLimited"] != 1.0 || recs[0]["MessagesSent"] != nil {
		t.Errorf("records after a refusal: %v, want one with RateLimited 1", recs)
	}
	// B has its own bucket.
	if f := w.send("B", "bob", "sendmessage", `{"roomId":"lobby","text":"hello"}`); f["type"] != "ack" || f["delivered"] != 1.0 {
		t.Errorf("B: %v", f)
	}
	// Presence broadcasts count no message.
	out.Reset()
	w.send("B", "bob", "leaveroom", `{"roomId":"lobby"}`)
	if recs := emfRecords(t, out); len(recs) != 1 || recs[0]["MessagesSent"] != 0.0 || recs[0]["FanoutRecipients"] != 1.0 || recs[0]["action"] != "leaveroom" {
		t.Errorf("leaveroom records: %v", recs)
	}
}

func TestDisconnectHandlerTellsRooms(t *testing.T) {
	w := newWorld(t) // its Service has a Poster
	ctx := context.Background()
	w.open("A", "alice")
	w.open("B", "bob")
	w.send("A", "alice", "joinroom", `{"roomId":"lobby"}`)
	w.send("B", "bob", "joinroom", `{"roomId":"lobby"}`)
	w.api.Reset()
	w.log.Reset()
	var out bytes.Buffer
	metrics, err := emf.New(&out, "WebSocketChatApi", []emf.Dimension{{Name: "Service", Value: "chat"}})
	if err != nil {
		t.Fatal(err)
	}
	w.disconnect.Metrics = metrics
	resp, err := w.disconnect.Handle(ctx, event(t, "$disconnect", "B", authorizerContext("bob", "Name bob"), nil, ""))
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("%+v, %v", resp, err)
	}
	posts := w.api.Posts("A")
	var p protocol.Presence
	if len(posts) != 1 || json.Unmarshal(posts[0], &p) != nil || p.Event != protocol.PresenceLeft || p.UserID != "bob" || p.RoomID != "lobby" {
		t.Fatalf("A got %q, want presence left of bob", posts)
	}
	if !strings.Contains(w.log.String(), `"roomsTold":1`) {
		t.Errorf("request log %s does not count the rooms told", w.log)
	}
	// The presence broadcast counts in the fan-out metrics (FanoutFailures alarms on them).
	recs := emfRecords(t, &out)
	if len(recs) != 1 || recs[0]["FanoutDelivered"] != float64(1) || recs[0]["FanoutFailures"] != float64(0) || recs[0]["action"] != "$disconnect" {
		t.Errorf("metric records of the disconnect: %v, want one with FanoutDelivered 1", recs)
	}
	if _, err := w.store.GetMembership(ctx, "B", "lobby"); !errors.Is(err, chat.ErrNotFound) {
		t.Errorf("membership after disconnect: %v", err)
	}
}

// TestHeaderReaders checks the readers of a repeatable header: values come from
// multiValueHeaders when it has the header (in any letter case), else from headers.
func TestHeaderReaders(t *testing.T) {
	for _, tc := range []struct {
		name                  string
		read                  func(events.APIGatewayWebsocketProxyRequest) []string
		header                map[string]string
		multi                 map[string][]string
		wantMulti, wantSingle []string
	}{{
		name:       "OfferedSubprotocols",
		read:       wsevent.OfferedSubprotocols,
		header:     map[string]string{"Sec-WebSocket-Protocol": "ignored when multi-value headers exist"},
		multi:      map[string][]string{"sec-websocket-protocol": {"chat.v1, bearer.abc", " x "}},
		wantMulti:  []string{"chat.v1", "bearer.abc", "x"},
		wantSingle: []string{"ignored when multi-value headers exist"},
	}, {
		name:       "RequestOrigins, without empty values",
		read:       wsevent.RequestOrigins,
		header:     map[string]string{"Origin": "https://single.example"},
		multi:      map[string][]string{"ORIGIN": {"https://a.example", ""}},
		wantMulti:  []string{"https://a.example"},
		wantSingle: []string{"https://single.example"},
	}} {
		req := events.APIGatewayWebsocketProxyRequest{Headers: tc.header, MultiValueHeaders: tc.multi}
		if got := tc.read(req); !slices.Equal(got, tc.wantMulti) {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.wantMulti)
		}
		req.MultiValueHeaders = nil
		if got := tc.read(req); !slices.Equal(got, tc.wantSingle) {
			t.Errorf("%s, single-value header: %q, want %q", tc.name, got, tc.wantSingle)
		}
	}
}
