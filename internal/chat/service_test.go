package chat_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatstack/websocketchatapi/internal/chat"
	"github.com/chatstack/websocketchatapi/internal/ddblocal/ddblocaltest"
	"github.com/chatstack/websocketchatapi/internal/dynamostore"
	"github.com/chatstack/websocketchatapi/internal/dynamostore/dynamostoretest"
	"github.com/chatstack/websocketchatapi/internal/managementapi/managementapitest"
	"github.com/chatstack/websocketchatapi/protocol"
)

// TestMain shares one DynamoDB Local between the package's tests; each test makes its own table.
func TestMain(m *testing.M) { ddblocaltest.Main(m) }

// newStore creates a table of its own in DynamoDB Local and returns the real store over it.
func newStore(t *testing.T, clock func() time.Time) chat.Store {
	t.Helper()
	client, name := dynamostoretest.NewTable(t)
	return dynamostore.New(client, name, dynamostore.WithClock(clock))
}

// fakeClock is a clock that moves one millisecond at every reading, so that messages sort in
// the order they were sent.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *fakeClock {
	return &fakeClock{now: time.Now().UTC().Truncate(time.Millisecond)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(time.Millisecond)
	return c.now
}

// Advance moves the clock d ahead.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// fastRetry keeps retries of tests in milliseconds.
var fastRetry = chat.RetryPolicy{MaxAttempts: 5, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond}

// env is a Service over DynamoDB Local and a recording @connections server, reached through the
// real managementapi client.
type env struct {
	t     *testing.T
	clock *fakeClock
	store chat.Store
	api   *managementapitest.Server
	svc   *chat.Service
	users map[string]string // connection id -> user id
}

// newEnv returns a Service with options o over a table of its own, and connects each of
// connections, written "<connection id>=<user id>".
func newEnv(t *testing.T, o chat.Options, connections ...string) *env {
	t.Helper()
	e := &env{t: t, clock: newClock(), api: managementapitest.New(t, "prod"), users: map[string]string{}}
	e.store = newStore(t, e.clock.Now)
	o.Now = e.clock.Now
	if o.Fanout.Retry == (chat.RetryPolicy{}) {
		o.Fanout.Retry = fastRetry
	}
	svc, err := chat.NewService(e.store, e.api.Client(), o)
	if err != nil {
		t.Fatal(err)
	}
	e.svc = svc
	for _, c := range connections {
		id, user, _ := strings.Cut(c, "=")
		e.connect(id, user)
	}
	return e
}

// members connects each of ids, as user "user-<id>", and joins it to room; the presence posts
// that makes are then forgotten (e.api.Reset).
func (e *env) members(room string, ids ...string) {
	e.t.Helper()
	for _, id := range ids {
		e.connect(id, "user-"+id)
		e.join(id, room)
	}
	e.api.Reset()
}

func (e *env) connect(connID, userID string) chat.Connection {
	e.t.Helper()
	c, err := e.svc.Connect(context.Background(), connID, chat.Identity{UserID: userID, DisplayName: "name of " + userID})
	if err != nil {
		e.t.Fatalf("connect %s: %v", connID, err)
	}
	e.users[connID] = userID
	return c
}

// do sends one action from connID, with the identity that connected it, and returns the
// result and its frame as JSON.
func (e *env) do(connID, action, body string) (chat.Result, []byte) {
	e.t.Helper()
	res := e.svc.Handle(context.Background(), chat.Request{
		ConnectionID: connID,
		Action:       action,
		Body:         []byte(body),
		Identity:     chat.Identity{UserID: e.users[connID], DisplayName: "name of " + e.users[connID]},
	})
	if res.Frame == nil {
		e.t.Fatalf("%s %s: nil frame", action, body)
	}
	return res, protocol.Encode(res.Frame)
}

// ok runs an action that must succeed and decodes its frame into out.
func (e *env) ok(connID, action, body string, out any) {
	e.t.Helper()
	res, raw := e.do(connID, action, body)
	if res.Code != "" || res.Err != nil {
		e.t.Fatalf("%s by %s: %s (%v)", action, connID, raw, res.Err)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			e.t.Fatal(err)
		}
	}
}

