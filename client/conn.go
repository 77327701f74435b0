package client

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// readLimit bounds one frame: every frame of the protocol is under 128 KB, with room to spare.
const readLimit = 1 << 20

// Why a connection ends, as the client tells it.
var (
	errConnLost = errors.New("client: connection lost")
	errNoPong   = errors.New("client: no pong to a heartbeat ping: connection counted dead")
	errTimeout  = errors.New("client: no answer within Options.RequestTimeout")
	errReplaced = errors.New("client: connection replaced (Options.MaxConnectionAge)")
)

// conn is one WebSocket connection: its reader, heartbeat and in-flight requests.
type conn struct {
	c      *Client
	ws     *websocket.Conn
	ctx    context.Context // done when the connection is
	cancel context.CancelFunc
	done   chan struct{} // closed by kill
	once   sync.Once
	err    error // why it ended; read after done

	mu        sync.Mutex
	waiters   map[waitKey]chan answer
	lastWrite time.Time
	pings     int  // pings sent
	pongs     int  // pongs received
	busy      bool // the reader is handing a frame to the client (maybe waiting for the app)
	heartbeat stopper
	pongCheck stopper
}

func newConn(c *Client, ws *websocket.Conn) *conn {
	ws.SetReadLimit(readLimit)
	ctx, cancel := context.WithCancel(c.ctx)
	cn := &conn{c: c, ws: ws, ctx: ctx, cancel: cancel, done: make(chan struct{}),
		waiters: map[waitKey]chan answer{}, lastWrite: c.opts.clock.Now()}
	return cn
}

// start runs the reader and the heartbeat; it reports false when the client is closing.
func (cn *conn) start() bool {
	if !cn.c.spawn(cn.read) {
		cn.kill(ErrClosed)
		return false
	}
	cn.mu.Lock()
	cn.heartbeat = cn.c.opts.clock.AfterFunc(cn.c.opts.HeartbeatInterval, cn.beat)
	cn.mu.Unlock()
	return true
}

// kill ends the connection at once (no close handshake); err says why.
func (cn *conn) kill(err error) {
	cn.once.Do(func() {
		cn.mu.Lock()
		cn.err = err
		for _, t := range []stopper{cn.heartbeat, cn.pongCheck} {
			if t != nil {
				t.Stop()
			}
		}
		cn.mu.Unlock()
		close(cn.done)
		cn.cancel()
		_ = cn.ws.CloseNow()
	})
}

// closeNormally ends the connection with a close handshake (1000), then kills it with err.
func (cn *conn) closeNormally(err error) {
	_ = cn.ws.Close(websocket.StatusNormalClosure, "")
	cn.kill(err)
}

func (cn *conn) dead() bool {
	select {
	case <-cn.done:
		return true
	default:
		return false
	}
}

// cause is why the connection ended.
func (cn *conn) cause() error {
	<-cn.done
	cn.mu.Lock()
	defer cn.mu.Unlock()
	return cn.err
}

// write sends one text message; a write that fails, or takes over Options.RequestTimeout,
// kills the connection. It never uses a caller's context: the websocket library closes a
// connection whose write is cancelled, and one caller giving up must not cut the others off.
func (cn *conn) write(b []byte) error {
	cn.mu.Lock()
	cn.lastWrite = cn.c.opts.clock.Now()
	cn.mu.Unlock()
	ctx, cancel := context.WithTimeout(cn.ctx, cn.c.opts.RequestTimeout)
	defer cancel()
	if err := cn.ws.Write(ctx, websocket.MessageText, b); err != nil {
		if cn.dead() {
			return cn.cause()
		}
		err = fmt.Errorf("%w: write: %v", errConnLost, err)
		cn.kill(err)
		return err
	}
	return nil
}

// read hands every frame to the client until the connection ends.
func (cn *conn) read() {
	for {
		_, data, err := cn.ws.Read(cn.ctx)
		if err != nil {
			cn.kill(describeReadError(err))
			return
		}
		cn.setBusy(true)
		cn.c.handle(cn, data)
		cn.setBusy(false)
	}
}

func (cn *conn) setBusy(b bool) {
	cn.mu.Lock()
	cn.busy = b
	cn.mu.Unlock()
}

// describeReadError says how the server or the network ended a connection.
func describeReadError(err error) error {
	if s := websocket.CloseStatus(err); s != -1 {
		var ce websocket.CloseError
		errors.As(err, &ce)
		return fmt.Errorf("%w: closed by the server (%d %s)", errConnLost, s, ce.Reason)
	}
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("%w: closed", errConnLost)
	}
	return fmt.Errorf("%w: %v", errConnLost, err)
}

// roundTrip sends req and waits for its answer: the answer frame, the error frame naming it,
// or an error when the connection ends, RequestTimeout passes or ctx is done.
func (cn *conn) roundTrip(ctx context.Context, req request) (answer, error) {
	ch := make(chan answer, 1)
	cn.mu.Lock()
	if _, dup := cn.waiters[req.key]; dup {
		cn.mu.Unlock()
		return answer{}, fmt.Errorf("%w: %s for room %q", errInFlight, req.key.typ, req.key.room)
	}
	cn.waiters[req.key] = ch
	cn.mu.Unlock()
	defer func() {
		cn.mu.Lock()
		delete(cn.waiters, req.key)
		cn.mu.Unlock()
	}()
	if err := cn.write(req.body); err != nil {
		return answer{}, err
	}
	timeout := make(chan struct{})
	t := cn.c.opts.clock.AfterFunc(cn.c.opts.RequestTimeout, func() { close(timeout) })
	defer t.Stop()
	select {
	case a := <-ch:
		return a, nil
	case <-cn.done:
		return answer{}, cn.cause()
	case <-ctx.Done():
		return answer{}, ctx.Err()
	case <-timeout:
		return answer{}, errTimeout
	}
}

// answer hands a frame to the request waiting for key; it reports whether one was.
func (cn *conn) answer(key waitKey, a answer) bool {
	cn.mu.Lock()
	ch, ok := cn.waiters[key]
	cn.mu.Unlock()
	if ok {
		select {
		case ch <- a:
		default: // a second answer to the same request (a retry's): the first one counts
		}
	}
	return ok
}
