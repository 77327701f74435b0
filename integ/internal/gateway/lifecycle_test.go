package gateway

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/apigatewaymanagementapi"
	"github.com/aws/aws-sdk-go-v2/service/apigatewaymanagementapi/types"
	"github.com/aws/smithy-go"
	"github.com/coder/websocket"
)

func TestIdleTimeoutClosesGoingAway(t *testing.T) {
	h := newHarness(t, nil, func(c *Config) { c.IdleTimeout = 300 * time.Millisecond })
	c, _ := h.dial("", nil)
	// Activity keeps it open past one idle period.
	for range 3 {
		time.Sleep(150 * time.Millisecond)
		exchange(t, c, "keepalive", "$default:keepalive")
	}
	start := time.Now()
	code, reason := readClose(t, c)
	if code != websocket.StatusGoingAway || reason != "Going away" {
		t.Fatalf("close %v %q, want 1001 Going away", code, reason)
	}
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Fatalf("closed %v after the last message, before the idle timeout", d)
	}
	ev := assertDisconnect(t, h, 1001)
	if *ev.RequestContext.DisconnectReason != "Going away" {
		t.Errorf("disconnectReason %q", *ev.RequestContext.DisconnectReason)
	}
	if len(h.gw.Connections()) != 0 {
		t.Errorf("connections %v after the idle close", h.gw.Connections())
	}
}

func TestMaxConnectionDurationClosesGoingAway(t *testing.T) {
	h := newHarness(t, nil, func(c *Config) { c.MaxConnectionDuration = 200 * time.Millisecond })
	c, _ := h.dial("", nil)
	if code, _ := readClose(t, c); code != websocket.StatusGoingAway {
		t.Fatalf("close %v, want 1001", code)
	}
	assertDisconnect(t, h, 1001)
}

func TestClientCloseRunsDisconnectOnce(t *testing.T) {
	h := newHarness(t, nil)
	c, id := h.dial("", nil)
	if err := c.Close(4001, "bye now"); err != nil {
		t.Fatalf("close: %v", err)
	}
	ev := assertDisconnect(t, h, 4001)
	if *ev.RequestContext.DisconnectReason != "bye now" || ev.RequestContext.ConnectionID != id {
		t.Errorf("disconnect %+v", ev.RequestContext)
	}
	if ev.Headers["Host"] == "" || ev.Headers["x-api-key"] != "" || len(ev.Headers) != 4 {
		t.Errorf("disconnect headers %v, want AWS's four", ev.Headers)
	}
	if len(h.gw.Connections()) != 0 {
		t.Errorf("connections %v after the client closed", h.gw.Connections())
	}
}

func TestDisconnectFailureIsBestEffort(t *testing.T) {
	h := newHarness(t, nil)
	h.lambda.set(h.names.disconnect, func(context.Context, []byte) ([]byte, error) {
		return nil, &FunctionError{Type: "errorString", Message: "table gone"}
	})
	c, _ := h.dial("", nil)
	_ = c.Close(websocket.StatusNormalClosure, "")
	waitFor(t, "the failed $disconnect to be logged", func() bool {
		return strings.Contains(h.logs.String(), "table gone")
	})
	c2, _ := h.dial("", nil)
	exchange(t, c2, "after", "$default:after")
}

func TestCloseRunsDisconnectForAll(t *testing.T) {
	h := newHarness(t, nil)
	var conns []*websocket.Conn
	for range 3 {
		c, _ := h.dial("", nil)
		conns = append(conns, c)
	}
	// A connection is registered just after its 101 is written.
	waitFor(t, "3 open connections", func() bool { return len(h.gw.Connections()) == 3 })
	// Read concurrently so that each client answers the close handshake.
	codes := make(chan websocket.StatusCode, len(conns))
	for _, c := range conns {
		go func() {
			_, _, err := c.Read(context.Background())
			codes <- websocket.CloseStatus(err)
		}()
	}
	if err := h.gw.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	// Close waits for every $disconnect.
	if n := h.lambda.count(h.names.disconnect); n != 3 {
		t.Fatalf("$disconnect invoked %d times by Close, want 3", n)
	}
	for range conns {
		if code := <-codes; code != websocket.StatusGoingAway {
			t.Errorf("client saw close %v, want 1001", code)
		}
	}
	if n := len(h.gw.Connections()); n != 0 {
		t.Fatalf("Connections() = %d after Close", n)
	}
	if err := h.gw.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, resp, err := websocket.Dial(ctx, h.wsURL(""), nil); err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("dial after Close: %v", err)
	}
}

