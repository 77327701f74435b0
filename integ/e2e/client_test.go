package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/chatstack/websocketchatapi/protocol"
)

// frameQueue is how many received frames a client buffers before its reader waits.
const frameQueue = 4096

// frame is a server frame. Chat frames have a type; API Gateway's own frames ("Bad request
// body", "Forbidden", "Internal server error") have a message and no type.
type frame struct {
	Type            string            `json:"type"`
	Code            string            `json:"code"`
	Message         string            `json:"message"`
	Action          string            `json:"action"`
	ValidActions    []string          `json:"validActions"`
	RoomID          string            `json:"roomId"`
	MessageID       string            `json:"messageId"`
	ClientMessageID string            `json:"clientMessageId"`
	UserID          string            `json:"userId"`
	DisplayName     string            `json:"displayName"`
	Text            string            `json:"text"`
	Event           string            `json:"event"`
	Delivered       *int              `json:"delivered"`
	Undelivered     *int              `json:"undelivered"`
	Gone            *int              `json:"gone"`
	Messages        []frame           `json:"messages"`
	ConnectionID    string            `json:"connectionId"`
	SentAt          string            `json:"sentAt"`
	Duplicate       bool              `json:"duplicate"`
	HasMore         bool              `json:"hasMore"`
	Before          int64             `json:"before"`
	After           int64             `json:"after"`
	Seq             int64             `json:"seq"`
	LastSeq         int64             `json:"lastSeq"`
	EventType       string            `json:"eventType"`
	Data            json.RawMessage   `json:"data"`
	System          bool              `json:"system"`
	ToUserID        string            `json:"toUserId"`
	Queued          bool              `json:"queued"`
	Members         []protocol.Member `json:"members"`

	// raw is the frame as received.
	raw string
}

// gateway reports whether f is one of API Gateway's own frames, with the given message.
func (f frame) gateway(message string) bool {
	return f.Type == "" && f.Message == message
}

// errorCode returns f's error code, or "" when f is not an error frame.
func (f frame) errorCode() string {
	if f.Type != protocol.FrameError {
		return ""
	}
	return f.Code
}

// client is a connected WebSocket client. One goroutine reads its frames into a queue, so that
// waiting for a frame never cancels a read (which would close the connection).
type client struct {
	t      *testing.T
	name   string
	user   user
	conn   *websocket.Conn
	frames chan frame
	done   chan struct{} // closed when the connection's reading ended
	err    error         // why reading ended; read it after done
}

// newClient wraps conn and starts reading it.
func newClient(t *testing.T, name string, u user, conn *websocket.Conn) *client {
	conn.SetReadLimit(1 << 20)
	c := &client{t: t, name: name, user: u, conn: conn, frames: make(chan frame, frameQueue), done: make(chan struct{})}
	go c.read()
	return c
}

// read queues every frame until the connection ends.
func (c *client) read() {
	defer close(c.done)
	for {
		typ, data, err := c.conn.Read(context.Background())
		if err != nil {
			c.err = err
			return
		}
		f := frame{raw: string(data)}
		if typ != websocket.MessageText || json.Unmarshal(data, &f) != nil {
			f = frame{Type: "(not a JSON text frame)", raw: fmt.Sprintf("%v %q", typ, data)}
		}
		c.frames <- f
	}
}

// close closes the connection normally (1000) and waits for the close handshake, as a well-
// behaved client does.
func (c *client) close() {
	_ = c.conn.Close(websocket.StatusNormalClosure, "")
}

// send writes v as one JSON text message.
func (c *client) send(v any) {
	c.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		c.t.Fatal(err)
	}
	c.sendRaw(websocket.MessageText, b)
}

// sendRaw writes one message of type typ.
func (c *client) sendRaw(typ websocket.MessageType, data []byte) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.conn.Write(ctx, typ, data); err != nil {
		c.t.Fatalf("%s: write %.80q: %v", c.name, data, err)
	}
}

// next returns the next frame, or an error when none arrives within timeout or the connection
// ends first. Frames already queued come first, even after the end.
func (c *client) next(timeout time.Duration) (frame, error) {
	select {
	case f := <-c.frames:
		return f, nil
	default:
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case f := <-c.frames:
		return f, nil
	case <-c.done:
		select {
		case f := <-c.frames:
			return f, nil
		default:
		}
		return frame{}, fmt.Errorf("%s: the connection ended: %w", c.name, c.err)
	case <-timer.C:
		return frame{}, fmt.Errorf("%s: no frame within %v", c.name, timeout)
	}
}

// nextFrame returns the next frame that is not a presence event; it fails the test after
// frameTimeout.
func (c *client) nextFrame() frame {
	c.t.Helper()
	deadline := time.Now().Add(frameTimeout)
	for {
		f, err := c.next(time.Until(deadline))
		if err != nil {
			c.t.Fatal(err)
		}
		if f.Type != protocol.FramePresence {
			return f
		}
	}
}

