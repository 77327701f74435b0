// Command usermodule is a user's CDK app, as a new user of the construct writes one in a module
// of their own: stage "live", routes selected by the "type" field, and a route of their own
// ("typing") served by a Go package of this module, with a request schema. The localchat test
// synthesizes it and runs it with the local runner from this folder.
package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/chatstack/websocketchatapi/constructs/chatapi"
)

// typingSchema is the typing message: a room and whether the user started or stopped typing.
const typingSchema = `{
  "$schema": "http://json-schema.org/draft-04/schema#",
  "type": "object",
  "required": ["roomId", "state"],
  "properties": {
    "roomId": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"},
    "state": {"enum": ["started", "stopped"]}
  }
}`

func main() {
	defer jsii.Close()
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("UserChat"), nil)
	chat := chatapi.NewWebSocketChatApi(stack, jsii.String("Chat"), &chatapi.WebSocketChatApiProps{
		StageName:                jsii.String("live"),
		RouteSelectionExpression: jsii.String("$request.body.type"),
	})
	chat.AddRoute(jsii.String("typing"), &chatapi.AddRouteOptions{
		GoPackage:      jsii.String("./lambda/typing"),
		RequestSchema:  jsii.String(typingSchema),
		ReturnResponse: jsii.Bool(true),
	})
	app.Synth(nil)
}
