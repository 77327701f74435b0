package deploy

import (
	"fmt"
	"slices"
	"strings"

	"github.com/chatstack/websocketchatapi/integ/internal/assembly"
)

// Refusal is a resource that a service refuses to create at its step of an order, because a
// resource it needs does not exist yet: the CREATE_FAILED event of that deploy.
type Refusal struct {
	// Order names the order, e.g. adversarial.
	Order string
	// Step is the resource's position in the order (1-based) and Steps the order's length.
	Step, Steps int
	// LogicalID and Type are the refused resource's.
	LogicalID, Type string
	// Service, Status and Code are the refusing API's, e.g. ApiGatewayV2, 404,
	// NotFoundException ("" and 0 for a dependency CloudFormation itself would have ordered).
	Service string
	Status  int
	Code    string
	// Message is the service's message (see the package documentation for its sources).
	Message string
	// Missing is the logical id of the resource that did not exist yet ("" when the template
	// has none that would do).
	Missing string
	// Detail says what was missing and how the template can order it.
	Detail string
}

// Error reads like CloudFormation's CREATE_FAILED event, followed by the emulator's detail.
func (r *Refusal) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s) CREATE_FAILED in the %s deploy order (step %d of %d): %s", r.LogicalID, r.Type, r.Order, r.Step, r.Steps, r.Message)
	if r.Code != "" {
		fmt.Fprintf(&b, " (Service: %s; Status Code: %d; Error Code: %s)", r.Service, r.Status, r.Code)
	}
	if r.Detail != "" {
		b.WriteString(": " + r.Detail)
	}
	return b.String()
}

// need is a resource that must exist before another one is created, and the refusal when it
// does not.
type need struct {
	id      string // the resource needed; "" when nothing in the template would do
	service string
	status  int
	code    string
	message string
	detail  string
}

// Simulate creates st's resources in order, refusing the first resource whose creation the
// services would refuse at that moment (a lookup by name, key or id of something not created
// yet), or that needs a resource of the dependency graph not created yet (an order that
// CloudFormation would not choose). The resources of a wave do not see each other. The order
// must hold every resource of st once. The error wraps a *Refusal, or says what is wrong with
// the order.
func Simulate(st *assembly.Stack, order Order) error {
	g, err := NewGraph(st.Resources)
	if err != nil {
		return fmt.Errorf("deploy %s: %w", st.Name, err)
	}
	if err := covers(g, order); err != nil {
		return fmt.Errorf("deploy %s: the %s order %w", st.Name, order.Name, err)
	}
	needs, err := lookups(st)
	if err != nil {
		return fmt.Errorf("deploy %s: %w", st.Name, err)
	}
	created := map[string]bool{}
	step, steps := 0, len(g.ids)
	for _, wave := range order.Waves {
		for _, id := range wave {
			step++
			n, missing := firstMissing(needs[id], g.deps[id], created)
			if missing {
				return fmt.Errorf("deploy %s: %w", st.Name, &Refusal{
					Order: order.Name, Step: step, Steps: steps,
					LogicalID: id, Type: st.Resources[id].Type,
					Service: n.service, Status: n.status, Code: n.code,
					Message: n.message, Missing: n.id, Detail: n.detail,
				})
			}
		}
		for _, id := range wave {
			created[id] = true
		}
	}
	return nil
}

// firstMissing returns the first of needs, then of the graph's deps, that is not created.
func firstMissing(needs []need, deps []Dependency, created map[string]bool) (need, bool) {
	for _, n := range needs {
		if n.id == "" || !created[n.id] {
			return n, true
		}
	}
	for _, d := range deps {
		if !created[d.ID] {
			return need{
				id:      d.ID,
				message: fmt.Sprintf("it needs %s (%s), which is not created yet", d.ID, d.Via),
				detail:  "CloudFormation never creates a resource before one it depends on: this order is not one it would choose",
			}, true
		}
	}
	return need{}, false
}

// covers checks that order creates every resource of g exactly once.
func covers(g *Graph, order Order) error {
	seen := map[string]bool{}
	for _, id := range order.IDs() {
		if _, ok := slices.BinarySearch(g.ids, id); !ok {
			return fmt.Errorf("creates %s, which is not a resource of the stack", id)
		}
		if seen[id] {
			return fmt.Errorf("creates %s twice", id)
		}
		seen[id] = true
	}
	for _, id := range g.ids {
		if !seen[id] {
			return fmt.Errorf("never creates %s", id)
		}
	}
	return nil
}
