package client

import (
	"fmt"

	"github.com/chatstack/websocketchatapi/protocol"
)

// Event is what [Client.Events] delivers: a *MessageEvent, *PresenceEvent, *AppEvent,
// *LostEvent, *StateEvent or *RoomErrorEvent. Use a type switch.
type Event interface{ isEvent() }

// MessageEvent is a room's next message. Each message of a joined room is delivered exactly
// once, in sequence order, including the client's own messages (placed by their
// acknowledgement).
//
// A direct message (see [Client.Direct]) is a MessageEvent too, with ToUserID set and RoomID
// the two users' conversation (protocol.ConversationID): UserID sent it to ToUserID, so one of
// the two is the client's user. A message published by a backend has System set; a stored
// application event has EventType and Data set and no Text.
type MessageEvent struct {
	protocol.Message
}

// IsDirect reports whether the message is a direct message.
func (e *MessageEvent) IsDirect() bool { return e.ToUserID != "" || protocol.IsConversation(e.RoomID) }

// AppEvent is an application event a backend published (package publish) to a room the
// client joined, to its user or to its connection: RoomID is empty for the latter two. It is
// not stored nor numbered: delivered as it arrives, and missed while disconnected. (A stored
// event comes as a MessageEvent with EventType and Data.)
type AppEvent struct {
	protocol.Event
}

// PresenceEvent says that a user joined or left a room.
type PresenceEvent struct {
	protocol.Presence
}

// LostEvent says that a room's messages From to To (both included) existed but will never be
// delivered: they are past history retention. Delivery goes on with To+1.
type LostEvent struct {
	RoomID string
	From   int64
	To     int64
	// Reason is the server's explanation, when it gave one.
	Reason string
}

// StateEvent says that the client's connection state changed, or that a reconnect attempt
// failed (State stays Reconnecting).
type StateEvent struct {
	State State
	// Err is, for Reconnecting, why the connection was lost or why the attempt failed (an
	// *AuthError when the server refused the token).
	Err error
}

// RoomErrorEvent says that a room could not be resumed after a reconnect and was dropped: no
// more of its messages will be delivered until it is joined again.
type RoomErrorEvent struct {
	RoomID string
	Err    error
}

func (*MessageEvent) isEvent()   {}
func (*PresenceEvent) isEvent()  {}
func (*AppEvent) isEvent()       {}
func (*LostEvent) isEvent()      {}
func (*StateEvent) isEvent()     {}
func (*RoomErrorEvent) isEvent() {}

// State is the client's connection state.
type State int32

const (
	// Connecting is the state while Dial makes the first connection.
	Connecting State = iota
	// Connected means that a connection is open and every joined room is resumed on it.
	Connected
	// Reconnecting means that the connection was lost: the client is making a new one, and
	// requests wait for it.
	Reconnecting
	// Closed means that Close was called.
	Closed
)

// String returns the state's name.
func (s State) String() string {
	switch s {
	case Connecting:
		return "connecting"
	case Connected:
		return "connected"
	case Reconnecting:
		return "reconnecting"
	case Closed:
		return "closed"
	}
	return fmt.Sprintf("State(%d)", int32(s))
}
