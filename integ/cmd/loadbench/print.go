package main

import (
	"fmt"
	"io"
	"maps"
	"runtime"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/chatstack/websocketchatapi/integ/internal/lambdaemu"
	"github.com/chatstack/websocketchatapi/integ/internal/local"
)

// initTarget is the bound on a handler's native init.
const initTarget = 20.0 // ms

// printFootprint prints the handlers' footprint table.
func printFootprint(w io.Writer, fps []footprint, took time.Duration) {
	t := newTable("Handler footprint",
		"handler", "memory (template)", "arm64 bootstrap (uploaded)", "host build", "init native p50 / max", "≤ 20 ms native", "init qemu p50 / max", "RSS after 1st invoke native / qemu")
	for _, f := range fps {
		ok := "yes"
		if f.initNative.P50 > initTarget {
			ok = "NO"
		}
		t.add(f.handler, fmt.Sprintf("%d MB", f.memoryMB), fmtMiB(f.assetSize), fmtMiB(f.hostSize),
			fmt.Sprintf("%s / %s ms", fmtMs(f.initNative.P50, f.initNative.N), fmtMs(f.initNative.Max, f.initNative.N)), ok,
			fmt.Sprintf("%s / %s ms", fmtMs(f.initQemu.P50, f.initQemu.N), fmtMs(f.initQemu.Max, f.initQemu.N)),
			fmt.Sprintf("%d / %d MB", f.memNative, f.memQemu))
	}
	if len(fps) > 0 {
		t.note("Init is process start to the first /next (lambdaemu Result.InitDuration): %d cold starts natively, %d under qemu-user, each a fresh process in a fresh emulator; %s. RSS is VmHWM (Lambda's Max Memory Used); under qemu it includes qemu's own memory. Measured in %v.",
			fps[0].initNative.N, fps[0].initQemu.N, fps[0].goVersion, took.Round(time.Second))
	}
	t.print(w)
}

// categories lists the CPU categories of d (this process as "emulator"), in display order.
func categories(d cpuDelta) map[string]float64 {
	out := map[string]float64{"emulator": d.self}
	for k, v := range d.byCategory {
		out[k] = v
	}
	return out
}

// catOrder sorts categories: emulator, functions, DynamoDB Local, clients, other.
func catOrder(cats []string) []string {
	rank := func(c string) int {
		switch {
		case c == "emulator":
			return 0
		case strings.HasPrefix(c, "fn:"):
			return 1
		case c == "dynamodb":
			return 2
		case c == "clients":
			return 3
		}
		return 4
	}
	sort.SliceStable(cats, func(i, j int) bool {
		if rank(cats[i]) != rank(cats[j]) {
			return rank(cats[i]) < rank(cats[j])
		}
		return cats[i] < cats[j]
	})
	return cats
}

// catLabel names a category for tables.
func catLabel(c string) string {
	switch {
	case c == "emulator":
		return "emulator (gateway+proxy+runtime API)"
	case c == "dynamodb":
		return "DynamoDB Local (java)"
	case c == "clients":
		return "load clients"
	}
	return strings.TrimPrefix(c, "fn:")
}

// printConnect prints the connect and join phases.
func printConnect(w io.Writer, cfg config, cr *connectResult) {
	t := newTable("Connect and join", "phase", "connections", "wall", "rate", "latency p50 / p99 / max", "errors")
	row := func(phase, count string, p phaseTiming, errs string) {
		l := p.Latency
		t.add(phase, count, p.Wall.Round(time.Millisecond).String(), fmt.Sprintf("%s/s", fmtRate(float64(l.N)/p.Wall.Seconds())),
			fmt.Sprintf("%s / %s / %s ms", fmtMs(l.P50, l.N), fmtMs(l.P99, l.N), fmtMs(l.Max, l.N)), errs)
	}
	row("handshake ($connect: authorizer + connect)", fmt.Sprintf("%d of %d", cr.Connect.Latency.N, cfg.conns), cr.Connect, fmtCounts(cr.Errors))
	row(fmt.Sprintf("joinroom (%d rooms, presence to members)", cfg.rooms), fmt.Sprintf("%d", cr.Join.Latency.N), cr.Join, "")
	t.note("-ramp %s/s, -connect-concurrency %d; the clock of the steps starts once all have joined.",
		fmtRate(cfg.ramp), cfg.connectConcurrency)
	t.print(w)
}

