package assembly_test

import (
	"encoding/json"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/chatstack/websocketchatapi/integ/internal/assembly"
	"github.com/chatstack/websocketchatapi/integ/internal/golden"
	"github.com/chatstack/websocketchatapi/internal/contract"
)

// Logical ids of the reference stack's publish path (golden names the other functions and the
// table).
const (
	publishFunction = "ChatPublishFunction3AF209E1"
	publishQueue    = "ChatPublishQueueA4D93581"
	deadLetterQueue = "ChatPublishDeadLetterQueue3229A84B"
)

// roleIDOf returns the logical id of the role the template itself names as the function's Role
// ({"Fn::GetAtt": [id, "Arn"]} or {"Fn::GetAtt": "id.Arn"}), read from the raw resource so that
// the model's RoleLogicalID can be checked against it.
func roleIDOf(t *testing.T, st *assembly.Stack, fnID string) string {
	t.Helper()
	res := st.Resources[fnID]
	if res == nil {
		t.Fatalf("no resource %s", fnID)
	}
	ga, _ := res.Properties["Role"].(map[string]any)
	var id, attr string
	switch v := ga["Fn::GetAtt"].(type) {
	case []any:
		if len(v) == 2 {
			id, _ = v[0].(string)
			attr, _ = v[1].(string)
		}
	case string:
		id, attr, _ = strings.Cut(v, ".")
	}
	if id == "" || attr != "Arn" {
		t.Fatalf("%s Role = %v, want a Fn::GetAtt of a role's Arn", fnID, res.Properties["Role"])
	}
	return id
}

// policiesAttaching returns the logical ids of the AWS::IAM::Policy resources whose Roles name
// roleID with a Ref, sorted.
func policiesAttaching(st *assembly.Stack, roleID string) []string {
	var out []string
	for id, res := range st.Resources {
		if res.Type != "AWS::IAM::Policy" {
			continue
		}
		roles, _ := res.Properties["Roles"].([]any)
		for _, r := range roles {
			if m, ok := r.(map[string]any); ok && m["Ref"] == roleID {
				out = append(out, id)
			}
		}
	}
	slices.Sort(out)
	return out
}

// resourcesOfType returns the logical ids of the stack's resources of type typ, sorted.
func resourcesOfType(st *assembly.Stack, typ string) []string {
	return slices.DeleteFunc(slices.Sorted(maps.Keys(st.Resources)), func(id string) bool { return st.Resources[id].Type != typ })
}

// logGroupARN is the ARN IAM statements use for the function's log group (GetAtt Arn of an
// AWS::Logs::LogGroup): arn:...:log-group:<name>:*.
func logGroupARN(st *assembly.Stack, fn *assembly.Function) string {
	return st.Env.ARN("logs", st.Env.Region, st.Env.AccountID, "log-group:"+fn.LogGroup+":*")
}

// grants lists every "action resource" pair the role's policies allow, sorted. Any statement
// that is not a plain Allow of Action on Resource is reported: it would escape the comparison.
func grants(t *testing.T, r *assembly.Role) []string {
	t.Helper()
	var out []string
	for _, p := range r.Policies {
		for i, st := range p.Document.Statements {
			if st.Effect != "Allow" || st.NotAction != nil || st.NotResource != nil || len(st.Condition) != 0 {
				t.Errorf("role %s policy %s statement %d is not a plain Allow: %+v", r.LogicalID, p.Name, i, st)
			}
			for _, a := range st.Action {
				for _, res := range st.Resource {
					out = append(out, a+" "+res)
				}
			}
		}
	}
	slices.Sort(out)
	return out
}

