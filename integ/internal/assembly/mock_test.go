package assembly_test

import (
	"strings"
	"testing"

	"github.com/chatstack/websocketchatapi/integ/internal/assembly"
	"github.com/chatstack/websocketchatapi/integ/internal/golden"
	"github.com/chatstack/websocketchatapi/protocol"
)

// mockTemplate is a WebSocket API with one MOCK route; integration and responses are the JSON
// properties of the integration and extra resources (integration responses).
func mockTemplate(integration, extra string) string {
	return `{"Resources": {
    "Api": {"Type": "AWS::ApiGatewayV2::Api", "Properties": {"Name": "a", "ProtocolType": "WEBSOCKET", "RouteSelectionExpression": "$request.body.action"}},
    "Mock": {"Type": "AWS::ApiGatewayV2::Integration", "Properties": {"ApiId": {"Ref": "Api"}, "IntegrationType": "MOCK", ` + integration + `}},
    "Route": {"Type": "AWS::ApiGatewayV2::Route", "Properties": {"ApiId": {"Ref": "Api"}, "RouteKey": "ping", "RouteResponseSelectionExpression": "$default",
      "Target": {"Fn::Join": ["", ["integrations/", {"Ref": "Mock"}]]}}}` + extra + `
  }}`
}

// mockResponse is an integration response resource of the Mock integration.
func mockResponse(id, key, props string) string {
	return `,
    "` + id + `": {"Type": "AWS::ApiGatewayV2::IntegrationResponse", "Properties": {"ApiId": {"Ref": "Api"}, "IntegrationId": {"Ref": "Mock"}, "IntegrationResponseKey": "` + key + `"` + props + `}}`
}

func loadMock(t *testing.T, integration, extra string) *assembly.Mock {
	t.Helper()
	st, err := loadSynthetic(t, mockTemplate(integration, extra), assembly.Options{})
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	in := st.API().Route("ping").Integration
	if in == nil || in.Mock == nil {
		t.Fatalf("ping integration %+v has no Mock", in)
	}
	return in.Mock
}

func TestReferencePingIsAStaticMock(t *testing.T) {
	st := golden.Load(t, assembly.Options{})
	in := st.API().Route(protocol.RoutePing).Integration
	if in == nil || in.Type != "MOCK" || in.Mock == nil || in.Function != nil {
		t.Fatalf("ping integration = %+v, want a MOCK with no function", in)
	}
	for _, body := range []string{`{"action":"ping"}`, `{"action":"ping","x":[1,2,3]}`} {
		a, err := in.Mock.Answer([]byte(body))
		if err != nil {
			t.Fatalf("Answer(%s): %v", body, err)
		}
		if a.StatusCode != 200 || a.Response == nil || a.Response.Key != "$default" || a.Body != `{"type":"pong"}` {
			t.Errorf("Answer(%s) = %+v, want 200 via $default with the pong frame", body, a)
		}
	}
}

func TestMockPicksTheIntegrationResponseByStatusCode(t *testing.T) {
	m := loadMock(t, `"TemplateSelectionExpression": "${request.body.kind}",
      "RequestTemplates": {"bad": "{\"statusCode\": 404}", "$default": "{ \"statusCode\" : 201, \"ignored\": true }"}`,
		mockResponse("Ok", `/2\\d\\d/`, `, "TemplateSelectionExpression": "\\$default", "ResponseTemplates": {"$default": "{\"ok\":true}"}`)+
			mockResponse("Other", "$default", `, "ResponseTemplates": {"$default": "# not a directive: 50% off $ 5"}`)+
			mockResponse("Empty", `/4\\d\\d/`, ``))
	cases := []struct{ body, wantKey, wantBody string }{
		{`{"action":"ping","kind":"bad"}`, `/4\d\d/`, ""},
		{`{"action":"ping","kind":"other"}`, `/2\d\d/`, `{"ok":true}`},
		{`not json`, `/2\d\d/`, `{"ok":true}`},
	}
	for _, c := range cases {
		a, err := m.Answer([]byte(c.body))
		if err != nil || a.Response == nil || a.Response.Key != c.wantKey || a.Body != c.wantBody {
			t.Errorf("Answer(%s) = %+v, %v; want response %s with body %q", c.body, a, err, c.wantKey, c.wantBody)
		}
	}
	m = loadMock(t, `"RequestTemplates": {"$default": "{\"statusCode\": 500}"}`,
		mockResponse("Ok", `/2\\d\\d/`, `, "ResponseTemplates": {"$default": "x"}`)+mockResponse("Fallback", "$default", `, "ResponseTemplates": {"$default": "# not a directive: 50% off $ 5"}`))
	if a, err := m.Answer([]byte(`{}`)); err != nil || a.Response.Key != "$default" || a.Body != "# not a directive: 50% off $ 5" {
		t.Errorf("500 answer = %+v, %v; want the $default response's plain text", a, err)
	}
}

