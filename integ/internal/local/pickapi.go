package local

import (
	"fmt"
	"strings"

	"github.com/chatstack/websocketchatapi/integ/internal/assembly"
)

// PickAPI returns the WebSocket API of st whose logical id or name is ref, or with ref "" its
// only one. A stack with no WebSocket API, several and no ref, or none matching ref, is an
// error that lists the APIs and says how to pick one (Options.API; localchat's -api).
func PickAPI(st *assembly.Stack, ref string) (*assembly.WebSocketAPI, error) {
	if len(st.APIs) == 0 {
		return nil, fmt.Errorf("stack %s has no WebSocket API (an AWS::ApiGatewayV2::Api with ProtocolType WEBSOCKET): nothing to serve; pick another stack (-stack)", st.Name)
	}
	if ref == "" {
		if len(st.APIs) == 1 {
			return st.APIs[0], nil
		}
		return nil, fmt.Errorf("stack %s has %d WebSocket APIs (%s): pick one by logical id or name (-api)", st.Name, len(st.APIs), listAPIs(st))
	}
	for _, a := range st.APIs {
		if a.LogicalID == ref || a.Name == ref {
			return a, nil
		}
	}
	return nil, fmt.Errorf("stack %s has no WebSocket API with logical id or name %q (it has %s)", st.Name, ref, listAPIs(st))
}

// listAPIs names the stack's APIs: logical id and name.
func listAPIs(st *assembly.Stack) string {
	var out []string
	for _, a := range st.APIs {
		out = append(out, fmt.Sprintf("%s named %q", a.LogicalID, a.Name))
	}
	return strings.Join(out, ", ")
}
