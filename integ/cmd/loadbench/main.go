// Command loadbench measures the chat stack under load through the local emulator (package local):
// the synthesized cloud assembly runs for real (API Gateway emulator, the very handler
// binaries, DynamoDB Local behind IAM checks), N WebSocket clients with a token each connect
// and join R rooms round-robin, then each sends M messages per second for D seconds. Every
// message carries a clientMessageId and its send time in its text, so that each member's
// receipt is checked (every other member of the room exactly once) and timed.
//
//	go run ./integ/cmd/loadbench                     # footprint, then the default sweep (about 4 min)
//	go run ./integ/cmd/loadbench -native             # the same with the handlers built for this machine (about 6 min)
//	go run ./integ/cmd/loadbench -sweep=false -conns 500 -rooms 20 -rate 5 -duration 60s
//	go run ./integ/cmd/loadbench -load=false         # the handler footprint only
//
// In order, it:
//
//   - synthesizes the reference app (local.Synth) unless -assembly names an assembly, and
//     measures the handlers' footprint: binary size (the asset's arm64 bootstrap), init time
//     (process start to first /next) natively (lambdaemu.BuildHost of lambdas/<name>) and
//     under qemu, and the peak memory after one invocation;
//   - starts the stack (local.Start) and warms every function up: 2 × -connect-concurrency
//     connections open, join a room and close at once, so that the measured phases meet warm
//     processes;
//   - opens N connections (at most -ramp handshakes per second, -connect-concurrency in
//     flight) and joins each to its room, then closes a fifth of them (at most 100) and
//     reopens them ("leave and come back": what $disconnect costs); the clock of the steps
//     starts once every connection has joined;
//   - runs the steps, and prints for each: messages sent and acknowledged, deliveries against
//     what is owed (misses, duplicates, late), end-to-end latency p50/p99 (send to receipt,
//     per member), errors by code (rate_limited, internal_error, API Gateway's "Internal
//     server error", close codes); the CPU of each process: this process (the emulator:
//     gateway, DynamoDB proxy, Lambda runtime API; getrusage self), each function's processes
//     (the bootstraps, under qemu-user unless -native), DynamoDB Local (java) and the load
//     clients, from /proc (schedstat, utime+stime); the machine's busy CPU; the chat
//     function's invocations and durations;
//   - prints per function the invocations, cold starts, init durations and peak memory of the
//     emulator's REPORT lines (Max Memory Used: the process's VmHWM), the DynamoDB capacity of
//     each request of the sendmessage path as DynamoDB Local charges it on items the run wrote,
//     what bounds the rate, and a memory size per function from the CPU each path used.
//
// The sweep (the default) finds the highest rate this machine sustains: it runs the per-
// connection rates of -ladder in ascending order until a step fails (a delivery missing or
// duplicated, a message not acknowledged, an error, or the end-to-end p99 over -p99), bisects
// -refine times between the last pass and the first failure, and then runs the target (-rate)
// for -target-duration. The target runs last: a step this machine cannot sustain leaves a
// backlog in the emulator's per-connection queues that would pollute any step after it. With
// -sweep=false it runs one step at -rate for -duration.
//
// The clients run in a child process (this command with -client), so that their CPU is not
// counted as the emulator's. Every process started is stopped at the end; any left is killed
// and reported.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/chatstack/websocketchatapi/integ/internal/assembly"
	"github.com/chatstack/websocketchatapi/integ/internal/local"
	"github.com/chatstack/websocketchatapi/internal/contract"
)

// config holds the command's flags.
type config struct {
	conns, rooms       int
	rate               float64
	duration           time.Duration
	ramp               float64
	connectConcurrency int
	sweep              bool
	ladder             []float64
	stepDuration       time.Duration
	targetDuration     time.Duration
	refine             int
	drain, settle      time.Duration
	p99                time.Duration
	assembly           string
	native             bool
	concurrency        int
	footprint, load    bool
	logFile            string
	verbose            bool
	client             bool
}

