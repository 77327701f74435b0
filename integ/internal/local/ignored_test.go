package local

import (
	"strings"
	"testing"

	"github.com/chatstack/websocketchatapi/integ/internal/assembly"
)

// TestIgnoredNamesTheCustomDomain: a custom domain, its mapping and record have no local
// meaning; the runner is told so, naming each, and nothing else is listed.
func TestIgnoredNamesTheCustomDomain(t *testing.T) {
	st := &assembly.Stack{Resources: map[string]*assembly.Resource{
		"ChatDomain":  {LogicalID: "ChatDomain", Type: "AWS::ApiGatewayV2::DomainName", Properties: map[string]any{"DomainName": "chat.example.com"}},
		"ChatMapping": {LogicalID: "ChatMapping", Type: "AWS::ApiGatewayV2::ApiMapping"},
		"ChatRecord":  {LogicalID: "ChatRecord", Type: "AWS::Route53::RecordSet"},
		"ChatTable":   {LogicalID: "ChatTable", Type: "AWS::DynamoDB::Table"},
	}}
	got := ignoredResources(st)
	if len(got) != 3 || !strings.HasPrefix(got[0], "ChatDomain (AWS::ApiGatewayV2::DomainName chat.example.com) is ignored locally") ||
		!strings.HasPrefix(got[1], "ChatMapping ") || !strings.HasPrefix(got[2], "ChatRecord ") {
		t.Fatalf("ignored = %q", got)
	}
	if got := ignoredResources(&assembly.Stack{}); len(got) != 0 {
		t.Errorf("an empty stack ignores %q", got)
	}
}
