package client

import (
	"context"
	"time"
)

// clock is the time the client runs on; tests replace it to drive heartbeats step by step.
type clock interface {
	Now() time.Time
	// AfterFunc calls f in its own goroutine once d has passed, unless stopped first.
	AfterFunc(d time.Duration, f func()) stopper
}

// stopper stops a timer: it reports whether the call stopped it before it fired.
type stopper interface{ Stop() bool }

// realClock is the wall clock.
type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) AfterFunc(d time.Duration, f func()) stopper { return time.AfterFunc(d, f) }

// sleep waits d on clk, or until ctx is done; it reports whether the whole wait passed.
func sleep(ctx context.Context, clk clock, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	fired := make(chan struct{})
	t := clk.AfterFunc(d, func() { close(fired) })
	select {
	case <-fired:
		return true
	case <-ctx.Done():
		t.Stop()
		return false
	}
}
