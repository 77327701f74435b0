package chatapi_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapplicationautoscaling"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscertificatemanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsroute53"
	"github.com/aws/jsii-runtime-go"

	"github.com/chatstack/websocketchatapi/constructs/chatapi"
)

const certArn = "arn:aws:acm:eu-west-1:123456789012:certificate/11111111-2222-3333-4444-555555555555"

func certificate(stack awscdk.Stack, arn string) awscertificatemanager.ICertificate {
	return awscertificatemanager.Certificate_FromCertificateArn(stack, jsii.String("Cert"), jsii.String(arn))
}

func zone(stack awscdk.Stack, name string) awsroute53.IHostedZone {
	return awsroute53.HostedZone_FromHostedZoneAttributes(stack, jsii.String("Zone"), &awsroute53.HostedZoneAttributes{
		HostedZoneId: jsii.String("Z0123456789ABC"), ZoneName: jsii.String(name),
	})
}

// envOf returns a function's environment variables from the template.
func (tpl template) envOf(t *testing.T, prefix string) map[string]any {
	t.Helper()
	return tpl.Resources[tpl.functionID(t, prefix)].Properties["Environment"].(map[string]any)["Variables"].(map[string]any)
}

func TestCustomDomain(t *testing.T) {
	stack := newStack(t)
	chat := chatapi.NewWebSocketChatApi(stack, jsii.String("Chat"), &chatapi.WebSocketChatApiProps{
		CustomDomain: &chatapi.CustomDomainProps{
			DomainName:  jsii.String("chat.example.com"),
			Certificate: certificate(stack, certArn),
			MappingKey:  jsii.String("v1"),
			HostedZone:  zone(stack, "example.com"),
		},
	})
	if got := *chat.WebSocketUrl(); got != "wss://chat.example.com/v1" {
		t.Errorf("WebSocketUrl() = %s, want wss://chat.example.com/v1", got)
	}
	if chat.CustomDomainName() == nil {
		t.Error("CustomDomainName() is nil")
	}
	tpl := synth(t, stack)
	domainID, domain := tpl.one(t, "AWS::ApiGatewayV2::DomainName", nil)
	conf := domain.Properties["DomainNameConfigurations"].([]any)[0].(map[string]any)
	if domain.Properties["DomainName"] != "chat.example.com" || conf["EndpointType"] != "REGIONAL" ||
		conf["SecurityPolicy"] != "TLS_1_2" || conf["CertificateArn"] != certArn {
		t.Errorf("domain name %v", domain.Properties)
	}
	stageID, _ := tpl.one(t, "AWS::ApiGatewayV2::Stage", nil)
	apiID := tpl.ofType("AWS::ApiGatewayV2::Api")[0]
	_, mapping := tpl.one(t, "AWS::ApiGatewayV2::ApiMapping", nil)
	deps, _ := json.Marshal(mapping.DependsOn)
	if ref(mapping.Properties["ApiId"]) != apiID || ref(mapping.Properties["DomainName"]) != domainID ||
		mapping.Properties["Stage"] != "prod" || mapping.Properties["ApiMappingKey"] != "v1" || !strings.Contains(string(deps), stageID) {
		t.Errorf("api mapping %v (depends on %s)", mapping.Properties, deps)
	}
	_, record := tpl.one(t, "AWS::Route53::RecordSet", nil)
	at := record.Properties["AliasTarget"].(map[string]any)
	alias := compact(at["DNSName"]) + " " + compact(at["HostedZoneId"])
	if record.Properties["Type"] != "A" || record.Properties["HostedZoneId"] != "Z0123456789ABC" || record.Properties["Name"] != "chat.example.com." ||
		!strings.Contains(alias, domainID+".RegionalDomainName") || !strings.Contains(alias, domainID+".RegionalHostedZoneId") {
		t.Errorf("record %v", record.Properties)
	}
	// The handlers still post through execute-api.
	for _, fn := range []string{"ChatChatFunction", "ChatDisconnectFunction"} {
		if cb := compact(tpl.envOf(t, fn)["CALLBACK_URL"]); !strings.Contains(cb, ".execute-api.") || strings.Contains(cb, "example.com") {
			t.Errorf("%s CALLBACK_URL %s, want the execute-api endpoint", fn, cb)
		}
	}
	if cb := compact(stack.Resolve(chat.CallbackUrl())); !strings.Contains(cb, "execute-api") {
		t.Errorf("CallbackUrl() %v", cb)
	}
}

