package gateway

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/coder/websocket"
)

var idShape = regexp.MustCompile(`^[A-Za-z0-9_-]{15}=$`)

func TestAuthorizerAllowContextReachesEveryEvent(t *testing.T) {
	h := newHarness(t, nil)
	h.lambda.set(h.names.authorizer, func(_ context.Context, ev []byte) ([]byte, error) {
		// A wildcard policy, as many authorizers write it.
		return allowPolicy("user-7", "arn:aws:execute-api:*:*:localapi01/prod/*", map[string]any{
			"userId": "user-7", "displayName": "Grace", "admin": true, "level": 3,
		}), nil
	})
	c, id := h.dial("token=abc&room=a&room=b", &websocket.DialOptions{HTTPHeader: http.Header{"User-Agent": {"gateway-test/1"}}})
	if !idShape.MatchString(id) {
		t.Fatalf("connection id %q does not look like API Gateway's (16 chars of base64 ending in =)", id)
	}

	// The authorizer event is AWS's REQUEST event for WebSocket.
	authEvents := h.lambda.events(h.names.authorizer)
	if len(authEvents) != 1 {
		t.Fatalf("authorizer invoked %d times, want 1", len(authEvents))
	}
	var authReq events.APIGatewayCustomAuthorizerRequestTypeRequest
	if err := json.Unmarshal(authEvents[0], &authReq); err != nil {
		t.Fatal(err)
	}
	if authReq.Type != "REQUEST" || authReq.MethodArn != "arn:aws:execute-api:us-east-1:000000000000:localapi01/prod/$connect" {
		t.Errorf("authorizer event type %q methodArn %q", authReq.Type, authReq.MethodArn)
	}
	if authReq.QueryStringParameters["token"] != "abc" || strings.Join(authReq.MultiValueQueryStringParameters["room"], ",") != "a,b" {
		t.Errorf("authorizer query %v / %v", authReq.QueryStringParameters, authReq.MultiValueQueryStringParameters)
	}
	if authReq.Headers["Sec-WebSocket-Version"] != "13" || authReq.Headers["Host"] == "" || authReq.Headers["X-Forwarded-Proto"] != "http" {
		t.Errorf("authorizer headers %v", authReq.Headers)
	}
	if _, ok := authReq.Headers["Connection"]; ok {
		t.Errorf("hop-by-hop header Connection reached the authorizer")
	}
	var authRaw struct {
		StageVariables map[string]string `json:"stageVariables"`
		RequestContext map[string]any    `json:"requestContext"`
	}
	if err := json.Unmarshal(authEvents[0], &authRaw); err != nil {
		t.Fatal(err)
	}
	rc := authRaw.RequestContext
	for k, want := range map[string]any{"routeKey": "$connect", "eventType": "CONNECT", "messageDirection": "IN",
		"stage": "prod", "connectionId": id, "apiId": "localapi01"} {
		if rc[k] != want {
			t.Errorf("authorizer requestContext.%s = %v, want %v", k, rc[k], want)
		}
	}
	for _, k := range []string{"extendedRequestId", "requestTime", "connectedAt", "requestTimeEpoch", "requestId", "domainName", "identity"} {
		if rc[k] == nil || rc[k] == "" {
			t.Errorf("authorizer requestContext.%s is missing", k)
		}
	}
	if authRaw.StageVariables == nil {
		t.Error("authorizer event has no stageVariables object")
	}

	// The $connect integration gets the authorizer map.
	connectReq := decodeProxy(t, h.lambda.events(h.names.connect)[0])
	if connectReq.RequestContext.EventType != "CONNECT" || connectReq.RequestContext.ConnectionID != id {
		t.Errorf("$connect event context %+v", connectReq.RequestContext)
	}
	if connectReq.RequestContext.Identity.UserAgent != "gateway-test/1" || connectReq.RequestContext.Identity.SourceIP != "127.0.0.1" {
		t.Errorf("$connect identity %+v", connectReq.RequestContext.Identity)
	}
	if connectReq.QueryStringParameters["token"] != "abc" {
		t.Errorf("$connect query %v", connectReq.QueryStringParameters)
	}

	// A later MESSAGE event carries principalId and the context, stringified.
	write(t, c, `{"action":"sendmessage","roomId":"lobby","text":"hi"}`)
	if got := read(t, c); got != `sendmessage:{"action":"sendmessage","roomId":"lobby","text":"hi"}` {
		t.Fatalf("route response %q", got)
	}
	msg := decodeProxy(t, h.lambda.events(h.names.chat)[0])
	want := map[string]any{"principalId": "user-7", "userId": "user-7", "displayName": "Grace", "admin": "true", "level": "3"}
	got, _ := msg.RequestContext.Authorizer.(map[string]any)
	for k, v := range want {
		if got[k] != v {
			t.Errorf("MESSAGE requestContext.authorizer[%s] = %#v, want %#v (all: %v)", k, got[k], v, got)
		}
	}
	if msg.RequestContext.EventType != "MESSAGE" || msg.RequestContext.RouteKey != "sendmessage" ||
		msg.RequestContext.ConnectionID != id || msg.RequestContext.MessageDirection != "IN" {
		t.Errorf("MESSAGE context %+v", msg.RequestContext)
	}
	if s, _ := msg.RequestContext.MessageID.(string); !idShape.MatchString(s) {
		t.Errorf("messageId %v", msg.RequestContext.MessageID)
	}
	if msg.Headers != nil {
		t.Errorf("MESSAGE event has headers %v; API Gateway sends none", msg.Headers)
	}

	// And so does $disconnect.
	_ = c.Close(websocket.StatusNormalClosure, "bye")
	waitFor(t, "$disconnect", func() bool { return h.lambda.count(h.names.disconnect) == 1 })
	disc := decodeProxy(t, h.lambda.events(h.names.disconnect)[0])
	if a, _ := disc.RequestContext.Authorizer.(map[string]any); a["userId"] != "user-7" {
		t.Errorf("DISCONNECT authorizer %v", disc.RequestContext.Authorizer)
	}
}

