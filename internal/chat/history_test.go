package chat_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/chatstack/websocketchatapi/internal/chat"
	"github.com/chatstack/websocketchatapi/protocol"
)

// sendWorst sends n messages of 4,000 characters that JSON escapes to six bytes each (24 KB a
// message) from connID to room, and returns their sequence numbers.
func (e *env) sendWorst(connID, room string, n int) []int64 {
	e.t.Helper()
	worst := strings.Repeat("<\u2028", protocol.MaxTextLength/2) // each escapes to \u003c, \u2028
	var seqs []int64
	for i := range n {
		body, _ := json.Marshal(map[string]string{"roomId": room, "text": worst, "clientMessageId": fmt.Sprint(i)})
		var ack protocol.Ack
		e.ok(connID, protocol.ActionSendMessage, string(body), &ack)
		seqs = append(seqs, ack.Seq)
	}
	return seqs
}

// page runs a history request that must succeed and checks the frame is under the cap.
func (e *env) page(connID, body string) protocol.HistoryPage {
	e.t.Helper()
	res, raw := e.do(connID, protocol.ActionHistory, body)
	if res.Code != "" || len(raw) > protocol.MaxMessageBytes {
		e.t.Fatalf("history %s: %d bytes, code %q: want a history frame of at most %d bytes", body, len(raw), res.Code, protocol.MaxMessageBytes)
	}
	var page protocol.HistoryPage
	if err := json.Unmarshal(raw, &page); err != nil {
		e.t.Fatal(err)
	}
	return page
}

func pageSeqs(p protocol.HistoryPage) []int64 {
	var out []int64
	for _, m := range p.Messages {
		out = append(out, m.Seq)
	}
	return out
}

func joinSeqs(s []int64) string { return strings.Trim(fmt.Sprint(s), "[]") }

// TestHistoryPagesStayUnderTheCap: 30 messages of 24 KB do not fit in one 128 KB frame. Read
// backwards from the newest, or forwards from 0, each page is under the cap, says whether
// there is more and where to go on, and the pages give every message once, in order.
func TestHistoryPagesStayUnderTheCap(t *testing.T) {
	e := newEnv(t, chat.Options{})
	e.members("r1", "A")
	want := joinSeqs(e.sendWorst("A", "r1", 30))
	if want != joinSeqs(seqRange(1, 30)) {
		t.Fatalf("the acks numbered %s, want 1 to 30", want)
	}
	var back []int64
	req, pages := `{"roomId":"r1"}`, 0
	for ; ; pages++ {
		p := e.page("A", req)
		back = append(pageSeqs(p), back...)
		if p.LastSeq != 30 || p.After != 0 {
			t.Fatalf("backward page %d: lastSeq %d, after %d", pages, p.LastSeq, p.After)
		}
		if !p.HasMore {
			break
		}
		if p.Before != p.Messages[0].Seq || pages > 30 {
			t.Fatalf("page %d says there is more but gives no way on: before %d", pages, p.Before)
		}
		req = fmt.Sprintf(`{"roomId":"r1","before":%d}`, p.Before)
	}
	if joinSeqs(back) != want || pages < 4 {
		t.Fatalf("backward pages (%d) gave %s, want %s", pages+1, joinSeqs(back), want)
	}
	var fwd []int64
	req = `{"roomId":"r1","after":0}`
	for pages = 0; ; pages++ {
		p := e.page("A", req)
		fwd = append(fwd, pageSeqs(p)...)
		if p.Lost != nil || p.Before != 0 {
			t.Fatalf("forward page %d: lost %v, before %d", pages, p.Lost, p.Before)
		}
		if !p.HasMore {
			break
		}
		if p.After != p.Messages[len(p.Messages)-1].Seq || pages > 30 {
			t.Fatalf("page %d says there is more but gives no way on: after %d", pages, p.After)
		}
		req = fmt.Sprintf(`{"roomId":"r1","after":%d}`, p.After)
	}
	if joinSeqs(fwd) != want {
		t.Fatalf("forward pages gave %s, want %s", joinSeqs(fwd), want)
	}
}

func seqRange(from, to int64) []int64 {
	var out []int64
	for n := from; n <= to; n++ {
		out = append(out, n)
	}
	return out
}

