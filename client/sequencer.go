package client

import (
	"github.com/chatstack/websocketchatapi/protocol"
)

// sequencer puts one room's messages in sequence order, exactly once. It is not safe for
// concurrent use: its room's lock guards it.
//
// Until it has a base (the joined frame of a first join), it only buffers. Then it delivers
// seq next, next+1, ...: an older or repeated seq is dropped, a newer one waits in pending
// until the gap before it is filled (by live frames, replay or history) or declared lost.
type sequencer struct {
	room  string
	based bool
	next  int64 // the next seq to deliver
	known int64 // the highest seq known to exist
	// pending holds what came ahead of next, by seq: a message, or a lost range starting there.
	pending map[int64]pendingEntry
}

type pendingEntry struct {
	msg  *protocol.Message
	lost *LostEvent
}

func newSequencer(room string) *sequencer {
	return &sequencer{room: room, pending: map[int64]pendingEntry{}}
}

// base sets the starting point of a first join: every seq after lastSeq is delivered. A
// sequencer with a base only learns that seqs up to lastSeq exist.
func (s *sequencer) base(lastSeq int64) []Event {
	s.known = max(s.known, lastSeq)
	if s.based {
		return nil
	}
	s.based, s.next = true, lastSeq+1
	s.dropBelowNext()
	return s.drain()
}

// since is the last delivered seq, to resume from; ok is false before the base is known.
func (s *sequencer) since() (seq int64, ok bool) {
	return s.next - 1, s.based
}

// add takes a message and returns what became deliverable.
func (s *sequencer) add(m protocol.Message) []Event {
	s.known = max(s.known, m.Seq)
	if s.based && m.Seq < s.next {
		return nil
	}
	if _, ok := s.pending[m.Seq]; !ok {
		s.pending[m.Seq] = pendingEntry{msg: &m}
	}
	return s.drain()
}

// lost takes a range past retention and returns what became deliverable.
func (s *sequencer) lost(r protocol.SeqRange, reason string) []Event {
	if r.To < r.From {
		return nil
	}
	s.known = max(s.known, r.To)
	from := r.From
	if s.based {
		if r.To < s.next {
			return nil
		}
		from = max(from, s.next)
	}
	if e, ok := s.pending[from]; !ok || (e.lost != nil && e.lost.To < r.To) {
		s.pending[from] = pendingEntry{lost: &LostEvent{RoomID: s.room, From: from, To: r.To, Reason: reason}}
	}
	return s.drain()
}

// drain delivers from next on while pending holds it.
func (s *sequencer) drain() []Event {
	if !s.based {
		return nil
	}
	var out []Event
	for {
		e, ok := s.pending[s.next]
		if !ok {
			return out
		}
		delete(s.pending, s.next)
		if e.msg != nil {
			out = append(out, &MessageEvent{Message: *e.msg})
			s.next++
			continue
		}
		out = append(out, e.lost)
		s.next = e.lost.To + 1
		s.dropBelowNext()
	}
}

// dropBelowNext forgets what pending holds before next; a lost range that reaches past next
// is kept, from next on.
func (s *sequencer) dropBelowNext() {
	for seq, e := range s.pending {
		if seq >= s.next {
			continue
		}
		delete(s.pending, seq)
		if e.lost != nil && e.lost.To >= s.next {
			if _, ok := s.pending[s.next]; !ok {
				e.lost.From = s.next
				s.pending[s.next] = e
			}
		}
	}
}

// missing reports whether a seq known to exist is neither delivered nor lost.
func (s *sequencer) missing() bool {
	return s.based && s.next <= s.known
}

// saw learns that seq exists, without its message (an acknowledgement whose text is gone).
func (s *sequencer) saw(seq int64) {
	s.known = max(s.known, seq)
}
