package client

import (
	"fmt"

	"github.com/chatstack/websocketchatapi/protocol"
)

// Error is a request the server refused for good: invalid_request, not_member,
// unknown_action or invalid_json. (The client retries rate_limited, internal_error and
// unauthorized itself.) Compare Code with the protocol.Code* constants.
type Error struct {
	Code    string
	Message string
	// Action, RoomID and ClientMessageID name the refused request.
	Action          string
	RoomID          string
	ClientMessageID string
}

// Error says which request failed and why.
func (e *Error) Error() string {
	room := ""
	if e.RoomID != "" {
		room = fmt.Sprintf(" in room %q", e.RoomID)
	}
	return fmt.Sprintf("client: server refused %s%s: %s: %s", e.Action, room, e.Code, e.Message)
}

func serverError(f *protocol.Error) *Error {
	return &Error{Code: f.Code, Message: f.Message, Action: f.Action, RoomID: f.RoomID, ClientMessageID: f.ClientMessageID}
}

// retryable reports whether a request refused with code may succeed when sent again.
func retryable(code string) bool {
	switch code {
	case protocol.CodeRateLimited, protocol.CodeInternal, protocol.CodeUnauthorized:
		return true
	}
	return false
}
