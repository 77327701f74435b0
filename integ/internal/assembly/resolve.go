package assembly

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
)

// ResolveError reports a template value that could not be resolved: an unknown or unsupported
// intrinsic function, a reference to something that does not exist, or a malformed argument.
type ResolveError struct {
	// LogicalID is the resource (or output, or condition) whose value failed; "" if none.
	LogicalID string
	// Path is where in the template the failure is, e.g.
	// Resources.Fn.Properties.Environment.Variables.TABLE_NAME.Fn::Join[1][0].Ref.
	Path string
	// Err is the cause.
	Err error
}

// Error implements error.
func (e *ResolveError) Error() string {
	if e.LogicalID == "" {
		return fmt.Sprintf("at %s: %v", e.Path, e.Err)
	}
	return fmt.Sprintf("%s: at %s: %v", e.LogicalID, e.Path, e.Err)
}

// Unwrap returns the cause.
func (e *ResolveError) Unwrap() error { return e.Err }

// newResolveError builds a ResolveError for path, taking the logical id from the path.
func newResolveError(path string, err error) error {
	return &ResolveError{LogicalID: logicalIDOf(path), Path: path, Err: err}
}

// logicalIDOf extracts "X" from "Resources.X..." / "Outputs.X..." / "Conditions.X...".
func logicalIDOf(path string) string {
	for _, section := range []string{"Resources.", "Outputs.", "Conditions."} {
		if rest, ok := strings.CutPrefix(path, section); ok {
			if i := strings.IndexAny(rest, ".["); i >= 0 {
				return rest[:i]
			}
			return rest
		}
	}
	return ""
}

// noValue is what Ref AWS::NoValue resolves to: the enclosing key or list element is dropped.
type noValue struct{}

// Resolver evaluates CloudFormation intrinsic functions against local values. It is safe for
// concurrent use.
type Resolver struct {
	mu        sync.Mutex
	env       Env
	stackName string
	tpl       *template
	params    map[string]string
	overrides map[string]string
	apiIDs    map[string]string

	ids      map[string]string // memoized physical ids
	busy     map[string]bool   // physical ids being computed (cycle detection)
	conds    map[string]bool   // memoized conditions
	condBusy map[string]bool
}

// newResolver prepares a resolver for tpl. opts must already carry its defaults.
func newResolver(tpl *template, env Env, stackName string, opts Options) *Resolver {
	r := &Resolver{
		env:       env,
		stackName: stackName,
		tpl:       tpl,
		params:    map[string]string{},
		overrides: map[string]string{},
		apiIDs:    map[string]string{},
		ids:       map[string]string{},
		busy:      map[string]bool{},
		conds:     map[string]bool{},
		condBusy:  map[string]bool{},
	}
	for k, v := range opts.Parameters {
		r.params[k] = v
	}
	for k, v := range opts.PhysicalIDs {
		r.overrides[k] = v
	}
	n := 0
	for _, id := range sortedKeys(tpl.Resources) {
		if tpl.Resources[id].Type != "AWS::ApiGatewayV2::Api" {
			continue
		}
		if n == 0 {
			r.apiIDs[id] = opts.APIID
		} else {
			r.apiIDs[id] = hashID(stackName+"/"+id, 10, lowerAlnum)
		}
		n++
	}
	return r
}

// Env returns the account, region and partition values are resolved in.
func (r *Resolver) Env() Env { return r.env }

// StackName returns the value of AWS::StackName.
func (r *Resolver) StackName() string { return r.stackName }

// Resolve evaluates every intrinsic function in v (a value decoded from the template) and returns
// plain JSON values: string, json.Number, bool, nil, []any and map[string]any. path says where v
// sits in the template and is used in errors.
func (r *Resolver) Resolve(path string, v any) (any, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	out, err := r.resolve(path, v)
	if err != nil {
		return nil, err
	}
	if _, ok := out.(noValue); ok {
		return nil, nil
	}
	return out, nil
}

