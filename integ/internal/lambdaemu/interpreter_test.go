package lambdaemu_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/chatstack/websocketchatapi/integ/internal/lambdaemu"
	"github.com/chatstack/websocketchatapi/internal/contract"
)

// buildLinux builds the Go main package pkg for linux/goarch with the construct's flags
// into dir/bootstrap, as the construct's bundling does.
func buildLinux(t *testing.T, pkg, goarch, dir string) {
	t.Helper()
	args := append([]string{"build"}, lambdaemu.BuildFlags()...)
	args = append(args, "-o", filepath.Join(dir, lambdaemu.BootstrapName), ".")
	cmd := exec.Command("go", args...)
	cmd.Dir = pkg
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+goarch, "CGO_ENABLED=0")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("go build %s for linux/%s: %v\n%s", pkg, goarch, err, out.String())
	}
}

// TestArm64BootstrapThroughInterpreter runs the default handler built for linux/arm64, as the
// construct uploads it, through the emulator that FindInterpreter finds (none on an arm64 host).
func TestArm64BootstrapThroughInterpreter(t *testing.T) {
	interp, err := lambdaemu.FindInterpreter("arm64")
	if err != nil {
		t.Fatalf("FindInterpreter(arm64): %v", err)
	}
	if runtime.GOARCH != "arm64" && interp == "" {
		t.Fatalf("FindInterpreter(arm64) on %s found no interpreter and no error", runtime.GOARCH)
	}
	dir := t.TempDir()
	buildLinux(t, "../../../lambdas/default", "arm64", dir)

	e := newEmulator(t, lambdaemu.Options{})
	err = e.Add(lambdaemu.Function{
		Name:         "default-arm64",
		Dir:          dir,
		Architecture: "arm64",
		Interpreter:  interp,
		Environment:  map[string]string{contract.EnvChatActions: "joinroom", contract.EnvRouteSelection: contract.DefaultRouteSelection},
	})
	if err != nil {
		t.Fatal(err)
	}
	req := events.APIGatewayWebsocketProxyRequest{
		Body: `{"action":"dance"}`,
		RequestContext: events.APIGatewayWebsocketProxyRequestContext{
			RouteKey: "$default", EventType: "MESSAGE", ConnectionID: "c-1", RequestID: "r-1", Stage: "prod", APIID: "abc",
		},
	}
	var pid int
	for i := range 2 {
		res := invoke(t, e, "default-arm64", req)
		if res.Err != nil {
			t.Fatalf("invocation %d: function error %v\n%s", i, res.Err, res.Log)
		}
		if res.ColdStart != (i == 0) {
			t.Errorf("invocation %d: ColdStart=%v, want %v", i, res.ColdStart, i == 0)
		}
		var resp events.APIGatewayProxyResponse
		if err := json.Unmarshal(res.Payload, &resp); err != nil {
			t.Fatalf("decode %s: %v", res.Payload, err)
		}
		var frame struct {
			Type, Code, Action string
			ValidActions       []string
		}
		if err := json.Unmarshal([]byte(resp.Body), &frame); err != nil {
			t.Fatalf("decode body %q: %v", resp.Body, err)
		}
		if resp.StatusCode != 200 || frame.Type != "error" || frame.Code != "unknown_action" ||
			frame.Action != "dance" || !slices.Equal(frame.ValidActions, []string{"joinroom"}) {
			t.Errorf("invocation %d: status %d frame %+v, want an unknown_action error for dance with validActions [joinroom]", i, resp.StatusCode, frame)
		}
		if i == 0 {
			pid = res.PID
			t.Logf("arm64 default handler through %q: init %v, duration %v", interp, res.InitDuration, res.Duration)
		} else if res.PID != pid {
			t.Errorf("second invocation ran in process %d, want the warm process %d", res.PID, pid)
		}
	}
	if interp != "" {
		// The process is the emulator itself, running the arm64 program.
		exe, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/exe")
		if err != nil || exe != interp {
			t.Errorf("process %d runs %q (%v), want the interpreter %s", pid, exe, err, interp)
		}
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the arm64 process to die", func() bool { return !alive(pid) })
}

func TestCheckRunnableWithInterpreter(t *testing.T) {
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Skip("the fixture bootstrap is the host's; the cases assume an amd64 host")
	}
	interp, err := lambdaemu.FindInterpreter("arm64")
	if err != nil {
		t.Fatalf("FindInterpreter(arm64): %v", err)
	}
	arm := filepath.Join(t.TempDir(), "bootstrap")
	writeELF(t, arm)
	host := filepath.Join(bins["fixture"], lambdaemu.BootstrapName)
	script := filepath.Join(t.TempDir(), "bootstrap")
	if err := os.WriteFile(script, []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	notExec := filepath.Join(t.TempDir(), "qemu-aarch64-static")
	if err := os.WriteFile(notExec, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, path, interp string
		ok                 bool
		want               string // in the error
	}{
		{"arm64 natively", arm, "", false, "lambdaemu.FindInterpreter"},
		{"arm64 through qemu", arm, interp, true, ""},
		{"host through qemu-aarch64", host, interp, false, "runs arm64 executables"},
		{"script through qemu", script, interp, false, "is a script"},
		{"missing interpreter", arm, "/nonexistent/qemu-aarch64-static", false, "interpreter"},
		{"relative interpreter", arm, "qemu-aarch64-static", false, "not an absolute path"},
		{"interpreter not executable", arm, notExec, false, "not an executable file"},
	}
	for _, c := range cases {
		err := lambdaemu.CheckRunnable(c.path, c.interp)
		switch {
		case c.ok && err != nil:
			t.Errorf("%s: %v, want nil", c.name, err)
		case !c.ok && (!errors.Is(err, lambdaemu.ErrNotRunnable) || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: %v, want ErrNotRunnable containing %q", c.name, err, c.want)
		}
	}
}

func TestFindInterpreter(t *testing.T) {
	native := map[string]string{"amd64": "x86_64", "arm64": "arm64"}[runtime.GOARCH]
	if native == "" || runtime.GOOS != "linux" {
		t.Skipf("no case for %s/%s", runtime.GOOS, runtime.GOARCH)
	}
	if p, err := lambdaemu.FindInterpreter(native); p != "" || err != nil {
		t.Errorf("FindInterpreter(%s) on this %s host: %q, %v; want \"\", nil", native, runtime.GOARCH, p, err)
	}
	if _, err := lambdaemu.FindInterpreter("sparc"); err == nil || !strings.Contains(err.Error(), "sparc") {
		t.Errorf("FindInterpreter(sparc): %v, want an error naming sparc", err)
	}
	if runtime.GOARCH == "amd64" {
		p, err := lambdaemu.FindInterpreter("arm64")
		if err != nil || !strings.HasPrefix(filepath.Base(p), "qemu-aarch64") {
			t.Errorf("FindInterpreter(arm64): %q, %v; want a qemu-aarch64 emulator", p, err)
		}
		// With no emulator on PATH, the error says what to install.
		t.Setenv("PATH", t.TempDir())
		if _, err := lambdaemu.FindInterpreter("arm64"); err == nil || !strings.Contains(err.Error(), "install qemu-user-static") {
			t.Errorf("FindInterpreter(arm64) without qemu on PATH: %v, want an error saying to install qemu-user-static", err)
		}
	}
}
