package gateway

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/coder/websocket"

	"github.com/chatstack/websocketchatapi/integ/internal/assembly"
)

const validSend = `{"action":"sendmessage","roomId":"lobby","text":"hello"}`

func TestRouteSelection(t *testing.T) {
	h := newHarness(t, nil)
	c, _ := h.dial("", nil)
	for _, tc := range []struct{ send, want string }{
		{validSend, "sendmessage:" + validSend},
		{`{"action":"joinroom","roomId":"lobby"}`, `joinroom:{"action":"joinroom","roomId":"lobby"}`},
		{`{"action":"nosuchaction"}`, `$default:{"action":"nosuchaction"}`},
		{`{"action":"$connect"}`, `$default:{"action":"$connect"}`},
		{`{"type":"sendmessage"}`, `$default:{"type":"sendmessage"}`},
		{`not json at all`, `$default:not json at all`},
		{`{"action":{"nested":true}}`, `$default:{"action":{"nested":true}}`},
	} {
		write(t, c, tc.send)
		if got := read(t, c); got != tc.want {
			t.Errorf("sent %s: got %q, want %q", tc.send, got, tc.want)
		}
	}
	chat := h.lambda.events(h.names.chat)
	if len(chat) != 2 {
		t.Fatalf("chat function invoked %d times, want 2", len(chat))
	}
	if k := decodeProxy(t, chat[1]).RequestContext.RouteKey; k != "joinroom" {
		t.Errorf("second chat event routeKey %q", k)
	}
	if k := decodeProxy(t, h.lambda.events(h.names.def)[0]).RequestContext.RouteKey; k != "$default" {
		t.Errorf("$default event routeKey %q", k)
	}
}

func TestModelValidationFailsWithoutInvoking(t *testing.T) {
	h := newHarness(t, nil)
	c, id := h.dial("", nil)
	frame := awsFrame("Bad request body", id, "messageId")
	for _, bad := range []string{
		`{"action":"sendmessage","roomId":"lobby"}`,                 // text missing
		`{"action":"sendmessage","roomId":"no spaces","text":"hi"}`, // pattern
		`{"action":"history","roomId":"lobby","limit":1000}`,        // maximum
		`{"action":"joinroom","roomId":7}`,                          // type
		// Draft-04: an integer is written without fraction or exponent.
		`{"action":"history","roomId":"lobby","limit":2.0}`,
		`{"action":"history","roomId":"lobby","limit":2e0}`,
		`{"action":"history","roomId":"lobby","limit":20e-1}`,
	} {
		write(t, c, bad)
		if got := read(t, c); !frame.MatchString(got) {
			t.Errorf("sent %s: got %q, want AWS's Bad request body frame", bad, got)
		}
	}
	h.notInvoked(h.names.chat)
	exchange(t, c, validSend, "sendmessage:"+validSend)
}

func TestModelSelectionPicksModelByKey(t *testing.T) {
	api := loadAPI(t)
	send := api.Route("sendmessage")
	join := api.Route("joinroom")
	// "sendmessage" selects its own key; an unknown value falls back to $default (joinroom's
	// model, which needs only roomId).
	send.RequestModels = map[string]*assembly.Model{"sendmessage": send.RequestModels["$default"], "$default": join.RequestModels["$default"]}
	send.ModelSelectionExpression = "${request.body.kind}"
	h := newHarness(t, api)
	c, _ := h.dial("", nil)
	write(t, c, `{"action":"sendmessage","kind":"sendmessage","roomId":"lobby"}`) // text required by the sendmessage model
	if got := read(t, c); !strings.HasPrefix(got, `{"message": "Bad request body"`) {
		t.Fatalf("selected sendmessage model: got %q", got)
	}
	write(t, c, `{"action":"sendmessage","kind":"other","roomId":"lobby"}`) // $default model: roomId only
	if got := read(t, c); !strings.HasPrefix(got, "sendmessage:") {
		t.Fatalf("fallback $default model: got %q", got)
	}
	// No model at all (no key, no $default) fails validation.
	send.RequestModels = map[string]*assembly.Model{"sendmessage": send.RequestModels["sendmessage"]}
	h2 := newHarness(t, api)
	c2, _ := h2.dial("", nil)
	write(t, c2, `{"action":"sendmessage","kind":"other","roomId":"lobby","text":"x"}`)
	if got := read(t, c2); !strings.HasPrefix(got, `{"message": "Bad request body"`) {
		t.Fatalf("no matching model: got %q", got)
	}
}

