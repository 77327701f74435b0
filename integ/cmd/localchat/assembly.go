package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/chatstack/websocketchatapi/integ/internal/assembly"
	"github.com/chatstack/websocketchatapi/integ/internal/local"
)

// assemblyDir returns the cloud assembly to run: -assembly, or the app of ./cdk.json
// synthesized into a temporary directory that cleanup removes. The synth's output goes to log
// (nil: only a failure shows it).
func assemblyDir(ctx context.Context, cfg config, log io.Writer) (dir string, cleanup func(), err error) {
	if cfg.assembly != "" {
		if len(cfg.context) > 0 {
			return "", nil, fmt.Errorf("-c applies to a synth; with -assembly %s nothing is synthesized", cfg.assembly)
		}
		return cfg.assembly, func() {}, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", nil, err
	}
	app, err := local.LoadCDKApp(wd)
	if err != nil {
		return "", nil, err
	}
	tmp, err := os.MkdirTemp("", "localchat-cdk.out-")
	if err != nil {
		return "", nil, err
	}
	fmt.Fprintf(os.Stderr, "synthesizing the CDK app of %s (cdk.json's app: %s; a first run compiles it and can take a few minutes)...\n", wd, app.Command)
	start := time.Now()
	if err := local.SynthCDKApp(ctx, app, tmp, cfg.context.values(), log); err != nil {
		os.RemoveAll(tmp)
		return "", nil, err
	}
	fmt.Fprintf(os.Stderr, "synthesized in %v\n", time.Since(start).Round(100*time.Millisecond))
	return tmp, func() { os.RemoveAll(tmp) }, nil
}

// checkAssembly loads the assembly and picks the stack and API as local.Start will, so that a
// wrong or missing choice is reported with the flag that makes it.
func checkAssembly(dir string, cfg config) error {
	asm, err := assembly.Load(dir, assembly.Options{})
	if err != nil {
		return err
	}
	st, err := asm.Stack(cfg.stack)
	if err != nil {
		return fmt.Errorf("%w; pick one with -stack <name>", err)
	}
	_, err = local.PickAPI(st, cfg.api)
	return err
}

// contextFlag collects -c key=value pairs.
type contextFlag map[string]any

// String implements flag.Value.
func (c contextFlag) String() string {
	var out []string
	for k, v := range c {
		out = append(out, fmt.Sprintf("%s=%v", k, v))
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

// Set implements flag.Value: key=value, the value a string as cdk synth -c gives it.
func (c contextFlag) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("want key=value, got %q", s)
	}
	c[k] = v
	return nil
}

// values returns the pairs as context.
func (c contextFlag) values() map[string]any { return c }
