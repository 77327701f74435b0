package gateway

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// Close codes and the reasons sent with them (and passed to $disconnect).
const (
	closeNormal         = websocket.StatusNormalClosure // @connections DELETE
	closeGoingAway      = websocket.StatusGoingAway     // idle, too old, gateway closing
	closeNoStatus       = 1005
	closeAbnormal       = 1006
	reasonGoingAway     = "Going away"
	reasonDeleted       = "Connection Closed Normally"
	reasonNoStatus      = "Client-side close frame status not set"
	reasonAbnormal      = "Connection closed abnormally"
	reasonBinary        = "Binary frames are not supported"
	reasonFrameTooBig   = "Frame size exceeds 32 KB"
	reasonMessageTooBig = "Message size exceeds 128 KB"
	// writeTimeout bounds one frame to a client that does not read.
	writeTimeout = 10 * time.Second
	// queueLength is how many received messages may wait for their turn.
	queueLength = 64
)

// conn is an upgraded connection.
type conn struct {
	g           *Gateway
	id          string
	ws          *websocket.Conn
	connectedAt time.Time // Config.Now clock
	started     time.Time // monotonic, for the maximum duration
	sourceIP    string
	userAgent   string
	domainName  string
	authorizer  map[string]any
	apiKey      string // the handshake's API key, for routes that require one
	iam         IAMCaller

	mu             sync.Mutex
	lastActive     time.Time // Config.Now clock, for GetConnection
	lastActiveMono time.Time // monotonic, for the idle timeout
	closing        bool
	closeCode      int
	closeReason    string
	closingCh      chan struct{}
	// ready is closed once the upgrade has finished (ws is set) or failed (ws stays nil).
	// The connection is registered before the 101 is written, so @connections calls that
	// arrive as soon as the client has it wait for ready instead of answering 410.
	ready     chan struct{}
	closeDone chan struct{} // closed when a close this side initiated is complete

	queue chan message
}

func newConn(g *Gateway, h *handshake) *conn {
	now := time.Now()
	return &conn{
		g:              g,
		id:             h.id,
		connectedAt:    h.connectedAt,
		started:        now,
		sourceIP:       h.sourceIP,
		userAgent:      h.userAgent,
		domainName:     h.domainName,
		authorizer:     h.authorizer,
		apiKey:         h.apiKey,
		iam:            h.iam,
		lastActive:     h.connectedAt,
		lastActiveMono: now,
		closingCh:      make(chan struct{}),
		queue:          make(chan message, queueLength),
		ready:          make(chan struct{}),
	}
}

// message is a received text message and the route key its body selected.
type message struct {
	route string
	body  []byte
}

// serve runs an upgraded connection: it reads messages and hands them, in order, to a worker,
// until the connection closes; then it runs $disconnect.
func (c *conn) serve() {
	workerDone := make(chan struct{})
	go func() {
		defer close(workerDone)
		for m := range c.queue {
			c.handleMessage(m.route, m.body)
		}
	}()
	watcherDone := make(chan struct{})
	go func() {
		defer close(watcherDone)
		c.watch()
	}()

	code, reason := c.readLoop()
	close(c.queue)
	<-workerDone
	<-watcherDone
	// readLoop has settled the close: no close can be initiated any more.
	c.mu.Lock()
	closeDone := c.closeDone
	c.mu.Unlock()
	if closeDone != nil {
		<-closeDone
	} else {
		// Finish a close that the client or coder/websocket started: wait (at most 5 s) for
		// the client's close frame instead of resetting the connection under it.
		_ = c.ws.Close(wireCode(code), "")
	}
	_ = c.ws.CloseNow()
	c.disconnect(code, reason)
}

// wireCode is code if a close frame may carry it, else 1011.
func wireCode(code int) websocket.StatusCode {
	switch {
	case code == closeNoStatus, code == closeAbnormal, code == 1015, code < 1000, code > 4999:
		return websocket.StatusInternalError
	}
	return websocket.StatusCode(code)
}

// readLoop reads until the connection fails or closes and returns the close code and reason
// that $disconnect gets.
func (c *conn) readLoop() (int, string) {
	for {
		typ, data, err := c.ws.Read(context.Background())
		if err != nil {
			return c.closeStatus(err)
		}
		c.touch()
		if typ != websocket.MessageText {
			c.initiateClose(websocket.StatusUnsupportedData, reasonBinary)
			continue
		}
		if c.isClosing() {
			continue
		}
		key := c.g.selectRoute(data)
		if rt := c.g.routes[key]; rt != nil && rt.mock != nil {
			// A MOCK route invokes nothing: AWS answers it at once, never behind the
			// connection's Lambda invocations (which this emulator runs one at a time).
			c.handleMessage(key, data)
			continue
		}
		c.queue <- message{route: key, body: data}
	}
}

