package iamcheck

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"

	"github.com/chatstack/websocketchatapi/integ/internal/assembly"
)

// DynamoDBTargetPrefix is the X-Amz-Target prefix of DynamoDB's JSON protocol.
const DynamoDBTargetPrefix = "DynamoDB_20120810."

// DynamoDBChecks returns what IAM checks for a DynamoDB JSON-protocol request, given its
// X-Amz-Target header (e.g. DynamoDB_20120810.PutItem) and body:
//   - an item or table operation: dynamodb:<Operation> on the table ARN built from TableName
//     (a TableName that is already an ARN is used as is);
//   - Query and Scan with IndexName: on <table ARN>/index/<IndexName>;
//   - BatchWriteItem and BatchGetItem: dynamodb:<Operation> on every table of RequestItems;
//   - TransactWriteItems and TransactGetItems: the underlying dynamodb:PutItem, UpdateItem,
//     DeleteItem, ConditionCheckItem or GetItem on each item's table, as AWS documents;
//   - operations without a table (ListTables, DescribeLimits, ...): dynamodb:<Operation> on "*".
func DynamoDBChecks(env assembly.Env, target string, body []byte) ([]Check, error) {
	op, ok := strings.CutPrefix(target, DynamoDBTargetPrefix)
	if !ok || op == "" {
		return nil, fmt.Errorf("dynamodb request: X-Amz-Target %q is not %s<Operation>", target, DynamoDBTargetPrefix)
	}
	var req struct {
		TableName     string
		IndexName     string
		ResourceArn   string
		RequestItems  map[string]json.RawMessage
		TransactItems []map[string]struct{ TableName string }
	}
	if len(body) > 0 {
		if err := json.Unmarshal(body, &req); err != nil {
			return nil, fmt.Errorf("dynamodb %s: body: %w", op, err)
		}
	}
	tableARN := func(name string) string {
		if strings.HasPrefix(name, "arn:") {
			return name
		}
		return env.TableARN(name)
	}
	action := "dynamodb:" + op
	switch op {
	case "BatchWriteItem", "BatchGetItem":
		return batchChecks(op, req.RequestItems, tableARN)
	case "TransactWriteItems", "TransactGetItems":
		return transactChecks(op, req.TransactItems, tableARN)
	case "ListTables", "DescribeLimits", "DescribeEndpoints", "ListBackups", "ListGlobalTables",
		"ListExports", "ListImports", "ListContributorInsights":
		return []Check{{Action: action, Resource: "*"}}, nil
	}
	switch {
	case req.TableName != "":
		res := tableARN(req.TableName)
		if req.IndexName != "" && (op == "Query" || op == "Scan") {
			res += "/index/" + req.IndexName
		}
		return []Check{{Action: action, Resource: res}}, nil
	case req.ResourceArn != "":
		return []Check{{Action: action, Resource: req.ResourceArn}}, nil
	}
	return nil, fmt.Errorf("dynamodb %s: no TableName in the request", op)
}

// batchChecks returns dynamodb:<op> on the table of every entry of a batch's RequestItems,
// in table name order.
func batchChecks(op string, items map[string]json.RawMessage, tableARN func(string) string) ([]Check, error) {
	if len(items) == 0 {
		return nil, fmt.Errorf("dynamodb %s: no RequestItems", op)
	}
	names := slices.Sorted(maps.Keys(items))
	checks := make([]Check, 0, len(names))
	for _, n := range names {
		checks = append(checks, Check{Action: "dynamodb:" + op, Resource: tableARN(n)})
	}
	return checks, nil
}

// transactActions maps the operations of a transaction's items to the actions IAM checks.
var transactActions = map[string]string{
	"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem",
	"ConditionCheck": "ConditionCheckItem", "Get": "GetItem",
}

// transactChecks returns the underlying action of every item of a transaction on the item's
// table, each distinct check once, in item order.
func transactChecks(op string, items []map[string]struct{ TableName string }, tableARN func(string) string) ([]Check, error) {
	if len(items) == 0 {
		return nil, fmt.Errorf("dynamodb %s: no TransactItems", op)
	}
	var checks []Check
	seen := map[Check]bool{}
	for i, item := range items {
		if len(item) != 1 {
			return nil, fmt.Errorf("dynamodb %s: TransactItems[%d] must have exactly one operation", op, i)
		}
		for kind, x := range item {
			a, ok := transactActions[kind]
			if !ok || x.TableName == "" {
				return nil, fmt.Errorf("dynamodb %s: TransactItems[%d]: unknown operation %q or no TableName", op, i, kind)
			}
			c := Check{Action: "dynamodb:" + a, Resource: tableARN(x.TableName)}
			if !seen[c] {
				seen[c] = true
				checks = append(checks, c)
			}
		}
	}
	return checks, nil
}

// ConnectionsCheck returns what IAM checks for an @connections call of the API Gateway
// Management API: method POST, GET or DELETE on /<stage>/@connections/<connection id> needs
// execute-api:ManageConnections on
// arn:<partition>:execute-api:<region>:<account>:<apiID>/<stage>/<METHOD>/@connections/<id>.
// path may be percent-encoded.
func ConnectionsCheck(env assembly.Env, apiID, method, path string) (Check, error) {
	m := strings.ToUpper(method)
	if m != "POST" && m != "GET" && m != "DELETE" {
		return Check{}, fmt.Errorf("@connections: method %s is not POST, GET or DELETE", method)
	}
	p, err := url.PathUnescape(path)
	if err != nil {
		return Check{}, fmt.Errorf("@connections: path %q: %w", path, err)
	}
	parts := strings.Split(strings.TrimPrefix(p, "/"), "/")
	if len(parts) != 3 || parts[0] == "" || parts[1] != "@connections" || parts[2] == "" {
		return Check{}, errors.New("@connections: path " + path + " is not /<stage>/@connections/<connection id>")
	}
	return Check{
		Action:   "execute-api:ManageConnections",
		Resource: env.ExecuteAPIARN(apiID, parts[0]+"/"+m+"/@connections/"+parts[2]),
	}, nil
}

// InvokeAllowed decides whether principal (e.g. apigateway.amazonaws.com) may invoke fn from
// sourceARN (e.g. arn:aws:execute-api:<region>:<account>:<api>/<stage>/<route key>) under fn's
// resource policy perms (the stack's AWS::Lambda::Permission resources; those of other functions
// are ignored). sourceAccount may be "".
func InvokeAllowed(fn *assembly.Function, perms []*assembly.Permission, principal, sourceARN, sourceAccount string) Decision {
	const action = "lambda:InvokeFunction"
	d := Decision{Principal: principal, Action: action, Resource: fn.ARN}
	for _, p := range perms {
		if p.FunctionLogicalID != fn.LogicalID || !ActionMatches(p.Action, action) {
			continue
		}
		if p.Principal != "*" && p.Principal != principal {
			continue
		}
		if p.SourceARN != "" && !ResourceMatches(p.SourceARN, sourceARN) {
			continue
		}
		if p.SourceAccount != "" && p.SourceAccount != sourceAccount {
			continue
		}
		d.Allowed, d.Statement = true, "permission "+p.LogicalID
		d.Reason = fmt.Sprintf("%s may invoke %s from %s by permission %s", principal, fn.Name, sourceARN, p.LogicalID)
		return d
	}
	d.Reason = fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s because no resource-based policy allows the %s action (source %s)", principal, action, fn.ARN, action, sourceARN)
	return d
}
