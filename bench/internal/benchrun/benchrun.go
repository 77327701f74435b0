// Package benchrun runs one package's Go benchmarks from the module root, as the bench/
// commands do, and reads their result lines: `go test <package> -run ^$ -bench <pattern>
// -benchtime <n> -count 1 -args ...`, its standard output read as it comes (copied to stderr
// with Verbose, else a "done: <benchmark>" line a result), its standard error kept for the
// error of a failed run.
package benchrun

import (
	"bufio"
	"cmp"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// Run says what to run. Package, Bench and Benchtime are required.
type Run struct {
	// Package is the package path relative to the module root, e.g. "./internal/chat".
	Package string
	// Bench is the -bench pattern, Benchtime the -benchtime value ("5x").
	Bench, Benchtime string
	// Timeout is go test's -timeout. Default 30m.
	Timeout string
	// Args follow -args: the benchmarks' own flags.
	Args []string
	// Verbose copies every output line to stderr.
	Verbose bool
	// OnLine, if set, is called with every output line as it comes (for progress lines of the
	// benchmark's own).
	OnLine func(line string)
}

// Result is what the run printed.
type Result struct {
	// CPU is go test's "cpu:" line.
	CPU string
	// Benchmarks are the result lines, in order.
	Benchmarks []Benchmark
}

// Benchmark is one result line.
type Benchmark struct {
	// Name is the benchmark's full name without its -GOMAXPROCS suffix.
	Name string
	// Metrics are the line's values by unit ("ns/op", and the benchmark's own).
	Metrics map[string]float64
}

// benchLine matches a result line: name, iterations, metrics.
var benchLine = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+(\d+)\s+(.+)$`)

// Do runs the benchmarks. It fails when go test fails or prints no result line.
func (r Run) Do() (res Result, err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("go test %s: %w", r.Package, err)
		}
	}()
	root, err := ModuleRoot()
	if err != nil {
		return res, err
	}
	args := append([]string{"test", r.Package, "-run", "^$", "-bench", r.Bench, "-benchtime", r.Benchtime,
		"-count", "1", "-timeout", cmp.Or(r.Timeout, "30m"), "-args"}, r.Args...)
	fmt.Fprintf(os.Stderr, "running go %s\n", strings.Join(args, " "))
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	out, err := cmd.StdoutPipe()
	if err != nil {
		return res, err
	}
	var log strings.Builder
	cmd.Stderr = &log
	if err := cmd.Start(); err != nil {
		return res, err
	}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		r.line(&res, &log, sc.Text())
	}
	scanErr := sc.Err()
	if err := cmd.Wait(); err != nil {
		return res, fmt.Errorf("%w\n%s", err, log.String())
	}
	if scanErr != nil {
		return res, fmt.Errorf("read the output: %w", scanErr)
	}
	if len(res.Benchmarks) == 0 {
		return res, fmt.Errorf("no benchmark result:\n%s", log.String())
	}
	return res, nil
}

// line takes one output line.
func (r Run) line(res *Result, log *strings.Builder, line string) {
	log.WriteString(line + "\n")
	if r.Verbose {
		fmt.Fprintln(os.Stderr, line)
	}
	if r.OnLine != nil {
		r.OnLine(line)
	}
	if cpu, ok := strings.CutPrefix(line, "cpu: "); ok {
		res.CPU = strings.TrimSpace(cpu)
		return
	}
	if m := benchLine.FindStringSubmatch(line); m != nil {
		res.Benchmarks = append(res.Benchmarks, Benchmark{Name: m[1], Metrics: metrics(m[3])})
		if !r.Verbose {
			fmt.Fprintf(os.Stderr, "done: %s\n", m[1])
		}
	}
}

// metrics reads "value unit" pairs.
func metrics(s string) map[string]float64 {
	out := map[string]float64{}
	f := strings.Fields(s)
	for i := 0; i+1 < len(f); i += 2 {
		if v, err := strconv.ParseFloat(f[i], 64); err == nil {
			out[f[i+1]] = v
		}
	}
	return out
}

// ModuleRoot returns the directory of the main module's go.mod.
func ModuleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("not inside the module: run from the repository")
	}
	return filepath.Dir(gomod), nil
}
