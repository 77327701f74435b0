package chat_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/chatstack/websocketchatapi/internal/chat"
	"github.com/chatstack/websocketchatapi/protocol"
)

// received decodes what was posted to connID in order: the sequence numbers of message and
// resume frames as they came, and the lost ranges.
func (e *env) received(connID, room string) (seqs []int64, lost []protocol.SeqRange) {
	e.t.Helper()
	for _, raw := range e.api.Posts(connID) {
		if len(raw) > protocol.MaxMessageBytes {
			e.t.Errorf("a %d-byte frame was posted to %s, over the cap", len(raw), connID)
		}
		var f struct {
			Type     string             `json:"type"`
			RoomID   string             `json:"roomId"`
			Seq      int64              `json:"seq"`
			Messages []protocol.Message `json:"messages"`
			protocol.SeqRange
		}
		if err := json.Unmarshal(raw, &f); err != nil {
			e.t.Fatal(err)
		}
		if f.RoomID != room {
			continue
		}
		switch f.Type {
		case protocol.FrameMessage:
			seqs = append(seqs, f.Seq)
		case protocol.FrameResume:
			for _, m := range f.Messages {
				seqs = append(seqs, m.Seq)
			}
		case protocol.FrameLost:
			lost = append(lost, f.SeqRange)
		}
	}
	return seqs, lost
}

func (e *env) joinSince(connID, room string, since int64) protocol.Joined {
	e.t.Helper()
	var j protocol.Joined
	e.ok(connID, protocol.ActionJoinRoom, fmt.Sprintf(`{"roomId":%q,"since":%d}`, room, since), &j)
	return j
}

// TestJoinWithSinceReplays: a client back after a drop gets what it missed, in frames under
// the cap and in order, then Joined with the room's last number.
func TestJoinWithSinceReplays(t *testing.T) {
	e := newEnv(t, chat.Options{})
	e.members("r1", "A")
	e.sendWorst("A", "r1", 30)
	e.connect("B", "bob")
	j := e.joinSince("B", "r1", 5)
	got, lost := e.received("B", "r1")
	if j.LastSeq != 30 || joinSeqs(got) != joinSeqs(seqRange(6, 30)) || lost != nil {
		t.Fatalf("since 5: joined at %d, replayed %s, lost %v; want 6 to 30 and lastSeq 30", j.LastSeq, joinSeqs(got), lost)
	}
	if n := len(e.api.Posts("B")); n < 5 {
		t.Errorf("720 KB replayed in %d frames", n)
	}
	e.api.Reset()
	if j := e.joinSince("B", "r1", 30); j.LastSeq != 30 || len(e.api.Posts("B")) != 0 {
		t.Errorf("since the last: joined at %d with %d posts; want 30 and none", j.LastSeq, len(e.api.Posts("B")))
	}
	e.connect("C", "carol")
	f := e.fails("C", protocol.ActionJoinRoom, `{"roomId":"r1","since":31}`, protocol.CodeInvalidRequest)
	if f.Message != "/since: 31 is beyond the room's last sequence number (30)" || f.RoomID != "r1" {
		t.Errorf("since beyond the last: %+v", f)
	}
	e.fails("C", protocol.ActionHistory, `{"roomId":"r1"}`, protocol.CodeNotMember) // the refused join did not join
	if j := e.joinSince("C", "empty", 0); j.LastSeq != 0 {
		t.Errorf("an empty room joined at %d", j.LastSeq)
	}
}

// TestResumeReportsLost: messages past retention are named in a Lost frame, in order among
// the replayed ones, never skipped silently.
func TestResumeReportsLost(t *testing.T) {
	e := newEnv(t, chat.Options{HistoryRetention: 10 * 60e9})
	e.members("r1", "A")
	for i := range 3 {
		e.send("A", "r1", fmt.Sprintf("old%d", i))
	}
	e.clock.Advance(11 * 60e9)
	for i := range 2 {
		e.send("A", "r1", fmt.Sprintf("new%d", i))
	}
	e.connect("B", "bob")
	e.joinSince("B", "r1", 1)
	var types []string
	for _, raw := range e.api.Posts("B") {
		var f struct{ Type string }
		_ = json.Unmarshal(raw, &f)
		types = append(types, f.Type)
	}
	got, lost := e.received("B", "r1")
	if strings.Join(types, ",") != "lost,resume" || len(lost) != 1 || lost[0] != (protocol.SeqRange{From: 2, To: 3}) || joinSeqs(got) != "4 5" {
		t.Fatalf("frames %v, lost %v, messages %s; want lost 2-3 then a resume of 4 5", types, lost, joinSeqs(got))
	}
	e.clock.Advance(11 * 60e9)
	e.api.Reset()
	e.joinSince("B", "r1", 0)
	if got, lost := e.received("B", "r1"); len(got) != 0 || len(lost) != 1 || lost[0] != (protocol.SeqRange{From: 1, To: 5}) {
		t.Fatalf("all expired: messages %s, lost %v; want lost 1-5", joinSeqs(got), lost)
	}
}

// TestResumeUnderConcurrentSends proves the seam: while senders keep sending, a connection
// joins with since. Between the replay (up to Joined.LastSeq) and the live messages it gets
// every number after since, with no gap; numbers that came both ways are dropped by the client.
func TestResumeUnderConcurrentSends(t *testing.T) {
	e := newEnv(t, chat.Options{})
	senders := []string{"S1", "S2", "S3", "S4"}
	e.members("r1", senders...)
	for i := range 20 {
		e.send("S1", "r1", fmt.Sprintf("before%d", i))
	}
	e.connect("B", "bob")
	var stop atomic.Bool
	var wg sync.WaitGroup
	for _, s := range senders {
		wg.Go(func() {
			for i := 0; !stop.Load() || i < 5; i++ {
				e.send(s, "r1", fmt.Sprintf("%s-%d", s, i))
			}
		})
	}
	j := e.joinSince("B", "r1", 7)
	stop.Store(true)
	wg.Wait()
	last := e.page("B", `{"roomId":"r1","limit":1}`).LastSeq
	got, lost := e.received("B", "r1")
	seen := map[int64]int{}
	for _, n := range got {
		seen[n]++
	}
	for n := int64(8); n <= last; n++ {
		if seen[n] == 0 {
			t.Errorf("number %d never reached B (joined at %d, last %d)", n, j.LastSeq, last)
		}
	}
	dups := 0
	for n, c := range seen {
		if n <= 7 || n > last {
			t.Errorf("B got number %d, outside 8..%d", n, last)
		}
		dups += c - 1
	}
	if lost != nil || j.LastSeq <= 20 && last <= j.LastSeq {
		t.Errorf("lost %v, joined at %d, last %d: the senders did not overlap the join", lost, j.LastSeq, last)
	}
	t.Logf("since 7, joined at %d, last %d: %d numbers, %d came twice", j.LastSeq, last, len(seen), dups)
}
