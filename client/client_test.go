package client

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/chatstack/websocketchatapi/protocol"
)

func TestOwnMessagesTakeTheirPlaceFromAcks(t *testing.T) {
	s := newTestServer(t)
	c := dial(t, s, testOptions("alice"))
	join(t, c, "general")
	s.post("general", "bob", "one")
	ack, err := c.Send(context.Background(), "general", "two")
	if err != nil {
		t.Fatal(err)
	}
	if ack.Seq != 2 || ack.Duplicate {
		t.Fatalf("ack seq %d duplicate %v, want seq 2, not duplicate", ack.Seq, ack.Duplicate)
	}
	s.post("general", "bob", "three")
	got := wantMessages(t, c, "general", 1, 2, 3)
	if got[1].Text != "two" || got[1].UserID != "alice" || got[1].MessageID != ack.MessageID {
		t.Fatalf("own message %+v, want alice's \"two\" with the ack's id", got[1])
	}
}

func TestOutOfOrderAndRepeatedMessagesComeOnceInOrder(t *testing.T) {
	s := newTestServer(t)
	c := dial(t, s, testOptions("alice"))
	join(t, c, "general")
	sc := s.nextConn()
	var ms []protocol.Message
	for _, text := range []string{"one", "two", "three"} {
		m, _ := s.store("general", "bob", text)
		ms = append(ms, m)
	}
	for _, i := range []int{2, 0, 2, 1, 0} {
		sc.send(ms[i])
	}
	wantMessages(t, c, "general", 1, 2, 3)
	wantNoEvent(t, c, "general")
}

func TestMessagesBeforeJoinedAreNotDelivered(t *testing.T) {
	s := newTestServer(t)
	s.post("general", "bob", "old")
	c := dial(t, s, testOptions("alice"))
	join(t, c, "general")
	s.post("general", "bob", "new")
	wantMessages(t, c, "general", 2)
}

func TestGapFilledFromHistoryAfter(t *testing.T) {
	s := newTestServer(t)
	c := dial(t, s, testOptions("alice"))
	join(t, c, "general")
	sc := s.nextConn()
	s.store("general", "bob", "missed") // seq 1: never delivered live
	s.post("general", "bob", "seen")    // seq 2
	got := wantMessages(t, c, "general", 1, 2)
	if got[0].Text != "missed" {
		t.Fatalf("seq 1 is %q, want \"missed\"", got[0].Text)
	}
	h := sc.next(protocol.ActionHistory)
	if h.After == nil || *h.After != 0 {
		t.Fatalf("gap fill asked history %+v, want after 0", h)
	}
}

func TestGapFillFollowsPages(t *testing.T) {
	s := newTestServer(t)
	c := dial(t, s, testOptions("alice"))
	join(t, c, "general")
	for range protocol.MaxHistoryLimit + 20 {
		s.store("general", "bob", "missed")
	}
	s.post("general", "bob", "seen")
	for seq := int64(1); seq <= protocol.MaxHistoryLimit+21; seq++ {
		wantMessages(t, c, "general", seq)
	}
}

func TestLostRangeIsSkippedWithAnEvent(t *testing.T) {
	s := newTestServer(t)
	c := dial(t, s, testOptions("alice"))
	join(t, c, "general")
	for range 5 {
		s.store("general", "bob", "old")
	}
	s.mu.Lock()
	s.rooms["general"].retainedFrom = 4 // 1..3 are past retention
	s.mu.Unlock()
	s.post("general", "bob", "six")
	var lost *LostEvent
	for lost == nil {
		lost, _ = nextEvent(t, c).(*LostEvent)
	}
	if lost.RoomID != "general" || lost.From != 1 || lost.To != 3 {
		t.Fatalf("lost %+v, want general 1..3", lost)
	}
	wantMessages(t, c, "general", 4, 5, 6)
}

