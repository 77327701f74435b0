package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/chatstack/websocketchatapi/internal/chat"
	"github.com/chatstack/websocketchatapi/internal/contract"
)

// bucketItem returns the raw rate limit item of a connection, nil when there is none.
func bucketItem(t *testing.T, e env, connID string) map[string]types.AttributeValue {
	t.Helper()
	return rawItem(t, e, "CONN#"+connID, "RATE")
}

func numAttr(item map[string]types.AttributeValue, name string) string {
	if v, ok := item[name].(*types.AttributeValueMemberN); ok {
		return v.Value
	}
	return fmt.Sprintf("<%T>", item[name])
}

// dump writes an item's attributes as sorted name=value pairs.
func dump(item map[string]types.AttributeValue) string {
	var parts []string
	for name, v := range item {
		switch v := v.(type) {
		case *types.AttributeValueMemberS:
			parts = append(parts, name+"="+v.Value)
		case *types.AttributeValueMemberN:
			parts = append(parts, name+"="+v.Value+"N")
		default:
			parts = append(parts, fmt.Sprintf("%s=%T", name, v))
		}
	}
	slices.Sort(parts)
	return strings.Join(parts, " ")
}

// takeN calls TakeToken n times at at, and returns how many succeeded.
func takeN(t *testing.T, s *Store, connID string, n int, at time.Time, rate, burst float64) int {
	t.Helper()
	got := 0
	for range n {
		ok, err := s.TakeToken(context.Background(), connID, at, rate, burst, now.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			got++
		}
	}
	return got
}

func TestTakeTokenBurstThenRefusal(t *testing.T) {
	e := newEnv(t)
	exp := now.Add(2*time.Hour + 10*time.Minute)
	for i := range 20 {
		ok, err := e.store.TakeToken(context.Background(), "c1", now, 10, 20, exp)
		if err != nil || !ok {
			t.Fatalf("token %d of a burst of 20: %v, %v", i+1, ok, err)
		}
	}
	item := bucketItem(t, e, "c1")
	if numAttr(item, "tokens") != "0" || numAttr(item, "updatedAt") != fmt.Sprint(now.UnixMilli()) || numAttr(item, "expiresAt") != fmt.Sprint(exp.Unix()) {
		t.Errorf("bucket after the burst: %s", dump(item))
	}
	for i := range 3 {
		ok, err := e.store.TakeToken(context.Background(), "c1", now, 10, 20, exp)
		if err != nil || ok {
			t.Fatalf("token %d past the burst: %v, %v; want a refusal", 21+i, ok, err)
		}
	}
	if after := bucketItem(t, e, "c1"); dump(after) != dump(item) {
		t.Errorf("a refusal changed the bucket: %s -> %s", dump(item), dump(after))
	}
}

func TestTakeTokenRefills(t *testing.T) {
	e := newEnv(t)
	const rate, burst = 2, 5 // a token every 500 ms
	if n := takeN(t, e.store, "c1", 6, now, rate, burst); n != 5 {
		t.Fatalf("%d of 6 at once, want the burst of 5", n)
	}
	if n := takeN(t, e.store, "c1", 1, now.Add(499*time.Millisecond), rate, burst); n != 0 {
		t.Errorf("499 ms later: %d tokens, want none (0.998 refilled)", n)
	}
	if n := takeN(t, e.store, "c1", 2, now.Add(500*time.Millisecond), rate, burst); n != 1 {
		t.Errorf("500 ms later: %d tokens, want 1", n)
	}
	// 1.25 s later 2.5 tokens have come back: two whole ones, and half a token kept.
	at := now.Add(1750 * time.Millisecond)
	if n := takeN(t, e.store, "c1", 3, at, rate, burst); n != 2 {
		t.Errorf("1.75 s: %d tokens, want 2", n)
	}
	if got := numAttr(bucketItem(t, e, "c1"), "tokens"); got != "0.5" {
		t.Errorf("tokens left %s, want 0.5", got)
	}
	if n := takeN(t, e.store, "c1", 1, at.Add(250*time.Millisecond), rate, burst); n != 1 {
		t.Errorf("half a token + 250 ms: %d, want 1", n)
	}
	// A clock behind the bucket's refills nothing, and does not move updatedAt back.
	if n := takeN(t, e.store, "c1", 1, now, rate, burst); n != 0 {
		t.Errorf("an earlier clock got %d tokens", n)
	}
	if got := numAttr(bucketItem(t, e, "c1"), "updatedAt"); got != fmt.Sprint(at.Add(250*time.Millisecond).UnixMilli()) {
		t.Errorf("updatedAt %s moved", got)
	}
	// A long pause refills to the burst, never past it.
	if n := takeN(t, e.store, "c1", 10, now.Add(time.Hour), rate, burst); n != burst {
		t.Errorf("after an hour: %d tokens, want the burst %d", n, burst)
	}
}

