// Package ddblocaltest shares one DynamoDB Local (package ddblocal) between the tests of a
// package:
//
//	func TestMain(m *testing.M) { ddblocaltest.Main(m) }
//
// and each test that needs it reaches it at Endpoint(t), with a table of its own. The emulator
// starts with the first test that asks for it, so that a test process that runs none (a
// fuzzing worker, a -run that selects other tests) starts none.
package ddblocaltest

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/chatstack/websocketchatapi/internal/ddblocal"
)

// The emulator of the test process, started by the first Endpoint.
var (
	once     sync.Once
	server   *ddblocal.Server
	startErr error
)

// Main is the TestMain of a package whose tests share one emulator: it runs the tests, closes
// the emulator if one of them started it, and exits with the tests' status (1 when the
// emulator fails to close).
func Main(m *testing.M) {
	code := m.Run()
	if server != nil {
		if err := server.Close(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = max(code, 1)
		}
	}
	os.Exit(code)
}

// Endpoint returns the endpoint of the process's emulator, starting it on first use. When the
// emulator cannot start, it fails t (and every later caller) with the reason.
func Endpoint(t testing.TB) string {
	t.Helper()
	once.Do(func() { server, startErr = ddblocal.Start(context.Background()) })
	if startErr != nil {
		t.Fatal(startErr)
	}
	return server.Endpoint()
}