// TestCustomDomainExisting maps the stage to a domain name the user made, at the root, with
// no record.
func TestCustomDomainExisting(t *testing.T) {
	stack := newStack(t)
	domain := awsapigatewayv2.NewDomainName(stack, jsii.String("Mine"), &awsapigatewayv2.DomainNameProps{
		DomainName: jsii.String("ws.example.org"), Certificate: certificate(stack, certArn),
	})
	chat := chatapi.NewWebSocketChatApi(stack, jsii.String("Chat"), &chatapi.WebSocketChatApiProps{
		CustomDomain: &chatapi.CustomDomainProps{Domain: domain},
	})
	if got := chat.WebSocketUrl(); !strings.HasPrefix(*got, "wss://") || !*awscdk.Token_IsUnresolved(got) {
		t.Errorf("WebSocketUrl() = %s", *got)
	}
	tpl := synth(t, stack)
	mineID, _ := tpl.one(t, "AWS::ApiGatewayV2::DomainName", nil)
	_, mapping := tpl.one(t, "AWS::ApiGatewayV2::ApiMapping", nil)
	if ref(mapping.Properties["DomainName"]) != mineID || mapping.Properties["ApiMappingKey"] != nil {
		t.Errorf("mapping %v", mapping.Properties)
	}
	if n := len(tpl.ofType("AWS::Route53::RecordSet")); n != 0 {
		t.Errorf("%d records without a hosted zone", n)
	}
}

