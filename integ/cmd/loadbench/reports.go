package main

import (
	"bytes"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"
)

// invocationReport is one of Lambda's REPORT lines, as the emulator writes them.
type invocationReport struct {
	at       time.Time
	duration float64 // ms
	memMB    int     // Max Memory Used (VmHWM of the process; under qemu, qemu's own included)
	initMs   float64 // Init Duration, on a cold start
	failed   bool    // Status: error or timeout
}

// fnLog is what the sink kept of one function.
type fnLog struct {
	reports []invocationReport
	// bytes counts the function's output as CloudWatch Logs would ingest it: its own lines
	// plus Lambda's START, END and REPORT lines.
	bytes int64
}

// reportSink is the emulator's LogSink: it reads each function's REPORT lines (duration, peak
// memory, init duration) and counts its log volume. The emulator writes whole lines
// "[<function name>] <line>\n".
type reportSink struct {
	copy io.Writer // optional: every line, as written
	mu   sync.Mutex
	// frozen stops the counting (the copy goes on): the emulator's shutdown is not load.
	frozen bool
	part   []byte
	fns    map[string]*fnLog
}

func newReportSink() *reportSink { return &reportSink{fns: map[string]*fnLog{}} }

// Write implements io.Writer.
func (s *reportSink) Write(p []byte) (int, error) {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.copy != nil {
		_, _ = s.copy.Write(p)
	}
	if s.frozen {
		return len(p), nil
	}
	data := p
	if len(s.part) > 0 {
		data = append(s.part, p...)
		s.part = nil
	}
	for {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			if len(data) > 0 {
				s.part = append([]byte(nil), data...)
			}
			return len(p), nil
		}
		s.line(string(data[:i]), now)
		data = data[i+1:]
	}
}

// freeze stops counting.
func (s *reportSink) freeze() {
	s.mu.Lock()
	s.frozen = true
	s.mu.Unlock()
}

// line handles one line.
func (s *reportSink) line(l string, now time.Time) {
	rest, ok := strings.CutPrefix(l, "[")
	if !ok {
		return
	}
	name, text, ok := strings.Cut(rest, "] ")
	if !ok {
		return
	}
	fl := s.fns[name]
	if fl == nil {
		fl = &fnLog{}
		s.fns[name] = fl
	}
	fl.bytes += int64(len(text)) + 1
	if !strings.HasPrefix(text, "REPORT RequestId: ") {
		return
	}
	r := invocationReport{at: now}
	for field := range strings.SplitSeq(text, "\t") {
		k, v, ok := strings.Cut(field, ": ")
		if !ok {
			continue
		}
		switch k {
		case "Duration":
			r.duration = parseUnit(v, " ms")
		case "Max Memory Used":
			r.memMB = int(parseUnit(v, " MB"))
		case "Init Duration":
			r.initMs = parseUnit(v, " ms")
		case "Status":
			r.failed = true
		}
	}
	fl.reports = append(fl.reports, r)
}

// parseUnit parses "12.34 ms" (unit " ms").
func parseUnit(v, unit string) float64 {
	f, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), unit), 64)
	return f
}

// fnWindow summarizes a function's invocations that ended in [from, to).
type fnWindow struct {
	count, failed, cold int
	duration            quantiles
	inits               quantiles // the init durations of the cold starts
	peakMemMB           int       // the largest Max Memory Used
	bytes               int64     // all of the function's log output so far
}

// window returns the function's invocations that reported in [from, to); a zero from means
// since the start, a zero to until now.
func (s *reportSink) window(name string, from, to time.Time) fnWindow {
	s.mu.Lock()
	defer s.mu.Unlock()
	var w fnWindow
	fl := s.fns[name]
	if fl == nil {
		return w
	}
	w.bytes = fl.bytes
	var d, inits []float64
	for _, r := range fl.reports {
		if r.at.Before(from) || (!to.IsZero() && !r.at.Before(to)) {
			continue
		}
		w.count++
		if r.failed {
			w.failed++
		}
		if r.initMs > 0 {
			w.cold++
			inits = append(inits, r.initMs)
		}
		w.peakMemMB = max(w.peakMemMB, r.memMB)
		d = append(d, r.duration)
	}
	w.duration = summarize(d)
	w.inits = summarize(inits)
	return w
}

// totals returns the function's invocations over the whole run.
func (s *reportSink) totals(name string) fnWindow { return s.window(name, time.Time{}, time.Time{}) }
