package chatapi_test

import (
	"encoding/json"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscognito"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/jsii-runtime-go"

	"github.com/chatstack/websocketchatapi/constructs/chatapi"
	"github.com/chatstack/websocketchatapi/protocol"
)

var chatActions = []string{"direct", "history", "joinroom", "leaveroom", "members", "sendmessage"}

func defaultTemplate(t *testing.T) (template, chatapi.WebSocketChatApi) {
	t.Helper()
	stack := newStack(t)
	c := chatapi.NewWebSocketChatApi(stack, jsii.String("Chat"), nil)
	return synth(t, stack), c
}

func TestRoutesShareOneIntegrationAndPermissionPerFunction(t *testing.T) {
	tpl, c := defaultTemplate(t)
	routes := tpl.routes()
	var keys []string
	for k := range routes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	want := []string{"$connect", "$default", "$disconnect", "direct", "history", "joinroom", "leaveroom", "members", "ping", "sendmessage"}
	if strings.Join(keys, " ") != strings.Join(want, " ") {
		t.Fatalf("route keys %v, want %v", keys, want)
	}
	if got := strings.Join(keysOf(c), " "); got != strings.Join(want, " ") {
		t.Errorf("RouteKeys() = %s", got)
	}

	// One integration per function: connect, disconnect, default, chat; and the ping
	// route's MOCK integration, which calls no function.
	integrations := tpl.ofType("AWS::ApiGatewayV2::Integration")
	if len(integrations) != 5 {
		t.Fatalf("%d integrations, want 5: %v", len(integrations), integrations)
	}
	chatIntegration := integrationOf(routes["sendmessage"])
	for _, a := range chatActions {
		if got := integrationOf(routes[a]); got != chatIntegration {
			t.Errorf("route %s targets %s, want the shared %s", a, got, chatIntegration)
		}
	}
	chatFn := tpl.functionID(t, "ChatChatFunction")
	integ := tpl.Resources[chatIntegration].Properties
	if integ["IntegrationType"] != "AWS_PROXY" || !strings.Contains(compact(integ["IntegrationUri"]), chatFn+".Arn/invocations") {
		t.Errorf("chat integration %v", integ)
	}

	// One invoke permission per function, scoped to this API's stage.
	perms := map[string][]resource{}
	for _, id := range tpl.ofType("AWS::Lambda::Permission") {
		p := tpl.Resources[id]
		fn := compact(p.Properties["FunctionName"])
		perms[strings.TrimSuffix(fn, ".Arn")] = append(perms[strings.TrimSuffix(fn, ".Arn")], p)
	}
	if len(perms) != 5 {
		t.Fatalf("permissions for %d functions, want 5 (4 integrations + authorizer): %v", len(perms), perms)
	}
	for fn, ps := range perms {
		if len(ps) != 1 {
			t.Errorf("function %s has %d permissions, want 1", fn, len(ps))
		}
		p := ps[0].Properties
		if p["Principal"] != "apigateway.amazonaws.com" || p["Action"] != "lambda:InvokeFunction" {
			t.Errorf("permission of %s: %v", fn, p)
		}
	}
	apiID := tpl.ofType("AWS::ApiGatewayV2::Api")[0]
	chatPerm := compact(perms[chatFn][0].Properties["SourceArn"])
	if !strings.HasSuffix(chatPerm, ":"+apiID+"/prod/*") || !strings.HasPrefix(chatPerm, "arn:") {
		t.Errorf("chat permission SourceArn %s, want arn:...:%s/prod/*", chatPerm, apiID)
	}
}

func keysOf(c chatapi.WebSocketChatApi) []string {
	var out []string
	for _, k := range *c.RouteKeys() {
		out = append(out, *k)
	}
	return out
}

func TestRouteResponsesOnReplyingRoutesOnly(t *testing.T) {
	tpl, _ := defaultTemplate(t)
	routeIDs := map[string]string{}
	for _, id := range tpl.ofType("AWS::ApiGatewayV2::Route") {
		routeIDs[id] = tpl.Resources[id].Properties["RouteKey"].(string)
	}
	got := map[string]bool{}
	for _, id := range tpl.ofType("AWS::ApiGatewayV2::RouteResponse") {
		p := tpl.Resources[id].Properties
		if p["RouteResponseKey"] != "$default" {
			t.Errorf("route response key %v, want $default (the only key AWS allows)", p["RouteResponseKey"])
		}
		got[routeIDs[ref(p["RouteId"])]] = true
	}
	for _, k := range append([]string{"$default"}, chatActions...) {
		if !got[k] {
			t.Errorf("route %s has no route response", k)
		}
	}
	for _, k := range []string{"$connect", "$disconnect"} {
		if got[k] {
			t.Errorf("route %s must not have a route response", k)
		}
	}
}

