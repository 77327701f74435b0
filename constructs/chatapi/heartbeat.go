package chatapi

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2integrations"
	"github.com/aws/jsii-runtime-go"

	"github.com/chatstack/websocketchatapi/protocol"
)

// The heartbeat route answers {"action":"ping"} from API Gateway itself: a MOCK integration
// whose static request template yields status 200, an integration response ($default) whose
// static response template is the pong frame, and a $default route response that sends it
// back. A heartbeat thus costs one message and no Lambda invocation, and it counts as
// activity for API Gateway's 10-minute idle timeout.

// pongTemplate is the ping route's answer, encoded from protocol.Pong at synth so that the
// template and the protocol cannot drift. It holds no $ or #, so API Gateway's VTL renders
// it as it is.
var pongTemplate = string(protocol.Encode(protocol.Pong{Type: protocol.FramePong}))

const (
	// mockRequestTemplate is the MOCK integration's request template: a MOCK integration
	// "returns" the statusCode its request template yields.
	mockRequestTemplate = `{"statusCode": 200}`
	// staticTemplateSelection selects the "$default" template whatever the message holds
	// (a selection expression escapes the $ of the reserved key with \).
	staticTemplateSelection = `\$default`
	// defaultKey is API Gateway's catch-all key of templates, integration responses and
	// route responses.
	defaultKey = "$default"
	// pingIntegrationID is the construct id of the ping route's MOCK integration, a child of
	// the route.
	pingIntegrationID = "PingIntegration"
)

// addHeartbeatRoute adds the ping route (protocol.RoutePing): no authorizer, no model, a
// MOCK integration and its pong integration response, and a $default route response.
func (c *webSocketChatApi) addHeartbeatRoute() {
	key := protocol.RoutePing
	mock := awsapigatewayv2integrations.NewWebSocketMockIntegration(jsii.String(pingIntegrationID), &awsapigatewayv2integrations.WebSocketMockIntegrationProps{
		RequestTemplates:            &map[string]*string{defaultKey: jsii.String(mockRequestTemplate)},
		TemplateSelectionExpression: jsii.String(staticTemplateSelection),
	})
	route := c.api.AddRoute(jsii.String(key), &awsapigatewayv2.WebSocketRouteOptions{
		Integration:    mock,
		ReturnResponse: jsii.Bool(true),
	})
	c.routes[key] = route
	c.stageNeedsRoute(key, route)
	c.suppressRouteAuthorization(route.Node().DefaultChild().(awscdk.CfnResource))
	integration, ok := route.Node().TryFindChild(jsii.String(pingIntegrationID)).(awsapigatewayv2.WebSocketIntegration)
	if !ok {
		panic("chatapi: " + c.v.path + ": the ping route has no " + pingIntegrationID + " child: aws-cdk-lib's WebSocket L2 changed")
	}
	awsapigatewayv2.NewCfnIntegrationResponse(route, jsii.String("PongResponse"), &awsapigatewayv2.CfnIntegrationResponseProps{
		ApiId:                       c.api.ApiId(),
		IntegrationId:               integration.IntegrationId(),
		IntegrationResponseKey:      jsii.String(defaultKey),
		ResponseTemplates:           map[string]any{defaultKey: pongTemplate},
		TemplateSelectionExpression: jsii.String(staticTemplateSelection),
	})
}
