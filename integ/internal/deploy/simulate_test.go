package deploy_test

import (
	"strings"
	"testing"

	"github.com/chatstack/websocketchatapi/integ/internal/assembly"
	"github.com/chatstack/websocketchatapi/integ/internal/deploy"
)

// sub writes an Fn::Sub.
func sub(s string) obj { return obj{"Fn::Sub": s} }

// adversarial simulates st's adversarial order.
func adversarial(t *testing.T, st *assembly.Stack) error {
	t.Helper()
	return deploy.Simulate(st, deploy.Adversarial(graph(t, st)))
}

// wantRefusal checks a refusal's resource, missing resource, service error and message.
func wantRefusal(t *testing.T, err error, id, missing, code, message string) *deploy.Refusal {
	t.Helper()
	r := refusal(t, err)
	if r.LogicalID != id || r.Missing != missing || r.Code != code || r.Message != message {
		t.Errorf("refusal of %s (missing %q, %s): %q\nwant %s (missing %q, %s): %q", r.LogicalID, r.Missing, r.Code, r.Message, id, missing, code, message)
	}
	if !strings.Contains(r.Error(), message) || !strings.Contains(r.Error(), id) || r.Step < 1 || r.Step > r.Steps {
		t.Errorf("Error() = %q: want the resource, the message and a step within the order", r.Error())
	}
	return r
}

func TestStageBeforeTheRouteItsRouteSettingsName(t *testing.T) {
	st := load(t, chatResources(), nil)
	r := wantRefusal(t, adversarial(t, st), "Stage", "ConnectRoute", "NotFoundException",
		"Unable to find Route by key $connect within the provided RouteSettings")
	if r.Status != 404 || r.Type != "AWS::ApiGatewayV2::Stage" || r.Order != "adversarial" || !strings.Contains(r.Detail, "DependsOn") {
		t.Errorf("refusal %+v: want a 404 of the stage in the adversarial order that says to add DependsOn", r)
	}
	fixed := load(t, chatResources("ConnectRoute"), nil)
	if err := deploy.Check(fixed, deploy.AdversarialAndRandom, 0); err != nil {
		t.Errorf("the stage depends on its route: %v", err)
	}
	for _, s := range seeds {
		if err := deploy.Check(fixed, deploy.RandomOnly, s); err != nil {
			t.Errorf("seed %d: %v", s, err)
		}
	}
}

func TestStageRouteSettingsForARouteTheTemplateLacks(t *testing.T) {
	res := chatResources("ConnectRoute")
	res["Stage"].(obj)["Properties"].(obj)["RouteSettings"] = obj{"$disconnect": obj{"ThrottlingBurstLimit": 1}}
	r := wantRefusal(t, adversarial(t, load(t, res, nil)), "Stage", "", "NotFoundException",
		"Unable to find Route by key $disconnect within the provided RouteSettings")
	if !strings.Contains(r.Detail, "no route $disconnect") {
		t.Errorf("detail %q does not say the template has no such route", r.Detail)
	}
}

// loggingResources is an API, an account resource setting API Gateway's CloudWatch role and a
// stage; logs says whether the stage writes access logs.
func loggingResources(logs bool, dependsOn ...string) obj {
	stage := obj{"Type": "AWS::ApiGatewayV2::Stage", "Properties": obj{"ApiId": ref("Api"), "StageName": "prod"}}
	if logs {
		stage["Properties"].(obj)["AccessLogSettings"] = obj{"DestinationArn": "arn:aws:logs:us-east-1:000000000000:log-group:access", "Format": "$context.requestId"}
	}
	if len(dependsOn) > 0 {
		stage["DependsOn"] = dependsOn
	}
	return obj{
		"Api":     api(),
		"LogRole": role(""),
		"Account": obj{"Type": "AWS::ApiGateway::Account", "Properties": obj{"CloudWatchRoleArn": getAtt("LogRole", "Arn")}},
		"Stage":   stage,
	}
}

