package chatapi_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2authorizers"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/jsii-runtime-go"

	"github.com/chatstack/websocketchatapi/constructs/chatapi"
)

func userFunction(stack awscdk.Stack, id string) awslambda.Function {
	return awslambda.NewFunction(stack, jsii.String(id), &awslambda.FunctionProps{
		Runtime: awslambda.Runtime_NODEJS_22_X(),
		Handler: jsii.String("index.handler"),
		Code:    awslambda.Code_FromInline(jsii.String("exports.handler = async () => ({ statusCode: 200 })")),
	})
}

// permissionsOf counts the invoke permissions of a function.
func (tpl template) permissionsOf(fnID string) int {
	n := 0
	for _, id := range tpl.ofType("AWS::Lambda::Permission") {
		if compact(tpl.Resources[id].Properties["FunctionName"]) == fnID+".Arn" {
			n++
		}
	}
	return n
}

func TestTwoChatApisInOneStack(t *testing.T) {
	stack := newStack(t)
	a := chatapi.NewWebSocketChatApi(stack, jsii.String("Public"), nil)
	b := chatapi.NewWebSocketChatApi(stack, jsii.String("Support"), &chatapi.WebSocketChatApiProps{StageName: jsii.String("support")})
	tpl := synth(t, stack)
	for typ, want := range map[string]int{
		"AWS::ApiGatewayV2::Api": 2, "AWS::ApiGatewayV2::Stage": 2, "AWS::DynamoDB::Table": 2,
		"AWS::Lambda::Function": 12, "AWS::ApiGatewayV2::Integration": 10, "AWS::SQS::Queue": 4, "AWS::Lambda::EventSourceMapping": 2, "AWS::Lambda::Permission": 10,
		"AWS::ApiGatewayV2::Route": 20, "AWS::ApiGatewayV2::IntegrationResponse": 2, "AWS::ApiGatewayV2::Model": 12, "AWS::Cognito::UserPool": 2,
	} {
		if got := len(tpl.ofType(typ)); got != want {
			t.Errorf("%d %s, want %d", got, typ, want)
		}
	}
	// Each chat function reaches its own table and its own API's stage only.
	for _, c := range []struct {
		prefix, stage string
		api           chatapi.WebSocketChatApi
	}{{"Public", "prod", a}, {"Support", "support", b}} {
		fn := tpl.functionID(t, c.prefix+"ChatFunction")
		var apiID, tableID string
		for _, id := range tpl.ofType("AWS::ApiGatewayV2::Api") {
			if strings.HasPrefix(id, c.prefix) {
				apiID = id
			}
		}
		for _, id := range tpl.ofType("AWS::DynamoDB::Table") {
			if strings.HasPrefix(id, c.prefix) {
				tableID = id
			}
		}
		for _, s := range tpl.statements(t, fn) {
			if strings.HasPrefix(s["Action"], "dynamodb:") && !strings.HasPrefix(s["Resource"], tableID+".Arn") {
				t.Errorf("%s reaches table %s", c.prefix, s["Resource"])
			}
			if s["Action"] == "execute-api:ManageConnections" && !strings.Contains(s["Resource"], ":"+apiID+"/"+c.stage+"/POST/") {
				t.Errorf("%s posts to %s", c.prefix, s["Resource"])
			}
		}
		if tpl.permissionsOf(fn) != 1 {
			t.Errorf("%s chat function has %d permissions", c.prefix, tpl.permissionsOf(fn))
		}
	}
}

