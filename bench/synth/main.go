// Command synth prints the construct's synth figures: the reference app's warm synth time
// against an empty Go CDK app (one stack, one bucket), and synth time, resource count and
// template size against the number of routes on the chat function.
//
//	go run ./bench/synth [-runs 5] [-validation]
//
// Each app is built once, then run as `cdk synth` runs it (a fresh process, CDK_OUTDIR set);
// runs alternate between apps so machine noise hits both alike, and medians are reported.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

func main() {
	runs := flag.Int("runs", 5, "synths per app")
	validation := flag.Bool("validation", false, "keep aws-cdk-lib's built-in template validation on (costs seconds per synth)")
	flag.Parse()
	if err := run(*runs, *validation); err != nil {
		fmt.Fprintln(os.Stderr, "synth:", err)
		os.Exit(1)
	}
}

func run(runs int, validation bool) error {
	dir, err := os.MkdirTemp("", "synthbench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bins := map[string]string{}
	for name, pkg := range map[string]string{"reference": "./app", "empty": "./bench/emptyapp", "routes": "./bench/routesapp"} {
		bins[name] = filepath.Join(dir, name)
		if out, err := exec.Command("go", "build", "-o", bins[name], pkg).CombinedOutput(); err != nil {
			return fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
		}
	}
	env := []string{}
	if !validation {
		env = append(env, "CDK_VALIDATION=false")
	}
	fmt.Printf("validation: %v, %d runs each, %s\n\n", validation, runs, machine())

	// Warm the bundle cache and the OS page cache once.
	if _, err := synth(bins["reference"], dir, env); err != nil {
		return err
	}
	var ref, empty []time.Duration
	for i := 0; i < runs; i++ {
		d, err := synth(bins["empty"], dir, env)
		if err != nil {
			return err
		}
		empty = append(empty, d)
		if d, err = synth(bins["reference"], dir, env); err != nil {
			return err
		}
		ref = append(ref, d)
	}
	r, e := median(ref), median(empty)
	fmt.Printf("reference app synth   median %6.2f s  (runs %s)\n", r.Seconds(), list(ref))
	fmt.Printf("empty app synth       median %6.2f s  (runs %s)\n", e.Seconds(), list(empty))
	fmt.Printf("ratio reference/empty        %6.2f  (target <= 1.30)\n\n", r.Seconds()/e.Seconds())

	fmt.Println("routes  resources  template KB  permissions  synth median s")
	for _, n := range []int{10, 100, 300} {
		var times []time.Duration
		var res, perms, size int
		for i := 0; i < runs; i++ {
			out := filepath.Join(dir, fmt.Sprintf("routes%d", n))
			d, err := synth(bins["routes"], out, append(env, fmt.Sprintf("ROUTES=%d", n)))
			if err != nil {
				return err
			}
			times = append(times, d)
			if res, perms, size, err = countTemplate(filepath.Join(out, "cdk.out", "Routes.template.json")); err != nil {
				return err
			}
		}
		fmt.Printf("%6d  %9d  %11.1f  %11d  %14.2f\n", n, res, float64(size)/1024, perms, median(times).Seconds())
	}
	return nil
}

// synth runs an app binary the way the CDK CLI does and returns its wall time.
func synth(bin, dir string, env []string) (time.Duration, error) {
	out := filepath.Join(dir, "cdk.out")
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), append(env, "CDK_OUTDIR="+out)...)
	start := time.Now()
	b, err := cmd.CombinedOutput()
	d := time.Since(start)
	if err != nil {
		return 0, fmt.Errorf("%s: %v\n%s", filepath.Base(bin), err, b)
	}
	return d, nil
}

func countTemplate(path string) (resources, permissions, size int, err error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return 0, 0, 0, err
	}
	var tpl struct {
		Resources map[string]struct{ Type string } `json:"Resources"`
	}
	if err := json.Unmarshal(raw, &tpl); err != nil {
		return 0, 0, 0, err
	}
	for _, r := range tpl.Resources {
		if r.Type == "AWS::Lambda::Permission" {
			permissions++
		}
	}
	return len(tpl.Resources), permissions, len(raw), nil
}

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

func list(ds []time.Duration) string {
	var parts []string
	for _, d := range ds {
		parts = append(parts, fmt.Sprintf("%.2f", d.Seconds()))
	}
	return strings.Join(parts, " ")
}

func machine() string {
	out, _ := exec.Command("nproc").Output()
	return strings.TrimSpace(string(out)) + " cores"
}
