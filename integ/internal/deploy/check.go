package deploy

import (
	"fmt"

	"github.com/chatstack/websocketchatapi/integ/internal/assembly"
)

// Orders chooses the orders Check simulates.
type Orders int

const (
	// AdversarialAndRandom simulates the adversarial order, then one random order (the
	// default).
	AdversarialAndRandom Orders = iota
	// AdversarialOnly simulates the adversarial order alone.
	AdversarialOnly
	// RandomOnly simulates one random order alone.
	RandomOnly
)

// DefaultSeed seeds the random order when Check is given seed 0: a fixed seed, so that a
// given template always meets the same orders.
const DefaultSeed = 1

// Check simulates the deploy of st in the orders that orders chooses, the random one drawn
// with seed (0 means DefaultSeed), and returns the first refusal (wrapping a *Refusal) or problem.
func Check(st *assembly.Stack, orders Orders, seed uint64) error {
	g, err := NewGraph(st.Resources)
	if err != nil {
		return fmt.Errorf("deploy %s: %w", st.Name, err)
	}
	if seed == 0 {
		seed = DefaultSeed
	}
	var list []Order
	switch orders {
	case AdversarialAndRandom:
		list = []Order{Adversarial(g), Random(g, seed)}
	case AdversarialOnly:
		list = []Order{Adversarial(g)}
	case RandomOnly:
		list = []Order{Random(g, seed)}
	default:
		return fmt.Errorf("deploy %s: unknown Orders %d", st.Name, orders)
	}
	for _, o := range list {
		if err := Simulate(st, o); err != nil {
			return err
		}
	}
	return nil
}