func TestRequestModelsAndSelectionExpression(t *testing.T) {
	tpl, _ := defaultTemplate(t)
	_, api := tpl.one(t, "AWS::ApiGatewayV2::Api", nil)
	if api.Properties["RouteSelectionExpression"] != "$request.body.action" || api.Properties["ProtocolType"] != "WEBSOCKET" {
		t.Fatalf("api %v", api.Properties)
	}
	models := map[string]map[string]any{}
	modelIDs := map[string]string{}
	for _, id := range tpl.ofType("AWS::ApiGatewayV2::Model") {
		p := tpl.Resources[id].Properties
		models[p["Name"].(string)] = p
		modelIDs[p["Name"].(string)] = id
	}
	if len(models) != len(chatActions) {
		t.Fatalf("%d models, want %d", len(models), len(chatActions))
	}
	routes := tpl.routes()
	for _, a := range chatActions {
		r := routes[a]
		if r.Properties["ModelSelectionExpression"] != "$request.body.action" {
			t.Errorf("%s: model selection expression %v", a, r.Properties["ModelSelectionExpression"])
		}
		rm, _ := r.Properties["RequestModels"].(map[string]any)
		name, _ := rm["$default"].(string)
		m, ok := models[name]
		if !ok {
			t.Fatalf("%s: request models %v name no model", a, rm)
		}
		if m["ContentType"] != "application/json" {
			t.Errorf("%s model content type %v", a, m["ContentType"])
		}
		want, _ := protocol.Schema(a)
		var wantDoc any
		_ = json.Unmarshal(want, &wantDoc)
		gotRaw, _ := json.Marshal(m["Schema"])
		wantRaw, _ := json.Marshal(wantDoc)
		if string(gotRaw) != string(wantRaw) {
			t.Errorf("%s model schema differs from protocol's:\n%s\n%s", a, gotRaw, wantRaw)
		}
		deps, _ := json.Marshal(r.DependsOn)
		if !strings.Contains(string(deps), modelIDs[name]) {
			t.Errorf("%s route does not depend on its model %s: %s", a, modelIDs[name], deps)
		}
	}
	for _, k := range []string{"$connect", "$disconnect", "$default"} {
		if _, ok := routes[k].Properties["RequestModels"]; ok {
			t.Errorf("%s has request models", k)
		}
	}
}

func TestAuthorizerOnConnectOnly(t *testing.T) {
	tpl, _ := defaultTemplate(t)
	authID, auth := tpl.one(t, "AWS::ApiGatewayV2::Authorizer", nil)
	if auth.Properties["AuthorizerType"] != "REQUEST" {
		t.Errorf("authorizer type %v", auth.Properties["AuthorizerType"])
	}
	if ids, ok := auth.Properties["IdentitySource"]; ok {
		t.Errorf("with both token sources there must be no identity source (AWS requires all of them), got %v", ids)
	}
	authFn := tpl.functionID(t, "ChatAuthorizerFunction")
	if !strings.Contains(compact(auth.Properties["AuthorizerUri"]), authFn+".Arn/invocations") {
		t.Errorf("authorizer uri %v", compact(auth.Properties["AuthorizerUri"]))
	}
	for key, r := range tpl.routes() {
		typ, _ := r.Properties["AuthorizationType"].(string)
		if key == "$connect" {
			if typ != "CUSTOM" || ref(r.Properties["AuthorizerId"]) != authID {
				t.Errorf("$connect: authorization %v %v", typ, r.Properties["AuthorizerId"])
			}
			continue
		}
		if typ != "" && typ != "NONE" || r.Properties["AuthorizerId"] != nil {
			t.Errorf("route %s has an authorizer (%v): WebSocket authorizers belong on $connect only", key, typ)
		}
	}
	env := tpl.Resources[authFn].Properties["Environment"].(map[string]any)["Variables"].(map[string]any)
	pool := tpl.ofType("AWS::Cognito::UserPool")
	client := tpl.ofType("AWS::Cognito::UserPoolClient")
	if len(pool) != 1 || len(client) != 1 {
		t.Fatalf("user pools %v clients %v", pool, client)
	}
	if got := compact(env["AUTH_ISSUER"]); got != "https://cognito-idp.AWS::Region.amazonaws.com/"+pool[0] {
		t.Errorf("AUTH_ISSUER %s", got)
	}
	if got := compact(env["AUTH_AUDIENCES"]); got != client[0] {
		t.Errorf("AUTH_AUDIENCES %s, want the client id %s", got, client[0])
	}
	if env["AUTH_TOKEN_USE"] != "id,access" {
		t.Errorf("AUTH_TOKEN_USE %v", env["AUTH_TOKEN_USE"])
	}
}

