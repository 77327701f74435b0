package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// The client process opens the connections and drives the load, in a process of its own so
// that its CPU time (500 WebSocket clients, tens of thousands of frames per second to parse)
// is not counted as the emulator's.

// writeTimeout bounds one client write; a write blocked longer means the connection is stuck.
const writeTimeout = 10 * time.Second

// textBytes is the length of each message's text.
const textBytes = 100

// frame is a server frame as the clients read it: chat frames have a type, API Gateway's own
// frames a message and no type.
type frame struct {
	Type            string `json:"type"`
	Code            string `json:"code"`
	Message         string `json:"message"`
	Action          string `json:"action"`
	RoomID          string `json:"roomId"`
	ClientMessageID string `json:"clientMessageId"`
	Text            string `json:"text"`
}

// pendingMsg is a sent message waiting for its reply.
type pendingMsg struct {
	cmid string
	sent int64 // unix nanoseconds
	step int
}

// wsClient is one connection of the load.
type wsClient struct {
	lp   *loadProc
	idx  int
	room int
	conn *websocket.Conn
	// joinCh receives "" when the room is joined, else what came instead.
	joinCh chan string
	done   chan struct{} // closed when reading ended
	endErr error         // why reading ended, valid after done

	nextSeq uint32 // touched by the sender goroutine only

	mu           sync.Mutex
	pending      []pendingMsg
	seen         map[uint64]uint16 // receipts of this step's messages, by sender<<32|seq
	lat          []float64
	ackLat       []float64
	sent         int
	acks         int
	delivered    int
	late         int
	dups         int
	misrouted    int
	stray        int
	staleReplies int
	errs         map[string]int
}

// loadProc is the client process: its connections and the current step.
type loadProc struct {
	out     *json.Encoder
	outMu   sync.Mutex
	verbose bool

	spec    connectSpec
	closed  []int       // connections closed by opClose, to reopen
	clients []*wsClient // nil entries: connections that failed
	rooms   [][]int     // open connections by room
	roomIDs []string

	step      atomic.Int64 // current step id
	deadline  atomic.Int64 // unix nanoseconds after which a first receipt is late
	sent      atomic.Int64
	expected  atomic.Int64
	delivered atomic.Int64
	replies   atomic.Int64
}

// runClient serves the parent's commands from in, writing events to out, until opExit or
// the end of in.
func runClient(in io.Reader, out io.Writer, verbose bool) error {
	lp := &loadProc{out: json.NewEncoder(out), verbose: verbose}
	lp.step.Store(-1)
	lp.deadline.Store(math.MaxInt64)
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var cmd command
		if err := json.Unmarshal(sc.Bytes(), &cmd); err != nil {
			return fmt.Errorf("client: read command: %w", err)
		}
		switch cmd.Op {
		case opConnect:
			res, err := lp.connect(*cmd.Connect)
			if err != nil {
				lp.emit(event{Op: opError, Error: err.Error()})
				continue
			}
			lp.emit(event{Op: opConnected, Connected: res})
		case opWarmup:
			if err := lp.warmup(*cmd.Connect); err != nil {
				lp.emit(event{Op: opError, Error: err.Error()})
				continue
			}
			lp.emit(event{Op: opWarm})
		case opClose:
			lp.emit(event{Op: opClose, Churn: lp.closeSome(cmd.Count)})
		case opReopen:
			lp.emit(event{Op: opReopen, Churn: lp.reopen()})
		case opStep:
			res := lp.runStep(*cmd.Step)
			lp.emit(event{Op: opStep, Step: res})
		case opExit:
			lp.closeAll()
			return nil
		default:
			lp.emit(event{Op: opError, Error: "unknown command " + cmd.Op})
		}
	}
	lp.closeAll()
	if err := sc.Err(); err != nil {
		return fmt.Errorf("client: read commands: %w", err)
	}
	return nil
}

// emit writes one event to the parent.
func (lp *loadProc) emit(ev event) {
	lp.outMu.Lock()
	defer lp.outMu.Unlock()
	_ = lp.out.Encode(ev) // the parent is gone: nothing to tell
}

