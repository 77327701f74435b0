//go:build unix && !linux

package lambdaemu

import "syscall"

// sysProcAttr puts a bootstrap in its own process group, so that killing the group also kills
// what it started.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