// Ref returns what {"Ref": name} resolves to: a parameter's value, a pseudo parameter, or a
// resource's physical id (a customer managed policy's ARN).
func (r *Resolver) Ref(name string) (any, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ref("Ref("+name+")", name)
}

// GetAtt returns what {"Fn::GetAtt": [logicalID, attr]} resolves to.
func (r *Resolver) GetAtt(logicalID, attr string) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.getAtt("Fn::GetAtt("+logicalID+"."+attr+")", logicalID, attr)
}

// PhysicalID returns the local physical id of a resource: its name when the template names it
// (TableName, FunctionName, RoleName, StageName, ...), else a deterministic one. Naming rules:
//   - Options.PhysicalIDs wins for any logical id;
//   - AWS::ApiGatewayV2::Api: Options.APIID (default "localapi01") for the first API in logical id
//     order, a 10-character id derived from stack name and logical id for any other;
//   - DynamoDB tables, Lambda functions, IAM roles and policies, log groups, Lambda permissions,
//     IAM managed policies: "<StackName>-<LogicalID>" (shortened with a hash suffix past the
//     service's length limit), as CloudFormation names them minus its random suffix;
//   - API Gateway routes, integrations, authorizers, models, route responses, deployments: a
//     7-character lowercase id derived from stack name and logical id;
//   - API Gateway (v1) API keys and usage plan keys: 10 such characters; usage plans: 6;
//   - Cognito user pools: "<region>_<9 characters>"; user pool clients: 26 characters;
//   - SNS topics: the topic's ARN (TopicName, or "<StackName>-<LogicalID>"); topic policies:
//     "<StackName>-<LogicalID>"; subscriptions: "<topic ARN>:<36 characters>".
//   - SQS queues: the queue's URL, https://sqs.<region>.<suffix>/<account>/<name>, the name being
//     QueueName or "<StackName>-<LogicalID>-<12 characters>" (".fifo" added for FIFO queues);
//     queue policies: "<StackName>-<LogicalID>"; event source mappings: a UUID.
func (r *Resolver) PhysicalID(logicalID string) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.physicalID("PhysicalID("+logicalID+")", logicalID)
}

// Condition evaluates the named template condition.
func (r *Resolver) Condition(name string) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.condition("Condition("+name+")", name)
}

// resolve is Resolve without the lock.
func (r *Resolver) resolve(path string, v any) (any, error) {
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 1 {
			for k, arg := range x {
				if k == "Ref" {
					name, ok := arg.(string)
					if !ok {
						return nil, newResolveError(path+".Ref", errors.New("Ref takes a string"))
					}
					return r.ref(path+".Ref", name)
				}
				if strings.HasPrefix(k, "Fn::") {
					return r.fn(path+"."+k, k, arg)
				}
			}
		}
		out := make(map[string]any, len(x))
		for _, k := range sortedKeys(x) {
			rv, err := r.resolve(path+"."+k, x[k])
			if err != nil {
				return nil, err
			}
			if _, drop := rv.(noValue); drop {
				continue
			}
			out[k] = rv
		}
		return out, nil
	case []any:
		out := make([]any, 0, len(x))
		for i, e := range x {
			rv, err := r.resolve(fmt.Sprintf("%s[%d]", path, i), e)
			if err != nil {
				return nil, err
			}
			if _, drop := rv.(noValue); drop {
				continue
			}
			out = append(out, rv)
		}
		return out, nil
	default:
		return v, nil
	}
}

// resolveString resolves v and requires a scalar, returned as a string.
func (r *Resolver) resolveString(path string, v any) (string, error) {
	rv, err := r.resolve(path, v)
	if err != nil {
		return "", err
	}
	s, err := scalarString(rv)
	if err != nil {
		return "", newResolveError(path, err)
	}
	return s, nil
}

