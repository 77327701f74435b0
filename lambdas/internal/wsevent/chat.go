package wsevent

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/chatstack/websocketchatapi/lambdas/internal/chat"
	"github.com/chatstack/websocketchatapi/lambdas/internal/emf"
	"github.com/chatstack/websocketchatapi/protocol"
	"github.com/chatstack/websocketchatapi/protocol/selection"
)

// ChatHandler serves every chat action (joinroom, leaveroom, sendmessage, history),
// dispatching on requestContext.routeKey.
type ChatHandler struct {
	Service *chat.Service
	Logger  *slog.Logger
	// Metrics, when not nil, receives one EMF record after each broadcast (a message or a
	// presence event fanned out to a room) and one for each message refused by the rate
	// limit. See the Metric constants.
	Metrics *emf.Emitter
}

// Names of the chat handler's metrics (CloudWatch namespace METRICS_NAMESPACE, one dimension
// Service = METRICS_SERVICE). A broadcast's record holds every Fanout metric and
// MessagesSent; a refused message's record holds RateLimited. Each record also carries the
// route key as the property "action".
const (
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
	if h.Metrics == nil {
		return
	}
	var metrics []emf.Metric
	switch f := res.Fanout; {
	case res.Code == protocol.CodeRateLimited:
		metrics = []emf.Metric{{Name: MetricRateLimited, Unit: emf.Count, Value: 1}}
	case f != nil:
		sent := 0.0
		if r.rc.RouteKey == protocol.ActionSendMessage {
			sent = 1
		}
		metrics = []emf.Metric{
			{Name: MetricMessagesSent, Unit: emf.Count, Value: sent},
			{Name: MetricFanoutRecipients, Unit: emf.Count, Value: float64(f.Targets)},
			{Name: MetricFanoutDelivered, Unit: emf.Count, Value: float64(f.Delivered)},
			{Name: MetricFanoutFailures, Unit: emf.Count, Value: float64(f.Undelivered)},
			{Name: MetricFanoutGone, Unit: emf.Count, Value: float64(f.Gone)},
			{Name: MetricFanoutRetries, Unit: emf.Count, Value: float64(f.Retries)},
			{Name: MetricFanoutDurationMs, Unit: emf.Milliseconds, Value: float64(f.Duration.Microseconds()) / 1000},
		}
	default:
		return
	}
	if err := h.Metrics.Emit(metrics, emf.Property{Name: "action", Value: r.rc.RouteKey}); err != nil {
		r.log.WarnContext(r.ctx, "metrics not written", "error", err.Error())
	}
}

// DefaultHandler serves $default: messages whose action matches no route, or that are not
// JSON. It tells the client which actions exist.
type DefaultHandler struct {
	// RouteSelection is the API's route selection expression (ROUTE_SELECTION_EXPRESSION).
	RouteSelection *selection.Expression
	// Actions lists every route key a client may send (CHAT_ACTIONS).
	Actions []string
	Logger  *slog.Logger
}

// Handle answers status 200 with an error frame: invalid_json for a body that is not JSON,
// otherwise unknown_action naming the action the client sent (the value of the route
// selection expression), both with validActions.
func (h *DefaultHandler) Handle(ctx context.Context, req events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error) {
	fallback := func() events.APIGatewayProxyResponse { return frameResponse(internalError("")) }
	return serve(ctx, req, h.Logger, fallback, func(r *request) events.APIGatewayProxyResponse {
		frame := h.frame(req)
		r.done(r.userID, frame.Code, nil, slog.String("action", frame.Action))
		return frameResponse(frame)
	})
}

func (h *DefaultHandler) frame(req events.APIGatewayWebsocketProxyRequest) protocol.Error {
	field := strings.Join(h.RouteSelection.Fields(), ", ")
	body, err := requestBody(req)
	if err != nil || !json.Valid(body) {
		e := protocol.NewError(protocol.CodeInvalidJSON, fmt.Sprintf("the message is not valid JSON; send a JSON object whose %q names one of the valid actions", field))
		e.ValidActions = h.Actions
		return e
	}
	action, ok := h.RouteSelection.Evaluate(body)
	var e protocol.Error
	if ok {
		e = protocol.NewError(protocol.CodeUnknownAction, fmt.Sprintf("unknown action %q", action))
		e.Action = action
	} else {
		e = protocol.NewError(protocol.CodeUnknownAction, fmt.Sprintf("the message names no action: send a JSON object whose %q names one of the valid actions", field))
	}
	e.ValidActions = h.Actions
	return e
}

// requestBody returns the message, decoding it when API Gateway passed it base64-encoded.
func requestBody(req events.APIGatewayWebsocketProxyRequest) ([]byte, error) {
	if !req.IsBase64Encoded {
		return []byte(req.Body), nil
	}
	b, err := base64.StdEncoding.DecodeString(req.Body)
	if err != nil {
		return nil, fmt.Errorf("decode base64 body: %w", err)
	}
	return b, nil
}

func internalError(action string) protocol.Error {
	e := protocol.NewError(protocol.CodeInternal, "internal error; try again")
	e.Action = action
	return e
}

// frameResponse answers with status 200 and frame as the body.
func frameResponse(frame any) events.APIGatewayProxyResponse {
	return events.APIGatewayProxyResponse{StatusCode: http.StatusOK, Body: string(protocol.Encode(frame))}
}
