package selection

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestPlace(t *testing.T) {
	tests := []struct {
		expr, key, want string
	}{
		{"$request.body.action", "joinroom", `{"action":"joinroom"}`},
		{"$request.body.type", "typing", `{"type":"typing"}`},
		{"$request.body.meta.kind", "x", `{"meta":{"kind":"x"}}`},
		{"${request.body.type}-v1", "typing-v1", `{"type":"typing"}`},
		{"v1.${request.body.a}.${request.body.b}", "v1.x.y", `{"a":"x","b":"y"}`},
		{`\$${request.body.t}`, "$a", `{"t":"a"}`},
	}
	for _, tt := range tests {
		e, err := Parse(tt.expr)
		if err != nil {
			t.Fatal(err)
		}
		body, err := e.Place(tt.key)
		if err != nil {
			t.Errorf("Place(%q) with %s: %v", tt.key, tt.expr, err)
			continue
		}
		raw, _ := json.Marshal(body)
		if string(raw) != tt.want {
			t.Errorf("Place(%q) with %s = %s, want %s", tt.key, tt.expr, raw, tt.want)
		}
		if got, ok := e.Evaluate(raw); !ok || got != tt.key {
			t.Errorf("%s evaluates %s to %q, %v; want %q", tt.expr, raw, got, ok, tt.key)
		}
	}
}

func TestPlaceRefuses(t *testing.T) {
	tests := []struct{ expr, key, want string }{
		{"${request.body.type}-v1", "typing", "literal text does not fit"},
		{"${request.body.t}${request.body.t}", "ab", "two values"},
		{"${request.body.a}-${request.body.a.b}", "x-y", "both a value and an object"},
	}
	for _, tt := range tests {
		e, err := Parse(tt.expr)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.Place(tt.key); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Place(%q) with %s: %v, want %q", tt.key, tt.expr, err, tt.want)
		}
	}
}
