// Package wsevent is the glue between API Gateway WebSocket events (aws-lambda-go) and the
// chat.Service: the handlers of $connect, $disconnect, the chat actions and $default, the
// caller's identity from the authorizer context, the handlers' environment configuration and
// their JSON logging.
//
// The Lambda mains in lambdas/ only read the environment, make the AWS clients and start one
// of these handlers.
package wsevent

import (
	"errors"
	"fmt"

	"github.com/aws/aws-lambda-go/events"

	"github.com/chatstack/websocketchatapi/lambdas/internal/chat"
)

// Keys of the context map that the $connect authorizer returns, which API Gateway passes to
// every later event as requestContext.authorizer.
const (
	AuthorizerUserID      = "userId"
	AuthorizerDisplayName = "displayName"
	AuthorizerTokenUse    = "tokenUse"
	AuthorizerTokenSource = "tokenSource"
	AuthorizerPrincipalID = "principalId"
)

// AnonymousPrefix starts the user id of a connection made without an authorizer: the id is
// AnonymousPrefix + the connection id.
const AnonymousPrefix = "anon-"

// ErrNoUserID is returned by IdentityFrom when an authorizer context is present but names no
// user (neither userId nor principalId).
var ErrNoUserID = errors.New("wsevent: authorizer context has no userId")

// IdentityFrom returns the caller's identity from the authorizer context of rc, the only
// place it is taken from (never a message body). Without an authorizer context
// (authentication disabled: absent or empty) the caller is anonymous: user id
// "anon-<connectionId>". The user id is the context's userId, or its principalId when an
// authorizer sets no userId.
func IdentityFrom(rc events.APIGatewayWebsocketProxyRequestContext) (chat.Identity, error) {
	if isAbsent(rc.Authorizer) {
		return chat.Identity{UserID: AnonymousPrefix + rc.ConnectionID}, nil
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
	id := chat.Identity{UserID: get(AuthorizerUserID), DisplayName: get(AuthorizerDisplayName)}
	if id.UserID == "" {
		// An authorizer of the user's own that sets only the policy's principal.
		id.UserID = get(AuthorizerPrincipalID)
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
