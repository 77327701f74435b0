package chatapi_test

import (
	"encoding/json"
	"maps"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/chatstack/websocketchatapi/constructs/chatapi"
)

// queueID returns the logical id of the queue whose id starts with prefix and is not a longer
// queue's ("ChatPublishQueue" is not "ChatPublishDeadLetterQueue").
func (tpl template) queueID(t *testing.T, prefix string) string {
	t.Helper()
	var found []string
	for _, id := range tpl.ofType("AWS::SQS::Queue") {
		if strings.HasPrefix(id, prefix) && len(id) == len(prefix)+8 {
			found = append(found, id)
		}
	}
	if len(found) != 1 {
		t.Fatalf("queues %s*: %v", prefix, found)
	}
	return found[0]
}

// env returns a function's environment variables.
func (tpl template) env(t *testing.T, fnPrefix string) map[string]any {
	t.Helper()
	return tpl.Resources[tpl.functionID(t, fnPrefix)].Properties["Environment"].(map[string]any)["Variables"].(map[string]any)
}

// sslOnly reports whether a queue has a queue policy that denies every sqs action without TLS.
func (tpl template) sslOnly(queueID string) bool {
	for _, id := range tpl.ofType("AWS::SQS::QueuePolicy") {
		p := tpl.Resources[id].Properties
		if len(p["Queues"].([]any)) != 1 || ref(p["Queues"].([]any)[0]) != queueID {
			continue
		}
		for _, s := range p["PolicyDocument"].(map[string]any)["Statement"].([]any) {
			st, _ := json.Marshal(s)
			if strings.Contains(string(st), `"Effect":"Deny"`) && strings.Contains(string(st), `"aws:SecureTransport":"false"`) && strings.Contains(string(st), `"Action":"sqs:*"`) {
				return true
			}
		}
	}
	return false
}

func TestPublishQueues(t *testing.T) {
	tpl, c := defaultTemplate(t)
	queueID, dlqID := tpl.queueID(t, "ChatPublishQueue"), tpl.queueID(t, "ChatPublishDeadLetterQueue")
	if len(tpl.ofType("AWS::SQS::Queue")) != 2 {
		t.Fatalf("queues %v, want the publish queue and its dead-letter queue", tpl.ofType("AWS::SQS::Queue"))
	}
	q, dlq := tpl.Resources[queueID].Properties, tpl.Resources[dlqID].Properties
	fn := tpl.Resources[tpl.functionID(t, "ChatPublishFunction")].Properties
	// AWS's Lambda guide: at least six times the function's timeout.
	if fn["Timeout"] != float64(30) || q["VisibilityTimeout"] != float64(6*30) {
		t.Errorf("publish function timeout %v, queue visibility timeout %v: want 30 s and 6 x 30 s", fn["Timeout"], q["VisibilityTimeout"])
	}
	redrive, _ := json.Marshal(q["RedrivePolicy"])
	if string(redrive) != `{"deadLetterTargetArn":{"Fn::GetAtt":["`+dlqID+`","Arn"]},"maxReceiveCount":5}` {
		t.Errorf("redrive policy %s", redrive)
	}
	if dlq["MessageRetentionPeriod"] != float64(14*24*3600) || dlq["RedrivePolicy"] != nil {
		t.Errorf("dead-letter queue %v: want 14 days' retention and no redrive of its own", dlq)
	}
	for id, p := range map[string]map[string]any{queueID: q, dlqID: dlq} {
		if p["SqsManagedSseEnabled"] != true || p["KmsMasterKeyId"] != nil {
			t.Errorf("%s: encryption %v/%v, want SQS-managed", id, p["SqsManagedSseEnabled"], p["KmsMasterKeyId"])
		}
		if !tpl.sslOnly(id) {
			t.Errorf("%s: no queue policy denying requests without TLS", id)
		}
	}
	stack := awscdk.Stack_Of(c.Table())
	for name, got := range map[string]awscdk.CfnElement{
		queueID: c.PublishQueue().Node().DefaultChild().(awscdk.CfnElement),
		dlqID:   c.PublishDeadLetterQueue().Node().DefaultChild().(awscdk.CfnElement),
	} {
		if id := *stack.GetLogicalId(got); id != name {
			t.Errorf("accessor gives %s, want %s", id, name)
		}
	}
	if id := *stack.GetLogicalId(c.PublishFunction().Node().DefaultChild().(awscdk.CfnElement)); id != tpl.functionID(t, "ChatPublishFunction") {
		t.Errorf("PublishFunction() is %s", id)
	}
}