func TestTakeTokenConcurrentSpendersNeverOverspend(t *testing.T) {
	e := newEnv(t)
	const spenders, burst = 50, 20
	run := func(conn string, attempts int) (ok int, contended int) {
		var (
			wg    sync.WaitGroup
			mu    sync.Mutex
			start = make(chan struct{})
		)
		for range spenders {
			opts := []Option{WithClock(func() time.Time { return now })}
			if attempts > 0 {
				opts = append(opts, WithTokenAttempts(attempts))
			}
			s := New(e.client, e.table, opts...)
			wg.Go(func() {
				<-start
				got, err := s.TakeToken(context.Background(), conn, now, 1, burst, now.Add(time.Hour))
				mu.Lock()
				defer mu.Unlock()
				switch {
				case errors.Is(err, chat.ErrTokenContention):
					contended++
				case err != nil:
					t.Errorf("TakeToken: %v", err)
				case got:
					ok++
				}
			})
		}
		close(start)
		wg.Wait()
		return ok, contended
	}
	// With the default attempts every spender ends with a token or an honest refusal: exactly
	// the burst is taken and nobody gives up on contention.
	if ok, contended := run("many-attempts", 0); ok != burst || contended != 0 {
		t.Errorf("%d spenders, default attempts: %d tokens taken, %d gave up; want exactly %d and none", spenders, ok, contended, burst)
	}
	if got := numAttr(bucketItem(t, e, "many-attempts"), "tokens"); got != "0" {
		t.Errorf("tokens left %s, want 0", got)
	}
	// With one attempt each, spenders that lose a race give up, but none overspends.
	ok, contended := run("one-attempt", 1)
	if ok < 1 || ok > burst {
		t.Errorf("one attempt each: %d tokens taken, want 1..%d", ok, burst)
	}
	t.Logf("one attempt each: %d taken, %d gave up on contention", ok, contended)
}

// TestTakeTokenConcurrentBurstIsNotRefused sends a burst's worth of concurrent requests: all
// of them must get a token (API Gateway runs one connection's messages concurrently).
func TestTakeTokenConcurrentBurstIsNotRefused(t *testing.T) {
	e := newEnv(t)
	const burst = 20
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		ok    int
		start = make(chan struct{})
	)
	for range burst {
		s := New(e.client, e.table)
		wg.Go(func() {
			<-start
			got, err := s.TakeToken(context.Background(), "burst", now, 1, burst, now.Add(time.Hour))
			if err != nil {
				t.Errorf("TakeToken: %v", err)
			}
			mu.Lock()
			defer mu.Unlock()
			if got {
				ok++
			}
		})
	}
	close(start)
	wg.Wait()
	if ok != burst {
		t.Errorf("%d concurrent requests on a full bucket of %d: %d got a token, want all", burst, burst, ok)
	}
}

func TestTakeTokenIsolatesConnections(t *testing.T) {
	e := newEnv(t)
	if n := takeN(t, e.store, "greedy", 5, now, 1, 3); n != 3 {
		t.Fatalf("greedy took %d, want 3", n)
	}
	if n := takeN(t, e.store, "polite", 3, now, 1, 3); n != 3 {
		t.Errorf("polite took %d after greedy emptied its own bucket, want 3", n)
	}
}

func TestTakeTokenRefusesBadArguments(t *testing.T) {
	e := newEnv(t)
	for _, tt := range []struct {
		conn        string
		rate, burst float64
	}{{"", 1, 1}, {"c", 0, 1}, {"c", -1, 1}, {"c", 1, 0.5}} {
		if ok, err := e.store.TakeToken(context.Background(), tt.conn, now, tt.rate, tt.burst, time.Time{}); err == nil || ok {
			t.Errorf("TakeToken(%q, rate %v, burst %v) = %v, %v; want an error", tt.conn, tt.rate, tt.burst, ok, err)
		}
	}
	// A corrupt bucket is an error, not a free pass.
	putRaw(t, e, map[string]types.AttributeValue{
		contract.AttrPK: str("CONN#bad"), contract.AttrSK: str("RATE"),
		contract.AttrTokens: str("many"), contract.AttrUpdatedAt: &types.AttributeValueMemberN{Value: "1"},
	})
	if ok, err := e.store.TakeToken(context.Background(), "bad", now, 1, 1, time.Time{}); err == nil || ok {
		t.Errorf("corrupt bucket: %v, %v; want an error", ok, err)
	}
}

func TestTakeTokenWithoutExpiry(t *testing.T) {
	e := newEnv(t)
	if ok, err := e.store.TakeToken(context.Background(), "c", now, 1, 1, time.Time{}); err != nil || !ok {
		t.Fatal(ok, err)
	}
	if item := bucketItem(t, e, "c"); item[contract.AttrExpiresAt] != nil {
		t.Errorf("a zero expiresAt was stored: %s", dump(item))
	}
}

func TestConnectionMemberships(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	exp := now.Add(time.Hour)
	putConnection(t, e.store, chat.Connection{ID: "c1", UserID: "u1", ExpiresAt: exp})
	put(t, e.store, chat.Membership{ConnectionID: "c1", RoomID: "b", UserID: "u1", DisplayName: "Una", ExpiresAt: exp})
	put(t, e.store, chat.Membership{ConnectionID: "c1", RoomID: "a", UserID: "u1", DisplayName: "Una", ExpiresAt: exp})
	put(t, e.store, chat.Membership{ConnectionID: "c1", RoomID: "old", UserID: "u1", ExpiresAt: now.Add(-time.Second)})
	put(t, e.store, chat.Membership{ConnectionID: "c2", RoomID: "a", UserID: "u2", ExpiresAt: exp})
	if _, err := e.store.TakeToken(ctx, "c1", now, 1, 1, exp); err != nil {
		t.Fatal(err)
	}
	got, err := e.store.ConnectionMemberships(ctx, "c1")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].RoomID != "a" || got[1].RoomID != "b" || got[0].UserID != "u1" || got[0].DisplayName != "Una" || got[0].ConnectionID != "c1" {
		t.Errorf("memberships of c1 = %+v, want rooms a and b (not the expired one, c2's, the connection or the bucket)", got)
	}
	if got, err := e.store.ConnectionMemberships(ctx, "nobody"); err != nil || len(got) != 0 {
		t.Errorf("memberships of an unknown connection = %v, %v", got, err)
	}
	if _, err := e.store.ConnectionMemberships(ctx, ""); err == nil {
		t.Error("empty connection id: no error")
	}
}
