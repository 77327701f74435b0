package ddblocal

import "syscall"

// setParentDeathSignal asks Linux to kill the emulator when the process that started it dies
// without calling Close (a test binary killed by -timeout, say), so no JVM outlives its tests.
//
// Linux sends the signal when the OS thread that started the child exits. The Go runtime ends
// a thread only when a goroutine locked to it (runtime.LockOSThread) returns without unlocking,
// which test code here does not do.
func setParentDeathSignal(attr *syscall.SysProcAttr) {
	attr.Pdeathsig = syscall.SIGKILL
}
