package chatapi

import (
	"math"
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
	apiName               *string
	routeSelection        string
	stageName             string
	chatActions           []string
	auth                  Authentication
	tokenSources          []TokenSource
	connectionTTL         float64 // seconds
	historyRetention      float64 // seconds
	tableRemoval          awscdk.RemovalPolicy
	deletionProtection    bool
	rateLimit             float64
	burstLimit            float64
	logRetention          awslogs.RetentionDays
	chatMemory            float64
	handlerMemory         float64
	fanoutConcurrency     float64
	architecture          awslambda.Architecture
	routeThrottling       map[string]throttle
	ratePerSecond         float64
	rateBurst             float64
	allowedOrigins        []string
	accessLogging         bool
	executionLogLevel     ExecutionLogLevel
	cloudWatchRole        bool
	cloudWatchRoleRemoval awscdk.RemovalPolicy
	alarms                bool
	alarmTopic            awssns.ITopic
	dashboard             bool
	apiKeys               *apiKeySettings        // nil: API keys off
	domain                *customDomain          // nil without CustomDomain
	concurrency           map[string]concurrency // by handler name
	connectionsQuota      float64                // new connections per second
	connectionsAlarmShare float64                // percent of connectionsQuota
	publishing            publishSettings
}

type throttle struct{ rate, burst float64 }

// defaultSettings are the settings of nil props.
func defaultSettings() settings {
	return settings{
		routeSelection:        DefaultRouteSelectionExpression,
		stageName:             DefaultStageName,
		chatActions:           protocol.Actions(),
		auth:                  CognitoAuthentication(nil),
		tokenSources:          []TokenSource{TokenSourceQueryString, TokenSourceSubprotocol},
		connectionTTL:         DefaultConnectionTtl.Seconds(),
		historyRetention:      DefaultHistoryRetention.Seconds(),
		tableRemoval:          awscdk.RemovalPolicy_RETAIN,
		rateLimit:             DefaultThrottleRateLimit,
		burstLimit:            DefaultThrottleBurstLimit,
		logRetention:          DefaultLogRetention,
		chatMemory:            DefaultChatMemorySize,
		handlerMemory:         DefaultHandlerMemorySize,
		fanoutConcurrency:     DefaultFanoutConcurrency,
		architecture:          awslambda.Architecture_ARM_64(),
		routeThrottling:       map[string]throttle{"$connect": {DefaultConnectRateLimit, DefaultConnectBurstLimit}},
		ratePerSecond:         DefaultMessageRatePerSecond,
		rateBurst:             DefaultMessageBurst,
		accessLogging:         true,
		executionLogLevel:     ExecutionLogLevelOff,
		cloudWatchRole:        true,
		cloudWatchRoleRemoval: awscdk.RemovalPolicy_RETAIN,
		alarms:                true,
		dashboard:             true,
		connectionsQuota:      DefaultNewConnectionsQuota,
		connectionsAlarmShare: DefaultNewConnectionsAlarmPercent,
		publishing: publishSettings{
			largeRoomThreshold: DefaultLargeRoomThreshold,
			directMessages:     DirectMessagePolicySharedRoom,
			batchSize:          DefaultPublishBatchSize,
			maxReceiveCount:    DefaultPublishMaxReceiveCount,
		},
	}
}

// resolveProps applies the defaults and checks every rule, panicking with v's construct path.
func resolveProps(v validator, p *WebSocketChatApiProps) settings {
	if p == nil {
		p = &WebSocketChatApiProps{}
	}
	s := defaultSettings()
	s.resolveApi(v, p)
	s.resolveAuth(v, p)
	s.resolveData(v, p)
	s.resolveFunctions(v, p)
	s.resolveThrottling(v, p)
	s.resolveOperations(v, p)
	s.resolveApiKeys(v, p)
	s.resolveProduction(v, p)
	s.publishing.resolve(v, p)
	return s
}

// resolveApi reads ApiName, RouteSelectionExpression, StageName and ChatActions.
func (s *settings) resolveApi(v validator, p *WebSocketChatApiProps) {
	s.apiName = p.ApiName
	if resolved(p.ApiName) && (len(*p.ApiName) == 0 || len(*p.ApiName) > 128) {
		v.fail("ApiName", "must be 1 to 128 characters, got %d", len(*p.ApiName))
	}
	if p.RouteSelectionExpression != nil {
		s.routeSelection = *p.RouteSelectionExpression
		if resolved(p.RouteSelectionExpression) {
			if _, err := selection.Parse(s.routeSelection); err != nil {
				v.fail("RouteSelectionExpression", "%v", err)
			}
		}
	}
	if p.StageName != nil {
		s.stageName = *p.StageName
		if s.stageName == "" {
			v.fail("StageName", "must not be empty")
		}
		if resolved(p.StageName) && !stageNamePattern.MatchString(s.stageName) {
			v.fail("StageName", "%q must be 1 to 128 letters, digits, _ or -", s.stageName)
		}
	}
	if p.ChatActions != nil {
		s.chatActions = v.chatActions(*p.ChatActions)
	}
}

