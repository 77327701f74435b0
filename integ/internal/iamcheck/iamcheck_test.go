package iamcheck_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/chatstack/websocketchatapi/integ/internal/assembly"
	"github.com/chatstack/websocketchatapi/integ/internal/golden"
	"github.com/chatstack/websocketchatapi/integ/internal/iamcheck"
)

// Logical ids of the reference stack's publish queue and its dead-letter queue.
const (
	publishQueue    = "ChatPublishQueueA4D93581"
	deadLetterQueue = "ChatPublishDeadLetterQueue3229A84B"
)

// access is an action on a resource and whether a policy must allow it.
type access struct {
	action, resource string
	allowed          bool
}

// checkAccess reports every access that p decides otherwise.
func checkAccess(t *testing.T, p *iamcheck.Policy, cases []access) {
	t.Helper()
	for _, c := range cases {
		if d := p.Allowed(c.action, c.resource); d.Allowed != c.allowed {
			t.Errorf("%s on %s: allowed = %v, want %v (%s)", c.action, c.resource, d.Allowed, c.allowed, d)
		}
	}
}

// policyOf returns the policy of the function's role.
func policyOf(t *testing.T, st *assembly.Stack, fn string) *iamcheck.Policy {
	t.Helper()
	p, err := iamcheck.ForFunction(st.Functions[fn])
	if err != nil {
		t.Fatalf("ForFunction(%s): %v", fn, err)
	}
	return p
}

// logsARN is the ARN of a log group, or of a stream in it when stream is not "".
func logsARN(st *assembly.Stack, group, stream string) string {
	res := "log-group:" + group
	if stream != "" {
		res += ":log-stream:" + stream
	}
	return st.Env.ARN("logs", st.Env.Region, st.Env.AccountID, res)
}

// onlyPolicy returns the one policy document attached to the function's role.
func onlyPolicy(t *testing.T, st *assembly.Stack, fn string) assembly.AttachedPolicy {
	t.Helper()
	r := st.Functions[fn].Role
	if r == nil || len(r.Policies) != 1 {
		t.Fatalf("%s role = %+v, want one with one policy", fn, r)
	}
	return r.Policies[0]
}

func TestChatRole(t *testing.T) {
	st := golden.Load(t, assembly.Options{})
	p := policyOf(t, st, golden.ChatFunction)
	table := st.Tables[golden.Table].ARN
	api := st.API()
	own, other := st.Functions[golden.ChatFunction].LogGroup, st.Functions[golden.ConnectFunction].LogGroup
	queue, dlq := st.Queues[publishQueue], st.Queues[deadLetterQueue]
	if queue == nil || dlq == nil {
		t.Fatalf("queues %v, want %s and %s", st.Queues, publishQueue, deadLetterQueue)
	}
	checkAccess(t, p, []access{
		{"dynamodb:Query", table + "/index/byRoom", true},
		{"dynamodb:Query", table + "/index/byUser", true},
		{"dynamodb:Query", table, true},
		{"dynamodb:PutItem", table, true},
		{"dynamodb:UpdateItem", table, true},
		{"dynamodb:DeleteItem", table, true},
		{"dynamodb:BatchWriteItem", table, true},
		{"DynamoDB:getitem", table, true},
		{"dynamodb:Scan", table, false},
		{"dynamodb:DeleteTable", table, false},
		{"dynamodb:BatchGetItem", table, false},
		{"dynamodb:Query", table + "/index/other", false},
		{"dynamodb:Scan", table + "/index/byRoom", false},
		{"dynamodb:GetItem", table + "/index/byRoom", false},
		{"dynamodb:Scan", table + "/index/byUser", false},
		{"dynamodb:PutItem", st.Env.TableARN("OtherTable"), false},
		// It queues large rooms' fan-out shards; the publish function consumes them.
		{"sqs:SendMessage", queue.ARN, true},
		{"sqs:SendMessage", dlq.ARN, false},
		{"sqs:ReceiveMessage", queue.ARN, false},
		{"sqs:DeleteMessage", queue.ARN, false},
		{"sqs:PurgeQueue", queue.ARN, false},
		{"sqs:SendMessage", st.Env.ARN("sqs", st.Env.Region, st.Env.AccountID, "OtherQueue"), false},
		{"logs:CreateLogStream", logsARN(st, own, "y"), true},
		{"logs:PutLogEvents", logsARN(st, own, "y"), true},
		{"logs:PutLogEvents", logsARN(st, other, "y"), false},
		{"logs:PutLogEvents", logsARN(st, own+"-x", "y"), false},
		{"logs:CreateLogGroup", logsARN(st, "/aws/lambda/"+st.Functions[golden.ChatFunction].Name, ""), false},
		{"logs:DeleteLogGroup", logsARN(st, own, ""), false},
	})
	for _, c := range []struct {
		method, stage string
		allowed       bool
	}{
		{"POST", "prod", true},
		{"DELETE", "prod", false},
		{"GET", "prod", false},
		{"POST", "dev", false},
	} {
		chk, err := iamcheck.ConnectionsCheck(st.Env, api.ID, c.method, "/"+c.stage+"/@connections/abc123%3D")
		if err != nil {
			t.Fatal(err)
		}
		d := p.Allowed(chk.Action, chk.Resource)
		if d.Allowed != c.allowed {
			t.Errorf("%s /%s/@connections: allowed = %v, want %v (%s)", c.method, c.stage, d.Allowed, c.allowed, d)
		}
	}
	// The index queries are allowed by the statement naming the two indexes, not by a wildcard.
	pol := onlyPolicy(t, st, golden.ChatFunction)
	idx := slices.IndexFunc(pol.Document.Statements, func(s assembly.Statement) bool {
		return slices.Equal(s.Resource, []string{table + "/index/byRoom", table + "/index/byUser"})
	})
	for _, index := range []string{"byRoom", "byUser"} {
		d := p.Allowed("dynamodb:Query", table+"/index/"+index)
		if want := fmt.Sprintf("policy %s statement %d", pol.Name, idx); idx < 0 || d.Statement != want {
			t.Errorf("%s: allowing statement = %q, want %q", index, d.Statement, want)
		}
	}
}

