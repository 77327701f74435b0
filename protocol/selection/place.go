package selection

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// Place returns a JSON object body that the expression evaluates to key: for
// "$request.body.type" and key "typing", {"type":"typing"}; for "${request.body.a.b}-v1" and
// "x-v1", {"a":{"b":"x"}}. Every variable gets a string. It fails when no body selects key
// (the literals of a template do not fit it, or two variables read the same field and would
// need different values).
func (e *Expression) Place(key string) (map[string]any, error) {
	var pat strings.Builder
	pat.WriteString("^")
	vars := 0
	for _, p := range e.parts {
		if p.path == nil {
			pat.WriteString(regexp.QuoteMeta(p.literal))
			continue
		}
		vars++
		pat.WriteString("(.*?)")
	}
	pat.WriteString("$")
	m := regexp.MustCompile(pat.String()).FindStringSubmatch(key)
	if m == nil {
		return nil, fmt.Errorf("no message body selects route key %q with %s: its literal text does not fit", key, e.raw)
	}
	body := map[string]any{}
	i := 1
	for _, p := range e.parts {
		if p.path == nil {
			continue
		}
		if err := setPath(body, p.path, m[i]); err != nil {
			return nil, fmt.Errorf("no message body selects route key %q with %s: %w", key, e.raw, err)
		}
		i++
	}
	// Two variables may read one field, or a field inside another: check what was built.
	raw, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	if got, ok := e.Evaluate(raw); !ok || got != key {
		return nil, fmt.Errorf("no message body selects route key %q with %s (the fields it reads overlap)", key, e.raw)
	}
	return body, nil
}

// setPath sets doc at path to v, creating the objects on the way.
func setPath(doc map[string]any, path []string, v string) error {
	for _, seg := range path[:len(path)-1] {
		next, ok := doc[seg]
		if !ok {
			m := map[string]any{}
			doc[seg] = m
			doc = m
			continue
		}
		m, ok := next.(map[string]any)
		if !ok {
			return fmt.Errorf("field %s is both a value and an object", seg)
		}
		doc = m
	}
	last := path[len(path)-1]
	if old, ok := doc[last]; ok && old != v {
		return fmt.Errorf("field %s would need two values", strings.Join(path, "."))
	}
	doc[last] = v
	return nil
}
