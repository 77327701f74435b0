package contract

// Keys of the context the $connect authorizer returns on Allow. API Gateway passes it to
// every later route of the connection as requestContext.authorizer.
const (
	// ContextUserID is the user's id (the token's "sub" claim).
	ContextUserID = "userId"
	// ContextDisplayName is the user's display name.
	ContextDisplayName = "displayName"
	// ContextTokenUse is the token's "token_use" claim, or "".
	ContextTokenUse = "tokenUse"
	// ContextTokenSource says where the token came from (query string or subprotocol).
	ContextTokenSource = "tokenSource"
	// ContextPrincipalID is the policy's principal id, which API Gateway adds to the context;
	// the handlers fall back to it when [ContextUserID] is absent.
	ContextPrincipalID = "principalId"
	// ContextUsageIdentifierKey is the connection's API key, which the authorizer returns both
	// as the response's usageIdentifierKey and in the context under this key, where the API key
	// selection expression $context.authorizer.usageIdentifierKey names it.
	ContextUsageIdentifierKey = "usageIdentifierKey"
)

// AnonymousPrefix starts the user id of a connection made without an authorizer: the id is
// AnonymousPrefix + the connection id.
const AnonymousPrefix = "anon-"