func TestConnectRoleMessage(t *testing.T) {
	st := golden.Load(t, assembly.Options{})
	p := policyOf(t, st, golden.ConnectFunction)
	table := st.Tables[golden.Table].ARN
	if d := p.Allowed("dynamodb:PutItem", table); !d.Allowed {
		t.Errorf("connect PutItem denied: %s", d)
	}
	d := p.Allowed("dynamodb:Query", table)
	want := "User: arn:aws:sts::000000000000:assumed-role/WebSocketChatApi-" + st.Functions[golden.ConnectFunction].RoleLogicalID + "/WebSocketChatApi-ChatConnectFunctionFC713592" +
		" is not authorized to perform: dynamodb:Query on resource: arn:aws:dynamodb:us-east-1:000000000000:table/WebSocketChatApi-ChatTable4603252B" +
		" because no identity-based policy allows the dynamodb:Query action"
	if d.Allowed || d.ExplicitDeny || d.Reason != want {
		t.Errorf("connect Query: allowed %v explicit %v reason\n%q\nwant\n%q", d.Allowed, d.ExplicitDeny, d.Reason, want)
	}
}

func TestDefaultRoleHasNoDynamoDB(t *testing.T) {
	st := golden.Load(t, assembly.Options{})
	p := policyOf(t, st, golden.DefaultFunction)
	fn := st.Functions[golden.DefaultFunction]
	own := logsARN(st, fn.LogGroup+":*", "")
	pol := onlyPolicy(t, st, golden.DefaultFunction)
	want := []assembly.Statement{{Effect: "Allow", Action: []string{"logs:CreateLogStream", "logs:PutLogEvents"}, Resource: []string{own}}}
	if len(p.Documents) != 1 || p.Documents[0].Name != pol.Name || !reflect.DeepEqual(p.Documents[0].Document.Statements, want) {
		t.Errorf("default role documents = %+v, want only %s allowing %+v", p.Documents, pol.Name, want)
	}
	table := st.Tables[golden.Table].ARN
	for _, a := range []string{"PutItem", "GetItem", "DeleteItem", "UpdateItem", "Query", "Scan", "BatchWriteItem", "BatchGetItem", "DescribeTable"} {
		for _, r := range []string{table, table + "/index/byRoom", "*"} {
			if d := p.Allowed("dynamodb:"+a, r); d.Allowed {
				t.Errorf("default role allowed dynamodb:%s on %s", a, r)
			}
		}
	}
	if d := p.Allowed("logs:CreateLogStream", logsARN(st, fn.LogGroup, "2026/01/01/[$LATEST]abc")); !d.Allowed {
		t.Errorf("default role may not create a stream in its log group: %s", d)
	}
	if d := p.Allowed("logs:CreateLogStream", logsARN(st, "/aws/lambda/"+fn.Name, "x")); d.Allowed {
		t.Errorf("default role may create streams in /aws/lambda/%s, want its own log group only", fn.Name)
	}
}

