// Package protocol defines the chat's wire protocol: the actions a client sends, the frames the
// server sends back, their limits, and the JSON Schemas (draft-04) that API Gateway's request
// models and the handlers both validate against, so the two can never disagree.
//
// It links neither CDK nor the AWS SDK: the construct, the Lambda handlers and Go clients all
// import it.
package protocol

import (
	"encoding/json"
	"time"
)

// MaxMessageBytes is API Gateway's cap on a WebSocket message (128 KB), for what clients
// send and for everything the server sends: route responses and @connections posts alike.
// It cannot be raised. Every frame of this protocol fits under it.
const MaxMessageBytes = 128 * 1024

// ClientMessageIDWindow is how long a sendmessage's clientMessageId is remembered: a retry
// with the same clientMessageId in the same room within it is answered with the original
// acknowledgement (Duplicate set) and delivers nothing.
const ClientMessageIDWindow = 24 * time.Hour

// The chat actions. Each is a route key of the API and the value of the route selection field
// (by default "action") in the client's JSON message.
const (
	ActionSendMessage = "sendmessage"
	ActionJoinRoom    = "joinroom"
	ActionLeaveRoom   = "leaveroom"
	ActionHistory     = "history"
)

// Actions returns the built-in chat actions in a stable order.
func Actions() []string {
	return []string{ActionSendMessage, ActionJoinRoom, ActionLeaveRoom, ActionHistory}
}

// IsAction reports whether name is a built-in chat action.
func IsAction(name string) bool {
	for _, a := range Actions() {
		if a == name {
			return true
		}
	}
	return false
}

// Limits shared by the request models and the handlers.
const (
	// MaxTextLength is the longest message text, in Unicode code points (JSON Schema's
	// maxLength counts code points).
	MaxTextLength = 4000
	// MaxClientMessageIDLength is the longest client-chosen message id, in code points.
	MaxClientMessageIDLength = 64
	// DefaultHistoryLimit is how many messages history returns when the request names no limit.
	DefaultHistoryLimit = 20
	// MaxHistoryLimit is the largest history page.
	MaxHistoryLimit = 100
	// RoomIDPattern is the regular expression every room id matches: 1 to 64 characters,
	// letters, digits and _ . : -, starting with a letter or digit.
	RoomIDPattern = `^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$`
)

// JoinRoom is the body of a joinroom message.
type JoinRoom struct {
	RoomID string `json:"roomId"`
}

// LeaveRoom is the body of a leaveroom message.
type LeaveRoom struct {
	RoomID string `json:"roomId"`
}

// SendMessage is the body of a sendmessage message.
type SendMessage struct {
	RoomID string `json:"roomId"`
	Text   string `json:"text"`
	// ClientMessageID is an optional id of the client's choosing, echoed in the acknowledgement
	// so the client can match it to what it sent.
	ClientMessageID string `json:"clientMessageId,omitempty"`
}

// History is the body of a history message.
type History struct {
	RoomID string `json:"roomId"`
	// Limit is how many of the room's last messages to return: 1 to MaxHistoryLimit, and
	// DefaultHistoryLimit when zero. A page may hold fewer, to stay under MaxMessageBytes.
	Limit int `json:"limit,omitempty"`
	// Before, when set, asks for the messages older than the page it came from: the Before
	// of a HistoryPage. Clients treat it as opaque.
	Before string `json:"before,omitempty"`
}

// HistoryCursorPattern is the regular expression every history cursor matches.
const HistoryCursorPattern = `^[0-9]{19}-[0-9A-HJKMNP-TV-Z]{26}$`

// The frame types the server sends.
const (
	FrameJoined   = "joined"
	FrameLeft     = "left"
	FrameAck      = "ack"
	FrameMessage  = "message"
	FramePresence = "presence"
	FrameHistory  = "history"
	FrameError    = "error"
)

// FramePong is the type of the ping route's answer, which API Gateway itself sends.
const FramePong = "pong"

// RoutePing is the heartbeat route: a message {"action":"ping"} (any other fields are
// ignored) is answered {"type":"pong"} by API Gateway, with no Lambda invocation. It keeps a
// connection inside API Gateway's idle timeout.
const RoutePing = "ping"

