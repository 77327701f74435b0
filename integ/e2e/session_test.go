package e2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/coder/websocket"

	"github.com/chatstack/websocketchatapi/protocol"
)

// TestResumeAfterReconnect: a member that closes and comes back with since gets exactly what
// it missed (resume frames, in order), then joined with the room's last number.
func TestResumeAfterReconnect(t *testing.T) {
	r := room("resume")
	a := tg.connect(t, "A", tg.user(t, 0), dialOptions{})
	b := tg.connect(t, "B", tg.user(t, 1), dialOptions{})
	a.join(r)
	b.join(r)
	for i := 1; i <= 3; i++ {
		if ack := a.say(r, fmt.Sprintf("before %d", i), fmt.Sprintf("before-%d", i)); ack.Seq != int64(i) {
			t.Fatalf("message %d acked with seq %d", i, ack.Seq)
		}
	}
	var seen []int64
	for len(seen) < 3 {
		seen = append(seen, b.expect(protocol.FrameMessage).Seq)
	}
	if !sameSet(seen, 1, 3) { // live messages may arrive in any order
		t.Fatalf("B got numbers %v, want 1 to 3", seen)
	}
	b.close()
	for i := 4; i <= 7; i++ {
		a.say(r, fmt.Sprintf("while away %d", i), fmt.Sprintf("away-%d", i))
	}
	b2 := tg.connect(t, "B2", tg.user(t, 1), dialOptions{})
	b2.send(map[string]any{"action": protocol.ActionJoinRoom, "roomId": r, "since": 3})
	var replayed []int64
	for {
		f := b2.nextFrame()
		if f.Type == protocol.FrameJoined {
			if f.LastSeq != 7 {
				t.Fatalf("joined at %d, want 7: %s", f.LastSeq, f.raw)
			}
			break
		}
		if f.Type != protocol.FrameResume || len(f.raw) > protocol.MaxMessageBytes {
			t.Fatalf("got %s, want resume frames, then joined", f.raw)
		}
		for _, m := range f.Messages {
			replayed = append(replayed, m.Seq)
			if !strings.HasPrefix(m.Text, "while away") {
				t.Errorf("replayed %q", m.Text)
			}
		}
	}
	if fmt.Sprint(replayed) != "[4 5 6 7]" {
		t.Fatalf("replayed %v, want 4 to 7", replayed)
	}
	// Live again: the next message reaches the resumed connection.
	a.say(r, "back", "back")
	if f := b2.expect(protocol.FrameMessage); f.Seq != 8 || f.Text != "back" {
		t.Fatalf("after the resume got %s, want seq 8", f.raw)
	}
}

func sameSet(got []int64, from, to int64) bool {
	seen := map[int64]bool{}
	for _, n := range got {
		seen[n] = true
	}
	for n := from; n <= to; n++ {
		if !seen[n] {
			return false
		}
	}
	return len(seen) == int(to-from+1)
}

// TestSequenceBadInput: numbers out of range are refused by the models (negative, fractional,
// before with after) or by the handler (beyond the room's last number), naming the field.
func TestSequenceBadInput(t *testing.T) {
	r := room("seq-bad")
	a := tg.connect(t, "A", tg.user(t, 0), dialOptions{})
	a.join(r)
	a.say(r, "one", "one")
	for _, body := range []string{
		`{"action":"joinroom","roomId":"` + r + `","since":-1}`,
		`{"action":"joinroom","roomId":"` + r + `","since":1.5}`,
		`{"action":"history","roomId":"` + r + `","after":"1"}`,
		`{"action":"history","roomId":"` + r + `","before":2,"after":0}`,
	} {
		a.sendRaw(websocket.MessageText, []byte(body))
		a.expectGateway("Bad request body")
	}
	a.send(map[string]any{"action": protocol.ActionJoinRoom, "roomId": r, "since": 2})
	if f := a.expectError(protocol.CodeInvalidRequest); f.Message != "/since: 2 is beyond the room's last sequence number (1)" || f.RoomID != r {
		t.Errorf("since beyond the last: %s", f.raw)
	}
	a.send(map[string]any{"action": protocol.ActionHistory, "roomId": r, "after": 5})
	if f := a.expectError(protocol.CodeInvalidRequest); !strings.HasPrefix(f.Message, "/after: 5 is beyond") {
		t.Errorf("after beyond the last: %s", f.raw)
	}
	a.send(map[string]any{"action": protocol.ActionHistory, "roomId": r, "after": 0})
	if h := a.expect(protocol.FrameHistory); len(h.Messages) != 1 || h.Messages[0].Seq != 1 || h.LastSeq != 1 || h.HasMore {
		t.Errorf("history after 0: %s", h.raw)
	}
}
