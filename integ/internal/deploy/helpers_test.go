package deploy_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/chatstack/websocketchatapi/integ/internal/assembly"
	"github.com/chatstack/websocketchatapi/integ/internal/deploy"
	"github.com/chatstack/websocketchatapi/integ/internal/golden"
)

// obj is a JSON object of a hand-written template.
type obj = map[string]any

// ref, getAtt and join write the intrinsics.
func ref(id string) obj          { return obj{"Ref": id} }
func getAtt(id, attr string) obj { return obj{"Fn::GetAtt": []any{id, attr}} }
func join(parts ...any) obj      { return obj{"Fn::Join": []any{"", parts}} }

// load writes resources as a template and resolves it (physical ids as given).
func load(t *testing.T, resources obj, physicalIDs map[string]string) *assembly.Stack {
	t.Helper()
	data, err := json.Marshal(obj{"Resources": resources})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "test.template.json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	st, err := assembly.LoadTemplate(path, assembly.Options{PhysicalIDs: physicalIDs})
	if err != nil {
		t.Fatalf("load the test template: %v", err)
	}
	return st
}

// api is a WebSocket API resource.
func api() obj {
	return obj{"Type": "AWS::ApiGatewayV2::Api", "Properties": obj{
		"Name": "test", "ProtocolType": "WEBSOCKET", "RouteSelectionExpression": "$request.body.action"}}
}

// role is an execution role for Lambda named name ("" lets CloudFormation name it).
func role(name string) obj {
	p := obj{"AssumeRolePolicyDocument": obj{"Version": "2012-10-17", "Statement": []any{
		obj{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": obj{"Service": "lambda.amazonaws.com"}}}}}
	if name != "" {
		p["RoleName"] = name
	}
	return obj{"Type": "AWS::IAM::Role", "Properties": p}
}

// function is a Lambda function whose Role is roleARN.
func function(name string, roleARN any) obj {
	p := obj{"Role": roleARN, "Runtime": "provided.al2023", "Handler": "bootstrap", "Code": obj{"ZipFile": "x"}}
	if name != "" {
		p["FunctionName"] = name
	}
	return obj{"Type": "AWS::Lambda::Function", "Properties": p}
}

// chatResources is a small WebSocket stack: an API, a $connect route (with its integration,
// function and role) and a stage whose RouteSettings name $connect, with dependsOn as the
// stage's DependsOn.
func chatResources(dependsOn ...string) obj {
	stage := obj{"Type": "AWS::ApiGatewayV2::Stage", "Properties": obj{
		"ApiId": ref("Api"), "StageName": "prod", "AutoDeploy": true,
		"RouteSettings": obj{"$connect": obj{"ThrottlingBurstLimit": 10, "ThrottlingRateLimit": 5}}}}
	if len(dependsOn) > 0 {
		stage["DependsOn"] = dependsOn
	}
	return obj{
		"Api":  api(),
		"Role": role(""),
		"Fn":   function("", getAtt("Role", "Arn")),
		"Integration": obj{"Type": "AWS::ApiGatewayV2::Integration", "Properties": obj{
			"ApiId": ref("Api"), "IntegrationType": "AWS_PROXY",
			"IntegrationUri": obj{"Fn::Sub": "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${Fn.Arn}/invocations"}}},
		"ConnectRoute": obj{"Type": "AWS::ApiGatewayV2::Route", "Properties": obj{
			"ApiId": ref("Api"), "RouteKey": "$connect", "Target": join("integrations/", ref("Integration"))}},
		"Stage": stage,
	}
}

// refusal returns err as a *deploy.Refusal, failing t when it is not one.
func refusal(t *testing.T, err error) *deploy.Refusal {
	t.Helper()
	var r *deploy.Refusal
	if !errors.As(err, &r) {
		t.Fatalf("got %v, want a *deploy.Refusal", err)
	}
	t.Logf("refused: %v", r)
	return r
}

// graph builds st's graph, failing t on error.
func graph(t *testing.T, st *assembly.Stack) *deploy.Graph {
	t.Helper()
	g, err := deploy.NewGraph(st.Resources)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// goldenTemplate returns the reference template as JSON objects (numbers kept as written).
func goldenTemplate(t *testing.T) obj {
	t.Helper()
	data, err := os.ReadFile(golden.Path(t))
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var tpl obj
	if err := dec.Decode(&tpl); err != nil {
		t.Fatal(err)
	}
	return tpl
}

// writeTemplate writes tpl into a temporary file and resolves it as the reference stack.
func writeTemplate(t *testing.T, tpl obj) *assembly.Stack {
	t.Helper()
	data, err := json.Marshal(tpl)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "reference.template.json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	st, err := assembly.LoadTemplate(path, assembly.Options{StackName: golden.StackName})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// stageIDs returns the logical ids of the template's WebSocket stages.
func stageIDs(tpl obj) []string {
	var out []string
	for id, r := range tpl["Resources"].(obj) {
		if r.(obj)["Type"] == "AWS::ApiGatewayV2::Stage" {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// withoutRouteDependencies removes from each stage's DependsOn the routes its RouteSettings
// name (by key) and what CDK made under them (their integrations, whose logical ids start as
// the route's does, before its 8-character hash): the template as the construct made it
// before the stage depended on its routes. It returns the removed logical ids.
func withoutRouteDependencies(t *testing.T, tpl obj) []string {
	t.Helper()
	resources := tpl["Resources"].(obj)
	routeByKey := map[string]string{}
	for id, r := range resources {
		if r := r.(obj); r["Type"] == "AWS::ApiGatewayV2::Route" {
			routeByKey[r["Properties"].(obj)["RouteKey"].(string)] = id
		}
	}
	var removed []string
	for _, sid := range stageIDs(tpl) {
		stage := resources[sid].(obj)
		settings, _ := stage["Properties"].(obj)["RouteSettings"].(obj)
		deps, _ := stage["DependsOn"].([]any)
		kept := []any{}
		for _, d := range deps {
			id := d.(string)
			named := false
			for key := range settings {
				if rid := routeByKey[key]; rid != "" && strings.HasPrefix(id, rid[:len(rid)-8]) {
					named = true
				}
			}
			if named {
				removed = append(removed, id)
				continue
			}
			kept = append(kept, d)
		}
		stage["DependsOn"] = kept
	}
	if len(removed) == 0 {
		t.Fatal("no stage of the reference template depends on a route its RouteSettings name")
	}
	slices.Sort(removed)
	return removed
}