func TestAuthorizerDenyIs403(t *testing.T) {
	for name, policy := range map[string]func(arn string) []byte{
		"explicit deny": func(arn string) []byte {
			b, _ := json.Marshal(events.APIGatewayCustomAuthorizerResponse{PrincipalID: "anonymous",
				PolicyDocument: events.APIGatewayCustomAuthorizerPolicy{Version: "2012-10-17", Statement: []events.IAMPolicyStatement{
					{Action: []string{"execute-api:Invoke"}, Effect: "Allow", Resource: []string{"*"}},
					{Action: []string{"execute-api:Invoke"}, Effect: "Deny", Resource: []string{arn}},
				}}})
			return b
		},
		"allow for another route only": func(string) []byte {
			return allowPolicy("user-1", "arn:aws:execute-api:us-east-1:000000000000:localapi01/prod/$default", nil)
		},
	} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, nil)
			h.lambda.set(h.names.authorizer, decoding(func(req events.APIGatewayCustomAuthorizerRequestTypeRequest) []byte {
				return policy(req.MethodArn)
			}))
			h.refuse("token=x", http.StatusForbidden)
			h.notInvoked(h.names.connect)
		})
	}
}

func TestAuthorizerErrors(t *testing.T) {
	cases := []struct {
		name string
		fn   handler
		want int
	}{
		{"Unauthorized error is 401", fails("Unauthorized"), http.StatusUnauthorized},
		{"other function error is 500", fails("boom"), http.StatusInternalServerError},
		{"not a policy is 500", answers(`{"isAuthorized":true}`), http.StatusInternalServerError},
		{"object in context is 500", answers(string(allowPolicy("u", "*", map[string]any{"nested": map[string]any{"a": 1}}))), http.StatusInternalServerError},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, nil)
			h.lambda.set(h.names.authorizer, tc.fn)
			h.refuse("", tc.want)
			h.notInvoked(h.names.connect)
		})
	}
}

