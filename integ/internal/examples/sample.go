package examples

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strings"
	"unicode/utf8"
)

// maxDepth bounds the nesting of a sample (a recursive $ref would not end otherwise).
const maxDepth = 16

// hints are sample values for common field names, used when the field's schema accepts them:
// a copied example reads better with "general" than with "a".
var hints = map[string]any{
	"roomId":          "general",
	"room":            "general",
	"channel":         "general",
	"text":            "hello",
	"message":         "hello",
	"body":            "hello",
	"clientMessageId": "c1",
	"userId":          "alice",
	"user":            "alice",
	"name":            "Alice",
	"displayName":     "Alice",
	"email":           "alice@example.com",
}

// formats are sample values for the draft-04 string formats.
var formats = map[string]string{
	"date-time": "2026-01-01T00:00:00Z",
	"email":     "alice@example.com",
	"hostname":  "example.com",
	"ipv4":      "192.0.2.1",
	"ipv6":      "2001:db8::1",
	"uri":       "https://example.com/",
}

// generator makes sample values of one schema document.
type generator struct {
	root map[string]any
}

// sample returns a value that schema s accepts; name is the field's name ("" at the top).
func (g *generator) sample(s map[string]any, name string, depth int) (any, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("%s: nested deeper than %d levels", fieldName(name), maxDepth)
	}
	if ref, ok := s["$ref"].(string); ok {
		target, err := g.resolve(ref)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", fieldName(name), err)
		}
		return g.sample(target, name, depth+1)
	}
	if enum, ok := s["enum"].([]any); ok && len(enum) > 0 {
		return enum[0], nil
	}
	if all, ok := s["allOf"].([]any); ok && len(all) > 0 {
		return g.sample(mergeAll(s, all), name, depth+1)
	}
	for _, kw := range []string{"anyOf", "oneOf"} {
		if alts, ok := s[kw].([]any); ok && len(alts) > 0 {
			first, _ := alts[0].(map[string]any)
			return g.sample(mergeAll(s, []any{first}), name, depth+1)
		}
	}
	switch typeOf(s) {
	case "object":
		return g.object(s, depth)
	case "array":
		return g.array(s, name, depth)
	case "string":
		return stringSample(s, name)
	case "integer":
		return numberSample(s, name, true), nil
	case "number":
		return numberSample(s, name, false), nil
	case "boolean":
		return true, nil
	case "null":
		return nil, nil
	}
	return "example", nil // no type: any value is accepted
}

// object samples the required properties of an object schema.
func (g *generator) object(s map[string]any, depth int) (any, error) {
	out := map[string]any{}
	props, _ := s["properties"].(map[string]any)
	required, _ := s["required"].([]any)
	for _, r := range required {
		key, ok := r.(string)
		if !ok {
			continue
		}
		sub, _ := props[key].(map[string]any)
		if sub == nil {
			sub, _ = s["additionalProperties"].(map[string]any)
		}
		if sub == nil {
			sub = map[string]any{}
		}
		v, err := g.sample(sub, key, depth+1)
		if err != nil {
			return nil, err
		}
		out[key] = v
	}
	return out, nil
}

// array samples minItems items.
func (g *generator) array(s map[string]any, name string, depth int) (any, error) {
	n := int(number(s, "minItems", 0))
	out := make([]any, 0, n)
	for i := range n {
		var item map[string]any
		switch items := s["items"].(type) {
		case map[string]any:
			item = items
		case []any: // a tuple
			if i < len(items) {
				item, _ = items[i].(map[string]any)
			}
		}
		if item == nil {
			item = map[string]any{}
		}
		v, err := g.sample(item, name, depth+1)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// resolve follows a local JSON pointer reference ("#", "#/definitions/x").
func (g *generator) resolve(ref string) (map[string]any, error) {
	ptr, ok := strings.CutPrefix(ref, "#")
	if !ok {
		return nil, fmt.Errorf("$ref %q: only references inside the model are followed", ref)
	}
	var cur any = g.root
	for _, seg := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
		if seg == "" {
			continue
		}
		seg = strings.ReplaceAll(strings.ReplaceAll(seg, "~1", "/"), "~0", "~")
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("$ref %q: no such place in the model", ref)
		}
		cur = m[seg]
	}
	m, ok := cur.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("$ref %q: no schema there", ref)
	}
	return m, nil
}

