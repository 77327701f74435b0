package bundling

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// runner runs go commands with the environment and logger of one Options.
type runner struct {
	opts Options
	env  []string // process environment, then Options.Env
}

func newRunner(opts Options) *runner {
	env := append(os.Environ(), opts.Env...)
	return &runner{opts: opts, env: env}
}

// getenv returns the last value of key in the runner's environment.
func (r *runner) getenv(key string) string {
	for i := len(r.env) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(r.env[i], "="); ok && k == key {
			return v
		}
	}
	return ""
}

func (r *runner) logf(format string, args ...any) {
	if r.opts.Log != nil {
		r.opts.Log(format, args...)
	}
}

func (r *runner) goBin() string {
	if r.opts.GoBin != "" {
		return r.opts.GoBin
	}
	return "go"
}

// goCmd runs the go command in dir with extra environment entries (which win over the runner's)
// and returns its standard output. The error names the command and folder, and carries the tail
// of the standard error.
func (r *runner) goCmd(ctx context.Context, dir string, extraEnv []string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, r.goBin(), args...)
	cmd.Dir = dir
	env := make([]string, 0, len(r.env)+len(extraEnv)+1)
	env = append(env, r.env...)
	env = append(env, "PWD="+dir)
	cmd.Env = append(env, extraEnv...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	start := time.Now()
	err := cmd.Run()
	line := quoteArgs(args)
	r.logf("bundling: go %s (in %s%s): %v", line, dir, envNote(extraEnv), time.Since(start).Round(time.Millisecond))
	if err != nil {
		return nil, fmt.Errorf("go %s in %s: %w%s", line, dir, err, stderrTail(stderr.Bytes()))
	}
	return stdout.Bytes(), nil
}

// quoteArgs renders command arguments, quoting those that need it.
func quoteArgs(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = a
		if a == "" || strings.ContainsAny(a, " \t\n'\"") {
			q[i] = strconv.Quote(a)
		}
	}
	return strings.Join(q, " ")
}

// envNote renders extra environment entries for a log line.
func envNote(extra []string) string {
	if len(extra) == 0 {
		return ""
	}
	return " with " + strings.Join(extra, " ")
}

// stderrTail returns the last lines of a command's standard error, prefixed by a newline, or
// "" when there is none.
func stderrTail(b []byte) string {
	const maxLines, maxBytes = 40, 8 << 10
	s := strings.TrimSpace(string(b))
	if s == "" {
		return ""
	}
	lines := strings.Split(s, "\n")
	if len(lines) > maxLines {
		lines = append([]string{"..."}, lines[len(lines)-maxLines:]...)
	}
	s = strings.Join(lines, "\n")
	if len(s) > maxBytes {
		s = "..." + s[len(s)-maxBytes:]
	}
	return "\n" + s
}

// goEnv returns the values of go env for keys, run in dir with extraEnv.
func (r *runner) goEnv(ctx context.Context, dir string, extraEnv []string, keys ...string) (map[string]string, error) {
	out, err := r.goCmd(ctx, dir, extraEnv, append([]string{"env", "-json"}, keys...)...)
	if err != nil {
		return nil, fmt.Errorf("bundling: %w", err)
	}
	vals := map[string]string{}
	if err := json.Unmarshal(out, &vals); err != nil {
		return nil, fmt.Errorf("bundling: go env in %s: %w", dir, err)
	}
	return vals, nil
}

// goEnvValue returns one go env value.
func (r *runner) goEnvValue(ctx context.Context, dir, key string) (string, error) {
	vals, err := r.goEnv(ctx, dir, nil, key)
	if err != nil {
		return "", err
	}
	return vals[key], nil
}
