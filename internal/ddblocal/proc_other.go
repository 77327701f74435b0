//go:build !unix

package ddblocal

import (
	"os"
	"syscall"
)

// sysProcAttr returns nil: process groups are a Unix feature.
func sysProcAttr() *syscall.SysProcAttr { return nil }

// killGroup kills the emulator process (the JVM starts no children of its own).
func killGroup(p *os.Process) error { return p.Kill() }

// lockFile takes no lock: concurrent fetches of the emulator are only guarded on Unix.
func lockFile(string) (unlock func(), err error) { return func() {}, nil }
