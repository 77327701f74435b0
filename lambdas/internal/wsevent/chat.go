package wsevent

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/chatstack/websocketchatapi/internal/chat"
	"github.com/chatstack/websocketchatapi/internal/contract"
	"github.com/chatstack/websocketchatapi/internal/emf"
	"github.com/chatstack/websocketchatapi/protocol"
)

// ChatConfig is the chat handler's environment.
type ChatConfig struct {
	// LogLevel is the least level logged ([contract.EnvLogLevel]).
	LogLevel slog.Level
	// TableName is the chat table ([contract.EnvTableName]).
	TableName string
	// CallbackURL is the stage's URL, whose @connections the handler posts to.
	CallbackURL string
	// HistoryRetention is how long a message is kept for history.
	HistoryRetention time.Duration
	// FanoutConcurrency bounds the posts in flight of one broadcast.
	FanoutConcurrency int
	// RateLimit is each connection's token bucket; PerSecond 0 turns it off.
	RateLimit chat.RateLimit
	// Metrics says where the handler's EMF metrics go.
	Metrics MetricsConfig
	// PublishQueueURL is the publish queue, where large rooms' broadcasts are queued; ""
	// delivers every broadcast inline.
	PublishQueueURL string
	// LargeRoomThreshold is the member count above which a room's broadcasts are queued.
	LargeRoomThreshold int
	// DirectMessages is the direct message policy.
	DirectMessages string
}

// LoadChatConfig reads [contract.EnvLogLevel], [contract.EnvTableName] (required),
// [contract.EnvCallbackURL] (required: an absolute http(s) URL of the stage, such as
// https://abc123.execute-api.us-east-1.amazonaws.com/prod), [contract.EnvHistoryRetentionSeconds]
// (default [contract.DefaultHistoryRetention]), [contract.EnvFanoutConcurrency] (default
// [contract.DefaultFanoutConcurrency], at most [contract.MaxFanoutConcurrency]),
// [contract.EnvRateLimitPerSecond] (default [contract.DefaultRateLimitPerSecond], fractions
// allowed, 0 turns rate limiting off), [contract.EnvRateLimitBurst] (a whole number, default
// [contract.DefaultRateLimitBurst]), [contract.EnvMetricsNamespace] (default
// [contract.MetricsNamespace]) and [contract.EnvMetricsService] (default
// [contract.DefaultMetricsService]), [contract.EnvPublishQueueURL] (optional),
// [contract.EnvLargeRoomThreshold] (default [contract.DefaultLargeRoomThreshold]) and
// [contract.EnvDirectMessages] (default [contract.DirectMessagesSharedRoom]). Its error names
// every variable that is wrong.
//
// [contract.EnvConnectionTTLSeconds] is not read: the chat handler never creates a connection
// item, it requires the one $connect stored, and memberships expire with it.
func LoadChatConfig(getenv func(string) string) (ChatConfig, error) {
	r := newReader(getenv)
	c := ChatConfig{
		LogLevel:          r.logLevel(),
		TableName:         r.Required(contract.EnvTableName),
		CallbackURL:       r.stageURL(contract.EnvCallbackURL, true),
		HistoryRetention:  r.Seconds(contract.EnvHistoryRetentionSeconds, contract.DefaultHistoryRetention, time.Second),
		FanoutConcurrency: r.Int(contract.EnvFanoutConcurrency, contract.DefaultFanoutConcurrency, 1, contract.MaxFanoutConcurrency),
		RateLimit: chat.RateLimit{
			PerSecond: r.Number(contract.EnvRateLimitPerSecond, contract.DefaultRateLimitPerSecond, 0, contract.MaxRateLimit),
			Burst:     float64(r.Int(contract.EnvRateLimitBurst, contract.DefaultRateLimitBurst, 1, contract.MaxRateLimit)),
		},
		Metrics:            r.metrics(),
		PublishQueueURL:    r.Optional(contract.EnvPublishQueueURL),
		LargeRoomThreshold: r.Int(contract.EnvLargeRoomThreshold, contract.DefaultLargeRoomThreshold, 0, contract.MaxLargeRoomThreshold),
		DirectMessages:     r.Checked(contract.EnvDirectMessages, contract.DirectMessagesSharedRoom, checkDirectMessages),
	}
	return c, r.Err()
}