func TestSingleTokenSourceSetsIdentitySource(t *testing.T) {
	for src, want := range map[chatapi.TokenSource]string{
		chatapi.TokenSourceQueryString: "route.request.querystring.token",
		chatapi.TokenSourceSubprotocol: "route.request.header.Sec-WebSocket-Protocol",
	} {
		stack := newStack(t)
		chatapi.NewWebSocketChatApi(stack, jsii.String("Chat"), &chatapi.WebSocketChatApiProps{
			TokenSources: &[]chatapi.TokenSource{src},
		})
		_, auth := synth(t, stack).one(t, "AWS::ApiGatewayV2::Authorizer", nil)
		ids, _ := json.Marshal(auth.Properties["IdentitySource"])
		if string(ids) != `["`+want+`"]` {
			t.Errorf("%s: identity source %s, want [%s]", src, ids, want)
		}
	}
}

func TestTable(t *testing.T) {
	tpl, _ := defaultTemplate(t)
	_, table := tpl.one(t, "AWS::DynamoDB::Table", nil)
	p := table.Properties
	j := func(v any) string { b, _ := json.Marshal(v); return string(b) }
	checks := map[string]string{
		"KeySchema":                        `[{"AttributeName":"pk","KeyType":"HASH"},{"AttributeName":"sk","KeyType":"RANGE"}]`,
		"BillingMode":                      `"PAY_PER_REQUEST"`,
		"TimeToLiveSpecification":          `{"AttributeName":"expiresAt","Enabled":true}`,
		"PointInTimeRecoverySpecification": `{"PointInTimeRecoveryEnabled":true}`,
		"SSESpecification":                 `{"SSEEnabled":true}`,
		"GlobalSecondaryIndexes": `[{"IndexName":"byRoom","KeySchema":[{"AttributeName":"gsi1pk","KeyType":"HASH"},{"AttributeName":"gsi1sk","KeyType":"RANGE"}],"Projection":{"NonKeyAttributes":["userId","displayName","expiresAt","joinedAt"],"ProjectionType":"INCLUDE"}},` +
			`{"IndexName":"byUser","KeySchema":[{"AttributeName":"gsi2pk","KeyType":"HASH"},{"AttributeName":"gsi2sk","KeyType":"RANGE"}],"Projection":{"NonKeyAttributes":["expiresAt"],"ProjectionType":"INCLUDE"}}]`,
	}
	for k, want := range checks {
		if got := j(p[k]); got != want {
			t.Errorf("table %s = %s, want %s", k, got, want)
		}
	}
	if table.DeletionPolicy != "Retain" || table.UpdateReplace != "Retain" {
		t.Errorf("table policies %q/%q, want Retain (chat data survives stack deletion)", table.DeletionPolicy, table.UpdateReplace)
	}
}

// statements returns the IAM statements attached to a function's role, as compact text.
func (tpl template) statements(t *testing.T, fnID string) []map[string]string {
	t.Helper()
	role := strings.TrimSuffix(compact(tpl.Resources[fnID].Properties["Role"]), ".Arn")
	var out []map[string]string
	for _, id := range tpl.ofType("AWS::IAM::Policy") {
		p := tpl.Resources[id].Properties
		attached := false
		for _, r := range p["Roles"].([]any) {
			if ref(r) == role {
				attached = true
			}
		}
		if !attached {
			continue
		}
		for _, s := range p["PolicyDocument"].(map[string]any)["Statement"].([]any) {
			st := s.(map[string]any)
			out = append(out, map[string]string{
				"Effect":   st["Effect"].(string),
				"Action":   listText(st["Action"]),
				"Resource": listText(st["Resource"]),
			})
		}
	}
	return out
}

func listText(v any) string {
	if l, ok := v.([]any); ok {
		var parts []string
		for _, x := range l {
			parts = append(parts, compact(x))
		}
		return strings.Join(parts, " ")
	}
	return compact(v)
}

