package chat_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chatstack/websocketchatapi/internal/chat"
	"github.com/chatstack/websocketchatapi/protocol"
)

// tokenStore is a Store that counts TakeToken calls and, when err is set, fails them.
type tokenStore struct {
	chat.Store
	calls atomic.Int64
	err   error
}

func (s *tokenStore) TakeToken(ctx context.Context, connectionID string, now time.Time, rate, burst float64, expiresAt time.Time) (bool, error) {
	s.calls.Add(1)
	if s.err != nil {
		return false, s.err
	}
	return s.Store.TakeToken(ctx, connectionID, now, rate, burst, expiresAt)
}

// useStore makes e's Service work on store, with options o (and e's clock and fast retries).
func (e *env) useStore(store chat.Store, o chat.Options) {
	e.t.Helper()
	o.Now = e.clock.Now
	o.Fanout.Retry = fastRetry
	svc, err := chat.NewService(store, e.api.Client(), o)
	if err != nil {
		e.t.Fatal(err)
	}
	e.svc = svc
}

func TestRateLimitRefusesAndDoesNothingElse(t *testing.T) {
	e := newEnv(t, chat.Options{RateLimit: chat.RateLimit{PerSecond: 1, Burst: 3}}, "A=alice", "B=bob")
	e.join("A", "r1") // A's token 1 of 3
	e.join("B", "r1")
	e.api.Reset()
	e.send("A", "r1", "one")
	e.send("A", "r1", "two")

	res, raw := e.do("A", protocol.ActionSendMessage, `{"roomId":"r1","text":"three"}`)
	var f protocol.Error
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	if f.Type != protocol.FrameError || f.Code != protocol.CodeRateLimited || res.Code != protocol.CodeRateLimited ||
		f.Action != protocol.ActionSendMessage || res.Fanout != nil || res.Err != nil {
		t.Fatalf("fourth action in a burst of 3: %s (%+v), want a rate_limited error frame and nothing else", raw, res)
	}
	if !strings.Contains(f.Message, "1 per second") || !strings.Contains(f.Message, "up to 3") {
		t.Errorf("message %q does not state the limit", f.Message)
	}
	if got := e.posts("B"); len(got) != 2 || got[1]["text"] != "two" {
		t.Errorf("B got %v, want only one and two", got)
	}
	var page protocol.HistoryPage
	e.ok("B", protocol.ActionHistory, `{"roomId":"r1"}`, &page)
	if len(page.Messages) != 2 {
		t.Errorf("history holds %d messages, want the 2 admitted", len(page.Messages))
	}
	// Every action takes a token, before its body is even read.
	e.fails("A", protocol.ActionHistory, `{"roomId":"r1"}`, protocol.CodeRateLimited)
	e.fails("A", protocol.ActionJoinRoom, `not json`, protocol.CodeRateLimited)
	// Other connections are not affected.
	e.send("B", "r1", "bob is fine")

	// A second later one token is back, and only one.
	e.clock.Advance(time.Second)
	e.send("A", "r1", "four")
	e.fails("A", protocol.ActionSendMessage, `{"roomId":"r1","text":"five"}`, protocol.CodeRateLimited)
	if got := e.posts("B"); len(got) != 3 || got[2]["text"] != "four" {
		t.Errorf("B got %v, want one, two, four", got)
	}
}

func TestRateLimitTakesOneTokenPerAction(t *testing.T) {
	e := newEnv(t, chat.Options{})
	ts := &tokenStore{Store: e.store}
	e.useStore(ts, chat.Options{RateLimit: chat.RateLimit{PerSecond: 100, Burst: 100}})
	e.connect("A", "alice")
	e.join("A", "r1")
	e.send("A", "r1", "x")
	e.ok("A", protocol.ActionHistory, `{"roomId":"r1"}`, nil)
	e.fails("A", protocol.ActionSendMessage, `{}`, protocol.CodeInvalidRequest)
	e.fails("A", "shout", `{}`, protocol.CodeUnknownAction) // no such action: no token
	e.fails("Z", protocol.ActionHistory, `{"roomId":"r1"}`, protocol.CodeUnauthorized)
	if n := ts.calls.Load(); n != 4 {
		t.Errorf("TakeToken called %d times, want 4 (join, send, history, invalid send)", n)
	}
}

func TestRateLimitDisabled(t *testing.T) {
	e := newEnv(t, chat.Options{})
	ts := &tokenStore{Store: e.store}
	e.useStore(ts, chat.Options{})
	e.connect("A", "alice")
	e.join("A", "r1")
	for i := range 40 {
		e.send("A", "r1", fmt.Sprint(i))
	}
	if n := ts.calls.Load(); n != 0 {
		t.Errorf("rate limiting off, yet TakeToken was called %d times", n)
	}
}

