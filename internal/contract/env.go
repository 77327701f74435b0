package contract

// Environment variables of the handlers. The construct sets each on the functions that read
// it; [EnvLogLevel] is the one exception, an operator's override that the construct leaves
// unset.
const (
	// EnvLogLevel is the handlers' log level (debug, info, warn, error). Default: info.
	EnvLogLevel = "LOG_LEVEL"
	// EnvTableName is the chat table's name.
	EnvTableName = "TABLE_NAME"
	// EnvConnectionTTLSeconds is how long a connection item lives, in whole seconds.
	EnvConnectionTTLSeconds = "CONNECTION_TTL_SECONDS"
	// EnvSubprotocol is the WebSocket subprotocol $connect echoes when a client offers a token
	// in Sec-WebSocket-Protocol.
	EnvSubprotocol = "SUBPROTOCOL"
	// EnvCallbackURL is the stage's https URL, built from API id, region and stage, that the
	// handlers post to (its @connections endpoint).
	EnvCallbackURL = "CALLBACK_URL"
	// EnvHistoryRetentionSeconds is how long messages are kept, in whole seconds.
	EnvHistoryRetentionSeconds = "HISTORY_RETENTION_SECONDS"
	// EnvFanoutConcurrency bounds the posts in flight of one broadcast.
	EnvFanoutConcurrency = "FANOUT_CONCURRENCY"
	// EnvChatActions lists the route keys a client may send, comma-separated.
	EnvChatActions = "CHAT_ACTIONS"
	// EnvRouteSelection is the API's route selection expression.
	EnvRouteSelection = "ROUTE_SELECTION_EXPRESSION"
	// EnvAllowedOrigins lists the browser origins allowed to connect, comma-separated; unset
	// allows any.
	EnvAllowedOrigins = "ALLOWED_ORIGINS"
	// EnvRateLimitPerSecond is each connection's token refill rate; 0 turns the limit off.
	EnvRateLimitPerSecond = "RATE_LIMIT_PER_SECOND"
	// EnvRateLimitBurst is each connection's token bucket size.
	EnvRateLimitBurst = "RATE_LIMIT_BURST"
	// EnvMetricsNamespace is the CloudWatch namespace of the chat handler's metrics.
	EnvMetricsNamespace = "METRICS_NAMESPACE"
	// EnvMetricsService is the value of the metrics' [DimensionService].
	EnvMetricsService = "METRICS_SERVICE"
)

// Environment variables of the authorizer.
const (
	// EnvAuthIssuer is the expected "iss" claim, an https URL.
	EnvAuthIssuer = "AUTH_ISSUER"
	// EnvAuthAudiences lists the accepted audiences or client ids, comma-separated.
	EnvAuthAudiences = "AUTH_AUDIENCES"
	// EnvAuthJWKSURL is the issuer's JWKS URL. Default: <issuer>/.well-known/jwks.json.
	EnvAuthJWKSURL = "AUTH_JWKS_URL"
	// EnvAuthTokenUse lists the accepted "token_use" claims (id, access), comma-separated.
	EnvAuthTokenUse = "AUTH_TOKEN_USE"
	// EnvAuthAPIKeyClaim names the JWT claim whose value the authorizer returns as the
	// connection's API key (usageIdentifierKey); unset: the authorizer returns no key.
	EnvAuthAPIKeyClaim = "AUTH_API_KEY_CLAIM"
)

// Environment variables of the chat and publish functions for publishing and large rooms.
const (
	// EnvPublishQueueURL is the publish queue's URL: where a broadcast to a large room is
	// queued in shards, and where the publish function reads publish requests.
	EnvPublishQueueURL = "PUBLISH_QUEUE_URL"
	// EnvLargeRoomThreshold is the member count above which a room's broadcasts are queued
	// rather than delivered inside the sender's invocation; 0 never queues.
	EnvLargeRoomThreshold = "LARGE_ROOM_THRESHOLD"
	// EnvDirectMessages is who may send a direct message to whom: one of
	// [DirectMessagesAny], [DirectMessagesSharedRoom], [DirectMessagesOff].
	EnvDirectMessages = "DIRECT_MESSAGES"
)

// Environment variables that package publish reads in a user's function (publish.FromEnv),
// set by the construct's ConfigurePublisher. They are prefixed: a user's function has its own
// TABLE_NAME.
const (
	EnvPublisherTableName   = "WEBSOCKETCHAT_TABLE_NAME"
	EnvPublisherCallbackURL = "WEBSOCKETCHAT_CALLBACK_URL"
	EnvPublisherQueueURL    = "WEBSOCKETCHAT_PUBLISH_QUEUE_URL"
)

// EnvPublishDeadLetterQueueURL is the publish queue's dead-letter queue: the publish function
// sends a malformed message there at once, with the reason.
const EnvPublishDeadLetterQueueURL = "PUBLISH_DEAD_LETTER_QUEUE_URL"