// managementClient is the real SDK client pointed at the gateway's stage.
func managementClient(h *harness) *apigatewaymanagementapi.Client {
	return apigatewaymanagementapi.New(apigatewaymanagementapi.Options{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIALOCALTEST0000000", "secret", ""),
		BaseEndpoint: aws.String(h.srv.URL + "/prod"),
		Retryer:      aws.NopRetryer{},
	})
}

func TestConnectionsAPIWithTheSDK(t *testing.T) {
	var (
		mu   sync.Mutex
		seen []string
	)
	h := newHarness(t, nil, func(c *Config) {
		c.Now = func() time.Time { return time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC) }
		c.AuthorizeManagement = func(r *http.Request, method, id string) error {
			mu.Lock()
			seen = append(seen, method+" "+id)
			mu.Unlock()
			if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential=AKIALOCALTEST0000000/") {
				return errors.New("unsigned")
			}
			return nil
		}
	})
	c, id := h.dial("", &websocket.DialOptions{HTTPHeader: http.Header{"User-Agent": {"sdk-test/2"}}})
	api := managementClient(h)
	ctx := context.Background()

	// POST reaches the client as a text frame.
	if _, err := api.PostToConnection(ctx, &apigatewaymanagementapi.PostToConnectionInput{ConnectionId: aws.String(id), Data: []byte(`{"hello":"world"}`)}); err != nil {
		t.Fatalf("PostToConnection: %v", err)
	}
	if got := read(t, c); got != `{"hello":"world"}` {
		t.Fatalf("client got %q", got)
	}
	mu.Lock()
	if len(seen) != 1 || seen[0] != "POST "+id {
		t.Fatalf("AuthorizeManagement saw %v, want the unescaped id", seen)
	}
	mu.Unlock()

	// GET describes it.
	out, err := api.GetConnection(ctx, &apigatewaymanagementapi.GetConnectionInput{ConnectionId: aws.String(id)})
	if err != nil {
		t.Fatalf("GetConnection: %v", err)
	}
	if !out.ConnectedAt.Equal(time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)) || out.LastActiveAt == nil ||
		aws.ToString(out.Identity.SourceIp) != "127.0.0.1" || aws.ToString(out.Identity.UserAgent) != "sdk-test/2" {
		t.Fatalf("GetConnection %+v identity %+v", out, out.Identity)
	}

	// Oversize POST: 413 PayloadTooLargeException.
	_, err = api.PostToConnection(ctx, &apigatewaymanagementapi.PostToConnectionInput{ConnectionId: aws.String(id), Data: make([]byte, MaxMessageBytes+1)})
	var tooLarge *types.PayloadTooLargeException
	if !errors.As(err, &tooLarge) || httpStatus(err) != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversize post: %v, want PayloadTooLargeException (413)", err)
	}
	// 128 KB exactly is fine.
	if _, err := api.PostToConnection(ctx, &apigatewaymanagementapi.PostToConnectionInput{ConnectionId: aws.String(id), Data: []byte(strings.Repeat("y", MaxMessageBytes))}); err != nil {
		t.Fatalf("128 KB post: %v", err)
	}
	if got := read(t, c); len(got) != MaxMessageBytes {
		t.Fatalf("client got %d bytes", len(got))
	}

	// DELETE closes it and runs $disconnect; the client sees a normal close.
	if _, err := api.DeleteConnection(ctx, &apigatewaymanagementapi.DeleteConnectionInput{ConnectionId: aws.String(id)}); err != nil {
		t.Fatalf("DeleteConnection: %v", err)
	}
	if code, _ := readClose(t, c); code != websocket.StatusNormalClosure {
		t.Fatalf("client saw close %v, want 1000", code)
	}
	assertDisconnect(t, h, 1000)

	// Gone now, as is an id that never existed: 410 GoneException for all three calls.
	for _, gone := range []string{id, "L0SM9cOFvHcCIhw="} {
		_, err := api.PostToConnection(ctx, &apigatewaymanagementapi.PostToConnectionInput{ConnectionId: aws.String(gone), Data: []byte("x")})
		assertGone(t, "PostToConnection "+gone, err)
		_, err = api.GetConnection(ctx, &apigatewaymanagementapi.GetConnectionInput{ConnectionId: aws.String(gone)})
		assertGone(t, "GetConnection "+gone, err)
		_, err = api.DeleteConnection(ctx, &apigatewaymanagementapi.DeleteConnectionInput{ConnectionId: aws.String(gone)})
		assertGone(t, "DeleteConnection "+gone, err)
	}
}