func TestIdentitySourceMissingIs401WithoutInvoking(t *testing.T) {
	api := loadAPI(t)
	api.Route("$connect").Authorizer.IdentitySource = []string{"route.request.querystring.token", "route.request.header.X-Tenant"}
	h := newHarness(t, api)

	h.refuse("token=abc", http.StatusUnauthorized)
	h.refuse("", http.StatusUnauthorized)
	h.notInvoked(h.names.authorizer)
	c, _ := h.dial("token=abc", &websocket.DialOptions{HTTPHeader: http.Header{"X-Tenant": {"t1"}}})
	defer c.CloseNow()
	if n := h.lambda.count(h.names.authorizer); n != 1 {
		t.Fatalf("authorizer invoked %d times with every identity source present, want 1", n)
	}
}

func TestConnectIntegrationDecides(t *testing.T) {
	cases := []struct {
		name string
		fn   handler
		want int
	}{
		{"non-2xx refuses with its status", answers(`{"statusCode":403,"body":"forbidden"}`), http.StatusForbidden},
		{"400 refuses", answers(`{"statusCode":400}`), http.StatusBadRequest},
		{"function error is 502", fails("store down"), http.StatusBadGateway},
		{"malformed response is 502", answers(`"ok"`), http.StatusBadGateway},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, nil)
			h.lambda.set(h.names.connect, tc.fn)
			h.refuse("", tc.want)
			if len(h.gw.Connections()) != 0 {
				t.Fatalf("connections %v open after a refused handshake", h.gw.Connections())
			}
			h.notInvoked(h.names.disconnect)
		})
	}
}

func TestNoConnectRouteAccepts(t *testing.T) {
	h := newHarness(t, withoutRoute(loadAPI(t), "$connect"))
	c, _ := h.dial("", nil)
	exchange(t, c, "ping", "$default:ping")
	h.notInvoked(h.names.authorizer)
	h.notInvoked(h.names.connect)
}

func TestSubprotocolEchoedFromConnectResponse(t *testing.T) {
	h := newHarness(t, nil)
	h.lambda.set(h.names.connect, decoding(func(req events.APIGatewayWebsocketProxyRequest) []byte {
		offered := req.Headers["Sec-WebSocket-Protocol"]
		if !strings.Contains(offered, "chat.v1") {
			return []byte(`{"statusCode":400}`)
		}
		return []byte(`{"statusCode":200,"headers":{"Sec-WebSocket-Protocol":"chat.v1","X-Extra":"yes"}}`)
	}))
	ctx := context.Background()
	c, resp, err := websocket.Dial(ctx, h.wsURL(""), &websocket.DialOptions{Subprotocols: []string{"bearer.tok", "chat.v1"}})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c.CloseNow()
	if c.Subprotocol() != "chat.v1" {
		t.Fatalf("negotiated subprotocol %q, want chat.v1", c.Subprotocol())
	}
	if resp.Header.Get("X-Extra") != "yes" {
		t.Errorf("101 lacks the $connect response header X-Extra: %v", resp.Header)
	}
	// Without the offer, the integration refuses: the client sees its status.
	h.refuse("", http.StatusBadRequest)
}

func TestNotAHandshake(t *testing.T) {
	h := newHarness(t, nil)
	for _, tc := range []struct {
		method, path string
		want         int
	}{
		{"GET", "/prod", http.StatusUpgradeRequired},
		{"GET", "/dev", http.StatusForbidden},
		{"GET", "/prod/other", http.StatusForbidden},
		{"POST", "/prod", http.StatusForbidden},
	} {
		req, _ := http.NewRequest(tc.method, h.srv.URL+tc.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%s %s: %d, want %d", tc.method, tc.path, resp.StatusCode, tc.want)
		}
	}
	h.notInvoked(h.names.authorizer)
}

func TestNewRefusesUnknownStage(t *testing.T) {
	_, err := New(Config{API: loadAPI(t), Stage: "dev", Invoker: newFakeLambda()})
	if err == nil || !strings.Contains(err.Error(), `"dev"`) {
		t.Fatalf("New with an unknown stage: %v", err)
	}
}
