package lambdaemu

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Runtime API headers.
const (
	headerRequestID      = "Lambda-Runtime-Aws-Request-Id"
	headerDeadline       = "Lambda-Runtime-Deadline-Ms"
	headerFunctionARN    = "Lambda-Runtime-Invoked-Function-Arn"
	headerTraceID        = "Lambda-Runtime-Trace-Id"
	headerErrorType      = "Lambda-Runtime-Function-Error-Type"
	trailerErrorBody     = "Lambda-Runtime-Function-Error-Body"
	runtimeAPIPrefix     = "/2018-06-01/runtime"
	maxCapture           = 256 << 10
	outputDrainTimeout   = 2 * time.Second
	markerAckTimeout     = 2 * time.Second
	statusResponseAccept = `{"status":"OK"}`
)

// process is one execution environment: a bootstrap process and its runtime API server.
type process struct {
	fn      *function
	cmd     *exec.Cmd
	pid     int
	srv     *http.Server
	pr      *os.File // the read end of the output pipe
	pw      *os.File // the write end of the output pipe, kept to write markers
	started time.Time

	ready      chan struct{} // closed at the first /next
	initFailed chan struct{} // closed when the runtime posts /init/error
	readDone   chan struct{} // closed when the output pipe is drained
	exited     chan struct{} // closed once the process is reaped and its output read
	stop       chan struct{} // closed when the process is being killed
	invokes    chan *invocation

	readyOnce, initOnce, stopOnce sync.Once

	mu       sync.Mutex
	initDur  time.Duration
	initErr  *FunctionError
	current  *invocation
	capture  []string
	capBytes int
	syncs    map[string]chan struct{}
	syncSeq  int
	exitDesc string // "exit status 2", "signal: killed"
}

// invocation is one event handed to a process.
type invocation struct {
	id       string
	arn      string
	traceID  string
	payload  []byte
	deadline time.Time
	done     chan struct{} // closed when finished by a response or error

	// Guarded by process.mu.
	dispatched time.Time
	finished   bool
	finishedAt time.Time
	response   []byte
	err        *FunctionError
}

// startProcess starts a bootstrap with its own runtime API server on loopback.
func (f *function) startProcess() (*process, error) {
	e := f.em
	if !e.track() {
		return nil, ErrClosed
	}
	started := false
	defer func() {
		if !started {
			e.wg.Done()
		}
	}()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("start %s: listen for the runtime API: %w", f.cfg.Name, err)
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("start %s: output pipe: %w", f.cfg.Name, err)
	}
	p := f.newProcess(pr, pw)
	p.cmd = f.command(ln.Addr().String(), pw)
	go func() {
		defer close(p.readDone)
		defer pr.Close()
		readLines(pr, p.line, p.marker)
	}()

	p.started = time.Now()
	if err := p.cmd.Start(); err != nil {
		ln.Close()
		pw.Close()
		<-p.readDone
		return nil, fmt.Errorf("start %s: %w", f.cfg.Name, err)
	}
	p.pid = p.cmd.Process.Pid
	// Serve only now, so that the handlers see started and pid; until then the runtime's
	// connection waits in the listen backlog.
	serveDone := make(chan struct{})
	go func() {
		defer close(serveDone)
		_ = p.srv.Serve(ln) // ends with ErrServerClosed
	}()
	started = true
	f.mu.Lock()
	f.procs[p] = struct{}{} // before monitor may remove it
	f.mu.Unlock()
	go func() {
		defer e.wg.Done()
		p.monitor()
		<-serveDone
	}()
	if e.isClosed() { // Close may have listed the processes before this one was added
		_ = p.kill()
	}
	return p, nil
}

// track counts a process about to start in the emulator's wait group, to be released when
// every goroutine of the process is done; it reports false, counting nothing, once the
// emulator is closed.
func (e *Emulator) track() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.closed {
		e.wg.Add(1)
	}
	return !e.closed
}