func TestCustomDomainRefusals(t *testing.T) {
	tests := []struct {
		name, prop, want string
		props            func(stack awscdk.Stack) *chatapi.CustomDomainProps
	}{
		{"both", "CustomDomain", "either Domain or DomainName", func(s awscdk.Stack) *chatapi.CustomDomainProps {
			return &chatapi.CustomDomainProps{DomainName: jsii.String("a.example.com"), Certificate: certificate(s, certArn),
				Domain: awsapigatewayv2.DomainName_FromDomainNameAttributes(s, jsii.String("D"), &awsapigatewayv2.DomainNameAttributes{
					Name: jsii.String("b.example.com"), RegionalDomainName: jsii.String("x"), RegionalHostedZoneId: jsii.String("y")})}
		}},
		{"neither", "CustomDomain.DomainName", "is required", func(s awscdk.Stack) *chatapi.CustomDomainProps {
			return &chatapi.CustomDomainProps{}
		}},
		{"no certificate", "CustomDomain.Certificate", "is required with DomainName", func(s awscdk.Stack) *chatapi.CustomDomainProps {
			return &chatapi.CustomDomainProps{DomainName: jsii.String("chat.example.com")}
		}},
		{"upper case", "CustomDomain.DomainName", "must be lower case", func(s awscdk.Stack) *chatapi.CustomDomainProps {
			return &chatapi.CustomDomainProps{DomainName: jsii.String("Chat.example.com"), Certificate: certificate(s, certArn)}
		}},
		{"scheme", "CustomDomain.DomainName", "host name only", func(s awscdk.Stack) *chatapi.CustomDomainProps {
			return &chatapi.CustomDomainProps{DomainName: jsii.String("wss://chat.example.com"), Certificate: certificate(s, certArn)}
		}},
		{"wildcard", "CustomDomain.DomainName", "wildcard", func(s awscdk.Stack) *chatapi.CustomDomainProps {
			return &chatapi.CustomDomainProps{DomainName: jsii.String("*.example.com"), Certificate: certificate(s, certArn)}
		}},
		{"not a host", "CustomDomain.DomainName", "is not a host name", func(s awscdk.Stack) *chatapi.CustomDomainProps {
			return &chatapi.CustomDomainProps{DomainName: jsii.String("-chat.example.com"), Certificate: certificate(s, certArn)}
		}},
		{"mapping key", "CustomDomain.MappingKey", "1 to 300 letters", func(s awscdk.Stack) *chatapi.CustomDomainProps {
			return &chatapi.CustomDomainProps{DomainName: jsii.String("chat.example.com"), Certificate: certificate(s, certArn), MappingKey: jsii.String("/v1")}
		}},
		{"zone", "CustomDomain.HostedZone", "cannot hold a record", func(s awscdk.Stack) *chatapi.CustomDomainProps {
			return &chatapi.CustomDomainProps{DomainName: jsii.String("chat.example.com"), Certificate: certificate(s, certArn), HostedZone: zone(s, "example.org")}
		}},
		{"certificate region", "CustomDomain.Certificate", "the certificate is in us-east-1 but the stack in eu-west-1", func(s awscdk.Stack) *chatapi.CustomDomainProps {
			return &chatapi.CustomDomainProps{DomainName: jsii.String("chat.example.com"), Certificate: certificate(s, strings.Replace(certArn, "eu-west-1", "us-east-1", 1))}
		}},
		{"edge", "CustomDomain.Domain", "regional custom domain names only", func(s awscdk.Stack) *chatapi.CustomDomainProps {
			return &chatapi.CustomDomainProps{Domain: awsapigatewayv2.NewDomainName(s, jsii.String("Edge"), &awsapigatewayv2.DomainNameProps{
				DomainName: jsii.String("chat.example.com"), Certificate: certificate(s, certArn), EndpointType: awsapigatewayv2.EndpointType_EDGE})}
		}},
		{"tls 1.0", "CustomDomain.Domain", "TLS_1_2 only", func(s awscdk.Stack) *chatapi.CustomDomainProps {
			return &chatapi.CustomDomainProps{Domain: awsapigatewayv2.NewDomainName(s, jsii.String("Old"), &awsapigatewayv2.DomainNameProps{
				DomainName: jsii.String("chat.example.com"), Certificate: certificate(s, certArn), SecurityPolicy: awsapigatewayv2.SecurityPolicy_TLS_1_0})}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := awscdk.NewApp(&awscdk.AppProps{Context: recommendedContext(t)})
			stack := awscdk.NewStack(app, jsii.String("Test"), &awscdk.StackProps{Env: &awscdk.Environment{Account: jsii.String("123456789012"), Region: jsii.String("eu-west-1")}})
			props := tt.props(stack)
			msg := mustPanic(t, func() {
				chatapi.NewWebSocketChatApi(stack, jsii.String("Chat"), &chatapi.WebSocketChatApiProps{CustomDomain: props})
			})
			if !strings.HasPrefix(msg, "chatapi: Test/Chat: "+tt.prop+": ") || !strings.Contains(msg, tt.want) {
				t.Errorf("panic %q, want %s: ...%s", msg, tt.prop, tt.want)
			}
		})
	}
}

// productionConcurrency is the Concurrency the tests use: the chat function with reserved and
// scaled provisioned concurrency, connect reserved only, the authorizer provisioned.
func productionConcurrency() *map[string]*chatapi.FunctionConcurrencyProps {
	return &map[string]*chatapi.FunctionConcurrencyProps{
		"chat": {
			Reserved: jsii.Number(50), Provisioned: jsii.Number(5), MaxProvisioned: jsii.Number(20), UtilizationTarget: jsii.Number(0.7),
			Schedules: &[]*awsapplicationautoscaling.ScalingSchedule{{
				Schedule:    awsapplicationautoscaling.Schedule_Cron(&awsapplicationautoscaling.CronOptions{Hour: jsii.String("8"), Minute: jsii.String("0")}),
				MinCapacity: jsii.Number(10),
			}},
		},
		"connect":    {Reserved: jsii.Number(100)},
		"authorizer": {Provisioned: jsii.Number(2)},
	}
}

