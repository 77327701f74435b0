package client

import (
	"math/rand/v2"
	"testing"
	"time"
)

func TestBackoffCeilingDoublesUpToTheCap(t *testing.T) {
	b := newBackoff(500*time.Millisecond, 30*time.Second, rand.New(rand.NewPCG(1, 1)))
	want := []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second,
		8 * time.Second, 16 * time.Second, 30 * time.Second, 30 * time.Second}
	for n, w := range want {
		if got := b.ceiling(n); got != w {
			t.Errorf("ceiling(%d) = %v, want %v", n, got, w)
		}
	}
	if got := b.ceiling(1000); got != 30*time.Second {
		t.Errorf("ceiling(1000) = %v, want the cap", got)
	}
}

func TestBackoffFullJitter(t *testing.T) {
	const samples = 20000
	b := newBackoff(500*time.Millisecond, 30*time.Second, rand.New(rand.NewPCG(7, 11)))
	for _, n := range []int{0, 3, 10} {
		ceiling := b.ceiling(n)
		var sum time.Duration
		lo, hi := ceiling, time.Duration(0)
		for range samples {
			d := b.delay(n)
			if d < 0 || d > ceiling {
				t.Fatalf("delay(%d) = %v, outside [0, %v]", n, d, ceiling)
			}
			sum += d
			lo, hi = min(lo, d), max(hi, d)
		}
		// Uniform on [0, c]: mean c/2, standard error c/sqrt(12·samples) ≈ 0.002c. Allow 5σ.
		if mean := sum / samples; mean < ceiling*49/100 || mean > ceiling*51/100 {
			t.Errorf("attempt %d: mean %v, want about %v", n, mean, ceiling/2)
		}
		if lo > ceiling/100 || hi < ceiling*99/100 {
			t.Errorf("attempt %d: delays span [%v, %v], want nearly all of [0, %v]", n, lo, hi, ceiling)
		}
	}
}

func TestBackoffIsDeterministicWithASeededSource(t *testing.T) {
	a := newBackoff(time.Millisecond, time.Second, rand.New(rand.NewPCG(3, 4)))
	b := newBackoff(time.Millisecond, time.Second, rand.New(rand.NewPCG(3, 4)))
	for n := range 20 {
		if x, y := a.delay(n), b.delay(n); x != y {
			t.Fatalf("attempt %d: %v and %v from the same seed", n, x, y)
		}
	}
}
