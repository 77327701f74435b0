package contract

import "time"

// Defaults and bounds that the construct and the handlers both apply: the construct's props
// default to them, and a handler whose variable is unset falls back to the same value.
const (
	// Subprotocol is the WebSocket subprotocol of the chat protocol.
	Subprotocol = "chat.v1"
	// DefaultRouteSelection is the API's default route selection expression.
	DefaultRouteSelection = "$request.body.action"

	// MaxConnectionDuration is API Gateway's cap on a connection's life. A connection item
	// must not expire while its connection may still be open.
	MaxConnectionDuration = 2 * time.Hour
	// DefaultConnectionTTL is how long a connection item lives: a little over
	// [MaxConnectionDuration], since $disconnect is best effort.
	DefaultConnectionTTL = MaxConnectionDuration + 10*time.Minute
	// MaxConnectionTTL is the longest connection item life the construct accepts.
	MaxConnectionTTL = 24 * time.Hour

	// DefaultHistoryRetention is how long messages are kept for history.
	DefaultHistoryRetention = 30 * 24 * time.Hour

	// DefaultFanoutConcurrency bounds the posts in flight of one broadcast.
	DefaultFanoutConcurrency = 32
	// MaxFanoutConcurrency is the largest fan-out concurrency.
	MaxFanoutConcurrency = 1000

	// DefaultRateLimitPerSecond and DefaultRateLimitBurst are each connection's token bucket.
	DefaultRateLimitPerSecond = 10
	DefaultRateLimitBurst     = 20
	// MaxRateLimit bounds the rate limit's rate and burst.
	MaxRateLimit = 1_000_000
)

// Publishing, direct messages and large rooms.
const (
	// DirectMessagesAny lets any authenticated user send a direct message to any known user.
	DirectMessagesAny = "any"
	// DirectMessagesSharedRoom lets a user send a direct message to users who share a room
	// with them (the default).
	DirectMessagesSharedRoom = "shared-room"
	// DirectMessagesOff refuses direct messages.
	DirectMessagesOff = "off"

	// DefaultLargeRoomThreshold is the member count above which broadcasts are queued.
	DefaultLargeRoomThreshold = 1000
	// MaxLargeRoomThreshold bounds the threshold: the inline path reads the room's members
	// in the sender's invocation.
	MaxLargeRoomThreshold = 20_000
	// ShardJobMembers bounds the members one queued fan-out job posts to; a job that finds
	// more queues the rest of its shard as a new job.
	ShardJobMembers = 2000
	// DefaultPublishBatchSize is the publish function's SQS batch size.
	DefaultPublishBatchSize = 10
	// DefaultPublishMaxReceiveCount is how many times a publish request is tried before it
	// goes to the dead-letter queue.
	DefaultPublishMaxReceiveCount = 5
)

// UserRecordTTL is how long a user's record (the identity of their latest connection) lives
// after that connection opened: a direct message finds a user who connected within it.
const UserRecordTTL = 90 * 24 * time.Hour
