package protocol

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
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

// NewValidator compiles the schemas of every built-in action.
func NewValidator() (*Validator, error) {
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft4)
	v := &Validator{schemas: map[string]*jsonschema.Schema{}}
	for _, action := range Actions() {
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

func (e *InvalidError) Error() string {
	return e.Action + ": " + e.Reason
}

// Validate checks body against the schema of action and, when it passes, decodes it into out
// (a pointer to the action's request struct, or nil).
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
		return &InvalidError{Action: action, Reason: describe(err)}
	}
	if out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			return &InvalidError{Action: action, Reason: err.Error()}
		}
	}
	return nil
}

// describe turns a schema validation error into one line that names each failing field.
func describe(err error) string {
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
