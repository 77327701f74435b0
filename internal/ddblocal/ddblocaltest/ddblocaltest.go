// Package ddblocaltest shares one DynamoDB Local (package ddblocal) between the tests of a
// package.
package ddblocaltest

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/chatstack/websocketchatapi/internal/ddblocal"
)

// RunTests is the body of a TestMain that shares one emulator between a package's tests: it
// starts DynamoDB Local, sets *srv, runs m, closes the server and returns the exit code.
//
//	var ddb *ddblocal.Server
//
//	func TestMain(m *testing.M) { os.Exit(ddblocaltest.RunTests(m, &ddb)) }
//
// When the emulator cannot start it prints why and returns 1 without running any test.
func RunTests(m *testing.M, srv **ddblocal.Server) int {
	s, err := ddblocal.Start(context.Background())
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
