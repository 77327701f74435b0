package gateway

import (
	"context"
	"testing"

	"github.com/chatstack/websocketchatapi/integ/internal/assembly"
	"github.com/chatstack/websocketchatapi/integ/internal/golden"
	"github.com/chatstack/websocketchatapi/protocol"
)

type nopInvoker struct{}

func (nopInvoker) Invoke(context.Context, string, []byte) ([]byte, error) { return nil, nil }

// FuzzRouteAndValidate feeds arbitrary message bodies through the emulator's route selection
// and request-model validation, built from the reference template: it never panics, always
// picks a route the API has, and whatever the handlers' own validator accepts, the API Gateway
// model accepts too (the handlers may be stricter than the models, never looser, or a client
// could get "Bad request body" for a message the backend would serve).
func FuzzRouteAndValidate(f *testing.F) {
	for _, seed := range []string{
		`{"action":"sendmessage","roomId":"general","text":"hi"}`,
		`{"action":"joinroom","roomId":"r-1.a:b_c"}`,
		`{"action":"history","roomId":"r","limit":100}`,
		`{"action":"history","roomId":"r","limit":1e2}`,
		`{"action":"leaveroom","roomId":"-bad"}`,
		`{"action":"sendmessage","roomId":"r","text":""}`,
		`{"action":"$connect"}`,
		`{"action":"$default","x":1}`,
		`{"action":{"nested":"sendmessage"}}`,
		`{"action":"sendmessage","roomId":"ok","ROOMID":"#bad"}`,
		`not json`,
		`[1,2]`,
		``,
	} {
		f.Add([]byte(seed))
	}
	v, err := protocol.NewValidator()
	if err != nil {
		f.Fatal(err)
	}
	st, err := assembly.LoadTemplate(golden.Path(f), assembly.Options{})
	if err != nil {
		f.Fatalf("load template: %v", err)
	}
	g, err := New(Config{API: st.API(), Stage: "prod", Invoker: nopInvoker{}})
	if err != nil {
		f.Fatal(err)
	}
	defer g.Close()
	f.Fuzz(func(t *testing.T, body []byte) {
		key := g.selectRoute(body)
		rt, ok := g.routes[key]
		if !ok {
			t.Fatalf("selected route %q, which the API does not have", key)
		}
		if key == "$connect" || key == "$disconnect" {
			t.Fatalf("a message selected %s", key)
		}
		if len(rt.models) == 0 {
			return
		}
		modelErr := rt.validate(body)
		if protocol.IsAction(key) && v.Validate(key, body, nil) == nil && modelErr != nil {
			t.Fatalf("the handler accepts %s %q but the API Gateway model refuses it: %v", key, body, modelErr)
		}
	})
}
