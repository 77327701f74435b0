package protocol

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
)

//go:embed schemas/*.json
var schemaFiles embed.FS

// Schema returns the JSON Schema (draft-04) of an action's message body, as API Gateway takes it
// for a request model.
func Schema(action string) ([]byte, error) {
	b, err := schemaFiles.ReadFile("schemas/" + action + ".json")
	if err != nil {
		return nil, fmt.Errorf("protocol: no schema for action %q", action)
	}
	return b, nil
}

// Validator checks message bodies against the actions' schemas. It is safe for concurrent use.
type Validator struct {
	schemas map[string]*jsonschema.Schema
}

// NewValidator compiles the schemas of every built-in action and SchemaPublish.
func NewValidator() (*Validator, error) {
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft4)
	v := &Validator{schemas: map[string]*jsonschema.Schema{}}
	for _, action := range append(Actions(), SchemaPublish) {
		raw, err := Schema(action)
		if err != nil {
			return nil, err
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		if err != nil {
			return nil, fmt.Errorf("protocol: parse schema %s: %w", action, err)
		}
		url := "mem:///" + action + ".json"
		if err := c.AddResource(url, doc); err != nil {
			return nil, fmt.Errorf("protocol: add schema %s: %w", action, err)
		}
		s, err := c.Compile(url)
		if err != nil {
			return nil, fmt.Errorf("protocol: compile schema %s: %w", action, err)
		}
		v.schemas[action] = s
	}
	return v, nil
}

// InvalidError says why a message body was refused. Its message names the offending field.
type InvalidError struct {
	Action string
	// JSON is true when the body is not JSON at all.
	JSON   bool
	Reason string
}

// Error names the action and the reason.
func (e *InvalidError) Error() string {
	return e.Action + ": " + e.Reason
}

// Validate checks body against the schema of action and, when it passes, decodes it into out
// (a pointer to the action's request struct, or nil). Property names are case-sensitive: a key
// that differs from a schema property only in letter case is refused, since encoding/json
// would decode it into that property's field past the schema's checks. The decoded request is
// checked against the schema again.
func (v *Validator) Validate(action string, body []byte, out any) error {
	s, ok := v.schemas[action]
	if !ok {
		return fmt.Errorf("protocol: no schema for action %q", action)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return &InvalidError{Action: action, JSON: true, Reason: "body is not valid JSON"}
	}
	if err := s.Validate(inst); err != nil {
		return &InvalidError{Action: action, Reason: describe(err, s)}
	}
	if err := CheckIntegerLiterals(s, inst); err != nil {
		return &InvalidError{Action: action, Reason: err.Error()}
	}
	// encoding/json matches object keys to struct fields without regard to letter case, so
	// {"roomId":"ok","ROOMID":"any thing"} would pass the schema (ROOMID is just another
	// property to it) and then decode "any thing" as the room id. Refuse such keys.
	if reason := caseVariant(inst, s); reason != "" {
		return &InvalidError{Action: action, Reason: reason}
	}
	if out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			return &InvalidError{Action: action, Reason: decodeReason(err)}
		}
		// What the handler uses is the decoded value: it must satisfy the schema too.
		if err := recheck(s, out); err != nil {
			return &InvalidError{Action: action, Reason: err.Error()}
		}
	}
	return nil
}

// caseVariant returns why inst has a key that differs from one of the schema's properties
// only in letter case (as encoding/json folds it), or "" when it has none.
func caseVariant(inst any, s *jsonschema.Schema) string {
	obj, ok := inst.(map[string]any)
	if !ok {
		return ""
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if _, exact := s.Properties[k]; exact {
			continue
		}
		for p := range s.Properties {
			if strings.EqualFold(k, p) {
				return fmt.Sprintf("/%s: property names are case-sensitive: write %q", k, p)
			}
		}
	}
	return ""
}

// recheck validates the JSON encoding of a decoded request against s.
func recheck(s *jsonschema.Schema, decoded any) error {
	b, err := json.Marshal(decoded)
	if err != nil {
		return fmt.Errorf("re-encode the decoded body: %w", err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("re-read the decoded body: %w", err)
	}
	if err := s.Validate(inst); err != nil {
		return fmt.Errorf("the decoded body breaks the schema: %s", describe(err, s))
	}
	return nil
}

// describe turns a schema validation error of s into one line that names each failing field.
func describe(err error, s *jsonschema.Schema) string {
	ve, ok := err.(*jsonschema.ValidationError)
	if !ok {
		return err.Error()
	}
	var parts []string
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			loc := "/" + strings.Join(e.InstanceLocation, "/")
			msg := e.Error()
			// The only "not" of these schemas is at the top: fields that exclude each other.
			if _, ok := e.ErrorKind.(*kind.Not); ok && s.Not != nil {
				msg = strings.Join(s.Not.Required, " and ") + " may not both be set"
			}
			// e.Error() repeats the location ("at '/x': ..."); keep the reason.
			if i := strings.Index(msg, "': "); i >= 0 {
				msg = msg[i+3:]
			}
			parts = append(parts, fmt.Sprintf("%s: %s", loc, msg))
			return
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	return strings.Join(parts, "; ")
}

// decodeReason says which field could not be decoded, in the protocol's words: never Go's
// own text, which names struct types and fields.
func decodeReason(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return fmt.Sprintf("/%s: got %s, which does not fit the field", strings.ReplaceAll(te.Field, ".", "/"), te.Value)
	}
	return "the body does not fit the message"
}
