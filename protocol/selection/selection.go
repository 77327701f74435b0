// Package selection parses and evaluates API Gateway WebSocket selection expressions, such as a
// route selection expression ("$request.body.action") or a model selection expression.
//
// The language, as API Gateway applies it to WebSocket messages:
//   - "$request.body.a.b" alone is one variable: the JSON value at a.b in the message body;
//   - otherwise the expression is a template: "${request.body.type}-${request.body.sub}" joins
//     literal text and any number of variables; "\$" writes a literal "$";
//   - the expression is evaluated once: a value that itself looks like an expression is not
//     evaluated again;
//   - a body that is not a JSON object (trailing data included), or a variable that is missing, null, an object or an
//     array, matches no route, and the message goes to $default.
package selection

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
)

// Expression is a parsed selection expression.
type Expression struct {
	raw   string
	parts []part
}

type part struct {
	literal string
	path    []string // nil for a literal part
}

var (
	bareVar = regexp.MustCompile(`^\$request\.body((?:\.[A-Za-z0-9_-]+)+)$`)
	segment = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
)

// Parse parses expr. Its error names the position and the rule that expr breaks.
func Parse(expr string) (*Expression, error) {
	if expr == "" {
		return nil, fmt.Errorf("selection expression is empty")
	}
	if m := bareVar.FindStringSubmatch(expr); m != nil {
		return &Expression{raw: expr, parts: []part{{path: strings.Split(m[1][1:], ".")}}}, nil
	}
	if strings.HasPrefix(expr, "$request") {
		return nil, fmt.Errorf("selection expression %q: a bare variable must be $request.body.<field>[.<field>...] with fields of letters, digits, _ and -", expr)
	}
	e := &Expression{raw: expr}
	var lit strings.Builder
	vars := 0
	for i := 0; i < len(expr); {
		switch {
		case strings.HasPrefix(expr[i:], `\$`):
			lit.WriteByte('$')
			i += 2
		case strings.HasPrefix(expr[i:], "${"):
			end := strings.IndexByte(expr[i:], '}')
			if end < 0 {
				return nil, fmt.Errorf("selection expression %q: unclosed ${ at offset %d", expr, i)
			}
			inner := expr[i+2 : i+end]
			path, ok := strings.CutPrefix(inner, "request.body.")
			if !ok {
				return nil, fmt.Errorf("selection expression %q: variable ${%s} at offset %d must be ${request.body.<field>}", expr, inner, i)
			}
			segs := strings.Split(path, ".")
			for _, s := range segs {
				if !segment.MatchString(s) {
					return nil, fmt.Errorf("selection expression %q: field %q in ${%s} must be letters, digits, _ and -", expr, s, inner)
				}
			}
			if lit.Len() > 0 {
				e.parts = append(e.parts, part{literal: lit.String()})
				lit.Reset()
			}
			e.parts = append(e.parts, part{path: segs})
			vars++
			i += end + 1
		case expr[i] == '$':
			return nil, fmt.Errorf("selection expression %q: bare $ at offset %d (write \\$ for a literal $, ${request.body.x} for a variable)", expr, i)
		default:
			lit.WriteByte(expr[i])
			i++
		}
	}
	if lit.Len() > 0 {
		e.parts = append(e.parts, part{literal: lit.String()})
	}
	if vars == 0 {
		return nil, fmt.Errorf("selection expression %q refers to no $request.body field, so every message would get the same route", expr)
	}
	return e, nil
}

// String returns the expression as written.
func (e *Expression) String() string { return e.raw }

// Fields returns the body paths the expression reads, each as dotted text ("a.b").
func (e *Expression) Fields() []string {
	var out []string
	for _, p := range e.parts {
		if p.path != nil {
			out = append(out, strings.Join(p.path, "."))
		}
	}
	return out
}

// Evaluate returns the key that body selects, and false when body selects nothing (not a JSON
// object, or a variable missing or not a string, number or boolean): such a message goes to the
// $default route. A body with anything but white space after its JSON object is not JSON, and
// selects nothing.
func (e *Expression) Evaluate(body []byte) (string, bool) {
	var doc map[string]any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil || doc == nil {
		return "", false
	}
	// A JSON object followed by anything but white space is not JSON.
	if _, err := dec.Token(); err != io.EOF {
		return "", false
	}
	var out strings.Builder
	for _, p := range e.parts {
		if p.path == nil {
			out.WriteString(p.literal)
			continue
		}
		v, ok := lookup(doc, p.path)
		if !ok {
			return "", false
		}
		out.WriteString(v)
	}
	return out.String(), true
}

func lookup(doc map[string]any, path []string) (string, bool) {
	var cur any = doc
	for _, seg := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return "", false
		}
		if cur, ok = m[seg]; !ok {
			return "", false
		}
	}
	switch v := cur.(type) {
	case string:
		return v, true
	case json.Number:
		return v.String(), true
	case bool:
		return strconv.FormatBool(v), true
	default:
		return "", false
	}
}
