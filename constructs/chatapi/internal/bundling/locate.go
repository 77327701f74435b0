package bundling

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/mod/modfile"
)

// LocateModule is [LocateModuleWith] with zero Options (the process environment only).
func LocateModule(ctx context.Context, workDir string) (string, error) {
	return LocateModuleWith(ctx, Options{}, workDir)
}

// LocateModuleWith returns the root folder of this module's sources ([ModulePath]) as the go
// command sees them from workDir, normally the user's app folder (the working directory of the
// synth):
//
//   - $WEBSOCKETCHATAPI_SOURCE_DIR (from opts.Env or the process), when set, which must hold
//     this module's go.mod;
//   - else the folder of go list -m github.com/chatstack/websocketchatapi run in workDir: the
//     checkout when this is the main module, a replacement folder, a workspace module, or the
//     read-only module cache folder when it is an ordinary dependency (downloaded with go mod
//     download if the cache lacks it).
//
// The user's go.work and GOFLAGS are honoured here on purpose: they decide which copy of this
// module the app itself is compiled from (a local checkout in a workspace, a replacement, the
// cache), and the handlers must come from that same copy.
func LocateModuleWith(ctx context.Context, opts Options, workDir string) (string, error) {
	r := newRunner(opts)
	if dir := r.getenv(EnvSourceDir); dir != "" {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return "", fmt.Errorf("bundling: %s=%s: %w", EnvSourceDir, dir, err)
		}
		if err := checkModuleRoot(abs); err != nil {
			return "", fmt.Errorf("bundling: %s=%s: %w", EnvSourceDir, dir, err)
		}
		return abs, nil
	}

	abs, err := filepath.Abs(workDir)
	if err != nil {
		return "", fmt.Errorf("bundling: locating %s from %s: %w", ModulePath, workDir, err)
	}
	hint := fmt.Sprintf("run the synth from a module that requires %s, or set %s to a folder holding its sources", ModulePath, EnvSourceDir)
	out, err := r.goCmd(ctx, abs, nil, "list", "-m", "-json", ModulePath)
	if err != nil {
		return "", fmt.Errorf("bundling: locating %s from %s (%s): %w", ModulePath, abs, hint, err)
	}
	var m listedModule
	if err := json.Unmarshal(out, &m); err != nil {
		return "", fmt.Errorf("bundling: locating %s from %s: go list -m: %w", ModulePath, abs, err)
	}
	dir := m.Dir
	if m.Replace != nil && m.Replace.Dir != "" {
		dir = m.Replace.Dir
	}
	if dir == "" {
		// Listed but not extracted (vendor mode, or a cache that was cleaned since the app was
		// built): download exactly the version the app uses.
		mod := m.Path + "@" + m.Version
		if m.Replace != nil && m.Replace.Version != "" {
			mod = m.Replace.Path + "@" + m.Replace.Version
		}
		if m.Version == "" && (m.Replace == nil || m.Replace.Version == "") {
			return "", fmt.Errorf("bundling: locating %s from %s: go list -m gave no folder and no version (%s)", ModulePath, abs, hint)
		}
		// Outside any module, so that neither the app's go.mod nor its vendor folder is touched.
		out, err := r.goCmd(ctx, os.TempDir(), []string{"GOWORK=off", "GOFLAGS=-mod=mod"}, "mod", "download", "-json", mod)
		if err != nil {
			return "", fmt.Errorf("bundling: locating %s from %s: downloading %s: %w", ModulePath, abs, mod, err)
		}
		var d struct{ Dir, Error string }
		if err := json.Unmarshal(out, &d); err != nil || d.Dir == "" {
			return "", fmt.Errorf("bundling: locating %s from %s: go mod download %s gave no folder %s (%v)", ModulePath, abs, mod, d.Error, err)
		}
		dir = d.Dir
	}
	if err := checkModuleRoot(dir); err != nil {
		return "", fmt.Errorf("bundling: locating %s from %s: %w", ModulePath, abs, err)
	}
	return dir, nil
}

// listedModule is the part of go list -m -json output this package reads.
type listedModule struct {
	Path    string
	Version string
	Main    bool
	Dir     string
	GoMod   string
	Replace *listedModule
}

// checkModuleRoot returns an error unless dir holds the go.mod of ModulePath.
func checkModuleRoot(dir string) error {
	data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return fmt.Errorf("no go.mod of %s: %w", ModulePath, err)
	}
	if got := modfile.ModulePath(data); got != ModulePath {
		return fmt.Errorf("%s holds module %q, not %s", filepath.Join(dir, "go.mod"), got, ModulePath)
	}
	return nil
}
