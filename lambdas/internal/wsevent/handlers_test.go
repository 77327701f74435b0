package wsevent_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/chatstack/websocketchatapi/internal/chat"
	"github.com/chatstack/websocketchatapi/internal/ddblocal"
	"github.com/chatstack/websocketchatapi/internal/ddblocal/ddblocaltest"
	"github.com/chatstack/websocketchatapi/internal/dynamostore"
	"github.com/chatstack/websocketchatapi/internal/dynamostore/dynamostoretest"
	"github.com/chatstack/websocketchatapi/internal/managementapi/managementapitest"
	"github.com/chatstack/websocketchatapi/lambdas/internal/wsevent"
	"github.com/chatstack/websocketchatapi/protocol"
	"github.com/chatstack/websocketchatapi/protocol/selection"
)

// TestMain shares one DynamoDB Local between the package's tests. It starts with the first
// test that needs it, so that fuzzing (whose workers run TestMain too) does not start one per
// process.
func TestMain(m *testing.M) { ddblocaltest.Main(m) }

// world is the handlers over DynamoDB Local and a recording @connections server.
type world struct {
	t          *testing.T
	store      *dynamostore.Store
	api        *managementapitest.Server
	svc        *chat.Service
	log        *bytes.Buffer
	connect    *wsevent.ConnectHandler
	disconnect *wsevent.DisconnectHandler
	chat       *wsevent.ChatHandler
}

func newWorld(t *testing.T) *world {
	t.Helper()
	client, table := dynamostoretest.NewTable(t)
	w := &world{t: t, store: dynamostore.New(client, table), api: managementapitest.New(t, "prod"), log: &bytes.Buffer{}}
	logger := wsevent.NewLogger(w.log, -8)
	var err error
	w.svc, err = chat.NewService(w.store, w.api.Client(), chat.Options{
		Logger: logger,
		Fanout: chat.FanoutOptions{Retry: chat.RetryPolicy{BaseDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond}},
	})
	if err != nil {
		t.Fatal(err)
	}
	w.connect = &wsevent.ConnectHandler{Service: w.svc, Subprotocol: "chat.v1", Logger: logger}
	w.disconnect = &wsevent.DisconnectHandler{Service: w.svc, Logger: logger}
	w.chat = &wsevent.ChatHandler{Service: w.svc, Logger: logger}
	return w
}

// authorizerContext is what the $connect authorizer returns for a user, as API Gateway passes
// it on (after JSON decoding, the values are strings and numbers).
func authorizerContext(userID, name string) map[string]any {
	return map[string]any{
		"userId":             userID,
		"displayName":        name,
		"tokenUse":           "access",
		"tokenSource":        "protocol",
		"principalId":        userID,
		"integrationLatency": 42,
	}
}

// event builds an API Gateway WebSocket proxy event as Lambda receives it: written as the JSON
// API Gateway sends, decoded by encoding/json into the aws-lambda-go type.
func event(t *testing.T, routeKey, connID string, authorizer map[string]any, headers map[string]string, body string) events.APIGatewayWebsocketProxyRequest {
	t.Helper()
	eventType := map[string]string{"$connect": "CONNECT", "$disconnect": "DISCONNECT"}[routeKey]
	if eventType == "" {
		eventType = "MESSAGE"
	}
	rc := map[string]any{
		"routeKey":          routeKey,
		"eventType":         eventType,
		"extendedRequestId": "ext-" + connID,
		"requestTime":       "21/Nov/2026:10:00:00 +0000",
		"messageDirection":  "IN",
		"stage":             "prod",
		"connectedAt":       1795255200000,
		"requestTimeEpoch":  1795255200123,
		"identity":          map[string]any{"sourceIp": "192.0.2.1", "userAgent": "Mozilla/5.0"},
		"requestId":         "req-" + connID,
		"domainName":        "abc123.execute-api.us-east-1.amazonaws.com",
		"connectionId":      connID,
		"apiId":             "abc123",
	}
	if authorizer != nil {
		rc["authorizer"] = authorizer
	}
	if eventType == "MESSAGE" {
		rc["messageId"] = "msg-" + connID
	}
	ev := map[string]any{"requestContext": rc, "isBase64Encoded": false}
	if headers != nil {
		ev["headers"] = headers
		mv := map[string][]string{}
		for k, v := range headers {
			mv[k] = []string{v}
		}
		ev["multiValueHeaders"] = mv
	}
	if body != "" {
		ev["body"] = body
	}
	raw, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	var req events.APIGatewayWebsocketProxyRequest
	if err := json.Unmarshal(raw, &req); err != nil {
		t.Fatal(err)
	}
	return req
}

