package client

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/chatstack/websocketchatapi/protocol"
)

// testOptions are short durations for tests: reconnects in milliseconds, gaps filled after
// 50 ms, a seeded random source.
func testOptions(user string) Options {
	var mu sync.Mutex
	n := 0
	return Options{
		Token: func(context.Context) (string, error) {
			mu.Lock()
			defer mu.Unlock()
			n++
			return fmt.Sprintf("%s#%d", user, n), nil
		},
		MinBackoff:     time.Millisecond,
		MaxBackoff:     5 * time.Millisecond,
		RequestTimeout: 5 * time.Second,
		GapTimeout:     50 * time.Millisecond,
		rand:           rand.New(rand.NewPCG(1, 2)),
	}
}

// dial connects a client to s and closes it at the end of the test, then checks that the
// client's goroutines ended.
func dial(t *testing.T, s *testServer, opts Options) *Client {
	t.Helper()
	checkGoroutines(t)
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	c, err := Dial(ctx, s.url(), opts)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	wantState(t, c, Connected)
	return c
}

// checkGoroutines fails the test when, once its cleanups ran, more goroutines run than
// before it started. The count may take a moment to settle (closed connections' goroutines
// return), so it is polled.
func checkGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		// Refused handshakes leave keep-alive connections in the shared transport.
		http.DefaultTransport.(*http.Transport).CloseIdleConnections()
		deadline := time.Now().Add(waitTimeout)
		for runtime.NumGoroutine() > before {
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				t.Errorf("goroutines: %d before the test, %d after:\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}

// nextEvent returns the client's next event.
func nextEvent(t *testing.T, c *Client) Event {
	t.Helper()
	select {
	case e, ok := <-c.Events():
		if !ok {
			t.Fatal("events channel closed")
		}
		return e
	case <-time.After(waitTimeout):
		t.Fatalf("no event within %v", waitTimeout)
		return nil
	}
}

// nextMessage returns the next message event, skipping state and presence events.
func nextMessage(t *testing.T, c *Client) *MessageEvent {
	t.Helper()
	for {
		switch e := nextEvent(t, c).(type) {
		case *MessageEvent:
			return e
		case *LostEvent:
			t.Fatalf("lost %d..%d, want a message", e.From, e.To)
		case *RoomErrorEvent:
			t.Fatalf("room error: %v", e.Err)
		}
	}
}

// wantMessages reads the next messages and checks their room and sequence numbers.
func wantMessages(t *testing.T, c *Client, roomID string, seqs ...int64) []protocol.Message {
	t.Helper()
	var got []protocol.Message
	for _, want := range seqs {
		m := nextMessage(t, c)
		if m.RoomID != roomID || m.Seq != want {
			t.Fatalf("got message %s/%d %q, want %s/%d", m.RoomID, m.Seq, m.Text, roomID, want)
		}
		got = append(got, m.Message)
	}
	return got
}

// wantState reads events until a state event of the wanted state. Only Reconnecting may come
// before it (failed attempts while waiting for Connected).
func wantState(t *testing.T, c *Client, want State) *StateEvent {
	t.Helper()
	for {
		if e, ok := nextEvent(t, c).(*StateEvent); ok {
			if e.State == want {
				return e
			}
			if e.State != Reconnecting {
				t.Fatalf("state %v (err %v), want %v", e.State, e.Err, want)
			}
		}
	}
}

// wantNoEvent checks that no event but state changes is pending once a round trip to the
// server completed (every frame sent before the answer was handled before it).
func wantNoEvent(t *testing.T, c *Client, roomID string) {
	t.Helper()
	if _, err := c.History(context.Background(), roomID, HistoryQuery{Limit: 1}); err != nil {
		t.Fatal(err)
	}
	for {
		select {
		case e := <-c.Events():
			if _, ok := e.(*StateEvent); !ok {
				t.Fatalf("unexpected event %#v", e)
			}
		default:
			return
		}
	}
}

// join joins roomID or fails the test.
func join(t *testing.T, c *Client, roomID string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := c.Join(ctx, roomID); err != nil {
		t.Fatal(err)
	}
}

// isErr reports whether err is a server *Error with code.
func isErr(err error, code string) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}

// waitFor polls cond until it holds, for what the client does in the background and tells
// no one (such as counting a pong).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within %v", what, waitTimeout)
		}
		time.Sleep(time.Millisecond)
	}
}
