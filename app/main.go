// Command app synthesizes the reference stack; cdk.json runs it (`npx cdk synth`).
package main

import (
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/chatstack/websocketchatapi/app/chatstack"
)

func main() {
	defer jsii.Close()
	app := awscdk.NewApp(nil)
	chatstack.New(app, "WebSocketChatApi", &chatstack.Props{
		StackProps: awscdk.StackProps{
			// Environment-agnostic unless the CLI names an account and region.
			Env: env(),
		},
	})
	app.Synth(nil)
}

func env() *awscdk.Environment {
	account, region := os.Getenv("CDK_DEFAULT_ACCOUNT"), os.Getenv("CDK_DEFAULT_REGION")
	if account == "" || region == "" {
		return nil
	}
	return &awscdk.Environment{Account: jsii.String(account), Region: jsii.String(region)}
}