func TestLeastPrivilege(t *testing.T) {
	tpl, _ := defaultTemplate(t)
	table := tpl.ofType("AWS::DynamoDB::Table")[0] + ".Arn"
	apiID := tpl.ofType("AWS::ApiGatewayV2::Api")[0]
	queue := tpl.queueID(t, "ChatPublishQueue") + ".Arn"
	logs := func(fn string) string {
		for _, id := range tpl.ofType("AWS::Logs::LogGroup") {
			if strings.HasPrefix(id, "Chat"+fn+"Logs") {
				return "logs:CreateLogStream logs:PutLogEvents @ " + id + ".Arn"
			}
		}
		t.Fatalf("no log group for %s", fn)
		return ""
	}
	// Every statement: its actions on exactly these resources, nothing else.
	want := map[string][]string{
		"ConnectFunction": {"dynamodb:PutItem @ " + table, logs("ConnectFunction")},
		"DisconnectFunction": {
			"dynamodb:BatchWriteItem dynamodb:Query dynamodb:UpdateItem @ " + table,
			"dynamodb:Query @ " + table + "/index/byRoom",
			"execute-api:ManageConnections @ arn:AWS::Partition:execute-api:AWS::Region:AWS::AccountId:" + apiID + "/prod/POST/@connections/*",
			logs("DisconnectFunction"),
		},
		"ChatFunction": {
			"dynamodb:BatchWriteItem dynamodb:DeleteItem dynamodb:GetItem dynamodb:PutItem dynamodb:Query dynamodb:UpdateItem @ " + table,
			"dynamodb:Query @ " + table + "/index/byRoom " + table + "/index/byUser",
			"execute-api:ManageConnections @ arn:AWS::Partition:execute-api:AWS::Region:AWS::AccountId:" + apiID + "/prod/POST/@connections/*",
			"sqs:SendMessage @ " + queue,
			logs("ChatFunction"),
		},
		// What package publish needs (GrantPublish), plus consuming the publish queue (the
		// event source's grant).
		"PublishFunction": {
			"dynamodb:BatchWriteItem dynamodb:ConditionCheckItem dynamodb:DeleteItem dynamodb:GetItem dynamodb:PutItem dynamodb:Query dynamodb:UpdateItem @ " + table,
			"dynamodb:Query @ " + table + "/index/byRoom " + table + "/index/byUser",
			"execute-api:ManageConnections @ arn:AWS::Partition:execute-api:AWS::Region:AWS::AccountId:" + apiID + "/prod/POST/@connections/*",
			// CDK merges statements of the same actions (minimizePolicies): SendMessage on the
			// queue (the rest of a shard) and on the dead-letter queue (malformed messages).
			"sqs:ChangeMessageVisibility sqs:DeleteMessage sqs:GetQueueAttributes sqs:GetQueueUrl sqs:ReceiveMessage @ " + queue,
			"sqs:SendMessage @ " + tpl.queueID(t, "ChatPublishDeadLetterQueue") + ".Arn " + queue,
			logs("PublishFunction"),
		},
		"DefaultFunction":    {logs("DefaultFunction")},
		"AuthorizerFunction": {logs("AuthorizerFunction")},
	}
	for name, statements := range want {
		fn := tpl.functionID(t, "Chat"+name)
		var got []string
		for _, s := range tpl.statements(t, fn) {
			acts := strings.Fields(s["Action"])
			sort.Strings(acts)
			if s["Effect"] != "Allow" || strings.Contains(s["Action"], "*") {
				t.Errorf("%s: statement %v", name, s)
			}
			got = append(got, strings.Join(acts, " ")+" @ "+s["Resource"])
		}
		sort.Strings(got)
		sort.Strings(statements)
		if strings.Join(got, "\n") != strings.Join(statements, "\n") {
			t.Errorf("%s statements:\n%s\nwant:\n%s", name, strings.Join(got, "\n"), strings.Join(statements, "\n"))
		}
		role := strings.TrimSuffix(compact(tpl.Resources[fn].Properties["Role"]), ".Arn")
		if mp := tpl.Resources[role].Properties["ManagedPolicyArns"]; mp != nil {
			t.Errorf("%s role has managed policies %v", name, mp)
		}
	}
}