func TestReferenceAPIRoutes(t *testing.T) {
	st := golden.Load(t, assembly.Options{})
	api := st.API()
	if api == nil {
		t.Fatalf("API() = nil, want the one WebSocket API (APIs: %d)", len(st.APIs))
	}
	if api.ID != "localapi01" || api.RouteSelectionExpression != "$request.body.action" {
		t.Errorf("api id %q, route selection %q", api.ID, api.RouteSelectionExpression)
	}
	if want := "wss://localapi01.execute-api.us-east-1.amazonaws.com"; api.Endpoint != want {
		t.Errorf("Endpoint = %q, want %q", api.Endpoint, want)
	}
	var keys []string
	for _, r := range api.Routes {
		keys = append(keys, r.Key)
	}
	wantKeys := []string{"$connect", "$default", "$disconnect", "direct", "history", "joinroom", "leaveroom", "members", "ping", "sendmessage"}
	if !slices.Equal(keys, wantKeys) {
		t.Fatalf("route keys = %v, want %v", keys, wantKeys)
	}

	chat := api.Route("sendmessage").Integration
	if chat == nil || chat.FunctionLogicalID != golden.ChatFunction || chat.Function != st.Functions[golden.ChatFunction] {
		t.Fatalf("sendmessage integration = %+v, want one invoking %s", chat, golden.ChatFunction)
	}
	if chat.Type != "AWS_PROXY" || chat.Timeout != 29*time.Second {
		t.Errorf("chat integration type %q timeout %v, want AWS_PROXY 29s", chat.Type, chat.Timeout)
	}
	for _, k := range []string{"joinroom", "leaveroom", "history", "direct", "members"} {
		if got := api.Route(k).Integration; got != chat {
			t.Errorf("route %s integration = %v, want the shared chat integration %s", k, got, chat.LogicalID)
		}
	}
	for k, fn := range map[string]string{"$connect": golden.ConnectFunction, "$disconnect": golden.DisconnectFunction, "$default": golden.DefaultFunction} {
		if in := api.Route(k).Integration; in == nil || in.FunctionLogicalID != fn {
			t.Errorf("route %s integration = %+v, want function %s", k, in, fn)
		}
	}
	if len(api.Integrations) != 5 {
		t.Errorf("%d integrations, want 5 (one per function the API invokes, and ping's MOCK)", len(api.Integrations))
	}

	connect := api.Route("$connect")
	if connect.AuthorizationType != "CUSTOM" || connect.Authorizer == nil {
		t.Fatalf("$connect auth = %q %+v, want CUSTOM with an authorizer", connect.AuthorizationType, connect.Authorizer)
	}
	az := connect.Authorizer
	if az.Type != "REQUEST" || az.FunctionLogicalID != golden.AuthorizerFunction || len(az.IdentitySource) != 0 {
		t.Errorf("authorizer = type %q fn %q identity %v, want REQUEST, %s, no identity source", az.Type, az.FunctionLogicalID, az.IdentitySource, golden.AuthorizerFunction)
	}
	for _, r := range api.Routes {
		if r.Key != "$connect" && (r.Authorizer != nil || r.AuthorizationType != "NONE") {
			t.Errorf("route %s has auth %q %v, want NONE", r.Key, r.AuthorizationType, r.Authorizer)
		}
		wantResp := r.Key != "$connect" && r.Key != "$disconnect"
		if r.HasRouteResponse() != wantResp {
			t.Errorf("route %s HasRouteResponse = %v, want %v", r.Key, r.HasRouteResponse(), wantResp)
		}
		if wantResp && r.Responses[0].Key != "$default" {
			t.Errorf("route %s response key %q, want $default", r.Key, r.Responses[0].Key)
		}
	}

	stage := api.Stage("prod")
	if stage == nil || len(api.Stages) != 1 {
		t.Fatalf("stages = %v, want one named prod", api.Stages)
	}
	want := assembly.RouteSettings{DetailedMetricsEnabled: true, ThrottlingBurstLimit: 200, ThrottlingRateLimit: 100}
	if !stage.AutoDeploy || stage.DefaultRouteSettings != want {
		t.Errorf("stage autodeploy %v settings %+v, want true %+v", stage.AutoDeploy, stage.DefaultRouteSettings, want)
	}
	if stage.CallbackURL != "https://localapi01.execute-api.us-east-1.amazonaws.com/prod" ||
		stage.URL != "wss://localapi01.execute-api.us-east-1.amazonaws.com/prod" {
		t.Errorf("stage URLs %q %q", stage.CallbackURL, stage.URL)
	}

	// Access logs go to the one log group of the stack that belongs to no function.
	var accessLogs []string
	for _, id := range resourcesOfType(st, "AWS::Logs::LogGroup") {
		name, err := st.Resolver.PhysicalID(id)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(st.SortedFunctions(), func(f *assembly.Function) bool { return f.LogGroup == name }) {
			accessLogs = append(accessLogs, id)
		}
	}
	if len(accessLogs) != 1 {
		t.Fatalf("log groups of no function = %v, want one for access logs", accessLogs)
	}
	if arn, err := st.Resolver.GetAtt(accessLogs[0], "Arn"); err != nil || stage.AccessLogDestination != arn {
		t.Errorf("stage access log destination = %q, want %s's ARN %q (%v)", stage.AccessLogDestination, accessLogs[0], arn, err)
	}
	var format map[string]string
	if err := json.Unmarshal([]byte(stage.AccessLogFormat), &format); err != nil ||
		format["connectionId"] != "$context.connectionId" || format["routeKey"] != "$context.routeKey" {
		t.Errorf("access log format = %q (%v), want JSON with connectionId and routeKey", stage.AccessLogFormat, err)
	}
}

func TestReferenceModels(t *testing.T) {
	api := golden.Load(t, assembly.Options{}).API()
	if len(api.Models) != 6 {
		t.Errorf("%d models, want 6", len(api.Models))
	}
	required := map[string][]string{
		"sendmessage": {"roomId", "text"},
		"joinroom":    {"roomId"},
		"leaveroom":   {"roomId"},
		"history":     {"roomId"},
		"members":     {"roomId"},
		"direct":      {"toUserId", "text"},
	}
	for key, req := range required {
		r := api.Route(key)
		if r.ModelSelectionExpression != "$request.body.action" {
			t.Errorf("route %s model selection %q", key, r.ModelSelectionExpression)
		}
		m := r.RequestModels["$default"]
		if m == nil || !strings.HasPrefix(m.Name, key) || m.ContentType != "application/json" {
			t.Fatalf("route %s $default model = %+v", key, m)
		}
		var schema struct {
			Schema     string                    `json:"$schema"`
			Title      string                    `json:"title"`
			Required   []string                  `json:"required"`
			Properties map[string]map[string]any `json:"properties"`
		}
		if err := json.Unmarshal(m.Schema, &schema); err != nil {
			t.Fatalf("model %s schema: %v", m.Name, err)
		}
		if schema.Schema != "http://json-schema.org/draft-04/schema#" || schema.Title != key || !slices.Equal(schema.Required, req) {
			t.Errorf("model %s schema = %+v", m.Name, schema)
		}
		if key == "direct" {
			// A direct message names a user, not a room.
			if _, ok := schema.Properties["roomId"]; ok {
				t.Errorf("model %s has a roomId property", m.Name)
			}
			continue
		}
		if p := schema.Properties["roomId"]["pattern"]; p != "^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$" {
			t.Errorf("model %s roomId pattern = %v", m.Name, p)
		}
	}
	// property returns the named property of a route's $default model.
	property := func(route, name string) map[string]any {
		var doc struct {
			Properties map[string]map[string]any `json:"properties"`
		}
		_ = json.Unmarshal(api.Route(route).RequestModels["$default"].Schema, &doc)
		return doc.Properties[name]
	}
	for _, route := range []string{"sendmessage", "direct"} {
		if text := property(route, "text"); text["minLength"] != float64(1) || text["maxLength"] != float64(4000) {
			t.Errorf("%s text = %v, want minLength 1, maxLength 4000", route, text)
		}
	}
	if to := property("direct", "toUserId"); to["type"] != "string" || to["minLength"] != float64(1) || to["maxLength"] != float64(512) {
		t.Errorf("direct toUserId = %v, want a string of 1 to 512 characters", to)
	}
	if limit := property("members", "limit"); limit["type"] != "integer" || limit["minimum"] != float64(1) || limit["maximum"] != float64(200) {
		t.Errorf("members limit = %v, want an integer from 1 to 200", limit)
	}
	for _, k := range []string{"$connect", "$disconnect", "$default"} {
		if n := len(api.Route(k).RequestModels); n != 0 {
			t.Errorf("route %s has %d request models, want 0", k, n)
		}
	}
}

