package chatapi

import (
	"math"
	"regexp"
	"sort"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/jsii-runtime-go"

	"github.com/chatstack/websocketchatapi/internal/contract"
)

// ApiKeySource is where API Gateway reads a connection's API key on $connect.
type ApiKeySource string

const (
	// ApiKeySourceHeader reads the x-api-key header of the handshake
	// ($request.header.x-api-key): for servers and apps that can set headers.
	ApiKeySourceHeader ApiKeySource = "header"
	// ApiKeySourceAuthorizer takes the key the $connect authorizer returns for the user
	// ($context.authorizer.usageIdentifierKey): for browsers, which cannot set headers on a
	// WebSocket handshake. The authorizer reads it from the JWT claim ApiKeysProps.KeyClaim.
	ApiKeySourceAuthorizer ApiKeySource = "authorizer"
)

// Bounds of the API key props (API Gateway's).
const (
	// MinApiKeyLength and MaxApiKeyLength bound an API key's value.
	MinApiKeyLength = 20
	MaxApiKeyLength = 128
)

// ApiKeysProps turns on API keys: $connect (and, if asked, the chat actions) requires a key of
// one of the usage plans, which throttle and cap each key. Add keys with AddApiKey.
type ApiKeysProps struct {
	// Source is where API Gateway reads the key. Default: ApiKeySourceHeader.
	Source ApiKeySource
	// KeyClaim is the JWT claim that holds the user's API key, which the authorizer returns
	// as usageIdentifierKey; a token without it is refused (403). Required with
	// ApiKeySourceAuthorizer, refused otherwise. Default: none.
	KeyClaim *string
	// RequireOnChatActions also requires the key on the chat action routes, so that every
	// chat message counts against its usage plan's throttle and quota, not only connects.
	// Only with ApiKeySourceAuthorizer: a message carries no headers, but the authorizer's
	// key stays with the connection. Default: false ($connect only).
	RequireOnChatActions *bool
	// Plans are the usage plans (tiers) by name: letters, digits, _ and -, 1 to 64
	// characters; the name is the plan's UsagePlanName and its construct id. At least one is
	// required: API Gateway accepts only keys of a usage plan of the API's stage.
	Plans *map[string]*UsagePlanOptions
}

// UsagePlanOptions are one usage plan's limits, which apply to each of its keys separately.
type UsagePlanOptions struct {
	// RateLimit is each key's steady-state limit, in requests per second (greater than 0).
	// Default: no per-key rate limit (the stage's throttling still applies).
	RateLimit *float64
	// BurstLimit is each key's token bucket size, a whole number of at least 0.
	// Default: no per-key burst limit.
	BurstLimit *float64
	// QuotaLimit is how many requests each key may make per QuotaPeriod, a whole number of at
	// least 1; over it API Gateway answers 429. Default: no quota.
	QuotaLimit *float64
	// QuotaPeriod is DAY, WEEK or MONTH; only with QuotaLimit. Default: MONTH.
	QuotaPeriod awsapigatewayv2.Period
	// Description of the plan. Default: none.
	Description *string
}

// apiKeySettings are ApiKeysProps with defaults applied and checked.
type apiKeySettings struct {
	source     ApiKeySource
	claim      string
	onActions  bool
	planNames  []string // sorted
	plans      map[string]UsagePlanOptions
	expression awsapigatewayv2.WebSocketApiKeySelectionExpression
}

var planNamePattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// resolveApiKeys reads ApiKeys; nil leaves API keys off (the template is unchanged).
func (s *settings) resolveApiKeys(v validator, p *WebSocketChatApiProps) {
	k := p.ApiKeys
	if k == nil {
		return
	}
	out := &apiKeySettings{source: k.Source, plans: map[string]UsagePlanOptions{}}
	if out.source == "" {
		out.source = ApiKeySourceHeader
	}
	switch out.source {
	case ApiKeySourceHeader:
		out.expression = awsapigatewayv2.WebSocketApiKeySelectionExpression_HEADER_X_API_KEY()
		if k.KeyClaim != nil {
			v.fail("ApiKeys.KeyClaim", "is read only with Source %q (the header source takes the key from x-api-key)", ApiKeySourceAuthorizer)
		}
	case ApiKeySourceAuthorizer:
		out.expression = awsapigatewayv2.WebSocketApiKeySelectionExpression_AUTHORIZER_USAGE_IDENTIFIER_KEY()
		if !hasAuthorizerFunction(s.auth) {
			v.fail("ApiKeys.Source", "%q needs the $connect Lambda authorizer, which NoAuthentication and IamAuthentication do not have; use %q", ApiKeySourceAuthorizer, ApiKeySourceHeader)
		}
		if k.KeyClaim == nil || *k.KeyClaim == "" {
			v.fail("ApiKeys.KeyClaim", "is required with Source %q: the JWT claim that holds the user's API key", ApiKeySourceAuthorizer)
		}
		out.claim = *k.KeyClaim
	default:
		v.fail("ApiKeys.Source", "%q is not a key source; valid: %s, %s", k.Source, ApiKeySourceHeader, ApiKeySourceAuthorizer)
	}
	if out.onActions = k.RequireOnChatActions != nil && *k.RequireOnChatActions; out.onActions && out.source != ApiKeySourceAuthorizer {
		v.fail("ApiKeys.RequireOnChatActions", "needs Source %q: a message carries no x-api-key header, while the authorizer's key stays with the connection", ApiKeySourceAuthorizer)
	}
	if k.Plans == nil || len(*k.Plans) == 0 {
		v.fail("ApiKeys.Plans", "must name at least one usage plan: API Gateway accepts only keys of a usage plan of the API's stage")
	}
	for name, plan := range *k.Plans {
		out.plans[name] = v.usagePlan(name, plan)
		out.planNames = append(out.planNames, name)
	}
	sort.Strings(out.planNames)
	s.apiKeys = out
}

// usagePlan checks one of ApiKeys.Plans.
func (v validator) usagePlan(name string, p *UsagePlanOptions) UsagePlanOptions {
	prop := "ApiKeys.Plans[" + name + "]"
	if !planNamePattern.MatchString(name) {
		v.fail("ApiKeys.Plans", "%q must be 1 to 64 letters, digits, _ or -", name)
	}
	if p == nil {
		v.fail(prop, "must not be nil (give &chatapi.UsagePlanOptions{} for a plan without limits)")
	}
	if p.RateLimit != nil {
		v.rate(prop+".RateLimit", *p.RateLimit)
	}
	if p.BurstLimit != nil {
		v.burst(prop+".BurstLimit", *p.BurstLimit)
	}
	if p.QuotaLimit != nil && (*p.QuotaLimit < 1 || *p.QuotaLimit != math.Trunc(*p.QuotaLimit)) {
		v.fail(prop+".QuotaLimit", "must be a whole number of at least 1, got %g", *p.QuotaLimit)
	}
	switch p.QuotaPeriod {
	case "", awsapigatewayv2.Period_DAY, awsapigatewayv2.Period_WEEK, awsapigatewayv2.Period_MONTH:
	default:
		v.fail(prop+".QuotaPeriod", "%q is not one of DAY, WEEK, MONTH", p.QuotaPeriod)
	}
	if p.QuotaPeriod != "" && p.QuotaLimit == nil {
		v.fail(prop+".QuotaPeriod", "is set without QuotaLimit")
	}
	return *p
}

// apiKeyExpression is the API's ApiKeySelectionExpression: nil without API keys.
func (c *webSocketChatApi) apiKeyExpression() awsapigatewayv2.WebSocketApiKeySelectionExpression {
	if c.cfg.apiKeys == nil {
		return nil
	}
	return c.cfg.apiKeys.expression
}

