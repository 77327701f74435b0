package protocol

import (
	"strings"
	"testing"
	"time"
)

// maxAuthorizerContextBytes is API Gateway's cap on a Lambda authorizer's context, which
// bounds the user id and display name that frames repeat.
const maxAuthorizerContextBytes = 8 * 1024

// TestWorstCaseFramesFitTheCap builds each frame type at its largest (every string at its
// limit, of characters that JSON escapes to six bytes) and checks it is under MaxMessageBytes.
// History and resume pages are bounded by bytes when they are built (internal/chat).
func TestWorstCaseFramesFitTheCap(t *testing.T) {
	escaped := func(n int) string { return strings.Repeat("\u2028", n) } // 6 bytes each in JSON
	room := strings.Repeat("a", 64)
	user := escaped(maxAuthorizerContextBytes / 3 / 2) // 3 bytes of UTF-8 each, half the context
	name := user
	id := strings.Repeat("Z", 26)
	at := NewTime(time.Date(9999, 12, 31, 23, 59, 59, 999e6, time.UTC))
	routes := make([]string, 300) // API Gateway's route quota, keys of 128 characters
	for i := range routes {
		routes[i] = strings.Repeat("k", 125) + string(rune('a'+i%26)) + string(rune('a'+i/26%26)) + "z"
	}
	frames := map[string]any{
		FrameMessage:  Message{Type: FrameMessage, RoomID: room, Seq: MaxSeq, MessageID: id, UserID: user, DisplayName: name, Text: escaped(MaxTextLength), SentAt: at},
		FrameAck:      Ack{Type: FrameAck, RoomID: room, Seq: MaxSeq, MessageID: id, UserID: user, DisplayName: name, ClientMessageID: escaped(MaxClientMessageIDLength), SentAt: at, Duplicate: true, Delivered: 1 << 30, Undelivered: 1 << 30, Gone: 1 << 30},
		FramePresence: Presence{Type: FramePresence, RoomID: room, UserID: user, DisplayName: name, Event: PresenceJoined},
		FrameJoined:   Joined{Type: FrameJoined, RoomID: room, LastSeq: MaxSeq},
		FrameLeft:     Left{Type: FrameLeft, RoomID: room},
		FrameError:    Error{Type: FrameError, Code: CodeUnknownAction, Message: escaped(2000), Action: escaped(128), RoomID: escaped(MaxEchoLength) + "…", ClientMessageID: escaped(MaxEchoLength) + "…", ValidActions: routes},
		FrameHistory:  HistoryPage{Type: FrameHistory, RoomID: room, Messages: []Message{}, HasMore: true, Before: MaxSeq, After: MaxSeq, LastSeq: MaxSeq, Lost: &SeqRange{MaxSeq, MaxSeq}},
		FrameResume:   Resume{Type: FrameResume, RoomID: room, Messages: []Message{}},
		FrameLost:     Lost{Type: FrameLost, RoomID: room, SeqRange: SeqRange{MaxSeq, MaxSeq}, Message: escaped(500)},
		FramePong:     Pong{Type: FramePong},
	}
	for name, f := range frames {
		if n := len(Encode(f)); n > MaxMessageBytes {
			t.Errorf("%s frame: %d bytes, over API Gateway's %d", name, n, MaxMessageBytes)
		} else {
			t.Logf("%s frame at its largest: %d bytes", name, n)
		}
	}
}
