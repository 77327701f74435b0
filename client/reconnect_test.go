package client

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/chatstack/websocketchatapi/protocol"
)

func TestResumeAfterAbruptDrop(t *testing.T) {
	s := newTestServer(t)
	c := dial(t, s, testOptions("alice"))
	join(t, c, "general")
	conn1 := s.nextConn()
	s.post("general", "bob", "one")
	s.post("general", "bob", "two")
	wantMessages(t, c, "general", 1, 2)

	s.setRefuseAll(true) // messages 3 and 4 are posted while alice cannot connect
	conn1.drop()
	conn1.waitClosed()
	wantState(t, c, Reconnecting)
	s.post("general", "bob", "three")
	s.post("general", "bob", "four")
	s.setRefuseAll(false)

	conn2 := s.nextConn() // refused handshakes are never accepted
	rejoin := conn2.next(protocol.ActionJoinRoom)
	if rejoin.RoomID != "general" || rejoin.Since == nil || *rejoin.Since != 2 {
		t.Fatalf("rejoin %+v, want general since 2", rejoin)
	}
	// The replay is delivered before the client announces the connection.
	wantMessages(t, c, "general", 3, 4)
	wantState(t, c, Connected)
	s.post("general", "bob", "five")
	wantMessages(t, c, "general", 5)
	wantNoEvent(t, c, "general")
}

func TestSendRetriedAfterAnAnswerLostWithTheConnection(t *testing.T) {
	s := newTestServer(t)
	c := dial(t, s, testOptions("alice"))
	join(t, c, "general")
	conn1 := s.nextConn()
	s.setIntercept(func(sc *serverConn, req clientRequest) bool {
		if sc == conn1 && req.Action == protocol.ActionSendMessage {
			s.mu.Lock()
			s.room(req.RoomID).members[sc] = true
			s.mu.Unlock()
			s.store(req.RoomID, sc.user, req.Text)
			s.mu.Lock()
			s.room(req.RoomID).acks[req.ClientMessageID] = protocol.Ack{Type: protocol.FrameAck, RoomID: req.RoomID,
				Seq: 1, MessageID: "m1", ClientMessageID: req.ClientMessageID, UserID: sc.user}
			s.mu.Unlock()
			sc.drop() // stored; the ack never leaves
			return true
		}
		return false
	})
	ack, err := c.Send(context.Background(), "general", "hello")
	if err != nil {
		t.Fatal(err)
	}
	first := conn1.next(protocol.ActionSendMessage)
	conn2 := s.nextConn()
	again := conn2.next(protocol.ActionSendMessage)
	if again.ClientMessageID != first.ClientMessageID {
		t.Fatalf("retry clientMessageId %q, want the first one %q", again.ClientMessageID, first.ClientMessageID)
	}
	if !ack.Duplicate || ack.Seq != 1 {
		t.Fatalf("ack %+v, want the first acknowledgement (seq 1) marked duplicate", ack)
	}
	wantMessages(t, c, "general", 1)
	s.mu.Lock()
	stored := len(s.rooms["general"].messages)
	s.mu.Unlock()
	if stored != 1 {
		t.Fatalf("%d messages stored, want 1", stored)
	}
	wantNoEvent(t, c, "general")
}

func TestSendRetriedAfterRateLimitedAndInternalError(t *testing.T) {
	s := newTestServer(t)
	c := dial(t, s, testOptions("alice"))
	join(t, c, "general")
	refusals := []string{protocol.CodeRateLimited, protocol.CodeInternal}
	var mu sync.Mutex
	var ids []string
	s.setIntercept(func(sc *serverConn, req clientRequest) bool {
		if req.Action != protocol.ActionSendMessage {
			return false
		}
		mu.Lock()
		defer mu.Unlock()
		ids = append(ids, req.ClientMessageID)
		if len(refusals) == 0 {
			return false
		}
		e := protocol.NewError(refusals[0], "try again")
		e.Action, e.RoomID, e.ClientMessageID = req.Action, req.RoomID, req.ClientMessageID
		refusals = refusals[1:]
		sc.send(e)
		return true
	})
	ack, err := c.Send(context.Background(), "general", "hello")
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(ids) != 3 || ids[0] != ids[1] || ids[1] != ids[2] || ack.ClientMessageID != ids[0] {
		t.Fatalf("clientMessageIds sent %q, ack's %q: want the same one three times", ids, ack.ClientMessageID)
	}
	wantMessages(t, c, "general", 1)
}

