package iamcheck

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/chatstack/websocketchatapi/integ/internal/assembly"
)

// Policy is the set of identity-based policies of one principal (a role session).
type Policy struct {
	// Role is the role's name ("" when built with NewPolicy from bare documents).
	Role string
	// Principal is the ARN named in decisions, e.g.
	// arn:aws:sts::000000000000:assumed-role/<role>/<function>.
	Principal string
	// Documents lists the policies evaluated, in order.
	Documents []assembly.AttachedPolicy
}

// NewPolicy returns the policy of principal made of docs.
func NewPolicy(principal string, docs ...assembly.AttachedPolicy) *Policy {
	return &Policy{Principal: principal, Documents: docs}
}

// ForRole returns the policy of a session of role: its inline and attached policies plus the AWS
// managed policies it names. principal is the ARN decisions name (an assumed-role session ARN).
// A managed policy that is not modeled (see ManagedPolicy) is an error.
func ForRole(role *assembly.Role, principal string) (*Policy, error) {
	p := &Policy{Role: role.Name, Principal: principal, Documents: append([]assembly.AttachedPolicy(nil), role.Policies...)}
	for _, arn := range role.ManagedPolicyARNs {
		if attachedAlready(role, arn) {
			continue
		}
		doc, ok := ManagedPolicy(arn)
		if !ok {
			return nil, fmt.Errorf("role %s: managed policy %s is not modeled by iamcheck", role.LogicalID, arn)
		}
		p.Documents = append(p.Documents, assembly.AttachedPolicy{Name: arn, Document: doc})
	}
	return p, nil
}

// attachedAlready reports whether arn is a customer managed policy of the stack that the model
// already attached to role.
func attachedAlready(role *assembly.Role, arn string) bool {
	for _, ap := range role.Policies {
		if ap.Name == arn {
			return true
		}
	}
	return false
}

// ForFunction returns the policy of fn's execution role, as seen from fn (principal
// fn.SessionARN).
func ForFunction(fn *assembly.Function) (*Policy, error) {
	if fn.Role == nil {
		return nil, fmt.Errorf("function %s: execution role %s is not in the stack", fn.LogicalID, fn.RoleARN)
	}
	return ForRole(fn.Role, fn.SessionARN)
}

// ManagedPolicy returns the document of an AWS managed policy by ARN (any partition). Only the
// policies the stack uses are modeled: service-role/AWSLambdaBasicExecutionRole, which allows
// logs:CreateLogGroup, logs:CreateLogStream and logs:PutLogEvents on every resource.
func ManagedPolicy(arn string) (assembly.PolicyDocument, bool) {
	_, name, ok := strings.Cut(arn, ":iam::aws:policy/")
	if !ok {
		return assembly.PolicyDocument{}, false
	}
	switch name {
	case "service-role/AWSLambdaBasicExecutionRole":
		return assembly.PolicyDocument{Version: "2012-10-17", Statements: []assembly.Statement{{
			Effect:   "Allow",
			Action:   []string{"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"},
			Resource: []string{"*"},
		}}}, true
	}
	return assembly.PolicyDocument{}, false
}

// Decision is the outcome of one authorization check.
type Decision struct {
	// Allowed reports whether the request is allowed.
	Allowed bool
	// ExplicitDeny reports whether a Deny statement matched.
	ExplicitDeny bool
	// Principal, Action and Resource are what was checked.
	Principal, Action, Resource string
	// Statement names the statement that allowed or explicitly denied ("" for an implicit deny).
	Statement string
	// Reason is a human-readable sentence. For a denial it is AWS's message, e.g. "User: <arn>
	// is not authorized to perform: dynamodb:PutItem on resource: <arn> because no
	// identity-based policy allows the dynamodb:PutItem action".
	Reason string
	// Notes lists statements whose conditions or policy variables were not evaluated, and how
	// they were treated.
	Notes []string
}

// String returns Reason followed by the notes.
func (d Decision) String() string {
	if len(d.Notes) == 0 {
		return d.Reason
	}
	return d.Reason + " [" + strings.Join(d.Notes, "; ") + "]"
}