func TestFunctions(t *testing.T) {
	tpl, _ := defaultTemplate(t)
	fns := tpl.functions()
	if len(fns) != 6 {
		t.Fatalf("%d functions, want 6", len(fns))
	}
	groups := map[string]resource{}
	for _, id := range tpl.ofType("AWS::Logs::LogGroup") {
		groups[id] = tpl.Resources[id]
	}
	for id, fn := range fns {
		p := fn.Properties
		if p["Runtime"] != "provided.al2023" || p["Handler"] != "bootstrap" {
			t.Errorf("%s: runtime %v handler %v", id, p["Runtime"], p["Handler"])
		}
		if a, _ := json.Marshal(p["Architectures"]); string(a) != `["arm64"]` {
			t.Errorf("%s: architectures %s", id, a)
		}
		lc, _ := p["LoggingConfig"].(map[string]any)
		if lc["LogFormat"] != "JSON" {
			t.Errorf("%s: logging config %v", id, lc)
		}
		lg, ok := groups[ref(lc["LogGroup"])]
		if !ok || lg.Properties["RetentionInDays"] != float64(30) {
			t.Errorf("%s: log group %v retention %v", id, lc["LogGroup"], lg.Properties["RetentionInDays"])
		}
		code := p["Code"].(map[string]any)
		if key, _ := code["S3Key"].(string); !strings.HasSuffix(key, ".zip") || len(key) != 64+4 {
			t.Errorf("%s: S3Key %v, want <sha256>.zip", id, code["S3Key"])
		}
	}
	chat := fns[tpl.functionID(t, "ChatChatFunction")].Properties
	if chat["MemorySize"] != float64(512) || chat["Timeout"] != float64(28) {
		t.Errorf("chat memory %v timeout %v", chat["MemorySize"], chat["Timeout"])
	}
	env := chat["Environment"].(map[string]any)["Variables"].(map[string]any)
	apiID := tpl.ofType("AWS::ApiGatewayV2::Api")[0]
	// Built from the API id, region and stage, never from the request's domain name.
	if got := compact(env["CALLBACK_URL"]); got != "https://"+apiID+".execute-api.AWS::Region.AWS::URLSuffix/prod" {
		t.Errorf("CALLBACK_URL %s", got)
	}
	tableID := tpl.ofType("AWS::DynamoDB::Table")[0]
	if ref(env["TABLE_NAME"]) != tableID || env["HISTORY_RETENTION_SECONDS"] != "2592000" || env["FANOUT_CONCURRENCY"] != "32" {
		t.Errorf("chat env %v", env)
	}
	def := fns[tpl.functionID(t, "ChatDefaultFunction")].Properties["Environment"].(map[string]any)["Variables"].(map[string]any)
	if def["CHAT_ACTIONS"] != "direct,history,joinroom,leaveroom,members,ping,sendmessage" || def["ROUTE_SELECTION_EXPRESSION"] != "$request.body.action" {
		t.Errorf("default env %v", def)
	}
	conn := fns[tpl.functionID(t, "ChatConnectFunction")].Properties["Environment"].(map[string]any)["Variables"].(map[string]any)
	if conn["CONNECTION_TTL_SECONDS"] != "7800" || conn["SUBPROTOCOL"] != "chat.v1" {
		t.Errorf("connect env %v", conn)
	}
}

func TestStage(t *testing.T) {
	tpl, _ := defaultTemplate(t)
	_, st := tpl.one(t, "AWS::ApiGatewayV2::Stage", nil)
	p := st.Properties
	j, _ := json.Marshal(p["DefaultRouteSettings"])
	if p["StageName"] != "prod" || p["AutoDeploy"] != true || string(j) != `{"DetailedMetricsEnabled":true,"ThrottlingBurstLimit":200,"ThrottlingRateLimit":100}` {
		t.Errorf("stage %v", p)
	}
}