func parseFlags() (config, error) {
	var c config
	var ladder string
	flag.IntVar(&c.conns, "conns", 500, "connections (N), one user each")
	flag.IntVar(&c.rooms, "rooms", 20, "rooms (R); connection i joins room i mod R")
	flag.Float64Var(&c.rate, "rate", 5, "messages per second per connection (M): the target")
	flag.DurationVar(&c.duration, "duration", 60*time.Second, "send window (D) of the single run (-sweep=false)")
	flag.Float64Var(&c.ramp, "ramp", 500, "new connections per second at most (API Gateway allows 500 per account)")
	flag.IntVar(&c.connectConcurrency, "connect-concurrency", 20, "handshakes (and joins) in flight at most")
	flag.BoolVar(&c.sweep, "sweep", true, "find the highest sustained rate (-ladder), then run the target (-rate) for -target-duration; false: one step at -rate for -duration")
	flag.StringVar(&ladder, "ladder", "0.01,0.02,0.05,0.1,0.2,0.5,1,2", "per-connection rates the sweep tries, ascending, until one fails")
	flag.DurationVar(&c.stepDuration, "step-duration", 20*time.Second, "send window of each sweep step")
	flag.DurationVar(&c.targetDuration, "target-duration", 30*time.Second, "send window of the sweep's target step (0: skip it)")
	flag.IntVar(&c.refine, "refine", 2, "bisections (geometric) between the last rate that passed and the first that failed")
	flag.DurationVar(&c.drain, "drain", 10*time.Second, "how long after the send window replies and deliveries still count")
	flag.DurationVar(&c.settle, "settle", 30*time.Second, "how long a step waits for the previous step's replies before it starts")
	flag.DurationVar(&c.p99, "p99", 2*time.Second, "latency bound of a sustained step (end-to-end p99)")
	flag.StringVar(&c.assembly, "assembly", "", "cloud assembly to run (default: synthesize the reference app into a temporary directory)")
	flag.BoolVar(&c.native, "native", false, "run the handlers built for this machine (lambdaemu.BuildHost of this checkout's lambdas/, so the assembly must come from this checkout) instead of the arm64 assets under qemu")
	flag.IntVar(&c.concurrency, "concurrency", 0, "processes per function at most (sets ReservedConcurrentExecutions in a copy of the template); 0 keeps the template's (unset: the emulator's 10)")
	flag.BoolVar(&c.footprint, "footprint", true, "measure the handlers' size, init time and idle memory first")
	flag.BoolVar(&c.load, "load", true, "run the load")
	flag.StringVar(&c.logFile, "log", "", "write every function's output (and the START/END/REPORT lines) to this file")
	flag.BoolVar(&c.verbose, "v", false, "print progress")
	flag.BoolVar(&c.client, "client", false, "internal: run as the load clients' process (commands on stdin, events on stdout)")
	flag.Parse()
	for f := range strings.SplitSeq(ladder, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		r, err := strconv.ParseFloat(f, 64)
		if err != nil || !(r > 0) {
			return c, fmt.Errorf("-ladder: %q is not a positive rate", f)
		}
		c.ladder = append(c.ladder, r)
	}
	slices.Sort(c.ladder)
	switch {
	case c.conns < 2:
		return c, errors.New("-conns: want at least 2")
	case c.rooms < 1 || c.rooms > c.conns/2:
		return c, fmt.Errorf("-rooms %d: want 1 to %d (two members per room at least)", c.rooms, c.conns/2)
	case !(c.rate > 0):
		return c, errors.New("-rate: want > 0")
	case c.rate > contract.DefaultRateLimitPerSecond:
		fmt.Fprintf(os.Stderr, "loadbench: -rate over %d/s: the per-connection rate limit (%d/s, burst %d) will refuse messages (counted as rate_limited)\n",
			contract.DefaultRateLimitPerSecond, contract.DefaultRateLimitPerSecond, contract.DefaultRateLimitBurst)
	}
	return c, nil
}

