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
	"slices"
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

// CheckRunnable reports whether this machine can execute the file at path as a bootstrap,
// directly when interpreter is "", else as "<interpreter> <path>".
//
// Without an interpreter the file must be a regular executable file that is either a script
// ("#!") or an ELF executable for this machine's architecture. With one, the interpreter must
// be an executable file and the bootstrap an executable ELF file; when the interpreter is a
// qemu-user emulator (qemu-<arch>[-static]), the ELF must be built for the architecture it
// emulates. A mismatch wraps ErrNotRunnable and says what to do (build for the host with
// BuildHost, or run through the interpreter that FindInterpreter finds). A binfmt_misc
// registration is not taken into account: name the interpreter.
func CheckRunnable(path, interpreter string) error {
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
	if interpreter != "" {
		if err := checkInterpreter(interpreter); err != nil {
			return err
		}
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
		if interpreter != "" {
			return fmt.Errorf("%w: %s is a script; only an ELF executable runs through the interpreter %s", ErrNotRunnable, path, interpreter)
		}
		return nil
	}
	if string(magic[:]) != elf.ELFMAG {
		return fmt.Errorf("%w: %s is neither an ELF executable nor a script", ErrNotRunnable, path)
	}
	ef, err := elf.NewFile(f)
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrNotRunnable, path, err)
	}
	if interpreter != "" {
		emulated, known := qemuMachine(interpreter)
		if !known || ef.Machine == emulated {
			return nil
		}
		return fmt.Errorf("%w: %s is a linux/%s executable (ELF machine %v) but the interpreter %s runs %s executables",
			ErrNotRunnable, path, goarchOf(ef.Machine), ef.Machine, interpreter, goarchOf(emulated))
	}
	want, known := elfMachine(runtime.GOARCH)
	if runtime.GOOS == "linux" && known && ef.Machine == want {
		return nil
	}
	return fmt.Errorf("%w: %s is a linux/%s executable (ELF machine %v) but this host is %s/%s; "+
		"build the handler for the host with lambdaemu.BuildHost (GOOS=%s GOARCH=%s, same flags), "+
		"or run it through an emulator (Function.Interpreter, see lambdaemu.FindInterpreter)",
		ErrNotRunnable, path, goarchOf(ef.Machine), ef.Machine, runtime.GOOS, runtime.GOARCH, runtime.GOOS, runtime.GOARCH)
}

// checkInterpreter checks that interpreter is an executable regular file.
func checkInterpreter(interpreter string) error {
	if !filepath.IsAbs(interpreter) {
		return fmt.Errorf("%w: interpreter %q is not an absolute path", ErrNotRunnable, interpreter)
	}
	st, err := os.Stat(interpreter)
	if err != nil {
		return fmt.Errorf("%w: interpreter: %w", ErrNotRunnable, err)
	}
	if !st.Mode().IsRegular() || st.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("%w: interpreter %s is not an executable file (mode %v)", ErrNotRunnable, interpreter, st.Mode())
	}
	return nil
}

// qemuMachine returns the ELF machine that a qemu-user interpreter (qemu-<arch> or
// qemu-<arch>-static) runs; known is false for any other interpreter.
func qemuMachine(interpreter string) (m elf.Machine, known bool) {
	name, ok := strings.CutPrefix(filepath.Base(interpreter), "qemu-")
	if !ok {
		return elf.EM_NONE, false
	}
	name = strings.TrimSuffix(name, "-static")
	for _, q := range qemuArchs {
		if q.qemu == name {
			return q.machine, true
		}
	}
	return elf.EM_NONE, false
}

// qemuArchs maps Lambda and Go architecture names to qemu-user's names and ELF machines.
var qemuArchs = []struct {
	names   []string // Lambda's name first, then aliases
	goarch  string
	qemu    string
	machine elf.Machine
}{
	{[]string{"arm64", "aarch64"}, "arm64", "aarch64", elf.EM_AARCH64},
	{[]string{"x86_64", "amd64", "x86-64"}, "amd64", "x86_64", elf.EM_X86_64},
}

// FindInterpreter returns what runs executables built for the Lambda architecture arch
// ("arm64" or "x86_64"; the Go names "amd64" and "aarch64" are accepted too) on this machine:
// "" when this machine runs them natively, else the path of a qemu-user emulator
// (qemu-<arch>-static, then qemu-<arch>) found on PATH. An
// empty arch means x86_64, Lambda's default. When no emulator is installed, the error says
// which package to install.
func FindInterpreter(arch string) (string, error) {
	if arch == "" {
		arch = "x86_64"
	}
	for _, q := range qemuArchs {
		if !slices.Contains(q.names, strings.ToLower(arch)) {
			continue
		}
		if runtime.GOOS == "linux" && runtime.GOARCH == q.goarch {
			return "", nil
		}
		if runtime.GOOS != "linux" {
			return "", fmt.Errorf("run %s Lambda binaries: this host is %s/%s, and Lambda's Linux binaries run only on Linux (natively, or through qemu-user); run the local stack on a Linux machine or VM", arch, runtime.GOOS, runtime.GOARCH)
		}
		for _, name := range []string{"qemu-" + q.qemu + "-static", "qemu-" + q.qemu} {
			p, err := exec.LookPath(name)
			if err != nil {
				continue
			}
			if abs, err := filepath.Abs(p); err == nil {
				return abs, nil
			}
		}
		return "", fmt.Errorf("run %s Lambda binaries on this %s host: neither qemu-%s-static nor qemu-%s is installed; "+
			"install qemu-user-static (Debian) to run the %s Lambda binaries locally (apt-get install -y qemu-user-static)",
			arch, runtime.GOARCH, q.qemu, q.qemu, arch)
	}
	return "", fmt.Errorf("run Lambda binaries: unknown architecture %q (want arm64 or x86_64)", arch)
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