// printSteps prints the clients' view of every step.
func printSteps(w io.Writer, cfg config, outs []*stepOutcome) {
	t := newTable("Load steps (clients' view)",
		"step", "senders × msg/s", "offered msg/s", "sent (msg/s)", "acks", "ack p50 / p99 ms", "delivered / expected", "missed", "dup", "late",
		"e2e p50 ms", "e2e p99 ms", "e2e max ms", "errors", "verdict")
	for _, o := range outs {
		r := o.res
		ratio := "-"
		if r.Expected > 0 {
			ratio = fmt.Sprintf("%d / %d = %.4f", r.Delivered, r.Expected, float64(r.Delivered)/float64(r.Expected))
		}
		errs := fmtCounts(r.Errors)
		if r.StaleReplies > 0 || r.Stray > 0 {
			errs += fmt.Sprintf(" (earlier steps: %d replies, %d deliveries)", r.StaleReplies, r.Stray)
		}
		v := "sustained"
		if !o.pass {
			v = "NO: " + o.reason
		}
		t.add(r.Spec.Name, fmt.Sprintf("%d × %s", r.Spec.Senders, fmtRate(r.Spec.Rate)), fmtRate(o.offered()),
			fmt.Sprintf("%d (%s)", r.Sent, fmtRate(float64(r.Sent)/r.SendWindow.Seconds())), fmt.Sprintf("%d", r.Acks),
			fmt.Sprintf("%s / %s", fmtMs(r.AckLat.P50, r.AckLat.N), fmtMs(r.AckLat.P99, r.AckLat.N)), ratio,
			fmt.Sprintf("%d", r.Expected-r.Delivered), fmt.Sprintf("%d", r.Duplicates), fmt.Sprintf("%d", r.Late),
			fmtMs(r.Latency.P50, r.Latency.N), fmtMs(r.Latency.P99, r.Latency.N), fmtMs(r.Latency.Max, r.Latency.N), errs, v)
	}
	if len(outs) > 0 {
		r := outs[0].res
		windows := fmt.Sprintf("sweep steps %v, target %v", cfg.stepDuration, cfg.targetDuration)
		if !cfg.sweep {
			windows = cfg.duration.String()
		}
		t.note("Each step sends for its window (%s), then waits at most %v (-drain) for replies and deliveries; deliveries owed = messages × (room members − 1), rooms of %d–%d members. "+
			"\"missed\" counts owed deliveries not received within the drain (late ones included), \"late\" those that came after it. Sustained = every delivery exactly once, every message acked, no error, e2e p99 ≤ %v. "+
			"A step first waits up to %v for the previous step's replies (settle). Text %d bytes.",
			windows, r.Spec.Drain, cfg.conns/cfg.rooms, (cfg.conns+cfg.rooms-1)/cfg.rooms, cfg.p99, cfg.settle, textBytes)
		for _, o := range outs {
			if o.res.SettleLeft > 0 || o.res.SendLagMax > 500*time.Millisecond {
				t.note("%s %s/s: started with %d replies of earlier steps outstanding after %v; worst send lag %v (client writes blocked).",
					o.res.Spec.Name, fmtRate(o.res.Spec.Rate), o.res.SettleLeft, o.res.SettleWait.Round(time.Millisecond), o.res.SendLagMax.Round(time.Millisecond))
			}
		}
	}
	t.print(w)
}

// printCPU prints the CPU of each process per step, in cores and per message.
func printCPU(w io.Writer, outs []*stepOutcome) {
	if len(outs) == 0 {
		return
	}
	// Categories that used at least 0.01 cores in some step (the $connect functions idle).
	set := map[string]bool{}
	for _, o := range outs {
		for c, v := range categories(o.send) {
			if o.send.cores(v) >= 0.01 {
				set[c] = true
			}
		}
	}
	cats := catOrder(slices.Sorted(maps.Keys(set)))
	header := []string{"step", "msg/s sent"}
	for _, c := range cats {
		header = append(header, catLabel(c))
	}
	header = append(header, "all ours", fmt.Sprintf("machine busy (of %d)", runtime.NumCPU()))
	t := newTable("CPU during the send window, in cores (CPU seconds per second)", header...)
	per := newTable("CPU per message processed, in ms (send window and drain)", append([]string{"step", "messages processed"}, header[2:len(header)-1]...)...)
	for _, o := range outs {
		cc := categories(o.send)
		label := fmt.Sprintf("%s %s/s", o.res.Spec.Name, fmtRate(o.res.Spec.Rate))
		row := []string{label, fmtRate(float64(o.res.Sent) / o.res.SendWindow.Seconds())}
		total := 0.0
		for _, c := range cats {
			row = append(row, fmt.Sprintf("%.2f", o.send.cores(cc[c])))
			total += cc[c]
		}
		row = append(row, fmt.Sprintf("%.2f", o.send.cores(total)), fmt.Sprintf("%.2f", o.send.cores(o.send.machine)))
		t.add(row...)

		wc := categories(o.whole)
		n := o.fns["chat"].count
		prow := []string{label, fmt.Sprintf("%d", n)}
		total = 0
		for _, c := range cats {
			prow = append(prow, perMsg(wc[c], n))
			total += wc[c]
		}
		prow = append(prow, perMsg(total, n))
		per.add(prow...)
	}
	t.note("From /proc of this process's descendants (schedstat of every thread, utime+stime as a floor), sampled every 0.5 s and at each step boundary; \"emulator\" is getrusage(RUSAGE_SELF) of this process: the API Gateway emulator, the IAM-checking DynamoDB proxy, the Lambda runtime API and log handling. Function columns sum that handler's processes (qemu-user running the arm64 bootstrap, or the native build). Machine busy is /proc/stat, everything on the machine.")
	t.print(w)
	per.note("CPU from the first send to the end of the drain, divided by the chat function's invocations in that time (the messages processed; under overload far fewer than those sent).")
	per.print(w)
}

