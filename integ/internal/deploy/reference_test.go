package deploy_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/chatstack/websocketchatapi/integ/internal/assembly"
	"github.com/chatstack/websocketchatapi/integ/internal/deploy"
	"github.com/chatstack/websocketchatapi/integ/internal/golden"
)

// envAssembly names the environment variable that gives a cloud assembly (what `cdk synth` or
// local.Synth wrote) for TestAssemblyDeploys to check, e.g. a fresh synth of the reference app.
const envAssembly = "DEPLOY_TEST_ASSEMBLY"

// checkOrders simulates st in the adversarial order and in the random orders of seeds.
func checkOrders(t *testing.T, st *assembly.Stack) {
	t.Helper()
	failed := false
	if err := deploy.Check(st, deploy.AdversarialOnly, 0); err != nil {
		t.Errorf("adversarial order: %v", err)
		failed = true
	}
	for _, s := range seeds {
		if err := deploy.Check(st, deploy.RandomOnly, s); err != nil {
			t.Errorf("seed %d: %v", s, err)
			failed = true
		}
	}
	if failed {
		return
	}
	t.Logf("stack %s (%d resources) deploys in the adversarial order and in the random orders of seeds %v", st.Name, len(st.Resources), seeds)
}

func TestReferenceStackDeploys(t *testing.T) {
	checkOrders(t, golden.Load(t, assembly.Options{}))
}

// TestReferenceStackBeforeTheStageDependedOnItsRoutes is the template the construct made
// before its stage depended on the routes its RouteSettings name: AWS refuses it, and so does
// the simulation.
func TestReferenceStackBeforeTheStageDependedOnItsRoutes(t *testing.T) {
	tpl := goldenTemplate(t)
	removed := withoutRouteDependencies(t, tpl)
	t.Logf("removed from the stage's DependsOn: %v", removed)
	st := writeTemplate(t, tpl)
	stage := st.API().Stages[0]
	connect := st.API().Route("$connect")
	r := wantRefusal(t, adversarial(t, st), stage.LogicalID, connect.LogicalID, "NotFoundException",
		"Unable to find Route by key $connect within the provided RouteSettings")
	if r.Order != "adversarial" {
		t.Errorf("refused in the %s order", r.Order)
	}
	g := graph(t, st)
	refused := 0
	for s := range uint64(20) {
		if deploy.Simulate(st, deploy.Random(g, s)) != nil {
			refused++
		}
	}
	t.Logf("random orders of seeds 0-19 refuse it %d times out of 20", refused)
}

// TestAssemblyDeploys checks the stack of the cloud assembly that DEPLOY_TEST_ASSEMBLY names,
// such as a fresh synth of the reference app, as local.Start would.
func TestAssemblyDeploys(t *testing.T) {
	dir := os.Getenv(envAssembly)
	if dir == "" {
		t.Skip(envAssembly + " is not set: no assembly to check")
	}
	asm, err := assembly.Load(dir, assembly.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range asm.Stacks {
		checkOrders(t, st)
	}
}

// TestProvisionedStackDeploys: the reference stack with provisioned concurrency (live aliases
// on published versions, a scalable target; app/testdata/provisioned-stack.template.json)
// deploys in every order checked.
func TestProvisionedStackDeploys(t *testing.T) {
	path := filepath.Join(filepath.Dir(golden.Path(t)), "provisioned-stack.template.json")
	st, err := assembly.LoadTemplate(path, assembly.Options{StackName: golden.StackName})
	if err != nil {
		t.Fatal(err)
	}
	checkOrders(t, st)
}
