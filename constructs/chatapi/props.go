package chatapi

import (
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"

	"github.com/chatstack/websocketchatapi/internal/contract"
)

// Defaults of WebSocketChatApiProps: the value each prop takes when it is nil or empty.
const (
	// DefaultRouteSelectionExpression is the default RouteSelectionExpression.
	DefaultRouteSelectionExpression = contract.DefaultRouteSelection
	// DefaultStageName is the default StageName.
	DefaultStageName = "prod"
	// DefaultSubprotocol is the WebSocket subprotocol that $connect echoes to a client that
	// offers its token in Sec-WebSocket-Protocol (see TokenSourceSubprotocol).
	DefaultSubprotocol = contract.Subprotocol
	// DefaultConnectionTtl is the default ConnectionTtl: a little over API Gateway's 2-hour
	// connection cap, since $disconnect is best effort.
	DefaultConnectionTtl = contract.DefaultConnectionTTL
	// DefaultHistoryRetention is the default HistoryRetention.
	DefaultHistoryRetention = contract.DefaultHistoryRetention
	// DefaultLogRetention is the default LogRetention.
	DefaultLogRetention = awslogs.RetentionDays_ONE_MONTH
	// DefaultChatMemorySize is the default ChatMemorySize, in MB.
	DefaultChatMemorySize = 512
	// DefaultHandlerMemorySize is the default HandlerMemorySize, in MB, and the memory of a
	// function that AddRoute builds from a Go package.
	DefaultHandlerMemorySize = 128
	// DefaultFanoutConcurrency is the default FanoutConcurrency.
	DefaultFanoutConcurrency = contract.DefaultFanoutConcurrency
	// DefaultThrottleRateLimit and DefaultThrottleBurstLimit are the default Throttling.
	DefaultThrottleRateLimit  = 100
	DefaultThrottleBurstLimit = 200
	// DefaultConnectRateLimit and DefaultConnectBurstLimit are the default RouteThrottling of
	// $connect.
	DefaultConnectRateLimit  = 50
	DefaultConnectBurstLimit = 100
	// DefaultMessageRatePerSecond and DefaultMessageBurst are the default RateLimit.
	DefaultMessageRatePerSecond = contract.DefaultRateLimitPerSecond
	DefaultMessageBurst         = contract.DefaultRateLimitBurst
	// MaxRoutes is API Gateway's quota of routes per API.
	MaxRoutes = 300
	// DefaultNewConnectionsQuota is the default NewConnectionsQuota: API Gateway's default
	// quota of new connections per second per account and region.
	DefaultNewConnectionsQuota = 500
	// DefaultNewConnectionsAlarmPercent is the default NewConnectionsAlarmPercent.
	DefaultNewConnectionsAlarmPercent = 80
	// LiveAliasName is the alias API Gateway invokes when a function has provisioned
	// concurrency.
	LiveAliasName = "live"
	// DefaultLargeRoomThreshold is the default LargeRoomThreshold, in members.
	DefaultLargeRoomThreshold = contract.DefaultLargeRoomThreshold
	// DefaultPublishBatchSize is the default PublishBatchSize.
	DefaultPublishBatchSize = contract.DefaultPublishBatchSize
	// DefaultPublishMaxReceiveCount is the default PublishMaxReceiveCount.
	DefaultPublishMaxReceiveCount = contract.DefaultPublishMaxReceiveCount
)