// perMsg formats CPU seconds per message in ms.
func perMsg(sec float64, n int) string {
	if n == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", sec*1000/float64(n))
}

// printChat prints the chat function's invocations per step.
func printChat(w io.Writer, outs []*stepOutcome) {
	t := newTable("Chat function per step (REPORT lines)", "step", "invocations", "failed", "cold", "duration p50 / p90 / p99 ms", "processes (end of send window)", "CPU ms per invocation", "log bytes per invocation")
	for _, o := range outs {
		f := o.fns["chat"]
		cpu := categories(o.whole)["fn:chat"]
		per, logs := "-", "-"
		if f.count > 0 {
			per = fmt.Sprintf("%.1f", cpu*1000/float64(f.count))
			logs = fmt.Sprintf("%d", o.logB["chat"]/int64(f.count))
		}
		t.add(fmt.Sprintf("%s %s/s", o.res.Spec.Name, fmtRate(o.res.Spec.Rate)), fmt.Sprintf("%d", f.count), fmt.Sprintf("%d", f.failed), fmt.Sprintf("%d", f.cold),
			fmt.Sprintf("%s / %s / %s", fmtMs(f.duration.P50, f.duration.N), fmtMs(f.duration.P90, f.duration.N), fmtMs(f.duration.P99, f.duration.N)),
			fmt.Sprintf("%d", o.procs["chat"]), per, logs)
	}
	t.note("Duration is the emulator's (event handed to the runtime → response); the processes' cap is the function's reserved concurrency, or the emulator's %d when the template sets none: further invocations wait for a free process. Log bytes: the function's output plus Lambda's START/END/REPORT lines (what CloudWatch Logs would ingest).",
		lambdaemu.DefaultMaxConcurrency)
	t.print(w)
}

// printFunctions prints every function's totals over the run.
func printFunctions(w io.Writer, env *local.Env, sink *reportSink, handlers map[string]string, peak map[string]int64) {
	t := newTable("Functions over the whole run (REPORT lines)", "handler", "memory size", "invocations", "cold starts", "init p50 / max ms", "peak Max Memory Used", "log bytes / invocation")
	for _, fn := range env.Stack.SortedFunctions() {
		h := handlers[fn.Name]
		tot := sink.totals(fn.Name)
		logs := "-"
		if tot.count > 0 {
			logs = fmt.Sprintf("%d", tot.bytes/int64(tot.count))
		}
		t.add(h, fmt.Sprintf("%d MB", fn.MemoryMB), fmt.Sprintf("%d", tot.count), fmt.Sprintf("%d", tot.inits.N),
			fmt.Sprintf("%s / %s", fmtMs(tot.inits.P50, tot.inits.N), fmtMs(tot.inits.Max, tot.inits.N)),
			fmt.Sprintf("%d MB", tot.peakMemMB), logs)
	}
	t.note("Up to the shutdown (its $disconnects, which post to an endpoint already closed, are left out). Init durations here are the warm-up's cold starts: 10 processes per function at once, under CPU contention. DynamoDB Local peak VmHWM: %d MB; this process's peak RSS: %d MB.",
		(peak["dynamodb"]+1023)/1024, (selfMaxRSSKB()+1023)/1024)
	t.print(w)
}

