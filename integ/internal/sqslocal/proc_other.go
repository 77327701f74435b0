//go:build !unix

package sqslocal

import (
	"os"
	"syscall"
)

// sysProcAttr has nothing to set outside unix.
func sysProcAttr() *syscall.SysProcAttr { return nil }

// killGroup kills p (goawsd starts no children).
func killGroup(p *os.Process) error { return p.Kill() }
