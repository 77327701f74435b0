//go:build !unix

package lambdaemu

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// sysProcAttr returns nil: process groups are a unix notion.
func sysProcAttr() *syscall.SysProcAttr { return nil }

// killGroup kills p alone: without process groups, its children survive.
func killGroup(p *os.Process) error {
	if err := p.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("kill process %d: %w", p.Pid, err)
	}
	return nil
}