// printBound says, for the steps that failed, which process used the CPU and whether the
// machine was saturated.
func printBound(w io.Writer, cfg config, outs []*stepOutcome) {
	fmt.Fprintf(w, "\n### What bounds the rate\n\n")
	var best *stepOutcome
	for _, o := range outs {
		if o.pass && (best == nil || o.offered() > best.offered()) {
			best = o
		}
	}
	if best != nil {
		r := best.res
		fmt.Fprintf(w, "Highest sustained: %d senders × %s msg/s = %s msg/s offered, %s deliveries/s (rooms of %d), e2e p99 %s ms.\n",
			r.Spec.Senders, fmtRate(r.Spec.Rate), fmtRate(best.offered()), fmtRate(float64(r.Expected)/r.SendWindow.Seconds()),
			(cfg.conns+cfg.rooms-1)/cfg.rooms, fmtMs(r.Latency.P99, r.Latency.N))
	} else {
		fmt.Fprintln(w, "No step was sustained.")
	}
	cores := float64(runtime.NumCPU())
	for _, o := range outs {
		if o.pass {
			continue
		}
		cc := categories(o.send)
		keys := slices.Sorted(maps.Keys(cc))
		slices.SortFunc(keys, func(a, b string) int {
			switch {
			case cc[a] > cc[b]:
				return -1
			case cc[a] < cc[b]:
				return 1
			}
			return 0
		})
		var top []string
		for _, k := range keys[:min(3, len(keys))] {
			top = append(top, fmt.Sprintf("%s %.2f cores", catLabel(k), o.send.cores(cc[k])))
		}
		busy := o.send.cores(o.send.machine)
		state := fmt.Sprintf("the machine was CPU-saturated (%.2f of %.0f cores busy)", busy, cores)
		if busy < 0.9*cores {
			state = fmt.Sprintf("the machine was NOT CPU-saturated (%.2f of %.0f cores busy)", busy, cores)
		}
		f := o.fns["chat"]
		fmt.Fprintf(w, "- %s %s/s (%s msg/s offered): %s; largest: %s; chat: %d processes, %d invocations in the step (%s/s), duration p50 %s ms → at most %s invocations/s with %d processes. Failed because: %s.\n",
			o.res.Spec.Name, fmtRate(o.res.Spec.Rate), fmtRate(o.offered()), state, strings.Join(top, ", "),
			o.procs["chat"], f.count, fmtRate(float64(f.count)/o.whole.wall.Seconds()), fmtMs(f.duration.P50, f.duration.N),
			fmtRate(float64(max(o.procs["chat"], 1))*1000/max(f.duration.P50, 0.001)), max(o.procs["chat"], 1), o.reason)
	}
}

// printCapacity prints the capacity probe.
func printCapacity(w io.Writer, rows []capacityRow) {
	t := newTable("DynamoDB capacity per request (DynamoDB Local's accounting, items written by the run)", "request", "units", "kind", "item size", "note")
	for _, r := range rows {
		kind := "RRU"
		if r.write {
			kind = "WRU"
		}
		t.add(r.request, fmt.Sprintf("%g", r.units), kind, fmt.Sprintf("%d B", r.bytes), r.note)
	}
	t.note("sendmessage = GetItem connection + GetItem rate bucket + UpdateItem rate bucket + GetItem membership + PutItem message + Query byRoom (+ one @connections POST per other member). On-demand: a strongly consistent read is 1 RRU per 4 KB, an eventually consistent one 0.5; a write 1 WRU per 1 KB; a Query sums the items' sizes before rounding.")
	t.print(w)
}

// sizes are the memory sizes the advice weighs, in MB.
var sizes = []int{128, 256, 512, 1024}

// vcpuMB is the memory size at which Lambda gives a function one full vCPU.
const vcpuMB = 1769

// cpuBudget is the CPU-bound time per invocation that the recommended size keeps within.
const cpuBudget = 30 * time.Millisecond

// cpuPath is one code path's measured CPU per invocation.
type cpuPath struct {
	handler, path string
	ms            float64 // CPU ms per invocation, -1 when not measured
	n             int
}