// ref resolves {"Ref": name}.
func (r *Resolver) ref(path, name string) (any, error) {
	switch name {
	case "AWS::Region":
		return r.env.Region, nil
	case "AWS::AccountId":
		return r.env.AccountID, nil
	case "AWS::Partition":
		return r.env.Partition, nil
	case "AWS::URLSuffix":
		return r.env.URLSuffix, nil
	case "AWS::StackName":
		return r.stackName, nil
	case "AWS::StackId":
		return r.env.ARN("cloudformation", r.env.Region, r.env.AccountID,
			"stack/"+r.stackName+"/00000000-0000-0000-0000-000000000000"), nil
	case "AWS::NoValue":
		return noValue{}, nil
	case "AWS::NotificationARNs":
		return []any{}, nil
	}
	if p, ok := r.tpl.Parameters[name]; ok {
		return r.paramValue(path, name, p)
	}
	if res, ok := r.tpl.Resources[name]; ok {
		if err := r.requireCreated(path, res); err != nil {
			return nil, err
		}
		if res.Type == "AWS::IAM::ManagedPolicy" {
			return r.getAtt(path, name, "PolicyArn")
		}
		return r.physicalID(path, name)
	}
	return nil, newResolveError(path, fmt.Errorf("unresolvable Ref %q: no parameter, pseudo parameter or resource has that name", name))
}

// paramValue returns a parameter's value: Options.Parameters, else its Default.
func (r *Resolver) paramValue(path, name string, p parameter) (any, error) {
	v, ok := r.params[name]
	if !ok {
		if strings.HasPrefix(p.Type, "AWS::SSM::Parameter::") {
			return nil, newResolveError(path, fmt.Errorf("parameter %q of type %s reads SSM, which is not emulated: set Options.Parameters[%q]", name, p.Type, name))
		}
		if p.Default == nil {
			return nil, newResolveError(path, fmt.Errorf("parameter %q has no Default and no value in Options.Parameters", name))
		}
		v = *p.Default
	}
	if p.Type == "CommaDelimitedList" || strings.HasPrefix(p.Type, "List<") {
		var out []any
		for _, e := range strings.Split(v, ",") {
			out = append(out, strings.TrimSpace(e))
		}
		return out, nil
	}
	return v, nil
}

// requireCreated fails when res has a Condition that evaluates to false.
func (r *Resolver) requireCreated(path string, res *Resource) error {
	if res.Condition == "" {
		return nil
	}
	ok, err := r.condition(path, res.Condition)
	if err != nil {
		return err
	}
	if !ok {
		return newResolveError(path, fmt.Errorf("resource %s is not created: its condition %s is false", res.LogicalID, res.Condition))
	}
	return nil
}

// fn resolves one Fn:: intrinsic.
func (r *Resolver) fn(path, name string, arg any) (any, error) {
	switch name {
	case "Fn::GetAtt":
		return r.fnGetAtt(path, arg)
	case "Fn::Join":
		return r.fnJoin(path, arg)
	case "Fn::Sub":
		return r.fnSub(path, arg)
	case "Fn::Select":
		return r.fnSelect(path, arg)
	case "Fn::Split":
		return r.fnSplit(path, arg)
	case "Fn::If":
		return r.fnIf(path, arg)
	case "Fn::Equals", "Fn::And", "Fn::Or", "Fn::Not":
		return r.condFn(path, name, arg)
	case "Fn::FindInMap":
		return r.fnFindInMap(path, arg)
	case "Fn::GetAZs":
		region, err := r.resolveString(path, arg)
		if err != nil {
			return nil, err
		}
		if region == "" {
			region = r.env.Region
		}
		return []any{region + "a", region + "b", region + "c"}, nil
	case "Fn::Base64":
		s, err := r.resolveString(path, arg)
		if err != nil {
			return nil, err
		}
		return base64.StdEncoding.EncodeToString([]byte(s)), nil
	case "Fn::ImportValue", "Fn::Cidr", "Fn::Length", "Fn::ToJsonString", "Fn::Transform":
		return nil, newResolveError(path, fmt.Errorf("intrinsic function %s is not supported by the local emulator", name))
	}
	return nil, newResolveError(path, fmt.Errorf("unknown intrinsic function %q", name))
}

