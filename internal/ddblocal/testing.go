package ddblocal

import (
	"context"
	"fmt"
	"os"
	"testing"
)

// RunTests is the body of a TestMain that shares one emulator between a package's tests: it
// starts DynamoDB Local, sets *srv, runs m, closes the server and returns the exit code.
//
//	var ddb *ddblocal.Server
//
//	func TestMain(m *testing.M) { os.Exit(ddblocal.RunTests(m, &ddb)) }
//
// When the emulator cannot start it prints why and returns 1 without running any test.
func RunTests(m *testing.M, srv **Server) int {
	s, err := Start(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	*srv = s
	code := m.Run()
	if err := s.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// ForTest starts an emulator for one test or benchmark and closes it when t finishes. Prefer
// RunTests, which starts one per package: each start costs a JVM start (seconds).
func ForTest(t testing.TB) *Server {
	t.Helper()
	s, err := Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}
