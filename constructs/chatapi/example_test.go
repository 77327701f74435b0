package chatapi_test

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/chatstack/websocketchatapi/constructs/chatapi"
)

// A working, authenticated chat with every default: a Cognito user pool, the four chat
// actions, stage prod.
func ExampleNewWebSocketChatApi() {
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("Chat"), nil)
	chat := chatapi.NewWebSocketChatApi(stack, jsii.String("Chat"), nil)
	awscdk.NewCfnOutput(stack, jsii.String("Url"), &awscdk.CfnOutputProps{Value: chat.WebSocketUrl()})
	app.Synth(nil)
}

// Any OpenID Connect issuer instead of Cognito, and a route of your own served by a Go package
// folder that the construct bundles.
func ExampleWebSocketChatApi_AddRoute() {
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("Chat"), nil)
	chat := chatapi.NewWebSocketChatApi(stack, jsii.String("Chat"), &chatapi.WebSocketChatApiProps{
		Authentication: chatapi.OidcAuthentication(&chatapi.OidcAuthenticationProps{
			IssuerUrl: jsii.String("https://login.example.com"),
			Audiences: jsii.Strings("my-web-app"),
		}),
	})
	chat.AddRoute(jsii.String("typing"), &chatapi.AddRouteOptions{
		GoPackage:     jsii.String("./lambdas/typing"),
		RequestSchema: jsii.String(`{"$schema":"http://json-schema.org/draft-04/schema#","type":"object","required":["roomId"]}`),
	})
}