func TestRouteResponsePresentVersusAbsent(t *testing.T) {
	api := loadAPI(t)
	api.Route("joinroom").Responses = nil // one-way route
	h := newHarness(t, api)
	c, _ := h.dial("", nil)
	write(t, c, `{"action":"joinroom","roomId":"lobby"}`)
	write(t, c, validSend)
	// Messages are processed in order: had joinroom answered, its frame would come first.
	if got := read(t, c); got != "sendmessage:"+validSend {
		t.Fatalf("first frame %q, want the sendmessage route response (joinroom has none)", got)
	}
	if n := h.lambda.count(h.names.chat); n != 2 {
		t.Fatalf("chat function invoked %d times, want 2 (one-way routes still invoke)", n)
	}
	// A two-way route whose integration returns no body sends nothing either.
	h.lambda.set(h.names.chat, answers(`{"statusCode":200}`))
	write(t, c, validSend)
	write(t, c, "probe")
	if got := read(t, c); got != "$default:probe" {
		t.Fatalf("got %q, want only the $default reply", got)
	}
}

func TestIntegrationFailuresSendInternalServerError(t *testing.T) {
	h := newHarness(t, nil)
	c, id := h.dial("", nil)
	frame := awsFrame("Internal server error", id, "requestId")
	for name, fn := range map[string]handler{
		"function error": func(context.Context, []byte) ([]byte, error) {
			return nil, &FunctionError{Type: "Runtime.ExitError", Message: "exit 2"}
		},
		"invoke failure":      func(context.Context, []byte) ([]byte, error) { return nil, fmt.Errorf("no such function") },
		"not a proxy answer":  answers(`"just a string"`),
		"statusCode a string": answers(`{"statusCode":"200","body":"x"}`),
		// API Gateway sends nothing over 128 KB, route responses included.
		"route response over 128 KB": answers(`{"statusCode":200,"body":"` + strings.Repeat("x", MaxMessageBytes+1) + `"}`),
	} {
		h.lambda.set(h.names.chat, fn)
		write(t, c, validSend)
		if got := read(t, c); !frame.MatchString(got) {
			t.Errorf("%s: got %q, want AWS's Internal server error frame", name, got)
		}
	}
	// The connection survives.
	exchange(t, c, "still here", "$default:still here")
}

func TestNoRouteAndNoDefaultIsForbidden(t *testing.T) {
	h := newHarness(t, withoutRoute(loadAPI(t), "$default"))
	c, id := h.dial("", nil)
	write(t, c, `{"action":"nosuch"}`)
	frame := awsFrame("Forbidden", id, "requestId")
	if got := read(t, c); !frame.MatchString(got) {
		t.Fatalf("got %q, want AWS's Forbidden frame", got)
	}
	exchange(t, c, validSend, "sendmessage:"+validSend)
}

func TestIntegrationTimeout(t *testing.T) {
	api := loadAPI(t)
	api.Route("sendmessage").Integration.Timeout = 100 * time.Millisecond
	h := newHarness(t, api)
	h.lambda.set(h.names.chat, func(ctx context.Context, _ []byte) ([]byte, error) {
		time.Sleep(time.Second) // ignores ctx, as a stuck function would
		return proxyOK("late"), nil
	})
	c, id := h.dial("", nil)
	start := time.Now()
	write(t, c, validSend)
	got := read(t, c)
	want := `{"message": "Endpoint request timed out", "connectionId":"` + id + `", "requestId":"`
	if !strings.HasPrefix(got, want) {
		t.Fatalf("got %q, want AWS's timeout frame", got)
	}
	if d := time.Since(start); d > 900*time.Millisecond {
		t.Fatalf("timeout frame after %v, want about 100ms", d)
	}
}

func TestMessagesOfOneConnectionAreProcessedInOrder(t *testing.T) {
	h := newHarness(t, nil)
	h.lambda.set(h.names.def, decoding(func(req events.APIGatewayWebsocketProxyRequest) []byte {
		time.Sleep(time.Duration(rand.IntN(3)) * time.Millisecond)
		return proxyOK(req.Body)
	}))
	c, _ := h.dial("", nil)
	const n = 30
	for i := range n {
		write(t, c, fmt.Sprintf("m%d", i))
	}
	for i := range n {
		if got := read(t, c); got != fmt.Sprintf("m%d", i) {
			t.Fatalf("reply %d is %q", i, got)
		}
	}
}