// args requires arg to be a list of n elements (min..max).
func args(path string, arg any, minN, maxN int) ([]any, error) {
	list, ok := arg.([]any)
	if !ok || len(list) < minN || len(list) > maxN {
		want := strconv.Itoa(minN)
		if maxN != minN {
			want = fmt.Sprintf("%d to %d", minN, maxN)
		}
		return nil, newResolveError(path, fmt.Errorf("takes a list of %s elements, got %s", want, describe(arg)))
	}
	return list, nil
}

// literal returns element i of an intrinsic's arguments, which must be a plain string; what
// names it for the error.
func literal(path string, list []any, i int, what string) (string, error) {
	s, ok := list[i].(string)
	if !ok {
		return "", newResolveError(fmt.Sprintf("%s[%d]", path, i), fmt.Errorf("%s must be a string", what))
	}
	return s, nil
}

// resolveList resolves v, which must resolve to a list; problem says what is wrong
// otherwise ("values must be a list").
func (r *Resolver) resolveList(path string, v any, problem string) ([]any, error) {
	resolved, err := r.resolve(path, v)
	if err != nil {
		return nil, err
	}
	items, ok := resolved.([]any)
	if !ok {
		return nil, newResolveError(path, fmt.Errorf("%s, got %s", problem, describe(resolved)))
	}
	return items, nil
}

// fnGetAtt resolves Fn::GetAtt in its list and its "Id.Attr" forms.
func (r *Resolver) fnGetAtt(path string, arg any) (any, error) {
	var lid, attr string
	if s, ok := arg.(string); ok {
		var found bool
		if lid, attr, found = strings.Cut(s, "."); !found {
			return nil, newResolveError(path, fmt.Errorf("takes \"LogicalId.Attribute\" or [LogicalId, Attribute], got %q", s))
		}
	} else {
		list, err := args(path, arg, 2, 2)
		if err != nil {
			return nil, err
		}
		if lid, err = literal(path, list, 0, "logical id"); err != nil {
			return nil, err
		}
		if attr, err = r.resolveString(path+"[1]", list[1]); err != nil {
			return nil, err
		}
	}
	return r.getAtt(path, lid, attr)
}

// fnJoin resolves Fn::Join [delimiter, [values...]].
func (r *Resolver) fnJoin(path string, arg any) (any, error) {
	list, err := args(path, arg, 2, 2)
	if err != nil {
		return nil, err
	}
	delim, err := literal(path, list, 0, "delimiter")
	if err != nil {
		return nil, err
	}
	items, err := r.resolveList(path+"[1]", list[1], "values must be a list")
	if err != nil {
		return nil, err
	}
	parts := make([]string, len(items))
	for i, it := range items {
		if parts[i], err = scalarString(it); err != nil {
			return nil, newResolveError(fmt.Sprintf("%s[1][%d]", path, i), err)
		}
	}
	return strings.Join(parts, delim), nil
}

// fnSub resolves Fn::Sub "string" and Fn::Sub ["string", {vars}].
func (r *Resolver) fnSub(path string, arg any) (any, error) {
	var tmpl string
	vars := map[string]string{}
	switch x := arg.(type) {
	case string:
		tmpl = x
	case []any:
		list, err := args(path, arg, 2, 2)
		if err != nil {
			return nil, err
		}
		if tmpl, err = literal(path, list, 0, "template"); err != nil {
			return nil, err
		}
		m, ok := list[1].(map[string]any)
		if !ok {
			return nil, newResolveError(path+"[1]", errors.New("variables must be an object"))
		}
		for _, k := range sortedKeys(m) {
			if vars[k], err = r.resolveString(path+"[1]."+k, m[k]); err != nil {
				return nil, err
			}
		}
		path += "[0]"
	default:
		return nil, newResolveError(path, fmt.Errorf("takes a string or [string, {vars}], got %s", describe(arg)))
	}
	var b strings.Builder
	s := tmpl
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			break
		}
		b.WriteString(s[:i])
		rest := s[i+2:]
		if lit, ok := strings.CutPrefix(rest, "!"); ok { // ${!Literal} renders as ${Literal}
			b.WriteString("${")
			s = lit
			continue
		}
		j := strings.IndexByte(rest, '}')
		if j < 0 {
			return nil, newResolveError(path, fmt.Errorf("unterminated ${ in %q", tmpl))
		}
		name := strings.TrimSpace(rest[:j])
		s = rest[j+1:]
		if v, ok := vars[name]; ok {
			b.WriteString(v)
			continue
		}
		if lid, attr, dotted := strings.Cut(name, "."); dotted {
			v, err := r.getAtt(path+".${"+name+"}", lid, attr)
			if err != nil {
				return nil, err
			}
			b.WriteString(v)
			continue
		}
		v, err := r.ref(path+".${"+name+"}", name)
		if err != nil {
			return nil, err
		}
		vs, err := scalarString(v)
		if err != nil {
			return nil, newResolveError(path+".${"+name+"}", err)
		}
		b.WriteString(vs)
	}
	return b.String(), nil
}

