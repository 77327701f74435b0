package chatapi

import (
	"fmt"
	"math"
	"net/url"
	"regexp"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/jsii-runtime-go"

	"github.com/chatstack/websocketchatapi/protocol"
	"github.com/chatstack/websocketchatapi/protocol/selection"
)

// settings are the props with defaults applied and every rule checked.
type settings struct {
	apiName            *string
	routeSelection     string
	stageName          string
	chatActions        []string
	auth               Authentication
	tokenSources       []TokenSource
	connectionTTL      float64 // seconds
	historyRetention   float64 // seconds
	tableRemoval       awscdk.RemovalPolicy
	deletionProtection bool
	rateLimit          float64
	burstLimit         float64
	logRetention       awslogs.RetentionDays
	chatMemory         float64
	handlerMemory      float64
	fanoutConcurrency  float64
	architecture       awslambda.Architecture
	routeThrottling    map[string]throttle
	ratePerSecond      float64
	rateBurst          float64
	allowedOrigins     []string
	accessLogging      bool
	executionLogLevel  ExecutionLogLevel
	cloudWatchRole     bool
	alarms             bool
	alarmTopic         awssns.ITopic
	dashboard          bool
}

type throttle struct{ rate, burst float64 }

var (
	stageNamePattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)
	routeKeyPattern  = regexp.MustCompile(`^[A-Za-z0-9_.:-]{1,128}$`)
)

// invalid panics with a message that names the prop and the rule, as aws-cdk-lib does.
func invalid(prop, format string, args ...any) {
	panic(fmt.Sprintf("chatapi: %s: %s", prop, fmt.Sprintf(format, args...)))
}

func resolved(s *string) bool { return s != nil && !*awscdk.Token_IsUnresolved(s) }