func TestConcurrency(t *testing.T) {
	stack := newStack(t)
	chat := chatapi.NewWebSocketChatApi(stack, jsii.String("Chat"), &chatapi.WebSocketChatApiProps{Concurrency: productionConcurrency()})
	if chat.LiveAlias(jsii.String("chat")) == nil || chat.LiveAlias(jsii.String("authorizer")) == nil || chat.LiveAlias(jsii.String("connect")) != nil {
		t.Error("LiveAlias: want aliases of chat and authorizer only")
	}
	tpl := synth(t, stack)
	fns := map[string]string{}
	for _, n := range []string{"Chat", "Connect", "Authorizer", "Default", "Disconnect"} {
		fns[n] = tpl.functionID(t, "Chat"+n+"Function")
	}
	for n, want := range map[string]any{"Chat": float64(50), "Connect": float64(100), "Authorizer": nil, "Default": nil} {
		if got := tpl.Resources[fns[n]].Properties["ReservedConcurrentExecutions"]; got != want {
			t.Errorf("%s ReservedConcurrentExecutions %v, want %v", n, got, want)
		}
	}
	aliases := map[string]string{} // function logical id -> alias logical id
	for _, id := range tpl.ofType("AWS::Lambda::Alias") {
		p := tpl.Resources[id].Properties
		if p["Name"] != "live" {
			t.Errorf("alias %s named %v", id, p["Name"])
		}
		aliases[ref(p["FunctionName"])] = id
		pc, _ := json.Marshal(p["ProvisionedConcurrencyConfig"])
		want := map[string]string{fns["Chat"]: `{"ProvisionedConcurrentExecutions":5}`, fns["Authorizer"]: `{"ProvisionedConcurrentExecutions":2}`}[ref(p["FunctionName"])]
		if string(pc) != want {
			t.Errorf("alias %s provisioned %s, want %s", id, pc, want)
		}
	}
	if len(aliases) != 2 || aliases[fns["Chat"]] == "" || aliases[fns["Authorizer"]] == "" {
		t.Fatalf("aliases %v, want one of chat and one of the authorizer", aliases)
	}
	checkInvokesAlias(t, tpl, fns, aliases)
	checkScaling(t, tpl, aliases[fns["Chat"]])
}

// checkInvokesAlias: the chat integration, the authorizer and their permissions use the live
// aliases; the other functions are invoked as before.
func checkInvokesAlias(t *testing.T, tpl template, fns, aliases map[string]string) {
	t.Helper()
	chatAlias, authAlias := aliases[fns["Chat"]], aliases[fns["Authorizer"]]
	uri := compact(tpl.Resources[integrationOf(tpl.routes()["sendmessage"])].Properties["IntegrationUri"])
	if !strings.Contains(uri, "/functions/"+chatAlias+"/invocations") {
		t.Errorf("chat integration URI %s, want the live alias %s", uri, chatAlias)
	}
	uri = compact(tpl.Resources[integrationOf(tpl.routes()["$connect"])].Properties["IntegrationUri"])
	if !strings.Contains(uri, fns["Connect"]+".Arn/invocations") {
		t.Errorf("connect integration URI %s, want the function", uri)
	}
	_, auth := tpl.one(t, "AWS::ApiGatewayV2::Authorizer", nil)
	if a := compact(auth.Properties["AuthorizerUri"]); !strings.Contains(a, authAlias+"/invocations") {
		t.Errorf("authorizer URI %s, want the live alias %s", a, authAlias)
	}
	perms := map[string]int{}
	for _, id := range tpl.ofType("AWS::Lambda::Permission") {
		perms[compact(tpl.Resources[id].Properties["FunctionName"])]++
	}
	if perms[chatAlias] != 1 || perms[authAlias] != 1 || perms[fns["Chat"]+".Arn"] != 0 || perms[fns["Authorizer"]+".Arn"] != 0 || perms[fns["Connect"]+".Arn"] != 1 {
		t.Errorf("permissions by function %v: want one on each alias, none on their functions", perms)
	}
}