func TestAddRouteWithFunctionAndGoPackage(t *testing.T) {
	stack := newStack(t)
	chat := chatapi.NewWebSocketChatApi(stack, jsii.String("Chat"), nil)
	typing := userFunction(stack, "Typing")
	chat.AddRoute(jsii.String("typing"), &chatapi.AddRouteOptions{
		Handler:       typing,
		RequestSchema: jsii.String(`{"$schema":"http://json-schema.org/draft-04/schema#","type":"object","required":["roomId"]}`),
	})
	chat.AddRoute(jsii.String("stoptyping"), &chatapi.AddRouteOptions{Handler: typing})
	chat.AddRoute(jsii.String("echo"), &chatapi.AddRouteOptions{
		GoPackage:      jsii.String("testdata/echo"),
		ReturnResponse: jsii.Bool(true),
		Environment:    &map[string]*string{"GREETING": jsii.String("hi")},
	})
	tpl := synth(t, stack)
	routes := tpl.routes()
	if len(routes) != 13 {
		t.Fatalf("%d routes, want 13", len(routes))
	}
	typingID := tpl.functionID(t, "Typing")
	if integrationOf(routes["typing"]) != integrationOf(routes["stoptyping"]) {
		t.Errorf("two routes of one function use two integrations")
	}
	if n := tpl.permissionsOf(typingID); n != 1 {
		t.Errorf("user function has %d permissions, want 1", n)
	}
	if len(tpl.ofType("AWS::ApiGatewayV2::Integration")) != 7 {
		t.Errorf("%d integrations, want 7 (4 built-in functions, ping's MOCK, echo, typing)", len(tpl.ofType("AWS::ApiGatewayV2::Integration")))
	}
	rm, _ := json.Marshal(routes["typing"].Properties["RequestModels"])
	if !strings.Contains(string(rm), `"$default":"typing`) {
		t.Errorf("typing request models %s", rm)
	}
	if _, ok := routes["stoptyping"].Properties["RequestModels"]; ok {
		t.Errorf("stoptyping got a model it did not ask for")
	}

	echoID := tpl.functionID(t, "ChatRouteEchoFunction")
	echo := tpl.Resources[echoID].Properties
	env := echo["Environment"].(map[string]any)["Variables"].(map[string]any)
	if echo["Runtime"] != "provided.al2023" || env["GREETING"] != "hi" || env["TABLE_NAME"] == nil || env["CALLBACK_URL"] == nil {
		t.Errorf("echo function %v", echo)
	}
	var posts bool
	for _, s := range tpl.statements(t, echoID) {
		posts = posts || s["Action"] == "execute-api:ManageConnections"
	}
	if !posts {
		t.Errorf("echo function cannot post to connections")
	}
	responses := 0
	for _, id := range tpl.ofType("AWS::ApiGatewayV2::RouteResponse") {
		if ref(tpl.Resources[id].Properties["RouteId"]) == routeID(tpl, "echo") {
			responses++
		}
	}
	if responses != 1 {
		t.Errorf("echo has %d route responses, want 1", responses)
	}
	def := tpl.Resources[tpl.functionID(t, "ChatDefaultFunction")].Properties["Environment"].(map[string]any)["Variables"].(map[string]any)
	if def["CHAT_ACTIONS"] != "direct,echo,history,joinroom,leaveroom,members,ping,sendmessage,stoptyping,typing" {
		t.Errorf("CHAT_ACTIONS %v", def["CHAT_ACTIONS"])
	}
}

func routeID(tpl template, key string) string {
	for _, id := range tpl.ofType("AWS::ApiGatewayV2::Route") {
		if tpl.Resources[id].Properties["RouteKey"] == key {
			return id
		}
	}
	return ""
}

func TestAddRouteRefusesBadInput(t *testing.T) {
	stack := newStack(t)
	chat := chatapi.NewWebSocketChatApi(stack, jsii.String("Chat"), nil)
	fn := userFunction(stack, "Fn")
	tests := []struct {
		name string
		key  string
		opts *chatapi.AddRouteOptions
		want string
	}{
		{"reserved", "$connect", &chatapi.AddRouteOptions{Handler: fn}, `"$connect" is reserved`},
		{"dollar", "$custom", &chatapi.AddRouteOptions{Handler: fn}, "must not start with $"},
		{"heartbeat", "ping", &chatapi.AddRouteOptions{Handler: fn}, `route key "ping" is reserved: the construct's heartbeat route`},
		{"duplicate", "sendmessage", &chatapi.AddRouteOptions{Handler: fn}, `"sendmessage" already exists`},
		{"empty", "", &chatapi.AddRouteOptions{Handler: fn}, "must not be empty"},
		{"chars", "a/b", &chatapi.AddRouteOptions{Handler: fn}, "letters, digits"},
		{"no handler", "x", &chatapi.AddRouteOptions{}, "exactly one of Handler and GoPackage"},
		{"both", "x", &chatapi.AddRouteOptions{Handler: fn, GoPackage: jsii.String("testdata/echo")}, "exactly one of Handler and GoPackage"},
		{"authorizer", "x", &chatapi.AddRouteOptions{Handler: fn, Authorizer: awsapigatewayv2authorizers.NewWebSocketLambdaAuthorizer(jsii.String("Extra"), fn, nil)}, "AddRoute.Authorizer"},
		{"schema json", "x", &chatapi.AddRouteOptions{Handler: fn, RequestSchema: jsii.String("{")}, "AddRoute.RequestSchema"},
		{"schema draft", "x", &chatapi.AddRouteOptions{Handler: fn, RequestSchema: jsii.String(`{"type":"nope"}`)}, "not a valid JSON Schema draft-04"},
		{"nil options", "x", nil, "options with Handler or GoPackage are required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := mustPanic(t, func() { chat.AddRoute(jsii.String(tt.key), tt.opts) })
			if !strings.HasPrefix(msg, "chatapi: Test/Chat: AddRoute") || !strings.Contains(msg, tt.want) {
				t.Errorf("panic %q, want %q", msg, tt.want)
			}
		})
	}
}