// resolveProps applies the defaults and checks every rule.
func resolveProps(p *WebSocketChatApiProps) settings {
	if p == nil {
		p = &WebSocketChatApiProps{}
	}
	s := settings{
		apiName:           p.ApiName,
		routeSelection:    DefaultRouteSelectionExpression,
		stageName:         DefaultStageName,
		chatActions:       protocol.Actions(),
		auth:              p.Authentication,
		tokenSources:      []TokenSource{TokenSourceQueryString, TokenSourceSubprotocol},
		connectionTTL:     (2*60 + 10) * 60,
		historyRetention:  30 * 24 * 3600,
		tableRemoval:      awscdk.RemovalPolicy_RETAIN,
		rateLimit:         DefaultThrottleRateLimit,
		burstLimit:        DefaultThrottleBurstLimit,
		logRetention:      awslogs.RetentionDays_ONE_MONTH,
		chatMemory:        DefaultChatMemorySize,
		handlerMemory:     DefaultHandlerMemorySize,
		fanoutConcurrency: DefaultFanoutConcurrency,
		architecture:      awslambda.Architecture_ARM_64(),
		routeThrottling:   map[string]throttle{"$connect": {DefaultConnectRateLimit, DefaultConnectBurstLimit}},
		ratePerSecond:     DefaultMessageRatePerSecond,
		rateBurst:         DefaultMessageBurst,
		accessLogging:     true,
		executionLogLevel: ExecutionLogLevelOff,
		cloudWatchRole:    true,
		alarms:            true,
		alarmTopic:        p.AlarmTopic,
		dashboard:         true,
	}
	if resolved(p.ApiName) && (len(*p.ApiName) == 0 || len(*p.ApiName) > 128) {
		invalid("ApiName", "must be 1 to 128 characters, got %d", len(*p.ApiName))
	}
	if p.RouteSelectionExpression != nil {
		s.routeSelection = *p.RouteSelectionExpression
		if resolved(p.RouteSelectionExpression) {
			if _, err := selection.Parse(s.routeSelection); err != nil {
				invalid("RouteSelectionExpression", "%v", err)
			}
		}
	}
	if p.StageName != nil {
		s.stageName = *p.StageName
		if s.stageName == "" {
			invalid("StageName", "must not be empty")
		}
		if resolved(p.StageName) && !stageNamePattern.MatchString(s.stageName) {
			invalid("StageName", "%q must be 1 to 128 letters, digits, _ or -", s.stageName)
		}
	}
	if p.ChatActions != nil {
		s.chatActions = nil
		seen := map[string]bool{}
		for _, a := range *p.ChatActions {
			name := jsii.String("")
			if a != nil {
				name = a
			}
			if !protocol.IsAction(*name) {
				invalid("ChatActions", "%q is not a chat action; valid: %s", *name, strings.Join(protocol.Actions(), ", "))
			}
			if seen[*name] {
				invalid("ChatActions", "%q is listed twice", *name)
			}
			seen[*name] = true
			s.chatActions = append(s.chatActions, *name)
		}
		if len(s.chatActions) == 0 {
			invalid("ChatActions", "must name at least one chat action (omit the prop for all of them)")
		}
	}
	if s.auth == nil {
		s.auth = CognitoAuthentication(nil)
	}
	checkAuthentication(s.auth)
	if p.TokenSources != nil {
		s.tokenSources = nil
		seen := map[TokenSource]bool{}
		for _, t := range *p.TokenSources {
			if t != TokenSourceQueryString && t != TokenSourceSubprotocol {
				invalid("TokenSources", "%q is not a token source; valid: %s, %s", t, TokenSourceQueryString, TokenSourceSubprotocol)
			}
			if seen[t] {
				invalid("TokenSources", "%q is listed twice", t)
			}
			seen[t] = true
			s.tokenSources = append(s.tokenSources, t)
		}
		if len(s.tokenSources) == 0 {
			invalid("TokenSources", "must name at least one token source")
		}
	}
	if p.ConnectionTtl != nil {
		s.connectionTTL = seconds("ConnectionTtl", p.ConnectionTtl)
		if s.connectionTTL < 2*3600 || s.connectionTTL > 24*3600 {
			invalid("ConnectionTtl", "must be between 2 hours (API Gateway's connection cap) and 24 hours, got %gs", s.connectionTTL)
		}
	}
	if p.HistoryRetention != nil {
		s.historyRetention = seconds("HistoryRetention", p.HistoryRetention)
		if s.historyRetention < 3600 || s.historyRetention > 3650*24*3600 {
			invalid("HistoryRetention", "must be between 1 hour and 3650 days, got %gs", s.historyRetention)
		}
	}
	if p.TableRemovalPolicy != "" {
		s.tableRemoval = p.TableRemovalPolicy
	}
	if p.TableDeletionProtection != nil {
		s.deletionProtection = *p.TableDeletionProtection
	}
	if t := p.Throttling; t != nil {
		if t.RateLimit != nil {
			s.rateLimit = checkRate("Throttling.RateLimit", *t.RateLimit)
		}
		if t.BurstLimit != nil {
			s.burstLimit = checkBurst("Throttling.BurstLimit", *t.BurstLimit)
		}
	}
	if p.LogRetention != "" {
		s.logRetention = p.LogRetention
	}
	if p.ChatMemorySize != nil {
		s.chatMemory = memory("ChatMemorySize", *p.ChatMemorySize)
	}
	if p.HandlerMemorySize != nil {
		s.handlerMemory = memory("HandlerMemorySize", *p.HandlerMemorySize)
	}
	if p.FanoutConcurrency != nil {
		s.fanoutConcurrency = *p.FanoutConcurrency
		if s.fanoutConcurrency < 1 || s.fanoutConcurrency > 1000 || s.fanoutConcurrency != math.Trunc(s.fanoutConcurrency) {
			invalid("FanoutConcurrency", "must be a whole number from 1 to 1000, got %g", s.fanoutConcurrency)
		}
	}
	if p.Architecture != nil {
		s.architecture = p.Architecture
	}
	if p.RouteThrottling != nil {
		s.routeThrottling = map[string]throttle{}
		for key, t := range *p.RouteThrottling {
			if key != "$connect" && key != "$disconnect" && key != "$default" && !routeKeyPattern.MatchString(key) {
				invalid("RouteThrottling", "%q is not a route key", key)
			}
			if t == nil || t.RateLimit == nil || t.BurstLimit == nil {
				invalid("RouteThrottling", "%q needs both RateLimit and BurstLimit", key)
			}
			s.routeThrottling[key] = throttle{checkRate("RouteThrottling["+key+"].RateLimit", *t.RateLimit), checkBurst("RouteThrottling["+key+"].BurstLimit", *t.BurstLimit)}
		}
	}
	if r := p.RateLimit; r != nil {
		if r.PerSecond != nil {
			s.ratePerSecond = *r.PerSecond
			if s.ratePerSecond < 0 || math.IsNaN(s.ratePerSecond) {
				invalid("RateLimit.PerSecond", "must be 0 (off) or more, got %g", s.ratePerSecond)
			}
		}
		if r.Burst != nil {
			s.rateBurst = *r.Burst
			if s.rateBurst < 1 || s.rateBurst != math.Trunc(s.rateBurst) {
				invalid("RateLimit.Burst", "must be a whole number of at least 1, got %g", s.rateBurst)
			}
		}
	}
	if p.AllowedOrigins != nil {
		for _, o := range *p.AllowedOrigins {
			s.allowedOrigins = append(s.allowedOrigins, checkOrigin(deref(o)))
		}
		if len(s.allowedOrigins) == 0 {
			invalid("AllowedOrigins", "must list at least one origin (omit the prop to allow any)")
		}
	}
	if p.AccessLogging != nil {
		s.accessLogging = *p.AccessLogging
	}
	if p.ExecutionLogLevel != "" {
		switch p.ExecutionLogLevel {
		case ExecutionLogLevelOff, ExecutionLogLevelError, ExecutionLogLevelInfo:
			s.executionLogLevel = p.ExecutionLogLevel
		default:
			invalid("ExecutionLogLevel", "%q is not one of OFF, ERROR, INFO", p.ExecutionLogLevel)
		}
	}
	if p.CloudWatchRole != nil {
		s.cloudWatchRole = *p.CloudWatchRole
	}
	if p.Alarms != nil {
		s.alarms = *p.Alarms
	}
	if p.Dashboard != nil {
		s.dashboard = *p.Dashboard
	}
	if p.AlarmTopic != nil && !s.alarms {
		invalid("AlarmTopic", "is set but Alarms is false")
	}
	return s
}

