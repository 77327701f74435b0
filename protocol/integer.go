package protocol

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// CheckIntegerLiterals refuses a number written with a fraction or an exponent (2.0, 2e0,
// 20e-1) where schema s allows an integer and not a number. JSON Schema draft-04, the dialect
// of API Gateway's models, defines an integer as a JSON number without a fraction or exponent
// part, and API Gateway's validator holds to it ("Bad request body"); later drafts, and the
// jsonschema package, accept any number whose value is whole. inst is a document decoded by
// jsonschema.UnmarshalJSON (numbers as json.Number) that already passed s.Validate.
//
// It follows properties, additionalProperties, items (one schema or a tuple),
// additionalItems, $ref and allOf: the keywords whose subschema every instance must pass.
func CheckIntegerLiterals(s *jsonschema.Schema, inst any) error {
	return integers(s, inst, nil, 0)
}

// maxSchemaDepth bounds the walk through $ref cycles.
const maxSchemaDepth = 64

func integers(s *jsonschema.Schema, inst any, path []string, depth int) error {
	if s == nil || depth > maxSchemaDepth {
		return nil
	}
	if n, ok := inst.(json.Number); ok && integerOnly(s) && strings.ContainsAny(string(n), ".eE") {
		return fmt.Errorf("/%s: got number %s, want integer (no fraction or exponent)", strings.Join(path, "/"), n)
	}
	for _, sub := range append([]*jsonschema.Schema{s.Ref}, s.AllOf...) {
		if err := integers(sub, inst, path, depth+1); err != nil {
			return err
		}
	}
	switch v := inst.(type) {
	case map[string]any:
		return objectIntegers(s, v, path, depth)
	case []any:
		return arrayIntegers(s, v, path, depth)
	}
	return nil
}

func integerOnly(s *jsonschema.Schema) bool {
	if s.Types == nil {
		return false
	}
	types := s.Types.ToStrings()
	return slices.Contains(types, "integer") && !slices.Contains(types, "number")
}

func objectIntegers(s *jsonschema.Schema, obj map[string]any, path []string, depth int) error {
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		sub, ok := s.Properties[k]
		if !ok {
			sub, _ = s.AdditionalProperties.(*jsonschema.Schema)
		}
		if err := integers(sub, obj[k], append(path, k), depth+1); err != nil {
			return err
		}
	}
	return nil
}

func arrayIntegers(s *jsonschema.Schema, arr []any, path []string, depth int) error {
	for i, item := range arr {
		var sub *jsonschema.Schema
		switch items := s.Items.(type) {
		case *jsonschema.Schema:
			sub = items
		case []*jsonschema.Schema:
			if i < len(items) {
				sub = items[i]
			} else {
				sub, _ = s.AdditionalItems.(*jsonschema.Schema)
			}
		}
		if err := integers(sub, item, append(path, fmt.Sprint(i)), depth+1); err != nil {
			return err
		}
	}
	return nil
}
