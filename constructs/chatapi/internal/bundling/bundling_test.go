package bundling

import (
	"context"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// testHandler is the handler of this module the tests build (lambdas/<testHandler>). Its
// dependencies inside the module must include the protocol package.
const testHandler = "chat"

// unrelatedPkg is a package the tests add to copies of the module; no handler imports it.
const unrelatedPkg = "internal/unrelatedfortest"

// repoRoot returns the root of this module's checkout.
func repoRoot(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	root, err := moduleRoot(wd)
	if err != nil {
		t.Fatal(err)
	}
	if err := checkModuleRoot(root); err != nil {
		t.Fatal(err)
	}
	return root
}

// copyModule copies what the handlers need of this checkout (go.mod, go.sum, protocol/,
// lambdas/ and the internal/ packages the handlers import, see handlerInternalDirs) to dst, plus
// a package no handler imports, and returns dst.
func copyModule(t *testing.T, dst string) string {
	t.Helper()
	src := repoRoot(t)
	for _, name := range []string{"go.mod", "go.sum"} {
		data, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dst, name), string(data))
	}
	for _, name := range append([]string{"protocol", "lambdas"}, handlerInternalDirs(t, src)...) {
		if err := os.CopyFS(filepath.Join(dst, name), os.DirFS(filepath.Join(src, name))); err != nil {
			t.Fatalf("copying %s: %v", name, err)
		}
	}
	writeFile(t, filepath.Join(dst, unrelatedPkg, "u.go"), "package unrelatedfortest\n\nconst X = 1\n")
	return dst
}

var (
	internalDirsOnce sync.Once
	internalDirs     []string
	internalDirsErr  error
)

// handlerInternalDirs returns the folders internal/<name> (relative, sorted, without
// duplicates) of the packages under internal/ that the handlers (lambdas/...) of the checkout
// at src import, directly or not, for both Lambda targets (go list -deps, with the bundler's
// tags). It is computed once per test binary.
func handlerInternalDirs(t *testing.T, src string) []string {
	t.Helper()
	internalDirsOnce.Do(func() {
		seen := map[string]bool{}
		for _, goarch := range []string{"arm64", "amd64"} {
			out, err := newRunner(Options{}).goCmd(context.Background(), src,
				[]string{"GOOS=linux", "GOARCH=" + goarch, "CGO_ENABLED=0", "GOFLAGS=-mod=readonly"},
				"list", "-deps", "-tags", "lambda.norpc", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", "./lambdas/...")
			if err != nil {
				internalDirsErr = err
				return
			}
			for _, pkg := range strings.Fields(string(out)) {
				rel, ok := strings.CutPrefix(pkg, ModulePath+"/internal/")
				if !ok {
					continue
				}
				name, _, _ := strings.Cut(rel, "/")
				if dir := filepath.Join("internal", name); !seen[dir] {
					seen[dir] = true
					internalDirs = append(internalDirs, dir)
				}
			}
		}
		slices.Sort(internalDirs)
		if !slices.Contains(internalDirs, filepath.Join("internal", "contract")) {
			internalDirsErr = fmt.Errorf("the handlers' dependencies %v do not include internal/contract", internalDirs)
		}
	})
	if internalDirsErr != nil {
		t.Fatalf("listing the handlers' internal packages: %v", internalDirsErr)
	}
	return internalDirs
}

// writeFile writes a file, creating its folder.
func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// appendFile appends to an existing file.
func appendFile(t *testing.T, path, content string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(content); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// hashesOf returns the hashes Build would use for reqs, without building.
func hashesOf(t *testing.T, opts Options, reqs ...Request) []string {
	t.Helper()
	if opts.CacheRoot == "" {
		opts.CacheRoot = t.TempDir()
	}
	p, err := prepare(context.Background(), opts, reqs)
	if err != nil {
		t.Fatal(err)
	}
	hashes := make([]string, len(p.targets))
	for i, tg := range p.targets {
		hashes[i] = tg.hash
	}
	return hashes
}

// checkELF asserts that path is a Linux ELF executable for machine, with mode 0755.
func checkELF(t *testing.T, path string, machine elf.Machine) {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && st.Mode().Perm() != 0o755 {
		t.Errorf("%s: mode %v, want 0755", path, st.Mode().Perm())
	}
	f, err := elf.Open(path)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	defer f.Close()
	if f.Machine != machine || f.Type != elf.ET_EXEC || f.OSABI != elf.ELFOSABI_NONE {
		t.Errorf("%s: ELF machine %v type %v, want %v executable", path, f.Machine, f.Type, machine)
	}
}

// onlyBootstrap asserts that a result folder holds exactly the bootstrap file.
func onlyBootstrap(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != BootstrapName {
		t.Errorf("%s holds %v, want only %s", dir, entries, BootstrapName)
	}
}

// userModule writes a module example.com/userapp with the given files (path → content) and
// returns its folder.
func userModule(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "go.mod"), "module example.com/userapp\n\ngo 1.26\n")
	for name, content := range files {
		writeFile(t, filepath.Join(dir, name), content)
	}
	return dir
}