func connectHeaders(protocols string) map[string]string {
	h := map[string]string{
		"Host":                     "abc123.execute-api.us-east-1.amazonaws.com",
		"Sec-WebSocket-Extensions": "permessage-deflate; client_max_window_bits",
		"Sec-WebSocket-Key":        "dGhlIHNhbXBsZSBub25jZQ==",
		"Sec-WebSocket-Version":    "13",
		"X-Forwarded-For":          "192.0.2.1",
		"X-User-Id":                "mallory", // anything but the authorizer context is ignored
	}
	if protocols != "" {
		h["Sec-WebSocket-Protocol"] = protocols
	}
	return h
}

// open runs $connect for a user and fails the test unless it succeeds.
func (w *world) open(connID, userID string) {
	w.t.Helper()
	resp, err := w.connect.Handle(context.Background(), event(w.t, "$connect", connID, authorizerContext(userID, "Name "+userID), connectHeaders("chat.v1"), ""))
	if err != nil || resp.StatusCode != http.StatusOK {
		w.t.Fatalf("connect %s: %+v, %v", connID, resp, err)
	}
}

// send runs a chat action and decodes the frame of its response.
func (w *world) send(connID, userID, routeKey, body string) map[string]any {
	w.t.Helper()
	var auth map[string]any
	if userID != "" {
		auth = authorizerContext(userID, "Name "+userID)
	}
	resp, err := w.chat.Handle(context.Background(), event(w.t, routeKey, connID, auth, nil, body))
	if err != nil {
		w.t.Fatalf("%s: handler returned an error: %v", routeKey, err)
	}
	if resp.StatusCode != http.StatusOK {
		w.t.Fatalf("%s: status %d, want 200 always", routeKey, resp.StatusCode)
	}
	var frame map[string]any
	if err := json.Unmarshal([]byte(resp.Body), &frame); err != nil {
		w.t.Fatalf("%s: body %q is not a JSON frame", routeKey, resp.Body)
	}
	return frame
}

