package deploy_test

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/chatstack/websocketchatapi/integ/internal/assembly"
	"github.com/chatstack/websocketchatapi/integ/internal/deploy"
	"github.com/chatstack/websocketchatapi/integ/internal/golden"
)

// seeds are the random orders the tests draw.
var seeds = []uint64{1, 2, 3, 7, 42, 1234, 99991}

func TestGraphFindsEveryKindOfReference(t *testing.T) {
	res := map[string]*assembly.Resource{
		"A": {LogicalID: "A", Type: "X", Properties: map[string]any{}},
		"B": {LogicalID: "B", Type: "X", Properties: map[string]any{}},
		"C": {LogicalID: "C", Type: "X", Properties: map[string]any{}},
		"D": {LogicalID: "D", Type: "X", Properties: map[string]any{}},
		"E": {LogicalID: "E", Type: "X", Properties: map[string]any{}},
		"User": {LogicalID: "User", Type: "X", DependsOn: []string{"E"}, Properties: map[string]any{
			"R":     ref("A"),
			"G":     obj{"Fn::GetAtt": "B.Arn"},
			"Deep":  []any{obj{"x": join("p", getAtt("C", "Arn"))}},
			"Sub":   obj{"Fn::Sub": "${D.Arn}/${AWS::Region}/${!B}/${Param}"},
			"Vars":  obj{"Fn::Sub": []any{"${Local}", obj{"Local": ref("A")}}},
			"Param": ref("AWS::AccountId"),
			"Self":  ref("User"),
		}},
	}
	g, err := deploy.NewGraph(res)
	if err != nil {
		t.Fatal(err)
	}
	got := g.Dependencies("User")
	want := []deploy.Dependency{{ID: "A", Via: "Ref"}, {ID: "B", Via: "Fn::GetAtt"}, {ID: "C", Via: "Fn::GetAtt"}, {ID: "D", Via: "Fn::Sub"}, {ID: "E", Via: "DependsOn"}}
	if !slices.Equal(got, want) {
		t.Errorf("dependencies of User = %v, want %v", got, want)
	}
	if !g.DependsOn("User", "D") || g.DependsOn("A", "User") {
		t.Error("DependsOn does not follow the graph")
	}
}

func TestGraphRefusesWhatCloudFormationRefuses(t *testing.T) {
	unresolved := map[string]*assembly.Resource{
		"A": {LogicalID: "A", Type: "X", DependsOn: []string{"Nowhere"}, Properties: map[string]any{}},
	}
	_, err := deploy.NewGraph(unresolved)
	if err == nil || err.Error() != "Template format error: Unresolved resource dependencies [Nowhere] in the Resources block of the template" {
		t.Errorf("DependsOn on no resource: %v", err)
	}
	cycle := map[string]*assembly.Resource{
		"A": {LogicalID: "A", Type: "X", Properties: map[string]any{"x": ref("B")}},
		"B": {LogicalID: "B", Type: "X", DependsOn: []string{"A"}, Properties: map[string]any{}},
		"C": {LogicalID: "C", Type: "X", Properties: map[string]any{}},
	}
	_, err = deploy.NewGraph(cycle)
	if err == nil || err.Error() != "Circular dependency between resources: [A, B]" {
		t.Errorf("cycle: %v", err)
	}
}

// position maps each resource to its wave in o.
func position(o deploy.Order) map[string]int {
	at := map[string]int{}
	for i, w := range o.Waves {
		for _, id := range w {
			at[id] = i
		}
	}
	return at
}

func TestOrdersCreateDependenciesFirst(t *testing.T) {
	st := golden.Load(t, assembly.Options{})
	g := graph(t, st)
	orders := []deploy.Order{deploy.Adversarial(g)}
	for _, s := range seeds {
		orders = append(orders, deploy.Random(g, s))
	}
	for _, o := range orders {
		at := position(o)
		if ids := o.IDs(); len(ids) != len(st.Resources) {
			t.Errorf("%s order creates %d resources, the stack has %d", o, len(ids), len(st.Resources))
		}
		for _, id := range g.IDs() {
			for _, d := range g.Dependencies(id) {
				if at[d.ID] >= at[id] {
					t.Errorf("%s order: %s (wave %d) is not created before %s (wave %d), which needs it by %s", o, d.ID, at[d.ID], id, at[id], d.Via)
				}
			}
		}
	}
}

func TestAdversarialCreatesStageBeforeAnUnrelatedRoute(t *testing.T) {
	st := load(t, chatResources(), nil)
	o := deploy.Adversarial(graph(t, st))
	at := position(o)
	t.Logf("adversarial waves: %v", o.Waves)
	if at["Stage"] >= at["ConnectRoute"] {
		t.Errorf("the stage is in wave %d, the $connect route in wave %d: want the stage first", at["Stage"], at["ConnectRoute"])
	}
	for _, w := range o.Waves {
		if !slices.IsSorted(w) {
			t.Errorf("wave %v is not in logical id order", w)
		}
	}
	// Depending on the route puts the stage after it.
	st = load(t, chatResources("ConnectRoute"), nil)
	at = position(deploy.Adversarial(graph(t, st)))
	if at["Stage"] <= at["ConnectRoute"] {
		t.Errorf("with DependsOn, the stage is in wave %d, the route in wave %d", at["Stage"], at["ConnectRoute"])
	}
}

func TestRandomIsDeterministicPerSeedAndExplores(t *testing.T) {
	g := graph(t, golden.Load(t, assembly.Options{}))
	distinct := map[string][]uint64{}
	for _, s := range seeds {
		a, b := deploy.Random(g, s), deploy.Random(g, s)
		if !slices.Equal(a.IDs(), b.IDs()) {
			t.Errorf("seed %d gives two different orders", s)
		}
		if a.Name != "random (seed "+strconv.FormatUint(s, 10)+")" {
			t.Errorf("order name %q does not name seed %d", a.Name, s)
		}
		key := strings.Join(a.IDs(), ",")
		distinct[key] = append(distinct[key], s)
	}
	t.Logf("seeds %v give %d distinct orders", seeds, len(distinct))
	if len(distinct) < len(seeds)-1 {
		t.Errorf("seeds %v give only %d distinct orders", seeds, len(distinct))
	}
	// The stage sometimes comes before, sometimes after, a route it does not depend on.
	st := load(t, chatResources(), nil)
	small := graph(t, st)
	before, after := 0, 0
	for s := range uint64(50) {
		at := position(deploy.Random(small, s))
		if at["Stage"] < at["ConnectRoute"] {
			before++
		} else {
			after++
		}
	}
	t.Logf("seeds 0-49: the stage before the route %d times, after %d times", before, after)
	if before == 0 || after == 0 {
		t.Errorf("seeds 0-49 put the stage before the route %d times and after it %d times: want both", before, after)
	}
}
