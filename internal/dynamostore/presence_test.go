package dynamostore

import (
	"context"
	"testing"
	"time"

	"github.com/chatstack/websocketchatapi/internal/chat"
)

func TestPresenceFirstAndLast(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p := func(conn string, exp time.Time) chat.Presence {
		return chat.Presence{RoomID: "r", UserID: "u", ConnectionID: conn, ExpiresAt: exp}
	}
	live := now.Add(time.Hour)
	steps := []struct {
		name string
		do   func() (bool, error)
		want bool
	}{
		{"first connection", func() (bool, error) { return e.store.AddPresence(ctx, p("c1", live)) }, true},
		{"second connection", func() (bool, error) { return e.store.AddPresence(ctx, p("c2", live)) }, false},
		{"the same again", func() (bool, error) { return e.store.AddPresence(ctx, p("c2", live)) }, false},
		{"one leaves", func() (bool, error) { return e.store.RemovePresence(ctx, "r", "u", "c1") }, false},
		{"a stranger leaves", func() (bool, error) { return e.store.RemovePresence(ctx, "r", "u", "c9") }, false},
		{"the last leaves", func() (bool, error) { return e.store.RemovePresence(ctx, "r", "u", "c2") }, true},
		{"and again (a leave racing a disconnect)", func() (bool, error) { return e.store.RemovePresence(ctx, "r", "u", "c2") }, false},
		{"back again", func() (bool, error) { return e.store.AddPresence(ctx, p("c3", live)) }, true},
		{"no record at all", func() (bool, error) { return e.store.RemovePresence(ctx, "other", "u", "c3") }, false},
	}
	for _, s := range steps {
		got, err := s.do()
		if err != nil || got != s.want {
			t.Fatalf("%s: %v, %v; want %v", s.name, got, err, s.want)
		}
	}
}

// TestExpiredPresenceStartsAgain: connections that vanished without $disconnect leave an
// expired record; the next connection is the user's first, and the stale ones are dropped.
func TestExpiredPresenceStartsAgain(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	stale := chat.Presence{RoomID: "r", UserID: "u", ConnectionID: "old", ExpiresAt: now.Add(-time.Minute)}
	if _, err := e.store.AddPresence(ctx, stale); err != nil {
		t.Fatal(err)
	}
	fresh := chat.Presence{RoomID: "r", UserID: "u", ConnectionID: "new", ExpiresAt: now.Add(time.Hour)}
	if first, err := e.store.AddPresence(ctx, fresh); err != nil || !first {
		t.Fatalf("join over an expired record: first %v, %v; want true", first, err)
	}
	if last, err := e.store.RemovePresence(ctx, "r", "u", "new"); err != nil || !last {
		t.Fatalf("the only live connection leaves: last %v, %v; want true (the stale one is gone)", last, err)
	}
}

// TestPresenceExpiresWithTheLatestConnection: an older connection joining after a newer one
// never brings the record's expiry forward, so the newer one is not dropped while it lives.
func TestPresenceExpiresWithTheLatestConnection(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	newer := chat.Presence{RoomID: "r", UserID: "u", ConnectionID: "newer", ExpiresAt: now.Add(2 * time.Hour)}
	older := chat.Presence{RoomID: "r", UserID: "u", ConnectionID: "older", ExpiresAt: now.Add(time.Minute)}
	for _, p := range []chat.Presence{newer, older} {
		if _, err := e.store.AddPresence(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	later := New(e.client, e.table, WithClock(func() time.Time { return now.Add(10 * time.Minute) }))
	third := chat.Presence{RoomID: "r", UserID: "u", ConnectionID: "third", ExpiresAt: now.Add(3 * time.Hour)}
	if first, err := later.AddPresence(ctx, third); err != nil || first {
		t.Fatalf("a join while the newer connection lives: first %v, %v; want false", first, err)
	}
}