func TestOidcAndNoAuthentication(t *testing.T) {
	stack := newStack(t)
	chatapi.NewWebSocketChatApi(stack, jsii.String("Chat"), &chatapi.WebSocketChatApiProps{
		Authentication: chatapi.OidcAuthentication(&chatapi.OidcAuthenticationProps{
			IssuerUrl: jsii.String("https://issuer.example.com"),
			Audiences: jsii.Strings("a1", "a2"),
			JwksUrl:   jsii.String("https://issuer.example.com/keys"),
		}),
	})
	tpl := synth(t, stack)
	if n := len(tpl.ofType("AWS::Cognito::UserPool")); n != 0 {
		t.Errorf("OIDC made %d user pools", n)
	}
	env := tpl.Resources[tpl.functionID(t, "ChatAuthorizerFunction")].Properties["Environment"].(map[string]any)["Variables"].(map[string]any)
	if env["AUTH_ISSUER"] != "https://issuer.example.com" || env["AUTH_AUDIENCES"] != "a1,a2" || env["AUTH_JWKS_URL"] != "https://issuer.example.com/keys" {
		t.Errorf("OIDC env %v", env)
	}

	stack = newStack(t)
	chatapi.NewWebSocketChatApi(stack, jsii.String("Chat"), &chatapi.WebSocketChatApiProps{Authentication: chatapi.NoAuthentication()})
	tpl = synth(t, stack)
	if n := len(tpl.ofType("AWS::ApiGatewayV2::Authorizer")) + len(tpl.ofType("AWS::Cognito::UserPool")); n != 0 {
		t.Errorf("NoAuthentication still made %d authorizers/pools", n)
	}
	if len(tpl.functions()) != 5 {
		t.Errorf("NoAuthentication: %d functions, want 5", len(tpl.functions()))
	}
	warnings := assertions.Annotations_FromStack(stack).FindWarning(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("Authentication is disabled")))
	if len(*warnings) != 1 {
		t.Errorf("NoAuthentication left %d warnings, want 1", len(*warnings))
	}
}

func TestProps(t *testing.T) {
	stack := newStack(t)
	chatapi.NewWebSocketChatApi(stack, jsii.String("Chat"), &chatapi.WebSocketChatApiProps{
		ApiName:                  jsii.String("my-chat"),
		RouteSelectionExpression: jsii.String("${request.body.kind}"),
		StageName:                jsii.String("dev"),
		ChatActions:              jsii.Strings("sendmessage", "joinroom"),
		ConnectionTtl:            awscdk.Duration_Hours(jsii.Number(3)),
		HistoryRetention:         awscdk.Duration_Days(jsii.Number(7)),
		TableRemovalPolicy:       awscdk.RemovalPolicy_DESTROY,
		TableDeletionProtection:  jsii.Bool(true),
		Throttling:               &chatapi.ThrottleProps{RateLimit: jsii.Number(5), BurstLimit: jsii.Number(10)},
		ChatMemorySize:           jsii.Number(1024),
		HandlerMemorySize:        jsii.Number(256),
		FanoutConcurrency:        jsii.Number(64),
	})
	tpl := synth(t, stack)
	_, api := tpl.one(t, "AWS::ApiGatewayV2::Api", nil)
	if api.Properties["Name"] != "my-chat" || api.Properties["RouteSelectionExpression"] != "${request.body.kind}" {
		t.Errorf("api %v", api.Properties)
	}
	if len(tpl.routes()) != 6 {
		t.Errorf("routes %d, want 6 ($connect, $disconnect, $default, ping and the chosen actions)", len(tpl.routes()))
	}
	_, table := tpl.one(t, "AWS::DynamoDB::Table", nil)
	if table.DeletionPolicy != "Delete" || table.Properties["DeletionProtectionEnabled"] != true {
		t.Errorf("table %q %v", table.DeletionPolicy, table.Properties["DeletionProtectionEnabled"])
	}
	chat := tpl.Resources[tpl.functionID(t, "ChatChatFunction")].Properties
	env := chat["Environment"].(map[string]any)["Variables"].(map[string]any)
	if chat["MemorySize"] != float64(1024) || env["FANOUT_CONCURRENCY"] != "64" || env["HISTORY_RETENTION_SECONDS"] != "604800" || !strings.HasSuffix(compact(env["CALLBACK_URL"]), "/dev") {
		t.Errorf("chat %v %v", chat["MemorySize"], env)
	}
	_, st := tpl.one(t, "AWS::ApiGatewayV2::Stage", nil)
	if st.Properties["StageName"] != "dev" {
		t.Errorf("stage %v", st.Properties["StageName"])
	}
}

