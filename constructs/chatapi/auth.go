package chatapi

import (
	"slices"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2authorizers"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscognito"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/jsii-runtime-go"

	"github.com/chatstack/websocketchatapi/internal/contract"
)

// Authentication decides how clients authenticate on $connect. Make one with
// CognitoAuthentication, OidcAuthentication, IamAuthentication or NoAuthentication.
type Authentication interface {
	authKind() string
}

// CognitoAuthenticationProps configures CognitoAuthentication.
type CognitoAuthenticationProps struct {
	// UserPool whose tokens are accepted. Default: a new user pool (sign-in by email, no
	// self sign-up, 12-character passwords, account recovery by email) with one app client
	// (no secret, SRP sign-in, OAuth off).
	UserPool awscognito.IUserPool
	// UserPoolClients whose tokens are accepted (the token's aud or client_id). Required with
	// UserPool. Default: the new pool's app client.
	UserPoolClients *[]awscognito.IUserPoolClient
	// TokenUse lists the accepted Cognito token kinds: "id", "access". Default: both.
	TokenUse *[]*string
	// SelfSignUpEnabled lets anyone sign up to the new user pool. Ignored with UserPool.
	// Default: false.
	SelfSignUpEnabled *bool
	// UserPoolRemovalPolicy applies to the new user pool. Ignored with UserPool.
	// Default: RemovalPolicy.RETAIN.
	UserPoolRemovalPolicy awscdk.RemovalPolicy
	// UserPasswordAuth lets the new app client sign in with USER_PASSWORD_AUTH, which sends
	// the password itself to Cognito (scripts and the AWS CLI need it; browsers use SRP).
	// Ignored with UserPool. Default: false (SRP only).
	UserPasswordAuth *bool
	// OAuth turns on the new app client's OAuth flows (hosted UI, authorization code) with
	// these settings. Ignored with UserPool. Default: OAuth off.
	OAuth *awscognito.OAuthSettings
}

// OidcAuthenticationProps configures OidcAuthentication.
type OidcAuthenticationProps struct {
	// IssuerUrl is the issuer (the token's iss); it must be https. Required.
	IssuerUrl *string
	// Audiences are the accepted audiences (the token's aud, or client_id). Required.
	Audiences *[]*string
	// JwksUrl is where the issuer publishes its signing keys; it must be https.
	// Default: IssuerUrl + "/.well-known/jwks.json".
	JwksUrl *string
}

// IamAuthenticationProps configures IamAuthentication.
type IamAuthenticationProps struct {
	// Grantees may connect: each gets what GrantConnect gives (execute-api:Invoke on this
	// stage's $connect). Default: none; call GrantConnect, or give principals an
	// execute-api:Invoke policy of their own.
	Grantees *[]awsiam.IGrantable
}

type cognitoAuth struct{ props CognitoAuthenticationProps }
type oidcAuth struct{ props OidcAuthenticationProps }
type iamAuth struct{ props IamAuthenticationProps }
type noAuth struct{}

func (cognitoAuth) authKind() string { return "cognito" }
func (oidcAuth) authKind() string    { return "oidc" }
func (iamAuth) authKind() string     { return "iam" }
func (noAuth) authKind() string      { return "none" }

// CognitoAuthentication accepts the ID and access tokens of a Cognito user pool: a new one by
// default, or the one given. props may be nil.
func CognitoAuthentication(props *CognitoAuthenticationProps) Authentication {
	if props == nil {
		props = &CognitoAuthenticationProps{}
	}
	return cognitoAuth{props: *props}
}

// OidcAuthentication accepts JWTs (RS256 or ES256) of any OpenID Connect issuer, verified
// against its JWKS.
func OidcAuthentication(props *OidcAuthenticationProps) Authentication {
	if props == nil {
		props = &OidcAuthenticationProps{}
	}
	return oidcAuth{props: *props}
}

