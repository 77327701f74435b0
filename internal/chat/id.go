package chat

import (
	"crypto/rand"
	"sync"
	"time"
)

// crockford is Crockford's base32 alphabet, in ASCII order, so that ids sort as their bits do.
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// MessageIDLength is the length of message ids.
const MessageIDLength = 26

// NewMessageID returns a ULID-style id: 26 characters of Crockford base32 holding 48 bits of
// t in Unix milliseconds followed by 80 random bits (crypto/rand). Ids of different
// milliseconds sort by time, as strings.
func NewMessageID(t time.Time) string {
	var b [16]byte
	putMillis(&b, t)
	rand.Read(b[6:]) // never fails (it crashes the program if the system has no randomness)
	return encodeID(b)
}

// idSource makes ids that also sort in the order they were made within one process: an id
// made in the same millisecond as the previous one (or with a clock that went back) is the
// previous one plus one, as ULID's monotonic mode does.
type idSource struct {
	mu   sync.Mutex
	last [16]byte
}

func (s *idSource) next(t time.Time) string {
	var b [16]byte
	putMillis(&b, t)
	s.mu.Lock()
	defer s.mu.Unlock()
	if string(b[:6]) > string(s.last[:6]) {
		rand.Read(b[6:])
	} else {
		b = s.last
		for i := 15; i >= 6; i-- { // increment the 80 random bits
			b[i]++
			if b[i] != 0 {
				break
			}
		}
	}
	s.last = b
	return encodeID(b)
}

func putMillis(b *[16]byte, t time.Time) {
	ms := uint64(t.UnixMilli())
	for i := 5; i >= 0; i-- {
		b[i] = byte(ms)
		ms >>= 8
	}
}

// encodeID writes 128 bits as 26 base32 digits, most significant first; the first digit holds
// only 3 bits (130 = 26*5, padded in front with two zero bits).
func encodeID(b [16]byte) string {
	var out [MessageIDLength]byte
	var acc uint64 // bit buffer; only its low bits+8 bits matter
	bits := 2      // the two leading zero bits of padding
	j := 0
	for _, x := range b {
		acc = acc<<8 | uint64(x)
		bits += 8
		for bits >= 5 {
			bits -= 5
			out[j] = crockford[(acc>>uint(bits))&31]
			j++
		}
	}
	return string(out[:])
}
