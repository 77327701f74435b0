package lambdaemu

import (
	"bufio"
	"bytes"
	"io"
	"strings"
	"sync"
)

// ring keeps the last lines of a function's output.
type ring struct {
	mu    sync.Mutex
	lines []string
	next  int
	full  bool
}

func newRing(size int) *ring {
	return &ring{lines: make([]string, size)}
}

func (r *ring) add(line string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lines[r.next] = line
	r.next++
	if r.next == len(r.lines) {
		r.next = 0
		r.full = true
	}
}

// snapshot returns the lines, oldest first.
func (r *ring) snapshot() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.full {
		return append([]string(nil), r.lines[:r.next]...)
	}
	out := make([]string, 0, len(r.lines))
	out = append(out, r.lines[r.next:]...)
	return append(out, r.lines[:r.next]...)
}

// markerPrefix starts the lines that the emulator writes into a process's output pipe, so
// that its own START/END/REPORT lines land in order with the process's output. kindLine
// marks a line to log; kindSync marks a token that the reader acknowledges without logging.
const (
	markerPrefix = "\x00lambdaemu\x00"
	kindLine     = 'L'
	kindSync     = 'S'
)

// maxLine is the longest line the reader splits out; longer output is cut into pieces.
const maxLine = 64 << 10

// readLines splits r into lines and hands each to line, or each marker's kind and text to
// marker, until r ends.
func readLines(r io.Reader, line func(string), marker func(kind byte, text string)) {
	br := bufio.NewReaderSize(r, maxLine)
	for {
		b, err := br.ReadSlice('\n')
		if len(b) > 0 {
			b = bytes.TrimSuffix(b, []byte("\n"))
			if i := bytes.Index(b, []byte(markerPrefix)); i >= 0 {
				if i > 0 {
					line(string(b[:i])) // the process's unterminated output before the marker
				}
				if m := b[i+len(markerPrefix):]; len(m) > 0 {
					marker(m[0], string(m[1:]))
				}
			} else {
				line(string(b))
			}
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			return
		}
	}
}

// encodeMarkers returns lines as marker lines of the given kind, for one write; a newline
// inside a line becomes a space.
func encodeMarkers(kind byte, lines ...string) []byte {
	var b bytes.Buffer
	for _, l := range lines {
		b.WriteString(markerPrefix)
		b.WriteByte(kind)
		b.WriteString(strings.ReplaceAll(l, "\n", " "))
		b.WriteByte('\n')
	}
	return b.Bytes()
}
