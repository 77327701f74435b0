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
	ActionDirect      = "direct"
	ActionMembers     = "members"
)

// Actions returns the built-in chat actions in a stable order.
func Actions() []string {
	return []string{ActionSendMessage, ActionJoinRoom, ActionLeaveRoom, ActionHistory, ActionDirect, ActionMembers}
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
	// MaxUserIDLength is the longest user id a request may name, in code points.
	MaxUserIDLength = 512
	// DefaultMembersLimit is how many members a members page holds when the request names no
	// limit; MaxMembersLimit is the largest page.
	DefaultMembersLimit = 50
	MaxMembersLimit     = 200
)

// JoinRoom is the body of a joinroom message.
type JoinRoom struct {
	RoomID string `json:"roomId"`
	// Since, when set, resumes the room after a reconnect: it is the last sequence number the
	// client has of the room (0 for none). The server first makes the connection a member, so
	// that every later message is delivered live, then posts the messages after Since up to
	// Joined.LastSeq in Resume frames (a Lost frame for those past history retention), and
	// then answers Joined. Live messages may arrive during the replay: a client delivers by
	// sequence number and drops the ones it already has. Since must not exceed the room's last
	// sequence number.
	Since *int64 `json:"since,omitempty"`
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

// History is the body of a history message. With neither Before nor After it reads the
// room's newest messages; Before and After may not both be set.
type History struct {
	RoomID string `json:"roomId"`
	// Limit is how many messages to return: 1 to MaxHistoryLimit, and DefaultHistoryLimit
	// when zero. A page may hold fewer, to stay under MaxMessageBytes.
	Limit int `json:"limit,omitempty"`
	// Before reads backwards: the newest messages whose sequence number is below Before
	// (1 to the room's last sequence number + 1).
	Before *int64 `json:"before,omitempty"`
	// After reads forwards: the oldest messages whose sequence number is above After
	// (0 to the room's last sequence number).
	After *int64 `json:"after,omitempty"`
}

// Direct is the body of a direct message: text to one user, delivered to every connection of
// theirs and to the sender's other connections, and stored in the two users' conversation
// (ConversationID), which both read with History and resume with JoinRoom like a room.
type Direct struct {
	ToUserID string `json:"toUserId"`
	Text     string `json:"text"`
	// ClientMessageID works as in SendMessage.
	ClientMessageID string `json:"clientMessageId,omitempty"`
}

// Members is the body of a members request: a page of the users in a room the connection has
// joined.
type Members struct {
	RoomID string `json:"roomId"`
	// Limit is how many users to return: 1 to MaxMembersLimit, DefaultMembersLimit when zero.
	Limit int `json:"limit,omitempty"`
	// Cursor continues from a previous page's MemberList.Cursor.
	Cursor string `json:"cursor,omitempty"`
}

// MaxSeq is the largest sequence number a request may name: the largest integer a JSON
// number holds exactly in every client (JavaScript's Number.MAX_SAFE_INTEGER).
const MaxSeq = 1<<53 - 1

// The frame types the server sends.
const (
	FrameJoined   = "joined"
	FrameLeft     = "left"
	FrameAck      = "ack"
	FrameMessage  = "message"
	FramePresence = "presence"
	FrameHistory  = "history"
	FrameError    = "error"
	FrameMembers  = "members"
	// FrameEvent is an application event published by a backend (package publish): not a
	// chat message, and not stored.
	FrameEvent = "event"
)

// The frames the server sends to resume a room (joinroom with since), and the answer of the
// ping route, which API Gateway itself sends.
const (
	FrameResume = "resume"
	FrameLost   = "lost"
	FramePong   = "pong"
)

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
	// CodeNotAllowed refuses a direct message that the API's direct message policy does not
	// allow, naming the policy.
	CodeNotAllowed = "not_allowed"
	// CodeUnknownUser refuses a direct message to a user who never connected.
	CodeUnknownUser = "unknown_user"
)

// Presence events.
const (
	PresenceJoined = "joined"
	PresenceLeft   = "left"
)

// Message is a chat message as delivered to members and returned by history.
type Message struct {
	Type   string `json:"type"` // FrameMessage
	RoomID string `json:"roomId"`
	// Seq is the message's sequence number in its room: the room's first message has 1, and
	// each stored message the next one, with no gaps. Messages may arrive out of order (each
	// sender's delivery runs on its own); Seq is the order.
	Seq         int64  `json:"seq"`
	MessageID   string `json:"messageId"`
	UserID      string `json:"userId"`
	DisplayName string `json:"displayName,omitempty"`
	Text        string `json:"text"`
	SentAt      Time   `json:"sentAt"`
	// ToUserID is set on a direct message: the user it was sent to (UserID sent it), in their
	// conversation RoomID.
	ToUserID string `json:"toUserId,omitempty"`
	// System is set on a message published by a backend (package publish) in the name of
	// UserID, not sent by a connection.
	System bool `json:"system,omitempty"`
	// EventType and Data are set on a stored application event published by a backend:
	// Text is then empty.
	EventType string          `json:"eventType,omitempty"`
	Data      json.RawMessage `json:"data,omitempty"`
}