// IamAuthentication lets in the AWS principals (roles of backends and devices, IAM users)
// that sign the $connect handshake with SigV4 (service execute-api) and whose identity-based
// policies allow execute-api:Invoke on the stage's $connect (see GrantConnect): API Gateway
// checks both itself (route authorization AWS_IAM), and no Lambda authorizer runs. props may
// be nil.
//
// The user id of such a connection is the caller's principal ARN as API Gateway reports it
// (requestContext.identity.userArn): arn:aws:sts::<account>:assumed-role/<role>/<session> for
// a role session, arn:aws:iam::<account>:user/<name> for an IAM user. Two sessions of one
// role are thus two users, and whoever may assume the role picks the session name: give each
// device its own session name (e.g. its thing name), and trust with the role only those who
// may chat as any session of it. The display name is the ARN's last segment (the session
// name, or the user name). TokenSources does not apply (there is no token) and is refused.
func IamAuthentication(props *IamAuthenticationProps) Authentication {
	if props == nil {
		props = &IamAuthenticationProps{}
	}
	return iamAuth{props: *props}
}

// NoAuthentication lets anyone connect, as an anonymous user. The construct then leaves a
// warning annotation on itself, since a public chat is rarely what a deployment wants.
func NoAuthentication() Authentication { return noAuth{} }

// authentication checks the Authentication prop.
func (v validator) authentication(a Authentication) {
	switch a := a.(type) {
	case cognitoAuth:
		v.cognito(a.props)
	case oidcAuth:
		v.oidc(a.props)
	case iamAuth:
		if g := a.props.Grantees; g != nil && slices.Contains(*g, nil) {
			v.fail("Authentication.Grantees", "must not contain nil")
		}
	case noAuth:
	default:
		v.fail("Authentication", "unknown kind %T: use CognitoAuthentication, OidcAuthentication, IamAuthentication or NoAuthentication", a)
	}
}

func (v validator) cognito(p CognitoAuthenticationProps) {
	if p.UserPool != nil && (p.UserPoolClients == nil || len(*p.UserPoolClients) == 0) {
		v.fail("Authentication.UserPoolClients", "must name the app clients whose tokens are accepted when UserPool is given")
	}
	if p.TokenUse == nil {
		return
	}
	if len(*p.TokenUse) == 0 {
		v.fail("Authentication.TokenUse", "must name at least one of id, access")
	}
	for _, u := range *p.TokenUse {
		if u == nil || (*u != "id" && *u != "access") {
			v.fail("Authentication.TokenUse", "%q is not a Cognito token use; valid: id, access", deref(u))
		}
	}
}

func (v validator) oidc(p OidcAuthenticationProps) {
	if p.IssuerUrl == nil || *p.IssuerUrl == "" {
		v.fail("Authentication.IssuerUrl", "is required")
	}
	if resolved(p.IssuerUrl) {
		v.https("Authentication.IssuerUrl", *p.IssuerUrl)
	}
	if p.Audiences == nil || len(*p.Audiences) == 0 {
		v.fail("Authentication.Audiences", "must name at least one accepted audience (client id)")
	}
	for _, aud := range *p.Audiences {
		if aud == nil || *aud == "" || strings.Contains(*aud, ",") {
			v.fail("Authentication.Audiences", "%q must be non-empty and contain no comma", deref(aud))
		}
	}
	if resolved(p.JwksUrl) {
		v.https("Authentication.JwksUrl", *p.JwksUrl)
	}
}

// authorizerEnv returns the authorizer function's environment for the configured
// authentication, making the Cognito user pool and app client first when none is given. It
// returns nil with IamAuthentication and NoAuthentication: then there is no authorizer
// function.
func (c *webSocketChatApi) authorizerEnv() map[string]string {
	switch a := c.cfg.auth.(type) {
	case cognitoAuth:
		pool, clients := a.props.UserPool, []awscognito.IUserPoolClient(nil)
		if pool == nil {
			var client awscognito.IUserPoolClient
			pool, client = c.newUserPool(a.props)
			clients = []awscognito.IUserPoolClient{client}
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
			tokenUse = derefAll(*a.props.TokenUse)
		}
		return map[string]string{
			// Cognito's issuer: https://cognito-idp.{region}.amazonaws.com/{userPoolId}
			contract.EnvAuthIssuer:    "https://cognito-idp." + *pool.Env().Region + ".amazonaws.com/" + *pool.UserPoolId(),
			contract.EnvAuthAudiences: strings.Join(ids, ","),
			contract.EnvAuthTokenUse:  strings.Join(tokenUse, ","),
		}
	case oidcAuth:
		env := map[string]string{
			contract.EnvAuthIssuer:    *a.props.IssuerUrl,
			contract.EnvAuthAudiences: strings.Join(derefAll(*a.props.Audiences), ","),
		}
		if a.props.JwksUrl != nil {
			env[contract.EnvAuthJWKSURL] = *a.props.JwksUrl
		}
		return env
	}
	return nil
}