func TestMockConfigurationErrorsAreAWSs(t *testing.T) {
	m := loadMock(t, `"TemplateSelectionExpression": "${request.body.kind}", "RequestTemplates": {"a": "{\"statusCode\": 200}"}`,
		mockResponse("Only4xx", `/4\\d\\d/`, ``))
	if _, err := m.Answer([]byte(`{"kind":"b"}`)); err == nil || !strings.Contains(err.Error(), "statusCode should be an integer which defined in request template") {
		t.Errorf("no matching request template: %v", err)
	}
	if _, err := m.Answer([]byte(`{"kind":"a"}`)); err == nil || !strings.Contains(err.Error(), "No match for output mapping and no default output mapping configured. Endpoint Response Status Code: 200") {
		t.Errorf("no matching integration response: %v", err)
	}
}

func TestMockRefusesWhatTheEmulatorDoesNotUnderstand(t *testing.T) {
	ok := mockResponse("Pong", "$default", `, "ResponseTemplates": {"$default": "{\"type\":\"pong\"}"}`)
	cases := []struct{ name, integration, extra, wantID, want string }{
		{"set directive in request", `"RequestTemplates": {"$default": "#set($x = 1){\"statusCode\": 200}"}`, ok, "Mock", `Velocity markup "#set`},
		{"reference in request", `"RequestTemplates": {"$default": "{\"statusCode\": $input.path('$.code')}"}`, ok, "Mock", `Velocity markup "$input`},
		{"if in response", `"RequestTemplates": {"$default": "{\"statusCode\": 200}"}`,
			mockResponse("Pong", "$default", `, "ResponseTemplates": {"$default": "#if(true)x#end"}`), "Pong", `Velocity markup "#if`},
		{"context in response", `"RequestTemplates": {"$default": "{\"statusCode\": 200}"}`,
			mockResponse("Pong", "$default", `, "ResponseTemplates": {"$default": "{\"id\":\"${context.connectionId}\"}"}`), "Pong", `Velocity markup "${context`},
		{"escape", `"RequestTemplates": {"$default": "{\"statusCode\": 200, \"a\": \"\\\\$x\"}"}`, ok, "Mock", `Velocity markup "\\$`},
		{"not JSON", `"RequestTemplates": {"$default": "statusCode=200"}`, ok, "Mock", "not a JSON object"},
		{"no statusCode", `"RequestTemplates": {"$default": "{\"code\": 200}"}`, ok, "Mock", "statusCode should be an integer"},
		{"string statusCode", `"RequestTemplates": {"$default": "{\"statusCode\": \"200\"}"}`, ok, "Mock", "statusCode should be an integer"},
		{"selection variable", `"TemplateSelectionExpression": "$context.routeKey", "RequestTemplates": {"$default": "{\"statusCode\": 200}"}`, ok, "Mock", "TemplateSelectionExpression"},
		{"response key", `"RequestTemplates": {"$default": "{\"statusCode\": 200}"}`, mockResponse("Pong", "200", ``), "Pong", `IntegrationResponseKey "200" must be $default or a regular expression`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := loadSynthetic(t, mockTemplate(c.integration, c.extra), assembly.Options{})
			if err == nil {
				t.Fatal("loaded, want the template refused")
			}
			if msg := err.Error(); !strings.Contains(msg, c.wantID+" (AWS::ApiGatewayV2::") || !strings.Contains(msg, c.want) {
				t.Errorf("error %q, want it to name %s and say %q", msg, c.wantID, c.want)
			}
		})
	}
}
