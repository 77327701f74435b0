// Package chatstack is the reference stack: one WebSocketChatApi with its outputs. The cdk app
// in app/ deploys it, and the snapshot and end-to-end tests synthesize it.
package chatstack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/chatstack/websocketchatapi/constructs/chatapi"
)

// Props configures the reference stack.
type Props struct {
	awscdk.StackProps
	// Chat configures the chat backend. Default: the construct's defaults.
	Chat *chatapi.WebSocketChatApiProps
}

// Stack is the reference stack.
type Stack struct {
	awscdk.Stack
	// Chat is the chat backend.
	Chat chatapi.WebSocketChatApi
}

// New creates the reference stack with outputs for the WebSocket URL, the callback URL, the
// table name and, with Cognito, the user pool and app client ids.
func New(scope constructs.Construct, id string, props *Props) *Stack {
	if props == nil {
		props = &Props{}
	}
	stack := awscdk.NewStack(scope, jsii.String(id), &props.StackProps)
	chat := chatapi.NewWebSocketChatApi(stack, jsii.String("Chat"), props.Chat)

	output := func(id, desc string, value *string) {
		awscdk.NewCfnOutput(stack, jsii.String(id), &awscdk.CfnOutputProps{Value: value, Description: jsii.String(desc)})
	}
	output("WebSocketUrl", "Where clients connect: wss://...?token=<jwt>", chat.WebSocketUrl())
	output("CallbackUrl", "The @connections endpoint backends post to", chat.CallbackUrl())
	output("TableName", "Connections, memberships and history", chat.Table().TableName())
	if pool := chat.UserPool(); pool != nil {
		output("UserPoolId", "Cognito user pool whose tokens are accepted", pool.UserPoolId())
		output("UserPoolClientId", "Cognito app client to sign in with", chat.UserPoolClient().UserPoolClientId())
	}
	return &Stack{Stack: stack, Chat: chat}
}