// TestLogsOwnGroupOnly checks that each function writes to its own log group and to no other.
func TestLogsOwnGroupOnly(t *testing.T) {
	st := golden.Load(t, assembly.Options{})
	fns := st.SortedFunctions()
	if len(fns) != 6 {
		t.Fatalf("%d functions, want 6", len(fns))
	}
	for _, fn := range fns {
		p := policyOf(t, st, fn.LogicalID)
		for _, other := range fns {
			for _, a := range []string{"logs:CreateLogStream", "logs:PutLogEvents"} {
				d := p.Allowed(a, logsARN(st, other.LogGroup, "s"))
				if d.Allowed != (other == fn) {
					t.Errorf("%s %s in %s's log group: allowed = %v, want %v (%s)", fn.LogicalID, a, other.LogicalID, d.Allowed, other == fn, d)
				}
			}
		}
		for _, a := range []string{"logs:CreateLogGroup", "logs:DeleteLogGroup", "logs:PutRetentionPolicy"} {
			if d := p.Allowed(a, logsARN(st, fn.LogGroup, "")); d.Allowed {
				t.Errorf("%s may %s its log group: %s", fn.LogicalID, a, d)
			}
		}
	}
}

// TestDisconnectRole checks the disconnect function's exact grants: its connection's items, the
// room index (to tell its rooms it left) and POST to this stage's connections, nothing more.
func TestDisconnectRole(t *testing.T) {
	st := golden.Load(t, assembly.Options{})
	p := policyOf(t, st, golden.DisconnectFunction)
	table := st.Tables[golden.Table].ARN
	checkAccess(t, p, []access{
		{"dynamodb:Query", table, true},
		{"dynamodb:BatchWriteItem", table, true},
		{"dynamodb:Query", table + "/index/byRoom", true},
		{"dynamodb:Query", table + "/index/other", false},
		{"dynamodb:DeleteItem", table, false},
		{"dynamodb:PutItem", table, false},
		{"dynamodb:Scan", table, false},
	})
	for method, allowed := range map[string]bool{"POST": true, "DELETE": false, "GET": false} {
		chk, err := iamcheck.ConnectionsCheck(st.Env, st.API().ID, method, "/prod/@connections/abc")
		if err != nil {
			t.Fatal(err)
		}
		if d := p.Allowed(chk.Action, chk.Resource); d.Allowed != allowed {
			t.Errorf("disconnect %s @connections: allowed = %v, want %v (%s)", method, d.Allowed, allowed, d)
		}
	}
}

func TestUnknownManagedPolicyIsAnError(t *testing.T) {
	role := &assembly.Role{LogicalID: "R", Name: "r", ManagedPolicyARNs: []string{"arn:aws:iam::aws:policy/AdministratorAccess"}}
	if _, err := iamcheck.ForRole(role, "p"); err == nil || !strings.Contains(err.Error(), "AdministratorAccess") {
		t.Errorf("ForRole error = %v, want one naming AdministratorAccess", err)
	}
	if _, err := iamcheck.ForFunction(&assembly.Function{LogicalID: "F", RoleARN: "arn:aws:iam::1:role/x"}); err == nil {
		t.Error("ForFunction without a role in the stack succeeded")
	}
}

// doc builds an attached policy from a JSON policy document.
func doc(t *testing.T, name, js string) assembly.AttachedPolicy {
	t.Helper()
	d, err := assembly.ParsePolicyDocument(js)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return assembly.AttachedPolicy{Name: name, Document: d}
}

