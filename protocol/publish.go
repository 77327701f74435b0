package protocol

import "encoding/json"

// SchemaPublish names the JSON Schema of a Publish (Schema(SchemaPublish)): the body of a
// message on the publish queue, and what package publish sends.
const SchemaPublish = "publish"

// Publish is a backend's publication: a chat message from a named sender, or an application
// event, to exactly one of a room, a user (every connection of theirs) or one connection. It
// is the documented shape of a publish queue message.
type Publish struct {
	RoomID       string `json:"roomId,omitempty"`
	UserID       string `json:"userId,omitempty"`
	ConnectionID string `json:"connectionId,omitempty"`
	// Exactly one of Message and Event.
	Message *PublishMessage `json:"message,omitempty"`
	Event   *PublishEvent   `json:"event,omitempty"`
}

// PublishMessage is a chat message published in Sender's name. It is stored and numbered like
// any message: in the room, or in the conversation of Sender and the user (or the
// connection's user). Delivered as a Message with System set.
type PublishMessage struct {
	Text   string `json:"text"`
	Sender Sender `json:"sender"`
}

// Sender is who a published message is from: an id of the backend's choosing (for example
// "system:inventory") and a display name.
type Sender struct {
	UserID      string `json:"userId"`
	DisplayName string `json:"displayName,omitempty"`
}

// PublishEvent is an application event: delivered as an Event frame, and not stored unless
// Store is set (rooms only), in which case it is numbered and delivered as a Message with
// EventType and Data.
type PublishEvent struct {
	// Type is the application's own event type, e.g. "inventory.updated".
	Type string `json:"type"`
	// Data is any JSON value; null when absent.
	Data  json.RawMessage `json:"data,omitempty"`
	Store bool            `json:"store,omitempty"`
}

// EventTypePattern is the regular expression every event type matches.
const EventTypePattern = `^[A-Za-z][A-Za-z0-9_.:-]{0,63}$`

// MaxDisplayNameLength is the longest display name a publication may give, in code points.
const MaxDisplayNameLength = 128
