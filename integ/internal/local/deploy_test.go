package local_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chatstack/websocketchatapi/integ/internal/deploy"
	"github.com/chatstack/websocketchatapi/integ/internal/local"
)

// TestStartRefusesAStackAWSWouldNotDeploy runs Start on the synthesized assembly with the
// stage's DependsOn stripped of the routes its RouteSettings name (and of what CDK made under
// them), the template the construct made before the stage depended on them: CloudFormation may
// create the stage first, API Gateway then refuses it, and so does Start, before it starts
// anything.
func TestStartRefusesAStackAWSWouldNotDeploy(t *testing.T) {
	dir := copyAssembly(t, assemblyDir, stripStageRouteDependencies)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	began := time.Now()
	e, err := local.Start(ctx, local.Options{AssemblyDir: dir})
	if err == nil {
		_ = e.Close()
		t.Fatal("Start ran a stack whose stage does not depend on the routes its RouteSettings name")
	}
	t.Logf("Start failed in %v: %v", time.Since(began).Round(time.Millisecond), err)
	var r *deploy.Refusal
	if !errors.As(err, &r) {
		t.Fatalf("Start's error is no deploy refusal: %v", err)
	}
	const want = "Unable to find Route by key $connect within the provided RouteSettings"
	if r.Message != want || r.Type != "AWS::ApiGatewayV2::Stage" || r.Order != "adversarial" || !strings.Contains(err.Error(), want) {
		t.Errorf("refusal %+v: want the stage refused in the adversarial order with %q", r, want)
	}
}

// copyAssembly copies the cloud assembly in src to a temporary folder, passing each stack
// template through edit; asset folders are linked, not copied.
func copyAssembly(t *testing.T, src string, edit func(t *testing.T, template map[string]any)) string {
	t.Helper()
	dst := t.TempDir()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		from, to := filepath.Join(src, e.Name()), filepath.Join(dst, e.Name())
		if e.IsDir() {
			if err := os.Symlink(from, to); err != nil {
				t.Fatal(err)
			}
			continue
		}
		data, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(e.Name(), ".template.json") {
			var tpl map[string]any
			dec := json.NewDecoder(bytes.NewReader(data))
			dec.UseNumber() // numbers stay as written
			if err := dec.Decode(&tpl); err != nil {
				t.Fatal(err)
			}
			edit(t, tpl)
			if data, err = json.Marshal(tpl); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(to, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// stripStageRouteDependencies removes from every stage's DependsOn the routes its
// RouteSettings name and the resources CDK made under them (whose logical ids start as the
// route's does, before its 8-character hash).
func stripStageRouteDependencies(t *testing.T, tpl map[string]any) {
	t.Helper()
	resources, _ := tpl["Resources"].(map[string]any)
	routes := map[string]string{} // logical id prefix by route key
	for id, r := range resources {
		r, _ := r.(map[string]any)
		if r["Type"] == "AWS::ApiGatewayV2::Route" {
			key, _ := r["Properties"].(map[string]any)["RouteKey"].(string)
			routes[key] = id[:len(id)-8]
		}
	}
	stripped := 0
	for _, r := range resources {
		r, _ := r.(map[string]any)
		if r["Type"] != "AWS::ApiGatewayV2::Stage" {
			continue
		}
		settings, _ := r["Properties"].(map[string]any)["RouteSettings"].(map[string]any)
		deps, _ := r["DependsOn"].([]any)
		kept := []any{}
		for _, d := range deps {
			id, _ := d.(string)
			named := false
			for key := range settings {
				named = named || (routes[key] != "" && strings.HasPrefix(id, routes[key]))
			}
			if named {
				stripped++
				continue
			}
			kept = append(kept, d)
		}
		r["DependsOn"] = kept
	}
	if stripped == 0 {
		t.Fatal("no stage depends on a route its RouteSettings name: nothing to strip")
	}
}
