package chatapi_test

import (
	"encoding/json"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/jsii-runtime-go"

	"github.com/chatstack/websocketchatapi/constructs/chatapi"
)

func TestAccessLogsAndCloudWatchRole(t *testing.T) {
	tpl, c := defaultTemplate(t)
	_, st := tpl.one(t, "AWS::ApiGatewayV2::Stage", nil)
	als, _ := st.Properties["AccessLogSettings"].(map[string]any)
	if als == nil {
		t.Fatal("no access log settings")
	}
	var format map[string]string
	if err := json.Unmarshal([]byte(als["Format"].(string)), &format); err != nil {
		t.Fatalf("access log format is not JSON: %v", err)
	}
	for field, variable := range map[string]string{
		"requestId": "$context.requestId", "extendedRequestId": "$context.extendedRequestId",
		"connectionId": "$context.connectionId", "eventType": "$context.eventType", "routeKey": "$context.routeKey",
		"status": "$context.status", "error": "$context.error.message", "integrationError": "$context.integration.error",
		"integrationLatency": "$context.integration.latency", "sourceIp": "$context.identity.sourceIp",
	} {
		if format[field] != variable {
			t.Errorf("access log field %s = %q, want %q", field, format[field], variable)
		}
	}
	group := strings.TrimSuffix(compact(als["DestinationArn"]), ".Arn")
	if tpl.Resources[group].Properties["RetentionInDays"] != float64(30) {
		t.Errorf("access log group %s retention %v", group, tpl.Resources[group].Properties["RetentionInDays"])
	}
	if c.AccessLogGroup() == nil {
		t.Error("AccessLogGroup() is nil")
	}
	accountID, account := tpl.one(t, "AWS::ApiGateway::Account", nil)
	role := strings.TrimSuffix(compact(account.Properties["CloudWatchRoleArn"]), ".Arn")
	if !strings.Contains(compact(tpl.Resources[role].Properties["ManagedPolicyArns"]), "AmazonAPIGatewayPushToCloudWatchLogs") {
		t.Errorf("cloudwatch role %v", tpl.Resources[role].Properties)
	}
	deps, _ := json.Marshal(st.DependsOn)
	if !strings.Contains(string(deps), accountID) {
		t.Errorf("stage does not wait for the account's CloudWatch role: %s", deps)
	}
	rs, _ := json.Marshal(st.Properties["RouteSettings"])
	// A route's settings replace the stage defaults for it: detailed metrics are repeated.
	if string(rs) != `{"$connect":{"DetailedMetricsEnabled":true,"ThrottlingBurstLimit":100,"ThrottlingRateLimit":50}}` {
		t.Errorf("route settings %s", rs)
	}
	for _, id := range []string{role, accountID} {
		if p := tpl.Resources[id].DeletionPolicy; p != "Retain" {
			t.Errorf("%s has DeletionPolicy %q: deleting the account's logging role breaks logging for every API in the region", id, p)
		}
	}
	drs := st.Properties["DefaultRouteSettings"].(map[string]any)
	if _, ok := drs["LoggingLevel"]; ok {
		t.Errorf("execution logging is on by default: %v", drs)
	}
}

