package wsevent

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/chatstack/websocketchatapi/internal/chat"
	"github.com/chatstack/websocketchatapi/internal/contract"
	"github.com/chatstack/websocketchatapi/internal/emf"
)

// DisconnectConfig is the $disconnect handler's environment.
type DisconnectConfig struct {
	// LogLevel is the least level logged ([contract.EnvLogLevel]).
	LogLevel slog.Level
	// TableName is the chat table ([contract.EnvTableName]).
	TableName string
	// CallbackURL, when set, makes $disconnect tell the rooms of a closing connection that
	// its user left; "" turns that off.
	CallbackURL string
	// FanoutConcurrency bounds the posts in flight of one presence event.
	FanoutConcurrency int
	// Metrics says where the metrics of the presence broadcasts go.
	Metrics MetricsConfig
}

// LoadDisconnectConfig reads [contract.EnvLogLevel], [contract.EnvTableName] (required), and
// optionally [contract.EnvCallbackURL] (as for the chat handler),
// [contract.EnvFanoutConcurrency] (default [contract.DefaultFanoutConcurrency], at most
// [contract.MaxFanoutConcurrency]), [contract.EnvMetricsNamespace] and
// [contract.EnvMetricsService] (as for the chat handler). Its error names every variable that
// is wrong. With a callback URL the function also needs execute-api:ManageConnections on the
// stage's connections and dynamodb:Query on the table's [contract.IndexByRoom] index.
func LoadDisconnectConfig(getenv func(string) string) (DisconnectConfig, error) {
	r := newReader(getenv)
	c := DisconnectConfig{
		LogLevel:          r.logLevel(),
		TableName:         r.Required(contract.EnvTableName),
		CallbackURL:       r.stageURL(contract.EnvCallbackURL, false),
		FanoutConcurrency: r.Int(contract.EnvFanoutConcurrency, contract.DefaultFanoutConcurrency, 1, contract.MaxFanoutConcurrency),
		Metrics:           r.metrics(),
	}
	return c, r.Err()
}

// DisconnectHandler serves $disconnect: it deletes the connection and its memberships and,
// when its Service has a Poster, tells the rooms the connection was in that its user left.
type DisconnectHandler struct {
	// Service deletes the connection's items and, when it has a Poster, tells its rooms.
	Service *chat.Service
	// Logger receives one summary line per request (see NewLogger); nil discards them.
	Logger *slog.Logger
	// Metrics, when not nil, receives one EMF record of the presence broadcasts of each
	// disconnect that told a room, so that FanoutFailures counts them too.
	Metrics *emf.Emitter
}

// Handle deletes the connection's items (see chat.Service.Disconnect); deleting a connection
// that is already gone succeeds. API Gateway ignores the response; a store failure answers
// 500 and is logged (the items then expire by TTL).
func (h *DisconnectHandler) Handle(ctx context.Context, req events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error) {
	return serve(ctx, req, h.Logger, internalErrorText, func(r *request) events.APIGatewayProxyResponse {
		res, err := h.Service.Disconnect(r.ctx, r.rc.ConnectionID)
		if err != nil {
			r.done(r.userID, "store_failed", err)
			return textResponse(http.StatusInternalServerError, "internal error")
		}
		if res.Rooms > 0 {
			emit(r, h.Metrics, fanoutMetrics(0, res.Fanout))
		}
		r.done(r.userID, outcomeOK, nil,
			slog.Int64("disconnectStatusCode", r.rc.DisconnectStatusCode),
			slog.Int("roomsTold", res.Rooms),
			slog.Int("delivered", res.Fanout.Delivered),
			slog.Int("undelivered", res.Fanout.Undelivered),
			slog.Int("gone", res.Fanout.Gone))
		return events.APIGatewayProxyResponse{StatusCode: http.StatusOK}
	})
}