func TestSizeLimitsAndBinary(t *testing.T) {
	t.Run("128 KB message in 32 KB frames passes", func(t *testing.T) {
		h := newHarness(t, nil)
		h.lambda.set(h.names.def, decoding(func(req events.APIGatewayWebsocketProxyRequest) []byte {
			return proxyOK(fmt.Sprint(len(req.Body)))
		}))
		c, _ := h.dial("", nil)
		writeFrames(t, c, MaxMessageBytes, MaxFrameBytes)
		if got := read(t, c); got != fmt.Sprint(MaxMessageBytes) {
			t.Fatalf("reply %q, want the length %d", got, MaxMessageBytes)
		}
	})
	t.Run("over 128 KB closes 1009", func(t *testing.T) {
		h := newHarness(t, nil)
		c, _ := h.dial("", nil)
		writeFrames(t, c, MaxMessageBytes+1, MaxFrameBytes)
		assertClosed(t, h, c, websocket.StatusMessageTooBig)
		h.notInvoked(h.names.def)
	})
	t.Run("32 KB frame passes", func(t *testing.T) {
		h := newHarness(t, nil)
		c, _ := h.dial("", nil)
		write(t, c, strings.Repeat("a", MaxFrameBytes))
		if got := read(t, c); len(got) != len("$default:")+MaxFrameBytes {
			t.Fatalf("reply of %d bytes", len(got))
		}
	})
	t.Run("frame over 32 KB closes 1009", func(t *testing.T) {
		h := newHarness(t, nil)
		c, _ := h.dial("", nil)
		write(t, c, strings.Repeat("a", MaxFrameBytes+1))
		assertClosed(t, h, c, websocket.StatusMessageTooBig)
		h.notInvoked(h.names.def)
	})
	t.Run("binary closes 1003", func(t *testing.T) {
		h := newHarness(t, nil)
		c, _ := h.dial("", nil)
		writeMessage(t, c, websocket.MessageBinary, []byte{1, 2, 3})
		assertClosed(t, h, c, websocket.StatusUnsupportedData)
	})
}

// writeFrames sends one text message of size bytes as frames of at most frame bytes.
func writeFrames(t *testing.T, c *websocket.Conn, size, frame int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	w, err := c.Writer(ctx, websocket.MessageText)
	if err != nil {
		t.Fatal(err)
	}
	for left := size; left > 0; left -= frame {
		n := min(left, frame)
		if _, err := w.Write([]byte(strings.Repeat("x", n))); err != nil {
			return // the server may already have closed
		}
	}
	_ = w.Close()
}

// assertClosed reads until c closes, which must be with code, and checks the one $disconnect.
func assertClosed(t *testing.T, h *harness, c *websocket.Conn, code websocket.StatusCode) {
	t.Helper()
	if got, reason := readClose(t, c); got != code {
		t.Fatalf("close %v %q, want %d", got, reason, code)
	}
	assertDisconnect(t, h, int64(code))
}

// assertDisconnect waits for the one $disconnect and checks its status code.
func assertDisconnect(t *testing.T, h *harness, code int64) events.APIGatewayWebsocketProxyRequest {
	t.Helper()
	waitFor(t, "$disconnect", func() bool { return h.lambda.count(h.names.disconnect) >= 1 })
	time.Sleep(20 * time.Millisecond)
	evs := h.lambda.events(h.names.disconnect)
	if len(evs) != 1 {
		t.Fatalf("$disconnect invoked %d times, want once", len(evs))
	}
	ev := decodeProxy(t, evs[0])
	if ev.RequestContext.EventType != "DISCONNECT" || ev.RequestContext.RouteKey != "$disconnect" {
		t.Errorf("$disconnect context %+v", ev.RequestContext)
	}
	if ev.RequestContext.DisconnectStatusCode != code {
		t.Errorf("disconnectStatusCode %d, want %d (reason %v)", ev.RequestContext.DisconnectStatusCode, code, ev.RequestContext.DisconnectReason)
	}
	if ev.RequestContext.DisconnectReason == nil {
		t.Errorf("disconnectReason missing")
	}
	return ev
}
