package client

import (
	"math/rand/v2"
	"sync"
	"time"
)

// backoff computes waits between attempts: exponential, capped, with full jitter. It is safe
// for concurrent use.
type backoff struct {
	min, max time.Duration
	mu       sync.Mutex
	rand     *rand.Rand
}

func newBackoff(min, max time.Duration, r *rand.Rand) *backoff {
	return &backoff{min: min, max: max, rand: r}
}

// ceiling is the longest wait of attempt n (0 for the first): min(max, min·2ⁿ).
func (b *backoff) ceiling(n int) time.Duration {
	c := b.min
	for i := 0; i < n && c < b.max; i++ {
		c *= 2
	}
	return min(c, b.max)
}

// delay is attempt n's wait: uniformly random in [0, ceiling(n)], so that clients dropped at
// the same moment do not come back at the same moment.
func (b *backoff) delay(n int) time.Duration {
	c := b.ceiling(n)
	if c <= 0 {
		return 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return time.Duration(b.rand.Int64N(int64(c) + 1))
}
