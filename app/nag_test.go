package main

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/chatstack/websocketchatapi/app/chatstack"
	"github.com/chatstack/websocketchatapi/constructs/chatapi"
)

// TestCdkNagAwsSolutions applies cdk-nag's AwsSolutions pack to the reference stack: no
// unsuppressed finding (error or warning) may remain. Every suppression lives in the construct,
// scoped to one resource with a specific reason.
func TestCdkNagAwsSolutions(t *testing.T) {
	app := awscdk.NewApp(&awscdk.AppProps{Context: cdkContext(t)})
	stack := chatstack.New(app, "Nag", nil)
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
	// cdk-nag's errors fail the synth (they go into the validation report), so a panic here
	// means unsuppressed errors; its message and the printed annotations name them.
	var annotations assertions.Annotations
	func() {
		defer func() {
			if r := recover(); r != nil {
				t.Fatalf("cdk-nag reported errors (see the ERROR AwsSolutions-* annotations above): %v", r)
			}
		}()
		annotations = assertions.Annotations_FromStack(stack.Stack)
	}()
	var findings []string
	match := assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*"))
	for _, m := range *annotations.FindError(jsii.String("*"), match) {
		findings = append(findings, fmt.Sprintf("error %s: %v", *m.Id, firstLine(m.Entry.Data)))
	}
	for _, m := range *annotations.FindWarning(jsii.String("*"), match) {
		findings = append(findings, fmt.Sprintf("warning %s: %v", *m.Id, firstLine(m.Entry.Data)))
	}
	sort.Strings(findings)
	if len(findings) > 0 {
		t.Fatalf("%d unsuppressed cdk-nag findings:\n%s", len(findings), strings.Join(findings, "\n"))
	}
	// The suppressions are specific: count them so a blanket one would show.
	tpl := assertions.Template_FromStack(stack.Stack, nil).ToJSON()
	raw, _ := json.Marshal(tpl)
	if n := strings.Count(string(raw), `"id":"AwsSolutions-`); n != 16 {
		t.Errorf("%d cdk-nag suppressions, want 16 (APIG4 on 9 routes: all but $connect, ping included, IAM5 on the chat, disconnect and publish policies (connection ids), IAM4 on the CloudWatch role, COG2 and COG8 on the user pool, SNS2 on the alarm topic)", n)
	}
}

func firstLine(v any) string {
	s := fmt.Sprint(v)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

// TestCdkNagProduction applies the AwsSolutions pack to the reference stack with the
// production props on (custom domain from the context, reserved and scaled provisioned
// concurrency, API keys from the authorizer on every chat action): they add no finding.
func TestCdkNagProduction(t *testing.T) {
	app := awscdk.NewApp(&awscdk.AppProps{Context: domainContext(t)})
	stack := chatstack.New(app, "NagProduction", &chatstack.Props{Chat: &chatapi.WebSocketChatApiProps{
		Concurrency: &map[string]*chatapi.FunctionConcurrencyProps{
			"chat":       {Reserved: jsii.Number(50), Provisioned: jsii.Number(2), MaxProvisioned: jsii.Number(10), UtilizationTarget: jsii.Number(0.7)},
			"authorizer": {Provisioned: jsii.Number(1)},
		},
		ApiKeys: &chatapi.ApiKeysProps{
			Source:               chatapi.ApiKeySourceAuthorizer,
			KeyClaim:             jsii.String("custom:api_key"),
			RequireOnChatActions: jsii.Bool(true),
			Plans:                &map[string]*chatapi.UsagePlanOptions{"pro": {RateLimit: jsii.Number(50), BurstLimit: jsii.Number(100)}},
		},
	}})
	stack.Chat.AddApiKey(jsii.String("Partner"), jsii.String("pro"), nil)
	expectNoNagFindings(t, app, stack.Stack)
}

// TestCdkNagIam: the reference stack with IAM-authorized clients (AWS_IAM on $connect, a
// granted role) and header API keys adds no finding either.
func TestCdkNagIam(t *testing.T) {
	app := awscdk.NewApp(nil)
	stack := chatstack.New(app, "NagIam", &chatstack.Props{Chat: &chatapi.WebSocketChatApiProps{
		Authentication: chatapi.IamAuthentication(nil),
		ApiKeys:        &chatapi.ApiKeysProps{Plans: &map[string]*chatapi.UsagePlanOptions{"fleet": {RateLimit: jsii.Number(10), BurstLimit: jsii.Number(20)}}},
	}})
	device := awsiam.NewRole(stack.Stack, jsii.String("Device"), &awsiam.RoleProps{AssumedBy: awsiam.NewServicePrincipal(jsii.String("iot.amazonaws.com"), nil)})
	stack.Chat.GrantConnect(device)
	expectNoNagFindings(t, app, stack.Stack)
}

// expectNoNagFindings applies the AwsSolutions pack to app and fails on any unsuppressed
// finding in stack.
func expectNoNagFindings(t *testing.T, app awscdk.App, stack awscdk.Stack) {
	t.Helper()
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
	var annotations assertions.Annotations
	func() {
		defer func() {
			if r := recover(); r != nil {
				t.Fatalf("cdk-nag reported errors: %v", r)
			}
		}()
		annotations = assertions.Annotations_FromStack(stack)
	}()
	match := assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*"))
	var findings []string
	for _, m := range append(*annotations.FindError(jsii.String("*"), match), *annotations.FindWarning(jsii.String("*"), match)...) {
		findings = append(findings, fmt.Sprintf("%s: %v", *m.Id, firstLine(m.Entry.Data)))
	}
	if len(findings) > 0 {
		t.Fatalf("%d unsuppressed cdk-nag findings:\n%s", len(findings), strings.Join(findings, "\n"))
	}
}
