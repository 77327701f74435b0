package lambdaemu_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/chatstack/websocketchatapi/integ/internal/lambdaemu"
	"github.com/chatstack/websocketchatapi/internal/contract"
)

// bins holds the code folders that TestMain builds for the host, by package.
var bins map[string]string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "lambdaemu-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	pkgs := map[string]string{
		"fixture":    "testdata/fixture",
		"default":    "../../../lambdas/default",
		"authorizer": "../../../lambdas/authorizer",
	}
	bins = make(map[string]string)
	var mu sync.Mutex
	var wg sync.WaitGroup
	var errs []error
	for name, pkg := range pkgs {
		wg.Go(func() {
			out := filepath.Join(dir, name)
			_, err := lambdaemu.BuildHost(context.Background(), pkg, out)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			bins[name] = out
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

// newEmulator returns an Emulator closed at the end of the test, with a sink on t.Log.
func newEmulator(t *testing.T, opts lambdaemu.Options) *lambdaemu.Emulator {
	t.Helper()
	if opts.LogSink == nil {
		opts.LogSink = testWriter{t}
	}
	e := lambdaemu.New(opts)
	t.Cleanup(func() {
		if err := e.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return e
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

func addFixture(t *testing.T, e *lambdaemu.Emulator, fn lambdaemu.Function) {
	t.Helper()
	if fn.Dir == "" {
		fn.Dir = bins["fixture"]
	}
	if err := e.Add(fn); err != nil {
		t.Fatalf("Add(%s): %v", fn.Name, err)
	}
}

func invoke(t *testing.T, e *lambdaemu.Emulator, name string, event any) lambdaemu.Result {
	t.Helper()
	payload, err := json.Marshal(event)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := e.Invoke(ctx, name, payload)
	if err != nil {
		t.Fatalf("Invoke(%s, %s): %v", name, payload, err)
	}
	return res
}

type fixtureEvent struct {
	Mode  string `json:"mode"`
	Ms    int    `json:"ms,omitempty"`
	Value string `json:"value,omitempty"`
}

// fixtureResponse is what the fixture answers.
type fixtureResponse struct {
	Value      string            `json:"value"`
	PID        int               `json:"pid"`
	Child      int               `json:"child"`
	Env        map[string]string `json:"env"`
	Cwd        string            `json:"cwd"`
	RequestID  string            `json:"requestId"`
	ARN        string            `json:"arn"`
	DeadlineMs int64             `json:"deadlineMs"`
}

func decode(t *testing.T, res lambdaemu.Result) fixtureResponse {
	t.Helper()
	if res.Err != nil {
		t.Fatalf("function error %v; log:\n%s", res.Err, res.Log)
	}
	var out fixtureResponse
	if err := json.Unmarshal(res.Payload, &out); err != nil {
		t.Fatalf("decode %s: %v", res.Payload, err)
	}
	return out
}

// alive reports whether pid is a live (not zombie) process.
func alive(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// pid (comm) state ...: the state follows the last ')'.
	i := bytes.LastIndexByte(stat, ')')
	return i < 0 || i+2 >= len(stat) || stat[i+2] != 'Z'
}

// waitFor polls cond for up to 5 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

func TestDefaultHandlerAnswersUnknownAction(t *testing.T) {
	e := newEmulator(t, lambdaemu.Options{})
	err := e.Add(lambdaemu.Function{
		Name: "default",
		Dir:  bins["default"],
		Environment: map[string]string{
			contract.EnvChatActions:    "sendmessage,joinroom",
			contract.EnvRouteSelection: contract.DefaultRouteSelection,
		},
		Architecture: "arm64",
	})
	if err != nil {
		t.Fatal(err)
	}
	req := events.APIGatewayWebsocketProxyRequest{
		Body: `{"action":"nope"}`,
		RequestContext: events.APIGatewayWebsocketProxyRequestContext{
			RouteKey:     "$default",
			EventType:    "MESSAGE",
			ConnectionID: "conn-1",
			RequestID:    "req-1",
			Stage:        "prod",
			DomainName:   "abc.execute-api.us-east-1.amazonaws.com",
			APIID:        "abc",
		},
	}
	res := invoke(t, e, "default", req)
	if res.Err != nil {
		t.Fatalf("function error: %v\n%s", res.Err, res.Log)
	}
	if !res.ColdStart || res.InitDuration <= 0 {
		t.Errorf("first invocation: ColdStart=%v InitDuration=%v, want a cold start with an init duration", res.ColdStart, res.InitDuration)
	}
	var resp events.APIGatewayProxyResponse
	if err := json.Unmarshal(res.Payload, &resp); err != nil {
		t.Fatalf("decode %s: %v", res.Payload, err)
	}
	if resp.StatusCode != 200 {
		t.Errorf("status %d, want 200", resp.StatusCode)
	}
	var frame struct {
		Type         string   `json:"type"`
		Code         string   `json:"code"`
		Action       string   `json:"action"`
		ValidActions []string `json:"validActions"`
	}
	if err := json.Unmarshal([]byte(resp.Body), &frame); err != nil {
		t.Fatalf("decode body %q: %v", resp.Body, err)
	}
	if frame.Type != "error" || frame.Code != "unknown_action" || frame.Action != "nope" ||
		!slices.Equal(frame.ValidActions, []string{"sendmessage", "joinroom"}) {
		t.Errorf("frame %+v, want an unknown_action error frame for action nope with validActions [sendmessage joinroom]", frame)
	}
	for _, want := range []string{"START RequestId: " + res.RequestID, "END RequestId: " + res.RequestID, "REPORT RequestId: " + res.RequestID, "Init Duration: "} {
		if !strings.Contains(res.Log, want) {
			t.Errorf("log lacks %q:\n%s", want, res.Log)
		}
	}
	t.Logf("default handler: init %v, duration %v", res.InitDuration, res.Duration)
}

func TestAuthorizerWithoutIssuerFailsInit(t *testing.T) {
	e := newEmulator(t, lambdaemu.Options{})
	err := e.Add(lambdaemu.Function{
		Name:        "authorizer",
		Dir:         bins["authorizer"],
		Environment: map[string]string{contract.EnvAuthAudiences: "client-1"},
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 { // a failed init is not cached: each invocation tries again
		res := invoke(t, e, "authorizer", map[string]any{"type": "REQUEST"})
		if res.Err == nil {
			t.Fatalf("invocation %d succeeded (%s), want an init error", i, res.Payload)
		}
		if !res.Err.Init || res.Err.Type != lambdaemu.ErrorTypeExit ||
			!strings.Contains(res.Err.Message, "Runtime exited with error: exit status 1") {
			t.Errorf("invocation %d: error %+v, want an init failure %s with exit status 1", i, res.Err, lambdaemu.ErrorTypeExit)
		}
		if !strings.Contains(res.Log, contract.EnvAuthIssuer) {
			t.Errorf("invocation %d: log does not name %s:\n%s", i, contract.EnvAuthIssuer, res.Log)
		}
		if !strings.Contains(string(res.Payload), `"errorType":"Runtime.ExitError"`) {
			t.Errorf("payload %s, want Lambda's error document", res.Payload)
		}
		if !res.ColdStart || res.InitDuration <= 0 {
			t.Errorf("ColdStart=%v InitDuration=%v, want a cold start", res.ColdStart, res.InitDuration)
		}
	}
	if n := e.Processes("authorizer"); n != 0 {
		t.Errorf("%d processes left after failed inits, want 0", n)
	}
}

func TestInitErrorPostedByRuntime(t *testing.T) {
	e := newEmulator(t, lambdaemu.Options{})
	addFixture(t, e, lambdaemu.Function{Name: "badinit", ExtraEnv: map[string]string{"FIXTURE_INIT": "post"}})
	res := invoke(t, e, "badinit", fixtureEvent{Mode: "echo"})
	if res.Err == nil || !res.Err.Init || res.Err.Type != "Fixture.ConfigError" || res.Err.Message != "config: FIXTURE_SECRET is missing" {
		t.Fatalf("error %+v, want the posted init error Fixture.ConfigError", res.Err)
	}
	if n := e.Processes("badinit"); n != 0 {
		t.Errorf("%d processes left, want 0", n)
	}
}

func TestInitTimeout(t *testing.T) {
	e := newEmulator(t, lambdaemu.Options{})
	addFixture(t, e, lambdaemu.Function{Name: "slowinit", InitTimeout: 300 * time.Millisecond, ExtraEnv: map[string]string{"FIXTURE_INIT": "sleep"}})
	res := invoke(t, e, "slowinit", fixtureEvent{Mode: "echo"})
	if res.Err == nil || !res.Err.Init || res.Err.Type != lambdaemu.ErrorTypeTimeout {
		t.Fatalf("error %+v, want an init timeout", res.Err)
	}
	if alive(res.PID) {
		t.Errorf("process %d still alive after its init timed out", res.PID)
	}
}

func TestWarmReuse(t *testing.T) {
	var sink bytes.Buffer
	var sinkMu sync.Mutex
	e := newEmulator(t, lambdaemu.Options{LogSink: lockedWriter{&sinkMu, &sink}})
	addFixture(t, e, lambdaemu.Function{Name: "echo"})

	first := invoke(t, e, "echo", fixtureEvent{Mode: "echo", Value: "one"})
	second := invoke(t, e, "echo", fixtureEvent{Mode: "echo", Value: "two"})
	r1, r2 := decode(t, first), decode(t, second)
	if r1.Value != "one" || r2.Value != "two" {
		t.Errorf("values %q, %q, want one, two", r1.Value, r2.Value)
	}
	if !first.ColdStart || first.InitDuration <= 0 {
		t.Errorf("first: ColdStart=%v InitDuration=%v, want a cold start", first.ColdStart, first.InitDuration)
	}
	if second.ColdStart || second.InitDuration != 0 {
		t.Errorf("second: ColdStart=%v InitDuration=%v, want a warm start without init", second.ColdStart, second.InitDuration)
	}
	if r1.PID != r2.PID || second.PID != r2.PID {
		t.Errorf("pids %d, %d (result %d), want one process", r1.PID, r2.PID, second.PID)
	}
	if n := e.Processes("echo"); n != 1 {
		t.Errorf("%d processes, want 1", n)
	}
	// Per-invocation logs: the first has the init output, the second only its own.
	if !strings.Contains(first.Log, "init done") || !strings.Contains(first.Log, "handling echo one") {
		t.Errorf("first log lacks init or handler output:\n%s", first.Log)
	}
	if strings.Contains(second.Log, "init done") || strings.Contains(second.Log, "handling echo one") ||
		!strings.Contains(second.Log, "handling echo two") {
		t.Errorf("second log is not exactly its own invocation's:\n%s", second.Log)
	}
	logs := e.Logs("echo")
	if !slices.Contains(logs, "handling echo two") || !slices.ContainsFunc(logs, func(l string) bool { return strings.HasPrefix(l, "REPORT RequestId: "+second.RequestID) }) {
		t.Errorf("Logs lacks the second invocation:\n%s", strings.Join(logs, "\n"))
	}
	sinkMu.Lock()
	defer sinkMu.Unlock()
	if !strings.Contains(sink.String(), "[echo] handling echo two\n") {
		t.Errorf("sink lacks the prefixed line:\n%s", sink.String())
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

func TestTimeoutKillsAndReplacesProcess(t *testing.T) {
	e := newEmulator(t, lambdaemu.Options{})
	addFixture(t, e, lambdaemu.Function{Name: "slow", Timeout: time.Second})
	start := time.Now()
	res := invoke(t, e, "slow", fixtureEvent{Mode: "sleep", Ms: 5000})
	if elapsed := time.Since(start); elapsed > 4*time.Second {
		t.Errorf("the timed-out invocation took %v, want about 1 s", elapsed)
	}
	if res.Err == nil || res.Err.Type != lambdaemu.ErrorTypeTimeout ||
		res.Err.Message != "RequestId: "+res.RequestID+" Error: Task timed out after 1.00 seconds" {
		t.Fatalf("error %+v, want Sandbox.Timedout after 1.00 seconds", res.Err)
	}
	if res.Duration != time.Second {
		t.Errorf("duration %v, want the timeout", res.Duration)
	}
	if alive(res.PID) {
		t.Errorf("process %d still alive after the timeout", res.PID)
	}
	if n := e.Processes("slow"); n != 0 {
		t.Errorf("%d processes after the timeout, want 0", n)
	}
	next := invoke(t, e, "slow", fixtureEvent{Mode: "echo", Value: "again"})
	if got := decode(t, next); got.Value != "again" || !next.ColdStart || next.PID == res.PID {
		t.Errorf("next invocation: %+v cold=%v pid=%d, want a fresh process answering", got, next.ColdStart, next.PID)
	}
}

func TestExitDuringInvocation(t *testing.T) {
	e := newEmulator(t, lambdaemu.Options{})
	addFixture(t, e, lambdaemu.Function{Name: "exiter"})
	res := invoke(t, e, "exiter", fixtureEvent{Mode: "exit"})
	want := "RequestId: " + res.RequestID + " Error: Runtime exited with error: exit status 3"
	if res.Err == nil || res.Err.Type != lambdaemu.ErrorTypeExit || res.Err.Init || res.Err.Message != want {
		t.Fatalf("error %+v, want %s %q", res.Err, lambdaemu.ErrorTypeExit, want)
	}
	if !strings.Contains(res.Log, "handling exit") || !strings.Contains(res.Log, "Runtime.ExitError") {
		t.Errorf("log lacks the handler's output or the exit:\n%s", res.Log)
	}
	next := invoke(t, e, "exiter", fixtureEvent{Mode: "echo", Value: "x"})
	if decode(t, next).Value != "x" || !next.ColdStart {
		t.Errorf("next invocation cold=%v, want a fresh process", next.ColdStart)
	}
}

func TestPanicReportsErrorAndReplacesProcess(t *testing.T) {
	e := newEmulator(t, lambdaemu.Options{})
	addFixture(t, e, lambdaemu.Function{Name: "panicker"})
	res := invoke(t, e, "panicker", fixtureEvent{Mode: "panic", Value: "boom"})
	if res.Err == nil || res.Err.Type != "string" || res.Err.Message != "fixture panic: boom" || len(res.Err.StackTrace) == 0 {
		t.Fatalf("error %+v, want aws-lambda-go's panic report (type string, with a stack trace)", res.Err)
	}
	// aws-lambda-go exits after reporting a panic: the next invocation needs a new process.
	waitFor(t, "the panicked process to exit", func() bool { return !alive(res.PID) })
	next := invoke(t, e, "panicker", fixtureEvent{Mode: "echo", Value: "x"})
	if decode(t, next).Value != "x" || !next.ColdStart || next.PID == res.PID {
		t.Errorf("next invocation cold=%v pid=%d, want a fresh process", next.ColdStart, next.PID)
	}
}

func TestFunctionErrorKeepsProcess(t *testing.T) {
	e := newEmulator(t, lambdaemu.Options{})
	addFixture(t, e, lambdaemu.Function{Name: "failer"})
	tests := []struct{ mode, errType, msg string }{
		{"fail", "errorString", "fixture failure"},
		{"quota", "QuotaError", "quota of 3 exceeded"},
	}
	pid := 0
	for _, tt := range tests {
		res := invoke(t, e, "failer", fixtureEvent{Mode: tt.mode})
		if res.Err == nil || res.Err.Type != tt.errType || res.Err.Message != tt.msg || res.Err.Init {
			t.Errorf("%s: error %+v, want %s %q", tt.mode, res.Err, tt.errType, tt.msg)
		}
		var doc map[string]any
		if err := json.Unmarshal(res.Payload, &doc); err != nil || doc["errorType"] != tt.errType {
			t.Errorf("%s: payload %s, want the error document", tt.mode, res.Payload)
		}
		if pid != 0 && res.PID != pid {
			t.Errorf("%s: pid %d, want the same process %d (errors do not kill it)", tt.mode, res.PID, pid)
		}
		pid = res.PID
	}
}

func TestConcurrencyStartsProcessesUpToMax(t *testing.T) {
	e := newEmulator(t, lambdaemu.Options{})
	addFixture(t, e, lambdaemu.Function{Name: "sleeper", MaxConcurrency: 3})
	const sleep = 400 * time.Millisecond

	burst := func(n int) ([]lambdaemu.Result, time.Duration) {
		results := make([]lambdaemu.Result, n)
		var wg sync.WaitGroup
		start := time.Now()
		errs := make([]error, n)
		payload := fmt.Appendf(nil, `{"mode":"sleep","ms":%d}`, sleep/time.Millisecond)
		for i := range n {
			wg.Go(func() { results[i], errs[i] = e.Invoke(context.Background(), "sleeper", payload) })
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		return results, time.Since(start)
	}
	pids := func(results []lambdaemu.Result) map[int]bool {
		out := map[int]bool{}
		for _, r := range results {
			if r.Err != nil {
				t.Errorf("invocation failed: %v", r.Err)
			}
			out[decode(t, r).PID] = true
		}
		return out
	}

	results, _ := burst(3)
	if got := pids(results); len(got) != 3 {
		t.Errorf("3 concurrent invocations ran in %d processes, want 3", len(got))
	}
	if n := e.Processes("sleeper"); n != 3 {
		t.Errorf("%d processes, want 3", n)
	}

	results, elapsed := burst(7) // 3 at a time: three rounds
	if got := pids(results); len(got) > 3 {
		t.Errorf("7 invocations ran in %d processes, want at most 3", len(got))
	}
	if elapsed < 3*sleep {
		t.Errorf("7 invocations on 3 processes took %v, want at least %v (three rounds: queued)", elapsed, 3*sleep)
	}
	if n := e.Processes("sleeper"); n != 3 {
		t.Errorf("%d processes, want 3", n)
	}
	for _, r := range results {
		if r.ColdStart {
			t.Errorf("invocation %s was a cold start; the 3 warm processes should serve all", r.RequestID)
		}
	}
}

func TestEnvironmentIsIsolated(t *testing.T) {
	t.Setenv("AWS_PROFILE", "host-profile")
	t.Setenv("AWS_ACCESS_KEY_ID", "HOSTKEY")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/host/credentials")
	e := newEmulator(t, lambdaemu.Options{
		Region:      "eu-west-3",
		Credentials: lambdaemu.Credentials{AccessKeyID: "AKIDEMU", SecretAccessKey: "secret", SessionToken: "token"},
		Env:         map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:1"},
	})
	addFixture(t, e, lambdaemu.Function{
		Name:        "envfn",
		MemorySize:  256,
		Timeout:     5 * time.Second,
		Environment: map[string]string{"TABLE_NAME": "connections"},
		ExtraEnv:    map[string]string{"AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:2"},
	})
	before := time.Now()
	res := invoke(t, e, "envfn", fixtureEvent{Mode: "env"})
	got := decode(t, res)
	dir := bins["fixture"]

	want := map[string]string{
		"PATH":                            os.Getenv("PATH"),
		"TZ":                              ":UTC",
		"_HANDLER":                        "bootstrap",
		"LAMBDA_TASK_ROOT":                dir,
		"AWS_REGION":                      "eu-west-3",
		"AWS_DEFAULT_REGION":              "eu-west-3",
		"AWS_LAMBDA_FUNCTION_NAME":        "envfn",
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
		"AWS_LAMBDA_INITIALIZATION_TYPE":  "on-demand",
		"AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/envfn",
		"AWS_ACCESS_KEY_ID":               "AKIDEMU",
		"AWS_SECRET_ACCESS_KEY":           "secret",
		"AWS_SESSION_TOKEN":               "token",
		"AWS_ENDPOINT_URL":                "http://127.0.0.1:1",
		"AWS_ENDPOINT_URL_DYNAMODB":       "http://127.0.0.1:2",
		"TABLE_NAME":                      "connections",
	}
	patterns := map[string]*regexp.Regexp{
		"AWS_LAMBDA_RUNTIME_API":     regexp.MustCompile(`^127\.0\.0\.1:[0-9]+$`),
		"AWS_LAMBDA_LOG_STREAM_NAME": regexp.MustCompile(`^\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}$`),
		"_X_AMZN_TRACE_ID":           regexp.MustCompile(`^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0$`), // set by aws-lambda-go
	}
	for k, v := range got.Env {
		if w, ok := want[k]; ok {
			if v != w {
				t.Errorf("%s=%q, want %q", k, v, w)
			}
		} else if re, ok := patterns[k]; ok {
			if !re.MatchString(v) {
				t.Errorf("%s=%q, want a match of %s", k, v, re)
			}
		} else {
			t.Errorf("unexpected variable %s=%q in the function's environment", k, v)
		}
	}
	for k := range want {
		if _, ok := got.Env[k]; !ok {
			t.Errorf("variable %s missing", k)
		}
	}
	for k := range patterns {
		if _, ok := got.Env[k]; !ok {
			t.Errorf("variable %s missing", k)
		}
	}
	if got.Cwd != dir {
		t.Errorf("working directory %q, want %q", got.Cwd, dir)
	}
	if got.RequestID != res.RequestID {
		t.Errorf("request id in context %q, want %q", got.RequestID, res.RequestID)
	}
	if got.ARN != "arn:aws:lambda:eu-west-3:000000000000:function:envfn" {
		t.Errorf("ARN %q", got.ARN)
	}
	deadline := time.UnixMilli(got.DeadlineMs)
	if deadline.Before(before.Add(4*time.Second)) || deadline.After(time.Now().Add(5*time.Second)) {
		t.Errorf("deadline %v, want about 5 s after %v", deadline, before)
	}
}

func TestAddRefuses(t *testing.T) {
	e := newEmulator(t, lambdaemu.Options{})
	armDir := t.TempDir()
	writeELF(t, filepath.Join(armDir, "bootstrap"))
	err := e.Add(lambdaemu.Function{Name: "arm", Dir: armDir, Architecture: "arm64"})
	if !errors.Is(err, lambdaemu.ErrNotRunnable) || !strings.Contains(err.Error(), "linux/arm64") || !strings.Contains(err.Error(), "BuildHost") {
		t.Errorf("Add of an arm64 bootstrap: %v, want ErrNotRunnable naming linux/arm64 and BuildHost", err)
	}
	if err := e.Add(lambdaemu.Function{Name: "none", Dir: t.TempDir()}); !errors.Is(err, lambdaemu.ErrNotRunnable) {
		t.Errorf("Add without a bootstrap: %v, want ErrNotRunnable", err)
	}
	err = e.Add(lambdaemu.Function{Name: "reserved", Dir: bins["fixture"], Environment: map[string]string{"AWS_REGION": "x"}})
	if err == nil || !strings.Contains(err.Error(), "AWS_REGION") {
		t.Errorf("Add with a reserved key: %v, want an error naming AWS_REGION", err)
	}
	addFixture(t, e, lambdaemu.Function{Name: "dup"})
	if err := e.Add(lambdaemu.Function{Name: "dup", Dir: bins["fixture"]}); err == nil {
		t.Error("Add of a duplicate name succeeded")
	}
	if err := e.Add(lambdaemu.Function{Name: "bad name", Dir: bins["fixture"]}); err == nil {
		t.Error("Add of a name with a space succeeded")
	}
	if _, err := e.Invoke(context.Background(), "missing", []byte(`{}`)); err == nil {
		t.Error("Invoke of an unknown function succeeded")
	}
}

func TestContextCancelKillsInvocation(t *testing.T) {
	e := newEmulator(t, lambdaemu.Options{})
	addFixture(t, e, lambdaemu.Function{Name: "cancel", Timeout: 10 * time.Second})
	warm := invoke(t, e, "cancel", fixtureEvent{Mode: "echo"})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := e.Invoke(ctx, "cancel", []byte(`{"mode":"sleep","ms":5000}`))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Invoke: %v, want context.DeadlineExceeded", err)
	}
	if alive(warm.PID) || e.Processes("cancel") != 0 {
		t.Errorf("process %d alive=%v, %d processes: want the busy process killed", warm.PID, alive(warm.PID), e.Processes("cancel"))
	}
}

func TestCloseKillsEverything(t *testing.T) {
	e := lambdaemu.New(lambdaemu.Options{LogSink: testWriter{t}})
	addFixture(t, e, lambdaemu.Function{Name: "spawner", Timeout: 10 * time.Second})
	addFixture(t, e, lambdaemu.Function{Name: "idle"})

	spawned := decode(t, invoke(t, e, "spawner", fixtureEvent{Mode: "spawn"}))
	idle := decode(t, invoke(t, e, "idle", fixtureEvent{Mode: "echo"}))
	if !alive(spawned.Child) || !alive(spawned.PID) || !alive(idle.PID) {
		t.Fatalf("before Close: processes %d, %d, %d should be alive", spawned.PID, spawned.Child, idle.PID)
	}
	busy := make(chan error, 1)
	go func() {
		_, err := e.Invoke(context.Background(), "idle", []byte(`{"mode":"sleep","ms":5000}`))
		busy <- err
	}()
	waitFor(t, "the busy invocation to start", func() bool { return slices.Contains(e.Logs("idle"), "handling sleep ") })

	start := time.Now()
	if err := e.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if elapsed := time.Since(start); elapsed > time.Second {
		t.Errorf("Close took %v", elapsed)
	}
	for _, pid := range []int{spawned.PID, spawned.Child, idle.PID} {
		waitFor(t, fmt.Sprintf("process %d to die", pid), func() bool { return !alive(pid) })
	}
	if err := <-busy; !errors.Is(err, lambdaemu.ErrClosed) {
		t.Errorf("invocation in progress during Close: %v, want ErrClosed", err)
	}
	if _, err := e.Invoke(context.Background(), "idle", []byte(`{}`)); !errors.Is(err, lambdaemu.ErrClosed) {
		t.Errorf("Invoke after Close: %v, want ErrClosed", err)
	}
	if err := e.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if !slices.Contains(e.Logs("spawner"), "handling spawn ") {
		t.Errorf("Logs after Close lacks the spawner's output: %q", e.Logs("spawner"))
	}
}

// writeELF writes the header of a linux/arm64 executable.
func writeELF(t *testing.T, path string) {
	t.Helper()
	var b bytes.Buffer
	b.Write([]byte{0x7f, 'E', 'L', 'F', 2 /* 64-bit */, 1 /* little endian */, 1 /* version */, 0 /* SysV ABI */})
	b.Write(make([]byte, 8))
	le := func(v uint64, n int) {
		for i := range n {
			b.WriteByte(byte(v >> (8 * i)))
		}
	}
	le(2, 2)   // e_type: executable
	le(183, 2) // e_machine: EM_AARCH64
	le(1, 4)   // e_version
	le(0, 8)   // e_entry
	le(0, 8)   // e_phoff
	le(0, 8)   // e_shoff
	le(0, 4)   // e_flags
	le(64, 2)  // e_ehsize
	le(56, 2)  // e_phentsize
	le(0, 2)   // e_phnum
	le(64, 2)  // e_shentsize
	le(0, 2)   // e_shnum
	le(0, 2)   // e_shstrndx
	if err := os.WriteFile(path, b.Bytes(), 0o755); err != nil {
		t.Fatal(err)
	}
}