// newProcess returns a process of f, not started, whose output pipe is pr and pw, with its
// runtime API server.
func (f *function) newProcess(pr, pw *os.File) *process {
	p := &process{
		fn:         f,
		pr:         pr,
		pw:         pw,
		ready:      make(chan struct{}),
		initFailed: make(chan struct{}),
		readDone:   make(chan struct{}),
		exited:     make(chan struct{}),
		stop:       make(chan struct{}),
		invokes:    make(chan *invocation),
		syncs:      make(map[string]chan struct{}),
	}
	p.srv = &http.Server{
		Handler:           p.routes(),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(lineWriter(f.emit), "lambdaemu: runtime API: ", 0),
	}
	return p
}

// command returns the command that runs f's bootstrap (through its interpreter, if any) with
// the runtime API at apiAddr and its output to out.
func (f *function) command(apiAddr string, out *os.File) *exec.Cmd {
	var cmd *exec.Cmd
	if f.cfg.Interpreter != "" {
		cmd = exec.Command(f.cfg.Interpreter, f.bootstrap)
	} else {
		cmd = exec.Command(f.bootstrap)
	}
	cmd.Dir = f.cfg.Dir
	cmd.Env = f.environ(apiAddr, newLogStream(time.Now()))
	cmd.Stdout = out
	cmd.Stderr = out
	cmd.SysProcAttr = sysProcAttr()
	return cmd
}

// monitor reaps the process, drains its output and shuts its server.
func (p *process) monitor() {
	err := p.cmd.Wait()
	// Whatever the leader left in its group goes with it, as a sandbox does. (Its process
	// group id cannot have been reused yet: pids are handed out in sequence.)
	_ = killGroup(p.cmd.Process)
	killed := true
	p.stopOnce.Do(func() {
		killed = false
		close(p.stop)
	})
	p.pw.Close()
	select {
	case <-p.readDone:
	case <-time.After(outputDrainTimeout):
		// Something outside the process group still holds the pipe open: stop reading.
		p.fn.emit("lambdaemu: a descendant of a dead process still holds its output open; no longer read")
		p.pr.Close()
		<-p.readDone
	}
	// The handlers return once stop is closed; then the server is idle.
	ctx, cancel := context.WithTimeout(context.Background(), outputDrainTimeout)
	if err := p.srv.Shutdown(ctx); err != nil {
		p.srv.Close()
	}
	cancel()
	desc := "exit status unknown"
	if p.cmd.ProcessState != nil {
		desc = p.cmd.ProcessState.String()
	} else if err != nil {
		desc = err.Error()
	}
	p.mu.Lock()
	p.exitDesc = desc
	p.mu.Unlock()
	if !killed {
		p.line(fmt.Sprintf("lambdaemu: process %d exited (%s)", p.pid, desc))
	}
	p.fn.remove(p)
	close(p.exited)
}

// kill kills the process group. It returns before the process is reaped: wait for exited.
func (p *process) kill() error {
	p.stopOnce.Do(func() { close(p.stop) })
	if p.hasExited() {
		return nil
	}
	return killGroup(p.cmd.Process)
}

// hasExited reports whether the process is reaped and its output read.
func (p *process) hasExited() bool { return isDone(p.exited) }