func assertGone(t *testing.T, what string, err error) {
	t.Helper()
	var gone *types.GoneException
	if !errors.As(err, &gone) || httpStatus(err) != http.StatusGone {
		t.Errorf("%s: %v, want GoneException (410)", what, err)
	}
}

func httpStatus(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

func TestConnectionsAPIDuringConnectIsGone(t *testing.T) {
	h := newHarness(t, nil)
	api := managementClient(h)
	postErr := make(chan error, 1)
	h.lambda.set(h.names.connect, func(ctx context.Context, ev []byte) ([]byte, error) {
		id := decodeConnectionID(ev)
		_, err := api.PostToConnection(ctx, &apigatewaymanagementapi.PostToConnectionInput{ConnectionId: aws.String(id), Data: []byte("too early")})
		postErr <- err
		return proxyOK(""), nil
	})
	c, _ := h.dial("", nil)
	defer c.CloseNow()
	assertGone(t, "PostToConnection during $connect", <-postErr)
}

func decodeConnectionID(ev []byte) string {
	var req struct {
		RequestContext struct {
			ConnectionID string `json:"connectionId"`
		} `json:"requestContext"`
	}
	_ = json.Unmarshal(ev, &req)
	return req.RequestContext.ConnectionID
}

func TestAuthorizeManagementDenial(t *testing.T) {
	h := newHarness(t, nil, func(c *Config) {
		c.AuthorizeManagement = func(r *http.Request, method, id string) error {
			if method == http.MethodDelete {
				return &ManagementError{Status: http.StatusForbidden, Type: "ForbiddenException", Message: "Forbidden"}
			}
			return errors.New("User: arn:aws:sts::000000000000:assumed-role/chat/fn is not authorized to perform: execute-api:ManageConnections on resource: arn:aws:execute-api:us-east-1:000000000000:localapi01/prod/POST/@connections/" + id)
		}
	})
	c, id := h.dial("", nil)
	api := managementClient(h)
	ctx := context.Background()
	_, err := api.PostToConnection(ctx, &apigatewaymanagementapi.PostToConnectionInput{ConnectionId: aws.String(id), Data: []byte("x")})
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "AccessDeniedException" || httpStatus(err) != http.StatusForbidden ||
		!strings.Contains(apiErr.ErrorMessage(), "execute-api:ManageConnections") {
		t.Fatalf("denied post: %v, want AccessDeniedException (403) with the IAM message", err)
	}
	_, err = api.DeleteConnection(ctx, &apigatewaymanagementapi.DeleteConnectionInput{ConnectionId: aws.String(id)})
	var forbidden *types.ForbiddenException
	if !errors.As(err, &forbidden) || httpStatus(err) != http.StatusForbidden {
		t.Fatalf("denied delete: %v, want ForbiddenException (403)", err)
	}
	// Nothing reached the connection, which is still open.
	exchange(t, c, "alive", "$default:alive")
}

func TestLogsOneJSONLinePerEvent(t *testing.T) {
	h := newHarness(t, nil)
	c, id := h.dial("", nil)
	write(t, c, validSend)
	_ = read(t, c)
	_ = c.Close(websocket.StatusNormalClosure, "")
	waitFor(t, "$disconnect", func() bool { return h.lambda.count(h.names.disconnect) == 1 })
	waitFor(t, "the disconnect log line", func() bool { return strings.Contains(h.logs.String(), `"event":"disconnect"`) })
	got := map[string]map[string]any{}
	sc := bufio.NewScanner(strings.NewReader(h.logs.String()))
	for sc.Scan() {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("log line is not JSON: %s", sc.Text())
		}
		if ev, ok := line["event"].(string); ok {
			if _, dup := got[ev]; dup {
				t.Errorf("two %s lines", ev)
			}
			got[ev] = line
		}
	}
	for ev, route := range map[string]string{"connect": "$connect", "message": "sendmessage", "disconnect": "$disconnect"} {
		line := got[ev]
		if line == nil {
			t.Errorf("no %s line in %s", ev, h.logs.String())
			continue
		}
		if line["connectionId"] != id || line["routeKey"] != route || line["status"] == nil || line["latencyMs"] == nil {
			t.Errorf("%s line %v", ev, line)
		}
	}
	if got["connect"]["status"] != float64(101) || got["message"]["status"] != float64(200) {
		t.Errorf("statuses: connect %v, message %v", got["connect"]["status"], got["message"]["status"])
	}
}

