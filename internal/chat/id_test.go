package chat

import (
	"sort"
	"strings"
	"testing"
	"time"
)

func TestNewMessageID(t *testing.T) {
	t0 := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	seen := map[string]bool{}
	var ids []string
	for i := range 200 {
		id := NewMessageID(t0.Add(time.Duration(i) * time.Millisecond))
		if len(id) != MessageIDLength {
			t.Fatalf("id %q has length %d, want %d", id, len(id), MessageIDLength)
		}
		if strings.Trim(id, crockford) != "" {
			t.Fatalf("id %q has characters outside Crockford base32", id)
		}
		if seen[id] {
			t.Fatalf("duplicate id %q", id)
		}
		seen[id] = true
		ids = append(ids, id)
	}
	if !sort.StringsAreSorted(ids) {
		t.Errorf("ids of increasing milliseconds do not sort by time: %v", ids[:5])
	}
	// The time prefix is the ULID encoding of the Unix milliseconds.
	if got, want := NewMessageID(time.UnixMilli(0))[:10], "0000000000"; got != want {
		t.Errorf("epoch prefix %q, want %q", got, want)
	}
	if got, want := NewMessageID(time.UnixMilli(1<<48 - 1))[:10], "7ZZZZZZZZZ"; got != want {
		t.Errorf("max prefix %q, want %q", got, want)
	}
}

func TestIDSourceMonotonic(t *testing.T) {
	var src idSource
	t0 := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	var ids []string
	for i := range 100 {
		// Ten ids per millisecond, and a clock that steps back once.
		at := t0.Add(time.Duration(i/10) * time.Millisecond)
		if i == 50 {
			at = t0
		}
		ids = append(ids, src.next(at))
	}
	for i := 1; i < len(ids); i++ {
		if ids[i] <= ids[i-1] {
			t.Fatalf("id %d %q does not sort after %q", i, ids[i], ids[i-1])
		}
	}
}

func TestBackoffFullJitter(t *testing.T) {
	p := RetryPolicy{BaseDelay: 10 * time.Millisecond, MaxDelay: 50 * time.Millisecond}
	for n := 1; n <= 40; n++ {
		ceiling := min(p.MaxDelay, p.BaseDelay<<min(n-1, 20))
		for range 50 {
			if d := p.backoff(n); d < 0 || d >= ceiling {
				t.Fatalf("backoff(%d) = %v, want in [0, %v)", n, d, ceiling)
			}
		}
	}
	// Full jitter: waits spread over the whole range rather than sitting at the ceiling.
	low := 0
	for range 1000 {
		if p.backoff(10) < p.MaxDelay/2 {
			low++
		}
	}
	if low < 300 || low > 700 {
		t.Errorf("%d of 1000 waits below half the cap, want about 500", low)
	}
}