// checkScaling: the chat alias scales 5..20 at 70% utilization, and to at least 10 at 8:00.
func checkScaling(t *testing.T, tpl template, chatAlias string) {
	t.Helper()
	targetID, target := tpl.one(t, "AWS::ApplicationAutoScaling::ScalableTarget", nil)
	p := target.Properties
	if p["MinCapacity"] != float64(5) || p["MaxCapacity"] != float64(20) || p["ScalableDimension"] != "lambda:function:ProvisionedConcurrency" ||
		!strings.Contains(compact(p["ResourceId"]), chatAlias) || !strings.HasSuffix(compact(p["ResourceId"]), ":live") {
		t.Errorf("scalable target %v", p)
	}
	actions, _ := json.Marshal(p["ScheduledActions"])
	if !strings.Contains(string(actions), `"MinCapacity":10`) || !strings.Contains(string(actions), `cron(0 8 * * ? *)`) {
		t.Errorf("scheduled actions %s", actions)
	}
	_, policy := tpl.one(t, "AWS::ApplicationAutoScaling::ScalingPolicy", nil)
	tt, _ := json.Marshal(policy.Properties["TargetTrackingScalingPolicyConfiguration"])
	if ref(policy.Properties["ScalingTargetId"]) != targetID || !strings.Contains(string(tt), `"TargetValue":0.7`) ||
		!strings.Contains(string(tt), "LambdaProvisionedConcurrencyUtilization") {
		t.Errorf("scaling policy %v", policy.Properties)
	}
}

func TestConcurrencyRefusals(t *testing.T) {
	n := jsii.Number[float64]
	daily := awsapplicationautoscaling.Schedule_Rate(awscdk.Duration_Days(n(1)))
	tests := []struct {
		name  string
		props map[string]*chatapi.FunctionConcurrencyProps
		auth  chatapi.Authentication
		prop  string
		want  string
	}{
		{"unknown", map[string]*chatapi.FunctionConcurrencyProps{"Chat": {Reserved: n(1)}}, nil, "Concurrency", `"Chat" is not a function of the construct; valid: authorizer, chat, connect, default, disconnect, publish`},
		{"no authorizer", map[string]*chatapi.FunctionConcurrencyProps{"authorizer": {Reserved: n(1)}}, chatapi.NoAuthentication(), "Concurrency", "valid: chat, connect, default, disconnect, publish"},
		{"no authorizer with IAM", map[string]*chatapi.FunctionConcurrencyProps{"authorizer": {Reserved: n(1)}}, chatapi.IamAuthentication(nil), "Concurrency", "valid: chat, connect, default, disconnect, publish"},
		{"empty", map[string]*chatapi.FunctionConcurrencyProps{"chat": {}}, nil, "Concurrency[chat]", "is empty"},
		{"negative reserved", map[string]*chatapi.FunctionConcurrencyProps{"chat": {Reserved: n(-1)}}, nil, "Concurrency[chat].Reserved", "whole number of at least 0"},
		{"fractional", map[string]*chatapi.FunctionConcurrencyProps{"chat": {Reserved: n(1.5)}}, nil, "Concurrency[chat].Reserved", "whole number"},
		{"zero provisioned", map[string]*chatapi.FunctionConcurrencyProps{"chat": {Provisioned: n(0)}}, nil, "Concurrency[chat].Provisioned", "at least 1"},
		{"over reserved", map[string]*chatapi.FunctionConcurrencyProps{"chat": {Reserved: n(5), Provisioned: n(6)}}, nil, "Concurrency[chat].Provisioned", "over Reserved (5)"},
		{"max without provisioned", map[string]*chatapi.FunctionConcurrencyProps{"chat": {MaxProvisioned: n(5), UtilizationTarget: n(0.5)}}, nil, "Concurrency[chat].MaxProvisioned", "needs Provisioned"},
		{"max without scaling", map[string]*chatapi.FunctionConcurrencyProps{"chat": {Provisioned: n(1), MaxProvisioned: n(5)}}, nil, "Concurrency[chat].MaxProvisioned", "needs UtilizationTarget or Schedules"},
		{"max under provisioned", map[string]*chatapi.FunctionConcurrencyProps{"chat": {Provisioned: n(5), MaxProvisioned: n(4), UtilizationTarget: n(0.5)}}, nil, "Concurrency[chat].MaxProvisioned", "at least 5"},
		{"max over reserved", map[string]*chatapi.FunctionConcurrencyProps{"chat": {Reserved: n(8), Provisioned: n(5), MaxProvisioned: n(9), UtilizationTarget: n(0.5)}}, nil, "Concurrency[chat].MaxProvisioned", "over Reserved (8)"},
		{"target without max", map[string]*chatapi.FunctionConcurrencyProps{"chat": {Provisioned: n(1), UtilizationTarget: n(0.5)}}, nil, "Concurrency[chat].MaxProvisioned", "is required with UtilizationTarget or Schedules"},
		{"target range", map[string]*chatapi.FunctionConcurrencyProps{"chat": {Provisioned: n(1), MaxProvisioned: n(2), UtilizationTarget: n(0.95)}}, nil, "Concurrency[chat].UtilizationTarget", "from 0.1 to 0.9"},
		{"schedule bounds", map[string]*chatapi.FunctionConcurrencyProps{"chat": {Provisioned: n(1), MaxProvisioned: n(2), Schedules: &[]*awsapplicationautoscaling.ScalingSchedule{{Schedule: daily}}}}, nil, "Concurrency[chat].Schedules[0]", "needs MinCapacity or MaxCapacity"},
		{"schedule order", map[string]*chatapi.FunctionConcurrencyProps{"chat": {Provisioned: n(1), MaxProvisioned: n(2), Schedules: &[]*awsapplicationautoscaling.ScalingSchedule{{Schedule: daily, MinCapacity: n(3), MaxCapacity: n(2)}}}}, nil, "Concurrency[chat].Schedules[0]", "MinCapacity 3 is over MaxCapacity 2"},
		{"schedule over reserved", map[string]*chatapi.FunctionConcurrencyProps{"chat": {Reserved: n(4), Provisioned: n(1), MaxProvisioned: n(2), Schedules: &[]*awsapplicationautoscaling.ScalingSchedule{{Schedule: daily, MaxCapacity: n(5)}}}}, nil, "Concurrency[chat].Schedules[0].MaxCapacity", "over Reserved (4)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stack := newStack(t)
			props := tt.props
			msg := mustPanic(t, func() {
				chatapi.NewWebSocketChatApi(stack, jsii.String("Chat"), &chatapi.WebSocketChatApiProps{Concurrency: &props, Authentication: tt.auth})
			})
			if !strings.HasPrefix(msg, "chatapi: Test/Chat: "+tt.prop+": ") || !strings.Contains(msg, tt.want) {
				t.Errorf("panic %q, want %s: ...%s", msg, tt.prop, tt.want)
			}
		})
	}
}

