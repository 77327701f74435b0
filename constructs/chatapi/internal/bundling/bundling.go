// Package bundling builds Go Lambda handlers for the provided.al2023 runtime and keeps the
// results in a content-addressed cache, so that an unchanged handler is neither rebuilt nor
// re-uploaded.
//
// It is plain Go (no CDK): the construct calls [LocateModule] to find this module's sources
// (a checkout, or the read-only module cache when the module is a dependency of the user's app),
// then [Build] for the handler packages, and hands each [Result.Dir] to
// awslambda.Code_FromAsset with [Result.Hash] as a custom asset hash.
//
// # The hash
//
// A Result's Hash is the hex SHA-256 of a text that describes everything the bootstrap binary is
// made of, and nothing that depends on where the sources sit on disk:
//
//   - a format version, the Go toolchain version (go env GOVERSION), the target (linux, GOARCH,
//     CGO_ENABLED=0, GOARM64 or GOAMD64, GOEXPERIMENT, GOFIPS140) and the go build flags;
//   - the handler's import path;
//   - for the handler and every package it depends on (go list -deps, same target and tags as
//     the build; test files never take part), sorted by import path, and skipping the standard
//     library (the toolchain version covers it):
//     in a module that has no version (the main module, a directory replacement, a workspace
//     module), the import path (so the path relative to the module root) and, per file name, the
//     SHA-256 of every file that goes into the build (Go, assembly, headers, syso and embedded
//     files); in a versioned module, the import path and module path@version (and the
//     replacement's path@version), which go.sum makes immutable;
//   - for every unversioned module involved, its path and the go, toolchain and godebug lines of
//     its go.mod; with a workspace, those of go.work.
//
// The same sources built by the same toolchain give the same hash on every machine and checkout
// path, and so does this module whether it is the main module or sits in the module cache.
//
// # The cache
//
// A result lives in <cache root>/<hash>/bootstrap (mode 0755), and that folder holds nothing
// else, so it can be the asset as is. Results are built in a temporary folder inside the cache
// root and renamed into place, so a folder that exists is complete, and two processes building
// the same hash at once both succeed. Nothing is ever written into the source folders. Old
// entries are not removed: delete the cache root at will.
package bundling

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// ModulePath is the path of the module whose handlers this package builds.
const ModulePath = "github.com/chatstack/websocketchatapi"

// Environment variables read by this package, from the process environment or [Options.Env].
const (
	// EnvSourceDir names a folder holding this module's sources (its go.mod at the top). When
	// set, [LocateModule] returns it without asking the go command.
	EnvSourceDir = "WEBSOCKETCHATAPI_SOURCE_DIR"
	// EnvCacheRoot names the cache root when [Options.CacheRoot] is empty.
	EnvCacheRoot = "WEBSOCKETCHATAPI_BUNDLE_CACHE"
)

// The architectures a [Request] may ask for. "x86_64" (the Lambda name) is accepted as
// ArchAMD64.
const (
	ArchARM64 = "arm64"
	ArchAMD64 = "amd64"
)

// BootstrapName is the file name of the executable in a result folder, as the provided.al2023
// runtime expects it.
const BootstrapName = "bootstrap"

// formatVersion is the first line of every hashed description: bump it whenever the hashing
// rule or the build changes in a way the description would not show.
const formatVersion = "websocketchatapi-bundle/1"

// Options configure [Build] and [LocateModuleWith]. The zero value is ready to use.
type Options struct {
	// CacheRoot is the folder that holds built handlers. Default: $WEBSOCKETCHATAPI_BUNDLE_CACHE,
	// or else <os.UserCacheDir()>/websocketchatapi/bundles.
	CacheRoot string
	// GoBin is the go command. Default: "go", looked up in PATH.
	GoBin string
	// Env is appended to the process environment of every go command run (a later entry wins),
	// and is where this package looks up its own variables first.
	Env []string
	// Log, when set, receives one line per go command run and per handler built or found in the
	// cache.
	Log func(format string, args ...any)
}

// Request asks for one handler.
type Request struct {
	// Dir is the folder of a main package: one of this module's handlers (lambdas/<name> in the
	// folder LocateModule returns), or a package of the user's module. A relative Dir is taken
	// from the process working directory.
	Dir string
	// Arch is the target: "arm64" (the default when empty) or "amd64" (also spelled "x86_64").
	Arch string
}

