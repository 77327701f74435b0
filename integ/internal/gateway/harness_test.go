package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/coder/websocket"

	"github.com/chatstack/websocketchatapi/integ/internal/assembly"
	"github.com/chatstack/websocketchatapi/integ/internal/golden"
)

// loadAPI loads a fresh model of the reference stack's API, which a test may change.
func loadAPI(t *testing.T) *assembly.WebSocketAPI {
	t.Helper()
	st, err := assembly.LoadTemplate(golden.Path(t), assembly.Options{})
	if err != nil {
		t.Fatalf("load template: %v", err)
	}
	api := st.API()
	if api == nil {
		t.Fatal("reference stack has no single WebSocket API")
	}
	return api
}

// withoutRoute removes the route of key from api and returns api.
func withoutRoute(api *assembly.WebSocketAPI, key string) *assembly.WebSocketAPI {
	api.Routes = slices.DeleteFunc(api.Routes, func(r *assembly.Route) bool { return r.Key == key })
	return api
}

// functionNames are the reference stack's function names, by role.
type functionNames struct {
	authorizer, connect, disconnect, def, chat string
}

func namesOf(t *testing.T, api *assembly.WebSocketAPI) functionNames {
	t.Helper()
	// A test variant may have removed a route: its name is then "" (and unused).
	fn := func(key string) string {
		r := api.Route(key)
		if r == nil || r.Integration == nil || r.Integration.Function == nil {
			return ""
		}
		return r.Integration.Function.Name
	}
	n := functionNames{connect: fn("$connect"), disconnect: fn("$disconnect"), def: fn("$default"), chat: fn("sendmessage")}
	if c := api.Route("$connect"); c != nil && c.Authorizer != nil && c.Authorizer.Function != nil {
		n.authorizer = c.Authorizer.Function.Name
	}
	if n.chat == "" || n.disconnect == "" {
		t.Fatal("the API lacks the reference stack's sendmessage or $disconnect integration")
	}
	return n
}

// handler stands in for a Lambda function in these tests.
type handler func(ctx context.Context, event []byte) ([]byte, error)

// fakeLambda is an Invoker of Go funcs keyed by function name, recording every event.
type fakeLambda struct {
	mu    sync.Mutex
	fns   map[string]handler
	calls map[string][][]byte
}

func newFakeLambda() *fakeLambda {
	return &fakeLambda{fns: map[string]handler{}, calls: map[string][][]byte{}}
}

func (f *fakeLambda) set(name string, h handler) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fns[name] = h
}

func (f *fakeLambda) Invoke(ctx context.Context, name string, payload []byte) ([]byte, error) {
	f.mu.Lock()
	h := f.fns[name]
	f.calls[name] = append(f.calls[name], payload)
	f.mu.Unlock()
	if h == nil {
		return nil, fmt.Errorf("fake lambda: no function %q", name)
	}
	return h(ctx, payload)
}

// events returns the events function received so far.
func (f *fakeLambda) events(name string) [][]byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([][]byte(nil), f.calls[name]...)
}

func (f *fakeLambda) count(name string) int { return len(f.events(name)) }

// decoding is a function that decodes its event as an E (a WebSocket proxy request, an
// authorizer's REQUEST event) and answers f of it.
func decoding[E any](f func(req E) []byte) handler {
	return func(_ context.Context, ev []byte) ([]byte, error) {
		var req E
		if err := json.Unmarshal(ev, &req); err != nil {
			return nil, err
		}
		return f(req), nil
	}
}

// answers is a function that returns body.
func answers(body string) handler {
	return func(context.Context, []byte) ([]byte, error) { return []byte(body), nil }
}

// fails is a function that fails with errorType errorString and message.
func fails(message string) handler {
	return func(context.Context, []byte) ([]byte, error) {
		return nil, &FunctionError{Type: "errorString", Message: message}
	}
}

// proxyOK answers a proxy response with statusCode 200 and body.
func proxyOK(body string) []byte {
	b, _ := json.Marshal(events.APIGatewayProxyResponse{StatusCode: 200, Body: body})
	return b
}

// allowPolicy is an authorizer answer that allows resource with context.
func allowPolicy(principal, resource string, context map[string]any) []byte {
	b, _ := json.Marshal(events.APIGatewayCustomAuthorizerResponse{
		PrincipalID: principal,
		PolicyDocument: events.APIGatewayCustomAuthorizerPolicy{
			Version:   "2012-10-17",
			Statement: []events.IAMPolicyStatement{{Action: []string{"execute-api:Invoke"}, Effect: "Allow", Resource: []string{resource}}},
		},
		Context: context,
	})
	return b
}

// syncBuffer is a log sink safe for concurrent writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// harness is a Gateway over the reference API behind an httptest server, with default
// functions: the authorizer allows (context userId), $connect accepts and returns the
// connection id in X-Connection-Id, the others answer 200 with an echo of route and body.
type harness struct {
	t      *testing.T
	api    *assembly.WebSocketAPI
	names  functionNames
	lambda *fakeLambda
	gw     *Gateway
	srv    *httptest.Server
	logs   *syncBuffer
}