func main() {
	cfg, err := parseFlags()
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadbench:", err)
		os.Exit(2)
	}
	if cfg.client {
		if err := runClient(os.Stdin, os.Stdout, cfg.verbose); err != nil {
			fmt.Fprintln(os.Stderr, "loadbench:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(cfg); err != nil {
		fmt.Fprintln(os.Stderr, "loadbench:", err)
		os.Exit(1)
	}
}

// run measures the footprint and runs the load, as cfg says.
func run(cfg config) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root, err := local.ModuleRoot()
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "loadbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	fmt.Println(machine())
	asmDir, err := filepath.Abs(cfg.assembly)
	if err != nil {
		return err
	}
	if cfg.assembly == "" {
		asmDir = filepath.Join(tmp, "cdk.out")
		t0 := time.Now()
		if err := local.Synth(ctx, asmDir); err != nil {
			return err
		}
		fmt.Printf("synth: %v (go run ./app, CDK_VALIDATION=false; handler bundles cached)\n", time.Since(t0).Round(time.Millisecond))
	}
	asm, err := assembly.Load(asmDir, assembly.Options{})
	if err != nil {
		return err
	}
	st, err := asm.Stack("")
	if err != nil {
		return err
	}
	var fps []footprint
	if cfg.footprint {
		t0 := time.Now()
		fps, err = measureFootprint(ctx, root, st, filepath.Join(tmp, "host"))
		if err != nil {
			return err
		}
		printFootprint(os.Stdout, fps, time.Since(t0))
	}
	if !cfg.load {
		return nil
	}
	runDir := asmDir
	if cfg.native || cfg.concurrency > 0 {
		runDir = filepath.Join(tmp, "variant")
		if err := makeVariant(ctx, root, asmDir, runDir, cfg.native, cfg.concurrency); err != nil {
			return err
		}
	}
	return runLoad(ctx, cfg, runDir, fps)
}

// machine describes this machine.
func machine() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	mem := ""
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
				mem = fmt.Sprintf(", %.1f GiB", float64(kb)/(1<<20))
			}
		}
	}
	qemu := ""
	if out, err := exec.Command("qemu-aarch64-static", "--version").Output(); err == nil {
		first, _, _ := strings.Cut(string(out), "\n")
		qemu = ", " + strings.TrimSpace(first)
	}
	return fmt.Sprintf("machine: %d CPUs (%s)%s, %s %s/%s%s", runtime.NumCPU(), model, mem, runtime.Version(), runtime.GOOS, runtime.GOARCH, qemu)
}

// stepOutcome is one step: what the clients saw and what the processes spent.
type stepOutcome struct {
	res    *stepResult
	send   cpuDelta // during the send window
	whole  cpuDelta // from the first send to the end of the drain
	fns    map[string]fnWindow
	procs  map[string]int // processes per function alive at the end of the send window
	logB   map[string]int64
	pass   bool
	reason string
}

// offered returns the step's offered message rate.
func (o *stepOutcome) offered() float64 { return float64(o.res.Spec.Senders) * o.res.Spec.Rate }

