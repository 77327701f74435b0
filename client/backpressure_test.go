package client

import (
	"testing"
)

// TestSlowApplicationLosesNothing fills a one-event buffer: the client stops reading its
// connection instead of dropping events, and delivers everything once the application reads.
func TestSlowApplicationLosesNothing(t *testing.T) {
	s := newTestServer(t)
	opts := testOptions("alice")
	opts.EventBuffer = 1
	c := dial(t, s, opts)
	join(t, c, "general")
	for range 50 {
		s.post("general", "bob", "m")
	}
	waitFor(t, "a full event buffer", func() bool { return len(c.Events()) == cap(c.Events()) })
	for seq := int64(1); seq <= 50; seq++ {
		wantMessages(t, c, "general", seq)
	}
	wantNoEvent(t, c, "general")
}