// awaitInit waits for a new process to finish its init phase, and fills res.InitDuration, and
// res.Err on an init failure (the process is then gone).
func (f *function) awaitInit(ctx context.Context, p *process, res *Result) error {
	timer := time.NewTimer(f.cfg.InitTimeout)
	defer timer.Stop()
	var ferr *FunctionError
	select {
	case <-p.ready:
		p.mu.Lock()
		res.InitDuration = p.initDur
		p.mu.Unlock()
		return nil
	case <-p.initFailed:
		_ = p.kill()
		<-p.exited
	case <-p.exited:
	case <-timer.C:
		_ = p.kill()
		<-p.exited
		ferr = &FunctionError{
			Type:    ErrorTypeTimeout,
			Message: fmt.Sprintf("RequestId: %s Error: init phase timed out after %s", res.RequestID, seconds(f.cfg.InitTimeout)),
			Init:    true,
		}
	case <-ctx.Done():
		_ = p.kill()
		<-p.exited
		return fmt.Errorf("invoke %s: init: %w", f.cfg.Name, ctx.Err())
	}
	if f.em.isClosed() {
		return fmt.Errorf("invoke %s: %w", f.cfg.Name, ErrClosed)
	}
	res.InitDuration = time.Since(p.started)
	p.mu.Lock()
	if ferr == nil {
		ferr = p.initErr
	}
	if ferr == nil {
		ferr = &FunctionError{
			Type:    ErrorTypeExit,
			Message: fmt.Sprintf("RequestId: %s Error: Runtime exited with error: %s", res.RequestID, p.exitDesc),
			Init:    true,
		}
	}
	p.mu.Unlock()
	res.PID = p.pid
	res.Err = ferr
	res.Payload = ferr.document()
	status := "error"
	if ferr.Type == ErrorTypeTimeout {
		status = "timeout"
	}
	p.deadLines(
		fmt.Sprintf("INIT_REPORT Init Duration: %s\tPhase: init\tStatus: %s\tError Type: %s", millis(res.InitDuration), status, ferr.Type),
		"START RequestId: "+res.RequestID+" Version: $LATEST",
		ferr.Message,
		"END RequestId: "+res.RequestID,
		fmt.Sprintf("REPORT RequestId: %s\tDuration: %s\tBilled Duration: 0 ms\tMemory Size: %d MB\tStatus: %s\tError Type: %s",
			res.RequestID, millis(0), f.cfg.MemorySize, status, ferr.Type),
	)
	res.Log = p.takeCapture()
	return nil
}

// run hands one event to a process that waits at /next and waits for its outcome. retry
// reports a warm process found dead before it took the event: the caller uses another.
func (f *function) run(ctx context.Context, p *process, res Result, payload []byte, cold bool) (_ Result, retry bool, _ error) {
	now := time.Now()
	inv := &invocation{
		id:       res.RequestID,
		arn:      f.arn,
		traceID:  newTraceID(now),
		payload:  payload,
		deadline: now.Add(f.cfg.Timeout),
		done:     make(chan struct{}),
	}
	timer := time.NewTimer(f.cfg.Timeout)
	defer timer.Stop()

	select {
	case p.invokes <- inv:
	case <-p.exited:
		if !cold && !f.em.isClosed() {
			return res, true, nil
		}
		return f.exited(p, inv, res)
	case <-timer.C:
		return f.timedOut(p, inv, res)
	case <-ctx.Done():
		f.release(p) // it never saw the event
		return res, false, fmt.Errorf("invoke %s: %w", f.cfg.Name, ctx.Err())
	}

	select {
	case <-inv.done:
		return f.finished(p, inv, res), false, nil
	case <-p.exited:
		select {
		case <-inv.done: // the runtime answered, then exited (as after a panic)
			return f.finished(p, inv, res), false, nil
		default:
			return f.exited(p, inv, res)
		}
	case <-timer.C:
		return f.timedOut(p, inv, res)
	case <-ctx.Done():
		_ = p.kill()
		<-p.exited
		return res, false, fmt.Errorf("invoke %s: %w", f.cfg.Name, ctx.Err())
	}
}

// finished reports an invocation that the runtime answered, and makes the process idle.
func (f *function) finished(p *process, inv *invocation, res Result) Result {
	p.mu.Lock()
	res.Duration = inv.finishedAt.Sub(inv.dispatched)
	res.Payload = inv.response
	res.Err = inv.err
	p.mu.Unlock()
	if res.Err != nil {
		res.Payload = res.Err.document()
	}
	report := fmt.Sprintf("REPORT RequestId: %s\tDuration: %s\tBilled Duration: %d ms\tMemory Size: %d MB",
		res.RequestID, millis(res.Duration), billed(res.Duration), f.cfg.MemorySize)
	if mb, ok := maxMemoryMB(p.pid); ok {
		report += fmt.Sprintf("\tMax Memory Used: %d MB", mb)
	}
	if res.ColdStart {
		report += "\tInit Duration: " + millis(res.InitDuration)
	}
	p.markedLines("END RequestId: "+res.RequestID, report)
	res.Log = p.takeCapture()
	f.release(p)
	return res
}

