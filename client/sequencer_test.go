package client

import (
	"fmt"
	"slices"
	"testing"

	"github.com/chatstack/websocketchatapi/protocol"
)

func msg(seq int64) protocol.Message {
	return protocol.Message{Type: protocol.FrameMessage, RoomID: "r", Seq: seq, Text: fmt.Sprint(seq)}
}

// delivered names events compactly: "3" for message 3, "lost 4-6" for a lost range.
func delivered(evs []Event) []string {
	var out []string
	for _, e := range evs {
		switch e := e.(type) {
		case *MessageEvent:
			out = append(out, fmt.Sprint(e.Seq))
		case *LostEvent:
			out = append(out, fmt.Sprintf("lost %d-%d", e.From, e.To))
		}
	}
	return out
}

func TestSequencer(t *testing.T) {
	type step struct {
		add     []int64
		base    *int64
		lost    *protocol.SeqRange
		want    []string
		missing bool
	}
	base := func(n int64) *int64 { return &n }
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"in order", []step{{base: base(0)}, {add: []int64{1, 2, 3}, want: []string{"1", "2", "3"}}}},
		{"out of order", []step{
			{base: base(0)},
			{add: []int64{3}, missing: true},
			{add: []int64{1}, want: []string{"1"}, missing: true},
			{add: []int64{2}, want: []string{"2", "3"}},
		}},
		{"duplicates dropped", []step{
			{base: base(0)},
			{add: []int64{1, 1, 2, 1, 2}, want: []string{"1", "2"}},
			{add: []int64{4, 4}, missing: true},
			{add: []int64{3}, want: []string{"3", "4"}},
		}},
		{"buffered before the base, older ones dropped", []step{
			{add: []int64{6, 4, 5}},
			{base: base(4), want: []string{"5", "6"}},
		}},
		{"base learns of missing ones only once based", []step{
			{base: base(2)},
			{base: base(5), missing: true},
			{add: []int64{3, 4, 5}, want: []string{"3", "4", "5"}},
		}},
		{"lost range skipped in order", []step{
			{base: base(0)},
			{add: []int64{5}, missing: true},
			{lost: &protocol.SeqRange{From: 1, To: 3}, want: []string{"lost 1-3"}, missing: true},
			{add: []int64{4}, want: []string{"4", "5"}},
		}},
		{"lost range partly delivered already", []step{
			{base: base(0)},
			{add: []int64{1, 2}, want: []string{"1", "2"}},
			{lost: &protocol.SeqRange{From: 1, To: 3}, want: []string{"lost 3-3"}},
			{add: []int64{3}},
		}},
		{"lost range before the base keeps its part after it", []step{
			{lost: &protocol.SeqRange{From: 1, To: 5}},
			{base: base(2), want: []string{"lost 3-5"}},
		}},
		{"lost range ahead waits its turn", []step{
			{base: base(0)},
			{lost: &protocol.SeqRange{From: 3, To: 4}, missing: true},
			{add: []int64{4, 1}, want: []string{"1"}, missing: true},
			{add: []int64{2, 5}, want: []string{"2", "lost 3-4", "5"}},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSequencer("r")
			for i, st := range tc.steps {
				var evs []Event
				if st.base != nil {
					evs = append(evs, s.base(*st.base)...)
				}
				if st.lost != nil {
					evs = append(evs, s.lost(*st.lost, "")...)
				}
				for _, seq := range st.add {
					evs = append(evs, s.add(msg(seq))...)
				}
				if got := delivered(evs); !slices.Equal(got, st.want) {
					t.Fatalf("step %d delivered %q, want %q", i, got, st.want)
				}
				if s.missing() != st.missing {
					t.Fatalf("step %d: missing() = %v, want %v", i, s.missing(), st.missing)
				}
			}
		})
	}
}

func TestSequencerSawMakesAGap(t *testing.T) {
	s := newSequencer("r")
	s.base(0)
	s.saw(1) // an acknowledgement whose text the client no longer has
	if !s.missing() {
		t.Fatal("seq 1 is known to exist: want it missing")
	}
	if since, ok := s.since(); !ok || since != 0 {
		t.Fatalf("since %d %v, want 0 true", since, ok)
	}
}