// alarmNamed returns the properties of the alarm whose logical id starts with prefix.
func (tpl template) alarmNamed(t *testing.T, prefix string) map[string]any {
	t.Helper()
	for _, id := range tpl.ofType("AWS::CloudWatch::Alarm") {
		if strings.HasPrefix(id, prefix) {
			return tpl.Resources[id].Properties
		}
	}
	t.Fatalf("no alarm %s", prefix)
	return nil
}

func TestNewConnectionRateAlarm(t *testing.T) {
	tpl, c := defaultTemplate(t)
	ids := strings.Join(keysOfStrings(c.AlarmIds()), " ")
	if !strings.Contains(ids, "NewConnectionRate") {
		t.Errorf("AlarmIds() %s lacks NewConnectionRate", ids)
	}
	p := tpl.alarmNamed(t, "ChatNewConnectionRateAlarm")
	raw, _ := json.Marshal(p["Metrics"])
	m := string(raw)
	if p["Threshold"] != float64(400) || p["ComparisonOperator"] != "GreaterThanOrEqualToThreshold" ||
		!strings.Contains(m, `"Expression":"FILL(connects, 0) / 60"`) || !strings.Contains(m, `"MetricName":"ConnectCount"`) ||
		!strings.Contains(m, `"Period":60`) || !strings.Contains(m, `"Stat":"Sum"`) || !strings.Contains(m, `"Name":"Stage"`) {
		t.Errorf("new connection rate alarm %v", p)
	}
	if d, _ := p["AlarmDescription"].(string); !strings.Contains(d, "80% of the account's quota of 500 new WebSocket connections per second") {
		t.Errorf("runbook %q", d)
	}

	stack := newStack(t)
	chatapi.NewWebSocketChatApi(stack, jsii.String("Chat"), &chatapi.WebSocketChatApiProps{
		NewConnectionsQuota: jsii.Number(2000), NewConnectionsAlarmPercent: jsii.Number(50),
	})
	if got := synth(t, stack).alarmNamed(t, "ChatNewConnectionRateAlarm")["Threshold"]; got != float64(1000) {
		t.Errorf("threshold %v, want 50%% of 2000", got)
	}
	for _, tt := range []struct {
		props      chatapi.WebSocketChatApiProps
		prop, want string
	}{
		{chatapi.WebSocketChatApiProps{NewConnectionsQuota: jsii.Number(0)}, "NewConnectionsQuota", "greater than 0"},
		{chatapi.WebSocketChatApiProps{NewConnectionsAlarmPercent: jsii.Number(0)}, "NewConnectionsAlarmPercent", "over 0 and at most 100"},
		{chatapi.WebSocketChatApiProps{NewConnectionsAlarmPercent: jsii.Number(120)}, "NewConnectionsAlarmPercent", "over 0 and at most 100"},
	} {
		stack := newStack(t)
		msg := mustPanic(t, func() { chatapi.NewWebSocketChatApi(stack, jsii.String("Chat"), &tt.props) })
		if !strings.HasPrefix(msg, "chatapi: Test/Chat: "+tt.prop+": ") || !strings.Contains(msg, tt.want) {
			t.Errorf("panic %q, want %s: ...%s", msg, tt.prop, tt.want)
		}
	}
}

