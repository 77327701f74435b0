package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatstack/websocketchatapi/integ/internal/local"
)

// Environment variables that choose and describe the target.
const (
	// envTarget selects the target: "local" (the default) or "deployed".
	envTarget = "WSCHAT_E2E_TARGET"
	// envURL is the deployed stack's wss:// URL (its WebSocketUrl output).
	envURL = "WSCHAT_E2E_URL"
	// envTokens holds comma-separated valid tokens of at least minDeployedUsers distinct users.
	envTokens = "WSCHAT_E2E_TOKENS"
	// envAssembly, when set, runs that cloud assembly locally instead of synthesizing one (for
	// quick iterations).
	envAssembly = "WSCHAT_E2E_ASSEMBLY"
	// envLogs, when set, copies the local functions' output to standard error as it comes (it
	// is printed anyway when a test fails).
	envLogs = "WSCHAT_E2E_LOGS"
)

// minDeployedUsers is how many distinct users the deployed target's tokens must cover.
const minDeployedUsers = 3

// tg is the target that TestMain prepared, shared by the scenarios.
var tg *target

// assemblyDir is the cloud assembly the local target runs, for tests that start a stack of
// their own from it.
var assemblyDir string

// logs collects the local functions' output and counts their invocations.
var logs = newLogSink()

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

// run prepares the target, runs the tests, and stops what it started.
func run(m *testing.M) int {
	var err error
	switch mode := os.Getenv(envTarget); mode {
	case "", "local":
		var stop func() error
		tg, stop, err = startLocal()
		if err != nil {
			fmt.Fprintln(os.Stderr, "e2e:", err)
			return 1
		}
		code := m.Run()
		if err := stop(); err != nil {
			fmt.Fprintln(os.Stderr, "e2e:", err)
			code = 1
		}
		if code != 0 {
			fmt.Fprintf(os.Stderr, "function output:\n%s", logs.String())
		}
		return code
	case "deployed":
		tg, err = deployedTarget(os.Getenv(envURL), os.Getenv(envTokens))
		if err != nil {
			fmt.Fprintln(os.Stderr, "e2e:", err)
			return 1
		}
		return m.Run()
	default:
		fmt.Fprintf(os.Stderr, "e2e: %s=%q, want local or deployed\n", envTarget, mode)
		return 1
	}
}

// startLocal synthesizes the reference app (unless envAssembly names an assembly) and starts it
// locally. stop closes the stack and removes the assembly.
func startLocal() (_ *target, stop func() error, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	t0 := time.Now()
	dir := os.Getenv(envAssembly)
	cleanup := func() {}
	if dir == "" {
		tmp, err := os.MkdirTemp("", "e2e-cdk.out-")
		if err != nil {
			return nil, nil, err
		}
		cleanup = func() { _ = os.RemoveAll(tmp) }
		if err := local.Synth(ctx, tmp); err != nil {
			cleanup()
			return nil, nil, err
		}
		dir = tmp
	}
	assemblyDir = dir
	t1 := time.Now()
	var sink io.Writer = logs
	if os.Getenv(envLogs) != "" {
		sink = io.MultiWriter(logs, os.Stderr)
	}
	env, err := local.Start(ctx, local.Options{AssemblyDir: dir, LogSink: sink})
	if err != nil {
		cleanup()
		return nil, nil, err
	}
	fmt.Fprintf(os.Stderr, "e2e: local target: Synth %v, Start %v\n", t1.Sub(t0).Round(time.Millisecond), time.Since(t1).Round(time.Millisecond))
	stop = func() error {
		defer cleanup()
		return env.Close()
	}
	return newTarget("local", env.URL, env), stop, nil
}

// deployedTarget describes a deployed stack from its URL and comma-separated tokens.
func deployedTarget(url, tokens string) (*target, error) {
	if !strings.HasPrefix(url, "wss://") && !strings.HasPrefix(url, "ws://") {
		return nil, fmt.Errorf("%s=deployed needs %s, the stack's wss:// URL (got %q)", envTarget, envURL, url)
	}
	tg := newTarget("deployed", strings.TrimRight(url, "/"), nil)
	subjects := make(map[string]bool)
	for tok := range strings.SplitSeq(tokens, ",") {
		tok = strings.TrimSpace(tok)
		if tok == "" {
			continue
		}
		sub, err := tokenSubject(tok)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", envTokens, err)
		}
		subjects[sub] = true
		tg.tokens = append(tg.tokens, user{token: tok, subject: sub})
	}
	if len(subjects) < minDeployedUsers {
		return nil, fmt.Errorf("%s=deployed needs %s: valid tokens of at least %d distinct users (got %d)", envTarget, envTokens, minDeployedUsers, len(subjects))
	}
	// Distinct users first, so that the first users a scenario takes are different people.
	var first, rest []user
	seen := make(map[string]bool)
	for _, u := range tg.tokens {
		if seen[u.subject] {
			rest = append(rest, u)
			continue
		}
		seen[u.subject] = true
		first = append(first, u)
	}
	tg.tokens = append(first, rest...)
	return tg, nil
}

// tokenSubject reads the sub claim of a JWT without verifying it: the deployed stack does.
func tokenSubject(tok string) (string, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return "", fmt.Errorf("token %.12s...: not a JWT", tok)
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return "", fmt.Errorf("token %.12s...: payload: %w", tok, err)
	}
	var claims struct {
		Sub string `json:"sub"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil || claims.Sub == "" {
		return "", fmt.Errorf("token %.12s...: no sub claim (%v)", tok, err)
	}
	return claims.Sub, nil
}

// logSink keeps every output line of the local functions and counts each function's
// invocations (the emulator's "START RequestId:" lines).
type logSink struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	starts map[string]int
}

func newLogSink() *logSink { return &logSink{starts: make(map[string]int)} }

// Write implements io.Writer. The emulator writes whole lines, "[<function name>] <line>\n".
func (s *logSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for line := range strings.SplitSeq(string(p), "\n") {
		name, rest, ok := strings.Cut(strings.TrimPrefix(line, "["), "] ")
		if ok && strings.HasPrefix(line, "[") && strings.HasPrefix(rest, "START RequestId: ") {
			s.starts[name]++
		}
	}
	return s.buf.Write(p)
}

// Invocations returns how many invocations of the function named name have started.
func (s *logSink) Invocations(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.starts[name]
}

// String returns every line kept.
func (s *logSink) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// runID names this run's rooms, so that a deployed table's older data never meets them.
var runID = strconv.FormatInt(time.Now().UnixNano()/int64(time.Millisecond), 36)

// room returns a room id unique to this run: label-<run id>.
func room(label string) string {
	return label + "-" + runID
}