// runLoad starts the stack in dir, the clients, and the steps; then prints every table.
func runLoad(ctx context.Context, cfg config, dir string, fps []footprint) (err error) {
	sink := newReportSink()
	if cfg.logFile != "" {
		f, err := os.Create(cfg.logFile)
		if err != nil {
			return err
		}
		defer f.Close()
		sink.copy = f
	}
	t0 := time.Now()
	env, err := local.Start(ctx, local.Options{AssemblyDir: dir, LogSink: sink})
	if err != nil {
		return err
	}
	envClosed := false
	defer func() {
		if !envClosed {
			if cerr := env.Close(); cerr != nil && err == nil {
				err = cerr
			}
		}
	}()
	mode := "arm64 bootstraps under qemu-user"
	if cfg.native {
		mode = "handlers built for this machine (no qemu)"
	}
	fmt.Printf("\nlocal stack started in %v: %s; %s\n", time.Since(t0).Round(time.Millisecond), env.URL, mode)
	handlers, err := functionHandlers(env.Stack)
	if err != nil {
		return err
	}
	assetDirs := map[string]string{}
	for _, fn := range env.Stack.SortedFunctions() {
		assetDirs[fn.Code.AssetDir] = handlers[fn.Name]
	}

	tokens := make([]string, cfg.conns)
	for i := range tokens {
		if tokens[i], err = env.Token(fmt.Sprintf("load-%04d", i), fmt.Sprintf("Load %d", i)); err != nil {
			return err
		}
	}
	cl, err := startClientProc(cfg.verbose)
	if err != nil {
		return err
	}
	defer cl.kill()
	classify := func(pid int, comm, cmdline string) string {
		switch {
		case pid == cl.pid():
			return "clients"
		case comm == "java":
			return "dynamodb"
		}
		for d, h := range assetDirs {
			if strings.Contains(cmdline, d+string(filepath.Separator)) {
				return "fn:" + h
			}
		}
		return "other"
	}
	sampler := newProcSampler(500*time.Millisecond, classify)
	defer sampler.Close()

	// Warm every function up (as many processes as the phases use), so that the connect phase
	// measures connections, not cold starts.
	runID := strconv.FormatInt(time.Now().Unix()%100000, 36)
	if err := warmUp(ctx, cl, env, sink, handlers, cfg, "warm-"+runID+"-"); err != nil {
		return err
	}

	// Connect and join.
	before := sampler.snapshot()
	countsBefore := invocationCounts(sink, handlers)
	if err := cl.send(command{Op: opConnect, Connect: &connectSpec{
		URL: env.URL, Tokens: tokens, Rooms: cfg.rooms, RoomPrefix: "load-" + runID + "-",
		Concurrency: cfg.connectConcurrency, Ramp: cfg.ramp, Timeout: 60 * time.Second,
	}}); err != nil {
		return err
	}
	ev, err := cl.await(ctx, opConnected)
	if err != nil {
		return err
	}
	connectCPU := delta(before, sampler.snapshot())
	connectUse := phaseUse{cpu: categories(connectCPU), count: diffCounts(invocationCounts(sink, handlers), countsBefore)}
	cr := ev.Connected
	printConnect(os.Stdout, cfg, cr)
	if cr.Open < 2 {
		return fmt.Errorf("only %d connections joined", cr.Open)
	}

	// Some users leave and come back: what $disconnect costs, measured before any step can
	// leave a backlog behind.
	churnUse, err := churn(ctx, cl, sampler, sink, handlers, min(cr.Open/5, 100))
	if err != nil {
		return err
	}

	// The steps.
	var outcomes []*stepOutcome
	step := func(name string, senders int, rate float64, d time.Duration) (*stepOutcome, error) {
		spec := stepSpec{ID: len(outcomes), Name: name, Senders: senders, Rate: rate, Duration: d,
			Drain: cfg.drain, Settle: cfg.settle}
		o, err := runStep(ctx, cl, sampler, sink, handlers, env, spec, cfg)
		if err != nil {
			return nil, err
		}
		outcomes = append(outcomes, o)
		fmt.Printf("step %-14s %s msg/s offered: sent %d, delivered %d/%d, p99 %s ms, %s\n",
			name, fmtRate(o.offered()), o.res.Sent, o.res.Delivered, o.res.Expected, fmtMs(o.res.Latency.P99, o.res.Latency.N), verdict(o))
		return o, nil
	}
	n := cr.Open
	if !cfg.sweep {
		if _, err := step("run", n, cfg.rate, cfg.duration); err != nil {
			return err
		}
	} else {
		var pass, fail *stepOutcome
		for _, r := range cfg.ladder {
			if r >= cfg.rate {
				break
			}
			o, err := step("sweep", n, r, cfg.stepDuration)
			if err != nil {
				return err
			}
			if !o.pass {
				fail = o
				break
			}
			pass = o
		}
		// Even the lowest rate failed: halve it, at most three times, until a step passes.
		for i := 0; pass == nil && fail != nil && i < 3; i++ {
			o, err := step("step down", n, fail.res.Spec.Rate/2, cfg.stepDuration)
			if err != nil {
				return err
			}
			if o.pass {
				pass = o
			} else {
				fail = o
			}
		}
		for i := 0; i < cfg.refine && pass != nil && fail != nil && fail.res.Spec.Rate > pass.res.Spec.Rate; i++ {
			o, err := step("refine", n, math.Sqrt(pass.res.Spec.Rate*fail.res.Spec.Rate), cfg.stepDuration)
			if err != nil {
				return err
			}
			if o.pass {
				pass = o
			} else {
				fail = o
			}
		}
		if cfg.targetDuration > 0 {
			if _, err := step("target", n, cfg.rate, cfg.targetDuration); err != nil {
				return err
			}
		}
	}

	// Capacity of the sendmessage path, on what the run wrote.
	var capRows []capacityRow
	capErr := errors.New("the stack has no table")
	if ids := sortedKeys(env.Stack.Tables); len(ids) > 0 { // the reference stack has one
		capRows, capErr = probeCapacity(ctx, env.DynamoDB, env.Stack.Tables[ids[0]].Name)
	}

	// Stop everything, then look for anything left behind.
	t0 = time.Now()
	peak := sampler.peakRSS()
	sink.freeze() // the shutdown's $disconnects post to a closed endpoint: not load
	closeErr := env.Close()
	envClosed = true
	closeDur := time.Since(t0)
	_ = cl.send(command{Op: opExit})
	cl.wait(10 * time.Second)
	sampler.sample()
	leftovers := sampler.alive()
	for cat, pids := range leftovers {
		for _, pid := range pids {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			fmt.Fprintf(os.Stderr, "loadbench: killed leftover %s process %d\n", cat, pid)
		}
	}

	printSteps(os.Stdout, cfg, outcomes)
	printCPU(os.Stdout, outcomes)
	printChat(os.Stdout, outcomes)
	printFunctions(os.Stdout, env, sink, handlers, peak)
	printBound(os.Stdout, cfg, outcomes)
	if capErr != nil {
		fmt.Printf("\nDynamoDB capacity probe failed: %v\n", capErr)
	} else {
		printCapacity(os.Stdout, capRows)
	}
	printMemoryAdvice(os.Stdout, cfg, fps, env, sink, handlers, outcomes, connectUse, churnUse)
	fmt.Printf("\nshutdown: env.Close %v (every connection closed with 1001 and its $disconnect run)", closeDur.Round(time.Millisecond))
	if len(leftovers) == 0 {
		fmt.Println("; no process left behind")
	} else {
		fmt.Printf("; processes left behind and killed: %v\n", leftovers)
	}
	return closeErr
}