func TestInvalidProps(t *testing.T) {
	ptr := func(p chatapi.WebSocketChatApiProps) *chatapi.WebSocketChatApiProps { return &p }
	tests := []struct {
		name  string
		props *chatapi.WebSocketChatApiProps
		want  string
	}{
		{"bad selection", ptr(chatapi.WebSocketChatApiProps{RouteSelectionExpression: jsii.String("$request.header.x")}), "RouteSelectionExpression: selection expression"},
		{"static selection", ptr(chatapi.WebSocketChatApiProps{RouteSelectionExpression: jsii.String("action")}), "RouteSelectionExpression"},
		{"empty stage", ptr(chatapi.WebSocketChatApiProps{StageName: jsii.String("")}), "StageName: must not be empty"},
		{"bad stage", ptr(chatapi.WebSocketChatApiProps{StageName: jsii.String("a/b")}), "StageName"},
		{"api name", ptr(chatapi.WebSocketChatApiProps{ApiName: jsii.String(strings.Repeat("x", 129))}), "ApiName: must be 1 to 128"},
		{"unknown action", ptr(chatapi.WebSocketChatApiProps{ChatActions: jsii.Strings("shout")}), `ChatActions: "shout" is not a chat action`},
		{"dup action", ptr(chatapi.WebSocketChatApiProps{ChatActions: jsii.Strings("history", "history")}), "listed twice"},
		{"no action", ptr(chatapi.WebSocketChatApiProps{ChatActions: &[]*string{}}), "at least one chat action"},
		{"short ttl", ptr(chatapi.WebSocketChatApiProps{ConnectionTtl: awscdk.Duration_Minutes(jsii.Number(30))}), "ConnectionTtl: must be between 2 hours"},
		{"retention", ptr(chatapi.WebSocketChatApiProps{HistoryRetention: awscdk.Duration_Minutes(jsii.Number(5))}), "HistoryRetention"},
		{"rate", ptr(chatapi.WebSocketChatApiProps{Throttling: &chatapi.ThrottleProps{RateLimit: jsii.Number(0)}}), "Throttling.RateLimit"},
		{"burst", ptr(chatapi.WebSocketChatApiProps{Throttling: &chatapi.ThrottleProps{BurstLimit: jsii.Number(1.5)}}), "Throttling.BurstLimit"},
		{"memory", ptr(chatapi.WebSocketChatApiProps{ChatMemorySize: jsii.Number(64)}), "ChatMemorySize"},
		{"handler memory", ptr(chatapi.WebSocketChatApiProps{HandlerMemorySize: jsii.Number(20000)}), "HandlerMemorySize"},
		{"fanout", ptr(chatapi.WebSocketChatApiProps{FanoutConcurrency: jsii.Number(0)}), "FanoutConcurrency"},
		{"token source", ptr(chatapi.WebSocketChatApiProps{TokenSources: &[]chatapi.TokenSource{"cookie"}}), "TokenSources"},
		{"http issuer", ptr(chatapi.WebSocketChatApiProps{Authentication: chatapi.OidcAuthentication(&chatapi.OidcAuthenticationProps{
			IssuerUrl: jsii.String("http://issuer.example.com"), Audiences: jsii.Strings("a")})}), "Authentication.IssuerUrl: \"http://issuer.example.com\" must be an https URL"},
		{"no audience", ptr(chatapi.WebSocketChatApiProps{Authentication: chatapi.OidcAuthentication(&chatapi.OidcAuthenticationProps{
			IssuerUrl: jsii.String("https://issuer.example.com")})}), "Authentication.Audiences"},
		{"jwks http", ptr(chatapi.WebSocketChatApiProps{Authentication: chatapi.OidcAuthentication(&chatapi.OidcAuthenticationProps{
			IssuerUrl: jsii.String("https://i.example.com"), Audiences: jsii.Strings("a"), JwksUrl: jsii.String("http://i.example.com/k")})}), "Authentication.JwksUrl"},
		{"token use", ptr(chatapi.WebSocketChatApiProps{Authentication: chatapi.CognitoAuthentication(&chatapi.CognitoAuthenticationProps{
			TokenUse: jsii.Strings("refresh")})}), "Authentication.TokenUse"},
		{"origin path", ptr(chatapi.WebSocketChatApiProps{AllowedOrigins: jsii.Strings("https://a.example.com/app")}), "AllowedOrigins: \"https://a.example.com/app\" must be an origin"},
		{"origin scheme", ptr(chatapi.WebSocketChatApiProps{AllowedOrigins: jsii.Strings("a.example.com")}), "AllowedOrigins"},
		{"no origins", ptr(chatapi.WebSocketChatApiProps{AllowedOrigins: &[]*string{}}), "AllowedOrigins: must list at least one"},
		{"rate", ptr(chatapi.WebSocketChatApiProps{RateLimit: &chatapi.RateLimitProps{PerSecond: jsii.Number(-1)}}), "RateLimit.PerSecond"},
		{"rate burst", ptr(chatapi.WebSocketChatApiProps{RateLimit: &chatapi.RateLimitProps{Burst: jsii.Number(0)}}), "RateLimit.Burst"},
		{"route throttle key", ptr(chatapi.WebSocketChatApiProps{RouteThrottling: &map[string]*chatapi.ThrottleProps{"a/b": {RateLimit: jsii.Number(1), BurstLimit: jsii.Number(1)}}}), "RouteThrottling: \"a/b\" is not a route key"},
		{"route throttle half", ptr(chatapi.WebSocketChatApiProps{RouteThrottling: &map[string]*chatapi.ThrottleProps{"history": {RateLimit: jsii.Number(1)}}}), "needs both RateLimit and BurstLimit"},
		{"log level", ptr(chatapi.WebSocketChatApiProps{ExecutionLogLevel: "DEBUG"}), "ExecutionLogLevel"},
		{"topic without alarms", ptr(chatapi.WebSocketChatApiProps{Alarms: jsii.Bool(false), AlarmTopic: awssns.NewTopic(awscdk.NewStack(awscdk.NewApp(nil), jsii.String("T"), nil), jsii.String("T"), nil)}), "AlarmTopic: is set but Alarms is false"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stack := newStack(t)
			msg := mustPanic(t, func() { chatapi.NewWebSocketChatApi(stack, jsii.String("Chat"), tt.props) })
			if !strings.HasPrefix(msg, "chatapi: Test/Chat: ") || !strings.Contains(msg, tt.want) {
				t.Errorf("panic %q, want it to contain %q", msg, tt.want)
			}
		})
	}
}