// resolveAuth reads Authentication and TokenSources.
func (s *settings) resolveAuth(v validator, p *WebSocketChatApiProps) {
	if p.Authentication != nil {
		s.auth = p.Authentication
	}
	v.authentication(s.auth)
	if p.TokenSources == nil {
		return
	}
	if _, iam := s.auth.(iamAuth); iam {
		v.fail("TokenSources", "does not apply to IamAuthentication, which signs the handshake with SigV4 instead of sending a token: omit it")
	}
	s.tokenSources = nil
	seen := map[TokenSource]bool{}
	for _, t := range *p.TokenSources {
		if t != TokenSourceQueryString && t != TokenSourceSubprotocol {
			v.fail("TokenSources", "%q is not a token source; valid: %s, %s", t, TokenSourceQueryString, TokenSourceSubprotocol)
		}
		if seen[t] {
			v.fail("TokenSources", "%q is listed twice", t)
		}
		seen[t] = true
		s.tokenSources = append(s.tokenSources, t)
	}
	if len(s.tokenSources) == 0 {
		v.fail("TokenSources", "must name at least one token source")
	}
}

// resolveData reads ConnectionTtl, HistoryRetention and the table's props.
func (s *settings) resolveData(v validator, p *WebSocketChatApiProps) {
	if p.ConnectionTtl != nil {
		s.connectionTTL = v.seconds("ConnectionTtl", p.ConnectionTtl)
		if s.connectionTTL < MinConnectionTtl.Seconds() || s.connectionTTL > MaxConnectionTtl.Seconds() {
			v.fail("ConnectionTtl", "must be between 2 hours (API Gateway's connection cap) and 24 hours, got %gs", s.connectionTTL)
		}
	}
	if p.HistoryRetention != nil {
		s.historyRetention = v.seconds("HistoryRetention", p.HistoryRetention)
		if s.historyRetention < MinHistoryRetention.Seconds() || s.historyRetention > MaxHistoryRetention.Seconds() {
			v.fail("HistoryRetention", "must be between 1 hour and 3650 days, got %gs", s.historyRetention)
		}
	}
	if p.TableRemovalPolicy != "" {
		s.tableRemoval = p.TableRemovalPolicy
	}
	if p.TableDeletionProtection != nil {
		s.deletionProtection = *p.TableDeletionProtection
	}
}

// resolveFunctions reads the functions' props: memory, fan-out, architecture, log retention,
// the per-connection rate limit and the allowed origins.
func (s *settings) resolveFunctions(v validator, p *WebSocketChatApiProps) {
	if p.LogRetention != "" {
		s.logRetention = p.LogRetention
	}
	if p.ChatMemorySize != nil {
		s.chatMemory = v.memory("ChatMemorySize", *p.ChatMemorySize)
	}
	if p.HandlerMemorySize != nil {
		s.handlerMemory = v.memory("HandlerMemorySize", *p.HandlerMemorySize)
	}
	if p.FanoutConcurrency != nil {
		s.fanoutConcurrency = *p.FanoutConcurrency
		if s.fanoutConcurrency < 1 || s.fanoutConcurrency > MaxFanoutConcurrency || s.fanoutConcurrency != math.Trunc(s.fanoutConcurrency) {
			v.fail("FanoutConcurrency", "must be a whole number from 1 to %d, got %g", MaxFanoutConcurrency, s.fanoutConcurrency)
		}
	}
	if p.Architecture != nil {
		s.architecture = p.Architecture
	}
	if r := p.RateLimit; r != nil {
		if r.PerSecond != nil {
			s.ratePerSecond = *r.PerSecond
			if s.ratePerSecond < 0 || math.IsNaN(s.ratePerSecond) {
				v.fail("RateLimit.PerSecond", "must be 0 (off) or more, got %g", s.ratePerSecond)
			}
		}
		if r.Burst != nil {
			s.rateBurst = *r.Burst
			if s.rateBurst < 1 || s.rateBurst != math.Trunc(s.rateBurst) {
				v.fail("RateLimit.Burst", "must be a whole number of at least 1, got %g", s.rateBurst)
			}
		}
	}
	if p.AllowedOrigins != nil {
		for _, o := range *p.AllowedOrigins {
			s.allowedOrigins = append(s.allowedOrigins, v.origin(deref(o)))
		}
		if len(s.allowedOrigins) == 0 {
			v.fail("AllowedOrigins", "must list at least one origin (omit the prop to allow any)")
		}
	}
}

