package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/chatstack/websocketchatapi/internal/contract"
	"github.com/chatstack/websocketchatapi/protocol"
)

// waitTimeout bounds every wait of the tests for something that must happen.
const waitTimeout = 10 * time.Second

// testServer is a scripted chat server: an in-memory implementation of the protocol (rooms
// with gapless sequence numbers, resume, history pages, idempotent sends, pong) that tests
// steer: they see every request, may answer one themselves (intercept), drop live
// deliveries, store messages no one receives, and cut connections.
type testServer struct {
	t   *testing.T
	srv *httptest.Server
	ln  *trackingListener

	mu     sync.Mutex
	rooms  map[string]*testRoom
	conns  []*serverConn
	tokens []string        // every token presented, in order
	refuse map[string]bool // tokens answered 401
	// refuseAll answers every handshake 401 (the server is unreachable for the client).
	refuseAll bool
	log       []string // what happened, in order (see note)
	// intercept, when set, sees each request first; returning true means it answered
	// (or deliberately did not).
	intercept func(sc *serverConn, req clientRequest) bool
	// deliverTo, when set, decides whether a live message reaches a member.
	deliverTo func(sc *serverConn, m protocol.Message) bool
	accepted  chan *serverConn
}

// testRoom is a room's state: messages[i] has seq i+1.
type testRoom struct {
	id       string
	messages []protocol.Message
	members  map[*serverConn]bool
	acks     map[string]protocol.Ack // by clientMessageId
	// retainedFrom is the first seq still in history: older ones are lost.
	retainedFrom int64
}

// serverConn is one client connection as the server sees it.
type serverConn struct {
	s        *testServer
	n        int // 1 for the first connection
	ws       *websocket.Conn
	raw      net.Conn
	user     string
	token    string
	requests chan clientRequest // every request received, in order
	closed   chan struct{}      // closed when the connection ended
	status   websocket.StatusCode
}

// clientRequest is any request a client sends.
type clientRequest struct {
	Action          string `json:"action"`
	RoomID          string `json:"roomId"`
	Since           *int64 `json:"since"`
	Text            string `json:"text"`
	ClientMessageID string `json:"clientMessageId"`
	Limit           int    `json:"limit"`
	Before          *int64 `json:"before"`
	After           *int64 `json:"after"`
	ToUserID        string `json:"toUserId"`
	Cursor          string `json:"cursor"`
}

func newTestServer(t *testing.T) *testServer {
	t.Helper()
	s := &testServer{t: t, rooms: map[string]*testRoom{}, refuse: map[string]bool{}, accepted: make(chan *serverConn, 64)}
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(s.serveHTTP))
	s.ln = &trackingListener{Listener: s.srv.Listener, conns: map[string]net.Conn{}}
	s.srv.Listener = s.ln
	s.srv.Start()
	t.Cleanup(s.close)
	return s
}

// url is the server's ws:// URL, as a stage URL looks.
func (s *testServer) url() string { return "ws" + strings.TrimPrefix(s.srv.URL, "http") + "/prod" }

func (s *testServer) close() {
	s.mu.Lock()
	conns := append([]*serverConn(nil), s.conns...)
	s.mu.Unlock()
	for _, sc := range conns {
		_ = sc.ws.CloseNow()
	}
	s.srv.Close()
}

// setIntercept sets the intercept hook.
func (s *testServer) setIntercept(f func(sc *serverConn, req clientRequest) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.intercept = f
}

// refuseTokens answers these tokens 401.
func (s *testServer) refuseTokens(tokens ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, tok := range tokens {
		s.refuse[tok] = true
	}
}

// setRefuseAll sets refuseAll.
func (s *testServer) setRefuseAll(refuse bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refuseAll = refuse
}

// note records an event of the script, for tests of ordering.
func (s *testServer) note(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log = append(s.log, fmt.Sprintf(format, args...))
}

func (s *testServer) notes() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.log...)
}