func TestPublishFunctionAndEventSource(t *testing.T) {
	tpl, _ := defaultTemplate(t)
	fnID, queueID := tpl.functionID(t, "ChatPublishFunction"), tpl.queueID(t, "ChatPublishQueue")
	fn := tpl.Resources[fnID].Properties
	if fn["Runtime"] != "provided.al2023" || fn["MemorySize"] != float64(512) || compact(fn["Architectures"]) != `["arm64"]` {
		t.Errorf("publish function %v %v %v", fn["Runtime"], fn["MemorySize"], fn["Architectures"])
	}
	env := tpl.env(t, "ChatPublishFunction")
	keys := slices.Sorted(maps.Keys(env))
	want := []string{"CALLBACK_URL", "FANOUT_CONCURRENCY", "HISTORY_RETENTION_SECONDS", "LARGE_ROOM_THRESHOLD", "METRICS_NAMESPACE", "METRICS_SERVICE", "PUBLISH_DEAD_LETTER_QUEUE_URL", "PUBLISH_QUEUE_URL", "TABLE_NAME"}
	if !slices.Equal(keys, want) {
		t.Errorf("publish env %v, want %v", keys, want)
	}
	tableID := tpl.ofType("AWS::DynamoDB::Table")[0]
	if ref(env["PUBLISH_DEAD_LETTER_QUEUE_URL"]) != tpl.queueID(t, "ChatPublishDeadLetterQueue") {
		t.Errorf("publish env PUBLISH_DEAD_LETTER_QUEUE_URL %v", env["PUBLISH_DEAD_LETTER_QUEUE_URL"])
	}
	if ref(env["PUBLISH_QUEUE_URL"]) != queueID || ref(env["TABLE_NAME"]) != tableID || env["LARGE_ROOM_THRESHOLD"] != "1000" {
		t.Errorf("publish env %v", env)
	}
	chat := tpl.env(t, "ChatChatFunction")
	if ref(chat["PUBLISH_QUEUE_URL"]) != queueID || chat["LARGE_ROOM_THRESHOLD"] != "1000" || chat["DIRECT_MESSAGES"] != "shared-room" {
		t.Errorf("chat env %v", chat)
	}
	_, esm := tpl.one(t, "AWS::Lambda::EventSourceMapping", nil)
	p := esm.Properties
	if compact(p["EventSourceArn"]) != queueID+".Arn" || ref(p["FunctionName"]) != fnID {
		t.Errorf("event source mapping %v -> %v", p["EventSourceArn"], p["FunctionName"])
	}
	if p["BatchSize"] != float64(10) || compact(p["FunctionResponseTypes"]) != `["ReportBatchItemFailures"]` {
		t.Errorf("event source mapping batch %v, response types %v", p["BatchSize"], p["FunctionResponseTypes"])
	}
	if p["MaximumBatchingWindowInSeconds"] != nil || p["ScalingConfig"] != nil {
		t.Errorf("event source mapping window %v, scaling %v: want neither by default", p["MaximumBatchingWindowInSeconds"], p["ScalingConfig"])
	}
}

