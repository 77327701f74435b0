package chat

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/chatstack/websocketchatapi/protocol"
)

var cursorPattern = regexp.MustCompile(protocol.HistoryCursorPattern)

// FormatCursor writes a history cursor: the message's sent time in 19 digits of Unix
// nanoseconds, "-", and its id (protocol.HistoryCursorPattern).
func FormatCursor(c Cursor) string {
	return fmt.Sprintf("%019d-%s", c.SentAt.UnixNano(), c.MessageID)
}

// ParseCursor reads a history cursor; "" is the zero Cursor.
func ParseCursor(s string) (Cursor, error) {
	if s == "" {
		return Cursor{}, nil
	}
	if !cursorPattern.MatchString(s) {
		return Cursor{}, errors.New("not a cursor of this API: pass back a history page's before")
	}
	nanos, err := strconv.ParseInt(s[:19], 10, 64)
	if err != nil {
		return Cursor{}, errors.New("not a cursor of this API: its time is out of range")
	}
	return Cursor{SentAt: time.Unix(0, nanos).UTC(), MessageID: s[20:]}, nil
}

// historyPage builds the answer to a history request from stored, the room's last messages
// (oldest first, up to limit+1 of them): the newest limit that fit in protocol.MaxMessageBytes
// once encoded, with HasMore and the cursor of the oldest when older ones remain.
func historyPage(roomID string, stored []StoredMessage, limit int) protocol.HistoryPage {
	page := protocol.HistoryPage{Type: protocol.FrameHistory, RoomID: roomID, Messages: []protocol.Message{}}
	first := max(len(stored)-limit, 0) // index of the oldest message the page may hold
	// The envelope at its largest: HasMore set and a cursor.
	size := len(protocol.Encode(protocol.HistoryPage{
		Type: page.Type, RoomID: roomID, Messages: []protocol.Message{}, HasMore: true,
		Before: FormatCursor(Cursor{SentAt: time.Unix(0, 1<<62), MessageID: strings.Repeat("Z", MessageIDLength)}),
	}))
	keep := len(stored)
	for i := len(stored) - 1; i >= first; i-- {
		n := len(protocol.Encode(messageFrame(stored[i]))) + 1 // and a comma
		if size+n > protocol.MaxMessageBytes {
			break
		}
		size += n
		keep = i
	}
	for _, m := range stored[keep:] {
		page.Messages = append(page.Messages, messageFrame(m))
	}
	if keep > 0 {
		page.HasMore = true
		if keep < len(stored) {
			page.Before = FormatCursor(CursorOf(stored[keep]))
		}
	}
	return page
}