const helloMain = "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"hello\") }\n"

func TestHashStableAcrossCheckouts(t *testing.T) {
	a := copyModule(t, t.TempDir())
	b := copyModule(t, t.TempDir())
	req := func(root string) Request { return Request{Dir: filepath.Join(root, "lambdas", testHandler)} }
	hashA := hashesOf(t, Options{}, req(a))[0]
	hashB := hashesOf(t, Options{}, req(b))[0]
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(hashA) {
		t.Fatalf("hash %q is not hex SHA-256", hashA)
	}
	if hashA != hashB {
		t.Fatalf("same sources at two paths: hashes %s and %s differ", hashA, hashB)
	}

	// Changes that do not go into the binary keep the hash.
	appendFile(t, filepath.Join(a, "protocol", "schema_test.go"), "\n// a change in a test file\n")
	appendFile(t, filepath.Join(a, unrelatedPkg, "u.go"), "\nconst Y = 2\n")
	writeFile(t, filepath.Join(a, "protocol", "notes.txt"), "not a Go file, not embedded\n")
	if got := hashesOf(t, Options{}, req(a))[0]; got != hashA {
		t.Errorf("a test file, an unrelated package and a stray file changed the hash: %s, want %s", got, hashA)
	}

	// Changes that go into the binary change it.
	changes := []struct {
		name string
		edit func(root string)
	}{
		{"source of a dependency inside the module", func(root string) {
			appendFile(t, filepath.Join(root, "protocol", "protocol.go"), "\n// a change\n")
		}},
		{"embedded file", func(root string) {
			appendFile(t, filepath.Join(root, "protocol", "schemas", "sendmessage.json"), "\n")
		}},
		{"new file in a dependency", func(root string) {
			writeFile(t, filepath.Join(root, "protocol", "extra.go"), "package protocol\n")
		}},
		{"go directive", func(root string) {
			data, err := os.ReadFile(filepath.Join(root, "go.mod"))
			if err != nil {
				t.Fatal(err)
			}
			s := regexp.MustCompile(`(?m)^go .*$`).ReplaceAllString(string(data), "go 1.26.0\n\ngodebug default=go1.25")
			writeFile(t, filepath.Join(root, "go.mod"), s)
		}},
	}
	seen := map[string]string{hashA: "original"}
	for _, c := range changes {
		root := copyModule(t, t.TempDir())
		c.edit(root)
		got := hashesOf(t, Options{}, req(root))[0]
		if prev, dup := seen[got]; dup {
			t.Errorf("%s: hash %s, the same as %s", c.name, got, prev)
		}
		seen[got] = c.name
	}

	amd := hashesOf(t, Options{}, Request{Dir: req(b).Dir, Arch: "x86_64"})[0]
	if _, dup := seen[amd]; dup {
		t.Errorf("x86_64 hash %s equals an arm64 hash", amd)
	}
}

// goWrapper returns a go command that records its first argument (the subcommand) in a file,
// and a function that returns the subcommands recorded so far.
func goWrapper(t *testing.T) (string, func() []string) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("the go wrapper is a shell script")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	calls := filepath.Join(dir, "calls")
	wrapper := filepath.Join(dir, "go")
	script := "#!/bin/sh\necho \"$1\" >> '" + calls + "'\nexec '" + goBin + "' \"$@\"\n"
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return wrapper, func() []string {
		data, err := os.ReadFile(calls)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		return strings.Fields(string(data))
	}
}