func TestPublishProps(t *testing.T) {
	stack := newStack(t)
	c := chatapi.NewWebSocketChatApi(stack, jsii.String("Chat"), &chatapi.WebSocketChatApiProps{
		LargeRoomThreshold:     jsii.Number(0),
		DirectMessages:         chatapi.DirectMessagePolicyOff,
		PublishBatchSize:       jsii.Number(4),
		PublishMaxReceiveCount: jsii.Number(3),
		PublishMaxConcurrency:  jsii.Number(50),
		Concurrency:            &map[string]*chatapi.FunctionConcurrencyProps{"publish": {Reserved: jsii.Number(60), Provisioned: jsii.Number(2)}},
	})
	tpl := synth(t, stack)
	if chat := tpl.env(t, "ChatChatFunction"); chat["LARGE_ROOM_THRESHOLD"] != "0" || chat["DIRECT_MESSAGES"] != "off" {
		t.Errorf("chat env %v", chat)
	}
	if env := tpl.env(t, "ChatPublishFunction"); env["LARGE_ROOM_THRESHOLD"] != "0" {
		t.Errorf("publish env %v", env)
	}
	_, esm := tpl.one(t, "AWS::Lambda::EventSourceMapping", nil)
	p := esm.Properties
	if p["BatchSize"] != float64(4) || compact(p["ScalingConfig"]) != `{"MaximumConcurrency":50}` {
		t.Errorf("event source mapping batch %v, scaling %v", p["BatchSize"], p["ScalingConfig"])
	}
	// With provisioned concurrency the queue invokes the live alias, like API Gateway: CDK
	// names it <function name>:live, the name taken from the alias's ARN.
	alias := c.LiveAlias(jsii.String("publish"))
	name, _ := json.Marshal(p["FunctionName"])
	if alias == nil || !strings.Contains(string(name), `{"Ref":"`+*stack.GetLogicalId(alias.Node().DefaultChild().(awscdk.CfnElement))+`"}`) || !strings.Contains(string(name), `":live"`) {
		t.Errorf("event source mapping invokes %v, want the publish function's live alias", p["FunctionName"])
	}
	fn := tpl.Resources[tpl.functionID(t, "ChatPublishFunction")].Properties
	if fn["ReservedConcurrentExecutions"] != float64(60) {
		t.Errorf("publish reserved concurrency %v", fn["ReservedConcurrentExecutions"])
	}
	if redrive := compact(tpl.Resources[tpl.queueID(t, "ChatPublishQueue")].Properties["RedrivePolicy"]); !strings.Contains(redrive, `"maxReceiveCount":3`) {
		t.Errorf("redrive policy %s", redrive)
	}
}

func TestPublishPropsRefused(t *testing.T) {
	n := func(v float64) *float64 { return jsii.Number(v) }
	tests := []struct {
		name  string
		props chatapi.WebSocketChatApiProps
		want  string
	}{
		{"negative threshold", chatapi.WebSocketChatApiProps{LargeRoomThreshold: n(-1)}, "LargeRoomThreshold: must be a whole number from 0 to 20000"},
		{"threshold over the maximum", chatapi.WebSocketChatApiProps{LargeRoomThreshold: n(20001)}, "LargeRoomThreshold: must be a whole number from 0 to 20000"},
		{"fractional threshold", chatapi.WebSocketChatApiProps{LargeRoomThreshold: n(10.5)}, "LargeRoomThreshold: must be a whole number"},
		{"unknown policy", chatapi.WebSocketChatApiProps{DirectMessages: "friends"}, `DirectMessages: "friends" is not a direct message policy; valid: any, shared-room, off`},
		{"batch size 0", chatapi.WebSocketChatApiProps{PublishBatchSize: n(0)}, "PublishBatchSize: must be a whole number from 1 to 10"},
		{"batch size 11", chatapi.WebSocketChatApiProps{PublishBatchSize: n(11)}, "PublishBatchSize: must be a whole number from 1 to 10 (Lambda's SQS batch limit without a batching window)"},
		{"receive count 0", chatapi.WebSocketChatApiProps{PublishMaxReceiveCount: n(0)}, "PublishMaxReceiveCount: must be a whole number from 1 to 1000"},
		{"receive count 1001", chatapi.WebSocketChatApiProps{PublishMaxReceiveCount: n(1001)}, "PublishMaxReceiveCount: must be a whole number from 1 to 1000"},
		{"concurrency 1", chatapi.WebSocketChatApiProps{PublishMaxConcurrency: n(1)}, "PublishMaxConcurrency: must be a whole number from 2 to 1000"},
		{"concurrency 1001", chatapi.WebSocketChatApiProps{PublishMaxConcurrency: n(1001)}, "PublishMaxConcurrency: must be a whole number from 2 to 1000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stack := newStack(t)
			msg := mustPanic(t, func() { chatapi.NewWebSocketChatApi(stack, jsii.String("Chat"), &tt.props) })
			if want := "chatapi: Test/Chat: " + tt.want; !strings.HasPrefix(msg, want) {
				t.Errorf("panic %q, want it to start with %q", msg, want)
			}
		})
	}
}

