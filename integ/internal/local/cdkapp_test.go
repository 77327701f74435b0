package local

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSynthCDKApp runs a cdk.json "app" as the CDK CLI does: through the shell in cdk.json's
// folder, with CDK_OUTDIR and the merged context in CDK_CONTEXT_JSON.
func TestSynthCDKApp(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "cdk.json"), `{"app": "echo \"$CDK_CONTEXT_JSON\" > \"$CDK_OUTDIR/context.json\" && pwd > \"$CDK_OUTDIR/pwd\" && echo '{}' > \"$CDK_OUTDIR/manifest.json\"",
		"context": {"fromCdkJson": "a", "both": "cdk.json"}}`)
	write(t, filepath.Join(dir, "cdk.context.json"), `{"cached": 1, "both": "cdk.context.json"}`)
	app, err := LoadCDKApp(dir)
	if err != nil {
		t.Fatal(err)
	}
	if app.Output != "cdk.out" {
		t.Errorf("Output = %q, want the CLI's default cdk.out", app.Output)
	}
	out := filepath.Join(t.TempDir(), "asm")
	if err := SynthCDKApp(context.Background(), app, out, map[string]any{"flag": "x"}, nil); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(read(t, filepath.Join(out, "context.json")), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"fromCdkJson": "a", "both": "cdk.json", "cached": float64(1), "flag": "x"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("context %s = %v, want %v (all: %v)", k, got[k], v, got)
		}
	}
	if pwd := strings.TrimSpace(string(read(t, filepath.Join(out, "pwd")))); pwd != dir {
		t.Errorf("the app ran in %s, want %s", pwd, dir)
	}
}

func TestSynthCDKAppErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := LoadCDKApp(dir); err == nil || !strings.Contains(err.Error(), "no cdk.json in "+dir) || !strings.Contains(err.Error(), "-assembly") {
		t.Errorf("LoadCDKApp without cdk.json: %v", err)
	}
	write(t, filepath.Join(dir, "cdk.json"), `{"output": "x"}`)
	if _, err := LoadCDKApp(dir); err == nil || !strings.Contains(err.Error(), `has no "app"`) {
		t.Errorf("LoadCDKApp without app: %v", err)
	}
	write(t, filepath.Join(dir, "cdk.json"), `{"app": "echo broken app >&2; exit 3"}`)
	app, err := LoadCDKApp(dir)
	if err != nil {
		t.Fatal(err)
	}
	err = SynthCDKApp(context.Background(), app, t.TempDir(), nil, nil)
	if err == nil || !strings.Contains(err.Error(), "exit status 3") || !strings.Contains(err.Error(), "broken app") {
		t.Errorf("SynthCDKApp of a failing app: %v", err)
	}
	write(t, filepath.Join(dir, "cdk.json"), `{"app": "true"}`)
	app, _ = LoadCDKApp(dir)
	if err := SynthCDKApp(context.Background(), app, t.TempDir(), nil, nil); err == nil || !strings.Contains(err.Error(), "wrote no cloud assembly") {
		t.Errorf("SynthCDKApp of an app that writes nothing: %v", err)
	}
}

func write(t *testing.T, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

func read(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
