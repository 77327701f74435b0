package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/chatstack/websocketchatapi/internal/chat"
	"github.com/chatstack/websocketchatapi/internal/contract"
	"github.com/chatstack/websocketchatapi/internal/ddblocal/ddblocaltest"
	"github.com/chatstack/websocketchatapi/internal/dynamostore/dynamostoretest"
)

// TestMain shares one DynamoDB Local between the package's tests; each test makes its own table.
func TestMain(m *testing.M) { ddblocaltest.Main(m) }

// now is the fixed "now" of the tests' clock. It is a month ahead of the real time because
// DynamoDB Local does run TTL deletion (at unpredictable moments): items the tests make expired
// for the Store must still be in the real future, or they could vanish before the Store reads
// them and the tests would prove nothing about the Store's own expiry check.
var now = time.Now().UTC().Add(30 * 24 * time.Hour).Truncate(time.Second)

// env is one test's client, table and store (whose clock reads now).
type env struct {
	client *dynamodb.Client
	table  string
	store  *Store
}

// newEnv marks t parallel (each test has a table of its own) and creates a fresh table in the
// shared emulator and a Store on it.
func newEnv(t *testing.T) env {
	t.Helper()
	t.Parallel()
	client, table := dynamostoretest.NewTable(t)
	return env{client: client, table: table, store: New(client, table, WithClock(func() time.Time { return now }))}
}

// newStore returns another Store on e's table, with its own capacity counters.
func (e env) newStore() *Store {
	return New(e.client, e.table, WithClock(func() time.Time { return now }))
}

