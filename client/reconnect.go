package client

import (
	"errors"
	"sync"

	"github.com/chatstack/websocketchatapi/protocol"
)

// supervise keeps a connection open until Close: it replaces cur when it dies (Reconnecting
// in between) or grows old (overlapping: the new one takes over once every room is resumed
// on it, and only then is the old one closed).
func (c *Client) supervise(cur *conn) {
	for {
		aged := c.ageTimer()
		select {
		case <-c.ctx.Done():
			aged.stop()
			return
		case <-cur.done:
			aged.stop()
			if c.isClosed() {
				return
			}
			why := cur.cause()
			c.opts.Logger.Warn("chat connection lost", "err", why)
			c.setCurrent(nil, Reconnecting, why)
			next := c.reconnect(nil)
			if next == nil {
				return
			}
			c.setCurrent(next, Connected, nil)
			cur = next
		case <-aged.fired:
			next := c.reconnect(cur)
			if next == nil {
				return
			}
			c.setCurrent(next, Connected, nil)
			old := cur
			if !c.spawn(func() { old.closeNormally(errReplaced) }) {
				old.kill(ErrClosed)
			}
			cur = next
		}
	}
}

// ageTimer fires at Options.MaxConnectionAge.
type ageTimer struct {
	fired chan struct{}
	t     stopper
}

func (a ageTimer) stop() { a.t.Stop() }

func (c *Client) ageTimer() ageTimer {
	a := ageTimer{fired: make(chan struct{})}
	a.t = c.opts.clock.AfterFunc(c.opts.MaxConnectionAge, func() { close(a.fired) })
	return a
}

// reconnect opens a connection and resumes every joined room on it, retrying with backoff
// until it succeeds; it returns nil once the client is closed. While old is alive (a
// proactive replacement) a failed attempt stays silent; once old is dead, Reconnecting says
// it.
func (c *Client) reconnect(old *conn) *conn {
	for attempt := 0; ; attempt++ {
		if attempt > 0 && !sleep(c.ctx, c.opts.clock, c.backoff.delay(attempt-1)) {
			return nil
		}
		next, err := c.connect(c.ctx)
		if err == nil {
			if !next.start() {
				return nil
			}
			err = c.resumeRooms(next)
			if err == nil {
				return next
			}
			next.kill(err)
		}
		if c.ctx.Err() != nil {
			return nil
		}
		c.opts.Logger.Warn("chat reconnect failed", "attempt", attempt+1, "err", err)
		if old == nil || old.dead() {
			c.setCurrent(nil, Reconnecting, err)
		}
	}
}

// resumeRooms rejoins every room on cn, each with since = its last delivered seq, and waits
// for every joined. A room the server refuses for good is dropped (RoomErrorEvent); any
// other failure fails the connection.
func (c *Client) resumeRooms(cn *conn) error {
	c.mu.Lock()
	rooms := make([]*room, 0, len(c.rooms))
	for _, r := range c.rooms {
		rooms = append(rooms, r)
	}
	c.mu.Unlock()
	var wg sync.WaitGroup
	errs := make([]error, len(rooms))
	for i, r := range rooms {
		wg.Go(func() { errs[i] = c.resumeRoom(cn, r) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// resumeRoom rejoins r on cn. Refused with rate_limited or internal_error (many rooms
// resumed at once may exceed the rate limit), it tries again after a backoff.
func (c *Client) resumeRoom(cn *conn, r *room) error {
	for refusals := 0; ; refusals++ {
		a, err := cn.roundTrip(c.ctx, joinRequest(r.id, r.since()))
		switch {
		case err != nil:
			return err
		case a.err == nil:
			return nil
		case a.err.Code == protocol.CodeUnauthorized:
			return serverError(a.err)
		case !retryable(a.err.Code):
			c.dropRoom(r)
			c.emit(&RoomErrorEvent{RoomID: r.id, Err: serverError(a.err)})
			return nil
		}
		if !sleep(c.ctx, c.opts.clock, c.backoff.delay(refusals)) {
			return ErrClosed
		}
	}
}

func (c *Client) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}