// Event is an application event published by a backend and not stored: it has no sequence
// number, and a client that was offline never gets it. RoomID is set when it was published to
// a room, and empty when it was published to a user or a connection.
type Event struct {
	Type      string          `json:"type"` // FrameEvent
	RoomID    string          `json:"roomId,omitempty"`
	EventType string          `json:"eventType"`
	Data      json.RawMessage `json:"data"`
	SentAt    Time            `json:"sentAt"`
}

// MemberList answers a members request.
type MemberList struct {
	Type    string   `json:"type"` // FrameMembers
	RoomID  string   `json:"roomId"`
	Members []Member `json:"members"`
	// Cursor is set when more users follow: send it in the next Members request.
	Cursor string `json:"cursor,omitempty"`
}

// Member is a user in a room.
type Member struct {
	UserID      string `json:"userId"`
	DisplayName string `json:"displayName,omitempty"`
	// Connections counts the user's connections in the room.
	Connections int `json:"connections"`
}

// Joined answers a joinroom.
type Joined struct {
	Type   string `json:"type"` // FrameJoined
	RoomID string `json:"roomId"`
	// LastSeq is the room's last sequence number once the connection was a member (0 for a
	// room without messages): every later message reaches the connection live. After a
	// joinroom with Since, the Resume frames held the messages from Since+1 to LastSeq; a
	// client that still misses some reads them with History.After.
	LastSeq int64 `json:"lastSeq"`
}

// Left answers a leaveroom.
type Left struct {
	Type   string `json:"type"` // FrameLeft
	RoomID string `json:"roomId"`
}

// Ack answers a sendmessage once the message is stored and fanned out.
type Ack struct {
	Type   string `json:"type"` // FrameAck
	RoomID string `json:"roomId"`
	// Seq is the message's sequence number in the room (see Message.Seq): the sender places
	// its own message in the room's order with it.
	Seq             int64  `json:"seq"`
	MessageID       string `json:"messageId"`
	ClientMessageID string `json:"clientMessageId,omitempty"`
	// UserID and DisplayName are the sender as the message carries them.
	UserID      string `json:"userId"`
	DisplayName string `json:"displayName,omitempty"`
	SentAt      Time   `json:"sentAt"`
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
	// Queued is set when the room is large: the message is stored and its delivery runs
	// from a queue, in parallel shards, after this acknowledgement; the counts are then zero.
	Queued bool `json:"queued,omitempty"`
	// ToUserID is set on the acknowledgement of a direct message.
	ToUserID string `json:"toUserId,omitempty"`
}

// Presence tells a room's members that someone joined or left.
type Presence struct {
	Type        string `json:"type"` // FramePresence
	RoomID      string `json:"roomId"`
	UserID      string `json:"userId"`
	DisplayName string `json:"displayName,omitempty"`
	Event       string `json:"event"` // PresenceJoined or PresenceLeft
}

// HistoryPage answers a history request: messages in sequence order, as many as the limit asks
// and MaxMessageBytes allows. Reading backwards (no After) they are the newest below the
// request's Before; reading forwards (After) the oldest above After.
type HistoryPage struct {
	Type     string    `json:"type"` // FrameHistory
	RoomID   string    `json:"roomId"`
	Messages []Message `json:"messages"`
	// HasMore says that more messages exist in the direction read: continue with Before
	// (backwards) or After (forwards), whichever of the two the page sets.
	HasMore bool `json:"hasMore"`
	// Before is set when reading backwards and HasMore: the sequence number of the page's
	// oldest message.
	Before int64 `json:"before,omitempty"`
	// After is set when reading forwards and HasMore: the sequence number of the page's
	// newest message.
	After int64 `json:"after,omitempty"`
	// LastSeq is the room's last sequence number when the page was read.
	LastSeq int64 `json:"lastSeq"`
	// Lost is set when reading forwards crossed messages past history retention: they
	// existed, and no page will ever hold them.
	Lost *SeqRange `json:"lost,omitempty"`
}

// SeqRange is the sequence numbers From to To, both included.
type SeqRange struct {
	From int64 `json:"from"`
	To   int64 `json:"to"`
}

// Resume is a page of the messages a joinroom with Since missed, in sequence order. A
// resume posts as many as it takes, each under MaxMessageBytes, before its Joined.
type Resume struct {
	Type     string    `json:"type"` // FrameResume
	RoomID   string    `json:"roomId"`
	Messages []Message `json:"messages"`
}

// Lost tells a resuming client that messages it missed are past history retention: they
// existed, and will never be delivered. It comes in sequence order among the Resume frames.
type Lost struct {
	Type   string `json:"type"` // FrameLost
	RoomID string `json:"roomId"`
	SeqRange
	Message string `json:"message"`
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
	// RoomID and ClientMessageID repeat the request's (clipped by Echo), when it named them,
	// so that a client with several requests in flight knows which one failed.
	RoomID          string `json:"roomId,omitempty"`
	ClientMessageID string `json:"clientMessageId,omitempty"`
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