func TestDenyBeatsAllow(t *testing.T) {
	const principal = "arn:aws:sts::000000000000:assumed-role/r/s"
	allowAll := doc(t, "AllowAll", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"dynamodb:*","Resource":"*"}]}`)
	deny := doc(t, "DenyDelete", `{"Version":"2012-10-17","Statement":[{"Sid":"NoDeletes","Effect":"Deny","Action":["dynamodb:DeleteItem","dynamodb:Batch*"],"Resource":"arn:aws:dynamodb:*:*:table/X"}]}`)
	for _, order := range [][]assembly.AttachedPolicy{{allowAll, deny}, {deny, allowAll}} {
		p := iamcheck.NewPolicy(principal, order...)
		d := p.Allowed("dynamodb:DeleteItem", "arn:aws:dynamodb:us-east-1:000000000000:table/X")
		want := "User: " + principal + " is not authorized to perform: dynamodb:DeleteItem on resource: arn:aws:dynamodb:us-east-1:000000000000:table/X with an explicit deny in an identity-based policy"
		if d.Allowed || !d.ExplicitDeny || d.Reason != want || !strings.Contains(d.Statement, "NoDeletes") {
			t.Errorf("order %s first: %+v", order[0].Name, d)
		}
		if d := p.Allowed("dynamodb:BatchWriteItem", "arn:aws:dynamodb:us-east-1:000000000000:table/X"); d.Allowed {
			t.Errorf("Batch* deny did not apply: %s", d)
		}
		if d := p.Allowed("dynamodb:DeleteItem", "arn:aws:dynamodb:us-east-1:000000000000:table/Y"); !d.Allowed {
			t.Errorf("DeleteItem on Y denied: %s", d)
		}
		if d := p.Allowed("dynamodb:PutItem", "arn:aws:dynamodb:us-east-1:000000000000:table/X"); !d.Allowed {
			t.Errorf("PutItem on X denied: %s", d)
		}
	}
	p := iamcheck.NewPolicy(principal, allowAll, deny)
	d := p.AllowedAll([]iamcheck.Check{
		{Action: "dynamodb:PutItem", Resource: "arn:aws:dynamodb:us-east-1:000000000000:table/X"},
		{Action: "dynamodb:DeleteItem", Resource: "arn:aws:dynamodb:us-east-1:000000000000:table/X"},
	})
	if d.Allowed || d.Action != "dynamodb:DeleteItem" {
		t.Errorf("AllowedAll = %+v, want the DeleteItem denial", d)
	}
	if d := p.AllowedAll(nil); d.Allowed {
		t.Error("AllowedAll(nil) allowed")
	}
}

func TestNotActionNotResource(t *testing.T) {
	p := iamcheck.NewPolicy("p",
		doc(t, "A", `{"Statement":[{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}]}`),
		doc(t, "B", `{"Statement":[{"Effect":"Deny","Action":"dynamodb:*","NotResource":["arn:aws:dynamodb:us-east-1:1:table/public","arn:aws:dynamodb:us-east-1:1:table/public/index/*"]}]}`),
	)
	checkAccess(t, p, []access{
		{"s3:GetObject", "arn:aws:s3:::b/k", true},
		{"iam:CreateRole", "*", false},
		{"IAM:createrole", "*", false},
		{"dynamodb:GetItem", "arn:aws:dynamodb:us-east-1:1:table/public", true},
		{"dynamodb:Query", "arn:aws:dynamodb:us-east-1:1:table/public/index/byRoom", true},
		{"dynamodb:GetItem", "arn:aws:dynamodb:us-east-1:1:table/secret", false},
	})
}

func TestConditionsFailClosed(t *testing.T) {
	res := "arn:aws:dynamodb:us-east-1:1:table/T"
	allow := iamcheck.NewPolicy("p", doc(t, "C", `{"Statement":[{"Effect":"Allow","Action":"dynamodb:GetItem","Resource":"*",
		"Condition":{"ForAllValues:StringEquals":{"dynamodb:LeadingKeys":["${aws:userid}"]}}}]}`))
	d := allow.Allowed("dynamodb:GetItem", res)
	if d.Allowed || len(d.Notes) != 1 || !strings.Contains(d.Notes[0], "ForAllValues:StringEquals") || !strings.Contains(d.Notes[0], "fail closed") {
		t.Errorf("conditional allow: %+v", d)
	}
	if !strings.Contains(d.String(), "fail closed") {
		t.Errorf("String() = %q, want the note", d.String())
	}
	deny := iamcheck.NewPolicy("p",
		doc(t, "A", `{"Statement":[{"Effect":"Allow","Action":"dynamodb:*","Resource":"*"}]}`),
		doc(t, "D", `{"Statement":[{"Effect":"Deny","Action":"dynamodb:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`))
	if d := deny.Allowed("dynamodb:GetItem", res); d.Allowed || !d.ExplicitDeny || len(d.Notes) != 1 {
		t.Errorf("conditional deny: %+v", d)
	}
	vars := iamcheck.NewPolicy("p", doc(t, "V", `{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/${aws:username}/*"}]}`))
	if d := vars.Allowed("s3:GetObject", "arn:aws:s3:::b/${aws:username}/k"); d.Allowed || len(d.Notes) != 1 || !strings.Contains(d.Notes[0], "policy variable") {
		t.Errorf("policy variable: %+v", d)
	}
}

func TestWildcards(t *testing.T) {
	fns := map[string]func(pattern, s string) bool{
		"Match": iamcheck.Match, "ActionMatches": iamcheck.ActionMatches, "ResourceMatches": iamcheck.ResourceMatches,
	}
	for _, c := range []struct {
		fn, pattern, s string
		want           bool
	}{
		{"Match", "*", "", true},
		{"Match", "*", "anything/at:all", true},
		{"Match", "a*c", "abc", true},
		{"Match", "a*c", "ac", true},
		{"Match", "a*c", "abd", false},
		{"Match", "a?c", "abc", true},
		{"Match", "a?c", "ac", false},
		{"Match", "a?c", "aéc", true},
		{"Match", "a*b*c", "aXXbYYc", true},
		{"Match", "a*b*c", "aXXcYYb", false},
		{"Match", "**x", "abx", true},
		{"Match", "abc", "ABC", false},
		{"Match", "", "", true},
		{"Match", "", "a", false},
		{"ActionMatches", "DynamoDB:get*", "dynamodb:GetItem", true},
		{"ActionMatches", "dynamodb:Get?tem", "dynamodb:GetItem", true},
		{"ActionMatches", "dynamodb:Get*", "dynamodb:BatchGetItem", false},
		{"ActionMatches", "s3:*", "S3:GETOBJECT", true},
		{"ActionMatches", "*", "execute-api:ManageConnections", true},
		{"ActionMatches", "execute-api:Manage*", "execute-api:Invoke", false},
		{"ResourceMatches", "arn:aws:dynamodb:*:*:table/X", "arn:aws:dynamodb:us-east-1:1:table/X", true},
		{"ResourceMatches", "arn:aws:dynamodb:*:*:table/X", "arn:aws:dynamodb:us-east-1:1:table/x", false},
		{"ResourceMatches", "arn:aws:dynamodb:*:*:table/X", "arn:aws:dynamodb:us-east-1:1:table/X/index/i", false},
		{"ResourceMatches", "arn:aws:dynamodb:*:*:table/X/index/*", "arn:aws:dynamodb:us-east-1:1:table/X/index/i", true},
		{"ResourceMatches", "arn:aws:execute-api:us-east-1:1:api/prod/POST/@connections/*", "arn:aws:execute-api:us-east-1:1:api/prod/POST/@connections/ab=", true},
		{"ResourceMatches", "arn:aws:execute-api:us-east-1:1:api/prod/POST/@connections/*", "arn:aws:execute-api:us-east-1:1:api/prod/DELETE/@connections/ab=", false},
		{"ResourceMatches", "arn:aws:execute-api:us-east-1:1:api/prod/*", "arn:aws:execute-api:us-east-1:1:api/prod/$connect", true},
		// A * in the region segment does not reach into the account segment.
		{"ResourceMatches", "arn:aws:s3:*:123:x", "arn:aws:s3:a:b:123:x", false},
		{"ResourceMatches", "arn:aws:logs:us-east-1:1:log-group:*", "arn:aws:logs:us-east-1:1:log-group:g:log-stream:s", true},
	} {
		if got := fns[c.fn](c.pattern, c.s); got != c.want {
			t.Errorf("%s(%q, %q) = %v, want %v", c.fn, c.pattern, c.s, got, c.want)
		}
	}
}

func TestDynamoDBChecks(t *testing.T) {
	env := assembly.Env{Region: "us-east-1", AccountID: "000000000000", Partition: "aws", URLSuffix: "amazonaws.com"}
	tbl := func(n string) string { return "arn:aws:dynamodb:us-east-1:000000000000:table/" + n }
	for _, c := range []struct {
		op, body string
		want     []iamcheck.Check
	}{
		{"PutItem", `{"TableName":"T","Item":{}}`, []iamcheck.Check{{Action: "dynamodb:PutItem", Resource: tbl("T")}}},
		{"Query", `{"TableName":"T","IndexName":"byRoom"}`, []iamcheck.Check{{Action: "dynamodb:Query", Resource: tbl("T") + "/index/byRoom"}}},
		{"Scan", `{"TableName":"T"}`, []iamcheck.Check{{Action: "dynamodb:Scan", Resource: tbl("T")}}},
		{"GetItem", `{"TableName":"arn:aws:dynamodb:eu-west-1:1:table/Z"}`, []iamcheck.Check{{Action: "dynamodb:GetItem", Resource: "arn:aws:dynamodb:eu-west-1:1:table/Z"}}},
		{"BatchWriteItem", `{"RequestItems":{"B":[],"A":[]}}`, []iamcheck.Check{{Action: "dynamodb:BatchWriteItem", Resource: tbl("A")}, {Action: "dynamodb:BatchWriteItem", Resource: tbl("B")}}},
		{"BatchGetItem", `{"RequestItems":{"A":{}}}`, []iamcheck.Check{{Action: "dynamodb:BatchGetItem", Resource: tbl("A")}}},
		{"TransactWriteItems", `{"TransactItems":[{"Put":{"TableName":"A"}},{"Update":{"TableName":"B"}},{"Delete":{"TableName":"A"}},{"ConditionCheck":{"TableName":"B"}},{"Put":{"TableName":"A"}}]}`,
			[]iamcheck.Check{{Action: "dynamodb:PutItem", Resource: tbl("A")}, {Action: "dynamodb:UpdateItem", Resource: tbl("B")},
				{Action: "dynamodb:DeleteItem", Resource: tbl("A")}, {Action: "dynamodb:ConditionCheckItem", Resource: tbl("B")}}},
		{"TransactGetItems", `{"TransactItems":[{"Get":{"TableName":"A"}}]}`, []iamcheck.Check{{Action: "dynamodb:GetItem", Resource: tbl("A")}}},
		{"ListTables", `{}`, []iamcheck.Check{{Action: "dynamodb:ListTables", Resource: "*"}}},
	} {
		got, err := iamcheck.DynamoDBChecks(env, "DynamoDB_20120810."+c.op, []byte(c.body))
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("%s: %v, %v; want %v", c.op, got, err, c.want)
		}
	}
	for _, c := range []struct{ target, body, want string }{
		{"DynamoDB_20120810.GetItem", `{}`, "no TableName"},
		{"DynamoDB_20120810.GetItem", `{`, "body"},
		{"Kinesis_20131202.PutRecord", `{}`, "X-Amz-Target"},
		{"DynamoDB_20120810.BatchWriteItem", `{}`, "no RequestItems"},
		{"DynamoDB_20120810.TransactWriteItems", `{"TransactItems":[{"Frob":{"TableName":"A"}}]}`, "unknown operation"},
	} {
		if _, err := iamcheck.DynamoDBChecks(env, c.target, []byte(c.body)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %s: error %v, want one containing %q", c.target, c.body, err, c.want)
		}
	}
}

func TestConnectionsCheck(t *testing.T) {
	env := assembly.Env{Region: "eu-west-1", AccountID: "123456789012", Partition: "aws"}
	for _, m := range []string{"POST", "get", "DELETE"} {
		c, err := iamcheck.ConnectionsCheck(env, "abc", m, "/prod/@connections/L0SM9cOFvHcCIhw%3D")
		want := "arn:aws:execute-api:eu-west-1:123456789012:abc/prod/" + strings.ToUpper(m) + "/@connections/L0SM9cOFvHcCIhw="
		if err != nil || c.Action != "execute-api:ManageConnections" || c.Resource != want {
			t.Errorf("%s: %+v %v, want resource %s", m, c, err, want)
		}
	}
	for _, c := range []struct{ method, path string }{
		{"PUT", "/prod/@connections/x"},
		{"POST", "/prod/connections/x"},
		{"POST", "/prod/@connections/"},
		{"POST", "/@connections/x"},
		{"POST", "/prod/@connections/x/y"},
	} {
		if _, err := iamcheck.ConnectionsCheck(env, "abc", c.method, c.path); err == nil {
			t.Errorf("%s %s accepted", c.method, c.path)
		}
	}
}

func TestSigV4Credential(t *testing.T) {
	h := "AWS4-HMAC-SHA256 Credential=AKIACHAT0001/20261121/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc"
	c, err := iamcheck.ParseAuthorization(h)
	if err != nil || c != (iamcheck.Credential{AccessKeyID: "AKIACHAT0001", Date: "20261121", Region: "us-east-1", Service: "dynamodb"}) {
		t.Errorf("ParseAuthorization = %+v, %v", c, err)
	}
	if id, err := iamcheck.AccessKeyID(h); err != nil || id != "AKIACHAT0001" {
		t.Errorf("AccessKeyID = %q, %v", id, err)
	}
	c, err = iamcheck.ParseAuthorization("AWS4-ECDSA-P256-SHA256 Credential=AKIA4A/20261121/execute-api/aws4_request, SignedHeaders=host, Signature=x")
	if err != nil || c.AccessKeyID != "AKIA4A" || c.Region != "" || c.Service != "execute-api" {
		t.Errorf("SigV4a = %+v, %v", c, err)
	}
	for _, bad := range []string{"", "Bearer x", "AWS4-HMAC-SHA256 SignedHeaders=host", "AWS4-HMAC-SHA256 Credential=AKIA/20261121/us-east-1/dynamodb"} {
		if _, err := iamcheck.ParseAuthorization(bad); err == nil {
			t.Errorf("ParseAuthorization(%q) accepted", bad)
		}
	}
	r := httptest.NewRequest("GET", "/prod/@connections/x?X-Amz-Credential="+url.QueryEscape("AKIAPRE/20261121/us-east-1/execute-api/aws4_request"), nil)
	if c, err := iamcheck.RequestCredential(r); err != nil || c.AccessKeyID != "AKIAPRE" {
		t.Errorf("presigned = %+v, %v", c, err)
	}
	if _, err := iamcheck.RequestCredential(httptest.NewRequest("GET", "/", nil)); err == nil {
		t.Error("unsigned request accepted")
	}
}

func TestInvokeAllowed(t *testing.T) {
	st := golden.Load(t, assembly.Options{})
	api := st.API()
	chat := st.Functions[golden.ChatFunction]
	src := func(rest string) string { return st.Env.ExecuteAPIARN(api.ID, rest) }
	if d := iamcheck.InvokeAllowed(chat, st.Permissions, "apigateway.amazonaws.com", src("prod/sendmessage"), ""); !d.Allowed {
		t.Errorf("API Gateway may not invoke chat from prod/sendmessage: %s", d)
	}
	if d := iamcheck.InvokeAllowed(chat, st.Permissions, "apigateway.amazonaws.com", src("dev/sendmessage"), ""); d.Allowed {
		t.Error("chat invocable from stage dev")
	}
	if d := iamcheck.InvokeAllowed(chat, st.Permissions, "events.amazonaws.com", src("prod/sendmessage"), ""); d.Allowed {
		t.Error("chat invocable by events.amazonaws.com")
	}
	auth := st.Functions[golden.AuthorizerFunction]
	authzID := api.Route("$connect").Authorizer.ID
	if d := iamcheck.InvokeAllowed(auth, st.Permissions, "apigateway.amazonaws.com", src("authorizers/"+authzID), ""); !d.Allowed {
		t.Errorf("authorizer not invocable as authorizer: %s", d)
	}
	if d := iamcheck.InvokeAllowed(auth, st.Permissions, "apigateway.amazonaws.com", src("prod/$connect"), ""); d.Allowed || !strings.Contains(d.Reason, "resource-based policy") {
		t.Errorf("authorizer invocable from a route: %+v", d)
	}
}

// backend is a loopback stand-in for DynamoDB that records what reaches it.
type backend struct {
	mu      sync.Mutex
	targets []string
	bodies  []string
}

func (b *backend) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	b.mu.Lock()
	b.targets = append(b.targets, r.Header.Get("X-Amz-Target"))
	b.bodies = append(b.bodies, string(body))
	b.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	_, _ = io.WriteString(w, `{}`)
}