// exited reports an invocation whose process died before answering.
func (f *function) exited(p *process, inv *invocation, res Result) (Result, bool, error) {
	<-p.exited
	if f.em.isClosed() {
		return res, false, fmt.Errorf("invoke %s: %w", f.cfg.Name, ErrClosed)
	}
	p.mu.Lock()
	desc := p.exitDesc
	if !inv.dispatched.IsZero() {
		res.Duration = time.Since(inv.dispatched)
	}
	p.mu.Unlock()
	res.Err = &FunctionError{
		Type:    ErrorTypeExit,
		Message: fmt.Sprintf("RequestId: %s Error: Runtime exited with error: %s", res.RequestID, desc),
	}
	res.Payload = res.Err.document()
	p.deadLines(res.Err.Message, res.Err.Type, "END RequestId: "+res.RequestID,
		fmt.Sprintf("REPORT RequestId: %s\tDuration: %s\tBilled Duration: %d ms\tMemory Size: %d MB\tStatus: error\tError Type: %s",
			res.RequestID, millis(res.Duration), billed(res.Duration), f.cfg.MemorySize, res.Err.Type))
	res.Log = p.takeCapture()
	return res, false, nil
}

// timedOut kills the process of an invocation past its deadline and reports the timeout;
// if the runtime answered in the meantime, that answer stands.
func (f *function) timedOut(p *process, inv *invocation, res Result) (Result, bool, error) {
	p.mu.Lock()
	answered := inv.finished
	inv.finished = true // a late answer is refused
	p.mu.Unlock()
	if answered {
		return f.finished(p, inv, res), false, nil
	}
	_ = p.kill()
	<-p.exited
	if f.em.isClosed() {
		return res, false, fmt.Errorf("invoke %s: %w", f.cfg.Name, ErrClosed)
	}
	res.Duration = f.cfg.Timeout
	res.Err = &FunctionError{
		Type:    ErrorTypeTimeout,
		Message: fmt.Sprintf("RequestId: %s Error: Task timed out after %s", res.RequestID, seconds(f.cfg.Timeout)),
	}
	res.Payload = res.Err.document()
	p.deadLines(
		fmt.Sprintf("%s %s Task timed out after %s", time.Now().UTC().Format(time.RFC3339Nano), res.RequestID, seconds(f.cfg.Timeout)),
		"END RequestId: "+res.RequestID,
		fmt.Sprintf("REPORT RequestId: %s\tDuration: %s\tBilled Duration: %d ms\tMemory Size: %d MB\tStatus: timeout",
			res.RequestID, millis(res.Duration), billed(res.Duration), f.cfg.MemorySize))
	res.Log = p.takeCapture()
	return res, false, nil
}

// line records one output line of the process.
func (p *process) line(s string) {
	p.mu.Lock()
	p.capture = append(p.capture, s)
	p.capBytes += len(s) + 1
	for p.capBytes > maxCapture && len(p.capture) > 1 {
		p.capBytes -= len(p.capture[0]) + 1
		p.capture = p.capture[1:]
	}
	p.mu.Unlock()
	p.fn.emit(s)
}

// marker handles a line that the emulator wrote into the output pipe.
func (p *process) marker(kind byte, text string) {
	switch kind {
	case kindLine:
		p.line(text)
	case kindSync:
		p.mu.Lock()
		ch := p.syncs[text]
		delete(p.syncs, text)
		p.mu.Unlock()
		if ch != nil {
			close(ch)
		}
	}
}

// markedLines writes lines into the process's output pipe, behind everything the process
// wrote before, and waits until the reader has logged them.
func (p *process) markedLines(lines ...string) {
	p.mu.Lock()
	p.syncSeq++
	token := strconv.Itoa(p.syncSeq)
	ack := make(chan struct{})
	p.syncs[token] = ack
	p.mu.Unlock()
	msg := append(encodeMarkers(kindLine, lines...), encodeMarkers(kindSync, token)...)
	if _, err := p.pw.Write(msg); err != nil { // the process is gone: log directly
		<-p.exited
		p.deadLines(lines...)
		return
	}
	timer := time.NewTimer(markerAckTimeout)
	defer timer.Stop()
	select {
	case <-ack:
	case <-p.readDone:
	case <-timer.C:
	}
}