// churn has the clients close n connections normally, waits for their $disconnect
// invocations, and has them reopen and rejoin; it prints both and returns the closing's use.
func churn(ctx context.Context, cl *clientProc, sampler *procSampler, sink *reportSink, handlers map[string]string, n int) (phaseUse, error) {
	if n < 1 {
		return phaseUse{}, nil
	}
	var disconnect string
	for name, h := range handlers {
		if h == "disconnect" {
			disconnect = name
		}
	}
	a, before := sampler.snapshot(), invocationCounts(sink, handlers)
	if err := cl.send(command{Op: opClose, Count: n}); err != nil {
		return phaseUse{}, err
	}
	ev, err := cl.await(ctx, opClose)
	if err != nil {
		return phaseUse{}, err
	}
	closed := ev.Churn
	for invocationCounts(sink, handlers)["disconnect"]-before["disconnect"] < closed.Count && time.Since(a.at) < time.Minute {
		time.Sleep(20 * time.Millisecond)
	}
	b := sampler.snapshot()
	use := phaseUse{cpu: categories(delta(a, b)), count: diffCounts(invocationCounts(sink, handlers), before)}
	dur := sink.window(disconnect, a.at, b.at).duration
	if err := cl.send(command{Op: opReopen}); err != nil {
		return phaseUse{}, err
	}
	ev, err = cl.await(ctx, opReopen)
	if err != nil {
		return phaseUse{}, err
	}
	t := newTable("Leave and come back", "phase", "connections", "wall", "function duration p50 / p99 ms", "errors")
	t.add("close (1000) → $disconnect (Query, BatchWriteItem, presence \"left\")", fmt.Sprintf("%d", closed.Count), b.at.Sub(a.at).Round(time.Millisecond).String(),
		fmt.Sprintf("%s / %s", fmtMs(dur.P50, dur.N), fmtMs(dur.P99, dur.N)), fmtCounts(closed.Errors))
	t.add("reopen + joinroom", fmt.Sprintf("%d", ev.Churn.Count), ev.Churn.Wall.Round(time.Millisecond).String(), "", fmtCounts(ev.Churn.Errors))
	t.print(os.Stdout)
	return use, nil
}