// resolveThrottling reads Throttling and RouteThrottling.
func (s *settings) resolveThrottling(v validator, p *WebSocketChatApiProps) {
	if t := p.Throttling; t != nil {
		if t.RateLimit != nil {
			s.rateLimit = v.rate("Throttling.RateLimit", *t.RateLimit)
		}
		if t.BurstLimit != nil {
			s.burstLimit = v.burst("Throttling.BurstLimit", *t.BurstLimit)
		}
	}
	if p.RouteThrottling == nil {
		return
	}
	s.routeThrottling = map[string]throttle{}
	for key, t := range *p.RouteThrottling {
		if !isBuiltInRoute(key) && !routeKeyPattern.MatchString(key) {
			v.fail("RouteThrottling", "%q is not a route key", key)
		}
		if t == nil || t.RateLimit == nil || t.BurstLimit == nil {
			v.fail("RouteThrottling", "%q needs both RateLimit and BurstLimit", key)
		}
		s.routeThrottling[key] = throttle{
			v.rate("RouteThrottling["+key+"].RateLimit", *t.RateLimit),
			v.burst("RouteThrottling["+key+"].BurstLimit", *t.BurstLimit),
		}
	}
}

// resolveOperations reads the logging, alarm and dashboard props.
func (s *settings) resolveOperations(v validator, p *WebSocketChatApiProps) {
	if p.AccessLogging != nil {
		s.accessLogging = *p.AccessLogging
	}
	switch p.ExecutionLogLevel {
	case "":
	case ExecutionLogLevelOff, ExecutionLogLevelError, ExecutionLogLevelInfo:
		s.executionLogLevel = p.ExecutionLogLevel
	default:
		v.fail("ExecutionLogLevel", "%q is not one of OFF, ERROR, INFO", p.ExecutionLogLevel)
	}
	if p.CloudWatchRole != nil {
		s.cloudWatchRole = *p.CloudWatchRole
	}
	if p.CloudWatchRoleRemovalPolicy != "" {
		s.cloudWatchRoleRemoval = p.CloudWatchRoleRemovalPolicy
	}
	if p.Alarms != nil {
		s.alarms = *p.Alarms
	}
	if p.Dashboard != nil {
		s.dashboard = *p.Dashboard
	}
	s.alarmTopic = p.AlarmTopic
	if p.AlarmTopic != nil && !s.alarms {
		v.fail("AlarmTopic", "is set but Alarms is false")
	}
}

// logging says whether the stage writes any logs, which needs the account's CloudWatch role.
func (s *settings) logging() bool {
	return s.accessLogging || s.executionLogLevel != ExecutionLogLevelOff
}

// chatActions checks the ChatActions prop: built-in actions, no duplicates, at least one.
func (v validator) chatActions(actions []*string) []string {
	var out []string
	seen := map[string]bool{}
	for _, a := range actions {
		name := jsii.String("")
		if a != nil {
			name = a
		}
		if !protocol.IsAction(*name) {
			v.fail("ChatActions", "%q is not a chat action; valid: %s", *name, strings.Join(protocol.Actions(), ", "))
		}
		if seen[*name] {
			v.fail("ChatActions", "%q is listed twice", *name)
		}
		seen[*name] = true
		out = append(out, *name)
	}
	if len(out) == 0 {
		v.fail("ChatActions", "must name at least one chat action (omit the prop for all of them)")
	}
	return out
}

// resolveProduction reads CustomDomain, Concurrency, NewConnectionsQuota and
// NewConnectionsAlarmPercent.
func (s *settings) resolveProduction(v validator, p *WebSocketChatApiProps) {
	if p.CustomDomain != nil {
		s.domain = v.customDomain(*p.CustomDomain)
	}
	if p.Concurrency != nil {
		s.concurrency = v.concurrency(*p.Concurrency, s.auth)
	}
	if p.NewConnectionsQuota != nil {
		s.connectionsQuota = *p.NewConnectionsQuota
		if !(s.connectionsQuota > 0) || math.IsInf(s.connectionsQuota, 0) {
			v.fail("NewConnectionsQuota", "must be a number of new connections per second greater than 0, got %g", s.connectionsQuota)
		}
	}
	if p.NewConnectionsAlarmPercent != nil {
		s.connectionsAlarmShare = *p.NewConnectionsAlarmPercent
		if !(s.connectionsAlarmShare > 0 && s.connectionsAlarmShare <= 100) {
			v.fail("NewConnectionsAlarmPercent", "must be over 0 and at most 100 (percent of NewConnectionsQuota), got %g", s.connectionsAlarmShare)
		}
	}
}