func TestConnectEchoesSubprotocolAndStoresAuthorizerIdentity(t *testing.T) {
	w := newWorld(t)
	req := event(t, "$connect", "Bp1FheCfoAMCIbQ=", authorizerContext("u-123", "Alice"), connectHeaders("chat.v1, bearer.eyJhbGciOiJSUzI1NiJ9.e30.sig"), "")
	req.QueryStringParameters = map[string]string{"userId": "mallory"}
	resp, err := w.connect.Handle(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || resp.Headers["Sec-WebSocket-Protocol"] != "chat.v1" {
		t.Fatalf("response %+v: want 200 with Sec-WebSocket-Protocol: chat.v1", resp)
	}
	c, err := w.store.GetConnection(context.Background(), "Bp1FheCfoAMCIbQ=")
	if err != nil {
		t.Fatal(err)
	}
	if c.UserID != "u-123" || c.DisplayName != "Alice" {
		t.Errorf("stored %+v: want the authorizer's u-123 / Alice", c)
	}
	if d := time.Until(c.ExpiresAt); d < 2*time.Hour || d > 2*time.Hour+11*time.Minute {
		t.Errorf("expires in %v, want about 2h10m", d)
	}
	if len(w.api.Requests()) != 0 {
		t.Error("$connect posted to the connection")
	}
	if strings.Contains(w.log.String(), "eyJhbGci") {
		t.Error("the bearer token offered as a subprotocol reached the log")
	}
}

func TestConnectSubprotocolNegotiation(t *testing.T) {
	w := newWorld(t)
	tests := []struct {
		name      string
		headers   map[string]string
		status    int
		echo      string
		wantStore bool
	}{
		{"not offered", connectHeaders(""), 200, "", true},
		{"only ours", connectHeaders("chat.v1"), 200, "chat.v1", true},
		{"lower-case header, ours second", map[string]string{"sec-websocket-protocol": "bearer.x,chat.v1"}, 200, "chat.v1", true},
		{"foreign only", connectHeaders("mqtt, chat.v2"), 400, "", false},
	}
	for i, tt := range tests {
		id := fmt.Sprintf("conn-%d", i)
		resp, err := w.connect.Handle(context.Background(), event(t, "$connect", id, authorizerContext("u1", "U"), tt.headers, ""))
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != tt.status || resp.Headers["Sec-WebSocket-Protocol"] != tt.echo {
			t.Errorf("%s: %d %v, want %d echoing %q", tt.name, resp.StatusCode, resp.Headers, tt.status, tt.echo)
		}
		if tt.status == 400 && !strings.Contains(resp.Body, `"chat.v1"`) {
			t.Errorf("%s: body %q does not say which subprotocol to offer", tt.name, resp.Body)
		}
		_, err = w.store.GetConnection(context.Background(), id)
		if stored := err == nil; stored != tt.wantStore {
			t.Errorf("%s: stored = %v, want %v (%v)", tt.name, stored, tt.wantStore, err)
		}
	}
}

func TestConnectIdentityCases(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	// No authorizer (authentication disabled): anonymous.
	resp, _ := w.connect.Handle(ctx, event(t, "$connect", "anon1", nil, connectHeaders(""), ""))
	c, err := w.store.GetConnection(ctx, "anon1")
	if resp.StatusCode != 200 || err != nil || c.UserID != "anon-anon1" {
		t.Errorf("anonymous connect: %d, %+v, %v; want user anon-anon1", resp.StatusCode, c, err)
	}
	// An authorizer context without a user is refused.
	resp, _ = w.connect.Handle(ctx, event(t, "$connect", "nouser", map[string]any{"tokenUse": "access"}, connectHeaders(""), ""))
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("authorizer without userId: %d, want 403", resp.StatusCode)
	}
	if _, err := w.store.GetConnection(ctx, "nouser"); !errors.Is(err, chat.ErrNotFound) {
		t.Errorf("refused connection was stored: %v", err)
	}
}

func TestConnectStoreFailureIs500(t *testing.T) {
	ctx := context.Background()
	client, err := ddblocal.NewClient(ddblocaltest.Endpoint(t))
	if err != nil {
		t.Fatal(err)
	}
	svc, err := chat.NewService(dynamostore.New(client, "no-such-table"), nil, chat.Options{})
	if err != nil {
		t.Fatal(err)
	}
	h := &wsevent.ConnectHandler{Service: svc, Subprotocol: "chat.v1"}
	resp, err := h.Handle(ctx, event(t, "$connect", "c1", authorizerContext("u1", "U"), connectHeaders("chat.v1"), ""))
	if err != nil || resp.StatusCode != http.StatusInternalServerError {
		t.Fatalf("got %+v, %v; want 500", resp, err)
	}
}

func TestDisconnectIsIdempotent(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.open("A", "alice")
	w.send("A", "alice", "joinroom", `{"action":"joinroom","roomId":"r1"}`)
	for i := range 2 {
		req := event(t, "$disconnect", "A", authorizerContext("alice", "Alice"), nil, "")
		req.RequestContext.DisconnectStatusCode = 1001
		resp, err := w.disconnect.Handle(ctx, req)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("disconnect %d: %+v, %v", i+1, resp, err)
		}
	}
	if _, err := w.store.GetConnection(ctx, "A"); !errors.Is(err, chat.ErrNotFound) {
		t.Errorf("connection after disconnect: %v", err)
	}
	if _, err := w.store.GetMembership(ctx, "A", "r1"); !errors.Is(err, chat.ErrNotFound) {
		t.Errorf("membership after disconnect: %v", err)
	}
}