// Bounds of WebSocketChatApiProps: a prop outside them panics at synth.
const (
	// MinConnectionTtl is API Gateway's connection cap: a connection item must outlive its
	// connection. MaxConnectionTtl is the longest ConnectionTtl.
	MinConnectionTtl = contract.MaxConnectionDuration
	MaxConnectionTtl = contract.MaxConnectionTTL
	// MinHistoryRetention and MaxHistoryRetention bound HistoryRetention.
	MinHistoryRetention = time.Hour
	MaxHistoryRetention = 3650 * 24 * time.Hour
	// MinMemorySize and MaxMemorySize bound every memory prop, in MB (Lambda's limits).
	MinMemorySize = 128
	MaxMemorySize = 10240
	// MaxFanoutConcurrency bounds FanoutConcurrency.
	MaxFanoutConcurrency = contract.MaxFanoutConcurrency
	// MaxLargeRoomThreshold bounds LargeRoomThreshold: below it, a broadcast reads the room's
	// members inside the sender's invocation.
	MaxLargeRoomThreshold = contract.MaxLargeRoomThreshold
	// MaxPublishBatchSize bounds PublishBatchSize: Lambda's largest SQS batch without a
	// batching window.
	MaxPublishBatchSize = 10
	// MaxPublishMaxReceiveCount bounds PublishMaxReceiveCount (SQS's redrive policy allows 1 to
	// 1000).
	MaxPublishMaxReceiveCount = 1000
	// MinPublishMaxConcurrency and MaxPublishMaxConcurrency bound PublishMaxConcurrency (the
	// SQS event source mapping's MaximumConcurrency).
	MinPublishMaxConcurrency = 2
	MaxPublishMaxConcurrency = 1000
)

// DirectMessagePolicy is who may send a direct message to whom (WebSocketChatApiProps.DirectMessages).
type DirectMessagePolicy string

const (
	// DirectMessagePolicyAny lets any connected user send a direct message to any known user.
	DirectMessagePolicyAny DirectMessagePolicy = contract.DirectMessagesAny
	// DirectMessagePolicySharedRoom lets a user send a direct message only to users who share a
	// room with them.
	DirectMessagePolicySharedRoom DirectMessagePolicy = contract.DirectMessagesSharedRoom
	// DirectMessagePolicyOff refuses every direct message.
	DirectMessagePolicyOff DirectMessagePolicy = contract.DirectMessagesOff
)

// ExecutionLogLevel is the level of API Gateway's execution logs for the stage.
type ExecutionLogLevel string

const (
	// ExecutionLogLevelOff writes no execution logs (access logs are separate).
	ExecutionLogLevelOff ExecutionLogLevel = "OFF"
	// ExecutionLogLevelError logs failed requests.
	ExecutionLogLevelError ExecutionLogLevel = "ERROR"
	// ExecutionLogLevelInfo logs every request. Message bodies are never logged (data trace
	// stays off).
	ExecutionLogLevelInfo ExecutionLogLevel = "INFO"
)

// RateLimitProps is the per-connection limit on chat actions, a token bucket kept in DynamoDB.
type RateLimitProps struct {
	// PerSecond is the refill rate; 0 turns the limit off. Default: 10.
	PerSecond *float64
	// Burst is the bucket size, a whole number of at least 1. Default: 20.
	Burst *float64
}

// TokenSource is where the authorizer looks for the client's token on the $connect handshake.
// Browsers cannot set headers on a WebSocket handshake, hence these two.
type TokenSource string

const (
	// TokenSourceQueryString reads the `token` query string parameter: wss://...?token=<jwt>.
	TokenSourceQueryString TokenSource = "querystring"
	// TokenSourceSubprotocol reads the Sec-WebSocket-Protocol header, where the client offers
	// "chat.v1" and "bearer.<jwt>"; the $connect handler echoes "chat.v1".
	TokenSourceSubprotocol TokenSource = "subprotocol"
)

// ThrottleProps are the stage's default route throttling limits.
type ThrottleProps struct {
	// RateLimit is the steady-state limit, in requests (messages and connects) per second.
	// Default: 100.
	RateLimit *float64
	// BurstLimit is the bucket size, in requests. Default: 200.
	BurstLimit *float64
}