func TestReferenceFunctions(t *testing.T) {
	st := golden.Load(t, assembly.Options{})
	if len(st.Functions) != 6 {
		t.Fatalf("%d functions, want 6", len(st.Functions))
	}
	fn := st.Functions[golden.ChatFunction]
	table := st.Tables[golden.Table]
	if table == nil || table.Name != "WebSocketChatApi-ChatTable4603252B" {
		t.Fatalf("table = %+v, want name WebSocketChatApi-ChatTable4603252B", table)
	}
	queue, dlq := st.Queues[publishQueue], st.Queues[deadLetterQueue]
	if queue == nil || dlq == nil || len(st.Queues) != 2 {
		t.Fatalf("queues = %v, want %s and %s", slices.Sorted(maps.Keys(st.Queues)), publishQueue, deadLetterQueue)
	}
	if !regexp.MustCompile(`^https://sqs\.us-east-1\.amazonaws\.com/000000000000/WebSocketChatApi-ChatPublishQueueA4D93581-[A-Za-z0-9]{12}$`).MatchString(queue.URL) {
		t.Errorf("publish queue URL = %q", queue.URL)
	}
	wantEnv := map[string]string{
		contract.EnvCallbackURL:             "https://localapi01.execute-api.us-east-1.amazonaws.com/prod",
		contract.EnvTableName:               table.Name,
		contract.EnvFanoutConcurrency:       "32",
		contract.EnvHistoryRetentionSeconds: "2592000",
		contract.EnvRateLimitPerSecond:      "10",
		contract.EnvRateLimitBurst:          "20",
		contract.EnvMetricsNamespace:        "WebSocketChatApi",
		contract.EnvDirectMessages:          contract.DirectMessagesSharedRoom,
		contract.EnvLargeRoomThreshold:      "1000",
		contract.EnvPublishQueueURL:         queue.URL,
	}
	for k, v := range wantEnv {
		if fn.Environment[k] != v {
			t.Errorf("chat env %s = %q, want %q", k, fn.Environment[k], v)
		}
	}
	// METRICS_SERVICE is the construct's unique id (<stack><construct id><hash>).
	service := fn.Environment[contract.EnvMetricsService]
	if !regexp.MustCompile(`^WebSocketChatApiChat[0-9A-F]{8}$`).MatchString(service) {
		t.Errorf("chat env METRICS_SERVICE = %q, want the Chat construct's unique id", service)
	}
	if len(fn.Environment) != len(wantEnv)+1 {
		t.Errorf("chat env = %v, want exactly %v plus METRICS_SERVICE", fn.Environment, wantEnv)
	}
	// The fan-out alarm watches the metric the function publishes under that namespace and service.
	var fanout []string
	for _, id := range resourcesOfType(st, "AWS::CloudWatch::Alarm") {
		if st.Resources[id].Properties["MetricName"] == contract.MetricFanoutFailures {
			fanout = append(fanout, id)
		}
	}
	if len(fanout) != 1 {
		t.Fatalf("FanoutFailures alarms = %v, want one", fanout)
	}
	alarm, err := st.Resolver.Resolve("Resources."+fanout[0]+".Properties", st.Resources[fanout[0]].Properties)
	if err != nil {
		t.Fatal(err)
	}
	props := alarm.(map[string]any)
	dims, _ := json.Marshal(props["Dimensions"])
	if props["Namespace"] != wantEnv[contract.EnvMetricsNamespace] || string(dims) != `[{"Name":"Service","Value":"`+service+`"}]` {
		t.Errorf("alarm %s namespace %v dimensions %s, want %s and Service=%s", fanout[0], props["Namespace"], dims, wantEnv[contract.EnvMetricsNamespace], service)
	}
	if fn.Name != "WebSocketChatApi-ChatChatFunction21D1B252" ||
		fn.ARN != "arn:aws:lambda:us-east-1:000000000000:function:WebSocketChatApi-ChatChatFunction21D1B252" {
		t.Errorf("chat name %q arn %q", fn.Name, fn.ARN)
	}
	if fn.Runtime != "provided.al2023" || fn.Architecture != "arm64" || fn.Handler != "bootstrap" ||
		fn.MemoryMB != 512 || fn.Timeout != 28*time.Second || fn.LogFormat != "JSON" {
		t.Errorf("chat function config = %+v", fn)
	}
	if fn.LogGroup != "WebSocketChatApi-ChatChatFunctionLogsAE9E086A" {
		t.Errorf("chat log group = %q", fn.LogGroup)
	}
	chatRole := roleIDOf(t, st, golden.ChatFunction)
	if fn.RoleLogicalID != chatRole || fn.Role == nil || fn.Role != st.Roles[chatRole] {
		t.Fatalf("chat role = %q (%p), want %s (%p)", fn.RoleLogicalID, fn.Role, chatRole, st.Roles[chatRole])
	}
	if want := "arn:aws:sts::000000000000:assumed-role/WebSocketChatApi-" + chatRole + "/WebSocketChatApi-ChatChatFunction21D1B252"; fn.SessionARN != want {
		t.Errorf("SessionARN = %q, want %q", fn.SessionARN, want)
	}
	if fn.Code.S3Key != "<asset-hash>.zip" || fn.Code.S3Bucket != "cdk-hnb659fds-assets-000000000000-us-east-1" || fn.Code.AssetDir != "" {
		t.Errorf("chat code = %+v (a lone template has no assets)", fn.Code)
	}

	auth := st.Functions[golden.AuthorizerFunction]
	poolID, err := st.Resolver.PhysicalID("ChatUserPool5333D1C5")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^us-east-1_[A-Za-z0-9]{9}$`).MatchString(poolID) {
		t.Errorf("user pool id %q, want us-east-1_ + 9 characters", poolID)
	}
	if want := "https://cognito-idp.us-east-1.amazonaws.com/" + poolID; auth.Environment[contract.EnvAuthIssuer] != want {
		t.Errorf("AUTH_ISSUER = %q, want %q", auth.Environment[contract.EnvAuthIssuer], want)
	}
	if url, _ := st.Resolver.GetAtt("ChatUserPool5333D1C5", "ProviderURL"); url != auth.Environment[contract.EnvAuthIssuer] {
		t.Errorf("ProviderURL %q != AUTH_ISSUER", url)
	}
	if !regexp.MustCompile(`^[a-z0-9]{26}$`).MatchString(auth.Environment[contract.EnvAuthAudiences]) {
		t.Errorf("AUTH_AUDIENCES = %q, want a 26-character client id", auth.Environment[contract.EnvAuthAudiences])
	}
	if d := st.Functions[golden.DefaultFunction]; d.Environment[contract.EnvChatActions] != "direct,history,joinroom,leaveroom,members,ping,sendmessage" || d.MemoryMB != 128 || d.Timeout != 10*time.Second {
		t.Errorf("default function = %+v", d)
	}

	// The publish function delivers what the publish queue holds; it shares the chat
	// function's table, endpoint, fan-out settings and metrics, and sends malformed messages
	// to the dead-letter queue.
	pub := st.Functions[publishFunction]
	if pub == nil {
		t.Fatalf("no function %s", publishFunction)
	}
	wantPubEnv := map[string]string{
		contract.EnvPublishDeadLetterQueueURL: dlq.URL,
		contract.EnvMetricsService:            service,
	}
	for _, k := range []string{contract.EnvCallbackURL, contract.EnvTableName, contract.EnvFanoutConcurrency,
		contract.EnvHistoryRetentionSeconds, contract.EnvLargeRoomThreshold, contract.EnvMetricsNamespace, contract.EnvPublishQueueURL} {
		wantPubEnv[k] = wantEnv[k]
	}
	if !maps.Equal(pub.Environment, wantPubEnv) {
		t.Errorf("publish env = %v, want %v", pub.Environment, wantPubEnv)
	}
	if pub.Name != "WebSocketChatApi-ChatPublishFunction3AF209E1" || pub.LogGroup != "WebSocketChatApi-ChatPublishFunctionLogsD11AD927" {
		t.Errorf("publish name %q log group %q", pub.Name, pub.LogGroup)
	}
	if pub.Runtime != "provided.al2023" || pub.Architecture != "arm64" || pub.Handler != "bootstrap" ||
		pub.MemoryMB != 512 || pub.Timeout != 30*time.Second || pub.LogFormat != "JSON" {
		t.Errorf("publish function config = %+v", pub)
	}
	if pubRole := roleIDOf(t, st, publishFunction); pub.RoleLogicalID != pubRole || pub.Role == nil || pub.Role != st.Roles[pubRole] || pubRole == chatRole {
		t.Errorf("publish role = %q, want %s of its own", pub.RoleLogicalID, pubRole)
	}
	if len(st.EventSourceMappings) != 1 {
		t.Fatalf("%d event source mappings, want 1", len(st.EventSourceMappings))
	}
	esm := st.EventSourceMappings[0]
	if esm.Queue != queue || esm.Function != pub || esm.BatchSize != 10 || !esm.Enabled || !esm.ReportsBatchItemFailures() ||
		esm.BatchingWindowSet || esm.MaximumConcurrency != 0 || esm.HasFilterCriteria {
		t.Errorf("event source mapping = %+v, want the publish queue to the publish function, batches of 10, reporting item failures", esm)
	}
	// Six times the function's timeout, so that a batch in flight is not received again.
	if queue.VisibilityTimeout != 180 || queue.RedrivePolicy == nil || queue.RedrivePolicy.DeadLetterTargetARN != dlq.ARN || queue.RedrivePolicy.MaxReceiveCount != 5 {
		t.Errorf("publish queue = %+v (redrive %+v), want visibility 180s, dead letters to %s after 5 receives", queue, queue.RedrivePolicy, dlq.ARN)
	}
	if dlq.MessageRetentionPeriod != 1209600 || dlq.RedrivePolicy != nil {
		t.Errorf("dead-letter queue = %+v, want 14 days' retention and no redrive", dlq)
	}

	if got := st.Outputs["CallbackUrl"].Value; got != wantEnv[contract.EnvCallbackURL] {
		t.Errorf("output CallbackUrl = %q", got)
	}
	if got := st.Outputs["WebSocketUrl"].Value; got != "wss://localapi01.execute-api.us-east-1.amazonaws.com/prod" {
		t.Errorf("output WebSocketUrl = %q", got)
	}
	if got := st.Outputs["TableName"].Value; got != table.Name {
		t.Errorf("output TableName = %q", got)
	}
	if got := st.Outputs["PublishQueueUrl"].Value; got != queue.URL {
		t.Errorf("output PublishQueueUrl = %q, want %q", got, queue.URL)
	}
}

func TestReferencePermissions(t *testing.T) {
	st := golden.Load(t, assembly.Options{})
	if len(st.Permissions) != 5 {
		t.Fatalf("%d permissions, want 5", len(st.Permissions))
	}
	chat := st.PermissionsFor(st.Functions[golden.ChatFunction])
	if len(chat) != 1 {
		t.Fatalf("chat function has %d permissions, want 1", len(chat))
	}
	p := chat[0]
	if p.Principal != "apigateway.amazonaws.com" || p.Action != "lambda:InvokeFunction" ||
		p.SourceARN != "arn:aws:execute-api:us-east-1:000000000000:localapi01/prod/*" {
		t.Errorf("chat permission = %+v", p)
	}
	authz := st.API().Route("$connect").Authorizer
	auth := st.PermissionsFor(st.Functions[golden.AuthorizerFunction])
	if len(auth) != 1 || auth[0].SourceARN != "arn:aws:execute-api:us-east-1:000000000000:localapi01/authorizers/"+authz.ID {
		t.Errorf("authorizer permissions = %+v, want one for authorizer %s", auth, authz.ID)
	}
}

func TestReferenceTable(t *testing.T) {
	tb := golden.Load(t, assembly.Options{}).Tables[golden.Table]
	if tb.ARN != "arn:aws:dynamodb:us-east-1:000000000000:table/WebSocketChatApi-ChatTable4603252B" {
		t.Errorf("table ARN %q", tb.ARN)
	}
	if want := []assembly.KeyElement{{Name: contract.AttrPK, Type: "HASH"}, {Name: contract.AttrSK, Type: "RANGE"}}; !slices.Equal(tb.KeySchema, want) {
		t.Errorf("key schema %v", tb.KeySchema)
	}
	gsi, byUser := tb.Index(contract.IndexByRoom), tb.Index(contract.IndexByUser)
	if gsi == nil || byUser == nil || len(tb.GlobalIndexes) != 2 {
		t.Fatalf("GSIs = %+v, want byRoom and byUser", tb.GlobalIndexes)
	}
	if want := []assembly.KeyElement{{Name: contract.AttrGSI1PK, Type: "HASH"}, {Name: contract.AttrGSI1SK, Type: "RANGE"}}; !slices.Equal(gsi.KeySchema, want) ||
		gsi.ProjectionType != "INCLUDE" || !slices.Equal(gsi.NonKeyAttributes, contract.ByRoomProjection()) {
		t.Errorf("byRoom = %+v", gsi)
	}
	if want := []assembly.KeyElement{{Name: contract.AttrGSI2PK, Type: "HASH"}, {Name: contract.AttrGSI2SK, Type: "RANGE"}}; !slices.Equal(byUser.KeySchema, want) ||
		byUser.ProjectionType != "INCLUDE" || !slices.Equal(byUser.NonKeyAttributes, contract.ByUserProjection()) {
		t.Errorf("byUser = %+v", byUser)
	}
	if tb.TTLAttribute != contract.AttrExpiresAt || tb.BillingMode != "PAY_PER_REQUEST" || !tb.PointInTimeRecovery || len(tb.Attributes) != 6 {
		t.Errorf("table = %+v", tb)
	}

	in := tb.CreateTableInput()
	if *in.TableName != tb.Name || in.BillingMode != types.BillingModePayPerRequest || in.ProvisionedThroughput != nil {
		t.Errorf("CreateTableInput = %+v", in)
	}
	if len(in.AttributeDefinitions) != 6 || len(in.KeySchema) != 2 || in.KeySchema[0].KeyType != types.KeyTypeHash {
		t.Errorf("CreateTableInput keys = %+v %+v", in.AttributeDefinitions, in.KeySchema)
	}
	if len(in.GlobalSecondaryIndexes) != 2 {
		t.Fatalf("CreateTableInput GSIs = %+v, want byRoom and byUser", in.GlobalSecondaryIndexes)
	}
	for i, want := range []struct {
		name     string
		nonKeyed int
	}{{contract.IndexByRoom, 4}, {contract.IndexByUser, 1}} {
		g := in.GlobalSecondaryIndexes[i]
		if *g.IndexName != want.name || g.Projection.ProjectionType != types.ProjectionTypeInclude ||
			len(g.Projection.NonKeyAttributes) != want.nonKeyed || g.ProvisionedThroughput != nil || len(g.KeySchema) != 2 {
			t.Errorf("CreateTableInput GSI %d = %+v, want %s with %d non-key attributes", i, g, want.name, want.nonKeyed)
		}
	}
	ttl := tb.TimeToLiveInput()
	if ttl == nil || *ttl.TimeToLiveSpecification.AttributeName != contract.AttrExpiresAt || !*ttl.TimeToLiveSpecification.Enabled {
		t.Errorf("TimeToLiveInput = %+v", ttl)
	}
}

func TestReferenceRoles(t *testing.T) {
	st := golden.Load(t, assembly.Options{})
	if len(st.Roles) != 7 {
		t.Fatalf("%d roles, want 7 (one per function and API Gateway's CloudWatch role)", len(st.Roles))
	}
	table := st.Tables[golden.Table].ARN
	queue, dlq := st.Queues[publishQueue].ARN, st.Queues[deadLetterQueue].ARN
	const manageConnections = "execute-api:ManageConnections arn:aws:execute-api:us-east-1:000000000000:localapi01/prod/POST/@connections/*"
	logs := func(fnID string) []string {
		g := logGroupARN(st, st.Functions[fnID])
		return []string{"logs:CreateLogStream " + g, "logs:PutLogEvents " + g}
	}
	// Every function may write to its own log group only, plus exactly its DynamoDB,
	// @connections and SQS grants.
	want := map[string][]string{
		golden.ChatFunction: append(logs(golden.ChatFunction),
			"dynamodb:BatchWriteItem "+table, "dynamodb:DeleteItem "+table, "dynamodb:GetItem "+table,
			"dynamodb:PutItem "+table, "dynamodb:Query "+table, "dynamodb:UpdateItem "+table,
			"dynamodb:Query "+table+"/index/byRoom", "dynamodb:Query "+table+"/index/byUser",
			manageConnections,
			"sqs:SendMessage "+queue),
		publishFunction: append(logs(publishFunction),
			"dynamodb:BatchWriteItem "+table, "dynamodb:ConditionCheckItem "+table, "dynamodb:DeleteItem "+table,
			"dynamodb:GetItem "+table, "dynamodb:PutItem "+table, "dynamodb:Query "+table, "dynamodb:UpdateItem "+table,
			"dynamodb:Query "+table+"/index/byRoom", "dynamodb:Query "+table+"/index/byUser",
			manageConnections,
			"sqs:SendMessage "+queue, "sqs:SendMessage "+dlq,
			"sqs:ChangeMessageVisibility "+queue, "sqs:DeleteMessage "+queue, "sqs:GetQueueAttributes "+queue,
			"sqs:GetQueueUrl "+queue, "sqs:ReceiveMessage "+queue),
		golden.ConnectFunction: append(logs(golden.ConnectFunction), "dynamodb:PutItem "+table),
		golden.DisconnectFunction: append(logs(golden.DisconnectFunction), "dynamodb:BatchWriteItem "+table, "dynamodb:Query "+table, "dynamodb:UpdateItem "+table,
			"dynamodb:Query "+table+"/index/byRoom",
			manageConnections),
		golden.DefaultFunction:    logs(golden.DefaultFunction),
		golden.AuthorizerFunction: logs(golden.AuthorizerFunction),
	}
	if len(want) != len(st.Functions) {
		t.Fatalf("%d functions, want %d", len(st.Functions), len(want))
	}
	owner := map[string]string{} // role logical id -> function
	for _, fnID := range slices.Sorted(maps.Keys(want)) {
		fn := st.Functions[fnID]
		roleID := roleIDOf(t, st, fnID)
		r := st.Roles[roleID]
		if r == nil || fn.RoleLogicalID != roleID || fn.Role != r {
			t.Errorf("%s role = %q, want %s from the template", fnID, fn.RoleLogicalID, roleID)
			continue
		}
		if other, ok := owner[roleID]; ok {
			t.Errorf("%s and %s share role %s, want one role each", other, fnID, roleID)
		}
		owner[roleID] = fnID
		if r.ARN != "arn:aws:iam::000000000000:role/WebSocketChatApi-"+roleID {
			t.Errorf("%s role ARN %q", fnID, r.ARN)
		}
		if len(r.ManagedPolicyARNs) != 0 {
			t.Errorf("%s role managed policies %v, want none", fnID, r.ManagedPolicyARNs)
		}
		if len(r.AssumeRolePolicy.Statements) != 1 || !slices.Equal(r.AssumeRolePolicy.Statements[0].Principal["Service"], []string{"lambda.amazonaws.com"}) {
			t.Errorf("%s role trust policy %+v", fnID, r.AssumeRolePolicy)
		}
		src := policiesAttaching(st, roleID)
		if len(src) != 1 || len(r.Policies) != 1 || r.Policies[0].Source != src[0] {
			t.Errorf("%s role policies = %+v, want the one AWS::IAM::Policy attaching it (%v)", fnID, r.Policies, src)
			continue
		}
		slices.Sort(want[fnID])
		if got := grants(t, r); !slices.Equal(got, want[fnID]) {
			t.Errorf("%s role grants\n%s\nwant\n%s", fnID, strings.Join(got, "\n"), strings.Join(want[fnID], "\n"))
		}
	}

	// The seventh role lets API Gateway push its logs to CloudWatch, set account-wide.
	var gw []*assembly.Role
	for id, r := range st.Roles {
		if _, ok := owner[id]; !ok {
			gw = append(gw, r)
		}
	}
	if len(gw) != 1 {
		t.Fatalf("%d roles of no function, want 1", len(gw))
	}
	r := gw[0]
	if len(r.AssumeRolePolicy.Statements) != 1 || !slices.Equal(r.AssumeRolePolicy.Statements[0].Principal["Service"], []string{"apigateway.amazonaws.com"}) {
		t.Errorf("role %s trust policy %+v, want apigateway.amazonaws.com", r.LogicalID, r.AssumeRolePolicy)
	}
	if want := []string{"arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"}; !slices.Equal(r.ManagedPolicyARNs, want) || len(r.Policies) != 0 {
		t.Errorf("role %s managed policies %v, policies %+v, want only %v", r.LogicalID, r.ManagedPolicyARNs, r.Policies, want)
	}
	accounts := resourcesOfType(st, "AWS::ApiGateway::Account")
	if len(accounts) != 1 {
		t.Fatalf("AWS::ApiGateway::Account resources %v, want one", accounts)
	}
	arn, err := st.Resolver.Resolve("Resources."+accounts[0]+".Properties.CloudWatchRoleArn", st.Resources[accounts[0]].Properties["CloudWatchRoleArn"])
	if err != nil || arn != r.ARN {
		t.Errorf("%s CloudWatchRoleArn = %v (%v), want %s", accounts[0], arn, err, r.ARN)
	}
}

func TestOptionsChangeLocalNames(t *testing.T) {
	st := golden.Load(t, assembly.Options{
		Region:      "eu-west-1",
		AccountID:   "123456789012",
		APIID:       "abcdef1234",
		PhysicalIDs: map[string]string{golden.Table: "chat-local"},
	})
	fn := st.Functions[golden.ChatFunction]
	if got := fn.Environment["CALLBACK_URL"]; got != "https://abcdef1234.execute-api.eu-west-1.amazonaws.com/prod" {
		t.Errorf("CALLBACK_URL = %q", got)
	}
	if fn.Environment["TABLE_NAME"] != "chat-local" || st.Tables[golden.Table].ARN != "arn:aws:dynamodb:eu-west-1:123456789012:table/chat-local" {
		t.Errorf("TABLE_NAME %q, table ARN %q", fn.Environment["TABLE_NAME"], st.Tables[golden.Table].ARN)
	}
	if !strings.HasPrefix(fn.SessionARN, "arn:aws:sts::123456789012:assumed-role/") {
		t.Errorf("SessionARN %q", fn.SessionARN)
	}
}

// writeAssembly writes a cloud assembly made of the golden template, with each function's
// S3Key replaced by a hash of its own, a manifest and an asset manifest. skip names a function
// whose asset is left out of the asset manifest.
func writeAssembly(t *testing.T, env, skip string) (dir string, hashes map[string]string) {
	t.Helper()
	dir = t.TempDir()
	data, err := os.ReadFile(golden.Path(t))
	if err != nil {
		t.Fatal(err)
	}
	var tpl map[string]any
	if err := json.Unmarshal(data, &tpl); err != nil {
		t.Fatal(err)
	}
	hashes = map[string]string{}
	files := map[string]any{}
	for id, r := range tpl["Resources"].(map[string]any) {
		res := r.(map[string]any)
		if res["Type"] != "AWS::Lambda::Function" {
			continue
		}
		hash := strings.Repeat(strings.ToLower(id[len(id)-8:]), 8)
		hashes[id] = hash
		res["Properties"].(map[string]any)["Code"].(map[string]any)["S3Key"] = hash + ".zip"
		if err := os.MkdirAll(filepath.Join(dir, "asset."+hash), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "asset."+hash, "bootstrap"), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		if id == skip {
			continue
		}
		files[hash] = map[string]any{
			"displayName": id + "/Code",
			"source":      map[string]any{"path": "asset." + hash, "packaging": "zip"},
			"destinations": map[string]any{"current_account-current_region": map[string]any{
				"bucketName": "cdk-hnb659fds-assets-${AWS::AccountId}-${AWS::Region}",
				"objectKey":  hash + ".zip",
			}},
		}
	}
	writeJSON(t, filepath.Join(dir, golden.StackName+".template.json"), tpl)
	writeJSON(t, filepath.Join(dir, golden.StackName+".assets.json"), map[string]any{"version": "54.0.0", "files": files, "dockerImages": map[string]any{}})
	writeJSON(t, filepath.Join(dir, "manifest.json"), map[string]any{
		"version": "54.0.0",
		"artifacts": map[string]any{
			golden.StackName + ".assets": map[string]any{"type": "cdk:asset-manifest", "properties": map[string]any{"file": golden.StackName + ".assets.json"}},
			golden.StackName: map[string]any{
				"type":         "aws:cloudformation:stack",
				"environment":  env,
				"properties":   map[string]any{"templateFile": golden.StackName + ".template.json"},
				"dependencies": []string{golden.StackName + ".assets"},
			},
			"Tree": map[string]any{"type": "cdk:tree", "properties": map[string]any{"file": "tree.json"}},
		},
	})
	return dir, hashes
}

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	data, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLoadAssemblyMapsCodeToAssetFolders(t *testing.T) {
	dir, hashes := writeAssembly(t, "aws://111122223333/eu-central-1", "")
	a, err := assembly.Load(dir, assembly.Options{})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	st, err := a.Stack("")
	if err != nil {
		t.Fatal(err)
	}
	if st.Name != golden.StackName || st.ArtifactID != golden.StackName || len(st.Assets) != 6 {
		t.Errorf("stack %q artifact %q assets %d", st.Name, st.ArtifactID, len(st.Assets))
	}
	if st.Env.Region != "eu-central-1" || st.Env.AccountID != "111122223333" {
		t.Errorf("env %+v, want the manifest's concrete environment", st.Env)
	}
	for id, hash := range hashes {
		fn := st.Functions[id]
		if want := filepath.Join(a.Dir, "asset."+hash); fn.Code.AssetDir != want {
			t.Errorf("%s AssetDir = %q, want %q", id, fn.Code.AssetDir, want)
		}
		if _, err := os.Stat(filepath.Join(fn.Code.AssetDir, "bootstrap")); err != nil {
			t.Errorf("%s: %v", id, err)
		}
	}
	if _, err := a.Stack("Nope"); err == nil || !strings.Contains(err.Error(), "Nope") {
		t.Errorf("Stack(Nope) error = %v", err)
	}
}

func TestLoadAssemblyMissingAsset(t *testing.T) {
	dir, hashes := writeAssembly(t, "aws://unknown-account/unknown-region", golden.ChatFunction)
	_, err := assembly.Load(dir, assembly.Options{})
	if err == nil || !strings.Contains(err.Error(), golden.ChatFunction) || !strings.Contains(err.Error(), hashes[golden.ChatFunction]+".zip") {
		t.Fatalf("Load error = %v, want one naming %s and its S3Key", err, golden.ChatFunction)
	}
}

// TestLoadSynthesizedAssembly runs against cdk.out when `make synth` has produced it.
func TestLoadSynthesizedAssembly(t *testing.T) {
	const dir = "../../../cdk.out"
	if _, err := os.Stat(filepath.Join(dir, "manifest.json")); err != nil {
		t.Skip("no cdk.out (run make synth)")
	}
	a, err := assembly.Load(dir, assembly.Options{})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	st, err := a.Stack(golden.StackName)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Functions) == 0 {
		t.Fatal("no functions")
	}
	for id, fn := range st.Functions {
		if _, err := os.Stat(filepath.Join(fn.Code.AssetDir, "bootstrap")); err != nil {
			t.Errorf("function %s: %v", id, err)
		}
	}
	if _, ok := st.Resources["CDKMetadata"]; !ok {
		t.Error("CDKMetadata missing: its condition holds in us-east-1")
	}
	other, err := assembly.Load(dir, assembly.Options{Region: "xx-nowhere-1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := other.Stacks[0].Resources["CDKMetadata"]; ok {
		t.Error("CDKMetadata present in a region its condition excludes")
	}
}

// loadSynthetic resolves a small template given as JSON.
func loadSynthetic(t *testing.T, tpl string, opts assembly.Options) (*assembly.Stack, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "synthetic.template.json")
	if err := os.WriteFile(path, []byte(tpl), 0o644); err != nil {
		t.Fatal(err)
	}
	return assembly.LoadTemplate(path, opts)
}

// fnTemplate is a template with one function whose environment is env (JSON) plus extra resources.
func fnTemplate(env, extra string) string {
	return `{
  "Parameters": {
    "Stage": {"Type": "String", "Default": "dev"},
    "Zones": {"Type": "CommaDelimitedList", "Default": "a, b ,c"},
    "Secret": {"Type": "AWS::SSM::Parameter::Value<String>", "Default": "/x/y"}
  },
  "Mappings": {"Sizes": {"dev": {"Memory": "512"}}},
  "Conditions": {
    "IsDev": {"Fn::Equals": [{"Ref": "Stage"}, "dev"]},
    "IsProd": {"Fn::Not": [{"Condition": "IsDev"}]},
    "DevInUsEast": {"Fn::And": [{"Condition": "IsDev"}, {"Fn::Equals": ["us-east-1", {"Ref": "AWS::Region"}]}]}
  },
  "Resources": {
    "Fn": {"Type": "AWS::Lambda::Function", "Properties": {
      "Code": {"S3Bucket": "b", "S3Key": "k.zip"}, "Handler": "bootstrap", "Runtime": "provided.al2023",
      "Role": {"Fn::GetAtt": ["Role", "Arn"]},
      "MemorySize": {"Fn::FindInMap": ["Sizes", {"Ref": "Stage"}, "Memory"]},
      "Environment": {"Variables": ` + env + `}}},
    "Role": {"Type": "AWS::IAM::Role", "Properties": {"Path": "/svc/", "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": []}}},
    "Table": {"Type": "AWS::DynamoDB::Table", "Properties": {
      "TableName": {"Fn::Sub": "${AWS::StackName}-${Stage}-items"},
      "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
      "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
      "ProvisionedThroughput": {"ReadCapacityUnits": "5", "WriteCapacityUnits": 2}}},
    "ProdOnly": {"Type": "AWS::DynamoDB::Table", "Condition": "IsProd", "Properties": {
      "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
      "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}]}}` + extra + `
  }
}`
}

func TestIntrinsics(t *testing.T) {
	env := `{
	"SUB": {"Fn::Sub": "${Table}|${Table.Arn}|${!Literal}|${AWS::Region}"},
	"SUBVARS": {"Fn::Sub": ["${Name}-${AWS::AccountId}", {"Name": {"Ref": "Stage"}}]},
	"GETATT": {"Fn::GetAtt": "Role.Arn"},
	"SELECT": {"Fn::Select": [1, {"Fn::Split": ["/", "a/b/c"]}]},
	"LIST": {"Fn::Select": ["2", {"Ref": "Zones"}]},
	"JOINED": {"Fn::Join": ["-", [{"Ref": "AWS::Partition"}, {"Fn::If": ["IsProd", "x", {"Ref": "AWS::NoValue"}]}, {"Ref": "AWS::URLSuffix"}]]},
	"IF": {"Fn::If": ["DevInUsEast", "dev-east", "other"]},
	"GONE": {"Fn::If": ["IsProd", "prod", {"Ref": "AWS::NoValue"}]},
	"AZ": {"Fn::Select": [0, {"Fn::GetAZs": ""}]},
	"B64": {"Fn::Base64": "hi"}
}`
	st, err := loadSynthetic(t, fnTemplate(env, ""), assembly.Options{StackName: "S"})
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	fn := st.Functions["Fn"]
	want := map[string]string{
		"SUB":     "S-dev-items|arn:aws:dynamodb:us-east-1:000000000000:table/S-dev-items|${Literal}|us-east-1",
		"SUBVARS": "dev-000000000000",
		"GETATT":  "arn:aws:iam::000000000000:role/svc/S-Role",
		"SELECT":  "b",
		"LIST":    "c",
		"JOINED":  "aws-amazonaws.com",
		"IF":      "dev-east",
		"AZ":      "us-east-1a",
		"B64":     "aGk=",
	}
	for k, v := range want {
		if fn.Environment[k] != v {
			t.Errorf("%s = %q, want %q", k, fn.Environment[k], v)
		}
	}
	if _, ok := fn.Environment["GONE"]; ok {
		t.Error("GONE present: Fn::If to AWS::NoValue must drop the key")
	}
	if fn.MemoryMB != 512 || fn.RoleLogicalID != "Role" {
		t.Errorf("memory %d role %q", fn.MemoryMB, fn.RoleLogicalID)
	}
	if _, ok := st.Tables["ProdOnly"]; ok {
		t.Error("ProdOnly table present although its condition is false")
	}
	if tb := st.Tables["Table"]; tb.BillingMode != "PROVISIONED" || tb.ReadCapacity != 5 || tb.WriteCapacity != 2 ||
		*tb.CreateTableInput().ProvisionedThroughput.ReadCapacityUnits != 5 {
		t.Errorf("table = %+v", tb)
	}

	prod, err := loadSynthetic(t, fnTemplate(`{"IF": {"Fn::If": ["DevInUsEast", "dev-east", "other"]}}`, ""),
		assembly.Options{StackName: "S", Parameters: map[string]string{"Stage": "prod"}, PhysicalIDs: map[string]string{}})
	if err == nil {
		t.Fatalf("prod load succeeded; FindInMap Sizes.prod must fail (%v)", prod.Functions["Fn"].Environment)
	}
	var re *assembly.ResolveError
	if !errors.As(err, &re) || re.LogicalID != "Fn" || !strings.Contains(re.Path, "Fn::FindInMap") {
		t.Errorf("error = %v, want a ResolveError at Fn's Fn::FindInMap", err)
	}
}

func TestResolveErrorsNameThePath(t *testing.T) {
	cases := []struct {
		name, env, extra, wantID, wantPath, wantMsg string
	}{
		{
			name: "unknown intrinsic", env: `{"X": {"Fn::Join": ["", ["a", {"Fn::Bogus": 1}]]}}`,
			wantID: "Fn", wantPath: "Resources.Fn.Properties.Environment.Variables.X.Fn::Join[1][1].Fn::Bogus", wantMsg: `unknown intrinsic function "Fn::Bogus"`,
		},
		{
			name: "unresolvable ref", env: `{"X": {"Ref": "Nope"}}`,
			wantID: "Fn", wantPath: "Resources.Fn.Properties.Environment.Variables.X.Ref", wantMsg: `unresolvable Ref "Nope"`,
		},
		{
			name: "ref to a resource whose condition is false", env: `{"X": {"Ref": "ProdOnly"}}`,
			wantID: "Fn", wantPath: "Resources.Fn.Properties.Environment.Variables.X.Ref", wantMsg: "condition IsProd is false",
		},
		{
			name: "unsupported attribute", env: `{"X": {"Fn::GetAtt": ["Table", "Nope"]}}`,
			wantID: "Fn", wantPath: "Resources.Fn.Properties.Environment.Variables.X.Fn::GetAtt", wantMsg: `attribute "Nope" of AWS::DynamoDB::Table`,
		},
		{
			name: "sub variable", env: `{"X": {"Fn::Sub": "${Missing}"}}`,
			wantID: "Fn", wantPath: "Resources.Fn.Properties.Environment.Variables.X.Fn::Sub.${Missing}", wantMsg: `unresolvable Ref "Missing"`,
		},
		{
			name: "SSM parameter", env: `{"X": {"Ref": "Secret"}}`,
			wantID: "Fn", wantPath: "Resources.Fn.Properties.Environment.Variables.X.Ref", wantMsg: "SSM",
		},
		{
			name: "unsupported intrinsic", env: `{"X": {"Fn::ImportValue": "shared"}}`,
			wantID: "Fn", wantPath: "Resources.Fn.Properties.Environment.Variables.X.Fn::ImportValue", wantMsg: "not supported",
		},
		{
			name: "name that depends on itself", env: `{}`,
			extra:  `, "Loop": {"Type": "AWS::DynamoDB::Table", "Properties": {"TableName": {"Fn::Sub": "${Loop.Arn}"}, "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}]}}`,
			wantID: "Loop", wantPath: "Resources.Loop.Properties.TableName", wantMsg: "depends on itself",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := loadSynthetic(t, fnTemplate(c.env, c.extra), assembly.Options{})
			t.Log(err)
			var re *assembly.ResolveError
			if !errors.As(err, &re) {
				t.Fatalf("error = %v, want a *ResolveError", err)
			}
			if re.LogicalID != c.wantID || !strings.HasPrefix(re.Path, c.wantPath) || !strings.Contains(err.Error(), c.wantMsg) {
				t.Errorf("error = %q (id %q, path %q), want id %q, path %q, message containing %q", err, re.LogicalID, re.Path, c.wantID, c.wantPath, c.wantMsg)
			}
		})
	}
}

func TestParsePolicyDocumentForms(t *testing.T) {
	doc, err := assembly.ParsePolicyDocument(`{"Version":"2012-10-17","Statement":{"Effect":"Deny","NotAction":"s3:*","NotResource":["arn:aws:s3:::b"],"Condition":{"Bool":{"aws:SecureTransport":false}}}}`)
	if err != nil {
		t.Fatal(err)
	}
	st := doc.Statements[0]
	if st.Effect != "Deny" || !slices.Equal(st.NotAction, []string{"s3:*"}) || !slices.Equal(st.NotResource, []string{"arn:aws:s3:::b"}) ||
		!slices.Equal(st.Condition["Bool"]["aws:SecureTransport"], []string{"false"}) {
		t.Errorf("statement = %+v", st)
	}
	if _, err := assembly.ParsePolicyDocument(map[string]any{"Statement": []any{map[string]any{"Effect": "Maybe", "Action": "x:y"}}}); err == nil {
		t.Error("Effect Maybe accepted")
	}
}