// serveHTTP authenticates the handshake as the $connect authorizer does, then serves frames.
func (s *testServer) serveHTTP(w http.ResponseWriter, r *http.Request) {
	token := r.URL.Query().Get(tokenQueryParam)
	for _, p := range strings.Split(r.Header.Get("Sec-WebSocket-Protocol"), ",") {
		if p = strings.TrimSpace(p); strings.HasPrefix(p, bearerPrefix) {
			token = strings.TrimPrefix(p, bearerPrefix)
		}
	}
	s.mu.Lock()
	s.tokens = append(s.tokens, token)
	refused := token == "" || s.refuse[token] || s.refuseAll
	s.mu.Unlock()
	if refused {
		http.Error(w, "Unauthorized", http.StatusUnauthorized)
		return
	}
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{contract.Subprotocol}})
	if err != nil {
		return
	}
	sc := &serverConn{s: s, ws: ws, raw: s.ln.conn(r.RemoteAddr), user: strings.SplitN(token, "#", 2)[0],
		token: token, requests: make(chan clientRequest, 1024), closed: make(chan struct{})}
	s.mu.Lock()
	s.conns = append(s.conns, sc)
	sc.n = len(s.conns)
	s.mu.Unlock()
	s.accepted <- sc
	sc.serve()
}

// serve reads requests until the connection ends.
func (sc *serverConn) serve() {
	defer func() {
		sc.s.leaveAll(sc)
		sc.s.note("conn%d closed %d", sc.n, sc.status)
		close(sc.closed)
	}()
	for {
		_, data, err := sc.ws.Read(context.Background())
		if err != nil {
			sc.status = websocket.CloseStatus(err)
			return
		}
		var req clientRequest
		if err := json.Unmarshal(data, &req); err != nil {
			sc.send(protocol.NewError(protocol.CodeInvalidJSON, "not JSON"))
			continue
		}
		sc.requests <- req
		sc.s.mu.Lock()
		intercept := sc.s.intercept
		sc.s.mu.Unlock()
		if intercept != nil && intercept(sc, req) {
			continue
		}
		sc.s.serveRequest(sc, req)
	}
}

// send writes one frame; a failed write means the connection is going, which serve sees.
func (sc *serverConn) send(frame any) {
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	_ = sc.ws.Write(ctx, websocket.MessageText, protocol.Encode(frame))
}

// next returns the next request of the given action, skipping others (pings, ...).
func (sc *serverConn) next(action string) clientRequest {
	sc.s.t.Helper()
	timeout := time.After(waitTimeout)
	for {
		select {
		case req := <-sc.requests:
			if req.Action == action {
				return req
			}
		case <-timeout:
			sc.s.t.Fatalf("conn%d: no %s request within %v", sc.n, action, waitTimeout)
		}
	}
}

// nextAny returns the next request, whatever its action.
func (sc *serverConn) nextAny() clientRequest {
	sc.s.t.Helper()
	select {
	case req := <-sc.requests:
		return req
	case <-time.After(waitTimeout):
		sc.s.t.Fatalf("conn%d: no request within %v", sc.n, waitTimeout)
		return clientRequest{}
	}
}

// drop cuts the TCP connection with no close frame, as a network does.
func (sc *serverConn) drop() { _ = sc.raw.Close() }

// waitClosed waits until the connection ended.
func (sc *serverConn) waitClosed() {
	sc.s.t.Helper()
	select {
	case <-sc.closed:
	case <-time.After(waitTimeout):
		sc.s.t.Fatalf("conn%d still open after %v", sc.n, waitTimeout)
	}
}

// nextConn returns the next accepted connection.
func (s *testServer) nextConn() *serverConn {
	s.t.Helper()
	select {
	case sc := <-s.accepted:
		return sc
	case <-time.After(waitTimeout):
		s.t.Fatalf("no connection within %v", waitTimeout)
		return nil
	}
}

// trackingListener remembers each accepted TCP connection, so that a test can cut one.
type trackingListener struct {
	net.Listener
	mu    sync.Mutex
	conns map[string]net.Conn // by remote address
}

func (l *trackingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.mu.Lock()
		l.conns[c.RemoteAddr().String()] = c
		l.mu.Unlock()
	}
	return c, err
}

func (l *trackingListener) conn(remote string) net.Conn {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.conns[remote]
}