func TestChatHandlerFlow(t *testing.T) {
	w := newWorld(t)
	w.open("A", "alice")
	w.open("B", "bob")
	if f := w.send("A", "alice", "joinroom", `{"action":"joinroom","roomId":"lobby"}`); f["type"] != "joined" || f["roomId"] != "lobby" {
		t.Fatalf("joinroom: %v", f)
	}
	w.send("B", "bob", "joinroom", `{"action":"joinroom","roomId":"lobby"}`)
	w.api.Reset()

	f := w.send("A", "alice", "sendmessage", `{"action":"sendmessage","roomId":"lobby","text":"hi bob","clientMessageId":"c1"}`)
	if f["type"] != "ack" || f["clientMessageId"] != "c1" || f["delivered"] != 1.0 || f["undelivered"] != 0.0 || f["gone"] != 0.0 {
		t.Fatalf("ack: %v", f)
	}
	posts := w.api.Posts("B")
	if len(posts) != 1 {
		t.Fatalf("B got %d frames", len(posts))
	}
	var msg protocol.Message
	_ = json.Unmarshal(posts[0], &msg)
	if msg.UserID != "alice" || msg.Text != "hi bob" || msg.DisplayName != "Name alice" {
		t.Errorf("B got %+v", msg)
	}
	if h := w.send("B", "bob", "history", `{"action":"history","roomId":"lobby","limit":5}`); h["type"] != "history" || len(h["messages"].([]any)) != 1 {
		t.Errorf("history: %v", h)
	}
	if f := w.send("B", "bob", "leaveroom", `{"action":"leaveroom","roomId":"lobby"}`); f["type"] != "left" {
		t.Errorf("leaveroom: %v", f)
	}

	// The request's one log line carries the identifiers.
	var found bool
	for _, line := range strings.Split(strings.TrimSpace(w.log.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q is not JSON", line)
		}
		if rec["msg"] == "request" && rec["routeKey"] == "sendmessage" {
			found = true
			if rec["connectionId"] != "A" || rec["userId"] != "alice" || rec["outcome"] != "ok" || rec["apiRequestId"] != "req-A" || rec["delivered"] != 1.0 {
				t.Errorf("request log line %v", rec)
			}
		}
	}
	if !found {
		t.Errorf("no request log line for sendmessage in %s", w.log)
	}
}

func TestChatHandlerErrors(t *testing.T) {
	w := newWorld(t)
	w.open("A", "alice")
	w.send("A", "alice", "joinroom", `{"roomId":"r1"}`)
	tests := []struct {
		name, conn, user, route, body, code, mention string
	}{
		{"non-JSON", "A", "alice", "sendmessage", `hello`, protocol.CodeInvalidJSON, "JSON"},
		{"missing field", "A", "alice", "sendmessage", `{"action":"sendmessage","roomId":"r1"}`, protocol.CodeInvalidRequest, "text"},
		{"bad room", "A", "alice", "joinroom", `{"roomId":"#nope"}`, protocol.CodeInvalidRequest, "/roomId"},
		{"not member", "A", "alice", "sendmessage", `{"roomId":"r2","text":"x"}`, protocol.CodeNotMember, "r2"},
		{"unknown connection", "Z", "zed", "sendmessage", `{"roomId":"r1","text":"x"}`, protocol.CodeUnauthorized, "connection"},
		{"another user's connection", "A", "mallory", "history", `{"roomId":"r1"}`, protocol.CodeUnauthorized, "another user"},
		{"unknown route", "A", "alice", "shout", `{"roomId":"r1"}`, protocol.CodeUnknownAction, "shout"},
	}
	for _, tt := range tests {
		f := w.send(tt.conn, tt.user, tt.route, tt.body)
		if f["type"] != "error" || f["code"] != tt.code || !strings.Contains(fmt.Sprint(f["message"]), tt.mention) {
			t.Errorf("%s: %v, want code %s mentioning %q", tt.name, f, tt.code, tt.mention)
		}
	}
}