// deadLines logs lines of a process whose output is closed.
func (p *process) deadLines(lines ...string) {
	for _, l := range lines {
		p.line(l)
	}
}

// takeCapture returns the lines captured since the last call.
func (p *process) takeCapture() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var b strings.Builder
	for _, l := range p.capture {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	p.capture, p.capBytes = nil, 0
	return b.String()
}

// routes serves the runtime API of this process.
func (p *process) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+runtimeAPIPrefix+"/invocation/next", p.next)
	mux.HandleFunc("POST "+runtimeAPIPrefix+"/invocation/{id}/response", p.response)
	mux.HandleFunc("POST "+runtimeAPIPrefix+"/invocation/{id}/error", p.invocationError)
	mux.HandleFunc("POST "+runtimeAPIPrefix+"/init/error", p.initError)
	return mux
}

// next serves GET /runtime/invocation/next: it blocks until an event is handed over.
func (p *process) next(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	initFailed := p.initErr != nil
	p.mu.Unlock()
	if initFailed {
		writeAPIError(w, http.StatusForbidden, "InvalidStateTransition", "the runtime reported an init error")
		return
	}
	p.readyOnce.Do(func() {
		p.mu.Lock()
		p.initDur = time.Since(p.started)
		p.mu.Unlock()
		close(p.ready)
	})
	select {
	case inv := <-p.invokes:
		p.mu.Lock()
		p.current = inv
		inv.dispatched = time.Now()
		p.mu.Unlock()
		p.markedLines("START RequestId: " + inv.id + " Version: $LATEST")
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set(headerRequestID, inv.id)
		h.Set(headerDeadline, strconv.FormatInt(inv.deadline.UnixMilli(), 10))
		h.Set(headerFunctionARN, inv.arn)
		h.Set(headerTraceID, inv.traceID)
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(inv.payload)
	case <-p.stop:
		writeAPIError(w, http.StatusInternalServerError, "Runtime.Stopping", "the execution environment is shutting down")
	case <-r.Context().Done():
	}
}