func checkRate(prop string, v float64) float64 {
	if v <= 0 || math.IsNaN(v) {
		invalid(prop, "must be greater than 0, got %g", v)
	}
	return v
}

func checkBurst(prop string, v float64) float64 {
	if v < 0 || v != math.Trunc(v) {
		invalid(prop, "must be a whole number of at least 0, got %g", v)
	}
	return v
}

// checkOrigin accepts "*" or scheme://host[:port], as browsers send the Origin header.
func checkOrigin(o string) string {
	if o == "*" {
		return o
	}
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
		invalid("AllowedOrigins", "%q must be an origin: scheme://host[:port], no path", o)
	}
	return u.Scheme + "://" + u.Host
}

func seconds(prop string, d awscdk.Duration) float64 {
	defer func() {
		if r := recover(); r != nil {
			invalid(prop, "must be a concrete duration, not a token (%v)", r)
		}
	}()
	return *d.ToSeconds(nil)
}

func memory(prop string, mb float64) float64 {
	if mb < 128 || mb > 10240 || mb != math.Trunc(mb) {
		invalid(prop, "must be a whole number of MB from 128 to 10240, got %g", mb)
	}
	return mb
}

func checkAuthentication(a Authentication) {
	switch a := a.(type) {
	case cognitoAuth:
		if a.props.UserPool != nil && (a.props.UserPoolClients == nil || len(*a.props.UserPoolClients) == 0) {
			invalid("Authentication.UserPoolClients", "must name the app clients whose tokens are accepted when UserPool is given")
		}
		if a.props.TokenUse != nil {
			if len(*a.props.TokenUse) == 0 {
				invalid("Authentication.TokenUse", "must name at least one of id, access")
			}
			for _, u := range *a.props.TokenUse {
				if u == nil || (*u != "id" && *u != "access") {
					invalid("Authentication.TokenUse", "%q is not a Cognito token use; valid: id, access", deref(u))
				}
			}
		}
	case oidcAuth:
		if a.props.IssuerUrl == nil || *a.props.IssuerUrl == "" {
			invalid("Authentication.IssuerUrl", "is required")
		}
		if resolved(a.props.IssuerUrl) {
			checkHTTPS("Authentication.IssuerUrl", *a.props.IssuerUrl)
		}
		if a.props.Audiences == nil || len(*a.props.Audiences) == 0 {
			invalid("Authentication.Audiences", "must name at least one accepted audience (client id)")
		}
		for _, aud := range *a.props.Audiences {
			if aud == nil || *aud == "" || strings.Contains(*aud, ",") {
				invalid("Authentication.Audiences", "%q must be non-empty and contain no comma", deref(aud))
			}
		}
		if resolved(a.props.JwksUrl) {
			checkHTTPS("Authentication.JwksUrl", *a.props.JwksUrl)
		}
	case noAuth:
	default:
		invalid("Authentication", "unknown kind %T: use CognitoAuthentication, OidcAuthentication or NoAuthentication", a)
	}
}

func checkHTTPS(prop, raw string) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		invalid(prop, "%q must be an https URL", raw)
	}
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

// checkRouteKey checks a route key given to AddRoute against the keys the API already has.
func checkRouteKey[V any](key string, existing map[string]V) {
	switch {
	case key == "":
		invalid("AddRoute", "route key must not be empty")
	case key == "$connect" || key == "$disconnect" || key == "$default":
		invalid("AddRoute", "route key %q is reserved: the construct owns $connect, $disconnect and $default", key)
	case strings.HasPrefix(key, "$"):
		invalid("AddRoute", "route key %q must not start with $ (reserved by API Gateway)", key)
	case !routeKeyPattern.MatchString(key):
		invalid("AddRoute", "route key %q must be 1 to 128 letters, digits, _ . : or -", key)
	case has(existing, key):
		invalid("AddRoute", "route key %q already exists", key)
	case len(existing) >= MaxRoutes:
		invalid("AddRoute", "route %q would be route %d: API Gateway allows at most %d routes per API", key, len(existing)+1, MaxRoutes)
	}
}

func has[V any](m map[string]V, k string) bool {
	_, ok := m[k]
	return ok
}