func TestChatHandlerBase64Body(t *testing.T) {
	w := newWorld(t)
	w.open("A", "alice")
	req := event(t, "joinroom", "A", authorizerContext("alice", "A"), nil, base64.StdEncoding.EncodeToString([]byte(`{"roomId":"b64"}`)))
	req.IsBase64Encoded = true
	resp, _ := w.chat.Handle(context.Background(), req)
	if !strings.Contains(resp.Body, `"joined"`) {
		t.Errorf("base64 body: %s", resp.Body)
	}
}

func TestChatHandlerPanicBecomesInternalError(t *testing.T) {
	var buf bytes.Buffer
	h := &wsevent.ChatHandler{Logger: wsevent.NewLogger(&buf, 0)} // no Service: it panics
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "lambda-req-1"})
	resp, err := h.Handle(ctx, event(t, "sendmessage", "A", authorizerContext("alice", "A"), nil, `{"roomId":"r","text":"x"}`))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("%+v, %v: want 200 and no error", resp, err)
	}
	var f protocol.Error
	_ = json.Unmarshal([]byte(resp.Body), &f)
	if f.Type != "error" || f.Code != protocol.CodeInternal || f.Action != "sendmessage" {
		t.Errorf("frame %s", resp.Body)
	}
	if !strings.Contains(buf.String(), `"requestId":"lambda-req-1"`) || !strings.Contains(buf.String(), `"msg":"panic"`) {
		t.Errorf("the panic was not logged with the request id: %s", buf.String())
	}
}

func TestDefaultHandler(t *testing.T) {
	actions := []string{"sendmessage", "joinroom", "leaveroom", "history", "typing"}
	sel, err := selection.Parse("$request.body.action")
	if err != nil {
		t.Fatal(err)
	}
	h := &wsevent.DefaultHandler{RouteSelection: sel, Actions: actions}
	tests := []struct {
		body, code, action string
		base64             bool
	}{
		{`{"action":"shout","roomId":"r1"}`, protocol.CodeUnknownAction, "shout", false},
		{`{"action":42}`, protocol.CodeUnknownAction, "42", false},
		{`{"roomId":"r1"}`, protocol.CodeUnknownAction, "", false},
		{`[1,2]`, protocol.CodeUnknownAction, "", false},
		{`hello there`, protocol.CodeInvalidJSON, "", false},
		{`{"action":`, protocol.CodeInvalidJSON, "", false},
		{`{"action":"dance"}`, protocol.CodeUnknownAction, "dance", true},
	}
	for _, tt := range tests {
		body := tt.body
		if tt.base64 {
			body = base64.StdEncoding.EncodeToString([]byte(body))
		}
		req := event(t, "$default", "A", nil, nil, body)
		req.IsBase64Encoded = tt.base64
		resp, err := h.Handle(context.Background(), req)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s: %+v %v", tt.body, resp, err)
		}
		var f protocol.Error
		if err := json.Unmarshal([]byte(resp.Body), &f); err != nil {
			t.Fatal(err)
		}
		if f.Type != "error" || f.Code != tt.code || f.Action != tt.action || strings.Join(f.ValidActions, ",") != strings.Join(actions, ",") {
			t.Errorf("%s: %s, want code %s action %q and validActions", tt.body, resp.Body, tt.code, tt.action)
		}
		if tt.action != "" && !strings.Contains(f.Message, tt.action) {
			t.Errorf("%s: message %q does not name the action", tt.body, f.Message)
		}
	}

	// A client's action of 100 KB (a message may be 128 KB) is echoed clipped: the error frame
	// stays under API Gateway's cap, which applies to route responses too.
	long := strings.Repeat("\u2028", 100*1024/6)
	resp0, _ := h.Handle(context.Background(), event(t, "$default", "A", nil, nil, `{"action":"`+long+`"}`))
	var clipped protocol.Error
	if err := json.Unmarshal([]byte(resp0.Body), &clipped); err != nil || len(resp0.Body) > protocol.MaxMessageBytes ||
		clipped.Action != strings.Repeat("\u2028", protocol.MaxEchoLength)+"…" {
		t.Errorf("a 100 KB action: %d-byte answer, action of %d bytes (%v)", len(resp0.Body), len(clipped.Action), err)
	}

	// Another route selection expression.
	sel, _ = selection.Parse("${request.body.kind}.${request.body.op}")
	h = &wsevent.DefaultHandler{RouteSelection: sel, Actions: []string{"room.join"}}
	resp, _ := h.Handle(context.Background(), event(t, "$default", "A", nil, nil, `{"kind":"room","op":"explode"}`))
	if !strings.Contains(resp.Body, `"action":"room.explode"`) {
		t.Errorf("template expression: %s", resp.Body)
	}
}

