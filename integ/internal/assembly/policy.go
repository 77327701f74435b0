package assembly

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// ParsePolicyDocument decodes an IAM policy document given as resolved JSON values (or a JSON
// string). Statement may be one object or a list; Action, Resource and friends may be one string
// or a list; condition values may be scalars or lists.
func ParsePolicyDocument(v any) (PolicyDocument, error) {
	if s, ok := v.(string); ok {
		dec := json.NewDecoder(bytes.NewReader([]byte(s)))
		dec.UseNumber()
		if err := dec.Decode(&v); err != nil {
			return PolicyDocument{}, fmt.Errorf("policy document string: %w", err)
		}
	}
	m, ok := v.(map[string]any)
	if !ok {
		return PolicyDocument{}, fmt.Errorf("policy document: expected an object, got %s", describe(v))
	}
	var doc PolicyDocument
	if ver, ok := m["Version"]; ok {
		s, err := scalarString(ver)
		if err != nil {
			return PolicyDocument{}, fmt.Errorf("policy document Version: %w", err)
		}
		doc.Version = s
	}
	var stmts []any
	switch s := m["Statement"].(type) {
	case []any:
		stmts = s
	case map[string]any:
		stmts = []any{s}
	default:
		return PolicyDocument{}, fmt.Errorf("policy document Statement: expected an object or a list, got %s", describe(m["Statement"]))
	}
	for i, sv := range stmts {
		st, err := parseStatement(sv)
		if err != nil {
			return PolicyDocument{}, fmt.Errorf("policy document Statement[%d]: %w", i, err)
		}
		doc.Statements = append(doc.Statements, st)
	}
	return doc, nil
}

// parseStatement decodes one statement.
func parseStatement(v any) (Statement, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return Statement{}, fmt.Errorf("expected an object, got %s", describe(v))
	}
	var st Statement
	var err error
	if sid, ok := m["Sid"]; ok {
		if st.Sid, err = scalarString(sid); err != nil {
			return Statement{}, fmt.Errorf("Sid: %w", err)
		}
	}
	eff, _ := m["Effect"].(string)
	if eff != "Allow" && eff != "Deny" {
		return Statement{}, fmt.Errorf("Effect must be Allow or Deny, got %s", describe(m["Effect"]))
	}
	st.Effect = eff
	for _, f := range []struct {
		key string
		dst *[]string
	}{
		{"Action", &st.Action}, {"NotAction", &st.NotAction},
		{"Resource", &st.Resource}, {"NotResource", &st.NotResource},
	} {
		if raw, ok := m[f.key]; ok {
			if *f.dst, err = stringList(raw); err != nil {
				return Statement{}, fmt.Errorf("%s: %w", f.key, err)
			}
		}
	}
	if st.Action == nil && st.NotAction == nil {
		return Statement{}, errors.New("needs Action or NotAction")
	}
	if raw, ok := m["Principal"]; ok {
		if st.Principal, err = principal(raw); err != nil {
			return Statement{}, fmt.Errorf("Principal: %w", err)
		}
	}
	if raw, ok := m["NotPrincipal"]; ok {
		if st.NotPrincipal, err = principal(raw); err != nil {
			return Statement{}, fmt.Errorf("NotPrincipal: %w", err)
		}
	}
	if raw, ok := m["Condition"]; ok {
		cm, ok := raw.(map[string]any)
		if !ok {
			return Statement{}, fmt.Errorf("Condition: expected an object, got %s", describe(raw))
		}
		st.Condition = map[string]map[string][]string{}
		for op, keys := range cm {
			km, ok := keys.(map[string]any)
			if !ok {
				return Statement{}, fmt.Errorf("Condition.%s: expected an object, got %s", op, describe(keys))
			}
			st.Condition[op] = map[string][]string{}
			for k, vals := range km {
				if st.Condition[op][k], err = stringList(vals); err != nil {
					return Statement{}, fmt.Errorf("Condition.%s.%s: %w", op, k, err)
				}
			}
		}
	}
	return st, nil
}

// stringList accepts a scalar or a list of scalars.
func stringList(v any) ([]string, error) {
	if list, ok := v.([]any); ok {
		out := make([]string, 0, len(list))
		for i, e := range list {
			s, err := scalarString(e)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			out = append(out, s)
		}
		return out, nil
	}
	s, err := scalarString(v)
	if err != nil {
		return nil, err
	}
	return []string{s}, nil
}

// principal decodes "*" or {"AWS"|"Service"|...: string or list}.
func principal(v any) (map[string][]string, error) {
	if s, ok := v.(string); ok {
		if s != "*" {
			return nil, fmt.Errorf("a string principal must be \"*\", got %q", s)
		}
		return map[string][]string{"AWS": {"*"}}, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("expected \"*\" or an object, got %s", describe(v))
	}
	out := map[string][]string{}
	for k, raw := range m {
		vals, err := stringList(raw)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		out[k] = vals
	}
	return out, nil
}
