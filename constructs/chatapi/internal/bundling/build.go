package bundling

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"
)

// staleWork is the age after which a build folder left in the cache root by a killed process
// is removed.
const staleWork = 24 * time.Hour

// build builds the missing targets of a group and moves them into the cache. Targets go to one
// go build per round; a round holds targets whose executables have distinct names, since go
// build -o <folder> names each after its import path.
func (r *runner) build(ctx context.Context, g *group, missing []*target, cacheRoot string) error {
	removeStaleWork(cacheRoot)
	work, err := os.MkdirTemp(cacheRoot, ".build-")
	if err != nil {
		return fmt.Errorf("bundling: %w", err)
	}
	defer os.RemoveAll(work)

	var errs []error
	for len(missing) > 0 {
		var round, rest []*target
		names := map[string]bool{}
		for _, t := range missing {
			if n := execName(t.importPath); names[n] {
				rest = append(rest, t)
			} else {
				names[n] = true
				round = append(round, t)
			}
		}
		errs = append(errs, r.buildRound(ctx, g, round, work, cacheRoot))
		missing = rest
	}
	return errors.Join(errs...)
}

// buildRound runs one go build for targets and caches each executable it produced. Executables
// that did build are cached even when another target failed.
func (r *runner) buildRound(ctx context.Context, g *group, targets []*target, work, cacheRoot string) error {
	out, err := os.MkdirTemp(work, "out-")
	if err != nil {
		return fmt.Errorf("bundling: %w", err)
	}
	args := append([]string{"build"}, buildFlags()...)
	args = append(args, "-o", out+string(filepath.Separator))
	for _, t := range targets {
		args = append(args, "./"+t.rel)
	}
	_, buildErr := r.goCmd(ctx, g.root, g.env, args...)
	var errs []error
	for _, t := range targets {
		bin := filepath.Join(out, execName(t.importPath))
		if !fileExists(bin) {
			err := buildErr
			if err == nil {
				err = fmt.Errorf("go build wrote no %s", bin)
			}
			errs = append(errs, fmt.Errorf("bundling: building %s (%s): %w", t.dir, t.importPath, err))
			continue
		}
		if err := install(bin, work, filepath.Join(cacheRoot, t.hash)); err != nil {
			errs = append(errs, fmt.Errorf("bundling: building %s: %w", t.dir, err))
			continue
		}
		r.logf("bundling: %s (%s): built %s", t.importPath, g.goarch, t.hash)
	}
	if len(errs) == 0 && buildErr != nil {
		return fmt.Errorf("bundling: %w", buildErr)
	}
	return errors.Join(errs...)
}

// install moves the executable bin into the cache folder final as its bootstrap, atomically:
// it is staged in a folder inside work (on the same file system) that is then renamed. If final
// appears meanwhile (another process built the same hash), that one is kept.
func install(bin, work, final string) error {
	stage, err := os.MkdirTemp(work, "stage-")
	if err != nil {
		return err
	}
	boot := filepath.Join(stage, BootstrapName)
	if err := os.Rename(bin, boot); err != nil {
		return err
	}
	if err := os.Chmod(boot, 0o755); err != nil {
		return err
	}
	if err := os.Chmod(stage, 0o755); err != nil {
		return err
	}
	if err := os.Rename(stage, final); err != nil {
		if isBootstrap(filepath.Join(final, BootstrapName)) {
			return nil
		}
		return fmt.Errorf("caching %s: %w", final, err)
	}
	return nil
}

// removeStaleWork removes build folders that killed processes left in the cache root.
func removeStaleWork(cacheRoot string) {
	entries, err := os.ReadDir(cacheRoot)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), ".build-") {
			continue
		}
		if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > staleWork {
			os.RemoveAll(filepath.Join(cacheRoot, e.Name()))
		}
	}
}

// execName is the name go build -o <folder> gives the executable of a package: the last element
// of its import path, or the one before it when that is a major version suffix (v2, v3, ...).
func execName(importPath string) string {
	elem := path.Base(importPath)
	if elem != importPath && isVersionElement(elem) {
		elem = path.Base(path.Dir(importPath))
	}
	return elem
}

// isVersionElement reports whether s is a major version path element of at least 2 (v2, v3, ...).
func isVersionElement(s string) bool {
	if len(s) < 2 || s[0] != 'v' || s[1] == '0' || s[1] == '1' && len(s) == 2 {
		return false
	}
	for i := 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
