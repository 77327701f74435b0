// Package examples makes example messages for the routes of a WebSocket API of a cloud
// assembly, for people to copy: a JSON body that the API's route selection expression sends to
// the route, with every field that the route's request model requires filled with a value the
// model accepts (types, enums, lengths, ranges, patterns).
//
// Frame checks each body it makes as the gateway will: it evaluates the route selection
// expression on it, picks the request model with the route's model selection expression, and
// validates the body against that model (JSON Schema draft-04). A body that does not pass is
// never returned; the error says why.
package examples

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/chatstack/websocketchatapi/integ/internal/assembly"
	"github.com/chatstack/websocketchatapi/protocol"
	"github.com/chatstack/websocketchatapi/protocol/selection"
)

// Frame returns an example message body for the route of api with key routeKey, as compact
// JSON: the route key placed where the route selection expression reads it, plus the fields
// the route's request model requires. $connect, $disconnect and $default have no example (no
// message is routed to them by key).
func Frame(api *assembly.WebSocketAPI, routeKey string) ([]byte, error) {
	switch routeKey {
	case "$connect", "$disconnect", "$default":
		return nil, fmt.Errorf("route %s: no message selects it by key", routeKey)
	}
	route := api.Route(routeKey)
	if route == nil {
		return nil, fmt.Errorf("API %s has no route %q", api.LogicalID, routeKey)
	}
	sel, err := selection.Parse(api.RouteSelectionExpression)
	if err != nil {
		return nil, fmt.Errorf("API %s: route selection expression: %w", api.LogicalID, err)
	}
	body, err := sel.Place(routeKey)
	if err != nil {
		return nil, fmt.Errorf("route %s: %w", routeKey, err)
	}
	model := defaultModel(route)
	if model != nil {
		if err := fill(body, model.Schema); err != nil {
			return nil, fmt.Errorf("route %s: model %s: %w", routeKey, model.Name, err)
		}
	}
	raw, err := encode(body, sel.Fields())
	if err != nil {
		return nil, fmt.Errorf("route %s: %w", routeKey, err)
	}
	if got, ok := sel.Evaluate(raw); !ok || got != routeKey {
		return nil, fmt.Errorf("route %s: the example %s selects %q, not the route (its model's fields overwrite the route key)", routeKey, raw, got)
	}
	if err := validate(route, raw); err != nil {
		return nil, fmt.Errorf("route %s: the example %s: %w", routeKey, raw, err)
	}
	return raw, nil
}

// encode writes body as compact JSON with the top-level fields that the selection expression
// reads first (in its order), then the others by name, so the route key leads the example.
func encode(body map[string]any, fields []string) ([]byte, error) {
	var keys []string
	seen := map[string]bool{}
	for _, f := range fields {
		top, _, _ := strings.Cut(f, ".")
		if _, ok := body[top]; ok && !seen[top] {
			keys = append(keys, top)
			seen[top] = true
		}
	}
	rest := slices.Sorted(maps.Keys(body))
	for _, k := range rest {
		if !seen[k] {
			keys = append(keys, k)
		}
	}
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		name, err := json.Marshal(k)
		if err != nil {
			return nil, err
		}
		val, err := json.Marshal(body[k])
		if err != nil {
			return nil, err
		}
		b.Write(name)
		b.WriteByte(':')
		b.Write(val)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// defaultModel returns the model a body of the route is validated against when its model
// selection expression names no other: the $default entry, else the only one.
func defaultModel(r *assembly.Route) *assembly.Model {
	if m, ok := r.RequestModels["$default"]; ok {
		return m
	}
	if len(r.RequestModels) == 1 {
		for _, m := range r.RequestModels {
			return m
		}
	}
	return nil
}

// fill adds to body the fields that schema requires and body lacks; the fields already there
// (the route key) stay.
func fill(body map[string]any, schema json.RawMessage) error {
	var doc map[string]any
	if err := json.Unmarshal(schema, &doc); err != nil {
		return fmt.Errorf("schema is not a JSON object: %w", err)
	}
	g := &generator{root: doc}
	v, err := g.sample(doc, "", 0)
	if err != nil {
		return err
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("the model describes %T, not a JSON object", v)
	}
	for k, val := range obj {
		if _, set := body[k]; !set {
			body[k] = val
		}
	}
	return nil
}

// validate checks raw as the gateway does: the model that the route's model selection
// expression picks (its $default model otherwise), draft-04, integers without fraction.
func validate(r *assembly.Route, raw []byte) error {
	if r.ModelSelectionExpression == "" || len(r.RequestModels) == 0 {
		return nil
	}
	sel, err := selection.Parse(r.ModelSelectionExpression)
	if err != nil {
		return fmt.Errorf("model selection expression: %w", err)
	}
	m := r.RequestModels["$default"]
	if key, ok := sel.Evaluate(raw); ok && r.RequestModels[key] != nil {
		m = r.RequestModels[key]
	}
	if m == nil {
		return errors.New("no request model matches it and the route has no $default model")
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft4)
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(m.Schema))
	if err != nil {
		return fmt.Errorf("model %s: %w", m.Name, err)
	}
	if err := c.AddResource("mem:///model.json", doc); err != nil {
		return fmt.Errorf("model %s: %w", m.Name, err)
	}
	s, err := c.Compile("mem:///model.json")
	if err != nil {
		return fmt.Errorf("model %s: %w", m.Name, err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return err
	}
	if err := s.Validate(inst); err != nil {
		return fmt.Errorf("model %s refuses it: %w", m.Name, err)
	}
	if err := protocol.CheckIntegerLiterals(s, inst); err != nil {
		return fmt.Errorf("model %s refuses it: %w", m.Name, err)
	}
	return nil
}