// logf prints progress to standard error when verbose.
func (lp *loadProc) logf(format string, args ...any) {
	if lp.verbose {
		fmt.Fprintf(os.Stderr, "client: "+format+"\n", args...)
	}
}

// connect opens one connection per token at most spec.Ramp per second with at most
// spec.Concurrency handshakes in flight, then joins every open connection to its room, and
// returns once all are done.
func (lp *loadProc) connect(spec connectSpec) (*connectResult, error) {
	if spec.Rooms < 1 || len(spec.Tokens) == 0 {
		return nil, fmt.Errorf("connect: %d rooms and %d tokens", spec.Rooms, len(spec.Tokens))
	}
	lp.spec = spec
	lp.clients = make([]*wsClient, len(spec.Tokens))
	lp.rooms = make([][]int, spec.Rooms)
	lp.roomIDs = make([]string, spec.Rooms)
	for r := range lp.roomIDs {
		lp.roomIDs[r] = spec.RoomPrefix + strconv.Itoa(r)
	}
	res := &connectResult{Errors: map[string]int{}}
	lp.handshakes(spec, res)
	lp.joins(spec, res)
	for i, c := range lp.clients {
		if c != nil && !lp.member(c) {
			_ = c.conn.CloseNow()
			lp.clients[i] = nil
		}
	}
	if len(res.Errors) == 0 {
		res.Errors = nil
	}
	return res, nil
}

// handshakes opens a connection per token: the ramp spaces their starts, at most
// spec.Concurrency are in flight. It fills res's Connect figures.
func (lp *loadProc) handshakes(spec connectSpec, res *connectResult) {
	n := len(spec.Tokens)
	ph := newTimedPhase(spec.Concurrency, res.Errors)
	interval := time.Duration(float64(time.Second) / max(spec.Ramp, 0.001))
	start := time.Now()
	next := start
	for i, tok := range spec.Tokens {
		time.Sleep(time.Until(next))
		next = next.Add(interval)
		var c *wsClient
		ph.run("connect", func() (cause string) {
			c, cause = lp.dial(spec, i, tok)
			return cause
		}, func() { lp.clients[i] = c })
		if (i+1)%100 == 0 {
			lp.logf("%d/%d handshakes started", i+1, n)
		}
	}
	ph.wg.Wait()
	res.Connect = ph.timing(start)
	lp.logf("connected %d/%d in %v", len(ph.ms), n, res.Connect.Wall.Round(time.Millisecond))
}

// joins joins every open connection to its room, at most spec.Concurrency at once; a
// connection that fails to join takes no part. It fills res's Join figures and Open.
func (lp *loadProc) joins(spec connectSpec, res *connectResult) {
	ph := newTimedPhase(spec.Concurrency, res.Errors)
	start := time.Now()
	for _, c := range lp.clients {
		if c == nil {
			continue
		}
		ph.run("join", func() string { return c.join(lp.roomIDs[c.room], spec.Timeout) }, func() {
			lp.rooms[c.room] = append(lp.rooms[c.room], c.idx)
		})
	}
	ph.wg.Wait()
	res.Join = ph.timing(start)
	res.Open = len(ph.ms)
	lp.logf("joined %d in %v", res.Open, res.Join.Wall.Round(time.Millisecond))
}

// timedPhase runs operations concurrently, as many at once as sem holds, and keeps their
// latencies and failures.
type timedPhase struct {
	sem  chan struct{}
	wg   sync.WaitGroup
	mu   sync.Mutex
	ms   []float64      // the latencies of the operations that succeeded, in ms
	errs map[string]int // the failures, by "<kind>: <cause>"
}

// newTimedPhase returns a phase that runs at most concurrency operations at once (at least
// one) and counts failures in errs.
func newTimedPhase(concurrency int, errs map[string]int) *timedPhase {
	return &timedPhase{sem: make(chan struct{}, max(concurrency, 1)), errs: errs}
}

// timing returns the time since start and the latencies of the operations that succeeded.
func (ph *timedPhase) timing(start time.Time) phaseTiming {
	return phaseTiming{Wall: time.Since(start), Latency: summarize(ph.ms)}
}

