package local

import (
	"strings"
	"testing"

	"github.com/chatstack/websocketchatapi/integ/internal/assembly"
)

func TestPickAPI(t *testing.T) {
	a := &assembly.WebSocketAPI{LogicalID: "ChatApiA", Name: "chat"}
	b := &assembly.WebSocketAPI{LogicalID: "OpsApiB", Name: "ops"}
	none := &assembly.Stack{Name: "Empty"}
	one := &assembly.Stack{Name: "One", APIs: []*assembly.WebSocketAPI{a}}
	two := &assembly.Stack{Name: "Two", APIs: []*assembly.WebSocketAPI{a, b}}
	for _, tt := range []struct {
		st   *assembly.Stack
		ref  string
		want *assembly.WebSocketAPI
		err  string
	}{
		{one, "", a, ""},
		{two, "OpsApiB", b, ""},
		{two, "ops", b, ""},
		{none, "", nil, "stack Empty has no WebSocket API"},
		{two, "", nil, `stack Two has 2 WebSocket APIs (ChatApiA named "chat", OpsApiB named "ops"): pick one by logical id or name (-api)`},
		{two, "nope", nil, `no WebSocket API with logical id or name "nope"`},
	} {
		got, err := PickAPI(tt.st, tt.ref)
		if got != tt.want || (tt.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("PickAPI(%s, %q) = %v, %v; want %v, %q", tt.st.Name, tt.ref, got, err, tt.want, tt.err)
		}
	}
}