// Result describes one built handler.
type Result struct {
	// Dir is the folder that holds the executable, named bootstrap, and nothing else: the asset
	// folder for awslambda.Code_FromAsset.
	Dir string
	// Hash is the content hash of the handler's build inputs (hex SHA-256): the asset hash.
	Hash string
	// ImportPath is the handler package's import path.
	ImportPath string
	// Cached reports whether the executable was already in the cache, so no go build ran for it.
	Cached bool
}

// Build returns one Result per request, in the order of reqs, building the handlers that are not
// in the cache yet.
//
// Requests are grouped by enclosing module and architecture; each group costs one go env and one
// go list, and the missing handlers of a group are built by one go build (which parallelises
// internally). When the module sits in the module cache, the go commands run with GOWORK=off and
// GOFLAGS=-mod=readonly; elsewhere a user's go.work is honoured. GOFLAGS from the environment is
// never used: the build's flags are fixed (see the package documentation), -mod=readonly, or
// -mod=vendor when the module or workspace vendors its dependencies, so go.mod is never written.
func Build(ctx context.Context, opts Options, reqs ...Request) ([]Result, error) {
	if len(reqs) == 0 {
		return nil, nil
	}
	start := time.Now()
	p, err := prepare(ctx, opts, reqs)
	if err != nil {
		return nil, err
	}
	r, cacheRoot := p.runner, p.cacheRoot

	var errs []error
	for _, g := range p.groups {
		var missing []*target
		for _, t := range g.targets {
			if isBootstrap(filepath.Join(cacheRoot, t.hash, BootstrapName)) {
				t.cached = true
				r.logf("bundling: %s (%s): cached %s", t.importPath, g.goarch, t.hash)
				continue
			}
			missing = append(missing, t)
		}
		if len(missing) > 0 {
			errs = append(errs, r.build(ctx, g, missing, cacheRoot))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}

	results := make([]Result, len(reqs))
	for i, t := range p.targets {
		results[i] = Result{
			Dir:        filepath.Join(cacheRoot, t.hash),
			Hash:       t.hash,
			ImportPath: t.importPath,
			Cached:     t.cached,
		}
	}
	r.logf("bundling: %d handler(s) ready in %v", len(reqs), time.Since(start).Round(time.Millisecond))
	return results, nil
}

// prepared is a Build call planned: every target has its hash.
type prepared struct {
	runner    *runner
	cacheRoot string
	targets   []*target // one per request
	groups    []*group
}

// prepare resolves the cache root and the requests, and computes the targets' hashes.
func prepare(ctx context.Context, opts Options, reqs []Request) (*prepared, error) {
	r := newRunner(opts)
	cacheRoot, err := r.cacheRoot()
	if err != nil {
		return nil, err
	}
	targets, groups, err := r.group(reqs)
	if err != nil {
		return nil, err
	}
	modCache, err := r.goEnvValue(ctx, cacheRoot, "GOMODCACHE")
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, g := range groups {
		errs = append(errs, r.plan(ctx, g, modCache))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &prepared{runner: r, cacheRoot: cacheRoot, targets: targets, groups: groups}, nil
}

// cacheRoot returns the absolute cache root, creating it.
func (r *runner) cacheRoot() (string, error) {
	root := r.opts.CacheRoot
	if root == "" {
		root = r.getenv(EnvCacheRoot)
	}
	if root == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return "", fmt.Errorf("bundling: no cache folder (set %s or Options.CacheRoot): %w", EnvCacheRoot, err)
		}
		root = filepath.Join(base, "websocketchatapi", "bundles")
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return "", fmt.Errorf("bundling: cache root %s: %w", root, err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return "", fmt.Errorf("bundling: cache root: %w", err)
	}
	return abs, nil
}

// normalizeArch maps a Request.Arch to a GOARCH.
func normalizeArch(arch string) (string, error) {
	switch strings.ToLower(arch) {
	case "", ArchARM64, "arm_64", "aarch64":
		return ArchARM64, nil
	case ArchAMD64, "x86_64":
		return ArchAMD64, nil
	}
	return "", fmt.Errorf("unknown architecture %q (want %q or %q)", arch, ArchARM64, ArchAMD64)
}

// isBootstrap reports whether path is an executable regular file.
func isBootstrap(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular() && st.Mode().Perm()&0o111 != 0
}