// addApiKeys requires the key on $connect (and the chat actions if asked), makes the usage
// plans on the stage, and tells the authorizer which claim holds the key. Without ApiKeys it
// does nothing.
func (c *webSocketChatApi) addApiKeys() {
	k := c.cfg.apiKeys
	if k == nil {
		return
	}
	// ApiKeyRequired exists on WebSocketRouteProps only, not on the options of AddRoute: set on
	// the routes' L1, which keeps their logical ids.
	required := []string{"$connect"}
	if k.onActions {
		required = append(required, c.cfg.chatActions...)
	}
	for _, key := range required {
		c.routes[key].Node().DefaultChild().(awsapigatewayv2.CfnRoute).SetApiKeyRequired(jsii.Bool(true))
	}
	c.usagePlans = map[string]awsapigatewayv2.UsagePlan{}
	for _, name := range k.planNames {
		c.usagePlans[name] = c.newUsagePlan(name, k.plans[name])
	}
}

// newUsagePlan makes the usage plan name on this API's stage.
func (c *webSocketChatApi) newUsagePlan(name string, p UsagePlanOptions) awsapigatewayv2.UsagePlan {
	props := &awsapigatewayv2.UsagePlanProps{
		UsagePlanName: jsii.String(name),
		Description:   p.Description,
		ApiStages:     &[]*awsapigatewayv2.UsagePlanPerApiStage{{Api: c.api, Stage: c.stage}},
	}
	if p.RateLimit != nil || p.BurstLimit != nil {
		props.Throttle = &awsapigatewayv2.ThrottleSettings{RateLimit: p.RateLimit, BurstLimit: p.BurstLimit}
	}
	if p.QuotaLimit != nil {
		period := p.QuotaPeriod
		if period == "" {
			period = awsapigatewayv2.Period_MONTH
		}
		props.Quota = &awsapigatewayv2.QuotaSettings{Limit: p.QuotaLimit, Period: period}
	}
	return awsapigatewayv2.NewUsagePlan(c.Construct, jsii.String("UsagePlan-"+name), props)
}

// apiKeyAuthorizerEnv adds the key claim to the authorizer's environment.
func (c *webSocketChatApi) apiKeyAuthorizerEnv() {
	if k := c.cfg.apiKeys; k != nil && k.claim != "" && c.authEnv != nil {
		c.authEnv[contract.EnvAuthAPIKeyClaim] = k.claim
	}
}

func (c *webSocketChatApi) UsagePlan(name *string) awsapigatewayv2.UsagePlan {
	if name == nil {
		return nil
	}
	return c.usagePlans[*name]
}

func (c *webSocketChatApi) UsagePlanNames() *[]*string {
	return jsii.Strings(sortedKeys(c.usagePlans)...)
}

func (c *webSocketChatApi) AddApiKey(id *string, plan *string, options *awsapigatewayv2.ApiKeyOptions) awsapigatewayv2.ApiKey {
	const prop = "AddApiKey"
	switch {
	case c.cfg.apiKeys == nil:
		c.v.fail(prop, "API keys are off: set ApiKeys with at least one usage plan first")
	case id == nil || *id == "":
		c.v.fail(prop, "id is required")
	case plan == nil || c.usagePlans[*plan] == nil:
		c.v.fail(prop, "key %q: plan %q is not one of ApiKeys.Plans (%v)", *id, deref(plan), c.cfg.apiKeys.planNames)
	}
	props := &awsapigatewayv2.ApiKeyProps{Enabled: jsii.Bool(true)}
	if options != nil {
		props.ApiKeyName, props.Description, props.Value = options.ApiKeyName, options.Description, options.Value
	}
	if resolved(props.Value) && (len(*props.Value) < MinApiKeyLength || len(*props.Value) > MaxApiKeyLength) {
		c.v.fail(prop+".Value", "key %q: must be %d to %d characters, got %d", *id, MinApiKeyLength, MaxApiKeyLength, len(*props.Value))
	}
	key := awsapigatewayv2.NewApiKey(c.Construct, jsii.String("ApiKey-"+*id), props)
	c.usagePlans[*plan].AddApiKey(key, nil)
	return key
}
