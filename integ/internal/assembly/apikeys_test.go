package assembly_test

import (
	"strings"
	"testing"

	"github.com/chatstack/websocketchatapi/integ/internal/assembly"
)

// apiKeysTemplate is a WebSocket API with a stage, two keys (one with its value, one whose value
// CloudFormation generates) and one usage plan with throttle and quota holding both.
const apiKeysTemplate = `{"Resources": {
  "Api": {"Type": "AWS::ApiGatewayV2::Api", "Properties": {"Name": "a", "ProtocolType": "WEBSOCKET",
    "RouteSelectionExpression": "$request.body.action", "ApiKeySelectionExpression": "$request.header.x-api-key"}},
  "Stage": {"Type": "AWS::ApiGatewayV2::Stage", "Properties": {"ApiId": {"Ref": "Api"}, "StageName": "prod"}},
  "Connect": {"Type": "AWS::ApiGatewayV2::Route", "Properties": {"ApiId": {"Ref": "Api"}, "RouteKey": "$connect", "ApiKeyRequired": true}},
  "Fixed": {"Type": "AWS::ApiGateway::ApiKey", "Properties": {"Enabled": true, "Value": "abcdefghijklmnopqrstu"}},
  "Generated": {"Type": "AWS::ApiGateway::ApiKey", "Properties": {}},
  "Plan": {"Type": "AWS::ApiGateway::UsagePlan", "DependsOn": ["Stage"], "Properties": {"UsagePlanName": "free",
    "ApiStages": [{"ApiId": {"Ref": "Api"}, "Stage": "prod"}],
    "Throttle": {"RateLimit": 5, "BurstLimit": 10}, "Quota": {"Limit": 100, "Period": "DAY"}}},
  "PlanFixed": {"Type": "AWS::ApiGateway::UsagePlanKey", "Properties": {"KeyId": {"Ref": "Fixed"}, "KeyType": "API_KEY", "UsagePlanId": {"Ref": "Plan"}}},
  "PlanGenerated": {"Type": "AWS::ApiGateway::UsagePlanKey", "Properties": {"KeyId": {"Ref": "Generated"}, "KeyType": "API_KEY", "UsagePlanId": {"Ref": "Plan"}}}
}}`

func TestAPIKeysAndUsagePlans(t *testing.T) {
	st, err := loadSynthetic(t, apiKeysTemplate, assembly.Options{})
	if err != nil {
		t.Fatal(err)
	}
	api := st.API()
	if api.APIKeySelectionExpression != "$request.header.x-api-key" || !api.Route("$connect").APIKeyRequired {
		t.Errorf("selection %q, $connect requires a key: %v", api.APIKeySelectionExpression, api.Route("$connect").APIKeyRequired)
	}
	fixed, generated := st.APIKeys["Fixed"], st.APIKeys["Generated"]
	if fixed == nil || generated == nil {
		t.Fatalf("keys %v", st.APIKeys)
	}
	if fixed.Value != "abcdefghijklmnopqrstu" || !fixed.Enabled || len(fixed.ID) != 10 {
		t.Errorf("fixed key %+v", fixed)
	}
	if generated.Value != "" || generated.Enabled {
		t.Errorf("generated key %+v: want no value and Enabled false (CloudFormation's default)", generated)
	}
	if len(st.UsagePlans) != 1 {
		t.Fatalf("plans %v", st.UsagePlans)
	}
	plan := st.UsagePlans[0]
	if plan.Name != "free" || !plan.AppliesTo(api.ID, "prod") || plan.AppliesTo(api.ID, "dev") {
		t.Errorf("plan %+v", plan)
	}
	if *plan.Throttle != (assembly.UsagePlanThrottle{RateLimit: 5, BurstLimit: 10}) || *plan.Quota != (assembly.UsagePlanQuota{Limit: 100, Period: "DAY"}) {
		t.Errorf("plan limits %+v %+v", plan.Throttle, plan.Quota)
	}
	if len(plan.Keys) != 2 || len(fixed.Plans) != 1 || fixed.Plans[0] != plan {
		t.Errorf("plan keys %v, fixed key's plans %v", plan.Keys, fixed.Plans)
	}
}

func TestUsagePlanKeyOutsideTheStack(t *testing.T) {
	tpl := strings.Replace(apiKeysTemplate, `"KeyId": {"Ref": "Fixed"}`, `"KeyId": "imported01"`, 1)
	_, err := loadSynthetic(t, tpl, assembly.Options{})
	if err == nil || !strings.Contains(err.Error(), "PlanFixed (AWS::ApiGateway::UsagePlanKey)") {
		t.Errorf("err = %v, want one naming PlanFixed", err)
	}
}