// TestAddRouteGoPackageErrorsNameThePaths checks that a GoPackage that is missing, a file, or
// not a main package is refused with the absolute path it resolved to and the working
// directory it was relative to, so a user can see where the synth looked.
func TestAddRouteGoPackageErrorsNameThePaths(t *testing.T) {
	stack := newStack(t)
	chat := chatapi.NewWebSocketChatApi(stack, jsii.String("Chat"), nil)
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	notMain := t.TempDir()
	for name, body := range map[string]string{"go.mod": "module example.com/lib\n\ngo 1.26\n", "lib.go": "package lib\n"} {
		if err := os.WriteFile(filepath.Join(notMain, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name, dir string
		want      []string
	}{
		{"missing", "./lambda/typing", []string{`AddRoute.GoPackage: "./lambda/typing" does not exist`,
			"resolved to " + filepath.Join(wd, "lambda", "typing") + ", relative to the synth's working directory " + wd}},
		{"file", "testdata/echo/main.go", []string{`"testdata/echo/main.go" is a file, not a Go main package folder`,
			"resolved to " + filepath.Join(wd, "testdata", "echo", "main.go")}},
		{"not main", notMain, []string{`AddRoute.GoPackage: "` + notMain + `" (an absolute path): `, "package lib is not a main package"}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := mustPanic(t, func() {
				chat.AddRoute(jsii.String(fmt.Sprintf("bad%d", i)), &chatapi.AddRouteOptions{GoPackage: jsii.String(tt.dir)})
			})
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("panic %q lacks %q", msg, w)
				}
			}
		})
	}
}

// TestThreeHundredRoutes shows that the API's quota, not Lambda's 20 KB policy limit nor the
// 500-resource stack limit, bounds the routes of one function.
func TestThreeHundredRoutes(t *testing.T) {
	stack := newStack(t)
	chat := chatapi.NewWebSocketChatApi(stack, jsii.String("Chat"), nil)
	fn := userFunction(stack, "Many")
	for i := len(*chat.RouteKeys()); i < chatapi.MaxRoutes; i++ {
		chat.AddRoute(jsii.String(fmt.Sprintf("action%03d", i)), &chatapi.AddRouteOptions{Handler: fn})
	}
	msg := mustPanic(t, func() { chat.AddRoute(jsii.String("onetoomany"), &chatapi.AddRouteOptions{Handler: fn}) })
	if !strings.Contains(msg, "at most 300 routes") {
		t.Errorf("301st route: %q", msg)
	}
	tpl := synth(t, stack)
	if n := len(tpl.routes()); n != 300 {
		t.Fatalf("%d routes", n)
	}
	if n := tpl.permissionsOf(tpl.functionID(t, "Many")); n != 1 {
		t.Errorf("function behind 293 routes has %d permissions, want 1", n)
	}
	if n := len(tpl.Resources); n > 500 {
		t.Errorf("%d resources: over CloudFormation's 500", n)
	}
	raw, _ := json.Marshal(tpl)
	if len(raw) >= 1<<20 {
		t.Errorf("template is %d bytes: over CloudFormation's 1 MB", len(raw))
	}
	t.Logf("300 routes: %d resources, %d bytes", len(tpl.Resources), len(raw))
}

// TestAddRouteGoPackageIDs gives every route key its own function, whatever punctuation or
// case tells keys apart, and keeps the readable id of a plain key.
func TestAddRouteGoPackageIDs(t *testing.T) {
	stack := newStack(t)
	chat := chatapi.NewWebSocketChatApi(stack, jsii.String("Chat"), &chatapi.WebSocketChatApiProps{Alarms: jsii.Bool(false), Dashboard: jsii.Bool(false)})
	keys := []string{"ab", "a-b", "a.b", "Ab", "_", "-", "a:b", "9lives"}
	for _, k := range keys {
		chat.AddRoute(jsii.String(k), &chatapi.AddRouteOptions{GoPackage: jsii.String("testdata/echo")})
	}
	tpl := synth(t, stack)
	described := map[string]string{}
	for id, fn := range tpl.functions() {
		if d, _ := fn.Properties["Description"].(string); strings.HasPrefix(d, "Serves the ") && strings.HasSuffix(d, " route") {
			described[strings.TrimSuffix(strings.TrimPrefix(d, "Serves the "), " route")] = id
		}
	}
	if len(described) != len(keys) {
		t.Fatalf("%d route functions %v, want one for each of %q", len(described), described, keys)
	}
	if id := described["ab"]; !strings.HasPrefix(id, "ChatRouteAbFunction") {
		t.Errorf("route ab's function is %s, want the id it always had (ChatRouteAbFunction...)", id)
	}
}

// TestGrantManageConnections grants the stage's own @connections access: every method, this
// stage only.
func TestGrantManageConnections(t *testing.T) {
	stack := newStack(t)
	chat := chatapi.NewWebSocketChatApi(stack, jsii.String("Chat"), &chatapi.WebSocketChatApiProps{StageName: jsii.String("live")})
	backend := userFunction(stack, "Backend")
	chat.GrantManageConnections(backend)
	tpl := synth(t, stack)
	var found []string
	for _, s := range tpl.statements(t, tpl.functionID(t, "Backend")) {
		if s["Action"] == "execute-api:ManageConnections" {
			found = append(found, s["Resource"])
		}
	}
	apiID := tpl.ofType("AWS::ApiGatewayV2::Api")[0]
	if len(found) != 1 || !strings.Contains(found[0], apiID) || !strings.HasSuffix(found[0], "/live/*/@connections/*") {
		t.Errorf("ManageConnections on %q, want this API's live stage, every method", found)
	}
}