func TestPingsKeepAConnectionPastTheIdleTimeout(t *testing.T) {
	const idle = 600 * time.Millisecond
	h := newHarness(t, nil, func(c *Config) { c.IdleTimeout = idle })
	c, _ := h.dial("", nil)
	// A ping route message is a message: API Gateway's idle timer counts it, whatever
	// answers it. Pings every 200 ms keep the connection open well past one idle period.
	start := time.Now()
	for time.Since(start) < 2*idle {
		time.Sleep(200 * time.Millisecond)
		exchange(t, c, `{"action":"ping"}`, `{"type":"pong"}`)
	}
	last := time.Now()
	code, reason := readClose(t, c)
	if code != websocket.StatusGoingAway || reason != "Going away" {
		t.Fatalf("close %v %q, want 1001 Going away", code, reason)
	}
	if d := time.Since(last); d < idle/2 {
		t.Fatalf("closed %v after the last ping, before the idle timeout of %v", d, idle)
	}
	assertDisconnect(t, h, 1001)
	if n := h.lambda.count(h.names.chat) + h.lambda.count(h.names.def); n != 0 {
		t.Errorf("%d chat/$default invocations for pings, want none", n)
	}
}

func TestDropEndsTheConnectionWithoutCloseFrame(t *testing.T) {
	h := newHarness(t, nil)
	c, id := h.dial("", nil)
	other, otherID := h.dial("", nil)
	if got := h.gw.Connections(); len(got) != 2 || !slices.Contains(got, id) || !slices.Contains(got, otherID) {
		t.Fatalf("Connections() = %v, want %s and %s", got, id, otherID)
	}
	if err := h.gw.Drop(id); err != nil {
		t.Fatalf("Drop(%s): %v", id, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _, err := c.Read(ctx)
	var ce websocket.CloseError
	if err == nil || errors.As(err, &ce) || errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("read after Drop: %v, want the connection cut without a close frame", err)
	}
	ev := assertDisconnect(t, h, 1006)
	if ev.RequestContext.ConnectionID != id {
		t.Errorf("$disconnect for %s, want %s", ev.RequestContext.ConnectionID, id)
	}
	if got := h.gw.Connections(); len(got) != 1 || got[0] != otherID {
		t.Errorf("Connections() after Drop = %v, want only %s", got, otherID)
	}
	// The other connection lives on.
	exchange(t, other, `{"action":"ping"}`, `{"type":"pong"}`)
	if err := h.gw.Drop(id); err == nil || !strings.Contains(err.Error(), id) {
		t.Errorf("second Drop(%s) = %v, want an error naming it", id, err)
	}
}

func TestDropUnknownConnectionErrors(t *testing.T) {
	h := newHarness(t, nil)
	err := h.gw.Drop("nosuchconn0000=")
	if err == nil || !strings.Contains(err.Error(), `"nosuchconn0000="`) {
		t.Fatalf("Drop of an unknown id = %v, want an error naming the id", err)
	}
}
