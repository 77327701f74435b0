package local_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/chatstack/websocketchatapi/integ/internal/local"
	"github.com/chatstack/websocketchatapi/protocol"
)

// TestOptionsShortenConnectionLimits starts a stack whose idle timeout and maximum connection
// duration are short, and checks both, the ping route that keeps a connection alive without
// invoking anything, and Drop, through the Env.
func TestOptionsShortenConnectionLimits(t *testing.T) {
	const idle, maxAge = 1500 * time.Millisecond, 4 * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	e, err := local.Start(ctx, local.Options{AssemblyDir: assemblyDir, IdleTimeout: idle, MaxConnectionDuration: maxAge})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	dial := func(user string) (*websocket.Conn, time.Time) {
		t.Helper()
		tok, err := e.Token(user, user)
		if err != nil {
			t.Fatal(err)
		}
		c, _, err := websocket.Dial(ctx, e.URL+"?token="+tok, nil)
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		t.Cleanup(func() { _ = c.CloseNow() })
		return c, time.Now()
	}
	chat := e.API.Route(protocol.ActionSendMessage).Integration.Function.Name
	disconnect := e.API.Route("$disconnect").Integration.Function.Name

	// Dropped: the client's read fails without a close frame, and $disconnect runs.
	dropped, _ := dial("dora")
	ids := e.Gateway.Connections()
	if len(ids) != 1 {
		t.Fatalf("Connections() = %v, want one", ids)
	}
	if err := e.Gateway.Drop(ids[0]); err != nil {
		t.Fatal(err)
	}
	_, _, err = dropped.Read(ctx)
	if err == nil || websocket.CloseStatus(err) != -1 {
		t.Fatalf("read after Drop: %v, want the connection cut without a close frame", err)
	}
	waitUntil(t, "$disconnect of the dropped connection", func() bool { return starts(e, disconnect) == 1 })

	// Idle: a silent connection closes with 1001 after IdleTimeout.
	silent, silentSince := dial("sid")
	if code, reason := closeOf(ctx, t, silent); code != websocket.StatusGoingAway || reason != "Going away" {
		t.Fatalf("idle close %v %q, want 1001 Going away", code, reason)
	}
	if d := time.Since(silentSince); d < idle {
		t.Errorf("idle connection closed after %v, before the idle timeout %v", d, idle)
	}

	// Pings keep a connection past the idle timeout, until MaxConnectionDuration.
	pinger, pingerSince := dial("pia")
	for time.Since(pingerSince) < 2*idle {
		if err := pinger.Write(ctx, websocket.MessageText, []byte(`{"action":"ping","n":1}`)); err != nil {
			t.Fatalf("ping: %v", err)
		}
		if _, b, err := pinger.Read(ctx); err != nil || string(b) != `{"type":"pong"}` {
			t.Fatalf("ping answered %q, %v; want the pong", b, err)
		}
		time.Sleep(idle / 3)
	}
	go func() { // keep pinging, so that only the age closes it
		for ctx.Err() == nil && pinger.Write(ctx, websocket.MessageText, []byte(`{"action":"ping"}`)) == nil {
			time.Sleep(idle / 3)
		}
	}()
	code, reason := closeOf(ctx, t, pinger)
	if code != websocket.StatusGoingAway || reason != "Going away" {
		t.Fatalf("old connection's close %v %q, want 1001 Going away", code, reason)
	}
	if d := time.Since(pingerSince); d < maxAge-500*time.Millisecond {
		t.Errorf("pinged connection closed after %v, before MaxConnectionDuration %v", d, maxAge)
	}
	if n := starts(e, chat); n != 0 {
		t.Errorf("the chat function ran %d times for pings, want none", n)
	}
}

// starts counts the invocations of function (its START lines).
func starts(e *local.Env, function string) int {
	n := 0
	for _, l := range e.Logs(function) {
		if strings.HasPrefix(l, "START RequestId: ") {
			n++
		}
	}
	return n
}

// closeOf reads until the connection ends and returns the close frame's code and reason.
func closeOf(ctx context.Context, t *testing.T, c *websocket.Conn) (websocket.StatusCode, string) {
	t.Helper()
	for {
		_, _, err := c.Read(ctx)
		if err == nil {
			continue
		}
		var ce websocket.CloseError
		if !errors.As(err, &ce) {
			t.Fatalf("connection ended without a close frame: %v", err)
		}
		return ce.Code, ce.Reason
	}
}

// waitUntil polls cond for up to 20 s.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
