package lambdaemu

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"
)

// ErrClosed is returned by the methods of an Emulator that has been closed.
var ErrClosed = errors.New("lambda emulator closed")

// Emulator runs Lambda functions as local processes behind the Lambda Runtime API. Its
// methods are safe for concurrent use.
type Emulator struct {
	opts     Options
	hostPath string
	closing  chan struct{}
	wg       sync.WaitGroup // the goroutines of every process
	sinkMu   sync.Mutex

	mu     sync.Mutex
	closed bool
	fns    map[string]*function
}

// New returns an Emulator with no functions. Close it to stop its processes.
func New(opts Options) *Emulator {
	if opts.Region == "" {
		opts.Region = DefaultRegion
	}
	if opts.AccountID == "" {
		opts.AccountID = DefaultAccountID
	}
	if opts.LogLines <= 0 {
		opts.LogLines = 2000
	}
	return &Emulator{
		opts:     opts,
		hostPath: os.Getenv("PATH"),
		closing:  make(chan struct{}),
		fns:      make(map[string]*function),
	}
}

// function is a configured function and its processes.
type function struct {
	em        *Emulator
	cfg       Function
	bootstrap string
	arn       string
	slots     chan struct{} // one token per running invocation, MaxConcurrency in all
	logs      *ring

	mu    sync.Mutex
	procs map[*process]struct{}
	idle  []*process
}

// Add registers a function. Defaults apply to its zero fields. It fails if the name is
// invalid or taken, if the environment sets a key that Lambda reserves, or if Dir holds no
// bootstrap that this machine runs, directly or through fn.Interpreter (ErrNotRunnable:
// build it with BuildHost, or name an Interpreter that FindInterpreter finds).
func (e *Emulator) Add(fn Function) error {
	if err := checkName(fn.Name); err != nil {
		return fmt.Errorf("add function: %w", err)
	}
	for k := range fn.Environment {
		if reservedKey(k) {
			return fmt.Errorf("add function %s: environment key %s is reserved by Lambda", fn.Name, k)
		}
	}
	if fn.Dir == "" {
		return fmt.Errorf("add function %s: Dir is empty", fn.Name)
	}
	dir, err := filepath.Abs(fn.Dir)
	if err != nil {
		return fmt.Errorf("add function %s: %w", fn.Name, err)
	}
	fn.Dir = dir
	bootstrap := filepath.Join(dir, BootstrapName)
	if err := CheckRunnable(bootstrap, fn.Interpreter); err != nil {
		return fmt.Errorf("add function %s: %w", fn.Name, err)
	}
	if fn.Handler == "" {
		fn.Handler = BootstrapName
	}
	if fn.Timeout <= 0 {
		fn.Timeout = DefaultTimeout
	}
	if fn.InitTimeout <= 0 {
		fn.InitTimeout = DefaultInitTimeout
	}
	if fn.MemorySize <= 0 {
		fn.MemorySize = DefaultMemorySize
	}
	if fn.MaxConcurrency <= 0 {
		fn.MaxConcurrency = DefaultMaxConcurrency
	}
	fn.Environment = maps.Clone(fn.Environment)
	fn.ExtraEnv = maps.Clone(fn.ExtraEnv)

	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return fmt.Errorf("add function %s: %w", fn.Name, ErrClosed)
	}
	if _, dup := e.fns[fn.Name]; dup {
		return fmt.Errorf("add function %s: a function of that name exists", fn.Name)
	}
	e.fns[fn.Name] = &function{
		em:        e,
		cfg:       fn,
		bootstrap: bootstrap,
		arn:       fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", e.opts.Region, e.opts.AccountID, fn.Name),
		slots:     make(chan struct{}, fn.MaxConcurrency),
		logs:      newRing(e.opts.LogLines),
		procs:     make(map[*process]struct{}),
	}
	return nil
}

// Invoke runs the named function on payload, as a synchronous (RequestResponse) invocation,
// and waits for its result. A function failure (an error the runtime posts, a timeout, an
// exit, an init failure) is reported in Result.Err with a nil error; the error is for what
// prevents the invocation: an unknown function, a payload over MaxRequestSize, a process
// that cannot start, ctx ending (a process running the invocation is then killed), or a
// closed Emulator.
func (e *Emulator) Invoke(ctx context.Context, name string, payload []byte) (Result, error) {
	f, err := e.function(name, true)
	if err != nil {
		return Result{}, fmt.Errorf("invoke %s: %w", name, err)
	}
	if len(payload) > MaxRequestSize {
		return Result{}, fmt.Errorf("invoke %s: request payload of %d bytes exceeds %d bytes", name, len(payload), MaxRequestSize)
	}
	select {
	case f.slots <- struct{}{}:
	case <-ctx.Done():
		return Result{}, fmt.Errorf("invoke %s: waiting for a free process: %w", name, ctx.Err())
	case <-e.closing:
		return Result{}, fmt.Errorf("invoke %s: %w", name, ErrClosed)
	}
	defer func() { <-f.slots }()

	for {
		res := Result{RequestID: newRequestID()}
		p := f.takeIdle()
		cold := p == nil
		if cold {
			if p, err = f.startProcess(); err != nil {
				return Result{}, fmt.Errorf("invoke %s: %w", name, err)
			}
			res.ColdStart = true
			if err := f.awaitInit(ctx, p, &res); err != nil || res.Err != nil {
				return res, err
			}
		}
		res.PID = p.pid
		res, retry, err := f.run(ctx, p, res, payload, cold)
		if !retry {
			return res, err
		}
	}
}