func keysOfStrings(ps *[]*string) []string {
	var out []string
	for _, p := range *ps {
		out = append(out, *p)
	}
	return out
}

// TestProductionComposition turns every production prop on at once, next to a route of the
// user's and a second chat with defaults: each piece is there and nothing leaks between them.
func TestProductionComposition(t *testing.T) {
	stack := newStack(t)
	chat := chatapi.NewWebSocketChatApi(stack, jsii.String("Chat"), &chatapi.WebSocketChatApiProps{
		CustomDomain: &chatapi.CustomDomainProps{
			DomainName: jsii.String("chat.example.com"), Certificate: certificate(stack, certArn), HostedZone: zone(stack, "example.com"),
		},
		Concurrency:                productionConcurrency(),
		NewConnectionsQuota:        jsii.Number(1000),
		NewConnectionsAlarmPercent: jsii.Number(90),
		AllowedOrigins:             jsii.Strings("https://www.example.com", "https://chat.example.com"),
	})
	chat.AddRoute(jsii.String("typing"), &chatapi.AddRouteOptions{Handler: userFunction(stack, "Typing")})
	other := chatapi.NewWebSocketChatApi(stack, jsii.String("Other"), &chatapi.WebSocketChatApiProps{StageName: jsii.String("other")})
	if *chat.WebSocketUrl() != "wss://chat.example.com" || strings.Contains(*other.WebSocketUrl(), "example.com") || other.CustomDomainName() != nil {
		t.Errorf("WebSocketUrl %s and %s", *chat.WebSocketUrl(), *other.WebSocketUrl())
	}
	tpl := synth(t, stack)
	for typ, want := range map[string]int{
		"AWS::ApiGatewayV2::DomainName": 1, "AWS::ApiGatewayV2::ApiMapping": 1, "AWS::Route53::RecordSet": 1,
		"AWS::Lambda::Alias": 2, "AWS::Lambda::Version": 2, "AWS::ApplicationAutoScaling::ScalableTarget": 1,
		"AWS::ApplicationAutoScaling::ScalingPolicy": 1, "AWS::Lambda::Function": 13,
	} {
		if got := len(tpl.ofType(typ)); got != want {
			t.Errorf("%d %s, want %d", got, typ, want)
		}
	}
	if p := tpl.alarmNamed(t, "ChatNewConnectionRateAlarm"); p["Threshold"] != float64(900) {
		t.Errorf("Chat's quota alarm threshold %v, want 900", p["Threshold"])
	}
	if p := tpl.alarmNamed(t, "OtherNewConnectionRateAlarm"); p["Threshold"] != float64(400) {
		t.Errorf("Other's quota alarm threshold %v, want 400", p["Threshold"])
	}
	typing := compact(tpl.Resources[integrationOf(tpl.routes()["typing"])].Properties["IntegrationUri"])
	if !strings.Contains(typing, tpl.functionID(t, "Typing")+".Arn/invocations") {
		t.Errorf("typing integration %s: a user's function is invoked as given", typing)
	}
	if env := tpl.envOf(t, "ChatConnectFunction"); env["ALLOWED_ORIGINS"] != "https://www.example.com,https://chat.example.com" {
		t.Errorf("ALLOWED_ORIGINS %v", env["ALLOWED_ORIGINS"])
	}
	for id, r := range tpl.Resources {
		if strings.HasPrefix(id, "Other") && (r.Type == "AWS::Lambda::Alias" || r.Properties["ReservedConcurrentExecutions"] != nil) {
			t.Errorf("%s: the second chat got the first one's concurrency", id)
		}
	}
}

