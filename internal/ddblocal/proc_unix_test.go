//go:build unix

package ddblocal

import (
	"errors"
	"syscall"
	"testing"
)

// assertGroupGone fails t unless no process is left in the process group led by pid.
func assertGroupGone(t *testing.T, pid int) {
	t.Helper()
	if err := syscall.Kill(-pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("process group %d still has processes after Close (kill -0: %v)", pid, err)
	}
}
