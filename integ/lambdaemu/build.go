package lambdaemu

import (
	"bytes"
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// BootstrapName is the file name of a function's executable in its code folder, as the
// provided.al2023 runtime expects it.
const BootstrapName = "bootstrap"

// ErrNotRunnable reports a bootstrap that this machine cannot execute: missing, not
// executable, or built for another operating system or architecture.
var ErrNotRunnable = errors.New("bootstrap is not runnable on this host")

// BuildFlags are the go build flags that the construct uses for handlers, and that BuildHost
// uses too.
func BuildFlags() []string {
	return []string{"-tags", "lambda.norpc", "-trimpath", "-buildvcs=false", "-ldflags=-s -w"}
}

// BuildHost builds the Go main package in pkgDir for this machine (runtime.GOOS and
// runtime.GOARCH) with CGO_ENABLED=0 and BuildFlags, and writes the executable to
// outDir/bootstrap, creating outDir if needed. It returns the executable's path. The go
// command comes from PATH; the rest of the environment (GOFLAGS, GOCACHE, ...) is inherited,
// except GOOS, GOARCH and CGO_ENABLED, which it sets.
func BuildHost(ctx context.Context, pkgDir, outDir string) (string, error) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("build %s for the host: %w", pkgDir, err)
	}
	out, err := filepath.Abs(outDir)
	if err != nil {
		return "", fmt.Errorf("build %s for the host: %w", pkgDir, err)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return "", fmt.Errorf("build %s for the host: %w", pkgDir, err)
	}
	target := filepath.Join(out, BootstrapName)
	args := append([]string{"build"}, BuildFlags()...)
	args = append(args, "-o", target, ".")
	cmd := exec.CommandContext(ctx, goBin, args...)
	cmd.Dir = pkgDir
	cmd.Env = append(withoutKeys(os.Environ(), "GOOS", "GOARCH", "CGO_ENABLED"),
		"GOOS="+runtime.GOOS, "GOARCH="+runtime.GOARCH, "CGO_ENABLED=0")
	var stderr bytes.Buffer
	cmd.Stdout = &stderr
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("build %s for %s/%s: %w: %s", pkgDir, runtime.GOOS, runtime.GOARCH, err, strings.TrimSpace(stderr.String()))
	}
	return target, nil
}

// CheckRunnable reports whether this machine can execute the file at path as a bootstrap: a
// regular executable file that is either a script ("#!") or an ELF executable for this
// machine's architecture. A mismatch wraps ErrNotRunnable and says how to build for the host.
// A binfmt_misc emulator (qemu-user) is not taken into account.
func CheckRunnable(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrNotRunnable, err)
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("%w: %s is not a regular file", ErrNotRunnable, path)
	}
	if st.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("%w: %s is not executable (mode %v)", ErrNotRunnable, path, st.Mode().Perm())
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrNotRunnable, err)
	}
	defer f.Close()
	var magic [4]byte
	if _, err := io.ReadFull(f, magic[:]); err != nil {
		return fmt.Errorf("%w: read %s: %w", ErrNotRunnable, path, err)
	}
	if magic[0] == '#' && magic[1] == '!' {
		return nil
	}
	if string(magic[:]) != elf.ELFMAG {
		return fmt.Errorf("%w: %s is neither an ELF executable nor a script", ErrNotRunnable, path)
	}
	ef, err := elf.NewFile(f)
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrNotRunnable, path, err)
	}
	want, known := elfMachine(runtime.GOARCH)
	if runtime.GOOS == "linux" && known && ef.Machine == want {
		return nil
	}
	return fmt.Errorf("%w: %s is a linux/%s executable (ELF machine %v) but this host is %s/%s; "+
		"build the handler for the host with lambdaemu.BuildHost (GOOS=%s GOARCH=%s, same flags)",
		ErrNotRunnable, path, goarchOf(ef.Machine), ef.Machine, runtime.GOOS, runtime.GOARCH, runtime.GOOS, runtime.GOARCH)
}

// elfMachine returns the ELF machine of executables for a GOARCH.
func elfMachine(goarch string) (elf.Machine, bool) {
	switch goarch {
	case "amd64":
		return elf.EM_X86_64, true
	case "arm64":
		return elf.EM_AARCH64, true
	case "386":
		return elf.EM_386, true
	case "arm":
		return elf.EM_ARM, true
	case "riscv64":
		return elf.EM_RISCV, true
	case "ppc64", "ppc64le":
		return elf.EM_PPC64, true
	case "s390x":
		return elf.EM_S390, true
	case "loong64":
		return elf.EM_LOONGARCH, true
	}
	return elf.EM_NONE, false
}

// goarchOf names the GOARCH of an ELF machine, or the machine itself when it is not one of
// the common ones.
func goarchOf(m elf.Machine) string {
	switch m {
	case elf.EM_X86_64:
		return "amd64"
	case elf.EM_AARCH64:
		return "arm64"
	case elf.EM_386:
		return "386"
	case elf.EM_ARM:
		return "arm"
	case elf.EM_RISCV:
		return "riscv64"
	}
	return m.String()
}

// withoutKeys returns env without the entries for keys.
func withoutKeys(env []string, keys ...string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		drop := false
		for _, key := range keys {
			if k == key {
				drop = true
				break
			}
		}
		if !drop {
			out = append(out, kv)
		}
	}
	return out
}
