package wsevent

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/chatstack/websocketchatapi/internal/chat"
)

// request is one event as serve hands it to a handler's own logic.
type request struct {
	ctx    context.Context // carries the event's identifiers for the log
	rc     events.APIGatewayWebsocketProxyRequestContext
	id     chat.Identity // the caller from IdentityFrom, when idErr is nil
	idErr  error
	userID string // id.UserID, or "" when idErr is not nil

	log      *slog.Logger
	start    time.Time
	panicUID string // the user a panic is logged with
}

// done writes the request's summary line (see logRequest), naming userID.
func (r *request) done(userID, outcome string, err error, extra ...slog.Attr) {
	r.panicUID = userID
	logRequest(r.ctx, r.log, r.start, userID, outcome, err, extra...)
}

// serve runs handle, a handler's own logic, for one event: it prepares the context and the
// logger, takes the caller's identity, and turns a panic into a logged fallback response.
// handle writes the summary line with request.done before it builds its response.
func serve(ctx context.Context, req events.APIGatewayWebsocketProxyRequest, logger *slog.Logger,
	fallback func() events.APIGatewayProxyResponse, handle func(r *request) events.APIGatewayProxyResponse,
) (resp events.APIGatewayProxyResponse, err error) {
	r := &request{start: time.Now(), rc: req.RequestContext}
	r.ctx = withRequest(ctx, r.rc)
	r.log = loggerOrDiscard(logger)
	r.id, r.idErr = IdentityFrom(r.rc)
	if r.idErr == nil {
		r.userID = r.id.UserID
	}
	r.panicUID = r.userID
	defer func() {
		if p := recover(); p != nil {
			logPanic(r.ctx, r.log, p)
			logRequest(r.ctx, r.log, r.start, r.panicUID, outcomePanic, fmt.Errorf("panic: %v", p))
			resp, err = fallback(), nil
		}
	}()
	return handle(r), nil
}
