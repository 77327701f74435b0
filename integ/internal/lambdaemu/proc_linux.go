//go:build linux

package lambdaemu

import "syscall"

// sysProcAttr puts a bootstrap in its own process group, so that killing the group also kills
// what it started, and asks the kernel to kill it if the emulator's thread that started it
// dies first.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
