package wsevent

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/chatstack/websocketchatapi/lambdas/internal/chat"
)

// SubprotocolHeader is the header in which a browser offers WebSocket subprotocols, and in
// which the $connect response must echo the one chosen.
const SubprotocolHeader = "Sec-WebSocket-Protocol"

// ConnectHandler serves $connect: it records the connection with the identity from the
// authorizer context.
type ConnectHandler struct {
	Service *chat.Service
	// Subprotocol is the WebSocket subprotocol the chat speaks (SUBPROTOCOL, e.g. chat.v1).
	Subprotocol string
	// Origins lists the browser origins that may connect (ALLOWED_ORIGINS); nil allows any.
	Origins *OriginPolicy
	Logger  *slog.Logger
}

// maxLoggedOrigin bounds how much of a refused Origin header the log and the answer repeat.
const maxLoggedOrigin = 200

// Handle answers 200 when the connection is stored, echoing Subprotocol in
// Sec-WebSocket-Protocol when the client offered it (browsers fail the handshake otherwise);
// 403 when the handshake's Origin is not allowed (see OriginPolicy.Allows: nothing is
// stored) or when the authorizer context names no user; 400 when the client offered
// subprotocols but not Subprotocol; 500 when the connection cannot be stored (API Gateway
// then refuses the connection). It never posts to the connection.
func (h *ConnectHandler) Handle(ctx context.Context, req events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error) {
	return serve(ctx, req, h.Logger, internalErrorText, func(r *request) events.APIGatewayProxyResponse {
		if origin, ok := h.Origins.Allows(req); !ok {
			if len(origin) > maxLoggedOrigin {
				origin = origin[:maxLoggedOrigin]
			}
			r.done(r.userID, outcomeRefused, nil, slog.String("reason", "origin not allowed"), slog.String("origin", origin))
			return textResponse(http.StatusForbidden, fmt.Sprintf("forbidden: origin %q may not open connections to this API (see %s)", origin, EnvAllowedOrigins))
		}

		offered := OfferedSubprotocols(req)
		chosen := ""
		if len(offered) > 0 {
			for _, p := range offered {
				if p == h.Subprotocol {
					chosen = p
				}
			}
			if chosen == "" {
				// Never log the offered values: they may carry a bearer token.
				r.done("", outcomeRefused, nil, slog.String("reason", "subprotocol not offered"), slog.Int("offered", len(offered)))
				return textResponse(http.StatusBadRequest, fmt.Sprintf("unsupported WebSocket subprotocol: offer %q in %s", h.Subprotocol, SubprotocolHeader))
			}
		}

		if r.idErr != nil {
			r.done("", outcomeRefused, nil, slog.String("reason", r.idErr.Error()))
			return textResponse(http.StatusForbidden, "forbidden")
		}
		if _, err := h.Service.Connect(r.ctx, r.rc.ConnectionID, r.id); err != nil {
			r.done(r.userID, "store_failed", err)
			return textResponse(http.StatusInternalServerError, "could not register the connection; try again")
		}
		resp := events.APIGatewayProxyResponse{StatusCode: http.StatusOK}
		if chosen != "" {
			resp.Headers = map[string]string{SubprotocolHeader: chosen}
		}
		r.done(r.userID, outcomeOK, nil, slog.Bool("subprotocol", chosen != ""))
		return resp
	})
}

// OfferedSubprotocols returns the subprotocols the client offered in Sec-WebSocket-Protocol
// (any letter case, comma-separated, possibly over several header lines), in order.
func OfferedSubprotocols(req events.APIGatewayWebsocketProxyRequest) []string {
	var out []string
	for _, v := range headerValues(req, SubprotocolHeader) {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// DisconnectHandler serves $disconnect: it deletes the connection and its memberships and,
// when its Service has a Poster, tells the rooms the connection was in that its user left.
type DisconnectHandler struct {
	Service *chat.Service
	Logger  *slog.Logger
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
		r.done(r.userID, outcomeOK, nil,
			slog.Int64("disconnectStatusCode", r.rc.DisconnectStatusCode),
			slog.Int("roomsTold", res.Rooms),
			slog.Int("delivered", res.Fanout.Delivered),
			slog.Int("undelivered", res.Fanout.Undelivered),
			slog.Int("gone", res.Fanout.Gone))
		return events.APIGatewayProxyResponse{StatusCode: http.StatusOK}
	})
}

func textResponse(status int, body string) events.APIGatewayProxyResponse {
	return events.APIGatewayProxyResponse{
		StatusCode: status,
		Headers:    map[string]string{"Content-Type": "text/plain; charset=utf-8"},
		Body:       body,
	}
}

// internalErrorText is the $connect and $disconnect answer to a panic.
func internalErrorText() events.APIGatewayProxyResponse {
	return textResponse(http.StatusInternalServerError, "internal error")
}