// newUserPool makes the user pool and web app client of CognitoAuthentication without a
// UserPool: email sign-in, strong passwords, no client secret.
func (c *webSocketChatApi) newUserPool(p CognitoAuthenticationProps) (awscognito.IUserPool, awscognito.IUserPoolClient) {
	removal := p.UserPoolRemovalPolicy
	if removal == "" {
		removal = awscdk.RemovalPolicy_RETAIN
	}
	up := awscognito.NewUserPool(c.Construct, jsii.String("UserPool"), &awscognito.UserPoolProps{
		SelfSignUpEnabled: jsii.Bool(p.SelfSignUpEnabled != nil && *p.SelfSignUpEnabled),
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
		AuthFlows: &awscognito.AuthFlow{
			UserSrp:      jsii.Bool(true),
			UserPassword: jsii.Bool(p.UserPasswordAuth != nil && *p.UserPasswordAuth),
		},
		DisableOAuth:               jsii.Bool(p.OAuth == nil),
		OAuth:                      p.OAuth,
		GenerateSecret:             jsii.Bool(false),
		PreventUserExistenceErrors: jsii.Bool(true),
		EnableTokenRevocation:      jsii.Bool(true),
		IdTokenValidity:            awscdk.Duration_Hours(jsii.Number(1)),
		AccessTokenValidity:        awscdk.Duration_Hours(jsii.Number(1)),
	})
	return up, client
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

// connectAuthorizer returns the $connect route's authorizer: AWS_IAM with IamAuthentication,
// the REQUEST authorizer of the authorizer function with a token authentication, and nil
// (with a warning annotation) with NoAuthentication.
func (c *webSocketChatApi) connectAuthorizer() awsapigatewayv2.IWebSocketRouteAuthorizer {
	if _, ok := c.cfg.auth.(iamAuth); ok {
		return awsapigatewayv2authorizers.NewWebSocketIamAuthorizer()
	}
	if _, ok := c.fns[handlerAuthorizer]; ok {
		return newRequestAuthorizer(c.invoked(handlerAuthorizer), c.cfg.tokenSources)
	}
	awscdk.Annotations_Of(c.Construct).AddWarningV2(jsii.String("@chatstack/websocketchatapi:authenticationDisabled"),
		jsii.String("Authentication is disabled (NoAuthentication): anyone who knows the URL can connect and chat as an anonymous user."), nil)
	return nil
}

// hasAuthorizerFunction reports whether auth makes a $connect Lambda authorizer (Cognito and
// OIDC do; NoAuthentication and IamAuthentication do not).
func hasAuthorizerFunction(auth Authentication) bool {
	switch auth.(type) {
	case noAuth, iamAuth:
		return false
	}
	return true
}

// grantIamGrantees gives IamAuthenticationProps.Grantees what GrantConnect gives.
func (c *webSocketChatApi) grantIamGrantees() {
	if a, ok := c.cfg.auth.(iamAuth); ok && a.props.Grantees != nil {
		for _, g := range *a.props.Grantees {
			c.GrantConnect(g)
		}
	}
}

// newRequestAuthorizer makes the $connect REQUEST authorizer backed by fn.
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

// omitEmptyIdentitySource drops the authorizer's IdentitySource when there is none: the L2
// still renders an empty list, and CloudFormation documents the property as optional for
// REQUEST authorizers.
func (c *webSocketChatApi) omitEmptyIdentitySource() {
	if identitySources(c.cfg.tokenSources) != nil {
		return
	}
	if auth := c.api.Node().TryFindChild(jsii.String("Authorizer")); auth != nil {
		auth.Node().DefaultChild().(awscdk.CfnResource).AddPropertyDeletionOverride(jsii.String("IdentitySource"))
	}
}