// fails runs an action that must fail with code, and returns the error frame.
func (e *env) fails(connID, action, body, code string) protocol.Error {
	e.t.Helper()
	res, raw := e.do(connID, action, body)
	var f protocol.Error
	if err := json.Unmarshal(raw, &f); err != nil {
		e.t.Fatal(err)
	}
	if f.Type != protocol.FrameError || f.Code != code || res.Code != code {
		e.t.Fatalf("%s %s by %s: got %s, want an error frame with code %s", action, body, connID, raw, code)
	}
	return f
}

func (e *env) join(connID, room string) {
	e.t.Helper()
	var j protocol.Joined
	e.ok(connID, protocol.ActionJoinRoom, `{"action":"joinroom","roomId":"`+room+`"}`, &j)
	if j.Type != protocol.FrameJoined || j.RoomID != room {
		e.t.Fatalf("join answered %+v", j)
	}
}

func (e *env) send(connID, room, text string) protocol.Ack {
	e.t.Helper()
	var ack protocol.Ack
	e.ok(connID, protocol.ActionSendMessage, fmt.Sprintf(`{"action":"sendmessage","roomId":%q,"text":%q,"clientMessageId":"c-%s"}`, room, text, text), &ack)
	return ack
}

// posts decodes the frames posted to connID.
func (e *env) posts(connID string) []map[string]any {
	e.t.Helper()
	var out []map[string]any
	for _, b := range e.api.Posts(connID) {
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			e.t.Fatalf("posted to %s: %q is not JSON", connID, b)
		}
		out = append(out, m)
	}
	return out
}