func TestBuildCaches(t *testing.T) {
	root := copyModule(t, t.TempDir())
	goBin, calls := goWrapper(t)
	var mu sync.Mutex
	var logged []string
	opts := Options{
		CacheRoot: t.TempDir(),
		GoBin:     goBin,
		Log: func(format string, args ...any) {
			mu.Lock()
			defer mu.Unlock()
			logged = append(logged, format)
		},
	}
	req := Request{Dir: filepath.Join(root, "lambdas", testHandler), Arch: ArchARM64}
	ctx := context.Background()

	res, err := Build(ctx, opts, req)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || res[0].Cached {
		t.Fatalf("first build: %+v, want one result not cached", res)
	}
	if want := filepath.Join(opts.CacheRoot, res[0].Hash); res[0].Dir != want {
		t.Errorf("Dir %s, want %s", res[0].Dir, want)
	}
	if want := ModulePath + "/lambdas/" + testHandler; res[0].ImportPath != want {
		t.Errorf("ImportPath %s, want %s", res[0].ImportPath, want)
	}
	checkELF(t, filepath.Join(res[0].Dir, BootstrapName), elf.EM_AARCH64)
	onlyBootstrap(t, res[0].Dir)
	if n := strings.Count(strings.Join(calls(), " "), "build"); n != 1 {
		t.Errorf("first build ran go build %d times, want 1 (calls: %v)", n, calls())
	}

	before := len(calls())
	start := time.Now()
	res2, err := Build(ctx, opts, req, req)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("warm Build: %v", time.Since(start))
	for _, r := range res2 {
		if !r.Cached || r.Hash != res[0].Hash || r.Dir != res[0].Dir {
			t.Errorf("second build: %+v, want cached %s", r, res[0].Hash)
		}
	}
	if got := calls()[before:]; slices.Contains(got, "build") {
		t.Errorf("second build ran go build: %v", got)
	}
	if !slices.ContainsFunc(logged, func(s string) bool { return strings.Contains(s, "cached") }) {
		t.Errorf("Log got no cached line: %q", logged)
	}
	// No build folder is left behind.
	entries, err := os.ReadDir(opts.CacheRoot)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != res[0].Hash {
		t.Errorf("cache root holds %v, want only %s", entries, res[0].Hash)
	}
}

func TestBuildUserPackage(t *testing.T) {
	dir := userModule(t, map[string]string{"handlers/hello/main.go": helloMain})
	before := snapshot(t, dir)
	opts := Options{CacheRoot: t.TempDir(), Env: []string{"GOFLAGS=-mod=mod", EnvCacheRoot + "=" + t.TempDir()}}
	pkg := filepath.Join(dir, "handlers", "hello")
	res, err := Build(context.Background(), opts,
		Request{Dir: pkg}, Request{Dir: pkg, Arch: "x86_64"}, Request{Dir: pkg, Arch: ArchAMD64})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].ImportPath != "example.com/userapp/handlers/hello" {
		t.Errorf("ImportPath %s", res[0].ImportPath)
	}
	if res[0].Hash == res[1].Hash || res[1].Hash != res[2].Hash {
		t.Errorf("hashes arm64 %s, x86_64 %s, amd64 %s: want arm64 apart, x86_64 = amd64", res[0].Hash, res[1].Hash, res[2].Hash)
	}
	if !within(opts.CacheRoot, res[0].Dir) {
		t.Errorf("result %s outside Options.CacheRoot %s (it wins over %s)", res[0].Dir, opts.CacheRoot, EnvCacheRoot)
	}
	checkELF(t, filepath.Join(res[0].Dir, BootstrapName), elf.EM_AARCH64)
	checkELF(t, filepath.Join(res[1].Dir, BootstrapName), elf.EM_X86_64)
	onlyBootstrap(t, res[1].Dir)
	if after := snapshot(t, dir); !slices.Equal(before, after) {
		t.Errorf("the source folder changed:\nbefore %q\nafter  %q", before, after)
	}
}