func (b *backend) seen() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.targets...)
}

func TestDynamoDBProxy(t *testing.T) {
	st := golden.Load(t, assembly.Options{})
	be := &backend{}
	backendSrv := httptest.NewServer(be)
	defer backendSrv.Close()
	target, _ := url.Parse(backendSrv.URL)
	var mu sync.Mutex
	var decisions []iamcheck.Decision
	proxy, err := iamcheck.NewDynamoDBProxy(iamcheck.ProxyConfig{
		Target: target,
		Env:    st.Env,
		Lookup: func(key string) (*iamcheck.Policy, bool) {
			p, ok := map[string]*iamcheck.Policy{
				"AKIACHAT": policyOf(t, st, golden.ChatFunction),
				"AKIADEF":  policyOf(t, st, golden.DefaultFunction),
			}[key]
			return p, ok
		},
		Observe: func(_ *http.Request, d iamcheck.Decision) {
			mu.Lock()
			decisions = append(decisions, d)
			mu.Unlock()
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	proxySrv := httptest.NewServer(proxy)
	defer proxySrv.Close()

	client := func(akid string) *dynamodb.Client {
		return dynamodb.New(dynamodb.Options{
			Region:           "us-east-1",
			BaseEndpoint:     aws.String(proxySrv.URL),
			Credentials:      credentials.NewStaticCredentialsProvider(akid, "secret", ""),
			RetryMaxAttempts: 1,
		})
	}
	ctx := context.Background()
	table := st.Tables[golden.Table].Name
	item := map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "CONN#1"}, "sk": &types.AttributeValueMemberS{Value: "CONN"}}

	if _, err := client("AKIACHAT").PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item}); err != nil {
		t.Fatalf("chat PutItem: %v", err)
	}
	if got := be.seen(); !slices.Equal(got, []string{"DynamoDB_20120810.PutItem"}) {
		t.Fatalf("backend saw %v, want the PutItem", got)
	}
	if !strings.Contains(be.bodies[0], `"TableName":"`+table+`"`) {
		t.Errorf("forwarded body = %s", be.bodies[0])
	}

	_, err = client("AKIADEF").PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item})
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "AccessDeniedException" {
		t.Fatalf("default PutItem error = %v, want AccessDeniedException", err)
	}
	want := "User: " + st.Functions[golden.DefaultFunction].SessionARN + " is not authorized to perform: dynamodb:PutItem on resource: " +
		st.Tables[golden.Table].ARN + " because no identity-based policy allows the dynamodb:PutItem action"
	if apiErr.ErrorMessage() != want {
		t.Errorf("message = %q, want %q", apiErr.ErrorMessage(), want)
	}
	_, err = client("AKIACHAT").Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(table)})
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "AccessDeniedException" ||
		!strings.HasSuffix(apiErr.ErrorMessage(), "because no identity-based policy allows the dynamodb:Scan action") {
		t.Errorf("chat Scan error = %v, want AccessDeniedException for dynamodb:Scan", err)
	}
	_, err = client("AKIANOBODY").GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: item})
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "UnrecognizedClientException" {
		t.Errorf("unknown key error = %v, want UnrecognizedClientException", err)
	}
	if got := be.seen(); len(got) != 1 {
		t.Errorf("backend saw %v, want only the allowed PutItem", got)
	}
	mu.Lock()
	if len(decisions) != 3 || !decisions[0].Allowed || decisions[1].Allowed || decisions[2].Allowed {
		t.Errorf("decisions = %+v", decisions)
	}
	mu.Unlock()

	resp, err := http.Post(proxySrv.URL, "application/x-amz-json-1.0", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]string
	_ = json.NewDecoder(resp.Body).Decode(&body)
	if resp.StatusCode != http.StatusBadRequest || body["__type"] != "com.amazon.coral.service#MissingAuthenticationTokenException" ||
		resp.Header.Get("Content-Type") != "application/x-amz-json-1.0" {
		t.Errorf("unsigned request: %d %v", resp.StatusCode, body)
	}
	if _, err := iamcheck.NewDynamoDBProxy(iamcheck.ProxyConfig{}); err == nil {
		t.Error("NewDynamoDBProxy without target succeeded")
	}
}