// publisherStatements are what GrantPublish gives, as "actions @ resources" lines, sorted.
func publisherStatements(tpl template) []string {
	table := tpl.ofType("AWS::DynamoDB::Table")[0] + ".Arn"
	apiID := tpl.ofType("AWS::ApiGatewayV2::Api")[0]
	var queue string
	for _, id := range tpl.ofType("AWS::SQS::Queue") {
		if strings.HasPrefix(id, "ChatPublishQueue") {
			queue = id + ".Arn"
		}
	}
	out := []string{
		"dynamodb:BatchWriteItem dynamodb:ConditionCheckItem dynamodb:DeleteItem dynamodb:GetItem dynamodb:PutItem dynamodb:Query dynamodb:UpdateItem @ " + table,
		"dynamodb:Query @ " + table + "/index/byRoom " + table + "/index/byUser",
		"execute-api:ManageConnections @ arn:AWS::Partition:execute-api:AWS::Region:AWS::AccountId:" + apiID + "/prod/POST/@connections/*",
		"sqs:SendMessage @ " + queue,
	}
	sort.Strings(out)
	return out
}

// statementLines renders statements as "actions @ resources" lines, actions sorted, lines
// sorted, failing on a Deny or a wildcard action.
func statementLines(t *testing.T, statements []map[string]string) []string {
	t.Helper()
	var out []string
	for _, s := range statements {
		acts := strings.Fields(s["Action"])
		sort.Strings(acts)
		if s["Effect"] != "Allow" || strings.Contains(s["Action"], "*") {
			t.Errorf("statement %v", s)
		}
		out = append(out, strings.Join(acts, " ")+" @ "+s["Resource"])
	}
	sort.Strings(out)
	return out
}

// TestGrantPublish: exactly what package publish calls, each on its own resource: no Scan,
// no table-wide index wildcard, no other queue, POST to this stage's connections only.
func TestGrantPublish(t *testing.T) {
	stack := newStack(t)
	chat := chatapi.NewWebSocketChatApi(stack, jsii.String("Chat"), nil)
	backend := newRole(stack, "Backend")
	if g := chat.GrantPublish(backend); !*g.Success() {
		t.Error("GrantPublish: grant did not succeed")
	}
	tpl := synth(t, stack)
	got := statementLines(t, tpl.roleStatements(t, tpl.roleID(t, "Backend")))
	if want := publisherStatements(tpl); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("GrantPublish statements:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, l := range got {
		if strings.Contains(l, "Scan") || strings.Contains(l, "/index/*") || strings.Contains(l, "DeadLetter") {
			t.Errorf("GrantPublish grants %s", l)
		}
	}
	msg := mustPanic(t, func() { chat.GrantPublish(nil) })
	if !strings.HasPrefix(msg, "chatapi: Test/Chat: GrantPublish: grantee must not be nil") {
		t.Errorf("panic %q", msg)
	}
}

