package iamcheck

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/chatstack/websocketchatapi/integ/internal/assembly"
)

// ResourcePolicy is a resource-based policy, such as an SQS queue policy, named for decisions.
type ResourcePolicy struct {
	// Name names the policy in decisions (e.g. its logical id).
	Name string
	// Document is the policy.
	Document assembly.PolicyDocument
}

// LocalConditionKeys are the global condition keys the emulator knows the value of for every
// request: aws:SecureTransport is true, because the loopback endpoints stand in for AWS's
// HTTPS endpoints, which every SDK uses (a local HTTP call is what an HTTPS call is on AWS; a
// policy denying plain HTTP, as CDK's enforceSSL writes, must not deny it).
var LocalConditionKeys = map[string]string{"aws:SecureTransport": "true"}

// AllowedWithResource decides, as IAM does within one account, a request of the principal of p
// that a resource policy also governs: an explicit Deny in either policy denies; else an Allow
// in either allows; else it is implicitly denied. A resource policy statement applies when
// its Principal names "*", the account (id or root ARN), the principal's role or its session;
// its conditions are evaluated when they only test LocalConditionKeys with Bool,
// StringEquals or StringNotEquals, else the statement is skipped if it allows and applied if it
// denies (fail closed), noted in the Decision.
func (p *Policy) AllowedWithResource(rps []ResourcePolicy, action, resource string) Decision {
	d := p.Allowed(action, resource)
	if d.ExplicitDeny {
		return d
	}
	for _, rp := range rps {
		for i, st := range rp.Document.Statements {
			if !p.principalMatches(st) || !actionApplies(st, action) || !resourceApplies(st, resource) {
				continue
			}
			where := fmt.Sprintf("resource policy %s statement %d", rp.Name, i)
			if st.Sid != "" {
				where += " (" + st.Sid + ")"
			}
			holds, known := conditionsHold(st.Condition)
			if !known {
				if st.Effect == "Allow" {
					d.Notes = append(d.Notes, where+" not applied: its Condition is not evaluated locally (fail closed)")
					continue
				}
				d.Notes = append(d.Notes, where+" applied without evaluating its Condition (fail closed)")
				holds = true
			}
			if !holds {
				continue
			}
			if st.Effect == "Deny" {
				d.Allowed, d.ExplicitDeny, d.Statement = false, true, where
				d.Reason = fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s with an explicit deny in a resource-based policy", p.Principal, action, resource)
				return d
			}
			if !d.Allowed {
				d.Allowed, d.Statement = true, where
				d.Reason = fmt.Sprintf("User: %s is allowed to perform: %s on resource: %s by %s", p.Principal, action, resource, where)
			}
		}
	}
	return d
}

// principalMatches reports whether a resource policy statement's Principal names p.
func (p *Policy) principalMatches(st assembly.Statement) bool {
	if st.NotPrincipal != nil {
		return false // not modeled: never matches (fail closed for allows)
	}
	account, role := sessionParts(p.Principal)
	for _, v := range st.Principal["AWS"] {
		switch v {
		case "*", account, p.Principal:
			return true
		}
		if account != "" && (strings.HasSuffix(v, ":iam::"+account+":root") ||
			(role != "" && strings.HasPrefix(v, "arn:") && strings.HasSuffix(v, ":iam::"+account+":role/"+role))) {
			return true
		}
	}
	return slices.Contains(st.Principal["*"], "*")
}

// sessionParts splits arn:<p>:sts::<account>:assumed-role/<role>/<session> into the account
// and the role name ("" when principal is not such an ARN).
func sessionParts(principal string) (account, role string) {
	parts := strings.SplitN(principal, ":", 6)
	if len(parts) != 6 {
		return "", ""
	}
	rest, ok := strings.CutPrefix(parts[5], "assumed-role/")
	if !ok {
		return parts[4], ""
	}
	role, _, _ = strings.Cut(rest, "/")
	return parts[4], role
}

// conditionsHold evaluates a statement's conditions against LocalConditionKeys; known is false
// when a condition uses another key or operator.
func conditionsHold(cond map[string]map[string][]string) (holds, known bool) {
	for _, op := range slices.Sorted(maps.Keys(cond)) {
		for key, values := range cond[op] {
			v, ok := LocalConditionKeys[key]
			if !ok {
				return false, false
			}
			var match bool
			switch op {
			case "Bool", "StringEquals":
				match = slices.ContainsFunc(values, func(x string) bool { return strings.EqualFold(x, v) })
			case "StringNotEquals":
				match = !slices.ContainsFunc(values, func(x string) bool { return strings.EqualFold(x, v) })
			default:
				return false, false
			}
			if !match {
				return false, true
			}
		}
	}
	return true, true
}
