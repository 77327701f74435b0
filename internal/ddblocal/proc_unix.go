//go:build unix

package ddblocal

import (
	"errors"
	"os"
	"syscall"
)

// sysProcAttr puts the emulator in a process group of its own, so that Close can kill the JVM
// and anything it starts.
func sysProcAttr() *syscall.SysProcAttr {
	attr := &syscall.SysProcAttr{Setpgid: true}
	setParentDeathSignal(attr)
	return attr
}

// killGroup sends SIGKILL to p's process group. The database is in memory: there is nothing to
// flush, so there is no need for a gentler signal.
func killGroup(p *os.Process) error {
	err := syscall.Kill(-p.Pid, syscall.SIGKILL)
	if errors.Is(err, syscall.ESRCH) {
		return nil // already gone
	}
	return err
}

// lockFile takes an exclusive flock on path, creating it if needed, and returns the function
// that releases it.
func lockFile(path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
