package sqslocal

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"

	"golang.org/x/mod/modfile"
)

// modulePath is the module whose goawsd command Start builds.
const modulePath = "github.com/chatstack/websocketchatapi"

// goawsdPackage is the command Start runs.
const goawsdPackage = modulePath + "/integ/internal/sqslocal/goawsd"

var (
	buildOnce sync.Once
	buildBin  string
	buildErr  error
)

// binary returns goawsd built for this machine: it is built once per process with `go build`
// at the module root (found from the working directory), into a directory under the user's
// cache named by a hash of go.sum and goawsd's sources, so an unchanged one is reused across
// processes.
func binary(ctx context.Context) (string, error) {
	buildOnce.Do(func() { buildBin, buildErr = build(ctx) })
	return buildBin, buildErr
}

func build(ctx context.Context) (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	h := sha256.New()
	files, _ := filepath.Glob(filepath.Join(root, "integ", "internal", "sqslocal", "goawsd", "*.go"))
	for _, f := range append([]string{filepath.Join(root, "go.sum")}, files...) {
		data, err := os.ReadFile(f)
		if err != nil {
			return "", fmt.Errorf("sqslocal: build goawsd: %w", err)
		}
		h.Write([]byte(filepath.Base(f)))
		h.Write(data)
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "websocketchatapi", "goawsd-"+hex.EncodeToString(h.Sum(nil))[:16])
	bin := filepath.Join(dir, "goawsd")
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("sqslocal: build goawsd: %w", err)
	}
	tmp, err := os.CreateTemp(dir, "goawsd-*.tmp")
	if err != nil {
		return "", fmt.Errorf("sqslocal: build goawsd: %w", err)
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", tmp.Name(), goawsdPackage)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("sqslocal: go build %s: %w\n%s", goawsdPackage, err, out)
	}
	// Rename is atomic: a concurrent build of the same sources writes the same binary.
	if err := os.Rename(tmp.Name(), bin); err != nil {
		return "", fmt.Errorf("sqslocal: build goawsd: %w", err)
	}
	return bin, nil
}

// moduleRoot returns the directory of the go.mod of modulePath, walking up from the working
// directory.
func moduleRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("sqslocal: %w", err)
	}
	for dir := wd; ; {
		if data, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && modfile.ModulePath(data) == modulePath {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("sqslocal: no go.mod of module %s in %s or above: goawsd is built from the module's sources", modulePath, wd)
		}
		dir = parent
	}
}
