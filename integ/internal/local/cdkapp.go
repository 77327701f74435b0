package local

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// CDKApp is a CDK app as cdk.json describes it: the command that synthesizes it and its
// context.
type CDKApp struct {
	// Dir is the folder of cdk.json, where the command runs.
	Dir string
	// Command is cdk.json's "app", e.g. "go run .", run by the shell as the CDK CLI runs it.
	Command string
	// Output is cdk.json's "output" ("cdk.out" when unset), relative to Dir.
	Output string
	// Context is what the app gets as CDK_CONTEXT_JSON: cdk.context.json's values, then
	// cdk.json's "context" (winning on a key both set); SynthCDKApp adds its own on top.
	Context map[string]any
}

// LoadCDKApp reads the cdk.json in dir (and cdk.context.json beside it when present). Its
// error says what is missing: no cdk.json, or no "app" in it.
func LoadCDKApp(dir string) (*CDKApp, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(abs, "cdk.json")
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("no cdk.json in %s: run in your CDK app's folder (where cdk.json is), or give a synthesized cloud assembly (-assembly cdk.out)", abs)
	}
	if err != nil {
		return nil, err
	}
	var cfg struct {
		App     string         `json:"app"`
		Output  string         `json:"output"`
		Context map[string]any `json:"context"`
	}
	if err := json.Unmarshal(data, &cfg); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if strings.TrimSpace(cfg.App) == "" {
		return nil, fmt.Errorf(`%s has no "app": the command that synthesizes the app, such as "go run ."`, path)
	}
	app := &CDKApp{Dir: abs, Command: cfg.App, Output: cfg.Output, Context: map[string]any{}}
	if app.Output == "" {
		app.Output = "cdk.out"
	}
	if data, err := os.ReadFile(filepath.Join(abs, "cdk.context.json")); err == nil {
		if err := json.Unmarshal(data, &app.Context); err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Join(abs, "cdk.context.json"), err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	maps.Copy(app.Context, cfg.Context)
	return app, nil
}

// SynthCDKApp synthesizes app into outDir the way `cdk synth` runs an app: its command through
// the shell (sh -c; cmd /c on Windows) in app.Dir, with CDK_OUTDIR=outDir and CDK_CONTEXT_JSON
// holding app.Context plus extraContext (which wins), and CDK_VALIDATION=false (aws-cdk-lib's
// template validator costs seconds and changes nothing the emulator reads). extraEnv entries
// ("KEY=value") are added last and win. The app's output goes to log (nil: it is kept only for
// the error of a failed run, whose last 8 KB it reports).
func SynthCDKApp(ctx context.Context, app *CDKApp, outDir string, extraContext map[string]any, log io.Writer, extraEnv ...string) error {
	out, err := filepath.Abs(outDir)
	if err != nil {
		return fmt.Errorf("synth: %w", err)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return fmt.Errorf("synth: %w", err)
	}
	all := maps.Clone(app.Context)
	maps.Copy(all, extraContext)
	contextJSON, err := json.Marshal(all)
	if err != nil {
		return fmt.Errorf("synth: context: %w", err)
	}
	shell, flag := "sh", "-c"
	if runtime.GOOS == "windows" {
		shell, flag = "cmd", "/c"
	}
	cmd := exec.CommandContext(ctx, shell, flag, app.Command)
	cmd.Dir = app.Dir
	cmd.Env = append(os.Environ(),
		"CDK_OUTDIR="+out,
		"CDK_CONTEXT_JSON="+string(contextJSON),
		"CDK_VALIDATION=false",
	)
	cmd.Env = append(cmd.Env, extraEnv...)
	tail := &tailBuffer{max: synthOutputTail}
	var w io.Writer = tail
	if log != nil {
		w = io.MultiWriter(tail, log)
	}
	cmd.Stdout = w
	cmd.Stderr = w
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("synth: %s (cdk.json's app) in %s: %w\n%s", app.Command, app.Dir, err, tail.String())
	}
	if _, err := os.Stat(filepath.Join(out, "manifest.json")); err != nil {
		return fmt.Errorf("synth: %s (cdk.json's app) wrote no cloud assembly to %s: %w\n%s", app.Command, out, err, tail.String())
	}
	return nil
}
