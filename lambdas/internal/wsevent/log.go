package wsevent

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

// ParseLevel parses a [contract.EnvLogLevel] value: debug, info, warn or error (any case);
// "" is info.
func ParseLevel(s string) (slog.Level, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "debug":
		return slog.LevelDebug, nil
	case "", "info":
		return slog.LevelInfo, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("%q is not one of debug, info, warn, error", s)
}

// NewLogger returns a JSON logger writing to w at level. Every record logged with a context
// that a handler has prepared carries the request's connectionId, routeKey, apiRequestId (API
// Gateway's) and requestId (the Lambda invocation's, from lambdacontext).
func NewLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(contextHandler{slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level})})
}

type requestKey struct{}

// requestInfo is what every log line of a request carries.
type requestInfo struct {
	connectionID string
	routeKey     string
	apiRequestID string
}

// withRequest returns ctx carrying the request's identifiers for the log.
func withRequest(ctx context.Context, rc events.APIGatewayWebsocketProxyRequestContext) context.Context {
	return context.WithValue(ctx, requestKey{}, requestInfo{
		connectionID: rc.ConnectionID,
		routeKey:     rc.RouteKey,
		apiRequestID: rc.RequestID,
	})
}

// contextHandler adds the request's identifiers from the context to each record.
type contextHandler struct {
	slog.Handler
}

func (h contextHandler) Handle(ctx context.Context, r slog.Record) error {
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		r.AddAttrs(slog.String("requestId", lc.AwsRequestID))
	}
	if info, ok := ctx.Value(requestKey{}).(requestInfo); ok {
		r.AddAttrs(
			slog.String("connectionId", info.connectionID),
			slog.String("routeKey", info.routeKey),
			slog.String("apiRequestId", info.apiRequestID),
		)
	}
	return h.Handler.Handle(ctx, r)
}

func (h contextHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return contextHandler{h.Handler.WithAttrs(attrs)}
}

func (h contextHandler) WithGroup(name string) slog.Handler {
	return contextHandler{h.Handler.WithGroup(name)}
}

// Outcomes logged for requests that did not end in an error code.
const (
	outcomeOK      = "ok"
	outcomeRefused = "refused"
	outcomePanic   = "panic"
)

// logRequest writes the one summary line of a request.
func logRequest(ctx context.Context, l *slog.Logger, start time.Time, userID, outcome string, err error, extra ...slog.Attr) {
	level := slog.LevelInfo
	if err != nil {
		level = slog.LevelError
	}
	attrs := append([]slog.Attr{
		slog.String("userId", userID),
		slog.String("outcome", outcome),
		slog.Int64("durationMs", time.Since(start).Milliseconds()),
	}, extra...)
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	l.LogAttrs(ctx, level, "request", attrs...)
}

// logPanic logs a recovered panic with its stack.
func logPanic(ctx context.Context, l *slog.Logger, p any) {
	l.LogAttrs(ctx, slog.LevelError, "panic", slog.String("panic", fmt.Sprint(p)), slog.String("stack", string(debug.Stack())))
}

// loggerOrDiscard returns l, or a logger that discards everything when l is nil.
func loggerOrDiscard(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}