// snapshot lists the files of a folder with their sizes and modification times.
func snapshot(t *testing.T, dir string) []string {
	t.Helper()
	var list []string
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		list = append(list, fmt.Sprintf("%s %v %v %d", path, info.Mode(), info.ModTime(), info.Size()))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return list
}

func TestBuildEnvCacheRoot(t *testing.T) {
	dir := userModule(t, map[string]string{"main.go": helloMain})
	cache := t.TempDir()
	res, err := Build(context.Background(), Options{Env: []string{EnvCacheRoot + "=" + cache}}, Request{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Dir != filepath.Join(cache, res[0].Hash) || res[0].ImportPath != "example.com/userapp" {
		t.Errorf("result %+v, want it in %s", res[0], cache)
	}
	checkELF(t, filepath.Join(res[0].Dir, BootstrapName), elf.EM_AARCH64)
}

func TestBuildConcurrentSameHash(t *testing.T) {
	dir := userModule(t, map[string]string{"cmd/hello/main.go": helloMain})
	cache := t.TempDir()
	req := Request{Dir: filepath.Join(dir, "cmd", "hello")}
	const n = 3
	results := make([][]Result, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { results[i], errs[i] = Build(context.Background(), Options{CacheRoot: cache}, req) })
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("builder %d: %v", i, errs[i])
		}
		if results[i][0].Dir != results[0][0].Dir {
			t.Errorf("builder %d: %s, builder 0: %s", i, results[i][0].Dir, results[0][0].Dir)
		}
	}
	checkELF(t, filepath.Join(results[0][0].Dir, BootstrapName), elf.EM_AARCH64)
	onlyBootstrap(t, results[0][0].Dir)
}

func TestBuildErrors(t *testing.T) {
	dir := userModule(t, map[string]string{
		"broken/main.go":        "package main\n\nfunc main() { notDefined() }\n",
		"lib/lib.go":            "package lib\n\nconst X = 1\n",
		"ok/main.go":            helloMain,
		"testonly/main_test.go": "package main\n\nimport \"testing\"\n\nfunc TestX(t *testing.T) {}\n",
	})
	noModule := t.TempDir()
	writeFile(t, filepath.Join(noModule, "main.go"), helloMain)
	if _, err := moduleRoot(noModule); err == nil {
		t.Skipf("%s is inside a Go module", noModule)
	}
	missing := filepath.Join(dir, "does-not-exist")
	cases := []struct {
		name string
		req  Request
		want []string
	}{
		{"missing folder", Request{Dir: missing}, []string{missing, "no such file"}},
		{"does not compile", Request{Dir: filepath.Join(dir, "broken")},
			[]string{filepath.Join(dir, "broken"), "undefined: notDefined", "go build"}},
		{"not a main package", Request{Dir: filepath.Join(dir, "lib")},
			[]string{filepath.Join(dir, "lib"), "not a main package"}},
		{"no Go files", Request{Dir: dir + "/broken/.."}, []string{dir, "no Go files"}},
		{"outside a module", Request{Dir: noModule}, []string{noModule, "not inside a Go module"}},
		{"only test files", Request{Dir: filepath.Join(dir, "testonly")}, []string{filepath.Join(dir, "testonly"), "no non-test Go files"}},
		{"unknown architecture", Request{Dir: filepath.Join(dir, "lib"), Arch: "riscv64"}, []string{filepath.Join(dir, "lib"), "riscv64"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cache := t.TempDir()
			res, err := Build(context.Background(), Options{CacheRoot: cache}, Request{Dir: filepath.Join(dir, "ok")}, c.req)
			if err == nil {
				t.Fatalf("no error; results %+v", res)
			}
			t.Logf("error:\n%v", err)
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not contain %q:\n%v", w, err)
				}
			}
			if strings.Contains(err.Error(), filepath.Join(dir, "ok")) {
				t.Errorf("error names the good package too:\n%v", err)
			}
		})
	}
}