// expect returns the next frame that is not a presence event, and fails the test unless it is
// of type typ.
func (c *client) expect(typ string) frame {
	c.t.Helper()
	f := c.nextFrame()
	if f.Type != typ {
		c.t.Fatalf("%s: got %s, want a %q frame", c.name, f.raw, typ)
	}
	return f
}

// expectError returns the next frame that is not a presence event, and fails the test unless
// it is an error frame with code.
func (c *client) expectError(code string) frame {
	c.t.Helper()
	f := c.nextFrame()
	if f.errorCode() != code {
		c.t.Fatalf("%s: got %s, want an error frame with code %q", c.name, f.raw, code)
	}
	return f
}

// expectGateway returns the next frame that is not a presence event, and fails the test unless
// it is API Gateway's own frame with message.
func (c *client) expectGateway(message string) frame {
	c.t.Helper()
	f := c.nextFrame()
	if !f.gateway(message) {
		c.t.Fatalf("%s: got %s, want API Gateway's {\"message\": %q, ...}", c.name, f.raw, message)
	}
	return f
}

// expectClose waits for the server to close the connection and fails the test unless it did
// with code; frames before the close must be presence events.
func (c *client) expectClose(code websocket.StatusCode) {
	c.t.Helper()
	deadline := time.Now().Add(frameTimeout)
	for {
		f, err := c.next(time.Until(deadline))
		if err == nil {
			if f.Type != protocol.FramePresence {
				c.t.Fatalf("%s: got %s, want the connection closed with %d", c.name, f.raw, code)
			}
			continue
		}
		select {
		case <-c.done:
		default:
			c.t.Fatalf("%s: not closed within %v, want a close with %d", c.name, frameTimeout, code)
		}
		if got := websocket.CloseStatus(c.err); got != code {
			c.t.Fatalf("%s: the connection ended with %v (close status %d), want close status %d", c.name, c.err, got, code)
		}
		return
	}
}

// quiet fails the test when a frame other than a presence event arrives within d.
func (c *client) quiet(d time.Duration) {
	c.t.Helper()
	deadline := time.Now().Add(d)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return
		}
		f, err := c.next(left)
		if err != nil {
			select {
			case <-c.done:
				c.t.Fatalf("%s: the connection ended while it should stay open and silent: %v", c.name, c.err)
			default:
			}
			return
		}
		if f.Type != protocol.FramePresence {
			c.t.Fatalf("%s: got %s, want no frame", c.name, f.raw)
		}
	}
}

// join joins roomID and waits for the joined frame.
func (c *client) join(roomID string) {
	c.t.Helper()
	c.send(map[string]any{"action": protocol.ActionJoinRoom, "roomId": roomID})
	if f := c.expect(protocol.FrameJoined); f.RoomID != roomID {
		c.t.Fatalf("%s: joined %q, want %q: %s", c.name, f.RoomID, roomID, f.raw)
	}
}

// say sends text to roomID with clientMessageID and returns the ack.
func (c *client) say(roomID, text, clientMessageID string) frame {
	c.t.Helper()
	c.send(map[string]any{"action": protocol.ActionSendMessage, "roomId": roomID, "text": text, "clientMessageId": clientMessageID})
	ack := c.expect(protocol.FrameAck)
	if ack.ClientMessageID != clientMessageID || ack.MessageID == "" || ack.Delivered == nil {
		c.t.Fatalf("%s: ack %s, want clientMessageId %q, a messageId and delivered", c.name, ack.raw, clientMessageID)
	}
	return ack
}

// sendMarker sends an action that no route serves; $default answers it with unknown_action.
// Everything posted to the client before the marker was sent arrives before that answer.
func (c *client) sendMarker() string {
	c.t.Helper()
	action := "e2e-marker-" + strings.ToLower(c.name)
	c.send(map[string]any{"action": action})
	return action
}

// expectMarker waits for the answer to sendMarker's action; frames before it other than
// presence events fail the test.
func (c *client) expectMarker(action string) {
	c.t.Helper()
	f := c.expectError(protocol.CodeUnknownAction)
	if f.Action != action {
		c.t.Fatalf("%s: unknown_action for %q, want it for the marker %q: %s", c.name, f.Action, action, f.raw)
	}
}

// intValue returns *p, or -1 when p is nil, for messages.
func intValue(p *int) int {
	if p == nil {
		return -1
	}
	return *p
}

// presenceEvents sends a marker and returns the presence events that arrive before its answer,
// as "<event> <userId>"; any other frame before it fails the test.
func (c *client) presenceEvents() []string {
	c.t.Helper()
	action := c.sendMarker()
	deadline := time.Now().Add(frameTimeout)
	var events []string
	for {
		f, err := c.next(time.Until(deadline))
		if err != nil {
			c.t.Fatal(err)
		}
		switch {
		case f.Type == protocol.FramePresence:
			events = append(events, f.Event+" "+f.UserID)
		case f.errorCode() == protocol.CodeUnknownAction && f.Action == action:
			return events
		default:
			c.t.Fatalf("%s: got %s while waiting for presence events and the marker", c.name, f.raw)
		}
	}
}