// run waits for room in sem and starts op, which returns why it failed or "". A failure
// counts under "<kind>: <cause>" (the cause alone when kind is ""); a success keeps its
// latency and runs ok, if any, holding the phase's lock.
func (ph *timedPhase) run(kind string, op func() string, ok func()) {
	ph.sem <- struct{}{}
	ph.wg.Go(func() {
		defer func() { <-ph.sem }()
		t0 := time.Now()
		cause := op()
		d := time.Since(t0)
		ph.mu.Lock()
		defer ph.mu.Unlock()
		if cause != "" {
			if kind != "" {
				cause = kind + ": " + cause
			}
			ph.errs[cause]++
			return
		}
		ph.ms = append(ph.ms, millis(d))
		if ok != nil {
			ok()
		}
	})
}

// warmup opens a connection per token, all at once (spec.Concurrency in flight), joins each
// to one room, and closes them all normally, so that every function has as many warm
// processes as the measured phases will use: their init is not counted there.
func (lp *loadProc) warmup(spec connectSpec) error {
	warm := &loadProc{out: lp.out, verbose: lp.verbose, rooms: [][]int{nil}}
	warm.step.Store(-1)
	warm.deadline.Store(math.MaxInt64)
	warm.clients = make([]*wsClient, len(spec.Tokens))
	ph := newTimedPhase(spec.Concurrency, map[string]int{})
	for i, tok := range spec.Tokens {
		ph.run("", func() string {
			c, cause := warm.dial(connectSpec{URL: spec.URL, Rooms: 1, Timeout: spec.Timeout}, i, tok)
			if cause == "" {
				cause = c.join(spec.RoomPrefix+"0", spec.Timeout)
			}
			warm.clients[i] = c
			return cause
		}, nil)
	}
	ph.wg.Wait()
	for _, c := range warm.clients {
		if c != nil {
			ph.wg.Go(func() { _ = c.conn.Close(websocket.StatusNormalClosure, "") })
		}
	}
	ph.wg.Wait()
	if len(ph.errs) > 0 {
		return fmt.Errorf("warm-up: %s", fmtCounts(ph.errs))
	}
	lp.logf("warmed up with %d connections", len(spec.Tokens))
	return nil
}

// closeSome closes the first count open connections normally (1000), as users who leave,
// and waits for the close handshakes.
func (lp *loadProc) closeSome(count int) *churnResult {
	res := &churnResult{Errors: map[string]int{}}
	start := time.Now()
	ph := newTimedPhase(lp.spec.Concurrency, res.Errors)
	for i, c := range lp.clients {
		if c == nil || len(lp.closed) == count {
			continue
		}
		lp.closed = append(lp.closed, i)
		lp.rooms[c.room] = slices.DeleteFunc(lp.rooms[c.room], func(x int) bool { return x == i })
		lp.clients[i] = nil
		ph.run("close", func() string {
			if err := c.conn.Close(websocket.StatusNormalClosure, ""); err != nil {
				return closeCause(err)
			}
			return ""
		}, nil)
	}
	ph.wg.Wait()
	res.Count = len(lp.closed)
	res.Wall = time.Since(start)
	if len(res.Errors) == 0 {
		res.Errors = nil
	}
	return res
}

// reopen opens and joins again the connections closeSome closed (same users, same rooms).
func (lp *loadProc) reopen() *churnResult {
	res := &churnResult{Errors: map[string]int{}}
	start := time.Now()
	ph := newTimedPhase(lp.spec.Concurrency, res.Errors)
	for _, i := range lp.closed {
		var c *wsClient
		ph.run("", func() (cause string) {
			c, cause = lp.dial(lp.spec, i, lp.spec.Tokens[i])
			if cause == "" {
				if cause = c.join(lp.roomIDs[c.room], lp.spec.Timeout); cause != "" {
					_ = c.conn.CloseNow()
				}
			}
			return cause
		}, func() {
			lp.clients[i] = c
			lp.rooms[c.room] = append(lp.rooms[c.room], i)
			res.Count++
		})
	}
	ph.wg.Wait()
	lp.closed = nil
	res.Wall = time.Since(start)
	if len(res.Errors) == 0 {
		res.Errors = nil
	}
	return res
}

