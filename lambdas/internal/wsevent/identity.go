package wsevent

import (
	"errors"
	"fmt"

	"github.com/aws/aws-lambda-go/events"

	"github.com/chatstack/websocketchatapi/internal/contract"
	"github.com/chatstack/websocketchatapi/lambdas/internal/chat"
)

// ErrNoUserID is returned by IdentityFrom when an authorizer context is present but names no
// user (neither userId nor principalId).
var ErrNoUserID = errors.New("wsevent: authorizer context has no userId")

// IdentityFrom returns the caller's identity from the authorizer context of rc, the only
// place it is taken from (never a message body). Without an authorizer context
// (authentication disabled: absent or empty) the caller is anonymous: user id
// [contract.AnonymousPrefix] + the connection id. The user id is the context's
// [contract.ContextUserID], or its [contract.ContextPrincipalID] when an authorizer sets no
// user id; the display name is its [contract.ContextDisplayName].
func IdentityFrom(rc events.APIGatewayWebsocketProxyRequestContext) (chat.Identity, error) {
	if isAbsent(rc.Authorizer) {
		return chat.Identity{UserID: contract.AnonymousPrefix + rc.ConnectionID}, nil
	}
	var get func(key string) string
	switch m := rc.Authorizer.(type) {
	case map[string]any:
		get = func(key string) string {
			if v, ok := m[key]; ok && v != nil {
				return fmt.Sprint(v)
			}
			return ""
		}
	case map[string]string:
		get = func(key string) string { return m[key] }
	default:
		return chat.Identity{}, fmt.Errorf("wsevent: authorizer context is a %T, want a JSON object", rc.Authorizer)
	}
	id := chat.Identity{UserID: get(contract.ContextUserID), DisplayName: get(contract.ContextDisplayName)}
	if id.UserID == "" {
		// An authorizer of the user's own that sets only the policy's principal.
		id.UserID = get(contract.ContextPrincipalID)
	}
	if id.UserID == "" {
		return chat.Identity{}, ErrNoUserID
	}
	return id, nil
}

func isAbsent(v any) bool {
	switch m := v.(type) {
	case nil:
		return true
	case map[string]any:
		return len(m) == 0
	case map[string]string:
		return len(m) == 0
	}
	return false
}
