package contract

// The chat handler's metrics, written as CloudWatch Embedded Metric Format records. A
// broadcast's record holds every Fanout metric and [MetricMessagesSent]; a refused message's
// record holds [MetricRateLimited]. Each record has the one dimension [DimensionService].
const (
	// MetricsNamespace is the CloudWatch namespace of the metrics.
	MetricsNamespace = "WebSocketChatApi"
	// DimensionService is the metrics' one dimension: the construct's unique id, so two chats
	// in one account keep apart.
	DimensionService = "Service"
	// DefaultMetricsService is the [DimensionService] value when [EnvMetricsService] is unset.
	DefaultMetricsService = "chat"

	// MetricMessagesSent counts chat messages stored and broadcast (1 per sendmessage; 0 for
	// presence events).
	MetricMessagesSent = "MessagesSent"
	// MetricFanoutRecipients counts the connections a broadcast was posted to (the room's
	// members but the sender).
	MetricFanoutRecipients = "FanoutRecipients"
	// MetricFanoutDelivered counts the posts that reached their connection.
	MetricFanoutDelivered = "FanoutDelivered"
	// MetricFanoutFailures counts the recipients still unreached after retries.
	MetricFanoutFailures = "FanoutFailures"
	// MetricFanoutGone counts the recipients found closed (410), whose items were deleted.
	MetricFanoutGone = "FanoutGone"
	// MetricFanoutRetries counts retried posts.
	MetricFanoutRetries = "FanoutRetries"
	// MetricFanoutDurationMs is a broadcast's wall time, in milliseconds.
	MetricFanoutDurationMs = "FanoutDurationMs"
	// MetricRateLimited counts messages refused by the per-connection rate limit.
	MetricRateLimited = "RateLimited"
)
