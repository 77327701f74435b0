// Package chatstack is the reference stack: one WebSocketChatApi with its outputs. The cdk app
// in app/ deploys it, and the snapshot and end-to-end tests synthesize it.
package chatstack

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscertificatemanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsroute53"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
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

// UserPasswordAuthContext is the context key that lets the reference stack's Cognito app
// client sign in with USER_PASSWORD_AUTH (cdk deploy -c userPasswordAuth=true), which the
// README's AWS CLI sign-in uses; without it the client allows SRP only.
const UserPasswordAuthContext = "userPasswordAuth"

// AlarmEmailContext is the context key of the address that gets the alarms by email
// (cdk deploy -c alarmEmail=oncall@example.com); without it the topic has no subscription.
const AlarmEmailContext = "alarmEmail"

// Context keys of the custom domain (cdk deploy -c domainName=chat.example.com
// -c certificateArn=arn:aws:acm:... [-c hostedZoneId=Z... -c hostedZoneName=example.com]):
// without domainName the stack has no custom domain. The certificate must be in the stack's
// region; the hosted zone, when both its keys are given, gets an alias A record.
const (
	DomainNameContext     = "domainName"
	CertificateArnContext = "certificateArn"
	HostedZoneIDContext   = "hostedZoneId"
	HostedZoneNameContext = "hostedZoneName"
)

// New creates the reference stack with outputs for the WebSocket URL, the callback URL, the
// table name, the publish queue's URL and, with Cognito, the user pool and app client ids. Its alarms notify an SNS
// topic of the stack, which emails AlarmEmailContext when the context names an address.
func New(scope constructs.Construct, id string, props *Props) *Stack {
	if props == nil {
		props = &Props{}
	}
	stack := awscdk.NewStack(scope, jsii.String(id), &props.StackProps)
	chatProps := chatapi.WebSocketChatApiProps{}
	if props.Chat != nil {
		chatProps = *props.Chat
	}
	if chatProps.Authentication == nil && contextFlag(stack, UserPasswordAuthContext) {
		chatProps.Authentication = chatapi.CognitoAuthentication(&chatapi.CognitoAuthenticationProps{UserPasswordAuth: jsii.Bool(true)})
	}
	if chatProps.AlarmTopic == nil && (chatProps.Alarms == nil || *chatProps.Alarms) {
		chatProps.AlarmTopic = alarmTopic(stack)
	}
	if chatProps.CustomDomain == nil {
		chatProps.CustomDomain = customDomain(stack)
	}
	chat := chatapi.NewWebSocketChatApi(stack, jsii.String("Chat"), &chatProps)

	output := func(id, desc string, value *string) {
		awscdk.NewCfnOutput(stack, jsii.String(id), &awscdk.CfnOutputProps{Value: value, Description: jsii.String(desc)})
	}
	output("WebSocketUrl", "Where clients connect: wss://...?token=<jwt>", chat.WebSocketUrl())
	output("CallbackUrl", "The @connections endpoint backends post to", chat.CallbackUrl())
	output("TableName", "Connections, memberships and history", chat.Table().TableName())
	output("PublishQueueUrl", "Send publish requests here (aws sqs send-message)", chat.PublishQueue().QueueUrl())
	if pool := chat.UserPool(); pool != nil {
		output("UserPoolId", "Cognito user pool whose tokens are accepted", pool.UserPoolId())
		output("UserPoolClientId", "Cognito app client to sign in with", chat.UserPoolClient().UserPoolClientId())
	}
	return &Stack{Stack: stack, Chat: chat}
}

// alarmTopic is the topic the reference stack's alarms notify, with an email subscription
// when the context names an address.
func alarmTopic(stack awscdk.Stack) awssns.Topic {
	topic := awssns.NewTopic(stack, jsii.String("AlarmTopic"), &awssns.TopicProps{
		DisplayName: jsii.String("WebSocketChatApi alarms"),
		EnforceSSL:  jsii.Bool(true),
	})
	// cdk-nag's AwsSolutions-SNS2 asks for server-side encryption; CloudWatch alarms cannot
	// publish to a topic encrypted with the AWS managed key, and the topic carries alarm
	// states only.
	topic.Node().DefaultChild().(awscdk.CfnResource).AddMetadata(jsii.String("cdk_nag"), map[string]any{
		"rules_to_suppress": []any{map[string]any{"id": "AwsSolutions-SNS2",
			"reason": "CloudWatch alarms cannot publish to a topic encrypted with the AWS managed SNS key; the topic carries alarm state changes only, no chat data."}},
	})
	if email, ok := stack.Node().TryGetContext(jsii.String(AlarmEmailContext)).(string); ok && email != "" {
		topic.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(email), nil))
	} else if ok {
		panic(fmt.Sprintf("chatstack: context %s is empty: give an email address or leave it out", AlarmEmailContext))
	}
	return topic
}

// contextFlag reads a true/false context value ("true" from the command line); unset is false.
func contextFlag(stack awscdk.Stack, key string) bool {
	switch v := stack.Node().TryGetContext(jsii.String(key)).(type) {
	case nil:
		return false
	case bool:
		return v
	case string:
		if v == "true" || v == "false" {
			return v == "true"
		}
	}
	panic(fmt.Sprintf("chatstack: context %s must be true or false", key))
}

// customDomain reads the custom domain from the context: nil without domainName.
func customDomain(stack awscdk.Stack) *chatapi.CustomDomainProps {
	get := func(key string) string {
		v, _ := stack.Node().TryGetContext(jsii.String(key)).(string)
		return v
	}
	name, cert, zoneID, zoneName := get(DomainNameContext), get(CertificateArnContext), get(HostedZoneIDContext), get(HostedZoneNameContext)
	if name == "" {
		if cert != "" || zoneID != "" || zoneName != "" {
			panic(fmt.Sprintf("chatstack: context %s, %s and %s need %s", CertificateArnContext, HostedZoneIDContext, HostedZoneNameContext, DomainNameContext))
		}
		return nil
	}
	if cert == "" {
		panic(fmt.Sprintf("chatstack: context %s needs %s (an ACM certificate in the stack's region)", DomainNameContext, CertificateArnContext))
	}
	props := &chatapi.CustomDomainProps{
		DomainName:  jsii.String(name),
		Certificate: awscertificatemanager.Certificate_FromCertificateArn(stack, jsii.String("Certificate"), jsii.String(cert)),
	}
	switch {
	case zoneID != "" && zoneName != "":
		props.HostedZone = awsroute53.HostedZone_FromHostedZoneAttributes(stack, jsii.String("HostedZone"), &awsroute53.HostedZoneAttributes{
			HostedZoneId: jsii.String(zoneID), ZoneName: jsii.String(zoneName),
		})
	case zoneID != "" || zoneName != "":
		panic(fmt.Sprintf("chatstack: give both %s and %s, or neither", HostedZoneIDContext, HostedZoneNameContext))
	}
	return props
}
