//go:build unix

package sqslocal

import (
	"errors"
	"os"
	"syscall"
)

// sysProcAttr puts goawsd in a process group of its own, so that Close kills all of it.
func sysProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

// killGroup sends SIGKILL to p's process group: the queues are in memory, nothing to flush.
func killGroup(p *os.Process) error {
	err := syscall.Kill(-p.Pid, syscall.SIGKILL)
	if errors.Is(err, syscall.ESRCH) {
		return nil
	}
	return err
}
