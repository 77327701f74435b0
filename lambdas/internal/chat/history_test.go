package chat_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/chatstack/websocketchatapi/lambdas/internal/chat"
	"github.com/chatstack/websocketchatapi/protocol"
)

// TestHistoryPagesStayUnderTheCap: 30 messages of 4,000 characters that JSON escapes to six
// bytes each (24 KB a message) do not fit in one 128 KB frame: each page is under the cap,
// says there is more, and following its cursor gives every message once, in order.
func TestHistoryPagesStayUnderTheCap(t *testing.T) {
	e := newEnv(t, chat.Options{})
	e.members("r1", "A")
	worst := strings.Repeat("<\u2028", protocol.MaxTextLength/2) // each escapes to \u003c, \u2028
	var want []string
	for i := range 30 {
		body, _ := json.Marshal(map[string]string{"roomId": "r1", "text": worst, "clientMessageId": fmt.Sprint(i)})
		var ack protocol.Ack
		e.ok("A", protocol.ActionSendMessage, string(body), &ack)
		want = append(want, ack.MessageID)
	}
	var got []string // oldest first
	before, pages := "", 0
	for {
		req := `{"roomId":"r1"}`
		if before != "" {
			req = `{"roomId":"r1","before":"` + before + `"}`
		}
		res, raw := e.do("A", protocol.ActionHistory, req)
		if res.Code != "" || len(raw) > protocol.MaxMessageBytes {
			t.Fatalf("page %d: %d bytes, code %q: want a history frame of at most %d bytes", pages, len(raw), res.Code, protocol.MaxMessageBytes)
		}
		var page protocol.HistoryPage
		if err := json.Unmarshal(raw, &page); err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, m := range page.Messages {
			ids = append(ids, m.MessageID)
		}
		got = append(ids, got...)
		pages++
		if !page.HasMore {
			break
		}
		if page.Before == "" || len(page.Messages) == 0 || pages > 30 {
			t.Fatalf("page %d says there is more but gives no way on: %+v", pages, page.Before)
		}
		before = page.Before
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("the pages gave %d messages, want the 30 sent, once each, in order", len(got))
	}
	if pages < 5 {
		t.Errorf("%d pages for 720 KB of messages", pages)
	}
	// A cursor from before every message: an empty last page.
	var empty protocol.HistoryPage
	e.ok("A", protocol.ActionHistory, `{"roomId":"r1","before":"0000000000000000001-01ARZ3NDEKTSV4RRFFQ69G5FAV"}`, &empty)
	if len(empty.Messages) != 0 || empty.HasMore {
		t.Errorf("before the first message: %+v", empty)
	}
	e.fails("A", protocol.ActionHistory, `{"roomId":"r1","before":"9999999999999999999-01ARZ3NDEKTSV4RRFFQ69G5FAV"}`, protocol.CodeInvalidRequest)
}
