package client

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/chatstack/websocketchatapi/protocol"
)

func TestDirectMessagesAreDeliveredInTheirConversation(t *testing.T) {
	s := newTestServer(t)
	alice := dial(t, s, testOptions("alice"))
	bob := dial(t, s, testOptions("bob"))
	s.nextConnOf("bob") // the server knows bob
	conv := protocol.ConversationID("alice", "bob")

	ack, err := alice.Direct(context.Background(), "bob", "hi bob")
	if err != nil {
		t.Fatal(err)
	}
	if ack.RoomID != conv || ack.ToUserID != "bob" || ack.Seq != 1 {
		t.Fatalf("ack %+v, want conversation %s seq 1 to bob", ack, conv)
	}
	// Neither joined the conversation: alice has it from her ack, bob from the message.
	for _, c := range []*Client{alice, bob} {
		m := wantMessages(t, c, conv, 1)[0]
		if m.Text != "hi bob" || m.UserID != "alice" || m.ToUserID != "bob" {
			t.Fatalf("direct message %+v, want alice's \"hi bob\" to bob", m)
		}
		if !(&MessageEvent{Message: m}).IsDirect() {
			t.Fatal("IsDirect is false for a direct message")
		}
	}
	if _, err := bob.Direct(context.Background(), "alice", "hi alice"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*Client{alice, bob} {
		if m := wantMessages(t, c, conv, 2)[0]; m.UserID != "bob" || m.ToUserID != "alice" {
			t.Fatalf("reply %+v, want bob's to alice", m)
		}
		if got := c.Conversations(); !slices.Equal(got, []string{conv}) {
			t.Fatalf("Conversations() = %v, want [%s]", got, conv)
		}
	}
	wantNoEvent(t, bob, conv) // reading history of the conversation is allowed
}

func TestDirectConversationGapFilledAndResumed(t *testing.T) {
	s := newTestServer(t)
	alice := dial(t, s, testOptions("alice"))
	bob := dial(t, s, testOptions("bob"))
	bobConn := s.nextConnOf("bob")
	conv := protocol.ConversationID("alice", "bob")
	if _, err := alice.Direct(context.Background(), "bob", "one"); err != nil {
		t.Fatal(err)
	}
	wantMessages(t, bob, conv, 1)

	s.storeDirect("alice", "bob", "two (never delivered live)")
	s.postDirect("alice", "bob", "three")
	got := wantMessages(t, bob, conv, 2, 3)
	if got[0].Text != "two (never delivered live)" || got[0].ToUserID != "bob" {
		t.Fatalf("gap filled with %+v", got[0])
	}
	if h := bobConn.next(protocol.ActionHistory); h.RoomID != conv || h.After == nil || *h.After != 1 {
		t.Fatalf("gap fill %+v, want history of %s after 1", h, conv)
	}

	// Bob is offline while alice writes twice: the conversation is resumed with since.
	s.setRefuseAll(true)
	bobConn.drop()
	bobConn.waitClosed()
	wantState(t, bob, Reconnecting)
	s.postDirect("alice", "bob", "four")
	s.postDirect("alice", "bob", "five")
	s.setRefuseAll(false)
	next := s.nextConnOf("bob")
	rejoin := next.next(protocol.ActionJoinRoom)
	if rejoin.RoomID != conv || rejoin.Since == nil || *rejoin.Since != 3 {
		t.Fatalf("rejoin %+v, want %s since 3", rejoin, conv)
	}
	wantMessages(t, bob, conv, 4, 5)
	wantState(t, bob, Connected)
	s.postDirect("alice", "bob", "six")
	wantMessages(t, bob, conv, 6)
}

func TestDirectRetriedWithTheSameClientMessageID(t *testing.T) {
	s := newTestServer(t)
	alice := dial(t, s, testOptions("alice"))
	conn1 := s.nextConnOf("alice")
	dial(t, s, testOptions("bob"))
	s.nextConnOf("bob") // the server knows bob
	swallowed := make(chan string, 1)
	s.setIntercept(func(sc *serverConn, req clientRequest) bool {
		if sc == conn1 && req.Action == protocol.ActionDirect {
			s.setIntercept(nil)
			m := s.storeDirect(sc.user, req.ToUserID, req.Text)
			s.mu.Lock()
			s.room(m.RoomID).acks[req.ClientMessageID] = protocol.Ack{Type: protocol.FrameAck, RoomID: m.RoomID, Seq: m.Seq,
				MessageID: m.MessageID, ClientMessageID: req.ClientMessageID, UserID: sc.user, ToUserID: req.ToUserID}
			s.mu.Unlock()
			swallowed <- req.ClientMessageID
			sc.drop()
			return true
		}
		return false
	})
	ack, err := alice.Direct(context.Background(), "bob", "hello")
	if err != nil {
		t.Fatal(err)
	}
	var first string
	select {
	case first = <-swallowed:
	default:
		t.Fatal("the first direct request was not intercepted")
	}
	if ack.ClientMessageID != first || !ack.Duplicate {
		t.Fatalf("ack %+v, want the first acknowledgement of %s marked duplicate", ack, first)
	}
	s.mu.Lock()
	stored := len(s.rooms[ack.RoomID].messages)
	s.mu.Unlock()
	if stored != 1 {
		t.Fatalf("%d messages stored, want 1", stored)
	}
	if m := wantMessages(t, alice, ack.RoomID, 1)[0]; m.Text != "hello" || m.ToUserID != "bob" {
		t.Fatalf("own direct message %+v", m)
	}
}

func TestDirectToAnUnknownUserFailsForGood(t *testing.T) {
	s := newTestServer(t)
	alice := dial(t, s, testOptions("alice"))
	_, err := alice.Direct(context.Background(), "nobody", "hi")
	if !isErr(err, protocol.CodeUnknownUser) {
		t.Fatalf("Direct: %v, want an unknown_user *Error", err)
	}
	if _, err := alice.Direct(context.Background(), "", "hi"); err == nil {
		t.Fatal("Direct to an empty user id succeeded")
	}
}

func TestMembersFollowsTheCursor(t *testing.T) {
	s := newTestServer(t)
	var clients []*Client
	for _, u := range []string{"carol", "alice", "bob"} {
		c := dial(t, s, testOptions(u))
		join(t, c, "general")
		clients = append(clients, c)
	}
	join(t, clients[1], "general") // alice again: still one connection
	var got []string
	for m, err := range clients[0].Members(context.Background(), "general") {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, m.UserID)
	}
	if want := []string{"alice", "bob", "carol"}; !slices.Equal(got, want) {
		t.Fatalf("members %v, want %v (over two pages)", got, want)
	}
	cursors := 0
	s.mu.Lock()
	first := s.conns[0] // carol's
	s.mu.Unlock()
	for _, sc := range []*serverConn{first} {
		for len(sc.requests) > 0 {
			if req := <-sc.requests; req.Action == protocol.ActionMembers && req.Cursor != "" {
				cursors++
			}
		}
	}
	if cursors != 1 {
		t.Fatalf("%d members requests with a cursor, want 1", cursors)
	}
	for m, err := range clients[0].Members(context.Background(), "general") {
		if err != nil {
			t.Fatal(err)
		}
		if m.UserID != "alice" {
			t.Fatalf("first member %s, want alice", m.UserID)
		}
		break // stops reading pages
	}
	for _, err := range clients[0].Members(context.Background(), "elsewhere") {
		if !isErr(err, protocol.CodeNotMember) {
			t.Fatalf("members of a room not joined: %v, want not_member", err)
		}
	}
}