// mergeAll merges the schemas of an allOf (or the chosen alternative of an anyOf / oneOf)
// into their parent, without the combining keyword: properties and required add up, other
// keywords of later schemas win.
func mergeAll(parent map[string]any, schemas []any) map[string]any {
	out := map[string]any{}
	for k, v := range parent {
		if k != "allOf" && k != "anyOf" && k != "oneOf" {
			out[k] = v
		}
	}
	for _, s := range schemas {
		m, _ := s.(map[string]any)
		for k, v := range m {
			switch k {
			case "properties":
				props, _ := out[k].(map[string]any)
				merged := map[string]any{}
				for pk, pv := range props {
					merged[pk] = pv
				}
				for pk, pv := range v.(map[string]any) {
					merged[pk] = pv
				}
				out[k] = merged
			case "required":
				req, _ := out[k].([]any)
				out[k] = append(append([]any{}, req...), v.([]any)...)
			default:
				out[k] = v
			}
		}
	}
	return out
}

// typeOf returns the schema's type (the first non-null of a list), or the type its keywords
// imply when it names none.
func typeOf(s map[string]any) string {
	switch t := s["type"].(type) {
	case string:
		return t
	case []any:
		for _, x := range t {
			if name, ok := x.(string); ok && name != "null" {
				return name
			}
		}
		return "null"
	}
	for kw, t := range map[string]string{"properties": "object", "required": "object", "items": "array",
		"minLength": "string", "maxLength": "string", "pattern": "string", "minimum": "number", "maximum": "number"} {
		if _, ok := s[kw]; ok {
			return t
		}
	}
	return ""
}

// stringSample returns a string that the length, pattern and format of s accept: the field's
// hint, else "example", else one made from the pattern.
func stringSample(s map[string]any, name string) (any, error) {
	minLen := int(number(s, "minLength", 0))
	maxLen := int(number(s, "maxLength", -1))
	pattern, _ := s["pattern"].(string)
	var re *regexp.Regexp
	if pattern != "" {
		var err error
		if re, err = regexp.Compile(pattern); err != nil {
			return nil, fmt.Errorf("%s: pattern %q: %w", fieldName(name), pattern, err)
		}
	}
	fits := func(v string) bool {
		n := utf8.RuneCountInString(v)
		return n >= minLen && (maxLen < 0 || n <= maxLen) && (re == nil || re.MatchString(v))
	}
	var candidates []string
	if f, ok := s["format"].(string); ok && formats[f] != "" {
		candidates = append(candidates, formats[f])
	}
	if h, ok := hints[name].(string); ok {
		candidates = append(candidates, h)
	}
	candidates = append(candidates, "example", strings.Repeat("x", max(minLen, 1)))
	for _, c := range candidates {
		if fits(c) {
			return c, nil
		}
	}
	if re != nil {
		if v, ok := fromPattern(pattern, minLen, maxLen); ok && fits(v) {
			return v, nil
		}
	}
	return nil, fmt.Errorf("%s: found no string of %d to %d characters matching %q", fieldName(name), minLen, maxLen, pattern)
}

// numberSample returns a number within the bounds and multipleOf of s: the hint, else 1,
// moved into the range.
func numberSample(s map[string]any, name string, integer bool) any {
	v := 1.0
	if h, ok := hints[name].(float64); ok {
		v = h
	}
	lo, hasLo := s["minimum"].(float64)
	hi, hasHi := s["maximum"].(float64)
	step := number(s, "multipleOf", 0)
	if integer && step == 0 {
		step = 1
	}
	if hasLo {
		if ex, _ := s["exclusiveMinimum"].(bool); ex {
			lo += math.Max(step, 1e-9)
		}
		v = math.Max(v, lo)
	}
	if hasHi {
		if ex, _ := s["exclusiveMaximum"].(bool); ex {
			hi -= math.Max(step, 1e-9)
		}
		v = math.Min(v, hi)
	}
	if step > 0 {
		v = math.Ceil(v/step) * step
		if hasHi && v > hi {
			v -= step
		}
	}
	if integer {
		return int64(v)
	}
	return v
}

// number returns the numeric keyword kw of s, or def.
func number(s map[string]any, kw string, def float64) float64 {
	switch v := s[kw].(type) {
	case float64:
		return v
	case json.Number:
		f, err := v.Float64()
		if err == nil {
			return f
		}
	}
	return def
}

// fieldName names a field in errors.
func fieldName(name string) string {
	if name == "" {
		return "the body"
	}
	return "field " + name
}
