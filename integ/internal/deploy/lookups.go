package deploy

import (
	"fmt"
	"maps"
	"slices"

	"github.com/chatstack/websocketchatapi/integ/internal/assembly"
)

// The services' names and the messages of their refusals (see the package documentation for
// where each was seen).
const (
	serviceAPIGatewayV2 = "ApiGatewayV2"
	serviceAPIGateway   = "ApiGateway"
	serviceLambda       = "Lambda"
	serviceIAM          = "IAM"

	msgRouteKey       = "Unable to find Route by key %s within the provided RouteSettings"
	msgLoggingRole    = "CloudWatch Logs role ARN must be set in account settings to enable logging"
	msgAccountRole    = "The role ARN does not have required permissions configured. Please grant trust permission for API Gateway and add the required role policy."
	msgFunctionRole   = "The role defined for the function cannot be assumed by Lambda."
	msgNoFunction     = "Function not found: %s"
	msgNoRole         = "The role with name %s cannot be found."
	msgNoPolicy       = "Policy %s does not exist or is not attachable."
	msgNotFound       = "The resource specified in the request was not found."
	typeAccount       = "AWS::ApiGateway::Account"
	typeManagedPolicy = "AWS::IAM::ManagedPolicy"
)

// apiNotFound is an API Gateway NotFoundException for a child naming a resource by id.
func apiNotFound(id, detail string, args ...any) need {
	return need{id: id, service: serviceAPIGatewayV2, status: 404, code: "NotFoundException",
		message: msgNotFound, detail: fmt.Sprintf(detail, args...) + ", not created yet"}
}

// lookups returns, by logical id, what each resource of st looks up at creation by name, key,
// id or ARN, as the services do.
func lookups(st *assembly.Stack) (map[string][]need, error) {
	needs := map[string][]need{}
	add := func(id string, n need) { needs[id] = append(needs[id], n) }
	account, err := loggingAccount(st, add)
	if err != nil {
		return nil, err
	}
	for _, api := range st.APIs {
		apiLookups(api, account, add)
	}
	for _, fn := range st.SortedFunctions() {
		if fn.RoleLogicalID != "" {
			add(fn.LogicalID, need{id: fn.RoleLogicalID, service: serviceLambda, status: 400, code: "InvalidParameterValueException",
				message: msgFunctionRole, detail: fmt.Sprintf("Role names role %s, not created yet", fn.RoleLogicalID)})
		}
	}
	for _, p := range st.Permissions {
		if fn := st.Functions[p.FunctionLogicalID]; fn != nil {
			add(p.LogicalID, need{id: fn.LogicalID, service: serviceLambda, status: 404, code: "ResourceNotFoundException",
				message: fmt.Sprintf(msgNoFunction, fn.ARN), detail: fmt.Sprintf("FunctionName names function %s, not created yet", fn.LogicalID)})
		}
	}
	iamLookups(st, add)
	return needs, nil
}

// loggingAccount finds the stack's AWS::ApiGateway::Account that sets the CloudWatch role
// ("" if none), and adds its lookup of that role.
func loggingAccount(st *assembly.Stack, add func(string, need)) (string, error) {
	for _, id := range slices.Sorted(maps.Keys(st.Resources)) {
		res := st.Resources[id]
		raw, ok := res.Properties["CloudWatchRoleArn"]
		if res.Type != typeAccount || !ok {
			continue
		}
		v, err := st.Resolver.Resolve("Resources."+id+".Properties.CloudWatchRoleArn", raw)
		if err != nil {
			return "", fmt.Errorf("%s (%s): %w", id, typeAccount, err)
		}
		arn, _ := v.(string)
		for _, rid := range slices.Sorted(maps.Keys(st.Roles)) {
			if st.Roles[rid].ARN == arn {
				add(id, need{id: rid, service: serviceAPIGateway, status: 400, code: "BadRequestException",
					message: msgAccountRole, detail: fmt.Sprintf("CloudWatchRoleArn names role %s, not created yet", rid)})
			}
		}
		return id, nil
	}
	return "", nil
}