// member reports whether c joined its room.
func (lp *loadProc) member(c *wsClient) bool {
	for _, i := range lp.rooms[c.room] {
		if i == c.idx {
			return true
		}
	}
	return false
}

// dial opens connection i with tok and starts reading it; cause says why it failed.
func (lp *loadProc) dial(spec connectSpec, i int, tok string) (*wsClient, string) {
	ctx, cancel := context.WithTimeout(context.Background(), spec.Timeout)
	defer cancel()
	conn, resp, err := websocket.Dial(ctx, spec.URL+"?token="+url.QueryEscape(tok), nil)
	if err != nil {
		if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
			return nil, "HTTP " + strconv.Itoa(resp.StatusCode)
		}
		if errors.Is(err, context.DeadlineExceeded) {
			return nil, "timeout"
		}
		return nil, "dial error"
	}
	conn.SetReadLimit(1 << 20)
	c := &wsClient{
		lp:     lp,
		idx:    i,
		room:   i % spec.Rooms,
		conn:   conn,
		joinCh: make(chan string, 1),
		done:   make(chan struct{}),
		seen:   map[uint64]uint16{},
		errs:   map[string]int{},
	}
	go c.read()
	return c, ""
}

// join sends joinroom and waits for joined; it returns "" or what happened instead.
func (c *wsClient) join(roomID string, timeout time.Duration) string {
	body, _ := json.Marshal(map[string]string{"action": "joinroom", "roomId": roomID})
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := c.conn.Write(ctx, websocket.MessageText, body); err != nil {
		return "write failed"
	}
	select {
	case cause := <-c.joinCh:
		return cause
	case <-c.done:
		return closeCause(c.endErr)
	case <-ctx.Done():
		return "timeout"
	}
}

// closeCause names how a connection ended: its close code, or "abnormal".
func closeCause(err error) string {
	if code := websocket.CloseStatus(err); code != -1 {
		return "close " + strconv.Itoa(int(code))
	}
	return "closed abnormally"
}

// read handles every frame of the connection until it ends.
func (c *wsClient) read() {
	defer close(c.done)
	joined := false
	for {
		_, data, err := c.conn.Read(context.Background())
		if err != nil {
			c.endErr = err
			c.mu.Lock()
			c.errs["conn "+closeCause(err)]++
			c.mu.Unlock()
			return
		}
		now := time.Now().UnixNano()
		var f frame
		if json.Unmarshal(data, &f) != nil {
			c.count("not JSON")
			continue
		}
		switch {
		case f.Type == "message":
			c.onMessage(f, now)
		case f.Type == "presence":
		case f.Type == "joined" && !joined:
			joined = true
			c.joinCh <- ""
		case !joined:
			// The answer to joinroom, when it is not joined.
			joined = true
			c.joinCh <- replyKind(f)
		case f.Type == "ack":
			c.onReply("ack", f.ClientMessageID, now)
		default:
			c.onReply(replyKind(f), "", now)
		}
	}
}

// replyKind names a reply that is not an ack: an error frame by code, an API Gateway frame by
// message.
func replyKind(f frame) string {
	switch {
	case f.Type == "error":
		return f.Code
	case f.Type == "" && f.Message != "":
		return strconv.Quote(f.Message)
	}
	return "frame " + f.Type
}

// count adds one to an error count.
func (c *wsClient) count(kind string) {
	c.mu.Lock()
	c.errs[kind]++
	c.mu.Unlock()
}

