package main

import (
	"context"
	"debug/buildinfo"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/chatstack/websocketchatapi/integ/internal/assembly"
	"github.com/chatstack/websocketchatapi/integ/internal/lambdaemu"
	"github.com/chatstack/websocketchatapi/internal/contract"
)

// Cold starts per handler that the footprint measures.
const (
	nativeInitRuns = 10
	qemuInitRuns   = 3
)

// footprint is one handler's size, init time and idle memory, natively and under qemu.
type footprint struct {
	handler   string
	memoryMB  int   // configured MemorySize
	assetSize int64 // the arm64 bootstrap of the asset folder: what is uploaded
	hostSize  int64 // the same package built for this machine
	goVersion string
	// initNative and initQemu are the init phases (process start to first /next) of fresh
	// processes, natively and under qemu-user.
	initNative, initQemu quantiles
	// memNative and memQemu are the peak resident sets (VmHWM, MB) after one invocation.
	memNative, memQemu int
}

// measureFootprint measures every function of st: sizes from the asset folders, and runs
// cold starts of each handler (nativeInitRuns natively from a lambdaemu.BuildHost build of
// lambdas/<handler>, qemuInitRuns from the asset's arm64 bootstrap under qemu-user when this
// machine is not arm64), each in a fresh emulator, as BenchmarkColdStart of package lambdaemu
// does. The functions get the template's environment; the authorizer's JWKS URL names a
// local server (the handlers reach no other endpoint during init).
func measureFootprint(ctx context.Context, root string, st *assembly.Stack, buildDir string) ([]footprint, error) {
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"keys":[]}`))
	}))
	defer jwks.Close()
	var out []footprint
	for _, fn := range st.SortedFunctions() {
		asset := filepath.Join(fn.Code.AssetDir, lambdaemu.BootstrapName)
		h, err := handlerOf(asset)
		if err != nil {
			return nil, fmt.Errorf("footprint: function %s: %w", fn.LogicalID, err)
		}
		fp := footprint{handler: h, memoryMB: fn.MemoryMB}
		if fi, err := os.Stat(asset); err == nil {
			fp.assetSize = fi.Size()
		}
		if info, err := buildinfo.ReadFile(asset); err == nil {
			fp.goVersion = info.GoVersion
		}
		env := maps.Clone(fn.Environment)
		if _, ok := env[contract.EnvAuthIssuer]; ok {
			env[contract.EnvAuthJWKSURL] = jwks.URL
		}
		hostDir := filepath.Join(buildDir, h)
		bin, err := lambdaemu.BuildHost(ctx, filepath.Join(root, "lambdas", h), hostDir)
		if err != nil {
			return nil, fmt.Errorf("footprint: %w", err)
		}
		if fi, err := os.Stat(bin); err == nil {
			fp.hostSize = fi.Size()
		}
		fp.initNative, fp.memNative, err = coldStarts(ctx, h, hostDir, "", env, fn, nativeInitRuns)
		if err != nil {
			return nil, fmt.Errorf("footprint: %s natively: %w", h, err)
		}
		interp, err := lambdaemu.FindInterpreter(fn.Architecture)
		if err != nil {
			return nil, fmt.Errorf("footprint: %w", err)
		}
		if interp != "" {
			fp.initQemu, fp.memQemu, err = coldStarts(ctx, h, fn.Code.AssetDir, interp, env, fn, qemuInitRuns)
			if err != nil {
				return nil, fmt.Errorf("footprint: %s under qemu: %w", h, err)
			}
		}
		out = append(out, fp)
	}
	return out, nil
}

// coldStarts starts the bootstrap in dir runs times, each time in a fresh emulator with one
// invocation of {}, and returns the init durations and the largest peak memory reported.
func coldStarts(ctx context.Context, name, dir, interpreter string, env map[string]string, fn *assembly.Function, runs int) (quantiles, int, error) {
	var inits []float64
	peak := 0
	for range runs {
		em := lambdaemu.New(lambdaemu.Options{
			Credentials: lambdaemu.Credentials{AccessKeyID: "AKIALOCALFOOTPRINT", SecretAccessKey: "footprint"},
			Env:         map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:1"},
		})
		err := em.Add(lambdaemu.Function{
			Name:        name,
			Dir:         dir,
			Environment: env,
			Timeout:     5 * time.Second,
			MemorySize:  fn.MemoryMB,
			Interpreter: interpreter,
		})
		if err != nil {
			_ = em.Close()
			return quantiles{}, 0, err
		}
		res, err := em.Invoke(ctx, name, []byte(`{}`))
		cerr := em.Close()
		if err != nil {
			return quantiles{}, 0, err
		}
		if cerr != nil {
			return quantiles{}, 0, cerr
		}
		if res.Err != nil && res.Err.Init {
			return quantiles{}, 0, fmt.Errorf("init failed: %v\n%s", res.Err, res.Log)
		}
		inits = append(inits, millis(res.InitDuration))
		peak = max(peak, reportedMemory(res.Log))
	}
	return summarize(inits), peak, nil
}

// reportedMemory reads "Max Memory Used: N MB" from an invocation's log.
func reportedMemory(log string) int {
	for line := range strings.SplitSeq(log, "\n") {
		if !strings.HasPrefix(line, "REPORT ") {
			continue
		}
		for field := range strings.SplitSeq(line, "\t") {
			if v, ok := strings.CutPrefix(field, "Max Memory Used: "); ok {
				n, _ := strconv.Atoi(strings.TrimSuffix(v, " MB"))
				return n
			}
		}
	}
	return 0
}
