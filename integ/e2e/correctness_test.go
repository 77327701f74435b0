package e2e

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/chatstack/websocketchatapi/protocol"
)

// TestPresencePerUser: a user joins a room with their first connection in it and leaves with
// their last; their other connections hear nothing of their own comings and goings.
func TestPresencePerUser(t *testing.T) {
	r := room("presence")
	alice, bob := tg.user(t, 0), tg.user(t, 1)
	b := tg.connect(t, "B", bob, dialOptions{})
	a1 := tg.connect(t, "A1", alice, dialOptions{})
	a2 := tg.connect(t, "A2", alice, dialOptions{})
	b.join(r)
	a1.join(r)
	want := func(c *client, events ...string) {
		t.Helper()
		if got := c.presenceEvents(); !slices.Equal(got, events) {
			t.Fatalf("%s heard %q, want %q", c.name, got, events)
		}
	}
	want(b, "joined "+alice.subject)
	a2.join(r)
	want(b)  // no second "joined"
	want(a1) // nor her own arrival
	a1.send(map[string]any{"action": protocol.ActionLeaveRoom, "roomId": r})
	a1.expect(protocol.FrameLeft)
	want(b) // alice is still there through A2
	a2.close()
	// $disconnect runs after the close, on its own time.
	deadline := time.Now().Add(frameTimeout)
	var got []string
	for len(got) == 0 && time.Now().Before(deadline) {
		got = b.presenceEvents()
	}
	if !slices.Equal(got, []string{"left " + alice.subject}) {
		t.Fatalf("B heard %q when alice's last connection closed, want her left once", got)
	}
}

// TestIdempotentSend: a client that lost an ack sends again with the same clientMessageId and
// gets the first ack back; the room gets the message once.
func TestIdempotentSend(t *testing.T) {
	r := room("idempotent")
	a := tg.connect(t, "A", tg.user(t, 0), dialOptions{})
	b := tg.connect(t, "B", tg.user(t, 1), dialOptions{})
	a.join(r)
	b.join(r)
	first := a.say(r, "only once", "retry-me")
	again := a.say(r, "only once", "retry-me")
	if first.Duplicate || !again.Duplicate || again.MessageID != first.MessageID || again.SentAt != first.SentAt {
		t.Fatalf("acks %s and %s: want the first ack again, marked duplicate", first.raw, again.raw)
	}
	if m := b.expect(protocol.FrameMessage); m.MessageID != first.MessageID {
		t.Fatalf("B got %s", m.raw)
	}
	b.expectMarker(b.sendMarker()) // and no second copy
}

// sentAtFormat is the one time format of frames: UTC, milliseconds, fixed width.
var sentAtFormat = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)

// TestHistoryPagesUnderTheCap: 15 messages of 4,000 CJK characters (12 KB each) would make a
// 180 KB history reply, which AWS cannot send (128 KB per message, route responses too; the
// local gateway refuses such a reply as AWS would). History pages instead, each under the
// cap, and its before leads through every message once. Times are fixed-width UTC.
func TestHistoryPagesUnderTheCap(t *testing.T) {
	r := room("history-cap")
	a := tg.connect(t, "A", tg.user(t, 0), dialOptions{})
	a.join(r)
	text := strings.Repeat("漢", protocol.MaxTextLength)
	var want []string
	for i := range 15 {
		ack := a.say(r, text, fmt.Sprintf("cjk-%d", i))
		if !sentAtFormat.MatchString(ack.SentAt) {
			t.Fatalf("ack sentAt %q is not fixed-width UTC with milliseconds", ack.SentAt)
		}
		want = append(want, ack.MessageID)
	}
	var got []string
	var before int64
	for page := 0; ; page++ {
		req := map[string]any{"action": protocol.ActionHistory, "roomId": r}
		if before != 0 {
			req["before"] = before
		}
		a.send(req)
		h := a.expect(protocol.FrameHistory)
		if len(h.raw) > protocol.MaxMessageBytes || page > 15 {
			t.Fatalf("history page %d is %d bytes", page, len(h.raw))
		}
		var ids []string
		for _, m := range h.Messages {
			ids = append(ids, m.MessageID)
		}
		got = append(ids, got...)
		if !h.HasMore {
			break
		}
		before = h.Before
	}
	if !slices.Equal(got, want[len(want)-len(got):]) || len(got) != len(want) {
		t.Fatalf("pages gave %d messages, want the %d sent, once each, in order", len(got), len(want))
	}
}

// TestDraft04Integers: 2.0, 2e0 and 20e-1 are numbers, not integers, to API Gateway's draft-04
// models: "Bad request body", never a Go decoding error from the handler.
func TestDraft04Integers(t *testing.T) {
	r := room("integers")
	a := tg.connect(t, "A", tg.user(t, 0), dialOptions{})
	a.join(r)
	for _, limit := range []string{"2.0", "2e0", "20e-1"} {
		a.sendRaw(websocket.MessageText, []byte(`{"action":"history","roomId":"`+r+`","limit":`+limit+`}`))
		a.expectGateway("Bad request body")
	}
	a.send(map[string]any{"action": protocol.ActionHistory, "roomId": r, "limit": 2})
	a.expect(protocol.FrameHistory)
}
