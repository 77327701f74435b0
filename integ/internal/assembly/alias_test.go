package assembly_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/chatstack/websocketchatapi/integ/internal/assembly"
	"github.com/chatstack/websocketchatapi/integ/internal/golden"
)

// TestProvisionedAliasesResolveToTheirFunctions loads the reference stack with provisioned
// concurrency (app/testdata/provisioned-stack.template.json, pinned by app's
// TestProvisionedSnapshot): API Gateway invokes the chat function's and the authorizer's live
// aliases there, and the emulator runs the function behind each alias, with the alias's
// invoke permission counted as the function's.
func TestProvisionedAliasesResolveToTheirFunctions(t *testing.T) {
	path := filepath.Join(filepath.Dir(golden.Path(t)), "provisioned-stack.template.json")
	st, err := assembly.LoadTemplate(path, assembly.Options{StackName: golden.StackName})
	if err != nil {
		t.Fatalf("load the provisioned variant: %v", err)
	}
	api := st.API()
	chat := api.Route("sendmessage").Integration
	if chat.FunctionLogicalID != golden.ChatFunction || !strings.Contains(chat.URI, ":function:") || !strings.Contains(chat.URI, ":live/invocations") {
		t.Errorf("sendmessage integration %s invokes %q, want the chat function through its live alias", chat.URI, chat.FunctionLogicalID)
	}
	if c := api.Route("$connect").Integration; c.FunctionLogicalID != golden.ConnectFunction || strings.Contains(c.URI, ":live/") {
		t.Errorf("$connect integration %s invokes %q, want the connect function itself", c.URI, c.FunctionLogicalID)
	}
	auth := api.Route("$connect").Authorizer
	if auth.FunctionLogicalID != golden.AuthorizerFunction || !strings.Contains(auth.URI, ":live/invocations") {
		t.Errorf("authorizer %s invokes %q, want the authorizer function through its live alias", auth.URI, auth.FunctionLogicalID)
	}
	for _, fn := range []string{golden.ChatFunction, golden.AuthorizerFunction} {
		perms := st.PermissionsFor(st.Functions[fn])
		if len(perms) != 1 || !strings.HasSuffix(perms[0].FunctionName, ":live") {
			t.Errorf("%s permissions %+v, want one, on its live alias", fn, perms)
		}
	}
}
