package client

import (
	"context"
	"errors"
	"fmt"

	"github.com/chatstack/websocketchatapi/protocol"
)

// errInFlight refuses a second request with the same key on one connection (a bug).
var errInFlight = errors.New("client: the same request is already in flight")

// request sends req until it is answered. It waits through reconnects; sends again after a
// lost connection or Options.RequestTimeout (every request of the protocol may be repeated);
// retries rate_limited and internal_error after a backoff; and on unauthorized (the server no
// longer knows the connection) replaces the connection, then retries after a backoff. It returns the answer, an *Error when the
// server refused for good, or an error when ctx is done or the client closed.
func (c *Client) request(ctx context.Context, req request) (answer, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(c.ctx, cancel)()
	refusals := 0
	for {
		cn, err := c.current(ctx)
		if err != nil {
			return answer{}, c.stopped(ctx, err)
		}
		a, err := cn.roundTrip(ctx, req)
		switch {
		case errors.Is(err, errInFlight):
			return answer{}, err
		case err != nil:
			if ctx.Err() != nil {
				return answer{}, c.stopped(ctx, err)
			}
			if errors.Is(err, errTimeout) {
				cn.probe()
			}
			c.opts.Logger.Debug("chat request sent again", "request", req.key.typ, "room", req.key.room, "err", err)
		case a.err == nil:
			return a, nil
		case !retryable(a.err.Code):
			return answer{}, serverError(a.err)
		default:
			if a.err.Code == protocol.CodeUnauthorized {
				cn.kill(fmt.Errorf("%w: the server does not know it (%s)", errConnLost, a.err.Code))
			}
			if !sleep(ctx, c.opts.clock, c.backoff.delay(refusals)) {
				return answer{}, c.stopped(ctx, ctx.Err())
			}
			refusals++
		}
	}
}

// stopped is the error of a request that ended because ctx is done or the client closed.
func (c *Client) stopped(ctx context.Context, err error) error {
	if c.ctx.Err() != nil {
		return ErrClosed
	}
	if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
		return fmt.Errorf("%w (%v)", ctx.Err(), err)
	}
	return err
}
