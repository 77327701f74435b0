//go:build unix

package lambdaemu

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// killGroup sends SIGKILL to the process group led by p. A group that is already gone is not
// an error.
func killGroup(p *os.Process) error {
	if err := syscall.Kill(-p.Pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("kill process group %d: %w", p.Pid, err)
	}
	return nil
}
