package chatapi_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"

	"github.com/chatstack/websocketchatapi/constructs/chatapi"
)

// newRole makes a role of stack that an account's principals may assume: a device or backend.
func newRole(stack awscdk.Stack, id string) awsiam.Role {
	return awsiam.NewRole(stack, jsii.String(id), &awsiam.RoleProps{
		AssumedBy: awsiam.NewAccountRootPrincipal(),
	})
}

// roleStatements returns the statements of the AWS::IAM::Policy resources attached to role.
func (tpl template) roleStatements(t *testing.T, roleID string) []map[string]string {
	t.Helper()
	var out []map[string]string
	for _, id := range tpl.ofType("AWS::IAM::Policy") {
		p := tpl.Resources[id].Properties
		attached := false
		for _, r := range p["Roles"].([]any) {
			attached = attached || ref(r) == roleID
		}
		if !attached {
			continue
		}
		for _, s := range p["PolicyDocument"].(map[string]any)["Statement"].([]any) {
			st := s.(map[string]any)
			out = append(out, map[string]string{
				"Effect":   st["Effect"].(string),
				"Action":   listText(st["Action"]),
				"Resource": listText(st["Resource"]),
			})
		}
	}
	return out
}

// TestIamAuthentication: $connect authorizes with AWS_IAM, there is no authorizer (resource
// or function) and no user pool, and the Grantees get execute-api:Invoke on $connect only.
func TestIamAuthentication(t *testing.T) {
	stack := newStack(t)
	device := newRole(stack, "Device")
	chat := chatapi.NewWebSocketChatApi(stack, jsii.String("Chat"), &chatapi.WebSocketChatApiProps{
		StageName:      jsii.String("live"),
		Authentication: chatapi.IamAuthentication(&chatapi.IamAuthenticationProps{Grantees: &[]awsiam.IGrantable{device}}),
		AllowedOrigins: jsii.Strings("https://chat.example.com"),
	})
	if chat.AuthorizerFunction() != nil || chat.UserPool() != nil {
		t.Errorf("IAM authentication made an authorizer function or a user pool")
	}
	tpl := synth(t, stack)
	for key, r := range tpl.routes() {
		want := "NONE"
		if key == "$connect" {
			want = "AWS_IAM"
		}
		if got := r.Properties["AuthorizationType"]; got != want && !(got == nil && want == "NONE") {
			t.Errorf("route %s AuthorizationType %v, want %s", key, got, want)
		}
		if r.Properties["AuthorizerId"] != nil {
			t.Errorf("route %s has an authorizer", key)
		}
	}
	if n := len(tpl.ofType("AWS::ApiGatewayV2::Authorizer")) + len(tpl.ofType("AWS::Cognito::UserPool")); n != 0 {
		t.Errorf("IAM authentication made %d authorizers/pools", n)
	}
	if len(tpl.functions()) != 5 {
		t.Errorf("%d functions, want 5 (no authorizer)", len(tpl.functions()))
	}
	apiID := tpl.ofType("AWS::ApiGatewayV2::Api")[0]
	want := []map[string]string{{
		"Effect":   "Allow",
		"Action":   "execute-api:Invoke",
		"Resource": "arn:AWS::Partition:execute-api:AWS::Region:AWS::AccountId:" + apiID + "/live/$connect",
	}}
	if got := tpl.roleStatements(t, tpl.roleID(t, "Device")); !equalStatements(got, want) {
		t.Errorf("the grantee's statements %v, want %v", got, want)
	}
	// AllowedOrigins still applies: the connect function enforces it.
	env := tpl.Resources[tpl.functionID(t, "ChatConnectFunction")].Properties["Environment"].(map[string]any)["Variables"].(map[string]any)
	if env["ALLOWED_ORIGINS"] != "https://chat.example.com" {
		t.Errorf("connect env %v, want ALLOWED_ORIGINS", env)
	}
}

// TestGrantConnectWithAnyAuthentication grants $connect of this stage only, whatever the
// authentication (it only matters with IamAuthentication, which the doc says).
func TestGrantConnectWithAnyAuthentication(t *testing.T) {
	stack := newStack(t)
	chat := chatapi.NewWebSocketChatApi(stack, jsii.String("Chat"), nil)
	chat.GrantConnect(newRole(stack, "Backend"))
	tpl := synth(t, stack)
	apiID := tpl.ofType("AWS::ApiGatewayV2::Api")[0]
	want := []map[string]string{{
		"Effect":   "Allow",
		"Action":   "execute-api:Invoke",
		"Resource": "arn:AWS::Partition:execute-api:AWS::Region:AWS::AccountId:" + apiID + "/prod/$connect",
	}}
	if got := tpl.roleStatements(t, tpl.roleID(t, "Backend")); !equalStatements(got, want) {
		t.Errorf("statements %v, want %v", got, want)
	}
	if _, connect := tpl.one(t, "AWS::ApiGatewayV2::Route", func(p map[string]any) bool { return p["RouteKey"] == "$connect" }); connect.Properties["AuthorizationType"] != "CUSTOM" {
		t.Errorf("GrantConnect changed the authorization of $connect: %v", connect.Properties["AuthorizationType"])
	}
	msg := mustPanic(t, func() { chat.GrantConnect(nil) })
	if !strings.HasPrefix(msg, "chatapi: Test/Chat: GrantConnect: ") {
		t.Errorf("panic %q", msg)
	}
}

// TestIamAuthenticationRefusals: what cannot apply to IAM authentication fails at synth.
func TestIamAuthenticationRefusals(t *testing.T) {
	tests := []struct {
		name  string
		props chatapi.WebSocketChatApiProps
		want  string
	}{
		{"token sources", chatapi.WebSocketChatApiProps{
			Authentication: chatapi.IamAuthentication(nil),
			TokenSources:   &[]chatapi.TokenSource{chatapi.TokenSourceQueryString},
		}, "TokenSources: does not apply to IamAuthentication"},
		{"nil grantee", chatapi.WebSocketChatApiProps{
			Authentication: chatapi.IamAuthentication(&chatapi.IamAuthenticationProps{Grantees: &[]awsiam.IGrantable{nil}}),
		}, "Authentication.Grantees: must not contain nil"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stack := newStack(t)
			msg := mustPanic(t, func() { chatapi.NewWebSocketChatApi(stack, jsii.String("Chat"), &tt.props) })
			if want := "chatapi: Test/Chat: " + tt.want; !strings.HasPrefix(msg, want) {
				t.Errorf("panic %q, want it to start with %q", msg, want)
			}
		})
	}
}

// roleID returns the logical id of the role whose id starts with prefix.
func (tpl template) roleID(t *testing.T, prefix string) string {
	t.Helper()
	for _, id := range tpl.ofType("AWS::IAM::Role") {
		if strings.HasPrefix(id, prefix) {
			return id
		}
	}
	t.Fatalf("no role %s*", prefix)
	return ""
}

func equalStatements(a, b []map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		for k, v := range b[i] {
			if a[i][k] != v {
				return false
			}
		}
	}
	return true
}
