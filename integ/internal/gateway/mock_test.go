package gateway

import (
	"context"
	"strings"
	"testing"

	"github.com/chatstack/websocketchatapi/integ/internal/assembly"
	"github.com/chatstack/websocketchatapi/protocol"
)

// pingMock returns the reference API's ping integration model, which a test may change.
func pingMock(t *testing.T, api *assembly.WebSocketAPI) *assembly.Mock {
	t.Helper()
	r := api.Route(protocol.RoutePing)
	if r == nil || r.Integration == nil || r.Integration.Mock == nil {
		t.Fatalf("the reference API has no MOCK ping route: %+v", r)
	}
	return r.Integration.Mock
}

// invocations counts the invocations of every function but the authorizer and $connect.
func (h *harness) invocations() int {
	return h.lambda.count(h.names.chat) + h.lambda.count(h.names.def) + h.lambda.count(h.names.disconnect)
}

func TestPingIsAnsweredByTheMockWithoutInvoking(t *testing.T) {
	h := newHarness(t, nil)
	c, _ := h.dial("", nil)
	pong := string(protocol.Encode(protocol.Pong{Type: protocol.FramePong}))
	for _, msg := range []string{`{"action":"ping"}`, `{"action":"ping","x":[1,2,3]}`, ` { "x": {"y": null}, "action" : "ping" } `} {
		exchange(t, c, msg, pong)
	}
	if n := h.invocations(); n != 0 {
		t.Errorf("%d function invocations for pings, want none", n)
	}
	// Other routes still reach their functions.
	exchange(t, c, validSend, "sendmessage:"+validSend)
	// The route stays a route: the log records each message with the mock's status (a
	// connection's messages are handled one after the other, so the pings' lines are written
	// once the sendmessage is answered).
	if n := strings.Count(h.logs.String(), `"routeKey":"ping","requestId"`); n != 3 {
		t.Errorf("%d log lines for the ping route, want 3:\n%s", n, h.logs)
	}
}

func TestOneWayMockRouteSendsNothing(t *testing.T) {
	api := loadAPI(t)
	api.Route(protocol.RoutePing).Responses = nil // one-way: no route response
	h := newHarness(t, api)
	c, _ := h.dial("", nil)
	write(t, c, `{"action":"ping"}`)
	// Messages of a connection are answered in order: had the ping been answered, its pong
	// would come before the echo.
	exchange(t, c, validSend, "sendmessage:"+validSend)
	if n := h.lambda.count(h.names.chat); n != 1 {
		t.Errorf("chat invoked %d times, want once (for sendmessage only)", n)
	}
}

func TestMockResponseWithoutTemplateSendsNothing(t *testing.T) {
	api := loadAPI(t)
	for _, r := range pingMock(t, api).Responses {
		r.Templates = map[string]string{}
	}
	h := newHarness(t, api)
	c, _ := h.dial("", nil)
	write(t, c, `{"action":"ping"}`)
	exchange(t, c, validSend, "sendmessage:"+validSend)
	if n := h.lambda.count(h.names.def); n != 0 {
		t.Errorf("$default invoked %d times, want none", n)
	}
}

func TestMockWithoutMatchingIntegrationResponseFailsLikeAWS(t *testing.T) {
	api := loadAPI(t)
	pingMock(t, api).Responses = nil
	h := newHarness(t, api)
	c, id := h.dial("", nil)
	write(t, c, `{"action":"ping"}`)
	if got := read(t, c); !awsFrame("Internal server error", id, "requestId").MatchString(got) {
		t.Fatalf("got %q, want the Internal server error frame", got)
	}
	// Once the next message is answered, the ping's log line is written.
	exchange(t, c, validSend, "sendmessage:"+validSend)
	if want := "No match for output mapping and no default output mapping configured. Endpoint Response Status Code: 200"; !strings.Contains(h.logs.String(), want) {
		t.Errorf("log lacks AWS's reason %q:\n%s", want, h.logs)
	}
	if n := h.invocations(); n != 1 {
		t.Errorf("%d invocations, want 1 (the sendmessage)", n)
	}
}

// TestPingIsNotQueuedBehindAnInvocation: AWS answers a MOCK route at once; a ping sent while
// the connection's sendmessage is still running is answered before that one returns, so a
// heartbeat never times out behind a slow function.
func TestPingIsNotQueuedBehindAnInvocation(t *testing.T) {
	h := newHarness(t, nil)
	release := make(chan struct{})
	h.lambda.set(h.names.chat, func(ctx context.Context, _ []byte) ([]byte, error) {
		select {
		case <-release:
		case <-ctx.Done():
		}
		return proxyOK("done"), nil
	})
	c, _ := h.dial("", nil)
	write(t, c, validSend)
	exchange(t, c, `{"action":"ping"}`, string(protocol.Encode(protocol.Pong{Type: protocol.FramePong})))
	close(release)
	if got := read(t, c); got != "done" {
		t.Fatalf("after the pong got %q, want the sendmessage's answer", got)
	}
}