func TestLoggingOptions(t *testing.T) {
	stack := newStack(t)
	chatapi.NewWebSocketChatApi(stack, jsii.String("Chat"), &chatapi.WebSocketChatApiProps{
		ExecutionLogLevel: chatapi.ExecutionLogLevelError,
		CloudWatchRole:    jsii.Bool(false),
		RouteThrottling:   &map[string]*chatapi.ThrottleProps{"sendmessage": {RateLimit: jsii.Number(5), BurstLimit: jsii.Number(5)}},
	})
	tpl := synth(t, stack)
	_, st := tpl.one(t, "AWS::ApiGatewayV2::Stage", nil)
	drs := st.Properties["DefaultRouteSettings"].(map[string]any)
	if drs["LoggingLevel"] != "ERROR" || drs["DataTraceEnabled"] != false {
		t.Errorf("default route settings %v", drs)
	}
	if n := len(tpl.ofType("AWS::ApiGateway::Account")); n != 0 {
		t.Errorf("CloudWatchRole false still made %d accounts", n)
	}
	rs, _ := json.Marshal(st.Properties["RouteSettings"])
	if string(rs) != `{"sendmessage":{"DataTraceEnabled":false,"DetailedMetricsEnabled":true,"LoggingLevel":"ERROR","ThrottlingBurstLimit":5,"ThrottlingRateLimit":5}}` {
		t.Errorf("route settings %s", rs)
	}

	stack = newStack(t)
	chatapi.NewWebSocketChatApi(stack, jsii.String("Chat"), &chatapi.WebSocketChatApiProps{
		AccessLogging: jsii.Bool(false), Alarms: jsii.Bool(false), Dashboard: jsii.Bool(false),
	})
	tpl = synth(t, stack)
	_, st = tpl.one(t, "AWS::ApiGatewayV2::Stage", nil)
	if st.Properties["AccessLogSettings"] != nil || len(tpl.ofType("AWS::ApiGateway::Account")) != 0 ||
		len(tpl.ofType("AWS::CloudWatch::Alarm")) != 0 || len(tpl.ofType("AWS::CloudWatch::Dashboard")) != 0 {
		t.Errorf("logging/alarms/dashboard off still synthesized them")
	}
}

func TestAlarmsAndDashboard(t *testing.T) {
	stack := newStack(t)
	topic := awssns.NewTopic(stack, jsii.String("OnCall"), nil)
	c := chatapi.NewWebSocketChatApi(stack, jsii.String("Chat"), &chatapi.WebSocketChatApiProps{AlarmTopic: topic})
	tpl := synth(t, stack)
	alarms := map[string]map[string]any{}
	for _, id := range tpl.ofType("AWS::CloudWatch::Alarm") {
		p := tpl.Resources[id].Properties
		alarms[id] = p
		if d, _ := p["AlarmDescription"].(string); len(d) < 40 {
			t.Errorf("alarm %s has no runbook: %q", id, d)
		}
		if a, _ := json.Marshal(p["AlarmActions"]); !strings.Contains(string(a), "OnCall") {
			t.Errorf("alarm %s does not notify the topic: %s", id, a)
		}
	}
	var metrics []string
	for _, p := range alarms {
		if name, ok := p["MetricName"].(string); ok {
			metrics = append(metrics, name+"/"+compact(p["Namespace"]))
		} else {
			metrics = append(metrics, "expression")
		}
	}
	sort.Strings(metrics)
	joined := strings.Join(metrics, " ")
	for _, want := range []string{"ExecutionError/AWS/ApiGateway", "Errors/AWS/Lambda", "Throttles/AWS/Lambda", "Duration/AWS/Lambda", "FanoutFailures/WebSocketChatApi", "expression"} {
		if !strings.Contains(joined, want) {
			t.Errorf("no alarm on %s; alarms on: %s", want, joined)
		}
	}
	// 3 API + 3 per function × 6 + DynamoDB throttles + fan-out failures + new connection rate
	// + publish dead letters.
	if len(alarms) != 3+18+5 || len(*c.AlarmIds()) != len(alarms) {
		t.Errorf("%d alarms (AlarmIds %d), want 26", len(alarms), len(*c.AlarmIds()))
	}
	for id, p := range alarms {
		if strings.Contains(id, "ChatFunctionDurationNearTimeout") && p["Threshold"] != float64(28*1000*0.8) {
			t.Errorf("chat duration alarm threshold %v, want 80%% of 28 s", p["Threshold"])
		}
	}
	_, dash := tpl.one(t, "AWS::CloudWatch::Dashboard", nil)
	body := compact(dash.Properties["DashboardBody"])
	checkAlarmMeaning(t, alarms, body)
	for _, w := range []string{"Connections", "Messages", "API errors", "Lambda errors", "Latency", "Fan-out", "ConnectCount", "FanoutRecipients", "FanoutDurationMs", "DynamoDB throttles", "Publish queue", "Publish dead letters", "ApproximateAgeOfOldestMessage"} {
		if !strings.Contains(body, w) {
			t.Errorf("dashboard lacks %q", w)
		}
	}
	if c.Dashboard() == nil || c.Alarm(jsii.String("FanoutFailures")) == nil {
		t.Error("Dashboard() or Alarm(FanoutFailures) is nil")
	}
	chat := tpl.Resources[tpl.functionID(t, "ChatChatFunction")].Properties["Environment"].(map[string]any)["Variables"].(map[string]any)
	if chat["METRICS_NAMESPACE"] != "WebSocketChatApi" || chat["METRICS_SERVICE"] == "" || chat["RATE_LIMIT_PER_SECOND"] != "10" || chat["RATE_LIMIT_BURST"] != "20" {
		t.Errorf("chat env %v", chat)
	}
}

