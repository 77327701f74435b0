package local

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"golang.org/x/mod/modfile"
)

// ModulePath is the module whose reference app Synth runs.
const ModulePath = "github.com/chatstack/websocketchatapi"

// synthOutputTail bounds how much of the app's output a failed Synth reports.
const synthOutputTail = 8 << 10

// ReferenceApp is the main package of the reference app, relative to the module root.
const ReferenceApp = "./app"

// Synth synthesizes the reference stack into outDir, as `cdk synth` does: it runs `go run ./app`
// at the module root (found by walking up from the working directory to the go.mod of
// ModulePath) with CDK_OUTDIR=outDir, CDK_CONTEXT_JSON set to the "context" of cdk.json, and
// CDK_VALIDATION=false (aws-cdk-lib's template validator costs seconds and is checked
// elsewhere). extraEnv entries ("KEY=value") are added last and win. The app's handlers are
// bundled as for a deployment (linux/arm64), so outDir holds the very binaries that would be
// uploaded. A failure reports the end of the app's output.
func Synth(ctx context.Context, outDir string, extraEnv ...string) error {
	return SynthApp(ctx, outDir, ReferenceApp, extraEnv...)
}

// SynthApp is Synth for another CDK app of the module: appPackage is its main package as `go
// run` takes it, relative to the module root, such as ./integ/e2e/testdata/brokenapp (a variant
// of the reference stack for a test). It runs the same way, with the same environment.
func SynthApp(ctx context.Context, outDir, appPackage string, extraEnv ...string) error {
	if appPackage == "" {
		return errors.New("synth: empty app package")
	}
	root, err := ModuleRoot()
	if err != nil {
		return fmt.Errorf("synth: %w", err)
	}
	out, err := filepath.Abs(outDir)
	if err != nil {
		return fmt.Errorf("synth: %w", err)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return fmt.Errorf("synth: %w", err)
	}
	contextJSON, err := cdkContext(filepath.Join(root, "cdk.json"))
	if err != nil {
		return fmt.Errorf("synth: %w", err)
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		return fmt.Errorf("synth: %w", err)
	}
	cmd := exec.CommandContext(ctx, goBin, "run", appPackage)
	cmd.Dir = root
	cmd.Env = append(os.Environ(),
		"CDK_OUTDIR="+out,
		"CDK_CONTEXT_JSON="+contextJSON,
		"CDK_VALIDATION=false",
	)
	cmd.Env = append(cmd.Env, extraEnv...)
	output := &tailBuffer{max: synthOutputTail}
	cmd.Stdout = output
	cmd.Stderr = output
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("synth: go run %s in %s: %w\n%s", appPackage, root, err, output.String())
	}
	if _, err := os.Stat(filepath.Join(out, "manifest.json")); err != nil {
		return fmt.Errorf("synth: the app wrote no cloud assembly to %s: %w\n%s", out, err, output.String())
	}
	return nil
}

// ModuleRoot returns the directory of the go.mod of ModulePath, walking up from the working
// directory.
func ModuleRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find module root: %w", err)
	}
	for dir := wd; ; {
		if data, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && modfile.ModulePath(data) == ModulePath {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("find module root: no go.mod of module %s in %s or above", ModulePath, wd)
		}
		dir = parent
	}
}

// cdkContext returns the "context" object of the cdk.json at path as JSON ("{}" when absent).
func cdkContext(path string) (string, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return "{}", nil
	}
	if err != nil {
		return "", fmt.Errorf("read cdk.json: %w", err)
	}
	var cfg struct {
		Context json.RawMessage `json:"context"`
	}
	if err := json.Unmarshal(data, &cfg); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	if len(cfg.Context) == 0 || string(cfg.Context) == "null" {
		return "{}", nil
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, cfg.Context); err != nil {
		return "", fmt.Errorf("%s: context: %w", path, err)
	}
	return compact.String(), nil
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	max int
	buf []byte
}

// Write implements io.Writer.
func (t *tailBuffer) Write(p []byte) (int, error) {
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

// String returns the kept bytes.
func (t *tailBuffer) String() string { return string(t.buf) }
