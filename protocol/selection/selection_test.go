package selection

import (
	"strings"
	"testing"
)

func TestParseErrors(t *testing.T) {
	tests := []struct{ expr, want string }{
		{"", "empty"},
		{"action", "refers to no $request.body"},
		{"$request.body", "bare variable"},
		{"$request.body.", "bare variable"},
		{"$request.header.x", "bare variable"},
		{"$request.body.a b", "bare variable"},
		{"${request.body.a", "unclosed"},
		{"${request.header.a}", "must be ${request.body.<field>}"},
		{"${request.body.a..b}", `field ""`},
		{"x$y", "bare $"},
		{`\$default`, "refers to no $request.body"},
	}
	for _, tt := range tests {
		_, err := Parse(tt.expr)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%q) = %v, want error containing %q", tt.expr, err, tt.want)
		}
	}
}

func TestEvaluate(t *testing.T) {
	tests := []struct {
		expr, body, want string
		ok               bool
	}{
		{"$request.body.action", `{"action":"sendmessage"}`, "sendmessage", true},
		{"$request.body.action", `{"action":"$default"}`, "$default", true},
		{"$request.body.a.b", `{"a":{"b":"deep"}}`, "deep", true},
		{"$request.body.a.b", `{"a":"flat"}`, "", false},
		{"$request.body.action", `{"other":1}`, "", false},
		{"$request.body.action", `not json`, "", false},
		{"$request.body.action", `{"action":"x"} trailing`, "", false},
		{"$request.body.action", `{"action":"x"}{"action":"y"}`, "", false},
		{"$request.body.action", " {\"action\":\"x\"}\r\n\t ", "x", true},
		{"$request.body.action", `["action"]`, "", false},
		{"$request.body.action", `{"action":null}`, "", false},
		{"$request.body.action", `{"action":{"x":1}}`, "", false},
		{"$request.body.n", `{"n":12}`, "12", true},
		{"$request.body.n", `{"n":true}`, "true", true},
		{"${request.body.type}-${request.body.sub}", `{"type":"chat","sub":"send"}`, "chat-send", true},
		{"${request.body.type}-${request.body.sub}", `{"type":"chat"}`, "", false},
		{`\$${request.body.k}`, `{"k":"default"}`, "$default", true},
		// evaluated once: a value that looks like an expression stays text
		{"${request.body.k}", `{"k":"${request.body.k}"}`, "${request.body.k}", true},
	}
	for _, tt := range tests {
		e, err := Parse(tt.expr)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tt.expr, err)
		}
		got, ok := e.Evaluate([]byte(tt.body))
		if got != tt.want || ok != tt.ok {
			t.Errorf("%q on %s = %q,%v; want %q,%v", tt.expr, tt.body, got, ok, tt.want, tt.ok)
		}
	}
}

func TestFields(t *testing.T) {
	e, _ := Parse("${request.body.a.b}:${request.body.c}")
	if got := strings.Join(e.Fields(), ","); got != "a.b,c" {
		t.Fatalf("Fields = %q", got)
	}
}
