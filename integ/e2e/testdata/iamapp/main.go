// Command iamapp synthesizes the IAM variant of the reference stack for the end-to-end suite:
// the chat authorizes $connect with AWS_IAM (chatapi.IamAuthentication), DeviceRole is granted
// $connect (GrantConnect) and UngrantedRole is not. Both roles keep these logical ids, which
// the suite's local.Env.Credentials names.
package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"

	"github.com/chatstack/websocketchatapi/app/chatstack"
	"github.com/chatstack/websocketchatapi/constructs/chatapi"
)

func main() {
	defer jsii.Close()
	app := awscdk.NewApp(nil)
	st := chatstack.New(app, "WebSocketChatApi", &chatstack.Props{
		Chat: &chatapi.WebSocketChatApiProps{Authentication: chatapi.IamAuthentication(nil)},
	})
	device := role(st.Stack, "DeviceRole")
	role(st.Stack, "UngrantedRole")
	st.Chat.GrantConnect(device)
	app.Synth(nil)
}

// role makes a role of the account with a fixed logical id.
func role(stack awscdk.Stack, id string) awsiam.Role {
	r := awsiam.NewRole(stack, jsii.String(id), &awsiam.RoleProps{AssumedBy: awsiam.NewAccountRootPrincipal()})
	r.Node().DefaultChild().(awscdk.CfnResource).OverrideLogicalId(jsii.String(id))
	return r
}