// apiLookups adds the lookups of the API's children: their API, and what they name by id,
// key or name. account is the resource that sets the CloudWatch role ("" if none).
func apiLookups(api *assembly.WebSocketAPI, account string, add func(string, need)) {
	child := func(id string) { add(id, apiNotFound(api.LogicalID, "ApiId names API %s", api.LogicalID)) }
	for _, id := range slices.Sorted(maps.Keys(api.Integrations)) {
		in := api.Integrations[id]
		child(id)
		for _, r := range in.Responses {
			child(r.LogicalID)
			add(r.LogicalID, apiNotFound(id, "IntegrationId names integration %s", id))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(api.Models)) {
		child(api.Models[name].LogicalID)
	}
	for _, id := range slices.Sorted(maps.Keys(api.Authorizers)) {
		child(id)
	}
	for _, rt := range api.Routes {
		child(rt.LogicalID)
		routeLookups(rt, add)
	}
	for _, s := range api.Stages {
		child(s.LogicalID)
		stageLookups(api, s, account, add)
	}
}

// routeLookups adds what a route and its responses name by id or name.
func routeLookups(rt *assembly.Route, add func(string, need)) {
	if in := rt.Integration; in != nil {
		add(rt.LogicalID, apiNotFound(in.LogicalID, "Target %s names integration %s", rt.Target, in.LogicalID))
	}
	if a := rt.Authorizer; a != nil {
		add(rt.LogicalID, apiNotFound(a.LogicalID, "AuthorizerId names authorizer %s", a.LogicalID))
	}
	for _, key := range slices.Sorted(maps.Keys(rt.RequestModels)) {
		m := rt.RequestModels[key]
		n := apiNotFound(m.LogicalID, "RequestModels[%q] names model %q (%s)", key, m.Name, m.LogicalID)
		n.detail += ": a model name orders nothing, the route must depend on the model (DependsOn)"
		add(rt.LogicalID, n)
	}
	for _, r := range rt.Responses {
		add(r.LogicalID, apiNotFound(rt.LogicalID, "RouteId names route %s (%s)", rt.Key, rt.LogicalID))
	}
}

// stageLookups adds the routes a stage's RouteSettings name by key and, when the stage logs,
// the account resource that sets the CloudWatch role.
func stageLookups(api *assembly.WebSocketAPI, s *assembly.Stage, account string, add func(string, need)) {
	for _, key := range slices.Sorted(maps.Keys(s.RouteSettings)) {
		n := need{service: serviceAPIGatewayV2, status: 404, code: "NotFoundException", message: fmt.Sprintf(msgRouteKey, key)}
		if rt := api.Route(key); rt != nil {
			n.id = rt.LogicalID
			n.detail = fmt.Sprintf("the route %s is %s, not created yet: RouteSettings names routes by key, which orders nothing, so %s must depend on %s (DependsOn)",
				key, rt.LogicalID, s.LogicalID, rt.LogicalID)
		} else {
			n.detail = fmt.Sprintf("API %s has no route %s in the template", api.LogicalID, key)
		}
		add(s.LogicalID, n)
	}
	if account != "" && stageLogs(s) {
		add(s.LogicalID, need{id: account, service: serviceAPIGatewayV2, status: 400, code: "BadRequestException", message: msgLoggingRole,
			detail: fmt.Sprintf("the stage logs and %s (%s), which sets the account's CloudWatch role, is not created yet: %s must depend on it (DependsOn)",
				account, typeAccount, s.LogicalID)})
	}
}

// stageLogs reports whether a stage writes access logs or execution logs.
func stageLogs(s *assembly.Stage) bool {
	logs := func(rs assembly.RouteSettings) bool {
		return rs.DataTraceEnabled || (rs.LoggingLevel != "" && rs.LoggingLevel != "OFF")
	}
	if s.AccessLogDestination != "" || logs(s.DefaultRouteSettings) {
		return true
	}
	return slices.ContainsFunc(slices.Collect(maps.Values(s.RouteSettings)), logs)
}

// iamLookups adds the roles that AWS::IAM::Policy and AWS::IAM::ManagedPolicy resources name,
// and the stack's managed policies that roles name in ManagedPolicyArns.
func iamLookups(st *assembly.Stack, add func(string, need)) {
	for _, rid := range slices.Sorted(maps.Keys(st.Roles)) {
		role := st.Roles[rid]
		for _, p := range role.Policies {
			src := st.Resources[p.Source]
			switch {
			case src == nil: // an inline policy of the role
			case src.Type == typeManagedPolicy && slices.Contains(role.ManagedPolicyARNs, p.Name):
				add(rid, need{id: p.Source, service: serviceIAM, status: 404, code: "NoSuchEntity", message: fmt.Sprintf(msgNoPolicy, p.Name),
					detail: fmt.Sprintf("ManagedPolicyArns names policy %s, not created yet", p.Source)})
			default:
				add(p.Source, need{id: rid, service: serviceIAM, status: 404, code: "NoSuchEntity", message: fmt.Sprintf(msgNoRole, role.Name),
					detail: fmt.Sprintf("Roles names role %s, not created yet", rid)})
			}
		}
	}
}