// onMessage records a delivery: text is "L <step> <sender> <seq> <sent unix nanos> <padding>".
func (c *wsClient) onMessage(f frame, now int64) {
	fields := strings.SplitN(f.Text, " ", 6)
	if len(fields) < 5 || fields[0] != "L" {
		c.count("foreign message")
		return
	}
	step, err1 := strconv.Atoi(fields[1])
	sender, err2 := strconv.Atoi(fields[2])
	seq, err3 := strconv.ParseUint(fields[3], 10, 32)
	sent, err4 := strconv.ParseInt(fields[4], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil || err4 != nil || sender < 0 || sender >= len(c.lp.clients) {
		c.count("malformed message")
		return
	}
	lp := c.lp
	c.mu.Lock()
	defer c.mu.Unlock()
	if int64(step) != lp.step.Load() {
		c.stray++
		return
	}
	if sender == c.idx || sender%len(lp.rooms) != c.room || lp.roomIDs[c.room] != f.RoomID {
		c.misrouted++
		return
	}
	key := uint64(sender)<<32 | seq
	n := c.seen[key]
	c.seen[key] = n + 1
	if n > 0 {
		c.dups++
		return
	}
	if now > lp.deadline.Load() {
		c.late++
		return
	}
	c.delivered++
	c.lat = append(c.lat, float64(now-sent)/1e6)
	lp.delivered.Add(1)
}

// onReply records the reply to the oldest pending message (the emulator answers one
// connection's messages in order), or to the message an ack names.
func (c *wsClient) onReply(kind, cmid string, now int64) {
	lp := c.lp
	c.mu.Lock()
	defer c.mu.Unlock()
	i := 0
	if cmid != "" {
		i = -1
		for j, p := range c.pending {
			if p.cmid == cmid {
				i = j
				break
			}
		}
	}
	if i < 0 || len(c.pending) == 0 {
		c.errs["unexpected reply "+kind]++
		return
	}
	p := c.pending[i]
	c.pending = append(c.pending[:i], c.pending[i+1:]...)
	if int64(p.step) != lp.step.Load() {
		c.staleReplies++
		return
	}
	if now > lp.deadline.Load() {
		return // late: neither an ack nor an error of the step
	}
	lp.replies.Add(1)
	if kind == "ack" {
		c.acks++
		c.ackLat = append(c.ackLat, float64(now-p.sent)/1e6)
		return
	}
	c.errs[kind]++
}

// pendingTotal returns the messages that wait for a reply, over all connections.
func (lp *loadProc) pendingTotal() int {
	n := 0
	for _, c := range lp.clients {
		if c == nil {
			continue
		}
		c.mu.Lock()
		n += len(c.pending)
		c.mu.Unlock()
	}
	return n
}

// runStep waits (at most spec.Settle) for the replies of earlier steps, then sends for
// spec.Duration, waits at most spec.Drain for the replies and deliveries, and returns what
// it counted.
func (lp *loadProc) runStep(spec stepSpec) *stepResult {
	res := &stepResult{Spec: spec, Errors: map[string]int{}}
	t0 := time.Now()
	for lp.pendingTotal() > 0 && time.Since(t0) < spec.Settle {
		time.Sleep(100 * time.Millisecond)
	}
	res.SettleWait = time.Since(t0)
	res.SettleLeft = lp.pendingTotal()
	lp.reset(spec.ID)
	lp.sendAll(spec, res)
	sentAt := time.Now()
	lp.deadline.Store(sentAt.Add(spec.Drain).UnixNano())
	lp.emit(event{Op: opSent})
	for time.Since(sentAt) < spec.Drain {
		if lp.delivered.Load() >= lp.expected.Load() && lp.replies.Load() >= lp.sent.Load() {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Whatever arrives from now on is late; give the readers a moment to finish the frames
	// they hold, then count.
	lp.deadline.Store(time.Now().UnixNano())
	time.Sleep(50 * time.Millisecond)
	lp.collect(res)
	lp.logf("step %d (%s): sent %d, delivered %d/%d, acks %d", spec.ID, spec.Name, res.Sent, res.Delivered, res.Expected, res.Acks)
	return res
}

// reset starts step id: receipts of earlier steps' messages are strays from now on, and every
// count starts from zero.
func (lp *loadProc) reset(id int) {
	lp.step.Store(int64(id))
	lp.deadline.Store(math.MaxInt64)
	lp.sent.Store(0)
	lp.expected.Store(0)
	lp.delivered.Store(0)
	lp.replies.Store(0)
	for _, c := range lp.clients {
		if c == nil {
			continue
		}
		c.mu.Lock()
		c.seen = map[uint64]uint16{}
		c.lat, c.ackLat = nil, nil
		c.sent, c.acks, c.delivered, c.late, c.dups, c.misrouted, c.stray, c.staleReplies = 0, 0, 0, 0, 0, 0, 0, 0
		c.errs = map[string]int{}
		c.mu.Unlock()
	}
}

// sendAll has the first spec.Senders connections send at spec.Rate each for spec.Duration,
// spread evenly over one interval so that the aggregate rate is steady, and fills res's send
// window and worst lag.
func (lp *loadProc) sendAll(spec stepSpec, res *stepResult) {
	pad := strings.Repeat("x", textBytes-40)
	senders := make([]*wsClient, 0, spec.Senders)
	for _, c := range lp.clients {
		if c != nil && len(senders) < spec.Senders {
			senders = append(senders, c)
		}
	}
	interval := time.Duration(float64(time.Second) / spec.Rate)
	lp.emit(event{Op: opSending})
	start := time.Now().Add(20 * time.Millisecond)
	end := start.Add(spec.Duration)
	var wg sync.WaitGroup
	var lagMax atomic.Int64
	for k, c := range senders {
		offset := time.Duration(float64(interval) * float64(k) / float64(len(senders)))
		wg.Go(func() {
			lag := c.send(spec, start.Add(offset), end, interval, pad)
			for {
				old := lagMax.Load()
				if int64(lag) <= old || lagMax.CompareAndSwap(old, int64(lag)) {
					break
				}
			}
		})
	}
	wg.Wait()
	res.SendWindow = time.Since(start)
	res.SendLagMax = time.Duration(lagMax.Load())
}

// collect adds every connection's counts and latencies of the step to res.
func (lp *loadProc) collect(res *stepResult) {
	var lat, ackLat []float64
	for _, c := range lp.clients {
		if c == nil {
			continue
		}
		c.mu.Lock()
		res.Sent += c.sent
		res.Acks += c.acks
		res.Delivered += c.delivered
		res.Late += c.late
		res.Duplicates += c.dups
		res.Misrouted += c.misrouted
		res.Stray += c.stray
		res.StaleReplies += c.staleReplies
		lat = append(lat, c.lat...)
		ackLat = append(ackLat, c.ackLat...)
		addCounts(res.Errors, c.errs)
		c.mu.Unlock()
	}
	res.Expected = int(lp.expected.Load())
	res.Latency = summarize(lat)
	res.AckLat = summarize(ackLat)
	if len(res.Errors) == 0 {
		res.Errors = nil
	}
}

// send writes this connection's messages from first on, every interval, until end, and
// returns its worst lag behind the schedule. It stops early if the connection fails.
func (c *wsClient) send(spec stepSpec, first, end time.Time, interval time.Duration, pad string) time.Duration {
	lp := c.lp
	members := len(lp.rooms[c.room])
	var lagMax time.Duration
	for at := first; at.Before(end); at = at.Add(interval) {
		time.Sleep(time.Until(at))
		select {
		case <-c.done:
			return lagMax
		default:
		}
		lagMax = max(lagMax, time.Since(at))
		seq := c.nextSeq
		c.nextSeq++
		now := time.Now().UnixNano()
		cmid := strconv.Itoa(c.idx) + "-" + strconv.FormatUint(uint64(seq), 10)
		text := fmt.Sprintf("L %d %d %d %d %s", spec.ID, c.idx, seq, now, pad)
		body, _ := json.Marshal(map[string]string{
			"action":          "sendmessage",
			"roomId":          lp.roomIDs[c.room],
			"text":            text,
			"clientMessageId": cmid,
		})
		c.mu.Lock()
		c.pending = append(c.pending, pendingMsg{cmid: cmid, sent: now, step: spec.ID})
		c.sent++
		c.mu.Unlock()
		lp.sent.Add(1)
		lp.expected.Add(int64(members - 1))
		ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
		err := c.conn.Write(ctx, websocket.MessageText, body)
		cancel()
		if err != nil {
			c.count("write failed")
			return lagMax
		}
	}
	return lagMax
}

// closeAll closes every connection at once, without waiting for the close handshake.
func (lp *loadProc) closeAll() {
	for _, c := range lp.clients {
		if c != nil {
			_ = c.conn.CloseNow()
		}
	}
}