func TestAllowedOriginsAndRateLimit(t *testing.T) {
	stack := newStack(t)
	chatapi.NewWebSocketChatApi(stack, jsii.String("Chat"), &chatapi.WebSocketChatApiProps{
		AllowedOrigins: jsii.Strings("https://chat.example.com", "http://localhost:3000"),
		RateLimit:      &chatapi.RateLimitProps{PerSecond: jsii.Number(0.5), Burst: jsii.Number(3)},
	})
	tpl := synth(t, stack)
	env := func(fn string) map[string]any {
		return tpl.Resources[tpl.functionID(t, fn)].Properties["Environment"].(map[string]any)["Variables"].(map[string]any)
	}
	if got := env("ChatConnectFunction")["ALLOWED_ORIGINS"]; got != "https://chat.example.com,http://localhost:3000" {
		t.Errorf("ALLOWED_ORIGINS %v", got)
	}
	if c := env("ChatChatFunction"); c["RATE_LIMIT_PER_SECOND"] != "0.5" || c["RATE_LIMIT_BURST"] != "3" {
		t.Errorf("rate limit env %v", c)
	}
	if _, ok := env("ChatConnectFunction")["ALLOWED_ORIGINS"]; !ok {
		t.Error("unset")
	}
	stack = newStack(t)
	chatapi.NewWebSocketChatApi(stack, jsii.String("Chat"), nil)
	tpl = synth(t, stack)
	if _, ok := env("ChatConnectFunction")["ALLOWED_ORIGINS"]; ok {
		t.Error("ALLOWED_ORIGINS set by default (any origin is the default)")
	}
}

// checkAlarmMeaning checks that the alarms fire on breakage, not on client mistakes, and that
// each runbook fits its alarm.
func checkAlarmMeaning(t *testing.T, alarms map[string]map[string]any, dashboard string) {
	t.Helper()
	byID := func(part string) map[string]any {
		for id, p := range alarms {
			if strings.HasPrefix(id, "Chat"+part+"Alarm") {
				return p
			}
		}
		t.Fatalf("no alarm %s", part)
		return nil
	}
	// Integration errors of message routes: the stage's total less $connect's, by Route.
	integ, _ := json.Marshal(byID("ApiIntegrationErrors")["Metrics"])
	if !strings.Contains(string(integ), `"Name":"Route","Value":"$connect"`) || !strings.Contains(string(integ), "total - FILL(connect, 0)") {
		t.Errorf("ApiIntegrationErrors counts $connect's 4xx (refused origins) too: %s", integ)
	}
	// $connect: a rate over a minimum of connects, not a count of 1.
	rate := byID("ConnectErrorRate")
	expr, _ := json.Marshal(rate["Metrics"])
	if rate["Threshold"] != float64(10) || !strings.Contains(string(expr), `IF(FILL(connects, 0) \u003e= 20,`) {
		t.Errorf("ConnectErrorRate threshold %v, metrics %s", rate["Threshold"], expr)
	}
	if d := byID("ApiExecutionErrors")["AlarmDescription"].(string); strings.Contains(d, "API Gateway itself failed") || !strings.Contains(d, "calling the integration") {
		t.Errorf("ExecutionError runbook does not say what AWS counts: %q", d)
	}
	for _, small := range []string{"Authorizer", "Connect", "Default", "Disconnect"} {
		if d := byID(small + "FunctionDurationNearTimeout")["AlarmDescription"].(string); strings.Contains(d, "ChatMemorySize") {
			t.Errorf("%s's duration runbook tells the reader to raise the chat function's memory: %q", small, d)
		}
	}
	if d := byID("TableThrottles")["AlarmDescription"].(string); !strings.Contains(d, `"DynamoDB throttles"`) || !strings.Contains(dashboard, "DynamoDB throttles") {
		t.Errorf("TableThrottles runbook points to a dashboard graph that does not exist: %q", d)
	}
}

