package chatapi

import (
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2authorizers"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscognito"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/jsii-runtime-go"
)

// newAuthorizer makes the authorizer function for the configured authentication (and, for
// Cognito without a user pool given, the user pool and app client). It returns nil with
// NoAuthentication.
func (c *webSocketChatApi) newAuthorizer(code map[string]awslambda.Code) awslambda.Function {
	var env map[string]string
	switch a := c.cfg.auth.(type) {
	case noAuth:
		return nil
	case cognitoAuth:
		pool := a.props.UserPool
		var clients []awscognito.IUserPoolClient
		if pool == nil {
			removal := a.props.UserPoolRemovalPolicy
			if removal == "" {
				removal = awscdk.RemovalPolicy_RETAIN
			}
			up := awscognito.NewUserPool(c.Construct, jsii.String("UserPool"), &awscognito.UserPoolProps{
				SelfSignUpEnabled: jsii.Bool(a.props.SelfSignUpEnabled != nil && *a.props.SelfSignUpEnabled),
				SignInAliases:     &awscognito.SignInAliases{Email: jsii.Bool(true)},
				AutoVerify:        &awscognito.AutoVerifiedAttrs{Email: jsii.Bool(true)},
				PasswordPolicy: &awscognito.PasswordPolicy{
					MinLength:        jsii.Number(12),
					RequireLowercase: jsii.Bool(true),
					RequireUppercase: jsii.Bool(true),
					RequireDigits:    jsii.Bool(true),
					RequireSymbols:   jsii.Bool(true),
				},
				AccountRecovery: awscognito.AccountRecovery_EMAIL_ONLY,
				RemovalPolicy:   removal,
			})
			cfnPool := up.Node().DefaultChild().(awscdk.CfnResource)
			suppressNag(cfnPool, "AwsSolutions-COG2",
				"MFA is the deploying team's choice for its users; pass your own UserPool (CognitoAuthenticationProps.UserPool) with Mfa REQUIRED to enforce it.")
			suppressNag(cfnPool, "AwsSolutions-COG8",
				"The Plus feature plan (threat protection) is billed per monthly active user; pass your own UserPool on the Plus plan to use it.")
			client := up.AddClient(jsii.String("WebClient"), &awscognito.UserPoolClientOptions{
				AuthFlows:                  &awscognito.AuthFlow{UserSrp: jsii.Bool(true), UserPassword: jsii.Bool(true)},
				GenerateSecret:             jsii.Bool(false),
				PreventUserExistenceErrors: jsii.Bool(true),
				EnableTokenRevocation:      jsii.Bool(true),
				IdTokenValidity:            awscdk.Duration_Hours(jsii.Number(1)),
				AccessTokenValidity:        awscdk.Duration_Hours(jsii.Number(1)),
			})
			pool, clients = up, []awscognito.IUserPoolClient{client}
		} else {
			clients = *a.props.UserPoolClients
		}
		c.userPool, c.client = pool, clients[0]
		ids := make([]string, len(clients))
		for i, cl := range clients {
			ids[i] = *cl.UserPoolClientId()
		}
		tokenUse := []string{"id", "access"}
		if a.props.TokenUse != nil {
			tokenUse = nil
			for _, u := range *a.props.TokenUse {
				tokenUse = append(tokenUse, *u)
			}
		}
		env = map[string]string{
			// Cognito's issuer: https://cognito-idp.{region}.amazonaws.com/{userPoolId}
			"AUTH_ISSUER":    "https://cognito-idp." + *pool.Env().Region + ".amazonaws.com/" + *pool.UserPoolId(),
			"AUTH_AUDIENCES": strings.Join(ids, ","),
			"AUTH_TOKEN_USE": strings.Join(tokenUse, ","),
		}
	case oidcAuth:
		auds := make([]string, len(*a.props.Audiences))
		for i, aud := range *a.props.Audiences {
			auds[i] = *aud
		}
		env = map[string]string{
			"AUTH_ISSUER":    *a.props.IssuerUrl,
			"AUTH_AUDIENCES": strings.Join(auds, ","),
		}
		if a.props.JwksUrl != nil {
			env["AUTH_JWKS_URL"] = *a.props.JwksUrl
		}
	}
	return c.newFunction("AuthorizerFunction", "Verifies the client's JWT on $connect", code[handlerAuthorizer], c.cfg.handlerMemory, 10, env)
}

// identitySources maps the token sources to the authorizer's identity sources. API Gateway
// requires ALL identity sources to be present (401 otherwise, without calling the
// authorizer), so with both sources there is none, and the authorizer answers 401 itself.
func identitySources(sources []TokenSource) []*string {
	if len(sources) != 1 {
		return nil
	}
	if sources[0] == TokenSourceQueryString {
		return *jsii.Strings("route.request.querystring.token")
	}
	return *jsii.Strings("route.request.header.Sec-WebSocket-Protocol")
}

func newRequestAuthorizer(fn awslambda.IFunction, sources []TokenSource) awsapigatewayv2.IWebSocketRouteAuthorizer {
	ids := identitySources(sources)
	if ids == nil {
		ids = []*string{}
	}
	return awsapigatewayv2authorizers.NewWebSocketLambdaAuthorizer(jsii.String("Authorizer"), fn, &awsapigatewayv2authorizers.WebSocketLambdaAuthorizerProps{
		AuthorizerName: jsii.String("JwtAuthorizer"),
		IdentitySource: &ids,
	})
}
