package assembly

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
)

// Resource is one resource of a template as written, before any intrinsic is resolved. Only
// resources whose Condition holds are part of a Stack.
type Resource struct {
	// LogicalID is the resource's key under Resources.
	LogicalID string
	// Type is the CloudFormation type, e.g. AWS::Lambda::Function.
	Type string
	// Condition names the template condition that decides whether the resource exists ("" if none).
	Condition string
	// DependsOn lists the logical ids from the DependsOn attribute.
	DependsOn []string
	// Properties holds the raw, unresolved properties (json.Number for numbers).
	Properties map[string]any
}

// template is a parsed CloudFormation template.
type template struct {
	Parameters map[string]parameter
	Mappings   map[string]any
	Conditions map[string]any
	Resources  map[string]*Resource
	Outputs    map[string]outputDecl
}

// parameter is one entry of the template's Parameters section.
type parameter struct {
	Type    string
	Default *string
}

// outputDecl is one entry of the template's Outputs section.
type outputDecl struct {
	Description any
	Value       any
	Condition   string
	ExportName  any
}

// parseTemplate decodes a JSON template. Numbers are kept as json.Number so that integers
// survive resolution unchanged.
func parseTemplate(data []byte) (*template, error) {
	var raw struct {
		Parameters map[string]map[string]any `json:"Parameters"`
		Mappings   map[string]any            `json:"Mappings"`
		Conditions map[string]any            `json:"Conditions"`
		Resources  map[string]map[string]any `json:"Resources"`
		Outputs    map[string]map[string]any `json:"Outputs"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("parse template JSON: %w", err)
	}
	if len(raw.Resources) == 0 {
		return nil, fmt.Errorf("parse template: no Resources section")
	}
	t := &template{
		Parameters: map[string]parameter{},
		Mappings:   raw.Mappings,
		Conditions: raw.Conditions,
		Resources:  map[string]*Resource{},
		Outputs:    map[string]outputDecl{},
	}
	for name, p := range raw.Parameters {
		var par parameter
		par.Type, _ = p["Type"].(string)
		if d, ok := p["Default"]; ok {
			s, err := scalarString(d)
			if err != nil {
				return nil, fmt.Errorf("parse template: Parameters.%s.Default: %w", name, err)
			}
			par.Default = &s
		}
		t.Parameters[name] = par
	}
	for id, r := range raw.Resources {
		res := &Resource{LogicalID: id}
		var ok bool
		if res.Type, ok = r["Type"].(string); !ok || res.Type == "" {
			return nil, fmt.Errorf("parse template: Resources.%s: missing Type", id)
		}
		if c, present := r["Condition"]; present {
			if res.Condition, ok = c.(string); !ok {
				return nil, fmt.Errorf("parse template: Resources.%s.Condition: not a string", id)
			}
		}
		switch d := r["DependsOn"].(type) {
		case string:
			res.DependsOn = []string{d}
		case []any:
			for _, x := range d {
				if s, ok := x.(string); ok {
					res.DependsOn = append(res.DependsOn, s)
				}
			}
		}
		if p, present := r["Properties"]; present {
			if res.Properties, ok = p.(map[string]any); !ok {
				return nil, fmt.Errorf("parse template: Resources.%s.Properties: not an object", id)
			}
		} else {
			res.Properties = map[string]any{}
		}
		t.Resources[id] = res
	}
	for name, o := range raw.Outputs {
		od := outputDecl{Description: o["Description"], Value: o["Value"]}
		od.Condition, _ = o["Condition"].(string)
		if e, ok := o["Export"].(map[string]any); ok {
			od.ExportName = e["Name"]
		}
		t.Outputs[name] = od
	}
	return t, nil
}

// sortedKeys returns the keys of m in increasing order.
func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