// fnSelect resolves Fn::Select [index, list].
func (r *Resolver) fnSelect(path string, arg any) (any, error) {
	list, err := args(path, arg, 2, 2)
	if err != nil {
		return nil, err
	}
	is, err := r.resolveString(path+"[0]", list[0])
	if err != nil {
		return nil, err
	}
	idx, err := strconv.Atoi(is)
	if err != nil {
		return nil, newResolveError(path+"[0]", fmt.Errorf("index %q is not an integer", is))
	}
	items, err := r.resolveList(path+"[1]", list[1], "takes a list")
	if err != nil {
		return nil, err
	}
	if idx < 0 || idx >= len(items) {
		return nil, newResolveError(path+"[0]", fmt.Errorf("index %d out of range for a list of %d", idx, len(items)))
	}
	return items[idx], nil
}

// fnSplit resolves Fn::Split [delimiter, string].
func (r *Resolver) fnSplit(path string, arg any) (any, error) {
	list, err := args(path, arg, 2, 2)
	if err != nil {
		return nil, err
	}
	delim, ok := list[0].(string)
	if !ok || delim == "" {
		return nil, newResolveError(path+"[0]", errors.New("delimiter must be a non-empty string"))
	}
	src, err := r.resolveString(path+"[1]", list[1])
	if err != nil {
		return nil, err
	}
	var out []any
	for _, p := range strings.Split(src, delim) {
		out = append(out, p)
	}
	return out, nil
}

// fnIf resolves Fn::If [condition, valueIfTrue, valueIfFalse].
func (r *Resolver) fnIf(path string, arg any) (any, error) {
	list, err := args(path, arg, 3, 3)
	if err != nil {
		return nil, err
	}
	name, err := literal(path, list, 0, "condition name")
	if err != nil {
		return nil, err
	}
	c, err := r.condition(path+"[0]", name)
	if err != nil {
		return nil, err
	}
	if c {
		return r.resolve(path+"[1]", list[1])
	}
	return r.resolve(path+"[2]", list[2])
}

// fnFindInMap resolves Fn::FindInMap [map, topKey, secondKey].
func (r *Resolver) fnFindInMap(path string, arg any) (any, error) {
	list, err := args(path, arg, 3, 3)
	if err != nil {
		return nil, err
	}
	var keys [3]string
	for i := range keys {
		if keys[i], err = r.resolveString(fmt.Sprintf("%s[%d]", path, i), list[i]); err != nil {
			return nil, err
		}
	}
	m, ok := r.tpl.Mappings[keys[0]].(map[string]any)
	if !ok {
		return nil, newResolveError(path, fmt.Errorf("no mapping %q", keys[0]))
	}
	top, ok := m[keys[1]].(map[string]any)
	if !ok {
		return nil, newResolveError(path, fmt.Errorf("mapping %q has no key %q", keys[0], keys[1]))
	}
	v, ok := top[keys[2]]
	if !ok {
		return nil, newResolveError(path, fmt.Errorf("mapping %q.%q has no key %q", keys[0], keys[1], keys[2]))
	}
	return r.resolve(path, v)
}

