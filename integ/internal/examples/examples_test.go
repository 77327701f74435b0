package examples

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/chatstack/websocketchatapi/integ/internal/assembly"
	"github.com/chatstack/websocketchatapi/integ/internal/golden"
	"github.com/chatstack/websocketchatapi/protocol"
)

// TestFrameReferenceStack makes a frame for every message route of the reference template:
// each is valid for its model (Frame checks it as the gateway does) and for the protocol's own
// schema of the action, and reads as a person would write it.
func TestFrameReferenceStack(t *testing.T) {
	api := golden.Load(t, assembly.Options{}).API()
	want := map[string]string{
		"direct":      `{"action":"direct","text":"hello","toUserId":"example"}`,
		"history":     `{"action":"history","roomId":"general"}`,
		"joinroom":    `{"action":"joinroom","roomId":"general"}`,
		"leaveroom":   `{"action":"leaveroom","roomId":"general"}`,
		"members":     `{"action":"members","roomId":"general"}`,
		"ping":        `{"action":"ping"}`,
		"sendmessage": `{"action":"sendmessage","roomId":"general","text":"hello"}`,
	}
	v, err := protocol.NewValidator()
	if err != nil {
		t.Fatal(err)
	}
	framed := 0
	for _, r := range api.Routes {
		got, err := Frame(api, r.Key)
		if strings.HasPrefix(r.Key, "$") {
			if err == nil {
				t.Errorf("Frame(%s) = %s, want no example", r.Key, got)
			}
			continue
		}
		if err != nil {
			t.Errorf("Frame(%s): %v", r.Key, err)
			continue
		}
		framed++
		if string(got) != want[r.Key] {
			t.Errorf("Frame(%s) = %s, want %s", r.Key, got, want[r.Key])
		}
		if r.Key == protocol.RoutePing {
			continue // answered by API Gateway; the protocol has no schema for it
		}
		if err := v.Validate(r.Key, got, nil); err != nil {
			t.Errorf("Frame(%s) = %s, refused by the protocol's schema: %v", r.Key, got, err)
		}
	}
	if framed != len(want) {
		t.Errorf("framed %d routes, want %d", framed, len(want))
	}
}

// api returns an API with one route "typing" whose model is schema, selected by sel.
func api(sel, schema string) *assembly.WebSocketAPI {
	r := &assembly.Route{Key: "typing", ModelSelectionExpression: sel}
	if schema != "" {
		r.RequestModels = map[string]*assembly.Model{"$default": {Name: "typingModel", Schema: json.RawMessage(schema)}}
	}
	return &assembly.WebSocketAPI{LogicalID: "Api", RouteSelectionExpression: sel, Routes: []*assembly.Route{r}}
}

func TestFrameHonoursTheSchema(t *testing.T) {
	tests := []struct {
		name, sel, schema, want string
	}{
		{"no model", "$request.body.type", "", `{"type":"typing"}`},
		{"nested key", "$request.body.meta.kind", `{"type":"object"}`, `{"meta":{"kind":"typing"}}`},
		{"template key", "${request.body.op}.v1", ``, ``},
		{"hints", "$request.body.type", `{"type":"object","required":["roomId","text"],"properties":{"roomId":{"type":"string"},"text":{"type":"string","maxLength":10}}}`,
			`{"type":"typing","roomId":"general","text":"hello"}`},
		{"enum and bool", "$request.body.type", `{"type":"object","required":["state","on"],"properties":{"state":{"enum":["started","stopped"]},"on":{"type":"boolean"}}}`,
			`{"type":"typing","on":true,"state":"started"}`},
		{"pattern and length", "$request.body.type", `{"type":"object","required":["code"],"properties":{"code":{"type":"string","pattern":"^[A-Z]{3}-[0-9]+$","minLength":6}}}`,
			`{"type":"typing","code":"AAA-00"}`},
		{"integer bounds", "$request.body.type", `{"type":"object","required":["n","m"],"properties":{"n":{"type":"integer","minimum":5,"maximum":9,"multipleOf":3},"m":{"type":"number","minimum":0,"exclusiveMinimum":true,"maximum":0.5}}}`,
			`{"type":"typing","m":0.5,"n":6}`},
		{"nested, ref, array", "$request.body.type", `{"type":"object","required":["to"],"definitions":{"user":{"type":"object","required":["userId"],"properties":{"userId":{"type":"string","minLength":1}}}},"properties":{"to":{"type":"array","minItems":1,"items":{"$ref":"#/definitions/user"}}}}`,
			`{"type":"typing","to":[{"userId":"alice"}]}`},
		{"allOf", "$request.body.type", `{"allOf":[{"type":"object","required":["a"],"properties":{"a":{"type":"string"}}},{"required":["b"],"properties":{"b":{"type":"integer"}}}]}`,
			`{"type":"typing","a":"example","b":1}`},
		{"key in an enum field", "$request.body.type", `{"type":"object","required":["type"],"properties":{"type":{"enum":["typing"]}}}`, `{"type":"typing"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := api(tt.sel, tt.schema)
			if tt.name == "template key" {
				a.Routes[0].Key = "typing.v1"
				tt.want = `{"op":"typing"}`
				got, err := Frame(a, "typing.v1")
				if err != nil || string(got) != tt.want {
					t.Errorf("Frame = %s, %v; want %s", got, err, tt.want)
				}
				return
			}
			got, err := Frame(a, "typing")
			if err != nil || string(got) != tt.want {
				t.Errorf("Frame = %s, %v; want %s", got, err, tt.want)
			}
		})
	}
}

func TestFrameRefuses(t *testing.T) {
	tests := []struct{ name, sel, schema, want string }{
		{"key not allowed", "$request.body.type", `{"type":"object","additionalProperties":false,"properties":{"x":{"type":"string"}}}`, "refuses it"},
		{"impossible string", "$request.body.type", `{"type":"object","required":["s"],"properties":{"s":{"type":"string","pattern":"^a+$","maxLength":2,"minLength":3}}}`, "field s: found no string"},
		{"external ref", "$request.body.type", `{"type":"object","required":["s"],"properties":{"s":{"$ref":"http://example.com/s.json"}}}`, "only references inside the model"},
		{"key overwritten", "$request.body.type", `{"type":"object","required":["type"],"properties":{"type":{"enum":["other"]}}}`, "refuses it"},
		{"literal mismatch", "${request.body.op}.v1", ``, "literal text does not fit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Frame(api(tt.sel, tt.schema), "typing")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Frame = %s, %v; want an error with %q", got, err, tt.want)
			}
		})
	}
}

func TestFromPattern(t *testing.T) {
	tests := []struct {
		pattern        string
		minLen, maxLen int
		want           string
	}{
		{"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$", 0, -1, "a"},
		{"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$", 5, -1, "aaaaa"},
		{"^(foo|bar)+$", 0, -1, "foo"},
		{`^\d{4}-\d{2}$`, 0, -1, "0000-00"},
		{"^[A-Z]+$", 3, -1, "AAA"},
		{"^ab$", 5, 5, ""},
	}
	for _, tt := range tests {
		got, ok := fromPattern(tt.pattern, tt.minLen, tt.maxLen)
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("fromPattern(%q, %d, %d) = %q, %v; want %q", tt.pattern, tt.minLen, tt.maxLen, got, ok, tt.want)
		}
	}
}
