package deploy

import (
	"fmt"
	"math/rand/v2"
	"slices"
)

// Order is an order of creation of a stack's resources: wave after wave, the resources of a
// wave created at the same time, each wave once the previous one is complete.
type Order struct {
	// Name says how the order was chosen, e.g. "adversarial" or "random (seed 7)".
	Name string
	// Waves lists the waves, each in logical id order for Adversarial.
	Waves [][]string
}

// IDs returns the resources in order of creation (wave by wave).
func (o Order) IDs() []string {
	var out []string
	for _, w := range o.Waves {
		out = append(out, w...)
	}
	return out
}

// String returns the order's name.
func (o Order) String() string { return o.Name }

// Adversarial returns the order in which CloudFormation creates each resource as soon as all
// of its dependencies exist, every creation taking as long: wave n holds the resources whose
// longest chain of dependencies has n links, in logical id order. A resource is then created
// before anything it does not depend on and that has a longer chain, such as a stage before
// a route that its RouteSettings name but that it does not depend on.
func Adversarial(g *Graph) Order {
	depth := map[string]int{}
	var depthOf func(string) int
	depthOf = func(id string) int {
		if d, ok := depth[id]; ok {
			return d
		}
		d := 0
		for _, dep := range g.deps[id] {
			d = max(d, depthOf(dep.ID)+1)
		}
		depth[id] = d
		return d
	}
	var waves [][]string
	for _, id := range g.ids { // logical id order, kept within each wave
		d := depthOf(id)
		for len(waves) <= d {
			waves = append(waves, nil)
		}
		waves[d] = append(waves[d], id)
	}
	return Order{Name: "adversarial", Waves: waves}
}

// Random returns a topological order drawn with seed: one resource at a time, chosen
// uniformly among those whose dependencies all exist. Every seed gives an order CloudFormation
// may choose; a seed always gives the same one.
func Random(g *Graph, seed uint64) Order {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	waiting := map[string]int{}
	var ready []string
	for _, id := range g.ids {
		waiting[id] = len(g.deps[id])
		if waiting[id] == 0 {
			ready = append(ready, id)
		}
	}
	dependents := g.dependents()
	waves := make([][]string, 0, len(g.ids))
	for len(ready) > 0 {
		i := rng.IntN(len(ready))
		id := ready[i]
		ready = slices.Delete(ready, i, i+1)
		waves = append(waves, []string{id})
		for _, d := range dependents[id] { // logical id order: the draw stays deterministic
			if waiting[d]--; waiting[d] == 0 {
				ready = append(ready, d)
			}
		}
	}
	return Order{Name: fmt.Sprintf("random (seed %d)", seed), Waves: waves}
}