func TestSendToARoomNotJoinedFailsForGood(t *testing.T) {
	s := newTestServer(t)
	c := dial(t, s, testOptions("alice"))
	_, err := c.Send(context.Background(), "general", "hi")
	if !isErr(err, protocol.CodeNotMember) {
		t.Fatalf("Send: %v, want a not_member *Error", err)
	}
	if !strings.Contains(err.Error(), `room "general"`) {
		t.Fatalf("error %q does not name the room", err)
	}
}

func TestSendChecksItsArguments(t *testing.T) {
	s := newTestServer(t)
	c := dial(t, s, testOptions("alice"))
	for _, tc := range []struct{ room, text, want string }{
		{"general", "", "text has 0 characters"},
		{"general", strings.Repeat("é", protocol.MaxTextLength+1), "text has 4001 characters"},
		{"bad room", "hi", "room id"},
	} {
		if _, err := c.Send(context.Background(), tc.room, tc.text); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Send(%q, %.10q): %v, want %q", tc.room, tc.text, err, tc.want)
		}
	}
}

func TestHistoryPages(t *testing.T) {
	s := newTestServer(t)
	c := dial(t, s, testOptions("alice"))
	join(t, c, "general")
	for range 5 {
		s.post("general", "bob", "m")
	}
	page, err := c.History(context.Background(), "general", HistoryQuery{Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Messages) != 2 || page.Messages[0].Seq != 4 || !page.HasMore || page.Before != 4 {
		t.Fatalf("page %+v, want 4 and 5, more before 4", page)
	}
	page, err = c.History(context.Background(), "general", HistoryQuery{Before: page.Before, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Messages) != 3 || page.Messages[0].Seq != 1 || page.HasMore {
		t.Fatalf("page %+v, want 1 to 3, no more", page)
	}
}

func TestLeaveStopsDelivery(t *testing.T) {
	s := newTestServer(t)
	c := dial(t, s, testOptions("alice"))
	join(t, c, "general")
	join(t, c, "random")
	if err := c.Leave(context.Background(), "general"); err != nil {
		t.Fatal(err)
	}
	s.post("general", "bob", "not for alice")
	s.post("random", "bob", "for alice")
	wantMessages(t, c, "random", 1)
}

func TestCloseEndsMethodsAndEvents(t *testing.T) {
	s := newTestServer(t)
	c := dial(t, s, testOptions("alice"))
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Send(context.Background(), "general", "hi"); !errors.Is(err, ErrClosed) {
		t.Fatalf("Send after Close: %v, want ErrClosed", err)
	}
	for range c.Events() {
	}
	if c.State() != Closed {
		t.Fatalf("state %v, want closed", c.State())
	}
	sc := s.nextConn()
	sc.waitClosed()
	if sc.status != 1000 {
		t.Fatalf("close status %d, want 1000", sc.status)
	}
}

func TestGatewayErrorFrameLeadsToAResend(t *testing.T) {
	s := newTestServer(t)
	opts := testOptions("alice")
	opts.RequestTimeout = 100 * time.Millisecond
	c := dial(t, s, opts)
	join(t, c, "general")
	failed := false
	s.setIntercept(func(sc *serverConn, req clientRequest) bool {
		if req.Action != protocol.ActionHistory || failed {
			return false
		}
		failed = true // API Gateway's own frame names no request
		sc.send(map[string]string{"message": "Internal server error", "connectionId": "c1", "requestId": "r1"})
		return true
	})
	if _, err := c.History(context.Background(), "general", HistoryQuery{}); err != nil {
		t.Fatal(err)
	}
}

func TestPresenceIsDelivered(t *testing.T) {
	s := newTestServer(t)
	c := dial(t, s, testOptions("alice"))
	join(t, c, "general")
	s.nextConn().send(protocol.Presence{Type: protocol.FramePresence, RoomID: "general", UserID: "bob", Event: protocol.PresenceJoined})
	e, ok := nextEvent(t, c).(*PresenceEvent)
	if !ok || e.UserID != "bob" || e.Event != protocol.PresenceJoined {
		t.Fatalf("event %#v, want bob's presence", e)
	}
}
