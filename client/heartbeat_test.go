package client

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/chatstack/websocketchatapi/protocol"
)

func heartbeatOptions(clk *fakeClock) Options {
	opts := testOptions("alice")
	opts.clock = clk
	opts.HeartbeatInterval = time.Minute
	opts.PongTimeout = 10 * time.Second
	return opts
}

func TestHeartbeatPingsAnIdleConnection(t *testing.T) {
	clk := newFakeClock()
	s := newTestServer(t)
	c := dial(t, s, heartbeatOptions(clk))
	sc := s.nextConn()
	clk.Advance(time.Minute)
	if req := sc.nextAny(); req.Action != protocol.RoutePing {
		t.Fatalf("first request %+v, want a ping", req)
	}
	waitFor(t, "the pong", func() bool { return pongs(c) == 1 })
	clk.Advance(10 * time.Second) // the pong came: the connection lives on
	clk.Advance(50 * time.Second)
	if req := sc.nextAny(); req.Action != protocol.RoutePing {
		t.Fatalf("request %+v, want the second ping", req)
	}
	join(t, c, "general")
	if c.State() != Connected || len(s.accepted) != 0 {
		t.Fatalf("state %v, %d new connections: want the first one alive", c.State(), len(s.accepted))
	}
}

func TestHeartbeatStaysSilentWhileTheClientSends(t *testing.T) {
	clk := newFakeClock()
	s := newTestServer(t)
	c := dial(t, s, heartbeatOptions(clk))
	sc := s.nextConn()
	clk.Advance(40 * time.Second)
	join(t, c, "general") // sent at 0:40
	clk.Advance(20 * time.Second)
	if _, err := c.Send(context.Background(), "general", "busy"); err != nil { // at 1:00
		t.Fatal(err)
	}
	clk.Advance(59 * time.Second) // 1:59: the last send is 59 s old
	for _, want := range []string{protocol.ActionJoinRoom, protocol.ActionSendMessage} {
		if req := sc.nextAny(); req.Action != want {
			t.Fatalf("request %+v, want %s and no ping", req, want)
		}
	}
	select {
	case req := <-sc.requests:
		t.Fatalf("request %+v while the client was busy", req)
	default:
	}
	clk.Advance(time.Second) // 2:00: a minute without sending
	if req := sc.nextAny(); req.Action != protocol.RoutePing {
		t.Fatalf("request %+v, want a ping", req)
	}
}

func TestMissingPongCountsTheConnectionDead(t *testing.T) {
	s := newTestServer(t)
	opts := testOptions("alice")
	opts.HeartbeatInterval = 20 * time.Millisecond
	opts.PongTimeout = 50 * time.Millisecond
	s.setIntercept(func(sc *serverConn, req clientRequest) bool {
		return sc.n == 1 && req.Action == protocol.RoutePing // the first connection went silent
	})
	c := dial(t, s, opts)
	join(t, c, "general")
	e := wantState(t, c, Reconnecting)
	if !errors.Is(e.Err, errNoPong) {
		t.Fatalf("reconnecting because %v, want the missing pong", e.Err)
	}
	wantState(t, c, Connected)
	s.post("general", "bob", "still here")
	wantMessages(t, c, "general", 1)
}

// pongs is how many pongs the client's connection received.
func pongs(c *Client) int {
	c.mu.Lock()
	cn := c.cur
	c.mu.Unlock()
	cn.mu.Lock()
	defer cn.mu.Unlock()
	return cn.pongs
}

// TestSilentConnectionIsDetectedWhileSending: a busy client never idles into a heartbeat, so
// a request without answer makes it ping; no pong means the connection is gone.
func TestSilentConnectionIsDetectedWhileSending(t *testing.T) {
	s := newTestServer(t)
	opts := testOptions("alice")
	opts.RequestTimeout = 100 * time.Millisecond
	opts.PongTimeout = 50 * time.Millisecond
	c := dial(t, s, opts)
	join(t, c, "general")
	s.setIntercept(func(sc *serverConn, req clientRequest) bool {
		return sc.n == 1 // the network swallows everything from now on
	})
	ack, err := c.Send(context.Background(), "general", "hello")
	if err != nil {
		t.Fatal(err)
	}
	e := wantState(t, c, Reconnecting)
	if !errors.Is(e.Err, errNoPong) || ack.Seq != 1 {
		t.Fatalf("reconnected because %v, ack %+v: want the missing pong, then seq 1", e.Err, ack)
	}
}
