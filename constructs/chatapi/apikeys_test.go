package chatapi_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/jsii-runtime-go"

	"github.com/chatstack/websocketchatapi/constructs/chatapi"
	"github.com/chatstack/websocketchatapi/internal/contract"
)

// tiers are two usage plans: free (5/s, burst 10, 1000 a day) and pro (no limits).
func tiers() *map[string]*chatapi.UsagePlanOptions {
	return &map[string]*chatapi.UsagePlanOptions{
		"free": {RateLimit: jsii.Number(5), BurstLimit: jsii.Number(10), QuotaLimit: jsii.Number(1000), QuotaPeriod: awsapigatewayv2.Period_DAY},
		"pro":  {},
	}
}

// TestApiKeysOffByDefault: without ApiKeys the template has no key, plan, selection
// expression or ApiKeyRequired.
func TestApiKeysOffByDefault(t *testing.T) {
	tpl, c := defaultTemplate(t)
	for _, typ := range []string{"AWS::ApiGateway::ApiKey", "AWS::ApiGateway::UsagePlan", "AWS::ApiGateway::UsagePlanKey"} {
		if ids := tpl.ofType(typ); len(ids) != 0 {
			t.Errorf("%s: %v, want none", typ, ids)
		}
	}
	for key, r := range tpl.routes() {
		if _, ok := r.Properties["ApiKeyRequired"]; ok {
			t.Errorf("route %s has ApiKeyRequired", key)
		}
	}
	_, api := tpl.one(t, "AWS::ApiGatewayV2::Api", nil)
	if _, ok := api.Properties["ApiKeySelectionExpression"]; ok {
		t.Errorf("the API has ApiKeySelectionExpression without ApiKeys")
	}
	if n := len(*c.UsagePlanNames()); n != 0 {
		t.Errorf("UsagePlanNames has %d names", n)
	}
}

// TestApiKeysHeader: the header source requires the key on $connect only, makes one usage plan
// per tier on the stage with its throttle and quota, and AddApiKey adds an enabled key to a plan.
func TestApiKeysHeader(t *testing.T) {
	stack := newStack(t)
	c := chatapi.NewWebSocketChatApi(stack, jsii.String("Chat"), &chatapi.WebSocketChatApiProps{
		ApiKeys: &chatapi.ApiKeysProps{Plans: tiers()},
	})
	c.AddApiKey(jsii.String("Partner"), jsii.String("free"), nil)
	c.AddApiKey(jsii.String("Fixed"), jsii.String("pro"), &awsapigatewayv2.ApiKeyOptions{Value: jsii.String(strings.Repeat("k", 20))})
	tpl := synth(t, stack)

	_, api := tpl.one(t, "AWS::ApiGatewayV2::Api", nil)
	if got := api.Properties["ApiKeySelectionExpression"]; got != "$request.header.x-api-key" {
		t.Errorf("ApiKeySelectionExpression = %v", got)
	}
	for key, r := range tpl.routes() {
		if got, want := r.Properties["ApiKeyRequired"], key == "$connect"; (got == true) != want {
			t.Errorf("route %s: ApiKeyRequired = %v, want %v", key, got, want)
		}
	}
	_, free := tpl.one(t, "AWS::ApiGateway::UsagePlan", func(p map[string]any) bool { return p["UsagePlanName"] == "free" })
	if got := compact(free.Properties["Throttle"]); got != `{"BurstLimit":10,"RateLimit":5}` {
		t.Errorf("free throttle = %s", got)
	}
	if got := compact(free.Properties["Quota"]); got != `{"Limit":1000,"Period":"DAY"}` {
		t.Errorf("free quota = %s", got)
	}
	stages := compact(free.Properties["ApiStages"])
	if !strings.Contains(stages, `{"ApiId":{"Ref":"ChatApi`) || !strings.Contains(stages, `"Stage":"prod"`) {
		t.Errorf("free ApiStages = %s, want the chat's API and stage prod", stages)
	}
	// The stage is named by value: the plan must wait for it (AWS refuses a plan whose stage
	// does not exist yet).
	if deps := compact(free.DependsOn); !strings.Contains(deps, "ChatStage") {
		t.Errorf("free DependsOn = %s, want the stage", deps)
	}
	_, pro := tpl.one(t, "AWS::ApiGateway::UsagePlan", func(p map[string]any) bool { return p["UsagePlanName"] == "pro" })
	if pro.Properties["Throttle"] != nil || pro.Properties["Quota"] != nil {
		t.Errorf("pro plan has limits: %v", pro.Properties)
	}
	keys := tpl.ofType("AWS::ApiGateway::ApiKey")
	if len(keys) != 2 || len(tpl.ofType("AWS::ApiGateway::UsagePlanKey")) != 2 {
		t.Fatalf("keys %v, usage plan keys %v: want 2 of each", keys, tpl.ofType("AWS::ApiGateway::UsagePlanKey"))
	}
	for _, id := range keys {
		if tpl.Resources[id].Properties["Enabled"] != true {
			t.Errorf("key %s is not enabled", id)
		}
	}
	if c.UsagePlan(jsii.String("free")) == nil || c.UsagePlan(jsii.String("gold")) != nil {
		t.Errorf("UsagePlan accessor: free missing or gold present")
	}
}

