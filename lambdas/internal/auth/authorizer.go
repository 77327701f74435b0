package auth

import (
	"context"
	"errors"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/chatstack/websocketchatapi/internal/contract"
)

// unauthorized is the error message that makes API Gateway answer 401.
const unauthorized = "Unauthorized"

// anonymous is the principal id of a Deny.
const anonymous = "anonymous"

// TokenVerifier checks a token; *Verifier is the production implementation.
type TokenVerifier interface {
	Verify(ctx context.Context, token string) (Identity, error)
}

// Authorizer is the Lambda REQUEST authorizer of the WebSocket API's $connect route.
type Authorizer struct {
	verifier TokenVerifier
	logger   *slog.Logger
}

// NewAuthorizer returns an Authorizer that checks tokens with v and logs with logger.
func NewAuthorizer(v TokenVerifier, logger *slog.Logger) *Authorizer {
	return &Authorizer{verifier: v, logger: logger}
}

// Handle authorizes one $connect. No token gives the error "Unauthorized" (API Gateway
// answers 401); an invalid token gives a Deny policy (403) for principal "anonymous";
// a valid one gives an Allow policy for execute-api:Invoke on req.MethodArn, the user
// id as principal, and as context the user id ([contract.ContextUserID]), the display name
// cut to MaxDisplayNameRunes runes ([contract.ContextDisplayName]), the token_use claim
// ([contract.ContextTokenUse]) and the token's source, SourceQuery or SourceProtocol
// ([contract.ContextTokenSource]); when the verifier gives the user an API key
// (Config.APIKeyClaim), the response's usageIdentifierKey and the context's
// [contract.ContextUsageIdentifierKey] carry it. Neither the token nor the key is logged.
func (a *Authorizer) Handle(ctx context.Context, req events.APIGatewayCustomAuthorizerRequestTypeRequest) (events.APIGatewayCustomAuthorizerResponse, error) {
	log := a.logger.With(requestAttrs(ctx, req)...)

	token, source, err := TokenFromRequest(req)
	if errors.Is(err, ErrNoToken) {
		log.InfoContext(ctx, "no token", "outcome", "unauthorized")
		return events.APIGatewayCustomAuthorizerResponse{}, errors.New(unauthorized)
	}
	if err != nil {
		log.WarnContext(ctx, "token refused", "outcome", "deny", "reason", err.Error())
		return policy(anonymous, "Deny", req.MethodArn, nil), nil
	}
	log = log.With("tokenSource", source)

	id, err := a.verifier.Verify(ctx, token)
	if err != nil {
		log.WarnContext(ctx, "token refused", "outcome", "deny", "reason", err.Error())
		return policy(anonymous, "Deny", req.MethodArn, nil), nil
	}

	log.InfoContext(ctx, "token accepted", "outcome", "allow", "userId", id.UserID, "tokenUse", id.TokenUse, "apiKey", id.APIKey != "")
	context := map[string]any{
		contract.ContextUserID:      id.UserID,
		contract.ContextDisplayName: truncateRunes(id.DisplayName, MaxDisplayNameRunes),
		contract.ContextTokenUse:    id.TokenUse,
		contract.ContextTokenSource: source,
	}
	resp := policy(id.UserID, "Allow", req.MethodArn, context)
	if id.APIKey != "" {
		// Both places: REST APIs read the response's usageIdentifierKey, and the WebSocket
		// selection expression $context.authorizer.usageIdentifierKey names the context key.
		resp.UsageIdentifierKey = id.APIKey
		context[contract.ContextUsageIdentifierKey] = id.APIKey
	}
	return resp, nil
}

// policy builds an authorizer response with one execute-api:Invoke statement.
func policy(principal, effect, resource string, context map[string]any) events.APIGatewayCustomAuthorizerResponse {
	return events.APIGatewayCustomAuthorizerResponse{
		PrincipalID: principal,
		PolicyDocument: events.APIGatewayCustomAuthorizerPolicy{
			Version: "2012-10-17",
			Statement: []events.IAMPolicyStatement{{
				Action:   []string{"execute-api:Invoke"},
				Effect:   effect,
				Resource: []string{resource},
			}},
		},
		Context: context,
	}
}

// requestAttrs are the log attributes that identify the invocation. The request type
// of aws-lambda-go has no connection id, so none is logged.
func requestAttrs(ctx context.Context, req events.APIGatewayCustomAuthorizerRequestTypeRequest) []any {
	var attrs []any
	if lc, ok := lambdacontext.FromContext(ctx); ok && lc.AwsRequestID != "" {
		attrs = append(attrs, "requestId", lc.AwsRequestID)
	}
	if req.RequestContext.RequestID != "" {
		attrs = append(attrs, "apiRequestId", req.RequestContext.RequestID)
	}
	return attrs
}
