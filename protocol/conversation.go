package protocol

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
)

// ConversationPrefix starts the room id of every direct conversation. Such rooms are the
// server's: a client reads and resumes its own conversations (History, JoinRoom), and writes
// to them only with Direct.
const ConversationPrefix = "dm:"

// ConversationID returns the room id of the direct conversation of users a and b, the same
// whichever of the two asks: ConversationPrefix and 40 hex digits of a SHA-256 of the two ids.
func ConversationID(a, b string) string {
	if b < a {
		a, b = b, a
	}
	sum := sha256.Sum256([]byte(strconv.Itoa(len(a)) + ":" + a + b))
	return ConversationPrefix + hex.EncodeToString(sum[:20])
}

// IsConversation reports whether roomID names a direct conversation.
func IsConversation(roomID string) bool { return strings.HasPrefix(roomID, ConversationPrefix) }
