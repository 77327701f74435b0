package bundling

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestZZMeasure(t *testing.T) {
	if os.Getenv("BUNDLING_MEASURE") == "" {
		t.Skip()
	}
	root := repoRoot(t)
	var reqs []Request
	for _, n := range []string{"connect", "disconnect", "chat", "default", "authorizer"} {
		reqs = append(reqs, Request{Dir: filepath.Join(root, "lambdas", n)})
	}
	env := []string{}
	if c := os.Getenv("BUNDLING_MEASURE_GOCACHE"); c != "" {
		env = append(env, "GOCACHE="+c)
	}
	cache := t.TempDir()
	opts := Options{CacheRoot: cache, Env: env, Log: t.Logf}
	for i, label := range []string{"first", "warm", "warm2"} {
		start := time.Now()
		res, err := Build(context.Background(), opts, reqs...)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s (%d): %v cached=%v", label, i, time.Since(start), res[0].Cached)
	}
}