// iamEvent is event for a connection that API Gateway authorized with AWS_IAM: no authorizer
// context, the caller in requestContext.identity as API Gateway reports a role session.
func iamEvent(t *testing.T, routeKey, connID, userArn, body string) events.APIGatewayWebsocketProxyRequest {
	t.Helper()
	req := event(t, routeKey, connID, nil, connectHeaders(""), body)
	req.RequestContext.Identity.UserArn = userArn
	req.RequestContext.Identity.Caller = "AROAEXAMPLEROLEID:" + userArn[strings.LastIndex(userArn, "/")+1:]
	req.RequestContext.Identity.AccountID = "123456789012"
	req.RequestContext.Identity.AccessKey = "ASIAEXAMPLEKEY"
	return req
}

// TestIAMCallerIsTheUser: with AWS_IAM on $connect, the connect and chat handlers take the
// user from the caller's principal ARN; a userId in the message body changes nothing.
func TestIAMCallerIsTheUser(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	device := "arn:aws:sts::123456789012:assumed-role/Device/thing-42"
	resp, err := w.connect.Handle(ctx, iamEvent(t, "$connect", "D", device, ""))
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("IAM connect: %+v, %v", resp, err)
	}
	c, err := w.store.GetConnection(ctx, "D")
	if err != nil || c.UserID != device || c.DisplayName != "thing-42" {
		t.Fatalf("stored %+v, %v; want %s / thing-42", c, err, device)
	}
	w.open("B", "bob")
	w.send("B", "bob", "joinroom", `{"action":"joinroom","roomId":"lobby"}`)
	for _, action := range []string{`{"action":"joinroom","roomId":"lobby"}`, `{"action":"sendmessage","roomId":"lobby","text":"hi","clientMessageId":"m1","userId":"mallory"}`} {
		route := "joinroom"
		if strings.Contains(action, "sendmessage") {
			route = "sendmessage"
		}
		resp, err := w.chat.Handle(ctx, iamEvent(t, route, "D", device, action))
		if err != nil || !strings.Contains(resp.Body, `"type"`) || strings.Contains(resp.Body, `"error"`) {
			t.Fatalf("%s: %+v, %v", route, resp, err)
		}
	}
	var msg protocol.Message
	posts := w.api.Posts("B")
	if len(posts) == 0 || json.Unmarshal(posts[len(posts)-1], &msg) != nil || msg.UserID != device || msg.DisplayName != "thing-42" {
		t.Errorf("bob got %s, want a message from %s", posts, device)
	}
	// A malformed caller is refused at $connect.
	resp, _ = w.connect.Handle(ctx, iamEvent(t, "$connect", "X", "not-an-arn/x", ""))
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("malformed userArn: %d, want 403", resp.StatusCode)
	}
}
