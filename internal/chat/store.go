package chat

import (
	"context"
	"encoding/json"
	"errors"
	"time"
)

// ErrNotFound is returned by a Store for an item that does not exist or has expired.
var ErrNotFound = errors.New("chat: not found")

// ErrTokenContention is returned (wrapped) by Store.TakeToken when concurrent requests of the
// same connection kept changing its bucket until the store gave up retrying. The Service then
// refuses the message as rate limited: only a connection flooding the API gets there.
var ErrTokenContention = errors.New("chat: rate limit bucket contended")

// Connection is one open WebSocket connection.
type Connection struct {
	// ID is API Gateway's connection id.
	ID string
	// UserID and DisplayName are the identity the connection was opened with.
	UserID      string
	DisplayName string
	// ConnectedAt is when $connect stored the connection.
	ConnectedAt time.Time
	// ExpiresAt is when the item may be deleted by the table's TTL: a little past API
	// Gateway's 2 h connection cap, because $disconnect is best effort.
	ExpiresAt time.Time
}

// Membership says that a connection has joined a room. It expires with its connection.
type Membership struct {
	// ConnectionID is the member connection and RoomID the room it joined.
	ConnectionID string
	RoomID       string
	// UserID and DisplayName are the connection's identity, copied so that a room's members
	// can be listed without reading their connections.
	UserID      string
	DisplayName string
	// JoinedAt is when the connection joined the room.
	JoinedAt time.Time
	// ExpiresAt is its connection's ExpiresAt.
	ExpiresAt time.Time
}

// StoredMessage is a message kept for history.
type StoredMessage struct {
	// RoomID is the room the message was sent to; MessageID is unique and sorts by SentAt.
	RoomID    string
	MessageID string
	// Seq is the message's number in its room (protocol.Message.Seq), given by the Store
	// when it appends the message.
	Seq int64
	// UserID and DisplayName are the sender's identity.
	UserID      string
	DisplayName string
	// Text is the message as sent; empty for an event.
	Text string
	// ToUserID is the recipient of a direct message, stored in the conversation RoomID.
	ToUserID string
	// System is set on a message published by a backend (in UserID's name).
	System bool
	// EventType and Data are a stored application event's (Text is then empty).
	EventType string
	Data      json.RawMessage
	// SentAt is when the Service accepted the message, to the millisecond.
	SentAt time.Time
	// ExpiresAt is when history retention ends.
	ExpiresAt time.Time
}

// MessageRange selects messages of a room by sequence number: those above After and below
// Before (no upper bound when Before is 0), at most Limit of them: the oldest, or the newest
// when Newest is set. They are returned in sequence order either way.
type MessageRange struct {
	After, Before int64
	Limit         int
	Newest        bool
}

// Presence is one connection of a user in a room.
type Presence struct {
	RoomID, UserID, ConnectionID string
	// DisplayName is the user's, as the connection knows it: the latest one wins.
	DisplayName string
	// ExpiresAt is the connection's: the record expires with the user's latest connection.
	ExpiresAt time.Time
}

// RoomUser is a user present in a room.
type RoomUser struct {
	UserID, DisplayName string
	// Connections counts the user's connections in the room.
	Connections int
}

// User is what the Store keeps of a user who connected: the identity of their latest
// connection. PutConnection writes it.
type User struct {
	UserID, DisplayName string
	// ConnectedAt is when the latest connection opened.
	ConnectedAt time.Time
}

// Delivery counts what a broadcast of a message did.
type Delivery struct {
	Delivered, Undelivered, Gone int
}

// SentRecord is what the Store remembers of a message sent with a client message id.
type SentRecord struct {
	MessageID string
	Seq       int64
	SentAt    time.Time
	// Delivery is the first delivery's counts, once Recorded: the first sender may still be
	// delivering.
	Delivery
	Recorded bool
}