// condition evaluates a named condition of the Conditions section, memoized.
func (r *Resolver) condition(path, name string) (bool, error) {
	if v, ok := r.conds[name]; ok {
		return v, nil
	}
	def, ok := r.tpl.Conditions[name]
	if !ok {
		return false, newResolveError(path, fmt.Errorf("unknown condition %q", name))
	}
	if r.condBusy[name] {
		return false, newResolveError(path, fmt.Errorf("condition %q refers to itself", name))
	}
	r.condBusy[name] = true
	defer delete(r.condBusy, name)
	v, err := r.resolveCond("Conditions."+name, def)
	if err != nil {
		return false, err
	}
	r.conds[name] = v
	return v, nil
}

// resolveCond evaluates a condition expression: a condition function, {"Condition": name}, or a
// boolean.
func (r *Resolver) resolveCond(path string, v any) (bool, error) {
	if m, ok := v.(map[string]any); ok && len(m) == 1 {
		if name, ok := m["Condition"].(string); ok {
			return r.condition(path+".Condition", name)
		}
	}
	rv, err := r.resolve(path, v)
	if err != nil {
		return false, err
	}
	switch x := rv.(type) {
	case bool:
		return x, nil
	case string:
		if b, err := strconv.ParseBool(x); err == nil {
			return b, nil
		}
	}
	return false, newResolveError(path, fmt.Errorf("condition must evaluate to a boolean, got %s", describe(rv)))
}

// condFn evaluates Fn::Equals, Fn::And, Fn::Or and Fn::Not.
func (r *Resolver) condFn(path, name string, arg any) (any, error) {
	switch name {
	case "Fn::Equals":
		list, err := args(path, arg, 2, 2)
		if err != nil {
			return nil, err
		}
		a, err := r.resolve(path+"[0]", list[0])
		if err != nil {
			return nil, err
		}
		b, err := r.resolve(path+"[1]", list[1])
		if err != nil {
			return nil, err
		}
		as, aerr := scalarString(a)
		bs, berr := scalarString(b)
		if aerr == nil && berr == nil {
			return as == bs, nil
		}
		return reflect.DeepEqual(a, b), nil
	case "Fn::Not":
		list, err := args(path, arg, 1, 1)
		if err != nil {
			return nil, err
		}
		c, err := r.resolveCond(path+"[0]", list[0])
		if err != nil {
			return nil, err
		}
		return !c, nil
	default: // Fn::And, Fn::Or
		list, err := args(path, arg, 2, 10)
		if err != nil {
			return nil, err
		}
		and := name == "Fn::And"
		for i, e := range list {
			c, err := r.resolveCond(fmt.Sprintf("%s[%d]", path, i), e)
			if err != nil {
				return nil, err
			}
			if and && !c {
				return false, nil
			}
			if !and && c {
				return true, nil
			}
		}
		return and, nil
	}
}

// scalarString renders a resolved scalar as CloudFormation would in a string context.
func scalarString(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case json.Number:
		return x.String(), nil
	case bool:
		return strconv.FormatBool(x), nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case int:
		return strconv.Itoa(x), nil
	}
	return "", fmt.Errorf("expected a string, got %s", describe(v))
}

// describe names the JSON kind of v for error messages.
func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case noValue:
		return "AWS::NoValue"
	case string:
		return fmt.Sprintf("string %q", x)
	case json.Number, float64, int:
		return fmt.Sprintf("number %v", x)
	case bool:
		return fmt.Sprintf("boolean %v", x)
	case []any:
		return fmt.Sprintf("a list of %d", len(x))
	case map[string]any:
		keys := sortedKeys(x)
		if len(keys) > 3 {
			keys = append(keys[:3], "...")
		}
		return fmt.Sprintf("an object {%s}", strings.Join(keys, ", "))
	}
	return fmt.Sprintf("%T", v)
}