// response serves POST /runtime/invocation/{id}/response.
func (p *process) response(w http.ResponseWriter, r *http.Request) {
	body, tooLarge, err := readBody(r.Body, MaxResponseSize)
	if err != nil {
		writeAPIError(w, http.StatusBadRequest, "InvalidRequest", "read the response: "+err.Error())
		return
	}
	var ferr *FunctionError
	switch {
	case tooLarge:
		ferr = &FunctionError{
			Type:    ErrorTypeResponseTooLarge,
			Message: fmt.Sprintf("Response payload size exceeded maximum allowed payload size (%d bytes).", MaxResponseSize),
		}
	case r.Trailer.Get(headerErrorType) != "":
		// aws-lambda-go reports a failure while streaming the response in trailers.
		doc, _ := base64.StdEncoding.DecodeString(r.Trailer.Get(trailerErrorBody))
		ferr = parseErrorDocument(doc, r.Trailer.Get(headerErrorType), ErrorTypeUnhandled)
		body = nil
	}
	if status, errType, msg := p.finish(r.PathValue("id"), body, ferr); status != 0 {
		writeAPIError(w, status, errType, msg)
		return
	}
	if tooLarge {
		writeAPIError(w, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", ferr.Message)
		return
	}
	writeAccepted(w)
}

// readError reads the body of a posted error; when it cannot, it answers 400 and reports
// false.
func readError(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, _, err := readBody(r.Body, MaxResponseSize)
	if err != nil {
		writeAPIError(w, http.StatusBadRequest, "InvalidRequest", "read the error: "+err.Error())
		return nil, false
	}
	return body, true
}

// invocationError serves POST /runtime/invocation/{id}/error.
func (p *process) invocationError(w http.ResponseWriter, r *http.Request) {
	body, ok := readError(w, r)
	if !ok {
		return
	}
	ferr := parseErrorDocument(body, r.Header.Get(headerErrorType), ErrorTypeUnhandled)
	if status, errType, msg := p.finish(r.PathValue("id"), nil, ferr); status != 0 {
		writeAPIError(w, status, errType, msg)
		return
	}
	writeAccepted(w)
}

// initError serves POST /runtime/init/error.
func (p *process) initError(w http.ResponseWriter, r *http.Request) {
	body, ok := readError(w, r)
	if !ok {
		return
	}
	select {
	case <-p.ready:
		writeAPIError(w, http.StatusForbidden, "InvalidStateTransition", "init error after the init phase")
		return
	default:
	}
	ferr := parseErrorDocument(body, r.Header.Get(headerErrorType), ErrorTypeInit)
	ferr.Init = true
	p.initOnce.Do(func() {
		p.mu.Lock()
		p.initErr = ferr
		p.mu.Unlock()
		close(p.initFailed)
	})
	writeAccepted(w)
}

// finish records the answer to the current invocation. A non-zero status refuses it.
func (p *process) finish(id string, response []byte, ferr *FunctionError) (status int, errType, msg string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	inv := p.current
	if inv == nil || inv.id != id {
		return http.StatusBadRequest, "InvalidRequestID", fmt.Sprintf("invalid request id %q", id)
	}
	if inv.finished {
		return http.StatusForbidden, "InvalidStateTransition", fmt.Sprintf("invocation %s is already finished", id)
	}
	inv.finished = true
	inv.finishedAt = time.Now()
	inv.response = response
	inv.err = ferr
	close(inv.done)
	return 0, "", ""
}

// parseErrorDocument reads an error that a runtime posted: the standard
// {"errorMessage", "errorType", "stackTrace"} document, else the header's type and the body
// as message, with fallbackType when neither names a type.
func parseErrorDocument(body []byte, headerType, fallbackType string) *FunctionError {
	var doc struct {
		ErrorMessage string          `json:"errorMessage"`
		ErrorType    string          `json:"errorType"`
		StackTrace   json.RawMessage `json:"stackTrace"`
	}
	ferr := &FunctionError{}
	if err := json.Unmarshal(body, &doc); err == nil {
		ferr.Type, ferr.Message = doc.ErrorType, doc.ErrorMessage
		if len(doc.StackTrace) > 0 && string(doc.StackTrace) != "null" {
			ferr.StackTrace = doc.StackTrace
		}
	} else {
		ferr.Message = strings.TrimSpace(string(body))
	}
	if ferr.Type == "" {
		ferr.Type = headerType
	}
	if ferr.Type == "" {
		ferr.Type = fallbackType
	}
	return ferr
}

// readBody reads at most limit bytes of r, and reports whether there was more.
func readBody(r io.Reader, limit int64) ([]byte, bool, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, false, err
	}
	if int64(len(b)) > limit {
		_, _ = io.Copy(io.Discard, r)
		return nil, true, nil
	}
	return b, false, nil
}

func writeAccepted(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	_, _ = io.WriteString(w, statusResponseAccept)
}

// writeAPIError answers with the runtime API's ErrorResponse.
func writeAPIError(w http.ResponseWriter, status int, errType, msg string) {
	b, _ := json.Marshal(struct {
		ErrorMessage string `json:"errorMessage"`
		ErrorType    string `json:"errorType"`
	}{msg, errType})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// lineWriter adapts a line sink to an io.Writer for log.Logger, which writes whole lines.
type lineWriter func(string)

func (l lineWriter) Write(b []byte) (int, error) {
	l(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

// maxMemoryMB returns the peak resident memory of a live process, from /proc.
func maxMemoryMB(pid int) (int64, bool) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				return 0, false
			}
			return (kb + 1023) / 1024, true
		}
	}
	return 0, false
}

// millis formats d as Lambda's reports do ("12.34 ms").
func millis(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 2, 64) + " ms"
}

// seconds formats d as Lambda's timeout messages do ("3.00 seconds").
func seconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', 2, 64) + " seconds"
}

// billed rounds d up to whole milliseconds.
func billed(d time.Duration) int64 {
	return int64(math.Ceil(float64(d) / float64(time.Millisecond)))
}