// warmUp has the clients open, join and close 2 × -connect-concurrency connections at once,
// and waits until their $disconnect invocations are done.
func warmUp(ctx context.Context, cl *clientProc, env *local.Env, sink *reportSink, handlers map[string]string, cfg config, prefix string) error {
	n := min(2*cfg.connectConcurrency, cfg.conns)
	tokens := make([]string, n)
	for i := range tokens {
		var err error
		if tokens[i], err = env.Token(fmt.Sprintf("warm-%04d", i), fmt.Sprintf("Warm %d", i)); err != nil {
			return err
		}
	}
	before := invocationCounts(sink, handlers)["disconnect"]
	t0 := time.Now()
	if err := cl.send(command{Op: opWarmup, Connect: &connectSpec{URL: env.URL, Tokens: tokens, RoomPrefix: prefix,
		Concurrency: cfg.connectConcurrency, Timeout: 60 * time.Second}}); err != nil {
		return err
	}
	if _, err := cl.await(ctx, opWarm); err != nil {
		return err
	}
	for invocationCounts(sink, handlers)["disconnect"]-before < n && time.Since(t0) < time.Minute {
		time.Sleep(50 * time.Millisecond)
	}
	fmt.Printf("warm-up: %d connections opened, joined and closed in %v\n", n, time.Since(t0).Round(time.Millisecond))
	return nil
}

// runStep runs one step and collects its outcome.
func runStep(ctx context.Context, cl *clientProc, sampler *procSampler, sink *reportSink, handlers map[string]string, env *local.Env, spec stepSpec, cfg config) (*stepOutcome, error) {
	if err := cl.send(command{Op: opStep, Step: &spec}); err != nil {
		return nil, err
	}
	if _, err := cl.await(ctx, opSending); err != nil {
		return nil, err
	}
	a := sampler.snapshot()
	logA := logBytes(sink, handlers)
	if _, err := cl.await(ctx, opSent); err != nil {
		return nil, err
	}
	b := sampler.snapshot()
	procs := map[string]int{}
	for name, h := range handlers {
		procs[h] = env.Lambda.Processes(name)
	}
	ev, err := cl.await(ctx, opStep)
	if err != nil {
		return nil, err
	}
	c := sampler.snapshot()
	logC := logBytes(sink, handlers)
	o := &stepOutcome{res: ev.Step, send: delta(a, b), whole: delta(a, c), procs: procs, fns: map[string]fnWindow{}, logB: map[string]int64{}}
	for name, h := range handlers {
		o.fns[h] = sink.window(name, a.at, c.at)
		o.logB[h] = logC[h] - logA[h]
	}
	o.pass, o.reason = judge(o.res, cfg.p99)
	return o, nil
}

// phaseUse is the CPU (seconds by category) and the invocations (by handler) of a phase.
type phaseUse struct {
	cpu   map[string]float64
	count map[string]int
}

// invocationCounts returns each handler's invocations so far.
func invocationCounts(sink *reportSink, handlers map[string]string) map[string]int {
	out := map[string]int{}
	for name, h := range handlers {
		out[h] += sink.window(name, time.Time{}, time.Time{}).count
	}
	return out
}

// diffCounts returns b − a.
func diffCounts(b, a map[string]int) map[string]int {
	out := map[string]int{}
	for k, v := range b {
		out[k] = v - a[k]
	}
	return out
}