// TestInvalidPropsNameTheConstruct tells two chats of one stack apart by their paths.
func TestInvalidPropsNameTheConstruct(t *testing.T) {
	stack := newStack(t)
	chatapi.NewWebSocketChatApi(stack, jsii.String("Public"), &chatapi.WebSocketChatApiProps{Authentication: chatapi.NoAuthentication()})
	msg := mustPanic(t, func() {
		chatapi.NewWebSocketChatApi(stack, jsii.String("Staff"), &chatapi.WebSocketChatApiProps{StageName: jsii.String("a b")})
	})
	if want := `chatapi: Test/Staff: StageName: "a b" must be`; !strings.HasPrefix(msg, want) {
		t.Errorf("panic %q, want it to start with %q", msg, want)
	}
}

// TestCognitoClientDefaults: no OAuth flows, callback or admin scope unless asked, and the
// password itself is sent to Cognito only when asked.
func TestCognitoClientDefaults(t *testing.T) {
	clientOf := func(props *chatapi.WebSocketChatApiProps) map[string]any {
		stack := newStack(t)
		chatapi.NewWebSocketChatApi(stack, jsii.String("Chat"), props)
		_, client := synth(t, stack).one(t, "AWS::Cognito::UserPoolClient", nil)
		return client.Properties
	}
	p := clientOf(nil)
	flows, _ := json.Marshal(p["ExplicitAuthFlows"])
	for _, key := range []string{"AllowedOAuthFlows", "CallbackURLs", "AllowedOAuthScopes"} {
		if v, ok := p[key]; ok {
			t.Errorf("default client has %s %v", key, v)
		}
	}
	if p["AllowedOAuthFlowsUserPoolClient"] == true || strings.Contains(string(flows), "ALLOW_USER_PASSWORD_AUTH") || !strings.Contains(string(flows), "ALLOW_USER_SRP_AUTH") {
		t.Errorf("default client: OAuth %v, flows %s", p["AllowedOAuthFlowsUserPoolClient"], flows)
	}
	p = clientOf(&chatapi.WebSocketChatApiProps{Authentication: chatapi.CognitoAuthentication(&chatapi.CognitoAuthenticationProps{
		UserPasswordAuth: jsii.Bool(true),
		OAuth: &awscognito.OAuthSettings{
			Flows:        &awscognito.OAuthFlows{AuthorizationCodeGrant: jsii.Bool(true)},
			CallbackUrls: jsii.Strings("https://chat.example.com/callback"),
		},
	})})
	flows, _ = json.Marshal(p["ExplicitAuthFlows"])
	oauth, _ := json.Marshal(p["AllowedOAuthFlows"])
	if !strings.Contains(string(flows), "ALLOW_USER_PASSWORD_AUTH") || string(oauth) != `["code"]` {
		t.Errorf("opted-in client: flows %s, OAuth flows %s", flows, oauth)
	}
}