// TestApiKeysFromAuthorizer: the authorizer source names usageIdentifierKey, puts the claim in
// the authorizer's environment, and can require the key on every chat action too.
func TestApiKeysFromAuthorizer(t *testing.T) {
	stack := newStack(t)
	chatapi.NewWebSocketChatApi(stack, jsii.String("Chat"), &chatapi.WebSocketChatApiProps{
		ChatActions: jsii.Strings("sendmessage", "joinroom"),
		ApiKeys: &chatapi.ApiKeysProps{Source: chatapi.ApiKeySourceAuthorizer, KeyClaim: jsii.String("custom:api_key"),
			RequireOnChatActions: jsii.Bool(true), Plans: tiers()},
	})
	tpl := synth(t, stack)
	_, api := tpl.one(t, "AWS::ApiGatewayV2::Api", nil)
	if got := api.Properties["ApiKeySelectionExpression"]; got != "$context.authorizer.usageIdentifierKey" {
		t.Errorf("ApiKeySelectionExpression = %v", got)
	}
	want := map[string]bool{"$connect": true, "sendmessage": true, "joinroom": true}
	for key, r := range tpl.routes() {
		if got := r.Properties["ApiKeyRequired"] == true; got != want[key] {
			t.Errorf("route %s: ApiKeyRequired %v, want %v", key, got, want[key])
		}
	}
	fn := tpl.Resources[tpl.functionID(t, "ChatAuthorizerFunction")]
	vars := fn.Properties["Environment"].(map[string]any)["Variables"].(map[string]any)
	if vars[contract.EnvAuthAPIKeyClaim] != "custom:api_key" {
		t.Errorf("authorizer environment %v, want %s=custom:api_key", vars, contract.EnvAuthAPIKeyClaim)
	}
}

