// Command largeroom prints the figures of the large-room path (rooms above
// Options.LargeRoomThreshold are acknowledged as queued and delivered by shard jobs through
// the publish queue) as tables:
//
//   - the sender's ack latency (p50, p99 over -sends sends) for rooms of -sizes members, with
//     the default threshold (1,000): small rooms inline, large rooms queued; and the ratio of
//     the largest room's ack to the smallest's (target: at most 2);
//
//   - the broadcast's completion time (from the send until every member was posted to) for
//     rooms of -completion members, with the shard jobs run by W concurrent workers for each
//     of -workers (W publish invocations, one job each), and what it read from DynamoDB: as
//     DynamoDB Local reported it and by AWS's formula from the items each Query page returned;
//
//   - how long writing the rooms took.
//
//     go run ./bench/largeroom [-latency 10ms] [-sizes 10,1000,10000,100000] [-sends 50]
//     [-completion 1000,10000,100000] [-workers 1,8,32] [-enqueue-latency 10ms] [-max 100000]
//
// It runs BenchmarkLargeRoom of internal/chat (large_bench_test.go) with `go test`: DynamoDB
// Local with the real table, the real dynamostore.Store, the real @connections client against
// a local server answering every POST after -latency, and an in-process publish queue (each
// SendMessageBatch call of up to ten jobs takes -enqueue-latency) consumed by W goroutines
// calling chat.Service.RunShardJob. -max drops the sizes above it (-max 10000 skips the
// 100,000-member room, whose 100,000 connections and memberships take most of the setup).
// A default run takes 3.5 to 6 minutes on 2 cores; it needs what `make test` needs (Go, Java 17,
// DynamoDB Local from `npm ci`).
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/chatstack/websocketchatapi/bench/internal/benchrun"
)

// chatPackage is the package whose benchmark is run, relative to the module root.
const chatPackage = "./internal/chat"

// ackTarget is the most the largest room's ack may take, as a multiple of the smallest's.
const ackTarget = 2.0

func main() {
	latency := flag.Duration("latency", 10*time.Millisecond, "time the @connections server takes to answer each POST")
	sizes := flag.String("sizes", "10,1000,10000,100000", "comma-separated room sizes of the ack table")
	sends := flag.Int("sends", 50, "measured sends per row of the ack table (after one warm-up)")
	completion := flag.String("completion", "1000,10000,100000", "comma-separated room sizes of the completion table")
	workers := flag.String("workers", "1,8,32", "comma-separated worker counts (concurrent publish invocations) of the completion table")
	queuedThreshold := flag.Int("queued-threshold", 500, "also run the completion rooms at or under the default threshold queued at this threshold (0: no)")
	enqueue := flag.Duration("enqueue-latency", 10*time.Millisecond, "time one SendMessageBatch to the publish queue takes")
	maxSize := flag.Int("max", 100000, "drop room sizes above this")
	verbose := flag.Bool("v", false, "copy go test's output to stderr as it comes")
	flag.Parse()

	ackSizes, err := ints(*sizes, *maxSize)
	if err == nil {
		_, err = ints(*workers, 0)
	}
	var doneSizes string
	if err == nil {
		var cs []int
		cs, err = ints(*completion, *maxSize)
		doneSizes = join(cs)
	}
	if err == nil && *sends < 1 {
		err = fmt.Errorf("-sends %d: want >= 1", *sends)
	}
	if err == nil && (*latency <= 0 || *enqueue < 0) {
		err = errors.New("-latency: want > 0; -enqueue-latency: want >= 0")
	}
	if err == nil {
		err = run(*latency, *enqueue, join(ackSizes), doneSizes, *workers, *sends, *queuedThreshold, *verbose)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "largeroom:", err)
		os.Exit(1)
	}
}

// ints parses a comma-separated list of positive integers and drops those above limit (when
// limit > 0).
func ints(list string, limit int) ([]int, error) {
	var out []int
	for field := range strings.SplitSeq(list, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(field))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("%q: want positive integers separated by commas", list)
		}
		if limit <= 0 || n <= limit {
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%q: no size at or under -max %d", list, limit)
	}
	return out, nil
}

func join(ns []int) string {
	var s []string
	for _, n := range ns {
		s = append(s, strconv.Itoa(n))
	}
	return strings.Join(s, ",")
}

func run(latency, enqueue time.Duration, sizes, completion, workers string, sends, queuedThreshold int, verbose bool) error {
	start := time.Now()
	var setup []string
	out, err := benchrun.Run{
		Package: chatPackage, Bench: "^BenchmarkLargeRoom$", Benchtime: "1x", Timeout: "60m", Verbose: verbose,
		Args: []string{
			"-fanout.latency", latency.String(),
			"-largeroom.sizes", sizes,
			"-largeroom.sends", strconv.Itoa(sends),
			"-largeroom.completion", completion,
			"-largeroom.workers", workers,
			"-largeroom.queued-threshold", strconv.Itoa(queuedThreshold),
			"-largeroom.enqueue-latency", enqueue.String(),
		},
		OnLine: func(line string) {
			if m := setupLine.FindStringSubmatch(line); m != nil {
				setup = append(setup, fmt.Sprintf("%s members: %s", m[1], m[2]))
				if !verbose {
					fmt.Fprintf(os.Stderr, "setup: %s members written in %s\n", m[1], m[2])
				}
			}
		},
	}.Do()
	if err != nil {
		return err
	}
	res := parse(out)
	res.setup = setup
	printTables(os.Stdout, res, latency, enqueue, time.Since(start))
	return nil
}

// result is what the benchmark output says.
type result struct {
	cpu   string
	acks  []row
	done  []row
	setup []string // "N members: duration"
}

