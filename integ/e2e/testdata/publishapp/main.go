// Command publishapp synthesizes the reference stack for the end-to-end suite's publish
// scenarios: rooms of more than 4 members are large (their broadcasts go through the publish
// queue in shards), and BackendRole is a backend's role with the construct's GrantPublish.
package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"

	"github.com/chatstack/websocketchatapi/app/chatstack"
	"github.com/chatstack/websocketchatapi/constructs/chatapi"
	"github.com/chatstack/websocketchatapi/integ/e2e/testdata/variant"
)

func main() {
	defer jsii.Close()
	app := awscdk.NewApp(nil)
	st := chatstack.New(app, "WebSocketChatApi", &chatstack.Props{Chat: &chatapi.WebSocketChatApiProps{
		LargeRoomThreshold: jsii.Number(4),
	}})
	backend := awsiam.NewRole(st.Stack, jsii.String("BackendRole"), &awsiam.RoleProps{
		AssumedBy: awsiam.NewAccountRootPrincipal(),
	})
	st.Chat.GrantPublish(backend)
	variant.Synth(app, "publishapp")
}