// checkDirectMessages accepts the direct message policies.
func checkDirectMessages(v string) error {
	switch v {
	case contract.DirectMessagesAny, contract.DirectMessagesSharedRoom, contract.DirectMessagesOff:
		return nil
	}
	return fmt.Errorf("want %s, %s or %s", contract.DirectMessagesAny, contract.DirectMessagesSharedRoom, contract.DirectMessagesOff)
}

// ChatHandler serves every chat action (joinroom, leaveroom, sendmessage, history),
// dispatching on requestContext.routeKey.
type ChatHandler struct {
	// Service serves the actions.
	Service *chat.Service
	// Logger receives one summary line per request (see NewLogger); nil discards them.
	Logger *slog.Logger
	// Metrics, when not nil, receives one EMF record after each broadcast (a message or a
	// presence event fanned out to a room) and one for each message refused by the rate
	// limit, with the metrics internal/contract names ([contract.MetricMessagesSent] ...)
	// and the route key as the property "action".
	Metrics *emf.Emitter
}

// Handle answers every event with status 200 and one protocol frame in the body, which API
// Gateway's route response sends to the client: the action's answer or an error frame. It
// never returns an error, and a panic becomes an internal_error frame.
func (h *ChatHandler) Handle(ctx context.Context, req events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error) {
	fallback := func() events.APIGatewayProxyResponse {
		return frameResponse(internalError(req.RequestContext.RouteKey))
	}
	return serve(ctx, req, h.Logger, fallback, func(r *request) events.APIGatewayProxyResponse {
		if r.idErr != nil {
			r.done("", protocol.CodeUnauthorized, nil, slog.String("reason", r.idErr.Error()))
			e := protocol.NewError(protocol.CodeUnauthorized, "the connection has no user identity")
			e.Action = r.rc.RouteKey
			return frameResponse(e)
		}
		body, err := requestBody(req)
		if err != nil {
			r.done(r.userID, protocol.CodeInvalidJSON, nil, slog.String("reason", err.Error()))
			e := protocol.NewError(protocol.CodeInvalidJSON, "the message is not valid JSON")
			e.Action = r.rc.RouteKey
			return frameResponse(e)
		}
		res := h.Service.Handle(r.ctx, chat.Request{
			ConnectionID: r.rc.ConnectionID,
			Action:       r.rc.RouteKey,
			Body:         body,
			Identity:     r.id,
		})
		outcome := outcomeOK
		if res.Code != "" {
			outcome = res.Code
		}
		var extra []slog.Attr
		if f := res.Fanout; f != nil {
			extra = append(extra,
				slog.Int("members", f.Members),
				slog.Int("delivered", f.Delivered),
				slog.Int("undelivered", f.Undelivered),
				slog.Int("gone", f.Gone),
				slog.Int("retries", f.Retries),
			)
		}
		h.emitMetrics(r, res)
		r.done(r.userID, outcome, res.Err, extra...)
		return frameResponse(res.Frame)
	})
}

// emitMetrics writes the EMF record of a broadcast or of a rate-limited message, if any. A
// failure to write is logged.
func (h *ChatHandler) emitMetrics(r *request, res chat.Result) {
	var metrics []emf.Metric
	switch f := res.Fanout; {
	case res.Code == protocol.CodeRateLimited:
		metrics = []emf.Metric{{Name: contract.MetricRateLimited, Unit: emf.Count, Value: 1}}
	case f != nil:
		sent := 0.0
		if r.rc.RouteKey == protocol.ActionSendMessage {
			sent = 1
		}
		metrics = fanoutMetrics(sent, *f)
	default:
		return
	}
	emit(r, h.Metrics, metrics)
}