// TestHistoryBounds: limits and bounds by sequence number, and the errors that name the field.
func TestHistoryBounds(t *testing.T) {
	e := newEnv(t, chat.Options{})
	e.members("r1", "A")
	for i := range 10 {
		e.send("A", "r1", fmt.Sprintf("m%d", i))
	}
	tests := []struct {
		body     string
		want     string
		more     bool
		before   int64
		afterCur int64
	}{
		{`{"roomId":"r1","limit":3}`, "8 9 10", true, 8, 0},
		{`{"roomId":"r1","before":4,"limit":5}`, "1 2 3", false, 0, 0},
		{`{"roomId":"r1","before":11,"limit":2}`, "9 10", true, 9, 0},
		{`{"roomId":"r1","before":1}`, "", false, 0, 0},
		{`{"roomId":"r1","after":0,"limit":4}`, "1 2 3 4", true, 0, 4},
		{`{"roomId":"r1","after":7}`, "8 9 10", false, 0, 0},
		{`{"roomId":"r1","after":10}`, "", false, 0, 0},
	}
	for _, tt := range tests {
		p := e.page("A", tt.body)
		if joinSeqs(pageSeqs(p)) != tt.want || p.HasMore != tt.more || p.Before != tt.before || p.After != tt.afterCur || p.LastSeq != 10 {
			t.Errorf("%s: %s more=%v before=%d after=%d last=%d; want %s more=%v before=%d after=%d last=10",
				tt.body, joinSeqs(pageSeqs(p)), p.HasMore, p.Before, p.After, p.LastSeq, tt.want, tt.more, tt.before, tt.afterCur)
		}
	}
	for body, want := range map[string]string{
		`{"roomId":"r1","after":11}`:               "/after: 11 is beyond the room's last sequence number (10)",
		`{"roomId":"r1","before":12}`:              "/before: 12 is beyond the room's last sequence number + 1 (11)",
		`{"roomId":"r1","after":-1}`:               "/after",
		`{"roomId":"r1","before":0}`:               "/before",
		`{"roomId":"r1","after":2.5}`:              "/after",
		`{"roomId":"r1","after":"3"}`:              "/after",
		`{"roomId":"r1","before":5,"after":2}`:     "before and after may not both be set",
		`{"roomId":"r1","after":9007199254740992}`: "/after",
	} {
		f := e.fails("A", protocol.ActionHistory, body, protocol.CodeInvalidRequest)
		if !strings.Contains(f.Message, want) || f.RoomID != "r1" {
			t.Errorf("%s: %q (room %q), want a message with %q naming room r1", body, f.Message, f.RoomID, want)
		}
	}
}

// TestHistoryReportsExpiredMessages: reading forwards across messages past retention says so
// (Lost) instead of skipping them silently.
func TestHistoryReportsExpiredMessages(t *testing.T) {
	e := newEnv(t, chat.Options{HistoryRetention: 10 * 60e9})
	e.members("r1", "A")
	for i := range 3 {
		e.send("A", "r1", fmt.Sprintf("old%d", i))
	}
	e.clock.Advance(11 * 60e9) // messages 1 to 3 expire
	for i := range 2 {
		e.send("A", "r1", fmt.Sprintf("new%d", i))
	}
	p := e.page("A", `{"roomId":"r1","after":1}`)
	if p.Lost == nil || *p.Lost != (protocol.SeqRange{From: 2, To: 3}) || joinSeqs(pageSeqs(p)) != "4 5" || p.HasMore {
		t.Fatalf("after 1: lost %v, messages %s, more %v; want lost 2-3, then 4 5", p.Lost, joinSeqs(pageSeqs(p)), p.HasMore)
	}
	e.clock.Advance(11 * 60e9) // all expire
	p = e.page("A", `{"roomId":"r1","after":0}`)
	if p.Lost == nil || *p.Lost != (protocol.SeqRange{From: 1, To: 5}) || len(p.Messages) != 0 {
		t.Fatalf("after 0, all expired: lost %v, messages %s; want lost 1-5", p.Lost, joinSeqs(pageSeqs(p)))
	}
}
