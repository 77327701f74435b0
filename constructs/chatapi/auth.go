package chatapi

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscognito"
)

// Authentication decides how clients authenticate on $connect. Make one with
// CognitoAuthentication, OidcAuthentication or NoAuthentication.
type Authentication interface {
	authKind() string
}

// CognitoAuthenticationProps configures CognitoAuthentication.
type CognitoAuthenticationProps struct {
	// UserPool whose tokens are accepted. Default: a new user pool (sign-in by email, no
	// self sign-up, 12-character passwords, account recovery by email).
	UserPool awscognito.IUserPool
	// UserPoolClients whose tokens are accepted (the token's aud or client_id). Required with
	// UserPool. Default: one new app client without a secret (SRP and password auth).
	UserPoolClients *[]awscognito.IUserPoolClient
	// TokenUse lists the accepted Cognito token kinds: "id", "access". Default: both.
	TokenUse *[]*string
	// SelfSignUpEnabled lets anyone sign up to the new user pool. Ignored with UserPool.
	// Default: false.
	SelfSignUpEnabled *bool
	// UserPoolRemovalPolicy applies to the new user pool. Ignored with UserPool.
	// Default: RemovalPolicy.RETAIN.
	UserPoolRemovalPolicy awscdk.RemovalPolicy
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

type cognitoAuth struct{ props CognitoAuthenticationProps }
type oidcAuth struct{ props OidcAuthenticationProps }
type noAuth struct{}

func (cognitoAuth) authKind() string { return "cognito" }
func (oidcAuth) authKind() string    { return "oidc" }
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

// NoAuthentication lets anyone connect, as an anonymous user. The construct then leaves a
// warning annotation on itself, since a public chat is rarely what a deployment wants.
func NoAuthentication() Authentication { return noAuth{} }
