package gateway

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// coder/websocket reassembles fragmented messages and has no per-frame limit, so the 32 KB
// frame quota is enforced underneath it: the handshake's ResponseWriter is wrapped so that
// Hijack returns a frameConn, which reads the frame headers of both directions as the bytes
// pass. A client frame over the limit is not delivered: the gateway is told, closes the
// connection with 1009 through coder/websocket, and once that close frame has gone out the
// withheld read fails, ending the connection.

// errFrameTooBig ends the read side after an oversize frame.
var errFrameTooBig = errors.New("gateway: client frame exceeds 32 KB")

// frameHeader is the part of a WebSocket frame header the gateway needs.
type frameHeader struct {
	opcode byte
	length uint64
}

// opcodes used here (RFC 6455 section 5.2).
const opClose = 0x8

// frameScanner follows frame boundaries in a byte stream.
type frameScanner struct {
	hdr       [14]byte
	n         int
	inPayload bool
	left      uint64
	cur       frameHeader
}

// headerLen returns the length of the header whose first bytes are b (2 until b has 2 bytes).
func headerLen(b []byte) int {
	if len(b) < 2 {
		return 2
	}
	n := 2
	switch b[1] & 0x7f {
	case 126:
		n += 2
	case 127:
		n += 8
	}
	if b[1]&0x80 != 0 {
		n += 4
	}
	return n
}

func parseHeader(b []byte) frameHeader {
	h := frameHeader{opcode: b[0] & 0x0f}
	switch l := b[1] & 0x7f; l {
	case 126:
		h.length = uint64(binary.BigEndian.Uint16(b[2:4]))
	case 127:
		h.length = binary.BigEndian.Uint64(b[2:10])
	default:
		h.length = uint64(l)
	}
	return h
}

// feed scans p. It calls onHeader for every header completed; when onHeader returns false
// scanning stops and feed returns the number of bytes consumed (up to the end of that header)
// and true. It calls onEnd, if not nil, when a frame's payload is complete.
func (s *frameScanner) feed(p []byte, onHeader func(frameHeader) bool, onEnd func(frameHeader)) (int, bool) {
	i := 0
	for i < len(p) {
		if s.inPayload {
			take := uint64(len(p) - i)
			if take > s.left {
				take = s.left
			}
			i += int(take)
			s.left -= take
			if s.left == 0 {
				s.inPayload = false
				if onEnd != nil {
					onEnd(s.cur)
				}
			}
			continue
		}
		s.hdr[s.n] = p[i]
		s.n++
		i++
		if s.n < headerLen(s.hdr[:s.n]) {
			continue
		}
		h := parseHeader(s.hdr[:s.n])
		s.n = 0
		s.cur = h
		s.left = h.length
		s.inPayload = h.length > 0
		if onHeader != nil && !onHeader(h) {
			return i, true
		}
		if !s.inPayload && onEnd != nil {
			onEnd(h)
		}
	}
	return i, false
}

// frameConn is the hijacked connection of an upgraded client: it watches frame sizes coming in
// and close frames going out.
type frameConn struct {
	net.Conn
	r        io.Reader // buffered handshake bytes, then the connection
	maxFrame uint64

	onOversize func() // called once, in its own goroutine

	// Only the reading goroutine touches these.
	in             frameScanner
	blocked        bool // an oversize frame was seen: nothing more is delivered
	drained        bool
	sawClientClose bool

	wmu       sync.Mutex
	out       frameScanner
	closeSent chan struct{}
	sentOnce  sync.Once

	closed    chan struct{}
	closeOnce sync.Once
}

func newFrameConn(c net.Conn, buffered []byte, maxFrame uint64, onOversize func()) *frameConn {
	var r io.Reader = c
	if len(buffered) > 0 {
		r = io.MultiReader(bytes.NewReader(buffered), c)
	}
	return &frameConn{
		Conn:       c,
		r:          r,
		maxFrame:   maxFrame,
		onOversize: onOversize,
		closeSent:  make(chan struct{}),
		closed:     make(chan struct{}),
	}
}

// lingerTimeout bounds the wait for the client's close frame after an oversize frame.
const lingerTimeout = 5 * time.Second

// Read passes the client's bytes through up to the header of a frame over the limit; from then
// on it discards what the client sends until both close frames have passed (at most
// lingerTimeout), so that the client reads the 1009 close frame instead of a reset, and fails.
func (f *frameConn) Read(p []byte) (int, error) {
	if f.blocked {
		return 0, f.drain()
	}
	n, err := f.r.Read(p)
	if n > 0 {
		k, stopped := f.in.feed(p[:n], func(h frameHeader) bool { return h.length <= f.maxFrame }, nil)
		if stopped {
			f.blocked = true
			f.in.feed(p[k:n], nil, f.watchClientClose) // discarded, but scanned
			go f.onOversize()
			return k, nil
		}
	}
	return n, err
}

// drain discards client bytes until the client's close frame has come and the gateway's has
// gone, or lingerTimeout passes. It always returns errFrameTooBig.
func (f *frameConn) drain() error {
	if f.drained {
		return errFrameTooBig
	}
	f.drained = true
	deadline := time.Now().Add(lingerTimeout)
	_ = f.Conn.SetReadDeadline(deadline)
	buf := make([]byte, 4096)
	for !f.sawClientClose {
		n, err := f.r.Read(buf)
		f.in.feed(buf[:n], nil, f.watchClientClose)
		if err != nil {
			return errFrameTooBig
		}
	}
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case <-f.closeSent:
	case <-f.closed:
	case <-t.C:
	}
	return errFrameTooBig
}

func (f *frameConn) watchClientClose(h frameHeader) {
	if h.opcode == opClose {
		f.sawClientClose = true
	}
}

// Write writes to the connection and notes when a close frame has been written in full.
func (f *frameConn) Write(p []byte) (int, error) {
	n, err := f.Conn.Write(p)
	f.wmu.Lock()
	f.out.feed(p[:n], nil, func(h frameHeader) {
		if h.opcode == opClose {
			f.sentOnce.Do(func() { close(f.closeSent) })
		}
	})
	f.wmu.Unlock()
	return n, err
}

// Close closes the connection and releases a withheld Read.
func (f *frameConn) Close() error {
	f.closeOnce.Do(func() { close(f.closed) })
	return f.Conn.Close()
}

// hijackWriter wraps the handshake's ResponseWriter so that coder/websocket's Hijack gets a
// frameConn.
type hijackWriter struct {
	http.ResponseWriter
	onOversize func()
	conn       *frameConn
}

// Hijack hijacks the underlying connection and returns it wrapped in a frameConn, with fresh
// buffers over it (bytes the HTTP server had already buffered are read through the frameConn).
func (h *hijackWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, fmt.Errorf("hijack: %w", err)
	}
	if err := brw.Writer.Flush(); err != nil {
		c.Close()
		return nil, nil, fmt.Errorf("hijack: flush: %w", err)
	}
	var buffered []byte
	if n := brw.Reader.Buffered(); n > 0 {
		b, _ := brw.Reader.Peek(n)
		buffered = append([]byte(nil), b...)
	}
	h.conn = newFrameConn(c, buffered, MaxFrameBytes, h.onOversize)
	return h.conn, bufio.NewReadWriter(bufio.NewReader(h.conn), bufio.NewWriter(h.conn)), nil
}
