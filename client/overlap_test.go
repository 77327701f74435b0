package client

import (
	"slices"
	"testing"
	"time"

	"github.com/chatstack/websocketchatapi/protocol"
)

// TestReplacementOverlapsTheOldConnection checks the proactive reconnect at
// Options.MaxConnectionAge: the new connection is joined and resumed before the old one is
// closed (normally), and the messages around the switch come once each, in order, though
// some of them reach both connections.
func TestReplacementOverlapsTheOldConnection(t *testing.T) {
	s := newTestServer(t)
	opts := testOptions("alice")
	opts.MaxConnectionAge = 200 * time.Millisecond
	s.setIntercept(func(sc *serverConn, req clientRequest) bool {
		if sc.n != 2 || req.Action != protocol.ActionJoinRoom {
			return false
		}
		s.post("general", "bob", "three: old connection only")
		s.join(sc, req.RoomID, req.Since) // replays three
		s.post("general", "bob", "four: both connections")
		return true
	})
	c := dial(t, s, opts)
	join(t, c, "general")
	conn1 := s.nextConn()
	s.post("general", "bob", "one")
	s.post("general", "bob", "two")
	wantMessages(t, c, "general", 1, 2)

	conn2 := s.nextConn()
	if rejoin := conn2.next(protocol.ActionJoinRoom); rejoin.Since == nil || *rejoin.Since != 2 {
		t.Fatalf("rejoin %+v, want since 2", rejoin)
	}
	conn1.waitClosed()
	if conn1.status != 1000 {
		t.Fatalf("old connection closed with %d, want 1000", conn1.status)
	}
	notes := s.notes()
	joined, closed := slices.Index(notes, "conn2 joined general"), slices.Index(notes, "conn1 closed 1000")
	if joined < 0 || closed < joined {
		t.Fatalf("server saw %q: want conn2 joined before conn1 closed", notes)
	}
	wantMessages(t, c, "general", 3, 4)
	s.post("general", "bob", "five")
	wantMessages(t, c, "general", 5)
	wantNoEvent(t, c, "general")
}
