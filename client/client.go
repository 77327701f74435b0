package client

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"sync/atomic"
)

// ErrClosed is returned by the methods of a closed Client.
var ErrClosed = errors.New("client: closed")

// Client is a chat connection that survives drops: see the package documentation for its
// guarantees. Its methods are safe for concurrent use.
type Client struct {
	opts    Options
	url     *url.URL
	backoff *backoff
	events  chan Event
	state   atomic.Int32

	ctx    context.Context // done on Close
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	closed  bool
	cur     *conn         // the connection requests go to; nil while reconnecting
	changed chan struct{} // closed and replaced whenever cur changes
	rooms   map[string]*room
	locks   map[string]*roomLocks // per room id, never removed: see roomLocks
	sends   map[string]string     // text of in-flight sends, by clientMessageId

	closeOnce sync.Once
}

// Dial checks opts, makes the first connection (ctx bounds it) and returns a connected
// Client, whose first event is StateEvent{State: Connected}. The client then keeps a
// connection open until Close: it reconnects after any drop, for ever, with backoff. An
// error names the option at fault, or says why the first connection failed (a refused
// token is an *AuthError); Dial itself does not retry.
func Dial(ctx context.Context, rawURL string, opts Options) (*Client, error) {
	opts = opts.withDefaults()
	if err := opts.check(); err != nil {
		return nil, err
	}
	u, err := checkURL(rawURL)
	if err != nil {
		return nil, err
	}
	c := &Client{
		opts: opts, url: u,
		backoff: newBackoff(opts.MinBackoff, opts.MaxBackoff, opts.rand),
		events:  make(chan Event, opts.EventBuffer),
		changed: make(chan struct{}),
		rooms:   map[string]*room{},
		locks:   map[string]*roomLocks{},
		sends:   map[string]string{},
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.state.Store(int32(Connecting))
	first, err := c.connect(ctx)
	if err != nil {
		c.cancel()
		return nil, err
	}
	if !first.start() {
		return nil, ErrClosed
	}
	c.setCurrent(first, Connected, nil)
	if !c.spawn(func() { c.supervise(first) }) {
		return nil, ErrClosed
	}
	return c, nil
}

// Events returns the channel of the client's events (see [Event]). It holds up to
// Options.EventBuffer events; when it is full the client waits for the application, and so
// stops reading its connection (back-pressure: nothing is dropped). Read it from a goroutine
// of its own, and call no method of the Client from that goroutine that waits for the
// server (Join, Send, ...) while events are pending. It is closed by Close.
func (c *Client) Events() <-chan Event { return c.events }

// State returns the connection state.
func (c *Client) State() State { return State(c.state.Load()) }

// Close closes the connection (with a close handshake, which waits up to 10 s for an
// unresponsive server) and stops the client: methods in progress return ErrClosed, no more
// events come, and the Events channel is closed once every goroutine of the client has
// ended. It returns nil; calling it again does nothing.
func (c *Client) Close() error {
	c.closeOnce.Do(func() {
		c.mu.Lock()
		c.closed = true
		cur := c.cur
		c.mu.Unlock()
		if cur != nil {
			cur.closeNormally(ErrClosed)
		}
		c.cancel()
		c.wg.Wait()
		c.mu.Lock()
		rooms := make([]*room, 0, len(c.rooms))
		for _, r := range c.rooms {
			rooms = append(rooms, r)
		}
		c.mu.Unlock()
		for _, r := range rooms {
			r.stopTimer()
		}
		c.state.Store(int32(Closed))
		close(c.events)
	})
	return nil
}

// spawn runs f in a goroutine that Close waits for; it reports false once Close began.
func (c *Client) spawn(f func()) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		f()
	}()
	return true
}

// emit hands events to the application, waiting while the channel is full; it reports false
// when the client closed first.
func (c *Client) emit(events ...Event) bool {
	for _, e := range events {
		select {
		case c.events <- e:
		case <-c.ctx.Done():
			return false
		}
	}
	return true
}

// setCurrent makes cn (nil while reconnecting) the connection requests go to, and announces
// the state: each change, and each failure (why) even in the same state, so that the
// application sees every failed reconnect (an expired token, say).
func (c *Client) setCurrent(cn *conn, s State, why error) {
	c.mu.Lock()
	c.cur = cn
	close(c.changed)
	c.changed = make(chan struct{})
	c.mu.Unlock()
	if State(c.state.Swap(int32(s))) != s || why != nil {
		c.emit(&StateEvent{State: s, Err: why})
	}
}

// current waits for a live connection to send on.
func (c *Client) current(ctx context.Context) (*conn, error) {
	for {
		c.mu.Lock()
		cn, changed, closed := c.cur, c.changed, c.closed
		c.mu.Unlock()
		if closed {
			return nil, ErrClosed
		}
		if cn != nil && !cn.dead() {
			return cn, nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, fmt.Errorf("client: waiting for a connection: %w", ctx.Err())
		case <-c.ctx.Done():
			return nil, ErrClosed
		}
	}
}
