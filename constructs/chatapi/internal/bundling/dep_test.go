package bundling

import (
	"bytes"
	"context"
	"debug/elf"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/module"
	modzip "golang.org/x/mod/zip"
)

// fakeVersion is the version of this module in the test's file proxy.
const fakeVersion = "v0.0.1"

// TestBuildAsDependency builds a handler of this module when the module is a dependency of a
// user's app: its sources then sit in a fresh, read-only module cache.
func TestBuildAsDependency(t *testing.T) {
	if testing.Short() {
		t.Skip("downloads this module's dependencies into a fresh module cache")
	}
	ctx := context.Background()
	src := copyModule(t, t.TempDir())

	// A file proxy serving this module at fakeVersion.
	proxy := t.TempDir()
	escaped, err := module.EscapePath(ModulePath)
	if err != nil {
		t.Fatal(err)
	}
	vdir := filepath.Join(proxy, filepath.FromSlash(escaped), "@v")
	gomod, err := os.ReadFile(filepath.Join(src, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(vdir, fakeVersion+".mod"), string(gomod))
	writeFile(t, filepath.Join(vdir, fakeVersion+".info"), `{"Version":"`+fakeVersion+`","Time":"2026-01-01T00:00:00Z"}`)
	writeFile(t, filepath.Join(vdir, "list"), fakeVersion+"\n")
	var zip bytes.Buffer
	if err := modzip.CreateFromDir(&zip, module.Version{Path: ModulePath, Version: fakeVersion}, src); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(vdir, fakeVersion+".zip"), zip.String())

	// A fresh module cache; the existing one serves the dependencies offline.
	origCache, err := newRunner(Options{}).goEnvValue(ctx, src, "GOMODCACHE")
	if err != nil {
		t.Fatal(err)
	}
	modCache := t.TempDir()
	t.Cleanup(func() { makeWritable(t, modCache) }) // runs before the TempDir removal
	env := []string{
		"GOPROXY=file://" + filepath.ToSlash(proxy) + ",file://" + filepath.ToSlash(filepath.Join(origCache, "cache", "download")),
		"GOMODCACHE=" + modCache,
		"GOSUMDB=off",
		"GONOSUMDB=",
		"GOPRIVATE=",
		"GOFLAGS=-mod=mod",
		"GOTOOLCHAIN=local",
	}
	r := newRunner(Options{Env: env})

	// The user's app requires this module.
	app := t.TempDir()
	writeFile(t, filepath.Join(app, "go.mod"), "module example.com/app\n\ngo 1.26\n")
	writeFile(t, filepath.Join(app, "main.go"), "package main\n\nimport \"github.com/chatstack/websocketchatapi/protocol\"\n\nfunc main() { println(protocol.ActionSendMessage) }\n")
	start := time.Now()
	if _, err := r.goCmd(ctx, app, nil, "get", ModulePath+"/protocol@"+fakeVersion); err != nil {
		t.Fatal(err)
	}
	t.Logf("go get: %v", time.Since(start))

	located, err := LocateModuleWith(ctx, Options{Env: env}, app)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(modCache, ModulePath+"@"+fakeVersion); located != want {
		t.Fatalf("located %s, want %s", located, want)
	}
	if st, err := os.Stat(located); err != nil || st.Mode().Perm()&0o222 != 0 {
		t.Errorf("located folder %s: %v, %v: want a read-only folder", located, st.Mode(), err)
	}

	// A vendoring app: go list -m knows the version but gives no folder.
	vendored := t.TempDir()
	if err := os.CopyFS(vendored, os.DirFS(app)); err != nil {
		t.Fatal(err)
	}
	if _, err := r.goCmd(ctx, vendored, nil, "mod", "vendor"); err != nil {
		t.Fatal(err)
	}
	var logged []string
	logf := func(format string, args ...any) { logged = append(logged, fmt.Sprintf(format, args...)) }
	located2, err := LocateModuleWith(ctx, Options{Env: append(env[:len(env):len(env)], "GOFLAGS=-mod=vendor"), Log: logf}, vendored)
	if err != nil || located2 != located {
		t.Errorf("from a vendoring app: %q, %v; want %s", located2, err, located)
	}
	if !slices.ContainsFunc(logged, func(s string) bool { return strings.Contains(s, "go mod download") }) {
		t.Errorf("from a vendoring app, no go mod download ran: %q", logged)
	}

	start = time.Now()
	opts := Options{Env: env, CacheRoot: t.TempDir()}
	res, err := Build(ctx, opts, Request{Dir: filepath.Join(located, "lambdas", testHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("build from the module cache: %v", time.Since(start))
	boot := filepath.Join(res[0].Dir, BootstrapName)
	checkELF(t, boot, elf.EM_AARCH64)

	// The same handler built from the checkout: same hash, same bytes.
	local, err := Build(ctx, Options{CacheRoot: t.TempDir()}, Request{Dir: filepath.Join(src, "lambdas", testHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if local[0].Hash != res[0].Hash {
		t.Errorf("hash from the module cache %s, from a copy of the checkout %s", res[0].Hash, local[0].Hash)
	}
	if h := hashesOf(t, Options{}, Request{Dir: filepath.Join(repoRoot(t), "lambdas", testHandler)})[0]; h != res[0].Hash {
		t.Errorf("hash from the module cache %s, from the checkout %s (was it edited during the test?)", res[0].Hash, h)
	}
	a, errA := os.ReadFile(boot)
	b, errB := os.ReadFile(filepath.Join(local[0].Dir, BootstrapName))
	if errA != nil || errB != nil || !bytes.Equal(a, b) {
		t.Errorf("bootstraps from the module cache and the checkout differ (%v, %v)", errA, errB)
	}

	// A handler of the user's, in the user's module, importing this module (a versioned
	// dependency now) and aws-lambda-go.
	writeFile(t, filepath.Join(app, "handlers", "hello", "main.go"), `package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/chatstack/websocketchatapi/protocol"
)

func main() {
	lambda.Start(func(context.Context) (string, error) { return protocol.ActionSendMessage, nil })
}
`)
	// The version this module requires: an older one would make go get drop this module.
	lambdaVersion := requiredVersion(t, "github.com/aws/aws-lambda-go")
	if _, err := r.goCmd(ctx, app, nil, "get", "github.com/aws/aws-lambda-go/lambda@"+lambdaVersion); err != nil {
		t.Fatal(err)
	}
	user, err := Build(ctx, opts, Request{Dir: filepath.Join(app, "handlers", "hello")})
	if err != nil {
		t.Fatal(err)
	}
	if user[0].ImportPath != "example.com/app/handlers/hello" || user[0].Cached {
		t.Errorf("user handler: %+v", user[0])
	}
	checkELF(t, filepath.Join(user[0].Dir, BootstrapName), elf.EM_AARCH64)

	// A user's GOFLAGS and go.work cannot break the build in the module cache.
	work := filepath.Join(app, "go.work")
	writeFile(t, work, "go 1.26\n\nuse .\n")
	env2 := append(env[:len(env):len(env)], "GOFLAGS=-mod=vendor -tags=nosuchtag", "GOWORK="+work)
	res2, err := Build(ctx, Options{Env: env2, CacheRoot: opts.CacheRoot}, Request{Dir: filepath.Join(located, "lambdas", testHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if !res2[0].Cached || res2[0].Hash != res[0].Hash {
		t.Errorf("with the user's GOFLAGS and go.work: %+v, want cached %s", res2[0], res[0].Hash)
	}
}

// makeWritable makes a read-only module cache removable.
func makeWritable(t *testing.T, dir string) {
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.Chmod(path, 0o755)
		}
		return nil
	})
	if err != nil && !strings.Contains(err.Error(), "no such file") {
		t.Error(err)
	}
}

// requiredVersion is the version of a module that this module's go.mod requires.
func requiredVersion(t *testing.T, path string) string {
	t.Helper()
	gomod, err := readGoMod(filepath.Join(repoRoot(t), "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range gomod.Require {
		if r.Mod.Path == path {
			return r.Mod.Version
		}
	}
	t.Fatalf("go.mod does not require %s", path)
	return ""
}