// measuredPaths returns the CPU per invocation of each handler's paths: the authorizer and
// connect over the connect phase, chat's joinroom over the connect phase and its sendmessage
// over the steps, disconnect over the churn.
func measuredPaths(outs []*stepOutcome, connect, closing phaseUse) []cpuPath {
	per := func(sec float64, n int) float64 {
		if n == 0 {
			return -1
		}
		return sec * 1000 / float64(n)
	}
	var sendSec float64
	sendN := 0
	for _, o := range outs {
		sendSec += categories(o.whole)["fn:chat"]
		sendN += o.fns["chat"].count
	}
	return []cpuPath{
		{"authorizer", "verify the JWT ($connect)", per(connect.cpu["fn:authorizer"], connect.count["authorizer"]), connect.count["authorizer"]},
		{"connect", "PutItem connection", per(connect.cpu["fn:connect"], connect.count["connect"]), connect.count["connect"]},
		{"chat", "joinroom (+ presence fan-out)", per(connect.cpu["fn:chat"], connect.count["chat"]), connect.count["chat"]},
		{"chat", "sendmessage (+ fan-out)", per(sendSec, sendN), sendN},
		{"disconnect", "Query ×2 + BatchWriteItem + presence fan-out", per(closing.cpu["fn:disconnect"], closing.count["disconnect"]), closing.count["disconnect"]},
		{"default", "unknown_action", -1, 0},
	}
}

// printMemoryAdvice recommends a memory size per function from the footprint and the load.
func printMemoryAdvice(w io.Writer, cfg config, fps []footprint, env *local.Env, sink *reportSink, handlers map[string]string, outs []*stepOutcome, connect, closing phaseUse) {
	byHandler := map[string]footprint{}
	for _, f := range fps {
		byHandler[f.handler] = f
	}
	peak := map[string]int{}
	now := map[string]int{}
	for _, fn := range env.Stack.SortedFunctions() {
		peak[handlers[fn.Name]] = sink.totals(fn.Name).peakMemMB
		now[handlers[fn.Name]] = fn.MemoryMB
	}
	mode := "under qemu-user: inflated several times over native (qemu translates arm64 to x86-64), so the CPU-bound times overstate; run with -native for the figures to size by"
	if cfg.native {
		mode = "natively on this machine's x86-64 cores, taken as close to a Graviton core's"
	}
	header := []string{"handler", "path", "invocations", "CPU ms / invocation"}
	for _, m := range sizes {
		header = append(header, fmt.Sprintf("CPU-bound ms at %d MB", m))
	}
	header = append(header, "peak RSS under load", "now", "recommended")
	t := newTable("Memory size per function", header...)
	for _, p := range measuredPaths(outs, connect, closing) {
		row := []string{p.handler, p.path, fmt.Sprintf("%d", p.n), "-"}
		if p.ms >= 0 {
			row[3] = fmt.Sprintf("%.2f", p.ms)
		}
		for _, m := range sizes {
			if p.ms < 0 {
				row = append(row, "-")
				continue
			}
			row = append(row, fmt.Sprintf("%.0f", p.ms*vcpuMB/float64(m)))
		}
		rss := fmt.Sprintf("%d MB", peak[p.handler])
		if f, ok := byHandler[p.handler]; ok && f.memNative > 0 {
			rss += fmt.Sprintf(" (idle native %d MB)", f.memNative)
		}
		rec := recommend(p, cpuBudget)
		if !cfg.native {
			rec = "size by the -native run"
		}
		row = append(row, rss, fmt.Sprintf("%d MB", now[p.handler]), rec)
		t.add(row...)
	}
	t.note("CPU per invocation measured %s, over the phase named (the processes' CPU ÷ the invocations). Lambda gives CPU in proportion to memory (%d MB = 1 vCPU): the CPU-bound part of an invocation takes CPU ms × %d ÷ MB, and costs the same GB-s at every size below 1 vCPU (time × memory is constant), while the time spent waiting on DynamoDB and @connections costs in proportion to memory. So the size is chosen for latency, not memory (every handler peaks far below 128 MB): the smallest size whose CPU-bound part stays within %v on the paths a user waits on; more only adds cost to the network wait. The chat function serves both joinroom and sendmessage: the larger of the two applies.",
		mode, vcpuMB, vcpuMB, cpuBudget)
	t.print(w)
}

// recommend returns the smallest size whose CPU-bound part is within budget, for the paths
// someone waits on; 128 MB for the others.
func recommend(p cpuPath, budget time.Duration) string {
	switch {
	case p.handler == "default":
		return "128 MB (no I/O, not loaded)"
	case p.ms < 0:
		return "not measured"
	case p.handler == "disconnect":
		return "128 MB (nobody waits on $disconnect)"
	}
	for _, m := range sizes {
		if p.ms*vcpuMB/float64(m) <= millis(budget) {
			return fmt.Sprintf("%d MB", m)
		}
	}
	return fmt.Sprintf("> %d MB", sizes[len(sizes)-1])
}