// Error codes carried by error frames.
const (
	CodeUnknownAction  = "unknown_action"
	CodeInvalidJSON    = "invalid_json"
	CodeInvalidRequest = "invalid_request"
	CodeNotMember      = "not_member"
	CodeUnauthorized   = "unauthorized"
	CodeInternal       = "internal_error"
	// CodeRateLimited refuses a message sent faster than the connection's rate limit allows;
	// the message had no effect, and the client may send it again later.
	CodeRateLimited = "rate_limited"
)

// Presence events.
const (
	PresenceJoined = "joined"
	PresenceLeft   = "left"
)

// Message is a chat message as delivered to members and returned by history.
type Message struct {
	Type        string `json:"type"` // FrameMessage
	RoomID      string `json:"roomId"`
	MessageID   string `json:"messageId"`
	UserID      string `json:"userId"`
	DisplayName string `json:"displayName,omitempty"`
	Text        string `json:"text"`
	SentAt      Time   `json:"sentAt"`
}

// Joined answers a joinroom.
type Joined struct {
	Type   string `json:"type"` // FrameJoined
	RoomID string `json:"roomId"`
}

// Left answers a leaveroom.
type Left struct {
	Type   string `json:"type"` // FrameLeft
	RoomID string `json:"roomId"`
}

// Ack answers a sendmessage once the message is stored and fanned out.
type Ack struct {
	Type            string `json:"type"` // FrameAck
	RoomID          string `json:"roomId"`
	MessageID       string `json:"messageId"`
	ClientMessageID string `json:"clientMessageId,omitempty"`
	SentAt          Time   `json:"sentAt"`
	// Duplicate is set when the message repeats a clientMessageId the room saw within
	// ClientMessageIDWindow: this is the first message's acknowledgement, and nothing was
	// stored or delivered again. Its counts are the first delivery's, or zero while that
	// delivery is still running.
	Duplicate bool `json:"duplicate,omitempty"`
	// Delivered counts the other connections in the room that received the message.
	Delivered int `json:"delivered"`
	// Undelivered counts live connections that could not be reached after retries.
	Undelivered int `json:"undelivered"`
	// Gone counts connections found closed (410) and removed from the room.
	Gone int `json:"gone"`
}

// Presence tells a room's members that someone joined or left.
type Presence struct {
	Type        string `json:"type"` // FramePresence
	RoomID      string `json:"roomId"`
	UserID      string `json:"userId"`
	DisplayName string `json:"displayName,omitempty"`
	Event       string `json:"event"` // PresenceJoined or PresenceLeft
}

// HistoryPage answers a history request: the room's last messages (before the request's
// cursor, if any), oldest first, as many as the limit asks and MaxMessageBytes allows.
type HistoryPage struct {
	Type     string    `json:"type"` // FrameHistory
	RoomID   string    `json:"roomId"`
	Messages []Message `json:"messages"`
	// HasMore says that older messages exist: ask for them with Before.
	HasMore bool `json:"hasMore"`
	// Before is the cursor of the page's oldest message, set when HasMore is.
	Before string `json:"before,omitempty"`
}

// Pong answers a ping.
type Pong struct {
	Type string `json:"type"` // FramePong
}

// Error is the frame every failure reaches the client as.
type Error struct {
	Type    string `json:"type"` // FrameError
	Code    string `json:"code"`
	Message string `json:"message"`
	// Action is the action the client asked for, when known.
	Action string `json:"action,omitempty"`
	// ValidActions lists the actions the API serves, on unknown_action and invalid_json.
	ValidActions []string `json:"validActions,omitempty"`
}

// MaxEchoLength is the most characters of a client's value an error frame repeats: API
// Gateway's longest route key.
const MaxEchoLength = 128

// Echo returns a client's value as an error frame may repeat it: its first MaxEchoLength
// characters, with "…" when it was longer, so that the frame stays under MaxMessageBytes
// whatever the client sent.
func Echo(s string) string {
	n := 0
	for i := range s {
		if n == MaxEchoLength {
			return s[:i] + "…"
		}
		n++
	}
	return s
}

// NewError returns an error frame.
func NewError(code, message string) Error {
	return Error{Type: FrameError, Code: code, Message: message}
}

// Encode marshals a frame. Frames are plain structs of strings, numbers and times, so it cannot
// fail for the types of this package; it panics if it does, which would be a programming error.
func Encode(frame any) []byte {
	b, err := json.Marshal(frame)
	if err != nil {
		panic("protocol: encode frame: " + err.Error())
	}
	return b
}
