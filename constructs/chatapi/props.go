package chatapi

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
)

// Defaults of WebSocketChatApiProps.
const (
	DefaultRouteSelectionExpression = "$request.body.action"
	DefaultStageName                = "prod"
	DefaultSubprotocol              = "chat.v1"
	DefaultChatMemorySize           = 256
	DefaultHandlerMemorySize        = 128
	DefaultFanoutConcurrency        = 32
	DefaultThrottleRateLimit        = 100
	DefaultThrottleBurstLimit       = 200
	// MaxRoutes is API Gateway's quota of routes per API.
	MaxRoutes = 300
)

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
	// Authentication decides who may connect. Default: CognitoAuthentication(nil), a new
	// Cognito user pool and app client whose ID and access tokens the authorizer accepts.
	Authentication Authentication
	// TokenSources are where the authorizer reads the token. With one source API Gateway
	// itself answers 401 to a handshake without it; with both, the authorizer runs on every
	// handshake and answers 401 itself. Default: both.
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
	// LogRetention is how long the functions' logs are kept. Default: one month.
	LogRetention awslogs.RetentionDays
	// ChatMemorySize is the chat function's memory in MB (128 to 10240). The chat function
	// fans messages out, so it gets more CPU than the others. Default: 256.
	ChatMemorySize *float64
	// HandlerMemorySize is the memory in MB of the authorizer, connect, disconnect and
	// default functions (128 to 10240). Default: 128.
	HandlerMemorySize *float64
	// FanoutConcurrency is how many @connections posts the chat function keeps in flight
	// while broadcasting to a room (1 to 1000). Default: 32.
	FanoutConcurrency *float64
	// Architecture of the functions. Default: ARM_64 (Graviton).
	Architecture awslambda.Architecture
}
