package gateway

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/coder/websocket"

	"github.com/chatstack/websocketchatapi/integ/internal/assembly"
)

// Key values of keyedHarness's plans.
const (
	keyQuota     = "quota-key-0123456789"     // plan "two a day": quota 2 per DAY
	keyThrottled = "throttled-key-0123456789" // plan "slow": burst 1, one request per 1000 s
	keyDisabled  = "disabled-key-0123456789"  // in "two a day", Enabled false
	keyGenerated = "generated-by-the-runner"  // no Value in the template: Config.APIKeyValues
	keyOtherAPI  = "other-stage-key-0123456"  // in a plan of another stage
)

// keyedHarness serves the reference API with $connect requiring a key chosen by expr, and the
// usage plans of the constants above.
func keyedHarness(t *testing.T, expr string, requireOn ...string) *harness {
	t.Helper()
	api := loadAPI(t)
	api.APIKeySelectionExpression = expr
	for _, key := range append([]string{"$connect"}, requireOn...) {
		api.Route(key).APIKeyRequired = true
	}
	key := func(id, value string, enabled bool) *assembly.APIKey {
		return &assembly.APIKey{LogicalID: id, ID: id, Value: value, Enabled: enabled}
	}
	stage := []assembly.UsagePlanStage{{APIID: api.ID, Stage: "prod"}}
	plans := []*assembly.UsagePlan{
		{LogicalID: "TwoADay", Stages: stage, Quota: &assembly.UsagePlanQuota{Limit: 2, Period: "DAY"},
			Keys: []*assembly.APIKey{key("q", keyQuota, true), key("d", keyDisabled, false)}},
		{LogicalID: "Slow", Stages: stage, Throttle: &assembly.UsagePlanThrottle{RateLimit: 0.001, BurstLimit: 1},
			Keys: []*assembly.APIKey{key("t", keyThrottled, true), key("g", "", true)}},
		{LogicalID: "Elsewhere", Stages: []assembly.UsagePlanStage{{APIID: api.ID, Stage: "dev"}},
			Keys: []*assembly.APIKey{key("o", keyOtherAPI, true)}},
	}
	return newHarness(t, api, func(c *Config) {
		c.UsagePlans = plans
		c.APIKeyValues = map[string]string{"g": keyGenerated}
	})
}

// dialKey dials with x-api-key (none when key is ""), returning the connection or the refusal.
func (h *harness) dialKey(key string) (*websocket.Conn, int, string) {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	opts := &websocket.DialOptions{HTTPHeader: http.Header{}}
	if key != "" {
		opts.HTTPHeader.Set("x-api-key", key)
	}
	c, resp, err := websocket.Dial(ctx, h.wsURL("token=x"), opts)
	if err == nil {
		h.t.Cleanup(func() { _ = c.CloseNow() })
		return c, http.StatusSwitchingProtocols, ""
	}
	if resp == nil {
		h.t.Fatalf("dial failed without a response: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	return nil, resp.StatusCode, resp.Header.Get("x-amzn-ErrorType") + " " + string(body)
}

// TestAPIKeyOnConnect: a handshake without a key, with an unknown, disabled or other-stage key
// is refused 403 Forbidden before the $connect integration runs; a good key is served; a spent
// quota and an empty throttle bucket answer 429 with API Gateway's messages.
func TestAPIKeyOnConnect(t *testing.T) {
	h := keyedHarness(t, keyFromHeader)
	for _, key := range []string{"", "unknown-key-0123456789", keyDisabled, keyOtherAPI} {
		if _, status, body := h.dialKey(key); status != http.StatusForbidden || body != `ForbiddenException {"message":"Forbidden"}` {
			t.Errorf("key %q: %d %s, want 403 ForbiddenException {\"message\":\"Forbidden\"}", key, status, body)
		}
	}
	h.notInvoked(h.names.connect)

	for i := range 2 {
		if _, status, body := h.dialKey(keyQuota); status != http.StatusSwitchingProtocols {
			t.Fatalf("quota key, connect %d: %d %s", i+1, status, body)
		}
	}
	if _, status, body := h.dialKey(keyQuota); status != http.StatusTooManyRequests || body != `LimitExceededException {"message":"Limit Exceeded"}` {
		t.Errorf("third connect of a 2-a-day key: %d %s, want 429 Limit Exceeded", status, body)
	}

	if _, status, _ := h.dialKey(keyThrottled); status != http.StatusSwitchingProtocols {
		t.Fatalf("throttled key, first connect: %d", status)
	}
	if _, status, body := h.dialKey(keyThrottled); status != http.StatusTooManyRequests || body != `TooManyRequestsException {"message":"Too Many Requests"}` {
		t.Errorf("second connect within the burst of 1: %d %s, want 429 Too Many Requests", status, body)
	}
	// The generated key's value came from Config.APIKeyValues; it shares the slow bucket's
	// settings but not its tokens.
	if _, status, body := h.dialKey(keyGenerated); status != http.StatusSwitchingProtocols {
		t.Errorf("generated key: %d %s", status, body)
	}
}

// TestAPIKeyFromAuthorizer: with $context.authorizer.usageIdentifierKey the key is the
// authorizer's usageIdentifierKey; a route that requires a key checks the connection's key
// on every message, and a spent quota answers the message with API Gateway's frame.
func TestAPIKeyFromAuthorizer(t *testing.T) {
	h := keyedHarness(t, keyFromAuthorizer, "sendmessage")
	key := keyQuota
	h.lambda.set(h.names.authorizer, decoding(func(req events.APIGatewayCustomAuthorizerRequestTypeRequest) []byte {
		var resp events.APIGatewayCustomAuthorizerResponse
		_ = json.Unmarshal(allowPolicy("user-1", req.MethodArn, nil), &resp)
		resp.UsageIdentifierKey = key
		b, _ := json.Marshal(resp)
		return b
	}))
	c, status, body := h.dialKey("") // no header: the authorizer's key counts
	if status != http.StatusSwitchingProtocols {
		t.Fatalf("connect: %d %s", status, body)
	}
	// The connect used 1 of 2: one message passes, the next is over the quota.
	write(t, c, `{"action":"sendmessage","roomId":"r1","text":"a"}`)
	if got := read(t, c); got != `sendmessage:{"action":"sendmessage","roomId":"r1","text":"a"}` {
		t.Errorf("first message: %s", got)
	}
	write(t, c, `{"action":"sendmessage","roomId":"r1","text":"b"}`)
	if got := read(t, c); !strings.HasPrefix(got, `{"message": "Limit Exceeded", "connectionId":"`) {
		t.Errorf("message over the quota: %s, want the Limit Exceeded frame", got)
	}

	key = "unknown-key-0123456789"
	if _, status, _ := h.dialKey(keyQuota); status != http.StatusForbidden {
		t.Errorf("authorizer returning an unknown key (the header is not read): %d, want 403", status)
	}
}

func TestKeyInTwoPlansOfOneStageIsRefused(t *testing.T) {
	k := &assembly.APIKey{LogicalID: "K", ID: "k", Value: "v", Enabled: true}
	stage := []assembly.UsagePlanStage{{APIID: "api", Stage: "prod"}}
	_, err := newKeyring([]*assembly.UsagePlan{{LogicalID: "A", Stages: stage, Keys: []*assembly.APIKey{k}},
		{LogicalID: "B", Stages: stage, Keys: []*assembly.APIKey{k}}}, nil, "api", "prod")
	if err == nil {
		t.Error("a key in two plans of one stage was accepted")
	}
}