// closeStatus settles why the connection ended, given the error that ended reading.
func (c *conn) closeStatus(err error) (int, string) {
	code, reason := closeAbnormal, reasonAbnormal
	var ce websocket.CloseError
	switch {
	case errors.As(err, &ce) && ce.Code == closeNoStatus:
		code, reason = closeNoStatus, reasonNoStatus
	case errors.As(err, &ce):
		code, reason = int(ce.Code), ce.Reason
	case errors.Is(err, websocket.ErrMessageTooBig):
		// coder/websocket has already sent the 1009 close frame.
		code, reason = int(websocket.StatusMessageTooBig), reasonMessageTooBig
	}
	c.setClosing(code, reason, nil)
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closeCode, c.closeReason
}

// setClosing records the first reason the connection ends, and done, closed when a close this
// side initiates is complete (nil otherwise); it reports whether this call was the first. From
// then on @connections answers 410 for the connection.
func (c *conn) setClosing(code int, reason string, done chan struct{}) bool {
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return false
	}
	c.closing = true
	c.closeCode, c.closeReason = code, reason
	c.closeDone = done
	close(c.closingCh)
	c.mu.Unlock()
	c.g.forget(c)
	return true
}

// initiateClose starts the close handshake with code and reason, unless the connection is
// already closing.
func (c *conn) initiateClose(code websocket.StatusCode, reason string) {
	done := make(chan struct{})
	if !c.setClosing(int(code), reason, done) {
		return
	}
	go func() {
		defer close(done)
		_ = c.ws.Close(code, reason)
	}()
}

func (c *conn) isClosing() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closing
}

// touch records client activity.
func (c *conn) touch() {
	c.mu.Lock()
	c.lastActive = c.g.cfg.Now()
	c.lastActiveMono = time.Now()
	c.mu.Unlock()
}

// watch closes the connection when it has been idle for IdleTimeout or open for
// MaxConnectionDuration.
func (c *conn) watch() {
	idleTimeout := c.g.cfg.IdleTimeout
	idle := time.NewTimer(idleTimeout)
	defer idle.Stop()
	life := time.NewTimer(c.g.cfg.MaxConnectionDuration - time.Since(c.started))
	defer life.Stop()
	for {
		select {
		case <-c.closingCh:
			return
		case <-life.C:
			c.initiateClose(closeGoingAway, reasonGoingAway)
			return
		case <-idle.C:
			c.mu.Lock()
			since := time.Since(c.lastActiveMono)
			c.mu.Unlock()
			if since >= idleTimeout {
				c.initiateClose(closeGoingAway, reasonGoingAway)
				return
			}
			idle.Reset(idleTimeout - since)
		}
	}
}

// send writes one text frame to the client.
func (c *conn) send(ctx context.Context, data []byte) error {
	if c.isClosing() {
		return errGone
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writeTimeout)
	defer cancel()
	if err := c.ws.Write(ctx, websocket.MessageText, data); err != nil {
		return errors.Join(errGone, err)
	}
	return nil
}

// errGone is a connection that can no longer be written to.
var errGone = errors.New("connection is gone")

// requestContext is the requestContext of a MESSAGE or DISCONNECT event.
func (c *conn) requestContext(routeKey, eventType, requestID string, now time.Time) requestContext {
	return requestContext{
		RouteKey:          routeKey,
		Authorizer:        c.authorizer,
		EventType:         eventType,
		ExtendedRequestID: requestID,
		RequestTime:       requestTime(now),
		MessageDirection:  "IN",
		Stage:             c.g.stage.Name,
		ConnectedAt:       c.connectedAt.UnixMilli(),
		RequestTimeEpoch:  now.UnixMilli(),
		Identity:          newIdentity(c.userAgent, c.sourceIP, c.iam),
		RequestID:         requestID,
		DomainName:        c.domainName,
		ConnectionID:      c.id,
		APIID:             c.g.api.ID,
	}
}

// disconnect invokes the $disconnect integration, best effort: failures are logged.
func (c *conn) disconnect(code int, reason string) {
	start := time.Now()
	requestID := newID()
	rt := c.g.routes["$disconnect"]
	extra := []slog.Attr{slog.Int("closeCode", code), slog.String("closeReason", reason)}
	if rt == nil || rt.none || rt.mock != nil || rt.function == "" {
		c.g.logEvent("disconnect", c.id, "$disconnect", requestID, 0, start, nil, extra...)
		return
	}
	ev := proxyEvent{RequestContext: c.requestContext("$disconnect", "DISCONNECT", requestID, c.g.cfg.Now())}
	ev.Headers, ev.MultiValueHeaders = disconnectHeaders(c.domainName)
	ev.RequestContext.DisconnectStatusCode = code
	ev.RequestContext.DisconnectReason = &reason
	// $disconnect runs even while the gateway closes.
	out, err := c.g.invoke(context.WithoutCancel(c.g.ctx), rt.function, rt.timeout, ev)
	status := http.StatusOK
	if err == nil {
		if resp, perr := parseProxyResponse(out); perr == nil {
			status = resp.StatusCode
		}
	} else {
		status = http.StatusInternalServerError
	}
	c.g.logEvent("disconnect", c.id, "$disconnect", requestID, status, start, err, extra...)
}