// TestAlarmsWithoutTopicWarn: with alarms on and no topic, nobody would hear them.
func TestAlarmsWithoutTopicWarn(t *testing.T) {
	stack := newStack(t)
	chatapi.NewWebSocketChatApi(stack, jsii.String("Chat"), nil)
	warnings := assertions.Annotations_FromStack(stack).FindWarning(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("AlarmTopic is not set")))
	if len(*warnings) != 1 {
		t.Errorf("%d warnings about alarms without a topic, want 1", len(*warnings))
	}
	stack = newStack(t)
	chatapi.NewWebSocketChatApi(stack, jsii.String("Chat"), &chatapi.WebSocketChatApiProps{AlarmTopic: awssns.NewTopic(stack, jsii.String("T"), nil)})
	warnings = assertions.Annotations_FromStack(stack).FindWarning(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("AlarmTopic is not set")))
	if len(*warnings) != 0 {
		t.Errorf("warned about a missing topic although AlarmTopic is set")
	}
}

// TestStageWaitsForThrottledRoutes: CloudFormation creates what has no dependency first, and
// API Gateway refuses a stage whose RouteSettings name a route that does not exist yet.
func TestStageWaitsForThrottledRoutes(t *testing.T) {
	stack := newStack(t)
	chat := chatapi.NewWebSocketChatApi(stack, jsii.String("Chat"), &chatapi.WebSocketChatApiProps{
		RouteThrottling: &map[string]*chatapi.ThrottleProps{
			"$connect": {RateLimit: jsii.Number(5), BurstLimit: jsii.Number(5)},
			"typing":   {RateLimit: jsii.Number(2), BurstLimit: jsii.Number(2)},
		},
	})
	chat.AddRoute(jsii.String("typing"), &chatapi.AddRouteOptions{Handler: userFunction(stack, "Typing")})
	tpl := synth(t, stack)
	_, st := tpl.one(t, "AWS::ApiGatewayV2::Stage", nil)
	deps, _ := json.Marshal(st.DependsOn)
	for _, key := range []string{"$connect", "typing"} {
		if id := routeID(tpl, key); !strings.Contains(string(deps), `"`+id+`"`) {
			t.Errorf("stage does not depend on route %s (%s): DependsOn %s", key, id, deps)
		}
	}
	if id := routeID(tpl, "sendmessage"); strings.Contains(string(deps), `"`+id+`"`) {
		t.Errorf("stage depends on sendmessage, which its settings do not name")
	}

	stack = newStack(t)
	chatapi.NewWebSocketChatApi(stack, jsii.String("Chat"), &chatapi.WebSocketChatApiProps{
		RouteThrottling: &map[string]*chatapi.ThrottleProps{"typing": {RateLimit: jsii.Number(2), BurstLimit: jsii.Number(2)}},
	})
	msg := mustPanic(t, func() { synth(t, stack) })
	if !strings.Contains(msg, `RouteThrottling: "typing" is not a route of the API`) {
		t.Errorf("throttling a route that never exists: %q", msg)
	}
}
