package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/chatstack/websocketchatapi/integ/internal/local"
)

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

// phaseUse is the CPU (seconds by category) and the invocations (by handler) of a phase.
type phaseUse struct {
	cpu   map[string]float64
	count map[string]int
}

// loadRun is one run of the load: the local stack, the client process, what measures them,
// and the steps run so far.
type loadRun struct {
	cfg      config
	env      *local.Env
	sink     *reportSink
	cl       *clientProc
	sampler  *procSampler
	handlers map[string]string // handler (chat, connect, ...) by function name
	outcomes []*stepOutcome
	closed   bool // env is closed
}

// runLoad starts the stack in dir, the clients, and the steps; then prints every table.
func runLoad(ctx context.Context, cfg config, dir string, fps []footprint) (err error) {
	r := &loadRun{cfg: cfg, sink: newReportSink()}
	if cfg.logFile != "" {
		f, err := os.Create(cfg.logFile)
		if err != nil {
			return err
		}
		defer f.Close()
		r.sink.copy = f
	}
	defer func() {
		if cerr := r.stop(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	if err := r.start(ctx, dir); err != nil {
		return err
	}
	// Warm every function up (as many processes as the phases use), so that the connect phase
	// measures connections, not cold starts.
	runID := strconv.FormatInt(time.Now().Unix()%100000, 36)
	if err := r.warmUp(ctx, "warm-"+runID+"-"); err != nil {
		return err
	}
	connectUse, open, err := r.connectAll(ctx, "load-"+runID+"-")
	if err != nil {
		return err
	}
	// Some users leave and come back: what $disconnect costs, measured before any step can
	// leave a backlog behind.
	churnUse, err := r.churn(ctx, min(open/5, 100))
	if err != nil {
		return err
	}
	if err := r.runSteps(ctx, open); err != nil {
		return err
	}
	return r.finish(ctx, fps, connectUse, churnUse)
}

// start starts the stack in dir, the client process and the sampler that attributes the CPU
// of every process.
func (r *loadRun) start(ctx context.Context, dir string) (err error) {
	t0 := time.Now()
	if r.env, err = local.Start(ctx, local.Options{AssemblyDir: dir, LogSink: r.sink}); err != nil {
		return err
	}
	mode := "arm64 bootstraps under qemu-user"
	if r.cfg.native {
		mode = "handlers built for this machine (no qemu)"
	}
	fmt.Printf("\nlocal stack started in %v: %s; %s\n", time.Since(t0).Round(time.Millisecond), r.env.URL, mode)
	if r.handlers, err = functionHandlers(r.env.Stack); err != nil {
		return err
	}
	assetDirs := map[string]string{}
	for _, fn := range r.env.Stack.SortedFunctions() {
		assetDirs[fn.Code.AssetDir] = r.handlers[fn.Name]
	}
	if r.cl, err = startClientProc(r.cfg.verbose); err != nil {
		return err
	}
	classify := func(pid int, comm, cmdline string) string {
		switch {
		case pid == r.cl.pid():
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
	r.sampler = newProcSampler(500*time.Millisecond, classify)
	return nil
}

// closeEnv closes the stack, once.
func (r *loadRun) closeEnv() error {
	if r.env == nil || r.closed {
		return nil
	}
	r.closed = true
	return r.env.Close()
}

// stop stops whatever start started and is still running.
func (r *loadRun) stop() error {
	if r.sampler != nil {
		r.sampler.Close()
	}
	if r.cl != nil {
		r.cl.kill()
	}
	return r.closeEnv()
}

// tokens mints n tokens of users <prefix>-0000, <prefix>-0001, ...
func (r *loadRun) tokens(n int, prefix, name string) ([]string, error) {
	tokens := make([]string, n)
	for i := range tokens {
		var err error
		if tokens[i], err = r.env.Token(fmt.Sprintf("%s-%04d", prefix, i), fmt.Sprintf("%s %d", name, i)); err != nil {
			return nil, err
		}
	}
	return tokens, nil
}

// awaitDisconnects waits, at most a minute from since, until the disconnect function ran n
// more times than before.
func (r *loadRun) awaitDisconnects(before, n int, since time.Time, poll time.Duration) {
	for r.invocationCounts()["disconnect"]-before < n && time.Since(since) < time.Minute {
		time.Sleep(poll)
	}
}

// warmUp has the clients open, join and close 2 × -connect-concurrency connections at once,
// and waits until their $disconnect invocations are done.
func (r *loadRun) warmUp(ctx context.Context, prefix string) error {
	n := min(2*r.cfg.connectConcurrency, r.cfg.conns)
	tokens, err := r.tokens(n, "warm", "Warm")
	if err != nil {
		return err
	}
	before := r.invocationCounts()["disconnect"]
	t0 := time.Now()
	if err := r.cl.send(command{Op: opWarmup, Connect: &connectSpec{URL: r.env.URL, Tokens: tokens, RoomPrefix: prefix,
		Concurrency: r.cfg.connectConcurrency, Timeout: 60 * time.Second}}); err != nil {
		return err
	}
	if _, err := r.cl.await(ctx, opWarm); err != nil {
		return err
	}
	r.awaitDisconnects(before, n, t0, 50*time.Millisecond)
	fmt.Printf("warm-up: %d connections opened, joined and closed in %v\n", n, time.Since(t0).Round(time.Millisecond))
	return nil
}

// connectAll has the clients open -conns connections and join each to its room; it prints the
// phase and returns its use and the connections open.
func (r *loadRun) connectAll(ctx context.Context, roomPrefix string) (phaseUse, int, error) {
	tokens, err := r.tokens(r.cfg.conns, "load", "Load")
	if err != nil {
		return phaseUse{}, 0, err
	}
	before, countsBefore := r.sampler.snapshot(), r.invocationCounts()
	if err := r.cl.send(command{Op: opConnect, Connect: &connectSpec{
		URL: r.env.URL, Tokens: tokens, Rooms: r.cfg.rooms, RoomPrefix: roomPrefix,
		Concurrency: r.cfg.connectConcurrency, Ramp: r.cfg.ramp, Timeout: 60 * time.Second,
	}}); err != nil {
		return phaseUse{}, 0, err
	}
	ev, err := r.cl.await(ctx, opConnected)
	if err != nil {
		return phaseUse{}, 0, err
	}
	use := phaseUse{cpu: categories(delta(before, r.sampler.snapshot())), count: diffCounts(r.invocationCounts(), countsBefore)}
	printConnect(os.Stdout, r.cfg, ev.Connected)
	if ev.Connected.Open < 2 {
		return phaseUse{}, 0, fmt.Errorf("only %d connections joined", ev.Connected.Open)
	}
	return use, ev.Connected.Open, nil
}

// churn has the clients close n connections normally, waits for their $disconnect
// invocations, and has them reopen and rejoin; it prints both and returns the closing's use.
func (r *loadRun) churn(ctx context.Context, n int) (phaseUse, error) {
	if n < 1 {
		return phaseUse{}, nil
	}
	var disconnect string
	for name, h := range r.handlers {
		if h == "disconnect" {
			disconnect = name
		}
	}
	a, before := r.sampler.snapshot(), r.invocationCounts()
	if err := r.cl.send(command{Op: opClose, Count: n}); err != nil {
		return phaseUse{}, err
	}
	ev, err := r.cl.await(ctx, opClose)
	if err != nil {
		return phaseUse{}, err
	}
	closed := ev.Churn
	r.awaitDisconnects(before["disconnect"], closed.Count, a.at, 20*time.Millisecond)
	b := r.sampler.snapshot()
	use := phaseUse{cpu: categories(delta(a, b)), count: diffCounts(r.invocationCounts(), before)}
	dur := r.sink.window(disconnect, a.at, b.at).duration
	if err := r.cl.send(command{Op: opReopen}); err != nil {
		return phaseUse{}, err
	}
	ev, err = r.cl.await(ctx, opReopen)
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

// runSteps runs the steps with n senders: one at -rate for -duration, or the sweep.
func (r *loadRun) runSteps(ctx context.Context, n int) error {
	if !r.cfg.sweep {
		_, err := r.step(ctx, "run", n, r.cfg.rate, r.cfg.duration)
		return err
	}
	var pass, fail *stepOutcome
	for _, rate := range r.cfg.ladder {
		if rate >= r.cfg.rate {
			break
		}
		o, err := r.step(ctx, "sweep", n, rate, r.cfg.stepDuration)
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
		o, err := r.step(ctx, "step down", n, fail.res.Spec.Rate/2, r.cfg.stepDuration)
		if err != nil {
			return err
		}
		pass, fail = sorted(o, pass, fail)
	}
	for i := 0; i < r.cfg.refine && pass != nil && fail != nil && fail.res.Spec.Rate > pass.res.Spec.Rate; i++ {
		o, err := r.step(ctx, "refine", n, math.Sqrt(pass.res.Spec.Rate*fail.res.Spec.Rate), r.cfg.stepDuration)
		if err != nil {
			return err
		}
		pass, fail = sorted(o, pass, fail)
	}
	if r.cfg.targetDuration > 0 {
		if _, err := r.step(ctx, "target", n, r.cfg.rate, r.cfg.targetDuration); err != nil {
			return err
		}
	}
	return nil
}

// sorted returns o as the new last pass, or as the new first failure.
func sorted(o, pass, fail *stepOutcome) (*stepOutcome, *stepOutcome) {
	if o.pass {
		return o, fail
	}
	return pass, o
}

// step runs one step, keeps its outcome and prints a line of progress.
func (r *loadRun) step(ctx context.Context, name string, senders int, rate float64, d time.Duration) (*stepOutcome, error) {
	spec := stepSpec{ID: len(r.outcomes), Name: name, Senders: senders, Rate: rate, Duration: d,
		Drain: r.cfg.drain, Settle: r.cfg.settle}
	o, err := r.runStep(ctx, spec)
	if err != nil {
		return nil, err
	}
	r.outcomes = append(r.outcomes, o)
	fmt.Printf("step %-14s %s msg/s offered: sent %d, delivered %d/%d, p99 %s ms, %s\n",
		name, fmtRate(o.offered()), o.res.Sent, o.res.Delivered, o.res.Expected, fmtMs(o.res.Latency.P99, o.res.Latency.N), verdict(o))
	return o, nil
}

// runStep runs one step and collects its outcome.
func (r *loadRun) runStep(ctx context.Context, spec stepSpec) (*stepOutcome, error) {
	if err := r.cl.send(command{Op: opStep, Step: &spec}); err != nil {
		return nil, err
	}
	if _, err := r.cl.await(ctx, opSending); err != nil {
		return nil, err
	}
	a := r.sampler.snapshot()
	logA := r.logBytes()
	if _, err := r.cl.await(ctx, opSent); err != nil {
		return nil, err
	}
	b := r.sampler.snapshot()
	procs := map[string]int{}
	for name, h := range r.handlers {
		procs[h] = r.env.Lambda.Processes(name)
	}
	ev, err := r.cl.await(ctx, opStep)
	if err != nil {
		return nil, err
	}
	c := r.sampler.snapshot()
	logC := r.logBytes()
	o := &stepOutcome{res: ev.Step, send: delta(a, b), whole: delta(a, c), procs: procs, fns: map[string]fnWindow{}, logB: map[string]int64{}}
	for name, h := range r.handlers {
		o.fns[h] = r.sink.window(name, a.at, c.at)
		o.logB[h] = logC[h] - logA[h]
	}
	o.pass, o.reason = judge(o.res, r.cfg.p99)
	return o, nil
}

// finish probes the table's capacity, stops everything, looks for anything left behind, and
// prints every table.
func (r *loadRun) finish(ctx context.Context, fps []footprint, connectUse, churnUse phaseUse) error {
	// Capacity of the sendmessage path, on what the run wrote.
	var capRows []capacityRow
	capErr := errors.New("the stack has no table")
	if ids := slices.Sorted(maps.Keys(r.env.Stack.Tables)); len(ids) > 0 { // the reference stack has one
		capRows, capErr = probeCapacity(ctx, r.env.DynamoDB, r.env.Stack.Tables[ids[0]].Name)
	}

	t0 := time.Now()
	peak := r.sampler.peakRSS()
	r.sink.freeze() // the shutdown's $disconnects post to a closed endpoint: not load
	closeErr := r.closeEnv()
	closeDur := time.Since(t0)
	_ = r.cl.send(command{Op: opExit})
	r.cl.wait(10 * time.Second)
	r.sampler.sample()
	leftovers := r.sampler.alive()
	for cat, pids := range leftovers {
		for _, pid := range pids {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			fmt.Fprintf(os.Stderr, "loadbench: killed leftover %s process %d\n", cat, pid)
		}
	}

	outs := r.outcomes
	printSteps(os.Stdout, r.cfg, outs)
	printCPU(os.Stdout, outs)
	printChat(os.Stdout, outs)
	printFunctions(os.Stdout, r.env, r.sink, r.handlers, peak)
	printBound(os.Stdout, r.cfg, outs)
	if capErr != nil {
		fmt.Printf("\nDynamoDB capacity probe failed: %v\n", capErr)
	} else {
		printCapacity(os.Stdout, capRows)
	}
	printMemoryAdvice(os.Stdout, r.cfg, fps, r.env, r.sink, r.handlers, outs, connectUse, churnUse)
	fmt.Printf("\nshutdown: env.Close %v (every connection closed with 1001 and its $disconnect run)", closeDur.Round(time.Millisecond))
	if len(leftovers) == 0 {
		fmt.Println("; no process left behind")
	} else {
		fmt.Printf("; processes left behind and killed: %v\n", leftovers)
	}
	return closeErr
}

// invocationCounts returns each handler's invocations so far.
func (r *loadRun) invocationCounts() map[string]int {
	out := map[string]int{}
	for name, h := range r.handlers {
		out[h] += r.sink.totals(name).count
	}
	return out
}

// logBytes returns each handler's log volume so far.
func (r *loadRun) logBytes() map[string]int64 {
	out := map[string]int64{}
	for name, h := range r.handlers {
		out[h] = r.sink.totals(name).bytes
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
