package selection

import (
	"bytes"
	"encoding/json"
	"io"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// FuzzParse checks Parse on arbitrary text: it never panics; a parsed expression prints as
// written, reads at least one body field, and written out again in canonical template form
// (literal $ escaped, every variable as ${request.body.…}) parses to the same parts.
//
// Seeds: testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, expr string) {
		e, err := Parse(expr)
		if err != nil {
			if e != nil {
				t.Fatalf("Parse(%q) returned an expression and the error %v", expr, err)
			}
			if err.Error() == "" {
				t.Fatalf("Parse(%q): empty error", expr)
			}
			return
		}
		if e.String() != expr {
			t.Fatalf("Parse(%q).String() = %q", expr, e.String())
		}
		if len(e.Fields()) == 0 {
			t.Fatalf("Parse(%q) reads no field", expr)
		}
		canon := canonical(e)
		again, err := Parse(canon)
		if err != nil {
			t.Fatalf("Parse(%q) ok, but its canonical form %q does not parse: %v", expr, canon, err)
		}
		if !reflect.DeepEqual(again.parts, e.parts) {
			t.Fatalf("Parse(%q) = %#v, but its canonical form %q parses to %#v", expr, e.parts, canon, again.parts)
		}
		if again.String() != canon {
			t.Fatalf("Parse(%q).String() = %q", canon, again.String())
		}
	})
}

// canonical writes e in template form.
func canonical(e *Expression) string {
	var b strings.Builder
	for _, p := range e.parts {
		if p.path == nil {
			b.WriteString(strings.ReplaceAll(p.literal, "$", `\$`))
			continue
		}
		b.WriteString("${request.body." + strings.Join(p.path, ".") + "}")
	}
	return b.String()
}

// FuzzEvaluate checks Evaluate on arbitrary expressions and bodies: it never panics; it
// selects a key only for a body that is one JSON object; and for a bare $request.body.x.y it
// selects exactly the JSON string at x.y, the text of a number or boolean there, and nothing
// when the value there is missing, null, an object or an array.
//
// Seeds: testdata/fuzz/FuzzEvaluate.
func FuzzEvaluate(f *testing.F) {
	f.Fuzz(func(t *testing.T, expr string, body []byte) {
		e, err := Parse(expr)
		if err != nil {
			return
		}
		key, ok := e.Evaluate(body)
		if !ok {
			if key != "" {
				t.Fatalf("%q on %q: no selection, but key %q", expr, body, key)
			}
		} else if !json.Valid(body) || !startsObject(body) {
			t.Fatalf("%q on %q: selected %q from a body that is not a JSON object", expr, body, key)
		}
		if len(e.parts) != 1 || e.parts[0].path == nil {
			return
		}
		// A single variable: compare with an independent walk of the body.
		want, wantOK := walk(body, e.parts[0].path)
		if ok != wantOK {
			t.Fatalf("%q on %q: selected (%q, %v), want ok=%v", expr, body, key, ok, wantOK)
		}
		if !ok {
			return
		}
		switch w := want.(type) {
		case string:
			if key != w {
				t.Fatalf("%q on %q = %q, want the JSON string %q", expr, body, key, w)
			}
		case bool:
			if key != strconv.FormatBool(w) {
				t.Fatalf("%q on %q = %q, want %v", expr, body, key, w)
			}
		case json.Number:
			if !json.Valid([]byte(key)) || key != w.String() {
				t.Fatalf("%q on %q = %q, want the number as written, %s", expr, body, key, w)
			}
		default:
			t.Fatalf("%q on %q: selected %q from a %T", expr, body, key, want)
		}
	})
}

// startsObject reports whether the first non-space byte of b is '{'.
func startsObject(b []byte) bool {
	b = bytes.TrimLeft(b, " \t\r\n")
	return len(b) > 0 && b[0] == '{'
}

// walk decodes body level by level (objects as raw messages) and returns the scalar at path,
// and false when body is not one JSON object or the value at path is missing, null, an object
// or an array.
func walk(body []byte, path []string) (any, bool) {
	if !json.Valid(body) {
		return nil, false
	}
	raw := json.RawMessage(bytes.TrimSpace(body))
	for _, seg := range path {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
			return nil, false
		}
		v, ok := obj[seg]
		if !ok {
			return nil, false
		}
		raw = v
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, false
	}
	switch v.(type) {
	case string, bool, json.Number:
		return v, true
	}
	return nil, false
}