// logBytes returns each handler's log volume so far.
func logBytes(sink *reportSink, handlers map[string]string) map[string]int64 {
	out := map[string]int64{}
	for name, h := range handlers {
		out[h] = sink.window(name, time.Time{}, time.Time{}).bytes
	}
	return out
}

// judge says whether a step was sustained: every delivery owed made exactly once within the
// drain, every message acknowledged, no error, and the end-to-end p99 within bound.
func judge(r *stepResult, p99 time.Duration) (bool, string) {
	var why []string
	if r.Sent == 0 {
		why = append(why, "nothing sent")
	}
	if r.Delivered < r.Expected {
		why = append(why, fmt.Sprintf("%d deliveries missing", r.Expected-r.Delivered))
	}
	if r.Duplicates > 0 || r.Misrouted > 0 {
		why = append(why, fmt.Sprintf("%d duplicates, %d misrouted", r.Duplicates, r.Misrouted))
	}
	if r.Acks < r.Sent {
		why = append(why, fmt.Sprintf("%d acks missing", r.Sent-r.Acks))
	}
	if len(r.Errors) > 0 {
		why = append(why, "errors")
	}
	if r.Latency.N > 0 && r.Latency.P99 > millis(p99) {
		why = append(why, fmt.Sprintf("p99 %.0f ms > %v", r.Latency.P99, p99))
	}
	if len(why) == 0 {
		return true, ""
	}
	return false, strings.Join(why, "; ")
}

// verdict is "sustained" or why not.
func verdict(o *stepOutcome) string {
	if o.pass {
		return "sustained"
	}
	return "NOT sustained: " + o.reason
}

// clientProc is the child process that runs the clients.
type clientProc struct {
	cmd    *exec.Cmd
	in     io.WriteCloser
	enc    *json.Encoder
	events chan event
	done   chan struct{}
}

// startClientProc starts this executable with -client.
func startClientProc(verbose bool) (*clientProc, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("start clients: %w", err)
	}
	args := []string{"-client"}
	if verbose {
		args = append(args, "-v")
	}
	cmd := exec.Command(exe, args...)
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("start clients: %w", err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("start clients: %w", err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start clients: %w", err)
	}
	cl := &clientProc{cmd: cmd, in: in, enc: json.NewEncoder(in), events: make(chan event, 16), done: make(chan struct{})}
	go func() {
		defer close(cl.done)
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 1<<20), 64<<20)
		for sc.Scan() {
			var ev event
			if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
				ev = event{Op: opError, Error: "unreadable event: " + err.Error()}
			}
			cl.events <- ev
		}
		_ = cmd.Wait()
	}()
	return cl, nil
}

// pid is the client process's pid.
func (c *clientProc) pid() int { return c.cmd.Process.Pid }

// send writes one command.
func (c *clientProc) send(cmd command) error {
	if err := c.enc.Encode(cmd); err != nil {
		return fmt.Errorf("clients: send %s: %w", cmd.Op, err)
	}
	return nil
}

// await returns the next event, which must be op.
func (c *clientProc) await(ctx context.Context, op string) (event, error) {
	select {
	case ev := <-c.events:
		if ev.Op == opError {
			return ev, fmt.Errorf("clients: %s", ev.Error)
		}
		if ev.Op != op {
			return ev, fmt.Errorf("clients: got %s, want %s", ev.Op, op)
		}
		return ev, nil
	case <-c.done:
		return event{}, errors.New("clients: the process ended")
	case <-ctx.Done():
		return event{}, ctx.Err()
	}
}

// wait waits at most d for the process to end, then kills it.
func (c *clientProc) wait(d time.Duration) {
	_ = c.in.Close()
	select {
	case <-c.done:
	case <-time.After(d):
		c.kill()
	}
}

// kill kills the process (if still running) and waits for it.
func (c *clientProc) kill() {
	select {
	case <-c.done:
		return
	default:
	}
	_ = c.cmd.Process.Kill()
	<-c.done
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
