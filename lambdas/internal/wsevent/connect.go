package wsevent

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/chatstack/websocketchatapi/internal/chat"
	"github.com/chatstack/websocketchatapi/internal/contract"
)

// ConnectConfig is the $connect handler's environment.
type ConnectConfig struct {
	// LogLevel is the least level logged ([contract.EnvLogLevel]).
	LogLevel slog.Level
	// TableName is the chat table ([contract.EnvTableName]).
	TableName string
	// ConnectionTTL is how long a connection item lives.
	ConnectionTTL time.Duration
	// Subprotocol is the WebSocket subprotocol the chat speaks.
	Subprotocol string
	// Origins says which browser origins may connect ([contract.EnvAllowedOrigins]).
	Origins *OriginPolicy
}

// LoadConnectConfig reads [contract.EnvLogLevel], [contract.EnvTableName] (required),
// [contract.EnvConnectionTTLSeconds] (default [contract.DefaultConnectionTTL], at least
// [contract.MaxConnectionDuration]), [contract.EnvSubprotocol] (default
// [contract.Subprotocol]) and [contract.EnvAllowedOrigins] (comma-separated origins such as
// https://chat.example.com; unset or * allows any, see ParseOriginPolicy). Its error names
// every variable that is wrong.
func LoadConnectConfig(getenv func(string) string) (ConnectConfig, error) {
	r := newReader(getenv)
	c := ConnectConfig{
		LogLevel:      r.logLevel(),
		TableName:     r.Required(contract.EnvTableName),
		ConnectionTTL: r.Seconds(contract.EnvConnectionTTLSeconds, contract.DefaultConnectionTTL, contract.MaxConnectionDuration),
		Subprotocol:   r.token(contract.EnvSubprotocol, contract.Subprotocol),
		Origins:       r.origins(contract.EnvAllowedOrigins),
	}
	return c, r.Err()
}

// SubprotocolHeader is the header in which a browser offers WebSocket subprotocols, and in
// which the $connect response must echo the one chosen.
const SubprotocolHeader = "Sec-WebSocket-Protocol"

// ConnectHandler serves $connect: it records the connection with the identity from the
// authorizer context.
type ConnectHandler struct {
	// Service stores the connection.
	Service *chat.Service
	// Subprotocol is the WebSocket subprotocol the chat speaks ([contract.EnvSubprotocol],
	// e.g. [contract.Subprotocol]).
	Subprotocol string
	// Origins lists the browser origins that may connect ([contract.EnvAllowedOrigins]); nil
	// allows any.
	Origins *OriginPolicy
	// Logger receives one summary line per request (see NewLogger); nil discards them.
	Logger *slog.Logger
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
			return textResponse(http.StatusForbidden, fmt.Sprintf("forbidden: origin %q may not open connections to this API (see %s)", origin, contract.EnvAllowedOrigins))
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