// TestConfigurePublisher: the grant plus the three variables publish.FromEnv reads, resolved
// to this chat's table, stage and queue; the user's own variables stay.
func TestConfigurePublisher(t *testing.T) {
	stack := newStack(t)
	chat := chatapi.NewWebSocketChatApi(stack, jsii.String("Chat"), nil)
	fn := userFunction(stack, "Inventory")
	fn.AddEnvironment(jsii.String("TABLE_NAME"), jsii.String("inventory"), nil)
	chat.ConfigurePublisher(fn)
	tpl := synth(t, stack)
	fnID := tpl.functionID(t, "Inventory")
	env := tpl.Resources[fnID].Properties["Environment"].(map[string]any)["Variables"].(map[string]any)
	tableID, apiID := tpl.ofType("AWS::DynamoDB::Table")[0], tpl.ofType("AWS::ApiGatewayV2::Api")[0]
	if len(env) != 4 || env["TABLE_NAME"] != "inventory" || ref(env["WEBSOCKETCHAT_TABLE_NAME"]) != tableID ||
		compact(env["WEBSOCKETCHAT_CALLBACK_URL"]) != "https://"+apiID+".execute-api.AWS::Region.AWS::URLSuffix/prod" ||
		ref(env["WEBSOCKETCHAT_PUBLISH_QUEUE_URL"]) != tpl.queueID(t, "ChatPublishQueue") {
		t.Errorf("publisher env %v", env)
	}
	// Besides the grant, the function's role has only what CDK gave it: the basic execution
	// managed policy, no inline statement.
	got := statementLines(t, tpl.statements(t, fnID))
	if want := publisherStatements(tpl); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("ConfigurePublisher statements:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	msg := mustPanic(t, func() { chat.ConfigurePublisher(nil) })
	if !strings.HasPrefix(msg, "chatapi: Test/Chat: ConfigurePublisher: function must not be nil") {
		t.Errorf("panic %q", msg)
	}
}

// TestPublishDeadLettersAlarm: one message in the dead-letter queue fires the alarm, whose
// runbook says how to find the reason and redrive.
func TestPublishDeadLettersAlarm(t *testing.T) {
	tpl, c := defaultTemplate(t)
	p := tpl.alarmNamed(t, "ChatPublishDeadLettersAlarm")
	raw, _ := json.Marshal(p["Dimensions"])
	dims := string(raw)
	if p["Namespace"] != "AWS/SQS" || p["MetricName"] != "ApproximateNumberOfMessagesVisible" || p["Statistic"] != "Maximum" ||
		dims != `[{"Name":"QueueName","Value":{"Fn::GetAtt":["`+tpl.queueID(t, "ChatPublishDeadLetterQueue")+`","QueueName"]}}]` {
		t.Errorf("dead letters alarm metric %v %v %v %s", p["Namespace"], p["MetricName"], p["Statistic"], dims)
	}
	if p["Threshold"] != float64(1) || p["ComparisonOperator"] != "GreaterThanOrEqualToThreshold" || p["TreatMissingData"] != "notBreaching" {
		t.Errorf("dead letters alarm fires on %v %v (%v), want >= 1", p["ComparisonOperator"], p["Threshold"], p["TreatMissingData"])
	}
	if d := p["AlarmDescription"].(string); !strings.Contains(d, "start-message-move-task") || !strings.Contains(d, "failed 5 times") {
		t.Errorf("runbook %q", d)
	}
	if c.Alarm(jsii.String("PublishDeadLetters")) == nil {
		t.Error("Alarm(PublishDeadLetters) is nil")
	}
}

// TestPublishBacklogAgeAlarm: the publish queue's oldest message waiting a minute fires it.
func TestPublishBacklogAgeAlarm(t *testing.T) {
	tpl, c := defaultTemplate(t)
	p := tpl.alarmNamed(t, "ChatPublishBacklogAgeAlarm")
	raw, _ := json.Marshal(p["Dimensions"])
	if p["Namespace"] != "AWS/SQS" || p["MetricName"] != "ApproximateAgeOfOldestMessage" || p["Statistic"] != "Maximum" ||
		string(raw) != `[{"Name":"QueueName","Value":{"Fn::GetAtt":["`+tpl.queueID(t, "ChatPublishQueue")+`","QueueName"]}}]` {
		t.Errorf("backlog alarm metric %v %v %v %s", p["Namespace"], p["MetricName"], p["Statistic"], raw)
	}
	if p["Threshold"] != float64(60) || p["ComparisonOperator"] != "GreaterThanOrEqualToThreshold" {
		t.Errorf("backlog alarm fires on %v %v, want >= 60 s", p["ComparisonOperator"], p["Threshold"])
	}
	if d := p["AlarmDescription"].(string); !strings.Contains(d, "PublishMaxConcurrency") {
		t.Errorf("runbook %q", d)
	}
	if c.Alarm(jsii.String("PublishBacklogAge")) == nil {
		t.Error("Alarm(PublishBacklogAge) is nil")
	}
}