// Store keeps connections, memberships and messages. Readers treat items past ExpiresAt as
// gone, since TTL deletion lags by up to days.
type Store interface {
	// PutConnection stores (or replaces) a connection, and its user's record (GetUser).
	PutConnection(ctx context.Context, c Connection) error
	// GetConnection returns ErrNotFound when the connection is absent or expired.
	GetConnection(ctx context.Context, connectionID string) (Connection, error)
	// DeleteConnection removes the connection and every item kept for it (memberships, rate
	// limit bucket). It is idempotent.
	DeleteConnection(ctx context.Context, connectionID string) error
	// PutMembership stores (or replaces) a membership.
	PutMembership(ctx context.Context, m Membership) error
	// GetMembership returns ErrNotFound when the connection is not in the room (or the
	// membership expired).
	GetMembership(ctx context.Context, connectionID, roomID string) (Membership, error)
	// DeleteMembership removes a membership and reports whether it existed.
	DeleteMembership(ctx context.Context, connectionID, roomID string) (bool, error)
	// ConnectionMemberships returns the connection's live memberships, reading only the
	// connection's own items.
	ConnectionMemberships(ctx context.Context, connectionID string) ([]Membership, error)
	// RoomMembers calls fn with each page of the room's live memberships, in pages of at most
	// pageSize, reading only the room's own items (never a scan of the table). It stops at
	// the first error fn returns.
	RoomMembers(ctx context.Context, roomID string, pageSize int, fn func([]Membership) error) error
	// AppendMessage stores m as its room's next message and returns it with its Seq: the
	// room's last sequence number + 1, taken atomically with the write, so that concurrent
	// appends to a room get consecutive numbers and a failed append takes none.
	AppendMessage(ctx context.Context, m StoredMessage) (StoredMessage, error)
	// AppendMessageOnce is AppendMessage together with a record of the sender's client
	// message id, atomically, unless a live record of the same room, sender and client
	// message id exists: then it stores nothing and returns that record. The record lives
	// until until.
	AppendMessageOnce(ctx context.Context, m StoredMessage, clientMessageID string, until time.Time) (StoredMessage, *SentRecord, error)
	// LastSeq returns the room's last sequence number (0 when it has no message yet), read
	// so that every message up to it can be read.
	LastSeq(ctx context.Context, roomID string) (int64, error)
	// RecordDelivery adds a delivery's counts to the record PutMessageOnce made.
	RecordDelivery(ctx context.Context, roomID, userID, clientMessageID string, d Delivery) error
	// Messages returns the room's live messages in r, in sequence order. Expired messages
	// are left out, so numbers may be missing.
	Messages(ctx context.Context, roomID string, r MessageRange) ([]StoredMessage, error)
	// AddPresence adds a connection to its user's connections in a room and reports whether
	// the user had no live connection there before. Concurrent calls for one user report true
	// once.
	AddPresence(ctx context.Context, p Presence) (first bool, err error)
	// RemovePresence removes a connection from its user's connections in a room and reports
	// whether none is left. Concurrent calls for one user's last connections report true
	// once; a user with no presence record at all counts as left.
	RemovePresence(ctx context.Context, roomID, userID, connectionID string) (last bool, err error)
	// ShardMembers returns a page of at most limit live memberships of one shard of the room
	// (0 <= shard < contract.RoomShards), from cursor ("" for the start), and the cursor of
	// the next page ("" when the shard has no more). Large rooms are delivered shard by shard
	// with it, in parallel.
	ShardMembers(ctx context.Context, roomID string, shard int, cursor string, limit int) ([]Membership, string, error)
	// RoomUsers returns a page of at most limit users present in the room, in user id order,
	// from cursor ("" for the start), and the cursor of the next page ("" when there is no
	// more).
	RoomUsers(ctx context.Context, roomID, cursor string, limit int) ([]RoomUser, string, error)
	// UserConnections returns the ids of the user's live connections, read from the users
	// index (never a scan).
	UserConnections(ctx context.Context, userID string) ([]string, error)
	// GetUser returns the user as their latest connection knew them, or ErrNotFound for a
	// user who never connected (or whose record expired).
	GetUser(ctx context.Context, userID string) (User, error)
	// PutConversation records the two users of a direct conversation. It is idempotent.
	PutConversation(ctx context.Context, roomID string, users [2]string) error
	// ConversationUsers returns the two users of a direct conversation, or ErrNotFound when
	// none was recorded.
	ConversationUsers(ctx context.Context, roomID string) ([2]string, error)
	// TakeToken takes one token from the connection's token bucket at time now and reports
	// whether there was one. The bucket holds up to burst tokens (a new bucket is full) and
	// refills at rate tokens per second; it expires at expiresAt, with its connection, and
	// DeleteConnection removes it. Concurrent calls for one connection never spend the same
	// token twice. A refusal changes nothing. It returns an error wrapping ErrTokenContention
	// when concurrent calls kept it from deciding.
	TakeToken(ctx context.Context, connectionID string, now time.Time, rate, burst float64, expiresAt time.Time) (bool, error)
}

// ErrGone is returned (wrapped) by a Poster when the target connection no longer exists: API
// Gateway's 410 GoneException.
var ErrGone = errors.New("chat: connection gone")

// TransientError wraps a Poster failure worth retrying with backoff: throttling (429
// LimitExceededException) or a 5xx from API Gateway.
type TransientError struct {
	// Err is the failure.
	Err error
}

// Error describes the failure as transient.
func (e *TransientError) Error() string { return "transient: " + e.Err.Error() }

// Unwrap returns the underlying error.
func (e *TransientError) Unwrap() error { return e.Err }

// Poster sends data to a connection through API Gateway's @connections API.
type Poster interface {
	// Post sends one frame. It returns an error wrapping ErrGone for a closed connection,
	// a *TransientError for throttling and 5xx, and any other error for the rest.
	Post(ctx context.Context, connectionID string, data []byte) error
}