func TestRateLimitStoreFailures(t *testing.T) {
	e := newEnv(t, chat.Options{}, "A=alice")
	ts := &tokenStore{Store: e.store, err: fmt.Errorf("dynamostore: take token of A: %w", chat.ErrTokenContention)}
	e.useStore(ts, chat.Options{RateLimit: chat.RateLimit{PerSecond: 1, Burst: 1}})
	if res, _ := e.do("A", protocol.ActionJoinRoom, `{"roomId":"r1"}`); res.Code != protocol.CodeRateLimited || res.Err != nil {
		t.Errorf("contended bucket: %+v, want rate_limited", res)
	}
	ts.err = errors.New("throttled")
	res, raw := e.do("A", protocol.ActionJoinRoom, `{"roomId":"r1"}`)
	if res.Code != protocol.CodeInternal || res.Err == nil || !strings.Contains(res.Err.Error(), "throttled") || strings.Contains(string(raw), "throttled") {
		t.Errorf("failing bucket: %s (%v), want internal_error hiding the cause", raw, res.Err)
	}
	if _, err := e.store.GetMembership(context.Background(), "A", "r1"); !errors.Is(err, chat.ErrNotFound) {
		t.Errorf("a refused join was stored: %v", err)
	}
}

func TestNewServiceRejectsBadRateLimits(t *testing.T) {
	e := newEnv(t, chat.Options{})
	for _, r := range []chat.RateLimit{
		{PerSecond: -1, Burst: 1},
		{PerSecond: math.NaN(), Burst: 1},
		{PerSecond: math.Inf(1), Burst: 1},
		{PerSecond: 1, Burst: 0},
		{PerSecond: 1, Burst: 0.5},
		{PerSecond: 1, Burst: math.Inf(1)},
	} {
		if _, err := chat.NewService(e.store, nil, chat.Options{RateLimit: r}); err == nil {
			t.Errorf("NewService accepted %+v", r)
		}
	}
	if _, err := chat.NewService(e.store, nil, chat.Options{RateLimit: chat.RateLimit{PerSecond: 0.5, Burst: 1}}); err != nil {
		t.Errorf("half a message per second: %v", err)
	}
}

func TestDisconnectTellsTheRoomsTheUserLeft(t *testing.T) {
	e := newEnv(t, chat.Options{})
	ctx := context.Background()
	for _, c := range [][2]string{{"A", "alice"}, {"B", "bob"}, {"C", "carol"}, {"D", "dave"}, {"E", "erin"}} {
		e.connect(c[0], c[1])
	}
	e.join("A", "r1")
	e.join("A", "r2")
	e.join("B", "r1")
	e.join("C", "r1")
	e.join("D", "r2")
	e.join("E", "r3")
	e.api.Reset()

	res, err := e.svc.Disconnect(ctx, "A")
	if err != nil {
		t.Fatal(err)
	}
	if res.Rooms != 2 || res.Fanout.Targets != 3 || res.Fanout.Delivered != 3 {
		t.Errorf("Disconnect = %+v, want 2 rooms and 3 deliveries", res)
	}
	for conn, room := range map[string]string{"B": "r1", "C": "r1", "D": "r2"} {
		p := e.posts(conn)
		if len(p) != 1 || p[0]["type"] != "presence" || p[0]["event"] != "left" || p[0]["userId"] != "alice" ||
			p[0]["displayName"] != "name of alice" || p[0]["roomId"] != room {
			t.Errorf("%s got %v, want presence left of alice in %s", conn, p, room)
		}
	}
	if len(e.posts("E")) != 0 || len(e.posts("A")) != 0 {
		t.Errorf("E (another room) got %v, A (gone) got %v", e.posts("E"), e.posts("A"))
	}
	if _, err := e.store.GetMembership(ctx, "A", "r1"); !errors.Is(err, chat.ErrNotFound) {
		t.Errorf("membership after disconnect: %v", err)
	}

	// Again: nothing left to announce.
	if res, err := e.svc.Disconnect(ctx, "A"); err != nil || res.Rooms != 0 {
		t.Errorf("second Disconnect = %+v, %v", res, err)
	}
	// A Service without a Poster deletes, and tells nobody.
	quiet, err := chat.NewService(e.store, nil, chat.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res, err := quiet.Disconnect(ctx, "B"); err != nil || res.Rooms != 0 {
		t.Errorf("Disconnect without a Poster = %+v, %v", res, err)
	}
	if _, err := e.store.GetConnection(ctx, "B"); !errors.Is(err, chat.ErrNotFound) {
		t.Errorf("B after disconnect: %v", err)
	}
	if n := len(e.posts("C")); n != 1 {
		t.Errorf("C got %d frames, want only alice's departure", n)
	}
}
