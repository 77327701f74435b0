package chatapi_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/jsii-runtime-go"

	"github.com/chatstack/websocketchatapi/constructs/chatapi"
	"github.com/chatstack/websocketchatapi/protocol"
)

// TestPingRouteIsAnsweredByApiGateway checks the heartbeat route: a MOCK integration whose
// static request template yields 200, an integration response whose static template is the
// pong frame, and a $default route response, with no authorizer, no model and no function.
func TestPingRouteIsAnsweredByApiGateway(t *testing.T) {
	tpl, c := defaultTemplate(t)
	route, ok := tpl.routes()[protocol.RoutePing]
	if !ok {
		t.Fatalf("no %q route", protocol.RoutePing)
	}
	if c.Route(jsii.String(protocol.RoutePing)) == nil {
		t.Errorf("Route(%q) is nil", protocol.RoutePing)
	}
	p := route.Properties
	if p["AuthorizationType"] != "NONE" || p["AuthorizerId"] != nil || p["RequestModels"] != nil || p["ModelSelectionExpression"] != nil {
		t.Errorf("ping route %v: want no authorizer and no model", p)
	}
	if p["RouteResponseSelectionExpression"] != "$default" {
		t.Errorf("ping route's RouteResponseSelectionExpression = %v, want $default", p["RouteResponseSelectionExpression"])
	}

	integrationID := integrationOf(route)
	integration, ok := tpl.Resources[integrationID]
	if !ok || integration.Type != "AWS::ApiGatewayV2::Integration" {
		t.Fatalf("ping route targets %q, not an integration of the template", integrationID)
	}
	ip := integration.Properties
	templates, _ := ip["RequestTemplates"].(map[string]any)
	if ip["IntegrationType"] != "MOCK" || ip["TemplateSelectionExpression"] != `\$default` || len(templates) != 1 {
		t.Fatalf("ping integration %v: want MOCK, TemplateSelectionExpression \\$default, one request template", ip)
	}
	var request struct{ StatusCode int }
	if err := json.Unmarshal([]byte(templates["$default"].(string)), &request); err != nil || request.StatusCode != 200 {
		t.Errorf("ping request template %q: want static JSON with statusCode 200 (%v)", templates["$default"], err)
	}

	_, ir := tpl.one(t, "AWS::ApiGatewayV2::IntegrationResponse", nil)
	rp := ir.Properties
	responses, _ := rp["ResponseTemplates"].(map[string]any)
	if ref(rp["IntegrationId"]) != integrationID || rp["IntegrationResponseKey"] != "$default" || rp["TemplateSelectionExpression"] != `\$default` || len(responses) != 1 {
		t.Fatalf("integration response %v: want key $default of %s with one template", rp, integrationID)
	}
	if got, want := responses["$default"], string(protocol.Encode(protocol.Pong{Type: protocol.FramePong})); got != want {
		t.Errorf("pong template %q, want %q", got, want)
	}

	pingID := routeID(tpl, protocol.RoutePing)
	tpl.one(t, "AWS::ApiGatewayV2::RouteResponse", func(p map[string]any) bool {
		return ref(p["RouteId"]) == pingID && p["RouteResponseKey"] == "$default"
	})
}

// TestPingRouteThrottlingMakesTheStageWait checks that RouteThrottling may name the ping
// route like any other, and that the stage then depends on it.
func TestPingRouteThrottlingMakesTheStageWait(t *testing.T) {
	stack := newStack(t)
	chatapi.NewWebSocketChatApi(stack, jsii.String("Chat"), &chatapi.WebSocketChatApiProps{
		RouteThrottling: &map[string]*chatapi.ThrottleProps{
			protocol.RoutePing: {RateLimit: jsii.Number(5), BurstLimit: jsii.Number(10)},
		},
	})
	tpl := synth(t, stack)
	stageID, stage := tpl.one(t, "AWS::ApiGatewayV2::Stage", nil)
	settings, _ := stage.Properties["RouteSettings"].(map[string]any)
	ping, _ := settings[protocol.RoutePing].(map[string]any)
	if ping["ThrottlingRateLimit"] != 5.0 || ping["DetailedMetricsEnabled"] != true {
		t.Errorf("stage RouteSettings[ping] = %v, want rate 5 with detailed metrics", ping)
	}
	pingID := routeID(tpl, protocol.RoutePing)
	deps, _ := json.Marshal(stage.DependsOn)
	if pingID == "" || !strings.Contains(string(deps), `"`+pingID+`"`) {
		t.Errorf("stage %s DependsOn %s, want the ping route %q", stageID, deps, pingID)
	}
}