// Logs returns the last output lines of the named function, oldest first (Options.LogLines
// at most), or nil for an unknown function. It works after Close too.
func (e *Emulator) Logs(name string) []string {
	f, err := e.function(name, false)
	if err != nil {
		return nil
	}
	return f.logs.snapshot()
}

// Processes returns how many processes of the named function are alive, busy or idle.
func (e *Emulator) Processes(name string) int {
	f, err := e.function(name, false)
	if err != nil {
		return 0
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.procs)
}

// Close kills every process (with its process group) and waits until they are reaped and
// their servers are shut. Invocations in progress return ErrClosed. Close is idempotent.
func (e *Emulator) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	close(e.closing)
	fns := make([]*function, 0, len(e.fns))
	for _, f := range e.fns {
		fns = append(fns, f)
	}
	e.mu.Unlock()

	var errs []error
	for _, f := range fns {
		for _, p := range f.processes() {
			if err := p.kill(); err != nil {
				errs = append(errs, err)
			}
		}
	}
	e.wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close lambda emulator: %w", err)
	}
	return nil
}

// function returns the named function; with open set, it fails once the Emulator is closed.
func (e *Emulator) function(name string, open bool) (*function, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if open && e.closed {
		return nil, ErrClosed
	}
	f, ok := e.fns[name]
	if !ok {
		return nil, fmt.Errorf("no function named %q", name)
	}
	return f, nil
}

// isClosed reports whether Close has begun.
func (e *Emulator) isClosed() bool { return isDone(e.closing) }

// isDone reports whether ch is closed, without waiting.
func isDone(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// sink writes a line to Options.LogSink.
func (e *Emulator) sink(name, line string) {
	if e.opts.LogSink == nil {
		return
	}
	e.sinkMu.Lock()
	defer e.sinkMu.Unlock()
	_, _ = fmt.Fprintf(e.opts.LogSink, "[%s] %s\n", name, line)
}

// emit records one line of the function's log.
func (f *function) emit(line string) {
	f.logs.add(line)
	f.em.sink(f.cfg.Name, line)
}

// takeIdle returns an idle live process, or nil.
func (f *function) takeIdle() *process {
	f.mu.Lock()
	defer f.mu.Unlock()
	for len(f.idle) > 0 {
		p := f.idle[len(f.idle)-1]
		f.idle = f.idle[:len(f.idle)-1]
		if !p.hasExited() {
			return p
		}
	}
	return nil
}

// release makes p idle again, unless it has exited.
func (f *function) release(p *process) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, live := f.procs[p]; live && !p.hasExited() {
		f.idle = append(f.idle, p)
	}
}

// remove forgets an exited process.
func (f *function) remove(p *process) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.procs, p)
	f.idle = slices.DeleteFunc(f.idle, func(q *process) bool { return q == p })
}

func (f *function) processes() []*process {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]*process, 0, len(f.procs))
	for p := range f.procs {
		out = append(out, p)
	}
	return out
}

// environ returns the environment of a process whose runtime API listens at api.
func (f *function) environ(api, logStream string) []string {
	opts := f.em.opts
	env := map[string]string{"TZ": ":UTC"}
	if f.em.hostPath != "" {
		env["PATH"] = f.em.hostPath
	}
	for k, v := range f.cfg.Environment {
		env[k] = v
	}
	env["_HANDLER"] = f.cfg.Handler
	env["LAMBDA_TASK_ROOT"] = f.cfg.Dir
	env["AWS_REGION"] = opts.Region
	env["AWS_DEFAULT_REGION"] = opts.Region
	env["AWS_LAMBDA_FUNCTION_NAME"] = f.cfg.Name
	env["AWS_LAMBDA_FUNCTION_VERSION"] = "$LATEST"
	env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] = strconv.Itoa(f.cfg.MemorySize)
	env["AWS_LAMBDA_INITIALIZATION_TYPE"] = "on-demand"
	env["AWS_LAMBDA_LOG_GROUP_NAME"] = "/aws/lambda/" + f.cfg.Name
	env["AWS_LAMBDA_LOG_STREAM_NAME"] = logStream
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID":     opts.Credentials.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY": opts.Credentials.SecretAccessKey,
		"AWS_SESSION_TOKEN":     opts.Credentials.SessionToken,
	} {
		if v != "" {
			env[k] = v
		}
	}
	for k, v := range opts.Env {
		env[k] = v
	}
	for k, v := range f.cfg.ExtraEnv {
		env[k] = v
	}
	env["AWS_LAMBDA_RUNTIME_API"] = api
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	slices.Sort(out)
	return out
}

// reservedKey reports whether Lambda refuses key in a function's environment.
func reservedKey(key string) bool {
	switch key {
	case "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
		"AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
		"AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
		"AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
		"AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR":
		return true
	}
	return false
}

func checkName(name string) error {
	if name == "" {
		return errors.New("function name is empty")
	}
	for _, r := range name {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.'
		if !ok {
			return fmt.Errorf("function name %q: only letters, digits, '-', '_' and '.' are allowed", name)
		}
	}
	return nil
}

// randomHex returns n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b)
}

// newRequestID returns a random UUID, as Lambda's request ids are.
func newRequestID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// newTraceID returns an X-Ray trace header for one invocation.
func newTraceID(now time.Time) string {
	return fmt.Sprintf("Root=1-%08x-%s;Parent=%s;Sampled=0", now.Unix(), randomHex(12), randomHex(8))
}

// newLogStream returns a log stream name as Lambda names them.
func newLogStream(now time.Time) string {
	return now.UTC().Format("2006/01/02") + "/[$LATEST]" + randomHex(16)
}
