package wsevent

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/chatstack/websocketchatapi/internal/contract"
	"github.com/chatstack/websocketchatapi/protocol"
	"github.com/chatstack/websocketchatapi/protocol/selection"
)

// DefaultConfig is the $default handler's environment.
type DefaultConfig struct {
	// LogLevel is the least level logged ([contract.EnvLogLevel]).
	LogLevel slog.Level
	// Actions lists every route key a client may send.
	Actions []string
	// RouteSelection is the API's route selection expression.
	RouteSelection *selection.Expression
}

// LoadDefaultConfig reads [contract.EnvLogLevel], [contract.EnvChatActions] (required:
// comma-separated route keys, no empty or duplicate entries) and [contract.EnvRouteSelection]
// (default [contract.DefaultRouteSelection]). Its error names every variable that is wrong.
func LoadDefaultConfig(getenv func(string) string) (DefaultConfig, error) {
	r := newReader(getenv)
	c := DefaultConfig{
		LogLevel:       r.logLevel(),
		Actions:        r.actions(contract.EnvChatActions),
		RouteSelection: r.routeSelection(contract.EnvRouteSelection),
	}
	return c, r.Err()
}

// DefaultHandler serves $default: messages whose action matches no route, or that are not
// JSON. It tells the client which actions exist.
type DefaultHandler struct {
	// RouteSelection is the API's route selection expression ([contract.EnvRouteSelection]).
	RouteSelection *selection.Expression
	// Actions lists every route key a client may send ([contract.EnvChatActions]).
	Actions []string
	// Logger receives one summary line per request (see NewLogger); nil discards them.
	Logger *slog.Logger
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
		action = protocol.Echo(action)
		e = protocol.NewError(protocol.CodeUnknownAction, fmt.Sprintf("unknown action %q", action))
		e.Action = action
	} else {
		e = protocol.NewError(protocol.CodeUnknownAction, fmt.Sprintf("the message names no action: send a JSON object whose %q names one of the valid actions", field))
	}
	e.ValidActions = h.Actions
	return e
}