func newHarness(t *testing.T, api *assembly.WebSocketAPI, configure ...func(*Config)) *harness {
	t.Helper()
	if api == nil {
		api = loadAPI(t)
	}
	h := &harness{t: t, api: api, names: namesOf(t, api), lambda: newFakeLambda(), logs: &syncBuffer{}}
	h.lambda.set(h.names.authorizer, decoding(func(req events.APIGatewayCustomAuthorizerRequestTypeRequest) []byte {
		return allowPolicy("user-1", req.MethodArn, map[string]any{"userId": "user-1", "displayName": "Ada"})
	}))
	h.lambda.set(h.names.connect, decoding(func(req events.APIGatewayWebsocketProxyRequest) []byte {
		b, _ := json.Marshal(events.APIGatewayProxyResponse{StatusCode: 200,
			Headers: map[string]string{"X-Connection-Id": req.RequestContext.ConnectionID}})
		return b
	}))
	h.lambda.set(h.names.disconnect, answers(string(proxyOK(""))))
	echo := decoding(func(req events.APIGatewayWebsocketProxyRequest) []byte {
		return proxyOK(req.RequestContext.RouteKey + ":" + req.Body)
	})
	h.lambda.set(h.names.def, echo)
	h.lambda.set(h.names.chat, echo)

	cfg := Config{
		API:     api,
		Stage:   "prod",
		Invoker: h.lambda,
		Logger:  slog.New(slog.NewJSONHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	for _, f := range configure {
		f(&cfg)
	}
	gw, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	h.gw = gw
	h.srv = httptest.NewServer(gw)
	t.Cleanup(func() {
		if err := gw.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		h.srv.Close()
	})
	return h
}

// wsURL is the stage URL with an optional query.
func (h *harness) wsURL(query string) string {
	u := "ws" + strings.TrimPrefix(h.srv.URL, "http") + "/prod"
	if query != "" {
		u += "?" + query
	}
	return u
}

// dial connects and returns the connection and its id.
func (h *harness) dial(query string, opts *websocket.DialOptions) (*websocket.Conn, string) {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, h.wsURL(query), opts)
	if err != nil {
		h.t.Fatalf("dial: %v", err)
	}
	h.t.Cleanup(func() { _ = c.CloseNow() })
	c.SetReadLimit(4 * MaxMessageBytes)
	return c, resp.Header.Get("X-Connection-Id")
}

// dialStatus dials a handshake that must be refused and returns the HTTP status.
func (h *harness) dialStatus(query string) int {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, h.wsURL(query), nil)
	if err == nil {
		_ = c.CloseNow()
		h.t.Fatal("dial succeeded, want the handshake refused")
	}
	if resp == nil {
		h.t.Fatalf("dial failed without a response: %v", err)
	}
	return resp.StatusCode
}

// refuse dials a handshake with query, which must be refused with status.
func (h *harness) refuse(query string, status int) {
	h.t.Helper()
	if got := h.dialStatus(query); got != status {
		h.t.Fatalf("handshake ?%s: status %d, want %d", query, got, status)
	}
}

// notInvoked fails the test if function ran.
func (h *harness) notInvoked(function string) {
	h.t.Helper()
	if n := h.lambda.count(function); n != 0 {
		h.t.Fatalf("%s invoked %d times, want none", function, n)
	}
}

// read reads one text message within 5 s.
func read(t *testing.T, c *websocket.Conn) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	typ, b, err := c.Read(ctx)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if typ != websocket.MessageText {
		t.Fatalf("read a %v message, want text", typ)
	}
	return string(b)
}

// exchange writes msg and fails the test unless the next message is want.
func exchange(t *testing.T, c *websocket.Conn, msg, want string) {
	t.Helper()
	write(t, c, msg)
	if got := read(t, c); got != want {
		t.Fatalf("sent %q: got %q, want %q", msg, got, want)
	}
}

// awsFrame matches the frame that API Gateway itself sends with message to connection id;
// idKey names the frame's other id: requestId, or messageId for "Bad request body".
func awsFrame(message, id, idKey string) *regexp.Regexp {
	return regexp.MustCompile(`^\{"message": "` + message + `", "connectionId":"` + regexp.QuoteMeta(id) + `", "` + idKey + `":"[A-Za-z0-9_-]{15}="\}$`)
}

// write writes one text message.
func write(t *testing.T, c *websocket.Conn, msg string) {
	t.Helper()
	writeMessage(t, c, websocket.MessageText, []byte(msg))
}

// writeMessage writes one message of type typ in one frame.
func writeMessage(t *testing.T, c *websocket.Conn, typ websocket.MessageType, data []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Write(ctx, typ, data); err != nil {
		t.Fatalf("write: %v", err)
	}
}

// readClose reads until the connection closes and returns the close status and reason.
func readClose(t *testing.T, c *websocket.Conn) (websocket.StatusCode, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		_, _, err := c.Read(ctx)
		if err == nil {
			continue
		}
		var ce websocket.CloseError
		if !errors.As(err, &ce) {
			t.Fatalf("connection ended without a close frame: %v", err)
		}
		return ce.Code, ce.Reason
	}
}

// waitFor polls cond for up to 5 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// decodeProxy decodes an event into aws-lambda-go's WebSocket event type.
func decodeProxy(t *testing.T, ev []byte) events.APIGatewayWebsocketProxyRequest {
	t.Helper()
	var req events.APIGatewayWebsocketProxyRequest
	if err := json.Unmarshal(ev, &req); err != nil {
		t.Fatalf("decode event: %v", err)
	}
	return req
}
