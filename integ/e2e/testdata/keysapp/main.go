// Command keysapp synthesizes the reference stack with API keys required on $connect, for the
// end-to-end suite: keys come in the x-api-key header; the usage plan "tiny" allows 3 requests
// a day per key, "open" 100 a second. Key "Tiny" is in plan tiny, key "Open" in plan open;
// CloudFormation generates both values (the local runner makes them up: local.Env.APIKeys).
package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/jsii-runtime-go"

	"github.com/chatstack/websocketchatapi/app/chatstack"
	"github.com/chatstack/websocketchatapi/constructs/chatapi"
	"github.com/chatstack/websocketchatapi/integ/e2e/testdata/variant"
)

func main() {
	defer jsii.Close()
	app := awscdk.NewApp(nil)
	st := chatstack.New(app, "WebSocketChatApi", &chatstack.Props{Chat: &chatapi.WebSocketChatApiProps{
		ApiKeys: &chatapi.ApiKeysProps{
			Plans: &map[string]*chatapi.UsagePlanOptions{
				"tiny": {QuotaLimit: jsii.Number(3), QuotaPeriod: awsapigatewayv2.Period_DAY},
				"open": {RateLimit: jsii.Number(100), BurstLimit: jsii.Number(100)},
			},
		},
	}})
	st.Chat.AddApiKey(jsii.String("Tiny"), jsii.String("tiny"), nil)
	st.Chat.AddApiKey(jsii.String("Open"), jsii.String("open"), nil)
	variant.Synth(app, "keysapp")
}
