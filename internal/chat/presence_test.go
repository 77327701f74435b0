package chat_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/chatstack/websocketchatapi/internal/chat"
	"github.com/chatstack/websocketchatapi/internal/managementapi/managementapitest"
	"github.com/chatstack/websocketchatapi/protocol"
)

// presenceEvents returns the presence events posted to connID, as "<event> <user>".
func (e *env) presenceEvents(connID string) []string {
	e.t.Helper()
	var out []string
	for _, p := range e.posts(connID) {
		if p["type"] == protocol.FramePresence {
			out = append(out, fmt.Sprintf("%v %v", p["event"], p["userId"]))
		}
	}
	return out
}

// TestPresenceIsPerUser: a user joins a room with their first connection in it and leaves
// with their last, whichever way the connections go (leaveroom or $disconnect).
func TestPresenceIsPerUser(t *testing.T) {
	e := newEnv(t, chat.Options{}, "B=bob", "A1=alice", "A2=alice")
	ctx := context.Background()
	e.join("B", "r1")
	e.join("A1", "r1")
	e.join("A2", "r1")
	if got := e.presenceEvents("B"); len(got) != 1 || got[0] != "joined alice" {
		t.Fatalf("bob heard %q, want alice joined once", got)
	}
	if got := e.presenceEvents("A1"); len(got) != 0 {
		t.Fatalf("alice's first connection heard %q when her second joined", got)
	}
	e.api.Reset()
	e.ok("A1", protocol.ActionLeaveRoom, `{"roomId":"r1"}`, nil)
	if got := e.presenceEvents("B"); len(got) != 0 {
		t.Fatalf("bob heard %q although alice is still in the room", got)
	}
	if _, err := e.svc.Disconnect(ctx, "A2"); err != nil {
		t.Fatal(err)
	}
	if got := e.presenceEvents("B"); len(got) != 1 || got[0] != "left alice" {
		t.Fatalf("bob heard %q, want alice left once", got)
	}
	// She comes back: joined again.
	e.connect("A3", "alice")
	e.join("A3", "r1")
	if got := e.presenceEvents("B"); len(got) != 2 || got[1] != "joined alice" {
		t.Fatalf("bob heard %q, want alice joined again", got)
	}
}

// TestPresenceUnderConcurrentConnections: eight connections of one user join at once and then
// close at once; the room hears one joined and one left.
func TestPresenceUnderConcurrentConnections(t *testing.T) {
	e := newEnv(t, chat.Options{}, "B=bob")
	e.join("B", "r1")
	var ids []string
	for i := range 8 {
		id := fmt.Sprintf("A%d", i)
		e.connect(id, "alice")
		ids = append(ids, id)
	}
	all := func(f func(id string)) {
		var wg sync.WaitGroup
		for _, id := range ids {
			wg.Go(func() { f(id) })
		}
		wg.Wait()
	}
	all(func(id string) {
		res, raw := e.do(id, protocol.ActionJoinRoom, `{"roomId":"r1"}`)
		if res.Code != "" {
			t.Errorf("join %s: %s", id, raw)
		}
	})
	if got := e.presenceEvents("B"); len(got) != 1 || got[0] != "joined alice" {
		t.Fatalf("after 8 concurrent joins bob heard %q, want one joined", got)
	}
	all(func(id string) {
		if _, err := e.svc.Disconnect(context.Background(), id); err != nil {
			t.Errorf("disconnect %s: %v", id, err)
		}
	})
	if got := e.presenceEvents("B"); len(got) != 2 || got[1] != "left alice" {
		t.Fatalf("after 8 concurrent disconnects bob heard %q, want one left", got)
	}
}

// TestGoneConnectionLeavesPresence: a connection found closed (410) by a broadcast is taken
// out of its user's presence, so the user's last live connection still leaves the room.
func TestGoneConnectionLeavesPresence(t *testing.T) {
	e := newEnv(t, chat.Options{}, "A=alice", "B1=bob", "B2=bob")
	for _, c := range []string{"A", "B1", "B2"} {
		e.join(c, "r1")
	}
	e.api.Set("B1", managementapitest.Always(http.StatusGone))
	if ack := e.send("A", "r1", "who is there"); ack.Gone != 1 {
		t.Fatalf("ack %+v: want B1 found gone", ack)
	}
	e.api.Reset()
	e.ok("B2", protocol.ActionLeaveRoom, `{"roomId":"r1"}`, nil)
	if got := e.presenceEvents("A"); len(got) != 1 || got[0] != "left bob" {
		t.Fatalf("alice heard %q when bob's last live connection left, want bob left", got)
	}
}
