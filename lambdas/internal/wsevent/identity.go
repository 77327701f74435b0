package wsevent

import (
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/chatstack/websocketchatapi/internal/chat"
	"github.com/chatstack/websocketchatapi/internal/contract"
)

// ErrNoUserID is returned by IdentityFrom when an authorizer context is present but names no
// user (neither userId nor principalId).
var ErrNoUserID = errors.New("wsevent: authorizer context has no userId")

// IdentityFrom returns the caller's identity from what API Gateway put in rc, the only place
// it is taken from (never a message body or a query parameter):
//   - an authorizer context (a Lambda authorizer): the user id is the context's
//     [contract.ContextUserID], or its [contract.ContextPrincipalID] when an authorizer sets no
//     user id; the display name is its [contract.ContextDisplayName];
//   - no authorizer context but an IAM caller (route authorization AWS_IAM: API Gateway
//     verified the SigV4 signature and IAM allowed execute-api:Invoke): see IAMIdentity;
//   - neither (authentication disabled): the caller is anonymous, user id
//     [contract.AnonymousPrefix] + the connection id.
func IdentityFrom(rc events.APIGatewayWebsocketProxyRequestContext) (chat.Identity, error) {
	if isAbsent(rc.Authorizer) {
		if rc.Identity.UserArn != "" {
			return IAMIdentity(rc.Identity)
		}
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

// ErrBadIAMCaller is returned by IAMIdentity for a userArn that is not an IAM or STS ARN.
var ErrBadIAMCaller = errors.New("wsevent: requestContext.identity.userArn is not an IAM principal ARN")

// IAMIdentity maps the IAM caller that API Gateway authenticated (requestContext.identity) to
// a chat identity. The user id is the principal ARN, id.UserArn, as is:
// arn:<partition>:sts::<account>:assumed-role/<role>/<session> for a role session,
// arn:<partition>:iam::<account>:user/<path>/<name> for an IAM user. It is unique across
// accounts and roles, and stable across the credentials of one session name. The display name
// is the ARN's last segment: the session name, or the user name. Anything but an iam or sts
// ARN with a resource is refused with ErrBadIAMCaller.
func IAMIdentity(id events.APIGatewayRequestIdentity) (chat.Identity, error) {
	parts := strings.SplitN(id.UserArn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || (parts[2] != "iam" && parts[2] != "sts") || parts[5] == "" {
		return chat.Identity{}, fmt.Errorf("%w: %q", ErrBadIAMCaller, id.UserArn)
	}
	resource := parts[5]
	return chat.Identity{UserID: id.UserArn, DisplayName: resource[strings.LastIndex(resource, "/")+1:]}, nil
}