func TestAppEventsStoredEventsAndQueuedAcks(t *testing.T) {
	s := newTestServer(t)
	c := dial(t, s, testOptions("alice"))
	join(t, c, "general")
	sc := s.nextConn()
	at := protocol.NewTime(time.Now())
	sc.send(protocol.Event{Type: protocol.FrameEvent, RoomID: "general", EventType: "inventory.updated", Data: json.RawMessage(`{"sku":"a1"}`), SentAt: at})
	sc.send(protocol.Event{Type: protocol.FrameEvent, EventType: "account.note", Data: json.RawMessage(`null`), SentAt: at})
	for _, want := range []string{"general/inventory.updated", "/account.note"} {
		var ev *AppEvent
		for ev == nil {
			ev, _ = nextEvent(t, c).(*AppEvent)
		}
		if got := ev.RoomID + "/" + ev.EventType; got != want || ev.SentAt.IsZero() {
			t.Fatalf("event %+v, want %s with its time", ev, want)
		}
	}

	// A stored event is a numbered message.
	m, members := s.store("general", "system:inventory", "")
	m.System, m.EventType, m.Data = true, "inventory.updated", json.RawMessage(`{"sku":"a2"}`)
	s.mu.Lock()
	s.rooms["general"].messages[0] = m
	s.mu.Unlock()
	s.fanOut(m, members, nil)
	got := wantMessages(t, c, "general", 1)[0]
	if !got.System || got.EventType != "inventory.updated" || string(got.Data) != `{"sku":"a2"}` {
		t.Fatalf("stored event %+v", got)
	}

	// A large room's acknowledgement is queued.
	s.setIntercept(func(sc *serverConn, req clientRequest) bool {
		if req.Action != protocol.ActionSendMessage {
			return false
		}
		m, _ := s.store(req.RoomID, sc.user, req.Text)
		sc.send(protocol.Ack{Type: protocol.FrameAck, RoomID: req.RoomID, Seq: m.Seq, MessageID: m.MessageID,
			ClientMessageID: req.ClientMessageID, UserID: sc.user, SentAt: m.SentAt, Queued: true})
		return true
	})
	ack, err := c.Send(context.Background(), "general", "to many")
	if err != nil {
		t.Fatal(err)
	}
	if !ack.Queued || ack.Delivered != 0 {
		t.Fatalf("ack %+v, want queued", ack)
	}
	wantMessages(t, c, "general", 2)
}

// nextConnOf returns the next accepted connection of user, skipping others' (two clients
// dialed one after the other may be accepted in either order).
func (s *testServer) nextConnOf(user string) *serverConn {
	s.t.Helper()
	for {
		if sc := s.nextConn(); sc.user == user {
			return sc
		}
	}
}