// Check is one (action, resource) pair a request needs to be allowed.
type Check struct {
	// Action is e.g. dynamodb:PutItem.
	Action string
	// Resource is the ARN of the resource acted on ("*" for actions without one).
	Resource string
}

// Allowed decides whether the principal may perform action on resource.
func (p *Policy) Allowed(action, resource string) Decision {
	d := Decision{Principal: p.Principal, Action: action, Resource: resource}
	for _, doc := range p.Documents {
		for i, st := range doc.Document.Statements {
			if !actionApplies(st, action) || !resourceApplies(st, resource) {
				continue
			}
			where := statementName(doc, i, st)
			if why := unevaluated(st); why != "" {
				if st.Effect == "Allow" {
					d.Notes = append(d.Notes, fmt.Sprintf("%s not applied: %s is not evaluated locally (fail closed)", where, why))
					continue
				}
				d.Notes = append(d.Notes, fmt.Sprintf("%s applied without evaluating %s (fail closed)", where, why))
			}
			if st.Effect == "Deny" {
				d.Allowed, d.ExplicitDeny, d.Statement = false, true, where
				d.Reason = fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s with an explicit deny in an identity-based policy", p.Principal, action, resource)
				return d
			}
			if d.Statement == "" {
				d.Allowed, d.Statement = true, where
			}
		}
	}
	if d.Allowed {
		d.Reason = fmt.Sprintf("User: %s is allowed to perform: %s on resource: %s by %s", p.Principal, action, resource, d.Statement)
	} else {
		d.Reason = fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s because no identity-based policy allows the %s action", p.Principal, action, resource, action)
	}
	return d
}

// AllowedAll decides a request that needs every check: the first denial, else the last allow.
// No checks at all is a denial (fail closed).
func (p *Policy) AllowedAll(checks []Check) Decision {
	if len(checks) == 0 {
		return Decision{Principal: p.Principal, Reason: "nothing to authorize: the request maps to no action (denied)"}
	}
	var last Decision
	for _, c := range checks {
		last = p.Allowed(c.Action, c.Resource)
		if !last.Allowed {
			return last
		}
	}
	return last
}

// actionApplies reports whether st's Action (or NotAction) covers action.
func actionApplies(st assembly.Statement, action string) bool {
	return covers(st.Action, st.NotAction, action, ActionMatches)
}

// resourceApplies reports whether st's Resource (or NotResource) covers resource. A statement
// with neither applies to nothing (IAM rejects such identity policies).
func resourceApplies(st assembly.Statement, resource string) bool {
	return covers(st.Resource, st.NotResource, resource, ResourceMatches)
}

// covers reports whether a statement element covers v: when the negated list (NotAction,
// NotResource) is set, v must match none of its patterns; else one pattern of list.
func covers(list, negated []string, v string, match func(pattern, v string) bool) bool {
	matches := func(pattern string) bool { return match(pattern, v) }
	if negated != nil {
		return !slices.ContainsFunc(negated, matches)
	}
	return slices.ContainsFunc(list, matches)
}

// unevaluated describes what of st is not evaluated locally ("" if nothing).
func unevaluated(st assembly.Statement) string {
	var why []string
	if len(st.Condition) > 0 {
		ops := slices.Sorted(maps.Keys(st.Condition))
		why = append(why, "Condition "+strings.Join(ops, ", "))
	}
	for _, list := range [][]string{st.Resource, st.NotResource} {
		for _, r := range list {
			if strings.Contains(r, "${") {
				why = append(why, "policy variable in "+r)
			}
		}
	}
	return strings.Join(why, " and ")
}

// statementName names statement i of doc for decisions.
func statementName(doc assembly.AttachedPolicy, i int, st assembly.Statement) string {
	s := fmt.Sprintf("policy %s statement %d", doc.Name, i)
	if st.Sid != "" {
		s += " (" + st.Sid + ")"
	}
	return s
}