// WebSocketChatApiProps configures WebSocketChatApi. Every field is optional.
type WebSocketChatApiProps struct {
	// ApiName is the name of the WebSocket API, 1 to 128 characters.
	// Default: the construct's unique id within the app.
	ApiName *string
	// RouteSelectionExpression selects a message's route from its body, e.g.
	// "$request.body.action" or "${request.body.type}-${request.body.op}".
	// Default: "$request.body.action".
	RouteSelectionExpression *string
	// StageName is the stage the API is deployed to (auto-deploy is on): letters, digits,
	// _ and -, 1 to 128 characters. Default: "prod".
	StageName *string
	// ChatActions are the built-in chat actions to serve, each a route of the chat function:
	// any of "sendmessage", "joinroom", "leaveroom", "history".
	// Default: all four.
	ChatActions *[]*string
	// Authentication decides who may connect: CognitoAuthentication, OidcAuthentication (a
	// token checked by the authorizer function), IamAuthentication (SigV4-signed handshakes of
	// AWS principals allowed by IAM, no authorizer function) or NoAuthentication.
	// Default: CognitoAuthentication(nil), a new Cognito user pool and app client whose ID and
	// access tokens the authorizer accepts.
	Authentication Authentication
	// TokenSources are where the authorizer reads the token. With one source API Gateway
	// itself answers 401 to a handshake without it; with both, the authorizer runs on every
	// handshake and answers 401 itself. Refused with IamAuthentication (no token). Default:
	// both.
	TokenSources *[]TokenSource
	// ConnectionTtl is how long connection and membership items live (DynamoDB TTL) when
	// $disconnect never arrives ($disconnect is best effort). At least API Gateway's 2 h
	// connection cap, at most 24 h. Default: 2 h 10 min.
	ConnectionTtl awscdk.Duration
	// HistoryRetention is how long messages are kept for history: 1 hour to 3650 days.
	// Default: 30 days.
	HistoryRetention awscdk.Duration
	// TableRemovalPolicy applies to the DynamoDB table. Default: RemovalPolicy.RETAIN, so
	// deleting the stack never deletes chat data; DESTROY must be asked for.
	TableRemovalPolicy awscdk.RemovalPolicy
	// TableDeletionProtection turns on DynamoDB deletion protection. Default: false.
	TableDeletionProtection *bool
	// Throttling is the stage's default route throttling. Default: 100 requests/s, burst 200.
	Throttling *ThrottleProps
	// LogRetention is how long the functions' logs (and the access logs) are kept.
	// Default: one month.
	LogRetention awslogs.RetentionDays
	// ChatMemorySize is the memory in MB of the chat and publish functions (128 to 10240).
	// Both fan messages out, and Lambda allocates CPU with memory, so this bounds how fast a
	// broadcast reaches a room; BENCHMARKS.md has the measured trade-off. Default: 512.
	ChatMemorySize *float64
	// HandlerMemorySize is the memory in MB of the authorizer, connect, disconnect and
	// default functions (128 to 10240). Default: 128.
	HandlerMemorySize *float64
	// FanoutConcurrency is how many @connections posts the chat and publish functions keep in
	// flight while broadcasting to a room, or to one shard of a large room (1 to 1000).
	// Default: 32.
	FanoutConcurrency *float64
	// Architecture of the functions. Default: ARM_64 (Graviton).
	Architecture awslambda.Architecture
	// RouteThrottling sets throttling for single routes, by route key, on top of Throttling.
	// Default: $connect at 50 requests/s, burst 100 (each connect runs the authorizer and a
	// write). Give an empty map for none.
	RouteThrottling *map[string]*ThrottleProps
	// RateLimit limits each connection's chat actions; over the limit a client gets a
	// rate_limited error frame and nothing else happens. Default: 10/s, burst 20.
	RateLimit *RateLimitProps
	// AllowedOrigins lists the browser origins (scheme://host[:port]) allowed to open a
	// connection, against Cross-Site WebSocket Hijacking: a handshake whose Origin header is
	// not listed is refused at $connect with 403. Clients that send no Origin (non-browsers)
	// are not affected. List the origins of the pages that open the socket, usually the site
	// (https://www.example.com) and, with CustomDomain, the domain's own origin
	// (https://chat.example.com) when a page is served from it; the wss:// URL is not an
	// origin. Default: any origin.
	AllowedOrigins *[]*string
	// AccessLogging writes one JSON access log line per connect, message and disconnect to a
	// log group with LogRetention. Default: true.
	AccessLogging *bool
	// ExecutionLogLevel turns on API Gateway's execution logs. Default: OFF.
	ExecutionLogLevel ExecutionLogLevel
	// CloudWatchRole sets the account-level role (AWS::ApiGateway::Account) that API Gateway
	// needs to write WebSocket access or execution logs. It is one setting per account and
	// region: turn this off when the account already has one (or another stack sets it).
	// Default: true when any logging is on.
	CloudWatchRole *bool
	// CloudWatchRoleRemovalPolicy applies to that role and the account setting. The setting
	// is the account's and region's, not the stack's: deleting the role breaks logging for
	// every API Gateway API there, which is why CDK's RestApi retains it too.
	// Default: RemovalPolicy.RETAIN.
	CloudWatchRoleRemovalPolicy awscdk.RemovalPolicy
	// Alarms creates CloudWatch alarms, each described with what to do when it fires.
	// Default: true.
	Alarms *bool
	// AlarmTopic receives the alarms' ALARM and OK notifications. Default: no actions, and a
	// synth warning that the alarms notify no one.
	AlarmTopic awssns.ITopic
	// Dashboard creates a CloudWatch dashboard of connections, messages, errors, latency and
	// fan-out. Default: true.
	Dashboard *bool
	// ApiKeys requires an API key of one of its usage plans on $connect (and, if asked, on
	// the chat actions); each plan throttles and caps its keys. Add keys with AddApiKey.
	// Default: nil, no API keys (the template has no key, plan or ApiKeyRequired).
	ApiKeys *ApiKeysProps

	// CustomDomain serves the API on a custom domain name (regional endpoint, TLS 1.2, the only
	// kinds API Gateway allows for WebSocket APIs): WebSocketUrl becomes
	// wss://<domain>[/<MappingKey>], while the callback URL stays on execute-api. See
	// CustomDomainProps. Default: none; clients use wss://{apiId}.execute-api.{region}.amazonaws.com/{stage}.
	CustomDomain *CustomDomainProps
	// Concurrency sets reserved and provisioned concurrency per function, by the name of a
	// function the construct bundles: "authorizer", "chat", "connect", "default",
	// "disconnect", "publish". With provisioned concurrency API Gateway invokes the function's "live"
	// alias. See FunctionConcurrencyProps for the rules and what each costs.
	// Default: none (every function scales on the account's unreserved concurrency).
	Concurrency *map[string]*FunctionConcurrencyProps
	// NewConnectionsQuota is the account's quota of new WebSocket connections per second in
	// this region, across all its WebSocket APIs (API Gateway's default is 500; raise this prop
	// when Service Quotas raised the quota). Default: 500.
	NewConnectionsQuota *float64
	// NewConnectionsAlarmPercent is the share of NewConnectionsQuota, in percent (over 0, at
	// most 100), at which the NewConnectionRate alarm fires: this stage's connects per second,
	// averaged over a minute. Default: 80.
	NewConnectionsAlarmPercent *float64

	// LargeRoomThreshold is the member count above which a room's
	// broadcasts are queued: the message is stored and acknowledged as queued, and the publish
	// function fans it out in shards, in parallel, from the publish queue. At or below it the
	// sender's invocation delivers (lowest latency). A whole number from 0 to 20,000; 0 never
	// queues. Default: 1000.
	LargeRoomThreshold *float64
	// DirectMessages is who may send a direct message (the `direct` action) to whom.
	// Default: DirectMessagePolicySharedRoom.
	DirectMessages DirectMessagePolicy
	// PublishBatchSize is how many publish queue messages (publish requests and fan-out
	// shards) one invocation of the publish function receives: 1 to 10. Default: 10.
	PublishBatchSize *float64
	// PublishMaxReceiveCount is how many times a publish queue message is received before it
	// moves to the dead-letter queue (whose PublishDeadLetters alarm fires): 1 to 1000. AWS
	// advises at least 5 for a Lambda event source, so that throttling alone does not
	// dead-letter a message. Default: 5.
	PublishMaxReceiveCount *float64
	// PublishMaxConcurrency caps the concurrent invocations of the publish function that the
	// publish queue makes (the event source mapping's MaximumConcurrency), 2 to 1000: a bound
	// on the @connections rate and the table's load that a burst of large-room broadcasts can
	// cause. Default: none (the queue scales the function up to the account's concurrency).
	PublishMaxConcurrency *float64
}