func TestLocateModule(t *testing.T) {
	ctx := context.Background()
	root := repoRoot(t)
	got, err := LocateModule(ctx, filepath.Join(root, "protocol"))
	if err != nil {
		t.Fatal(err)
	}
	if got != root {
		t.Errorf("from inside the checkout: %s, want %s", got, root)
	}

	copyDir := copyModule(t, t.TempDir())
	got, err = LocateModuleWith(ctx, Options{Env: []string{EnvSourceDir + "=" + copyDir}}, t.TempDir())
	if err != nil || got != copyDir {
		t.Errorf("with %s: %q, %v; want %s", EnvSourceDir, got, err, copyDir)
	}

	other := userModule(t, nil)
	_, err = LocateModuleWith(ctx, Options{Env: []string{EnvSourceDir + "=" + other}}, root)
	if err == nil || !strings.Contains(err.Error(), "example.com/userapp") {
		t.Errorf("%s naming another module: %v, want an error naming it", EnvSourceDir, err)
	}

	_, err = LocateModuleWith(ctx, Options{Env: []string{"GOFLAGS=-mod=mod", "GOPROXY=off"}}, other)
	if err == nil || !strings.Contains(err.Error(), ModulePath) || !strings.Contains(err.Error(), EnvSourceDir) {
		t.Errorf("from a module that does not require it: %v, want an error naming %s and %s", err, ModulePath, EnvSourceDir)
	}
}

func TestExecName(t *testing.T) {
	for in, want := range map[string]string{
		"example.com/app/lambdas/chat": "chat",
		"example.com/app/v2":           "app",
		"example.com/app/v1":           "v1",
		"example.com/app/v0":           "v0",
		"example.com/app/v2x":          "v2x",
		"v2":                           "v2",
	} {
		if got := execName(in); got != want {
			t.Errorf("execName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestHashLocalModules(t *testing.T) {
	// A user's module that uses a folder replacement, built with and without a workspace.
	dir := userModule(t, map[string]string{
		"cmd/hello/main.go": "package main\n\nimport \"example.com/lib\"\n\nfunc main() { println(lib.X) }\n",
		"lib/go.mod":        "module example.com/lib\n\ngo 1.26\n",
		"lib/lib.go":        "package lib\n\nconst X = 1\n",
		"lib/lib_test.go":   "package lib\n",
	})
	appendFile(t, filepath.Join(dir, "go.mod"), "\nrequire example.com/lib v0.0.0\n\nreplace example.com/lib => ./lib\n")
	req := Request{Dir: filepath.Join(dir, "cmd", "hello")}
	noWork := Options{Env: []string{"GOWORK=off"}}
	base := hashesOf(t, noWork, req)[0]

	appendFile(t, filepath.Join(dir, "lib", "lib_test.go"), "// a test file\n")
	if got := hashesOf(t, noWork, req)[0]; got != base {
		t.Errorf("a test file of the replacement changed the hash")
	}
	appendFile(t, filepath.Join(dir, "lib", "lib.go"), "const Y = 2\n")
	changed := hashesOf(t, noWork, req)[0]
	if changed == base {
		t.Errorf("a source file of the replacement did not change the hash")
	}
	writeFile(t, filepath.Join(dir, "lib", "go.mod"), "module example.com/lib\n\ngo 1.25\n")
	if got := hashesOf(t, noWork, req)[0]; got == changed {
		t.Errorf("the go line of the replacement's go.mod did not change the hash")
	}

	work := filepath.Join(dir, "go.work")
	writeFile(t, work, "go 1.26\n\nuse .\n")
	withWork := hashesOf(t, Options{Env: []string{"GOWORK=" + work}}, req)[0]
	writeFile(t, work, "go 1.26\n\ngodebug panicnil=1\n\nuse .\n")
	if got := hashesOf(t, Options{Env: []string{"GOWORK=" + work}}, req)[0]; got == withWork {
		t.Errorf("a godebug line in go.work did not change the hash")
	}
	res, err := Build(context.Background(), Options{CacheRoot: t.TempDir(), Env: []string{"GOWORK=" + work}}, req)
	if err != nil {
		t.Fatal(err)
	}
	checkELF(t, filepath.Join(res[0].Dir, BootstrapName), elf.EM_AARCH64)
}
