// Package chatapi provides WebSocketChatApi, an AWS CDK construct that stands up a complete
// real-time chat backend: an API Gateway WebSocket API (route selection expression, $connect
// with a Lambda REQUEST authorizer, $disconnect, $default with a route response, one route per
// chat action, request models, and a ping route that API Gateway answers itself through a MOCK
// integration), the Go Lambda handlers it bundles from this module, and a
// DynamoDB table of connections, room memberships and message history.
//
//	stack := awscdk.NewStack(app, jsii.String("Chat"), nil)
//	chat := chatapi.NewWebSocketChatApi(stack, jsii.String("Chat"), nil)
//	awscdk.NewCfnOutput(stack, jsii.String("Url"), &awscdk.CfnOutputProps{Value: chat.WebSocketUrl()})
//
// Every prop has a secure default, so nil props deploy a working chat with a new Cognito user
// pool. Invalid props panic at synth with a message that names the prop and the rule, the way
// aws-cdk-lib's own constructs do.
//
// Construct code is not safe for concurrent use (jsii is not goroutine-safe).
package chatapi
