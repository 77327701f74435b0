// Package ddblocaltest shares one DynamoDB Local (package ddblocal) between the tests of a
// package:
//
//	func TestMain(m *testing.M) { ddblocaltest.Main(m) }
//
// and each test reaches it at Endpoint(), with a table of its own.
package ddblocaltest

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/chatstack/websocketchatapi/internal/ddblocal"
)

// server is the emulator Main started.
var server *ddblocal.Server

// Main is the TestMain of a package whose tests share one emulator: it starts DynamoDB Local,
// runs the tests, closes the emulator and exits with the tests' status. When the emulator
// cannot start it prints why and exits with status 1 without running any test.
func Main(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	s, err := ddblocal.Start(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	server = s
	code := m.Run()
	if err := s.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// Endpoint returns the endpoint of the emulator Main started. It panics when Main did not
// start one: the package's TestMain must call Main.
func Endpoint() string {
	if server == nil {
		panic("ddblocaltest: Endpoint called without ddblocaltest.Main as TestMain")
	}
	return server.Endpoint()
}