// TestApiKeysRefusals: each bad ApiKeys prop or AddApiKey call panics naming the prop and
// the rule.
func TestApiKeysRefusals(t *testing.T) {
	plans := func(p *chatapi.UsagePlanOptions) *map[string]*chatapi.UsagePlanOptions {
		return &map[string]*chatapi.UsagePlanOptions{"free": p}
	}
	tests := []struct {
		name  string
		props chatapi.WebSocketChatApiProps
		want  string
	}{
		{"no plan", chatapi.WebSocketChatApiProps{ApiKeys: &chatapi.ApiKeysProps{}}, "ApiKeys.Plans: must name at least one usage plan"},
		{"bad source", chatapi.WebSocketChatApiProps{ApiKeys: &chatapi.ApiKeysProps{Source: "query", Plans: tiers()}}, `ApiKeys.Source: "query" is not a key source`},
		{"claim with header", chatapi.WebSocketChatApiProps{ApiKeys: &chatapi.ApiKeysProps{KeyClaim: jsii.String("k"), Plans: tiers()}}, "ApiKeys.KeyClaim: is read only with Source"},
		{"authorizer without claim", chatapi.WebSocketChatApiProps{ApiKeys: &chatapi.ApiKeysProps{Source: chatapi.ApiKeySourceAuthorizer, Plans: tiers()}}, "ApiKeys.KeyClaim: is required"},
		{"authorizer without authentication", chatapi.WebSocketChatApiProps{Authentication: chatapi.NoAuthentication(),
			ApiKeys: &chatapi.ApiKeysProps{Source: chatapi.ApiKeySourceAuthorizer, KeyClaim: jsii.String("k"), Plans: tiers()}}, "ApiKeys.Source: \"authorizer\" needs the $connect Lambda authorizer"},
		{"authorizer with IAM authentication", chatapi.WebSocketChatApiProps{Authentication: chatapi.IamAuthentication(nil),
			ApiKeys: &chatapi.ApiKeysProps{Source: chatapi.ApiKeySourceAuthorizer, KeyClaim: jsii.String("k"), Plans: tiers()}}, "ApiKeys.Source: \"authorizer\" needs the $connect Lambda authorizer"},
		{"chat actions with header", chatapi.WebSocketChatApiProps{ApiKeys: &chatapi.ApiKeysProps{RequireOnChatActions: jsii.Bool(true), Plans: tiers()}}, "ApiKeys.RequireOnChatActions: needs Source"},
		{"plan name", chatapi.WebSocketChatApiProps{ApiKeys: &chatapi.ApiKeysProps{Plans: &map[string]*chatapi.UsagePlanOptions{"a/b": {}}}}, `ApiKeys.Plans: "a/b" must be`},
		{"nil plan", chatapi.WebSocketChatApiProps{ApiKeys: &chatapi.ApiKeysProps{Plans: plans(nil)}}, "ApiKeys.Plans[free]: must not be nil"},
		{"rate", chatapi.WebSocketChatApiProps{ApiKeys: &chatapi.ApiKeysProps{Plans: plans(&chatapi.UsagePlanOptions{RateLimit: jsii.Number(0)})}}, "ApiKeys.Plans[free].RateLimit: must be greater than 0"},
		{"burst", chatapi.WebSocketChatApiProps{ApiKeys: &chatapi.ApiKeysProps{Plans: plans(&chatapi.UsagePlanOptions{BurstLimit: jsii.Number(2.5)})}}, "ApiKeys.Plans[free].BurstLimit: must be a whole number"},
		{"quota", chatapi.WebSocketChatApiProps{ApiKeys: &chatapi.ApiKeysProps{Plans: plans(&chatapi.UsagePlanOptions{QuotaLimit: jsii.Number(0)})}}, "ApiKeys.Plans[free].QuotaLimit: must be a whole number of at least 1"},
		{"period", chatapi.WebSocketChatApiProps{ApiKeys: &chatapi.ApiKeysProps{Plans: plans(&chatapi.UsagePlanOptions{QuotaLimit: jsii.Number(1), QuotaPeriod: "YEAR"})}}, `ApiKeys.Plans[free].QuotaPeriod: "YEAR" is not one of`},
		{"period alone", chatapi.WebSocketChatApiProps{ApiKeys: &chatapi.ApiKeysProps{Plans: plans(&chatapi.UsagePlanOptions{QuotaPeriod: awsapigatewayv2.Period_DAY})}}, "ApiKeys.Plans[free].QuotaPeriod: is set without QuotaLimit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stack := newStack(t)
			msg := mustPanic(t, func() { chatapi.NewWebSocketChatApi(stack, jsii.String("Chat"), &tt.props) })
			if !strings.HasPrefix(msg, "chatapi: Test/Chat: ") || !strings.Contains(msg, tt.want) {
				t.Errorf("panic %q, want it to contain %q", msg, tt.want)
			}
		})
	}

	stack := newStack(t)
	off := chatapi.NewWebSocketChatApi(stack, jsii.String("Off"), nil)
	on := chatapi.NewWebSocketChatApi(stack, jsii.String("On"), &chatapi.WebSocketChatApiProps{ApiKeys: &chatapi.ApiKeysProps{Plans: tiers()}})
	calls := []struct {
		name string
		call func()
		want string
	}{
		{"keys off", func() { off.AddApiKey(jsii.String("k"), jsii.String("free"), nil) }, "chatapi: Test/Off: AddApiKey: API keys are off"},
		{"unknown plan", func() { on.AddApiKey(jsii.String("k"), jsii.String("gold"), nil) }, `chatapi: Test/On: AddApiKey: key "k": plan "gold" is not one of ApiKeys.Plans ([free pro])`},
		{"short value", func() {
			on.AddApiKey(jsii.String("k"), jsii.String("free"), &awsapigatewayv2.ApiKeyOptions{Value: jsii.String("short")})
		}, "chatapi: Test/On: AddApiKey.Value: key \"k\": must be 20 to 128 characters, got 5"},
	}
	for _, tc := range calls {
		t.Run(tc.name, func(t *testing.T) {
			if msg := mustPanic(t, tc.call); !strings.HasPrefix(msg, tc.want) {
				t.Errorf("panic %q, want %q", msg, tc.want)
			}
		})
	}
}