// TestProductionCompositionWithIAM adds the other production edges to IAM-authorized clients
// on one chat: a custom domain, API keys in the x-api-key header (the only source without a
// Lambda authorizer), concurrency, the quota alarm, and a granted role.
func TestProductionCompositionWithIAM(t *testing.T) {
	stack := newStack(t)
	device := awsiam.NewRole(stack, jsii.String("Device"), &awsiam.RoleProps{AssumedBy: awsiam.NewServicePrincipal(jsii.String("iot.amazonaws.com"), nil)})
	chat := chatapi.NewWebSocketChatApi(stack, jsii.String("Chat"), &chatapi.WebSocketChatApiProps{
		Authentication: chatapi.IamAuthentication(&chatapi.IamAuthenticationProps{Grantees: &[]awsiam.IGrantable{device}}),
		CustomDomain: &chatapi.CustomDomainProps{
			DomainName: jsii.String("devices.example.com"), Certificate: certificate(stack, certArn),
		},
		ApiKeys: &chatapi.ApiKeysProps{Plans: &map[string]*chatapi.UsagePlanOptions{"fleet": {RateLimit: jsii.Number(10), BurstLimit: jsii.Number(20)}}},
		Concurrency: &map[string]*chatapi.FunctionConcurrencyProps{
			"chat": {Reserved: jsii.Number(20), Provisioned: jsii.Number(2)},
		},
		NewConnectionsAlarmPercent: jsii.Number(50),
	})
	chat.AddApiKey(jsii.String("Fleet"), jsii.String("fleet"), nil)
	if *chat.WebSocketUrl() != "wss://devices.example.com" || chat.AuthorizerFunction() != nil {
		t.Errorf("WebSocketUrl %s, authorizer function %v", *chat.WebSocketUrl(), chat.AuthorizerFunction())
	}
	tpl := synth(t, stack)
	for typ, want := range map[string]int{
		"AWS::ApiGatewayV2::DomainName": 1, "AWS::ApiGatewayV2::ApiMapping": 1, "AWS::ApiGatewayV2::Authorizer": 0,
		"AWS::ApiGateway::ApiKey": 1, "AWS::ApiGateway::UsagePlan": 1, "AWS::Lambda::Alias": 1,
	} {
		if got := len(tpl.ofType(typ)); got != want {
			t.Errorf("%d %s, want %d", got, typ, want)
		}
	}
	connect := tpl.routes()["$connect"].Properties
	if connect["AuthorizationType"] != "AWS_IAM" || connect["ApiKeyRequired"] != true {
		t.Errorf("$connect: AuthorizationType %v, ApiKeyRequired %v; want AWS_IAM and a key", connect["AuthorizationType"], connect["ApiKeyRequired"])
	}
	if p := tpl.alarmNamed(t, "ChatNewConnectionRateAlarm"); p["Threshold"] != float64(250) {
		t.Errorf("quota alarm threshold %v, want 250", p["Threshold"])
	}
	granted := false
	for _, id := range tpl.ofType("AWS::IAM::Policy") {
		r := tpl.Resources[id]
		if strings.Contains(compact(r.Properties["PolicyDocument"]), "execute-api:Invoke") && strings.Contains(compact(r.Properties["Roles"]), "Device") {
			granted = true
		}
	}
	if !granted {
		t.Error("the device role has no execute-api:Invoke policy")
	}
}
