package bundling

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// ownHandlers returns the folders of this checkout's handlers (lambdas/*/ holding a main.go).
func ownHandlers(tb testing.TB) []Request {
	tb.Helper()
	wd, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	root, err := moduleRoot(wd)
	if err != nil {
		tb.Fatal(err)
	}
	mains, err := filepath.Glob(filepath.Join(root, "lambdas", "*", "main.go"))
	if err != nil || len(mains) == 0 {
		tb.Fatalf("no handlers in %s/lambdas (%v)", root, err)
	}
	reqs := make([]Request, len(mains))
	for i, m := range mains {
		reqs[i] = Request{Dir: filepath.Dir(m)}
	}
	return reqs
}

// BenchmarkBuildWarm measures what every synth pays when no handler changed: Build of all of
// this checkout's handlers, all found in the cache.
func BenchmarkBuildWarm(b *testing.B) {
	reqs := ownHandlers(b)
	opts := Options{CacheRoot: b.TempDir()}
	ctx := context.Background()
	if _, err := Build(ctx, opts, reqs...); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(len(reqs)), "handlers")
	for b.Loop() {
		res, err := Build(ctx, opts, reqs...)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range res {
			if !r.Cached {
				b.Fatalf("%s was rebuilt", r.ImportPath)
			}
		}
	}
}

// BenchmarkBuildRelink measures Build of all of this checkout's handlers into an empty cache
// when the go build cache is warm: what a change to a package they share costs.
func BenchmarkBuildRelink(b *testing.B) {
	reqs := ownHandlers(b)
	ctx := context.Background()
	if _, err := Build(ctx, Options{CacheRoot: b.TempDir()}, reqs...); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(len(reqs)), "handlers")
	for b.Loop() {
		res, err := Build(ctx, Options{CacheRoot: b.TempDir()}, reqs...)
		if err != nil {
			b.Fatal(err)
		}
		if res[0].Cached {
			b.Fatal("built into an empty cache, yet cached")
		}
	}
}
