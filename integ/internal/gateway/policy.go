package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/chatstack/websocketchatapi/integ/internal/iamcheck"
)

// authorizerResult is a REQUEST authorizer's answer, read the way API Gateway reads it.
type authorizerResult struct {
	principalID string
	statements  []policyStatement
	context     map[string]any // values already stringified, as they reach later events
}

type policyStatement struct {
	effect    string
	actions   []string
	resources []string
}

// stringOrList is an IAM policy element that may be a string or a list of strings.
type stringOrList []string

func (s *stringOrList) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*s = []string{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return fmt.Errorf("want a string or a list of strings, got %s", b)
	}
	*s = many
	return nil
}

// statementList is a policy's Statement: one statement or a list.
type statementList []rawStatement

type rawStatement struct {
	Effect   string       `json:"Effect"`
	Action   stringOrList `json:"Action"`
	Resource stringOrList `json:"Resource"`
}

func (s *statementList) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '{' {
		var one rawStatement
		if err := json.Unmarshal(b, &one); err != nil {
			return err
		}
		*s = []rawStatement{one}
		return nil
	}
	var many []rawStatement
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*s = many
	return nil
}

// parseAuthorizerResult reads an authorizer's output. An output API Gateway cannot use (not a
// policy, no principalId, a context value that is an object or a list) is an error: AWS answers
// 500 for it.
func parseAuthorizerResult(b []byte) (authorizerResult, error) {
	var raw struct {
		PrincipalID    *string `json:"principalId"`
		PolicyDocument *struct {
			Version   string        `json:"Version"`
			Statement statementList `json:"Statement"`
		} `json:"policyDocument"`
		Context map[string]json.RawMessage `json:"context"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return authorizerResult{}, fmt.Errorf("authorizer output is not a policy: %w", err)
	}
	if raw.PrincipalID == nil || *raw.PrincipalID == "" {
		return authorizerResult{}, errors.New("authorizer output has no principalId")
	}
	if raw.PolicyDocument == nil || len(raw.PolicyDocument.Statement) == 0 {
		return authorizerResult{}, errors.New("authorizer output has no policyDocument statements")
	}
	res := authorizerResult{principalID: *raw.PrincipalID, context: map[string]any{}}
	for _, st := range raw.PolicyDocument.Statement {
		if st.Effect != "Allow" && st.Effect != "Deny" {
			return authorizerResult{}, fmt.Errorf("authorizer policy statement has Effect %q, want Allow or Deny", st.Effect)
		}
		res.statements = append(res.statements, policyStatement{effect: st.Effect, actions: st.Action, resources: st.Resource})
	}
	for k, v := range raw.Context {
		s, ok, err := contextScalar(v)
		if err != nil {
			return authorizerResult{}, fmt.Errorf("authorizer context key %q: %w", k, err)
		}
		if ok {
			res.context[k] = s
		}
	}
	return res, nil
}

// contextScalar stringifies an authorizer context value as API Gateway passes it on: strings
// as they are, numbers and booleans as their JSON text; null is dropped; objects and lists are
// refused.
func contextScalar(v json.RawMessage) (string, bool, error) {
	v = bytes.TrimSpace(v)
	if len(v) == 0 || string(v) == "null" {
		return "", false, nil
	}
	switch v[0] {
	case '"':
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return "", false, err
		}
		return s, true, nil
	case '{', '[':
		return "", false, errors.New("context values must be strings, numbers or booleans")
	case 't', 'f':
		b, err := strconv.ParseBool(string(v))
		if err != nil {
			return "", false, fmt.Errorf("bad boolean %s", v)
		}
		return strconv.FormatBool(b), true, nil
	}
	var n json.Number
	if err := json.Unmarshal(v, &n); err != nil {
		return "", false, fmt.Errorf("bad value %s", v)
	}
	return n.String(), true, nil
}

// allows evaluates the policy for execute-api:Invoke on methodARN: an explicit Deny wins, then
// an Allow allows, else the request is implicitly denied. It returns whether the request is
// allowed and whether a Deny matched.
func (a authorizerResult) allows(methodARN string) (allowed, explicitDeny bool) {
	for _, st := range a.statements {
		if !st.matches(methodARN) {
			continue
		}
		if st.effect == "Deny" {
			return false, true
		}
		allowed = true
	}
	return allowed, false
}

func (st policyStatement) matches(methodARN string) bool {
	actionOK := false
	for _, a := range st.actions {
		if iamcheck.ActionMatches(a, "execute-api:Invoke") {
			actionOK = true
			break
		}
	}
	if !actionOK {
		return false
	}
	for _, r := range st.resources {
		if iamcheck.ResourceMatches(r, methodARN) {
			return true
		}
	}
	return false
}

// authorizerMap is requestContext.authorizer of every later event of the connection.
func (a authorizerResult) authorizerMap() map[string]any {
	m := make(map[string]any, len(a.context)+1)
	for k, v := range a.context {
		m[k] = v
	}
	m["principalId"] = a.principalID
	return m
}