func TestLoggingStageBeforeTheAccountsCloudWatchRole(t *testing.T) {
	wantRefusal(t, adversarial(t, load(t, loggingResources(true), nil)), "Stage", "Account", "BadRequestException",
		"CloudWatch Logs role ARN must be set in account settings to enable logging")
	if err := adversarial(t, load(t, loggingResources(true, "Account"), nil)); err != nil {
		t.Errorf("the stage depends on the account: %v", err)
	}
	if err := adversarial(t, load(t, loggingResources(false), nil)); err != nil {
		t.Errorf("a stage without logs: %v", err)
	}
}

func TestAccountBeforeTheRoleItNamesByARN(t *testing.T) {
	res := obj{
		"LogRole": role("apigw-logs"),
		"Account": obj{"Type": "AWS::ApiGateway::Account", "Properties": obj{
			"CloudWatchRoleArn": sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:role/apigw-logs")}},
	}
	wantRefusal(t, adversarial(t, load(t, res, nil)), "Account", "LogRole", "BadRequestException",
		"The role ARN does not have required permissions configured. Please grant trust permission for API Gateway and add the required role policy.")
}

func TestFunctionBeforeTheRoleItNamesByARN(t *testing.T) {
	res := obj{
		"Role": role("fn-role"),
		"Fn":   function("", sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:role/fn-role")),
	}
	wantRefusal(t, adversarial(t, load(t, res, nil)), "Fn", "Role", "InvalidParameterValueException",
		"The role defined for the function cannot be assumed by Lambda.")
}

func TestPermissionBeforeTheFunctionItNamesByName(t *testing.T) {
	res := obj{
		"Role": role(""),
		"Fn":   function("my-fn", getAtt("Role", "Arn")),
		"Perm": obj{"Type": "AWS::Lambda::Permission", "Properties": obj{
			"FunctionName": "my-fn", "Action": "lambda:InvokeFunction", "Principal": "apigateway.amazonaws.com"}},
	}
	wantRefusal(t, adversarial(t, load(t, res, nil)), "Perm", "Fn", "ResourceNotFoundException",
		"Function not found: arn:aws:lambda:us-east-1:000000000000:function:my-fn")
}

// policyDocument is a small identity policy.
var policyDocument = obj{"Version": "2012-10-17", "Statement": []any{obj{"Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": "*"}}}

func TestPolicyBeforeTheRoleItNamesByName(t *testing.T) {
	res := obj{
		"Role":   role("fn-role"),
		"Policy": obj{"Type": "AWS::IAM::Policy", "Properties": obj{"PolicyName": "p", "PolicyDocument": policyDocument, "Roles": []any{"fn-role"}}},
	}
	wantRefusal(t, adversarial(t, load(t, res, nil)), "Policy", "Role", "NoSuchEntity", "The role with name fn-role cannot be found.")
}

func TestRoleBeforeTheManagedPolicyItNamesByARN(t *testing.T) {
	r := role("fn-role")
	r["Properties"].(obj)["ManagedPolicyArns"] = []any{sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:policy/mp")}
	res := obj{
		"Role":   r,
		"Policy": obj{"Type": "AWS::IAM::ManagedPolicy", "Properties": obj{"ManagedPolicyName": "mp", "PolicyDocument": policyDocument}},
	}
	wantRefusal(t, adversarial(t, load(t, res, nil)), "Role", "Policy", "NoSuchEntity",
		"Policy arn:aws:iam::000000000000:policy/mp does not exist or is not attachable.")
}

// modelResources is an API, a model and a route whose RequestModels name it.
func modelResources(dependsOn ...string) obj {
	route := obj{"Type": "AWS::ApiGatewayV2::Route", "Properties": obj{"ApiId": ref("Api"), "RouteKey": "send",
		"ModelSelectionExpression": "$request.body.action", "RequestModels": obj{"$default": "SendModel"}}}
	if len(dependsOn) > 0 {
		route["DependsOn"] = dependsOn
	}
	return obj{
		"Api": api(),
		"Model": obj{"Type": "AWS::ApiGatewayV2::Model", "Properties": obj{"ApiId": ref("Api"), "Name": "SendModel",
			"ContentType": "application/json", "Schema": obj{"type": "object"}}},
		"SendRoute": route,
	}
}

func TestRouteBeforeTheModelItNamesByName(t *testing.T) {
	r := wantRefusal(t, adversarial(t, load(t, modelResources(), nil)), "SendRoute", "Model", "NotFoundException",
		"The resource specified in the request was not found.")
	if !strings.Contains(r.Detail, `RequestModels["$default"] names model "SendModel"`) {
		t.Errorf("detail %q does not name the model", r.Detail)
	}
	if err := adversarial(t, load(t, modelResources("Model"), nil)); err != nil {
		t.Errorf("the route depends on its model: %v", err)
	}
}

func TestAPIChildrenBeforeWhatTheyNameByID(t *testing.T) {
	authorizerURI := "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:authz/invocations"
	ids := map[string]string{"Integration": "int1", "Authorizer": "auth1", "Route": "route1"}
	cases := []struct{ name, refused, missing string }{
		{"target", "Route", "Integration"},
		{"authorizer", "Route", "Authorizer"},
		{"route response", "Response", "Route"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := obj{
				"Api":   api(),
				"Route": obj{"Type": "AWS::ApiGatewayV2::Route", "Properties": obj{"ApiId": ref("Api"), "RouteKey": "$connect"}},
			}
			props := res["Route"].(obj)["Properties"].(obj)
			switch c.missing {
			case "Integration":
				props["Target"] = "integrations/int1"
				res["Integration"] = obj{"Type": "AWS::ApiGatewayV2::Integration", "Properties": obj{"ApiId": ref("Api"), "IntegrationType": "MOCK"}}
			case "Authorizer":
				props["AuthorizationType"], props["AuthorizerId"] = "CUSTOM", "auth1"
				res["Authorizer"] = obj{"Type": "AWS::ApiGatewayV2::Authorizer", "Properties": obj{"ApiId": ref("Api"),
					"AuthorizerType": "REQUEST", "Name": "authz", "AuthorizerUri": authorizerURI}}
			case "Route":
				res["Response"] = obj{"Type": "AWS::ApiGatewayV2::RouteResponse", "Properties": obj{"ApiId": ref("Api"),
					"RouteId": "route1", "RouteResponseKey": "$default"}}
			}
			wantRefusal(t, adversarial(t, load(t, res, ids)), c.refused, c.missing, "NotFoundException", "The resource specified in the request was not found.")
		})
	}
}

func TestOrderCloudFormationWouldNotChoose(t *testing.T) {
	st := load(t, obj{
		"A": obj{"Type": "AWS::SNS::Topic", "Properties": obj{}},
		"B": obj{"Type": "AWS::SNS::Topic", "Properties": obj{"DisplayName": getAtt("A", "TopicName")}},
	}, nil)
	r := refusal(t, deploy.Simulate(st, deploy.Order{Name: "hand-made", Waves: [][]string{{"B"}, {"A"}}}))
	if r.LogicalID != "B" || r.Missing != "A" || r.Code != "" || !strings.Contains(r.Message, "A (Fn::GetAtt)") {
		t.Errorf("refusal %+v: want B refused for want of A (Fn::GetAtt), with no service error", r)
	}
	// One wave: B does not see A, created at the same time.
	if err := deploy.Simulate(st, deploy.Order{Name: "one wave", Waves: [][]string{{"A", "B"}}}); err == nil {
		t.Error("B created in the same wave as A, which it needs: want a refusal")
	}
	for _, bad := range [][][]string{{{"A"}}, {{"A"}, {"B"}, {"A"}}, {{"A"}, {"B"}, {"C"}}} {
		if err := deploy.Simulate(st, deploy.Order{Name: "bad", Waves: bad}); err == nil || strings.Contains(err.Error(), "CREATE_FAILED") {
			t.Errorf("order %v: got %v, want an error about the order", bad, err)
		}
	}
}