func TestConnectAndDisconnect(t *testing.T) {
	e := newEnv(t, chat.Options{ConnectionTTL: 3 * time.Hour})
	ctx := context.Background()
	c := e.connect("A", "alice")
	got, err := e.store.GetConnection(ctx, "A")
	if err != nil {
		t.Fatal(err)
	}
	if got.UserID != "alice" || got.DisplayName != "name of alice" {
		t.Errorf("stored %+v", got)
	}
	if d := got.ExpiresAt.Sub(got.ConnectedAt); d < 3*time.Hour-time.Second || d > 3*time.Hour+time.Second {
		t.Errorf("expiresAt - connectedAt = %v, want the TTL 3h", d)
	}
	if !c.ExpiresAt.Equal(c.ConnectedAt.Add(3 * time.Hour)) {
		t.Errorf("Connect returned %+v", c)
	}
	e.join("A", "r1")
	e.join("A", "r2")
	for range 2 { // idempotent
		if _, err := e.svc.Disconnect(ctx, "A"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.store.GetConnection(ctx, "A"); !errors.Is(err, chat.ErrNotFound) {
		t.Errorf("connection after disconnect: %v", err)
	}
	for _, r := range []string{"r1", "r2"} {
		if _, err := e.store.GetMembership(ctx, "A", r); !errors.Is(err, chat.ErrNotFound) {
			t.Errorf("membership of %s after disconnect: %v", r, err)
		}
	}
	if len(e.api.Requests()) != 0 {
		t.Errorf("connect/disconnect posted: %+v", e.api.Requests())
	}
}

func TestJoinLeavePresence(t *testing.T) {
	e := newEnv(t, chat.Options{})
	ctx := context.Background()
	e.connect("A", "alice")
	e.connect("B", "bob")
	e.connect("C", "carol")

	e.join("A", "r1")
	if n := len(e.api.Requests()); n != 0 {
		t.Fatalf("first join of an empty room posted %d frames", n)
	}
	m, err := e.store.GetMembership(ctx, "A", "r1")
	if err != nil {
		t.Fatal(err)
	}
	connA, _ := e.store.GetConnection(ctx, "A")
	if m.UserID != "alice" || !m.ExpiresAt.Equal(connA.ExpiresAt) {
		t.Errorf("membership %+v: want alice, expiring with the connection at %v", m, connA.ExpiresAt)
	}

	e.join("B", "r1")
	e.join("C", "r2") // another room: nobody in r1 hears of it
	pa := e.posts("A")
	if len(pa) != 1 || pa[0]["type"] != "presence" || pa[0]["event"] != "joined" || pa[0]["userId"] != "bob" || pa[0]["roomId"] != "r1" || pa[0]["displayName"] != "name of bob" {
		t.Fatalf("A got %v, want one presence joined of bob in r1", pa)
	}
	if len(e.posts("B")) != 0 || len(e.posts("C")) != 0 {
		t.Fatalf("joiners were told of themselves: B %v, C %v", e.posts("B"), e.posts("C"))
	}

	// Joining again does not announce twice.
	e.join("B", "r1")
	if len(e.posts("A")) != 1 {
		t.Fatalf("rejoin announced again: %v", e.posts("A"))
	}

	var left protocol.Left
	e.ok("B", protocol.ActionLeaveRoom, `{"action":"leaveroom","roomId":"r1"}`, &left)
	if left.Type != protocol.FrameLeft || left.RoomID != "r1" {
		t.Fatalf("leave answered %+v", left)
	}
	pa = e.posts("A")
	if len(pa) != 2 || pa[1]["event"] != "left" || pa[1]["userId"] != "bob" {
		t.Fatalf("A got %v, want presence left of bob", pa)
	}
	if _, err := e.store.GetMembership(ctx, "B", "r1"); !errors.Is(err, chat.ErrNotFound) {
		t.Errorf("membership after leave: %v", err)
	}
	f := e.fails("B", protocol.ActionLeaveRoom, `{"roomId":"r1"}`, protocol.CodeNotMember)
	if !strings.Contains(f.Message, "r1") || f.Action != protocol.ActionLeaveRoom {
		t.Errorf("not_member frame %+v", f)
	}
	if len(e.posts("C")) != 0 {
		t.Errorf("C (other room) got %v", e.posts("C"))
	}
}

func TestSendDeliversToRoomExceptSender(t *testing.T) {
	e := newEnv(t, chat.Options{})
	for _, c := range [][2]string{{"A", "alice"}, {"A2", "alice"}, {"B", "bob"}, {"C", "carol"}, {"D", "dave"}} {
		e.connect(c[0], c[1])
	}
	for _, c := range []string{"A", "A2", "B", "C"} {
		e.join(c, "r1")
	}
	e.join("D", "r2")
	e.api.Reset()

	ack := e.send("A", "r1", "hello")
	if ack.Type != protocol.FrameAck || ack.RoomID != "r1" || ack.ClientMessageID != "c-hello" || ack.Delivered != 3 || ack.Undelivered != 0 || ack.Gone != 0 {
		t.Fatalf("ack %+v: want delivered 3 (A2, B, C)", ack)
	}
	if !regexp.MustCompile(`^[0-9A-HJKMNP-TV-Z]{26}$`).MatchString(ack.MessageID) {
		t.Errorf("message id %q is not a 26-character ULID", ack.MessageID)
	}
	if ack.SentAt.IsZero() {
		t.Error("ack has no sentAt")
	}
	for _, c := range []string{"A2", "B", "C"} {
		p := e.posts(c)
		if len(p) != 1 {
			t.Fatalf("%s got %d frames, want 1: %v", c, len(p), p)
		}
		var msg protocol.Message
		_ = json.Unmarshal(e.api.Posts(c)[0], &msg)
		if msg.Type != protocol.FrameMessage || msg.Text != "hello" || msg.UserID != "alice" || msg.MessageID != ack.MessageID || !msg.SentAt.Equal(ack.SentAt.Time) || msg.RoomID != "r1" || msg.DisplayName != "name of alice" {
			t.Errorf("%s got %+v", c, msg)
		}
	}
	for _, c := range []string{"A", "D"} {
		if n := e.api.Attempts(c); n != 0 {
			t.Errorf("%s (sender or other room) got %d posts", c, n)
		}
	}
}

func TestUserIDComesFromIdentityNotBody(t *testing.T) {
	e := newEnv(t, chat.Options{}, "A=alice", "B=bob")
	e.join("A", "r1")
	e.join("B", "r1")
	e.api.Reset()
	e.ok("A", protocol.ActionSendMessage, `{"roomId":"r1","text":"hi","userId":"mallory"}`, nil)
	var msg protocol.Message
	_ = json.Unmarshal(e.api.Posts("B")[0], &msg)
	if msg.UserID != "alice" {
		t.Errorf("message from %q, want alice", msg.UserID)
	}
	// A connection used with another identity is refused.
	res := e.svc.Handle(context.Background(), chat.Request{ConnectionID: "A", Action: protocol.ActionSendMessage, Body: []byte(`{"roomId":"r1","text":"x"}`), Identity: chat.Identity{UserID: "mallory"}})
	if res.Code != protocol.CodeUnauthorized {
		t.Errorf("foreign identity: code %q, want unauthorized", res.Code)
	}
}

func TestNotConnectedAndNotMember(t *testing.T) {
	e := newEnv(t, chat.Options{}, "A=alice", "B=bob")
	e.join("A", "r1")
	e.api.Reset()

	for _, a := range []string{protocol.ActionJoinRoom, protocol.ActionLeaveRoom, protocol.ActionSendMessage, protocol.ActionHistory} {
		e.users["ghost"] = "ghost"
		e.fails("ghost", a, `{"roomId":"r1","text":"x"}`, protocol.CodeUnauthorized)
	}
	f := e.fails("B", protocol.ActionSendMessage, `{"roomId":"r1","text":"intruder"}`, protocol.CodeNotMember)
	if f.Action != protocol.ActionSendMessage {
		t.Errorf("frame %+v", f)
	}
	e.fails("B", protocol.ActionHistory, `{"roomId":"r1"}`, protocol.CodeNotMember)
	if n := len(e.api.Requests()); n != 0 {
		t.Errorf("refused actions posted %d frames", n)
	}
	var h protocol.HistoryPage
	e.ok("A", protocol.ActionHistory, `{"roomId":"r1"}`, &h)
	if len(h.Messages) != 0 {
		t.Errorf("a refused message was stored: %+v", h.Messages)
	}
}

func TestHistory(t *testing.T) {
	e := newEnv(t, chat.Options{}, "A=alice", "B=bob")
	e.join("A", "r1")
	e.join("A", "r2")
	for i := range 25 {
		e.send("A", "r1", fmt.Sprintf("m%02d", i))
	}
	e.send("A", "r2", "elsewhere")

	texts := func(h protocol.HistoryPage) string {
		var s []string
		for _, m := range h.Messages {
			s = append(s, m.Text)
		}
		return strings.Join(s, ",")
	}
	var h protocol.HistoryPage
	e.ok("A", protocol.ActionHistory, `{"action":"history","roomId":"r1"}`, &h)
	if h.Type != protocol.FrameHistory || h.RoomID != "r1" || len(h.Messages) != protocol.DefaultHistoryLimit {
		t.Fatalf("history: %d messages, want %d", len(h.Messages), protocol.DefaultHistoryLimit)
	}
	if got, want := texts(h), "m05,m06,m07,m08,m09,m10,m11,m12,m13,m14,m15,m16,m17,m18,m19,m20,m21,m22,m23,m24"; got != want {
		t.Errorf("history = %s, want the last 20 oldest first", got)
	}
	if m := h.Messages[0]; m.Type != protocol.FrameMessage || m.UserID != "alice" || len(m.MessageID) != 26 || m.SentAt.IsZero() {
		t.Errorf("history message %+v", m)
	}
	e.ok("A", protocol.ActionHistory, `{"roomId":"r1","limit":3}`, &h)
	if got := texts(h); got != "m22,m23,m24" {
		t.Errorf("limit 3: %s", got)
	}
	e.ok("A", protocol.ActionHistory, `{"roomId":"r1","limit":100}`, &h)
	if len(h.Messages) != 25 || h.Messages[0].Text != "m00" {
		t.Errorf("limit 100: %d messages from %q", len(h.Messages), h.Messages[0].Text)
	}
	e.ok("A", protocol.ActionHistory, `{"roomId":"r2"}`, &h)
	if got := texts(h); got != "elsewhere" {
		t.Errorf("r2 history %s", got)
	}
	e.fails("A", protocol.ActionHistory, `{"roomId":"r1","limit":101}`, protocol.CodeInvalidRequest)
	e.fails("B", protocol.ActionHistory, `{"roomId":"r1"}`, protocol.CodeNotMember)
	e.join("A", "empty")
	_, raw := e.do("A", protocol.ActionHistory, `{"roomId":"empty"}`)
	if !strings.Contains(string(raw), `"messages":[]`) {
		t.Errorf("empty history %s: want an empty list, not null", raw)
	}
}

func TestGoneTargetIsDeleted(t *testing.T) {
	e := newEnv(t, chat.Options{})
	ctx := context.Background()
	for _, c := range [][2]string{{"A", "alice"}, {"B", "bob"}, {"C", "carol"}} {
		e.connect(c[0], c[1])
		e.join(c[0], "r1")
	}
	e.join("B", "r2")
	e.join("A", "r2")
	e.api.Reset()
	e.api.Set("B", managementapitest.Always(http.StatusGone))

	ack := e.send("A", "r1", "anyone")
	if ack.Delivered != 1 || ack.Gone != 1 || ack.Undelivered != 0 {
		t.Fatalf("ack %+v: want delivered 1 (C), gone 1 (B)", ack)
	}
	if n := e.api.Attempts("B"); n != 1 {
		t.Errorf("gone target tried %d times, want 1 (410 is not retried)", n)
	}
	if _, err := e.store.GetConnection(ctx, "B"); !errors.Is(err, chat.ErrNotFound) {
		t.Errorf("gone connection B still stored: %v", err)
	}
	for _, r := range []string{"r1", "r2"} {
		if _, err := e.store.GetMembership(ctx, "B", r); !errors.Is(err, chat.ErrNotFound) {
			t.Errorf("gone connection B still in %s: %v", r, err)
		}
		if _, err := e.store.GetMembership(ctx, "A", r); err != nil {
			t.Errorf("sender A lost its membership of %s: %v", r, err)
		}
	}
	if _, err := e.store.GetConnection(ctx, "A"); err != nil {
		t.Errorf("sender A lost its connection: %v", err)
	}
	// The next message no longer tries B.
	ack = e.send("A", "r1", "again")
	if ack.Delivered != 1 || ack.Gone != 0 || e.api.Attempts("B") != 1 {
		t.Errorf("second ack %+v, B attempts %d", ack, e.api.Attempts("B"))
	}
}

func TestTransientFailuresAreRetried(t *testing.T) {
	e := newEnv(t, chat.Options{})
	e.members("r1", "A", "B", "C", "D")
	e.api.Set("B", managementapitest.FailFirst(2, http.StatusTooManyRequests))
	e.api.Set("C", managementapitest.FailFirst(4, http.StatusInternalServerError))
	e.api.Set("D", managementapitest.FailFirst(1, http.StatusServiceUnavailable))

	res, raw := e.do("A", protocol.ActionSendMessage, `{"roomId":"r1","text":"retry me"}`)
	var ack protocol.Ack
	_ = json.Unmarshal(raw, &ack)
	if ack.Delivered != 3 || ack.Undelivered != 0 {
		t.Fatalf("ack %s: want all 3 delivered after retries", raw)
	}
	if got := [3]int{e.api.Attempts("B"), e.api.Attempts("C"), e.api.Attempts("D")}; got != [3]int{3, 5, 2} {
		t.Errorf("attempts B, C, D = %v, want [3 5 2]", got)
	}
	if res.Fanout == nil || res.Fanout.Retries != 2+4+1 {
		t.Errorf("fan-out stats %+v, want 7 retries", res.Fanout)
	}
	for _, c := range []string{"B", "C", "D"} {
		if n := len(e.api.Posts(c)); n != 1 {
			t.Errorf("%s received %d copies, want 1", c, n)
		}
	}
}

func TestPermanentFailureIsUndelivered(t *testing.T) {
	e := newEnv(t, chat.Options{})
	e.members("r1", "A", "B", "C", "D")
	e.api.Set("B", managementapitest.Always(http.StatusInternalServerError))
	e.api.Set("C", managementapitest.Always(http.StatusForbidden))

	ack := e.send("A", "r1", "partly")
	if ack.Delivered != 1 || ack.Undelivered != 2 || ack.Gone != 0 {
		t.Fatalf("ack %+v: want delivered 1, undelivered 2", ack)
	}
	if n := e.api.Attempts("B"); n != fastRetry.MaxAttempts {
		t.Errorf("B (500) tried %d times, want %d", n, fastRetry.MaxAttempts)
	}
	if n := e.api.Attempts("C"); n != 1 {
		t.Errorf("C (403, not retryable) tried %d times, want 1", n)
	}
	if _, err := e.store.GetConnection(context.Background(), "B"); err != nil {
		t.Errorf("an undelivered (not gone) connection was deleted: %v", err)
	}
}

func TestDeadlineIsRespected(t *testing.T) {
	const reserve = time.Second
	e := newEnv(t, chat.Options{Fanout: chat.FanoutOptions{Retry: chat.RetryPolicy{
		MaxAttempts: 50, BaseDelay: 200 * time.Millisecond, MaxDelay: 200 * time.Millisecond, DeadlineReserve: reserve,
	}}})
	e.members("r1", "A", "B")
	send := func(timeout time.Duration) (protocol.Ack, time.Duration) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		start := time.Now()
		res := e.svc.Handle(ctx, chat.Request{ConnectionID: "A", Action: protocol.ActionSendMessage, Body: []byte(`{"roomId":"r1","text":"late"}`), Identity: chat.Identity{UserID: "user-A"}})
		ack, ok := res.Frame.(protocol.Ack)
		if !ok {
			t.Fatalf("frame %+v (%v), want an ack", res.Frame, res.Err)
		}
		return ack, time.Since(start)
	}

	// A target that keeps failing: retries stop before the reserve, not after 50 attempts.
	e.api.Reset()
	e.api.Set("B", managementapitest.Always(http.StatusInternalServerError))
	ack, took := send(reserve + 300*time.Millisecond)
	if ack.Undelivered != 1 || ack.Delivered != 0 {
		t.Errorf("ack %+v, want 1 undelivered", ack)
	}
	if n := e.api.Attempts("B"); n < 1 || n >= 50 {
		t.Errorf("B tried %d times, want at least 1 and far fewer than 50", n)
	}
	if took >= 300*time.Millisecond {
		t.Errorf("send took %v, into the %v reserve before the deadline", took, reserve)
	}

	// A post that hangs is cut when the reserve begins.
	e.api.Reset()
	e.api.Set("B", nil)
	e.api.SetLatency(time.Second)
	ack, took = send(reserve + 150*time.Millisecond)
	if ack.Undelivered != 1 {
		t.Errorf("ack %+v, want the hung post undelivered", ack)
	}
	if took >= 500*time.Millisecond {
		t.Errorf("send took %v: it waited for the hung post", took)
	}
}

func TestLargeRoomIsPaginated(t *testing.T) {
	const members = 300
	e := newEnv(t, chat.Options{Fanout: chat.FanoutOptions{PageSize: 40, Concurrency: 16}})
	ctx := context.Background()
	// Members are stored directly: joining through the Service would fan out presence
	// events to the growing room, 45,000 posts.
	exp := e.clock.Now().Add(time.Hour)
	for i := range members {
		id := fmt.Sprintf("conn-%03d", i)
		if err := e.store.PutConnection(ctx, chat.Connection{ID: id, UserID: "u" + id, ConnectedAt: e.clock.Now(), ExpiresAt: exp}); err != nil {
			t.Fatal(err)
		}
		if err := e.store.PutMembership(ctx, chat.Membership{ConnectionID: id, RoomID: "big", UserID: "u" + id, JoinedAt: e.clock.Now(), ExpiresAt: exp}); err != nil {
			t.Fatal(err)
		}
		e.users[id] = "u" + id
	}
	res, raw := e.do("conn-000", protocol.ActionSendMessage, `{"roomId":"big","text":"to all"}`)
	var ack protocol.Ack
	_ = json.Unmarshal(raw, &ack)
	if ack.Delivered != members-1 || ack.Undelivered != 0 {
		t.Fatalf("ack %s: want %d delivered", raw, members-1)
	}
	if res.Fanout.Members != members || res.Fanout.Targets != members-1 {
		t.Errorf("stats %+v", res.Fanout)
	}
	got := e.api.Delivered()
	if len(got) != members-1 || got["conn-000"] != 0 {
		t.Fatalf("%d connections received, want %d (all but the sender)", len(got), members-1)
	}
	for id, n := range got {
		if n != 1 {
			t.Errorf("%s received %d copies, want exactly 1", id, n)
		}
	}
}

func TestConcurrencyIsBounded(t *testing.T) {
	const limit = 4
	e := newEnv(t, chat.Options{Fanout: chat.FanoutOptions{Concurrency: limit, PageSize: 7}})
	for i := range 30 {
		id := fmt.Sprintf("c%02d", i)
		e.connect(id, "u"+id)
		e.join(id, "r1")
	}
	e.api.Reset()
	e.api.SetLatency(15 * time.Millisecond)
	ack := e.send("c00", "r1", "bounded")
	if ack.Delivered != 29 {
		t.Fatalf("ack %+v", ack)
	}
	if m := e.api.MaxInFlight(); m > limit || m < 2 {
		t.Errorf("max in-flight posts %d, want between 2 and %d", m, limit)
	}
}

func TestInvalidBodies(t *testing.T) {
	e := newEnv(t, chat.Options{}, "A=alice")
	e.join("A", "r1")
	tests := []struct {
		action, body, code, mention string
	}{
		{protocol.ActionJoinRoom, `{"action":"joinroom"}`, protocol.CodeInvalidRequest, "roomId"},
		{protocol.ActionJoinRoom, `{"roomId":"bad room!"}`, protocol.CodeInvalidRequest, "/roomId"},
		{protocol.ActionSendMessage, `{"roomId":"r1"}`, protocol.CodeInvalidRequest, "text"},
		{protocol.ActionSendMessage, `{"roomId":"r1","text":""}`, protocol.CodeInvalidRequest, "/text"},
		{protocol.ActionSendMessage, `{"roomId":"r1","text":"` + strings.Repeat("x", protocol.MaxTextLength+1) + `"}`, protocol.CodeInvalidRequest, "/text"},
		{protocol.ActionSendMessage, `{"roomId":"r1","text":"x","clientMessageId":"` + strings.Repeat("c", 65) + `"}`, protocol.CodeInvalidRequest, "/clientMessageId"},
		{protocol.ActionHistory, `{"roomId":"r1","limit":0}`, protocol.CodeInvalidRequest, "/limit"},
		{protocol.ActionLeaveRoom, `["r1"]`, protocol.CodeInvalidRequest, "object"},
		{protocol.ActionSendMessage, `{"roomId":"r1","text":`, protocol.CodeInvalidJSON, "JSON"},
		{"shout", `{"roomId":"r1"}`, protocol.CodeUnknownAction, "shout"},
	}
	for _, tt := range tests {
		f := e.fails("A", tt.action, tt.body, tt.code)
		if !strings.Contains(f.Message, tt.mention) {
			t.Errorf("%s %.50s: message %q does not mention %q", tt.action, tt.body, f.Message, tt.mention)
		}
	}
	if n := len(e.api.Requests()); n != 0 {
		t.Errorf("invalid requests posted %d frames", n)
	}
}

func TestStoreFailureIsInternalError(t *testing.T) {
	e := newEnv(t, chat.Options{}, "A=alice")
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // every store call fails
	res := e.svc.Handle(ctx, chat.Request{ConnectionID: "A", Action: protocol.ActionJoinRoom, Body: []byte(`{"roomId":"r1"}`), Identity: chat.Identity{UserID: "alice"}})
	f, ok := res.Frame.(protocol.Error)
	if !ok || f.Code != protocol.CodeInternal || res.Err == nil || strings.Contains(f.Message, "context") {
		t.Fatalf("result %+v: want an internal_error frame that hides the cause, and the cause in Err", res)
	}
}

// TestFanoutUnderMixedFailures is the broadcast an on-call engineer cares about: in a room of
// 40, @connections throttles some posts (429), fails others for a while (500, 503), answers
// 410 for stale connections and keeps failing for a few. Every live member still receives the
// message exactly once, the stale connections are deleted (and only they), and the sender's
// ack counts the members that could not be reached after the retries.
func TestFanoutUnderMixedFailures(t *testing.T) {
	e := newEnv(t, chat.Options{})
	ctx := context.Background()
	var ids []string
	for i := range 40 {
		id := fmt.Sprintf("M%02d", i)
		ids = append(ids, id)
		e.connect(id, "user-"+id)
		e.join(id, "big")
	}
	e.api.Reset()
	want := map[string]string{}  // id -> expected outcome
	for i, id := range ids[1:] { // ids[0] sends
		switch {
		case i < 8:
			e.api.Set(id, managementapitest.FailFirst(2, http.StatusTooManyRequests))
			want[id] = "delivered"
		case i < 14:
			e.api.Set(id, managementapitest.FailFirst(3, http.StatusInternalServerError))
			want[id] = "delivered"
		case i < 17:
			e.api.Set(id, managementapitest.FailFirst(1, http.StatusServiceUnavailable))
			want[id] = "delivered"
		case i < 22:
			e.api.Set(id, managementapitest.Always(http.StatusGone))
			want[id] = "gone"
		case i < 25:
			e.api.Set(id, managementapitest.Always(http.StatusInternalServerError))
			want[id] = "undelivered"
		default:
			want[id] = "delivered"
		}
	}
	ack := e.send(ids[0], "big", "through the storm")
	counts := map[string]int{}
	for id, outcome := range want {
		counts[outcome]++
		posts, lefts := 0, 0 // copies of the message; presence "left" of the gone members
		for _, p := range e.posts(id) {
			switch p["type"] {
			case protocol.FrameMessage:
				posts++
			case protocol.FramePresence:
				lefts++
			}
		}
		switch outcome {
		case "delivered":
			if posts != 1 {
				t.Errorf("live member %s received %d copies, want exactly 1", id, posts)
			}
			if lefts != 5 {
				t.Errorf("live member %s heard %d members leave, want the 5 found gone", id, lefts)
			}
			if _, err := e.store.GetConnection(ctx, id); err != nil {
				t.Errorf("live member %s lost its connection: %v", id, err)
			}
		case "gone":
			if _, err := e.store.GetConnection(ctx, id); !errors.Is(err, chat.ErrNotFound) {
				t.Errorf("stale connection %s still stored: %v", id, err)
			}
			if _, err := e.store.GetMembership(ctx, id, "big"); !errors.Is(err, chat.ErrNotFound) {
				t.Errorf("stale connection %s still in the room: %v", id, err)
			}
		case "undelivered":
			if posts != 0 {
				t.Errorf("failing member %s received %d copies", id, posts)
			}
			if _, err := e.store.GetConnection(ctx, id); err != nil {
				t.Errorf("a member that could not be reached (not gone) was deleted: %v", err)
			}
		}
	}
	if ack.Delivered != counts["delivered"] || ack.Gone != counts["gone"] || ack.Undelivered != counts["undelivered"] {
		t.Errorf("ack %+v, want delivered %d, gone %d, undelivered %d", ack, counts["delivered"], counts["gone"], counts["undelivered"])
	}
}