// row is one result line: its name's parameters and its metrics by unit.
type row struct {
	members, threshold, workers int
	metrics                     map[string]float64
}

var (
	ackName   = regexp.MustCompile(`/ack/members=(\d+)$`)
	doneName  = regexp.MustCompile(`/completion/members=(\d+)/threshold=(\d+)/workers=(\d+)$`)
	setupLine = regexp.MustCompile(`setup: wrote (\d+) connections and memberships of room \S+ in (\S+)`)
)

// parse sorts the result lines into the two tables.
func parse(out benchrun.Result) result {
	res := result{cpu: out.CPU}
	for _, b := range out.Benchmarks {
		rw := row{metrics: b.Metrics}
		if p := ackName.FindStringSubmatch(b.Name); p != nil {
			rw.members, _ = strconv.Atoi(p[1])
			res.acks = append(res.acks, rw)
		} else if p := doneName.FindStringSubmatch(b.Name); p != nil {
			rw.members, _ = strconv.Atoi(p[1])
			rw.threshold, _ = strconv.Atoi(p[2])
			rw.workers, _ = strconv.Atoi(p[3])
			res.done = append(res.done, rw)
		}
	}
	return res
}

// printTables writes the figures.
func printTables(w io.Writer, res result, latency, enqueue time.Duration, took time.Duration) {
	cpu := res.cpu
	if cpu == "" {
		cpu = "unknown CPU"
	}
	fmt.Fprintf(w, "\n@connections answers after %v; a SendMessageBatch to the in-process publish queue takes %v;\n", latency, enqueue)
	fmt.Fprintf(w, "DynamoDB Local; default threshold 1000, fan-out concurrency 32, page size 100, 8 shards, 2000 members per job.\n")
	fmt.Fprintf(w, "machine: %s/%s, nproc %d, %s, %s\n", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), cpu, runtime.Version())

	if len(res.acks) > 0 {
		fmt.Fprintf(w, "\nSender's ack (chat.Service.Handle of a sendmessage), queued shard jobs dropped:\n\n")
		fmt.Fprintf(w, "%8s %7s %6s %8s %8s %10s %12s %10s %7s %5s\n",
			"members", "path", "sends", "p50 ms", "p99 ms", "p50 ×10m", "RCU AWS(Q)", "RCU Local", "pages", "jobs")
		base := res.acks[0].metrics["p50-ns"]
		for _, r := range res.acks {
			m := r.metrics
			path := "inline"
			if m["jobs/send"] > 0 {
				path = "queued"
			}
			fmt.Fprintf(w, "%8d %7s %6.0f %8.1f %8.1f %10.2f %12.1f %10.1f %7.1f %5.0f\n",
				r.members, path, m["sends"], m["p50-ns"]/1e6, m["p99-ns"]/1e6, m["p50-ns"]/base,
				m["RCU-aws-query/send"], m["RCU-local/send"], m["pages/send"], m["jobs/send"])
		}
		first, last := res.acks[0], res.acks[len(res.acks)-1]
		if len(res.acks) > 1 {
			p50 := last.metrics["p50-ns"] / first.metrics["p50-ns"]
			p99 := last.metrics["p99-ns"] / first.metrics["p99-ns"]
			verdict := "met"
			if p50 > ackTarget {
				verdict = "NOT met"
			}
			fmt.Fprintf(w, "ack of %d members ÷ ack of %d: p50 %.2f, p99 %.2f; target p50 <= %.0f: %s\n",
				last.members, first.members, p50, p99, ackTarget, verdict)
		}
		fmt.Fprintf(w, "RCU AWS(Q): the Queries' eventually consistent read units by AWS's formula (per page: items' sizes summed, 4 KB units, halved);\n")
		fmt.Fprintf(w, "RCU Local: every read as DynamoDB Local reported it (the Queries and the sender's strongly consistent GetItems).\n")
	}

	if len(res.done) > 0 {
		fmt.Fprintf(w, "\nBroadcast completion (send → every member posted to once), jobs run by W workers, one job each:\n\n")
		fmt.Fprintf(w, "%8s %9s %7s %5s %5s %8s %11s %9s %8s %6s %12s %10s\n",
			"members", "threshold", "workers", "busy", "jobs", "ack ms", "complete s", "posts/s", "items", "pages", "RCU AWS(Q)", "RCU Local")
		for _, r := range res.done {
			m := r.metrics
			wk := strconv.Itoa(r.workers)
			if r.workers == 0 {
				wk = "inline"
			}
			fmt.Fprintf(w, "%8d %9d %7s %5.0f %5.0f %8.1f %11.2f %9.0f %8.0f %6.0f %12.1f %10.1f\n",
				r.members, r.threshold, wk, m["max-workers-busy"], m["jobs"], m["ack-ns"]/1e6, m["complete-ns"]/1e9, m["posts/s"],
				m["items-read"], m["pages"], m["RCU-aws-query"], m["RCU-local"])
		}
		fmt.Fprintf(w, "busy: the most workers that ran a job at once (a shard's next job is queued when its job ends: 8 at most)\n")
		fmt.Fprintf(w, "items: index entries read (the probe: threshold/8+1 a shard, more only from uneven shards; then the jobs: pages of 100)\n")
	}
	if len(res.setup) > 0 {
		fmt.Fprintf(w, "\nSetup (BatchWriteItem, 24 items (12 members) a call, 16 calls in flight; a connection item and a membership per member): %s\n",
			strings.Join(res.setup, ", "))
	}
	fmt.Fprintf(w, "whole run: %v\n", took.Round(time.Second))
}