func TestSendWaitsForTheNextConnection(t *testing.T) {
	s := newTestServer(t)
	c := dial(t, s, testOptions("alice"))
	join(t, c, "general")
	conn1 := s.nextConn()
	s.setRefuseAll(true)
	conn1.drop()
	wantState(t, c, Reconnecting)

	sent := make(chan error, 1)
	go func() {
		_, err := c.Send(context.Background(), "general", "queued")
		sent <- err
	}()
	s.setRefuseAll(false)
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	wantMessages(t, c, "general", 1)
}

func TestSendGivesUpWhenItsContextEnds(t *testing.T) {
	s := newTestServer(t)
	c := dial(t, s, testOptions("alice"))
	s.setRefuseAll(true)
	s.nextConn().drop()
	wantState(t, c, Reconnecting)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := c.Send(ctx, "general", "never"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Send: %v, want context.DeadlineExceeded", err)
	}
}

func TestTokenFetchedForEveryConnection(t *testing.T) {
	s := newTestServer(t)
	c := dial(t, s, testOptions("alice"))
	s.nextConn().drop()
	wantState(t, c, Reconnecting)
	wantState(t, c, Connected)
	s.mu.Lock()
	tokens := slices.Clone(s.tokens)
	s.mu.Unlock()
	if !slices.Equal(tokens, []string{"alice#1", "alice#2"}) {
		t.Fatalf("tokens %q, want a fresh one per connection", tokens)
	}
}

func TestTokenInSubprotocol(t *testing.T) {
	s := newTestServer(t)
	opts := testOptions("alice")
	opts.TokenTransport = TokenInSubprotocol
	c := dial(t, s, opts)
	sc := s.nextConn()
	if sc.token != "alice#1" || sc.ws.Subprotocol() != "chat.v1" {
		t.Fatalf("token %q subprotocol %q, want alice#1 over chat.v1", sc.token, sc.ws.Subprotocol())
	}
	join(t, c, "general")
}

func TestRefusedTokenFailsDial(t *testing.T) {
	s := newTestServer(t)
	s.refuseTokens("alice#1")
	_, err := Dial(context.Background(), s.url(), testOptions("alice"))
	var auth *AuthError
	if !errors.As(err, &auth) || auth.StatusCode != 401 {
		t.Fatalf("Dial: %v, want an *AuthError with 401", err)
	}
}

func TestUnauthorizedReplacesTheConnection(t *testing.T) {
	s := newTestServer(t)
	c := dial(t, s, testOptions("alice"))
	join(t, c, "general")
	conn1 := s.nextConn()
	s.setIntercept(func(sc *serverConn, req clientRequest) bool {
		if sc != conn1 || req.Action != protocol.ActionSendMessage {
			return false
		}
		e := protocol.NewError(protocol.CodeUnauthorized, "connection unknown")
		e.Action, e.RoomID, e.ClientMessageID = req.Action, req.RoomID, req.ClientMessageID
		sc.send(e)
		return true
	})
	if _, err := c.Send(context.Background(), "general", "hello"); err != nil {
		t.Fatal(err)
	}
	conn1.waitClosed()
	wantMessages(t, c, "general", 1)
}

func TestFailedReconnectsAreReported(t *testing.T) {
	s := newTestServer(t)
	c := dial(t, s, testOptions("alice"))
	s.refuseTokens("alice#2", "alice#3") // two expired tokens, then a good one
	s.nextConn().drop()
	var auths int
	for {
		e, ok := nextEvent(t, c).(*StateEvent)
		if !ok {
			continue
		}
		var auth *AuthError
		if errors.As(e.Err, &auth) {
			auths++
		}
		if e.State == Connected {
			break
		}
	}
	if auths != 2 {
		t.Fatalf("%d reconnects refused for the token reported, want 2", auths)
	}
}

func TestRateLimitedResumeIsRetriedOnTheSameConnection(t *testing.T) {
	s := newTestServer(t)
	c := dial(t, s, testOptions("alice"))
	join(t, c, "general")
	conn1 := s.nextConn()
	limited := false
	s.setIntercept(func(sc *serverConn, req clientRequest) bool {
		if sc.n != 2 || req.Action != protocol.ActionJoinRoom || limited {
			return false
		}
		limited = true // only conn2's goroutine runs this
		e := protocol.NewError(protocol.CodeRateLimited, "slow down")
		e.Action, e.RoomID = req.Action, req.RoomID
		sc.send(e)
		return true
	})
	conn1.drop()
	wantState(t, c, Connected)
	conn2 := s.nextConn()
	conn2.next(protocol.ActionJoinRoom)
	conn2.next(protocol.ActionJoinRoom)
	s.post("general", "bob", "hi")
	wantMessages(t, c, "general", 1)
	if len(s.accepted) != 0 {
		t.Fatal("a third connection was made: want the resume retried on the second")
	}
}
