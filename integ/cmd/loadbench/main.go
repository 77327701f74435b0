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
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
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
