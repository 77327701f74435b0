// Package golden gives the emulator's tests the reference stack's template, the one the
// reference app's snapshot test records (app/testdata/reference-stack.template.json), and the
// logical ids of the resources they look at.
package golden

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/chatstack/websocketchatapi/integ/internal/assembly"
)

// The reference stack's name and the logical ids of its resources in the template.
const (
	StackName          = "WebSocketChatApi"
	ChatFunction       = "ChatChatFunction21D1B252"
	ConnectFunction    = "ChatConnectFunctionFC713592"
	DisconnectFunction = "ChatDisconnectFunctionFAABE735"
	DefaultFunction    = "ChatDefaultFunction831D5DD1"
	AuthorizerFunction = "ChatAuthorizerFunctionC3C26815"
	Table              = "ChatTable4603252B"
)

// templateFile is the template's path relative to the module root.
const templateFile = "app/testdata/reference-stack.template.json"

// Path returns the path of the reference template in the module that holds the working
// directory (a test runs in its package's folder); it fails t when there is none.
func Path(t testing.TB) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, templateFile)
		}
		if filepath.Dir(dir) == dir {
			t.Fatalf("no go.mod in %s or above", wd)
		}
	}
}

// Load resolves the reference template with opts; an empty opts.StackName is StackName.
func Load(t testing.TB, opts assembly.Options) *assembly.Stack {
	t.Helper()
	if opts.StackName == "" {
		opts.StackName = StackName
	}
	st, err := assembly.LoadTemplate(Path(t), opts)
	if err != nil {
		t.Fatalf("load the reference template: %v", err)
	}
	return st
}
