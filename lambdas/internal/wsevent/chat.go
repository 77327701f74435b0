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
	"github.com/chatstack/websocketchatapi/protocol"
	"github.com/chatstack/websocketchatapi/protocol/selection"
)

// ChatHandler serves every chat action (joinroom, leaveroom, sendmessage, history),
// dispatching on requestContext.routeKey.
type ChatHandler struct {
	Service *chat.Service
	Logger  *slog.Logger
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
		r.done(r.userID, outcome, res.Err, extra...)
		return frameResponse(res.Frame)
	})
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