func TestConnectionPutGetReplace(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := chat.Connection{
		ID:          "abc=",
		UserID:      "u1",
		DisplayName: "Ada",
		ConnectedAt: now.Add(-time.Minute + 123*time.Millisecond),
		ExpiresAt:   now.Add(2*time.Hour + 10*time.Minute),
	}
	putConnection(t, e.store, c)
	got, err := e.store.GetConnection(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	assertConnection(t, got, c)

	c.DisplayName = "Ada L."
	c.ConnectedAt = now
	putConnection(t, e.store, c)
	got, err = e.store.GetConnection(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	assertConnection(t, got, c)

	if _, err := e.store.GetConnection(ctx, "nobody"); !errors.Is(err, chat.ErrNotFound) {
		t.Errorf("GetConnection(absent) = %v, want ErrNotFound", err)
	}
	if err := e.store.PutConnection(ctx, chat.Connection{}); err == nil {
		t.Error("PutConnection with an empty id succeeded")
	}
}

func TestTimesAreTruncated(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := chat.Connection{
		ID:          "c",
		UserID:      "u",
		ConnectedAt: now.Add(1234567 * time.Nanosecond),
		ExpiresAt:   now.Add(time.Hour + 900*time.Millisecond),
	}
	putConnection(t, e.store, c)
	got, err := e.store.GetConnection(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if want := now.Add(time.Millisecond); !got.ConnectedAt.Equal(want) {
		t.Errorf("ConnectedAt = %v, want %v (milliseconds)", got.ConnectedAt, want)
	}
	if want := now.Add(time.Hour); !got.ExpiresAt.Equal(want) {
		t.Errorf("ExpiresAt = %v, want %v (seconds)", got.ExpiresAt, want)
	}
}

func TestExpiredConnectionIsNotFound(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for _, tc := range []struct {
		id        string
		expiresAt time.Time
		live      bool
	}{
		{"past", now.Add(-time.Second), false},
		{"now", now, false}, // expiresAt <= now is expired
		{"future", now.Add(time.Second), true},
		{"never", time.Time{}, true}, // no expiresAt attribute
	} {
		putConnection(t, e.store, chat.Connection{ID: tc.id, UserID: "u", ExpiresAt: tc.expiresAt})
		_, err := e.store.GetConnection(ctx, tc.id)
		if tc.live && err != nil {
			t.Errorf("GetConnection(%s) = %v, want found", tc.id, err)
		}
		if !tc.live && !errors.Is(err, chat.ErrNotFound) {
			t.Errorf("GetConnection(%s) = %v, want ErrNotFound", tc.id, err)
		}
	}

	// The same item, read later, is gone.
	later := New(e.client, e.table, WithClock(func() time.Time { return now.Add(2 * time.Second) }))
	if _, err := later.GetConnection(ctx, "future"); !errors.Is(err, chat.ErrNotFound) {
		t.Errorf("GetConnection(future) two seconds later = %v, want ErrNotFound", err)
	}
}

func TestDeleteConnection(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	exp := now.Add(time.Hour)
	putConnection(t, e.store, chat.Connection{ID: "gone", UserID: "u1", ExpiresAt: exp})
	putConnection(t, e.store, chat.Connection{ID: "stays", UserID: "u2", ExpiresAt: exp})
	// 60 memberships: more than two BatchWriteItem chunks of 25.
	for i := range 60 {
		room := fmt.Sprintf("room%02d", i)
		for _, conn := range []string{"gone", "stays"} {
			if err := e.store.PutMembership(ctx, chat.Membership{ConnectionID: conn, RoomID: room, UserID: "u", ExpiresAt: exp}); err != nil {
				t.Fatal(err)
			}
		}
	}

	if ok, err := e.store.TakeToken(ctx, "gone", now, 1, 5, exp); err != nil || !ok {
		t.Fatalf("TakeToken: %v, %v", ok, err)
	}

	if err := e.store.DeleteConnection(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.GetConnection(ctx, "gone"); !errors.Is(err, chat.ErrNotFound) {
		t.Errorf("GetConnection after delete = %v, want ErrNotFound", err)
	}
	if n := countPartition(t, e, "CONN#gone"); n != 0 {
		t.Errorf("%d items left under CONN#gone (connection, memberships, rate limit bucket)", n)
	}
	if n := countPartition(t, e, "CONN#stays"); n != 61 {
		t.Errorf("%d items under CONN#stays, want 61 (connection + 60 memberships)", n)
	}
	members := collectMembers(t, e.store, "room07", 10)
	if len(members) != 1 || members[0].ConnectionID != "stays" {
		t.Errorf("room07 members after delete = %v, want only stays", members)
	}

	if err := e.store.DeleteConnection(ctx, "gone"); err != nil {
		t.Errorf("second DeleteConnection = %v, want nil", err)
	}
	if err := e.store.DeleteConnection(ctx, "never-existed"); err != nil {
		t.Errorf("DeleteConnection(never-existed) = %v, want nil", err)
	}
}

func TestMembershipGetDelete(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	m := chat.Membership{
		ConnectionID: "c1",
		RoomID:       "lobby",
		UserID:       "u1",
		DisplayName:  "Ada",
		JoinedAt:     now.Add(-5 * time.Millisecond),
		ExpiresAt:    now.Add(time.Hour),
	}
	if err := e.store.PutMembership(ctx, m); err != nil {
		t.Fatal(err)
	}
	got, err := e.store.GetMembership(ctx, "c1", "lobby")
	if err != nil {
		t.Fatal(err)
	}
	assertMembership(t, got, m)
	if _, err := e.store.GetMembership(ctx, "c1", "other"); !errors.Is(err, chat.ErrNotFound) {
		t.Errorf("GetMembership(other room) = %v, want ErrNotFound", err)
	}

	existed, err := e.store.DeleteMembership(ctx, "c1", "lobby")
	if err != nil || !existed {
		t.Errorf("first DeleteMembership = %v, %v; want true, nil", existed, err)
	}
	if _, err := e.store.GetMembership(ctx, "c1", "lobby"); !errors.Is(err, chat.ErrNotFound) {
		t.Errorf("GetMembership after delete = %v, want ErrNotFound", err)
	}
	existed, err = e.store.DeleteMembership(ctx, "c1", "lobby")
	if err != nil || existed {
		t.Errorf("second DeleteMembership = %v, %v; want false, nil", existed, err)
	}

	// An expired membership reads as absent and its deletion reports false.
	m.ExpiresAt = now
	if err := e.store.PutMembership(ctx, m); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.GetMembership(ctx, "c1", "lobby"); !errors.Is(err, chat.ErrNotFound) {
		t.Errorf("GetMembership(expired) = %v, want ErrNotFound", err)
	}
	existed, err = e.store.DeleteMembership(ctx, "c1", "lobby")
	if err != nil || existed {
		t.Errorf("DeleteMembership(expired) = %v, %v; want false, nil", existed, err)
	}
	if n := countPartition(t, e, "CONN#c1"); n != 0 {
		t.Errorf("%d items left under CONN#c1 after deleting the expired membership", n)
	}
}

func TestRoomMembersPages(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	exp := now.Add(time.Hour)
	want := map[string]bool{}
	for i := range 250 {
		id := fmt.Sprintf("big%03d", i)
		want[id] = true
		put(t, e.store, chat.Membership{ConnectionID: id, RoomID: "big", UserID: "u" + id, DisplayName: "n" + id, JoinedAt: now, ExpiresAt: exp})
	}
	for i := range 5 { // expired members, interleaved in the index order
		put(t, e.store, chat.Membership{ConnectionID: fmt.Sprintf("big%03d-x", i*50), RoomID: "big", ExpiresAt: now.Add(-time.Minute)})
	}
	for i := range 30 { // members of other rooms
		put(t, e.store, chat.Membership{ConnectionID: fmt.Sprintf("big%03d", i), RoomID: "big2", ExpiresAt: exp})
		put(t, e.store, chat.Membership{ConnectionID: fmt.Sprintf("o%03d", i), RoomID: "bi", ExpiresAt: exp})
	}

	pages := 0
	seen := map[string]int{}
	err := e.store.RoomMembers(ctx, "big", 100, func(page []chat.Membership) error {
		pages++
		if len(page) == 0 || len(page) > 100 {
			t.Errorf("page %d has %d members, want 1..100", pages, len(page))
		}
		for _, m := range page {
			seen[m.ConnectionID]++
			if m.RoomID != "big" || m.UserID != "u"+m.ConnectionID || m.DisplayName != "n"+m.ConnectionID ||
				!m.JoinedAt.Equal(now) || !m.ExpiresAt.Equal(exp) {
				t.Errorf("member %+v: fields not read back from the index", m)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// 250 members in 8 shards, read 100 at a time: a page or two a shard.
	if pages < contract.RoomShards || pages > 2*contract.RoomShards {
		t.Errorf("%d pages, want %d to %d", pages, contract.RoomShards, 2*contract.RoomShards)
	}
	if len(seen) != 250 {
		t.Errorf("saw %d distinct members, want 250", len(seen))
	}
	for id, n := range seen {
		if !want[id] || n != 1 {
			t.Errorf("member %s seen %d times (wanted: %v)", id, n, want[id])
		}
	}

	// fn's error stops the listing and comes back unchanged.
	stop := errors.New("stop")
	calls := 0
	err = e.store.RoomMembers(ctx, "big", 100, func([]chat.Membership) error { calls++; return stop })
	if err != stop || calls != 1 {
		t.Errorf("RoomMembers with a failing fn = %v after %d calls, want stop after 1", err, calls)
	}
	if err := e.store.RoomMembers(ctx, "big", 0, func([]chat.Membership) error { return nil }); err == nil {
		t.Error("RoomMembers with page size 0 succeeded")
	}
}

func TestRoomMembersSkipsEmptyPages(t *testing.T) {
	e := newEnv(t)
	// Page size 2: the first page holds only expired members and must not reach fn.
	put(t, e.store, chat.Membership{ConnectionID: "a", RoomID: "r", ExpiresAt: now.Add(-time.Second)})
	put(t, e.store, chat.Membership{ConnectionID: "b", RoomID: "r", ExpiresAt: now})
	put(t, e.store, chat.Membership{ConnectionID: "c", RoomID: "r", ExpiresAt: now.Add(time.Second)})
	var pages [][]string
	err := e.store.RoomMembers(context.Background(), "r", 2, func(page []chat.Membership) error {
		var ids []string
		for _, m := range page {
			ids = append(ids, m.ConnectionID)
		}
		pages = append(pages, ids)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(pages) != 1 || !slices.Equal(pages[0], []string{"c"}) {
		t.Errorf("pages = %v, want [[c]]", pages)
	}
}

// TestRoomMembersReadsOnlyTheRoom shows, with the capacity DynamoDB reports, that listing a
// small room costs the same whether the table holds few or many other memberships: it reads
// the room's items, never a scan.
func TestRoomMembersReadsOnlyTheRoom(t *testing.T) {
	e := newEnv(t)
	exp := now.Add(time.Hour)
	for i := range 5 {
		put(t, e.store, chat.Membership{ConnectionID: fmt.Sprintf("s%d", i), RoomID: "small", ExpiresAt: exp})
	}
	before := e.newStore()
	if n := len(collectMembers(t, before, "small", 100)); n != 5 {
		t.Fatalf("small room has %d members, want 5", n)
	}
	if before.ConsumedRead() <= 0 {
		t.Fatalf("ConsumedRead = %v after a query, want > 0", before.ConsumedRead())
	}

	for i := range 400 {
		put(t, e.store, chat.Membership{ConnectionID: fmt.Sprintf("c%03d", i), RoomID: "crowd", DisplayName: strings.Repeat("x", 200), ExpiresAt: exp})
	}
	after := e.newStore()
	if n := len(collectMembers(t, after, "small", 100)); n != 5 {
		t.Fatalf("small room has %d members, want 5", n)
	}
	if after.ConsumedRead() != before.ConsumedRead() {
		t.Errorf("listing the small room read %v units with 400 other members in the table, %v without",
			after.ConsumedRead(), before.ConsumedRead())
	}
	crowd := e.newStore()
	if n := len(collectMembers(t, crowd, "crowd", 100)); n != 400 {
		t.Fatalf("crowd room has %d members, want 400", n)
	}
	if crowd.ConsumedRead() <= after.ConsumedRead() {
		t.Errorf("listing 400 members read %v units, no more than 5 members (%v): the counter does not measure",
			crowd.ConsumedRead(), after.ConsumedRead())
	}
	t.Logf("read units: small room %v, crowd room %v", after.ConsumedRead(), crowd.ConsumedRead())
}

func putConnection(t *testing.T, s *Store, c chat.Connection) {
	t.Helper()
	if err := s.PutConnection(context.Background(), c); err != nil {
		t.Fatal(err)
	}
}

func put(t *testing.T, s *Store, m chat.Membership) {
	t.Helper()
	if err := s.PutMembership(context.Background(), m); err != nil {
		t.Fatal(err)
	}
}

func putMessage(t *testing.T, s *Store, m chat.StoredMessage) chat.StoredMessage {
	t.Helper()
	m, err := s.AppendMessage(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func collectMembers(t *testing.T, s *Store, room string, pageSize int) []chat.Membership {
	t.Helper()
	var all []chat.Membership
	err := s.RoomMembers(context.Background(), room, pageSize, func(page []chat.Membership) error {
		all = append(all, page...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return all
}

func ids(ms []chat.StoredMessage) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.MessageID)
	}
	return out
}

func assertConnection(t *testing.T, got, want chat.Connection) {
	t.Helper()
	if got.ID != want.ID || got.UserID != want.UserID || got.DisplayName != want.DisplayName ||
		!got.ConnectedAt.Equal(want.ConnectedAt) || !got.ExpiresAt.Equal(want.ExpiresAt) {
		t.Errorf("connection = %+v, want %+v", got, want)
	}
}

func assertMembership(t *testing.T, got, want chat.Membership) {
	t.Helper()
	if got.ConnectionID != want.ConnectionID || got.RoomID != want.RoomID || got.UserID != want.UserID ||
		got.DisplayName != want.DisplayName || !got.JoinedAt.Equal(want.JoinedAt) || !got.ExpiresAt.Equal(want.ExpiresAt) {
		t.Errorf("membership = %+v, want %+v", got, want)
	}
}

func assertMessage(t *testing.T, got, want chat.StoredMessage) {
	t.Helper()
	if got.RoomID != want.RoomID || got.Seq != want.Seq || got.MessageID != want.MessageID || got.UserID != want.UserID ||
		got.DisplayName != want.DisplayName || got.Text != want.Text ||
		!got.SentAt.Equal(want.SentAt) || !got.ExpiresAt.Equal(want.ExpiresAt) {
		t.Errorf("message = %+v, want %+v", got, want)
	}
}
