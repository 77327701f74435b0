package chat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/chatstack/websocketchatapi/protocol"
)

// PublishResult is what a publication did.
type PublishResult struct {
	// RoomID is where a stored publication was stored (the room, or the conversation of the
	// sender and the user); Seq and MessageID are its number and id there. All three are
	// empty for an event that was not stored.
	RoomID    string
	Seq       int64
	MessageID string
	// Recipients counts the connections posted to; with Delivered, Undelivered and Gone, as in
	// FanoutStats. A room or user with no connection gives zero recipients, not an error.
	Recipients, Delivered, Undelivered, Gone int
	// Queued is set when the room was large: the delivery runs from the publish queue, and
	// the counts are zero.
	Queued bool
}

// PublicationError refuses a publication, naming the field at fault.
type PublicationError struct {
	// Field is the JSON path of the field, e.g. "event.type" ("" for the whole publication).
	Field  string
	Reason string
}

// Error names the field and the reason.
func (e *PublicationError) Error() string {
	if e.Field == "" {
		return "invalid publication: " + e.Reason
	}
	return "invalid publication: " + e.Field + ": " + e.Reason
}

// CheckPublication is CheckPublicationBody.
func (s *Service) CheckPublication(body []byte) (protocol.Publish, error) {
	return checkPublication(s.validator, body)
}

// publishValidator is the validator of CheckPublicationBody, compiled once.
var publishValidator = sync.OnceValues(protocol.NewValidator)

// CheckPublicationBody validates a publication's JSON against protocol's publish schema and
// decodes it. Its error is a *PublicationError naming the field.
func CheckPublicationBody(body []byte) (protocol.Publish, error) {
	v, err := publishValidator()
	if err != nil {
		return protocol.Publish{}, fmt.Errorf("chat: %w", err)
	}
	return checkPublication(v, body)
}

func checkPublication(v *protocol.Validator, body []byte) (protocol.Publish, error) {
	var p protocol.Publish
	// The schema's two oneOf say only that they failed: name the fields first when the body
	// is an object.
	if json.Unmarshal(body, &p) == nil {
		if err := checkTargets(p); err != nil {
			return p, err
		}
	}
	if err := v.Validate(protocol.SchemaPublish, body, &p); err != nil {
		var inv *protocol.InvalidError
		if errors.As(err, &inv) {
			field, reason, ok := strings.Cut(inv.Reason, ": ")
			if !ok || !strings.HasPrefix(field, "/") {
				return p, &PublicationError{Reason: inv.Reason}
			}
			return p, &PublicationError{Field: strings.ReplaceAll(strings.TrimPrefix(field, "/"), "/", "."), Reason: reason}
		}
		return p, err
	}
	return p, nil
}

// checkTargets gives the clearer error of the two oneOf of the schema.
func checkTargets(p protocol.Publish) error {
	var targets []string
	for name, v := range map[string]string{"roomId": p.RoomID, "userId": p.UserID, "connectionId": p.ConnectionID} {
		if v != "" {
			targets = append(targets, name)
		}
	}
	switch {
	case len(targets) != 1:
		return &PublicationError{Reason: fmt.Sprintf("name exactly one of roomId, userId and connectionId (got %d)", len(targets))}
	case (p.Message == nil) == (p.Event == nil):
		return &PublicationError{Reason: "carry exactly one of message and event"}
	case p.Event != nil && p.Event.Store && p.RoomID == "":
		return &PublicationError{Field: "event.store", Reason: "only events published to a room are stored"}
	}
	return nil
}

// Publish delivers a publication, checked by CheckPublication (it checks again): a message is
// stored (in the room, or in the conversation of its sender and the user) and posted like a
// chat message; an event is posted as an Event frame, or stored first when Event.Store is set.
// A room's broadcast takes the same path as a chat message's, queued when the room is large.
func (s *Service) Publish(ctx context.Context, p protocol.Publish) (PublishResult, error) {
	body, err := json.Marshal(p)
	if err != nil {
		return PublishResult{}, fmt.Errorf("chat: publish: %w", err)
	}
	return s.PublishBody(ctx, body)
}

// PublishBody is Publish of a publication's JSON (a publish queue message's body): checked
// once, by CheckPublication.
func (s *Service) PublishBody(ctx context.Context, body []byte) (res PublishResult, err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("chat: publish: %w", err)
		}
	}()
	p, err := s.CheckPublication(body)
	if err != nil {
		return res, err
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	var frame []byte
	switch {
	case p.Message != nil || p.Event.Store:
		msg, err := s.publishedMessage(ctx, p, now)
		if err != nil {
			return res, err
		}
		if msg, err = s.store.AppendMessage(ctx, msg); err != nil {
			return res, fmt.Errorf("append to %s: %w", msg.RoomID, err)
		}
		res.RoomID, res.Seq, res.MessageID = msg.RoomID, msg.Seq, msg.MessageID
		frame = protocol.Encode(messageFrame(msg))
	default:
		frame = protocol.Encode(protocol.Event{Type: protocol.FrameEvent, RoomID: p.RoomID, EventType: p.Event.Type, Data: eventData(p.Event.Data), SentAt: protocol.NewTime(now)})
	}
	if len(frame) > protocol.MaxMessageBytes {
		// Only an event's data can make it so: nothing was stored.
		return res, &PublicationError{Field: "event.data", Reason: fmt.Sprintf("the frame would be %d bytes, over API Gateway's %d-byte cap", len(frame), protocol.MaxMessageBytes)}
	}
	var stats FanoutStats
	switch {
	case p.RoomID != "":
		var b Broadcast
		b, err = s.broadcast(ctx, p.RoomID, "", frame)
		stats, res.Queued = b.Stats, b.Queued
	case p.UserID != "":
		stats, err = s.toUsers(ctx, "", frame, p.UserID)
	default:
		stats, err = s.toConnections(ctx, "connection", "", frame, []Membership{{ConnectionID: p.ConnectionID}})
	}
	if !res.Queued {
		res.Recipients, res.Delivered, res.Undelivered, res.Gone = stats.Targets, stats.Delivered, stats.Undelivered, stats.Gone
	}
	return res, err
}

// publishedMessage is the message to store for p: in its room, or in the conversation of its
// sender and the user it goes to.
func (s *Service) publishedMessage(ctx context.Context, p protocol.Publish, now time.Time) (StoredMessage, error) {
	msg := StoredMessage{RoomID: p.RoomID, MessageID: s.ids.next(now), System: true, SentAt: now, ExpiresAt: now.Add(s.retention)}
	if p.Event != nil {
		msg.EventType, msg.Data = p.Event.Type, eventData(p.Event.Data)
		msg.UserID = "system"
		return msg, nil
	}
	msg.UserID, msg.DisplayName, msg.Text = p.Message.Sender.UserID, p.Message.Sender.DisplayName, p.Message.Text
	if p.RoomID != "" {
		return msg, nil
	}
	to := p.UserID
	if to == "" {
		c, err := s.store.GetConnection(ctx, p.ConnectionID)
		if errors.Is(err, ErrNotFound) {
			return msg, &PublicationError{Field: "connectionId", Reason: fmt.Sprintf("no connection %q is open", p.ConnectionID)}
		}
		if err != nil {
			return msg, fmt.Errorf("get connection %s: %w", p.ConnectionID, err)
		}
		to = c.UserID
	}
	if to == msg.UserID {
		return msg, &PublicationError{Field: "message.sender.userId", Reason: "the sender is the user the message goes to"}
	}
	msg.ToUserID = to
	msg.RoomID = protocol.ConversationID(msg.UserID, to)
	if err := s.store.PutConversation(ctx, msg.RoomID, [2]string{msg.UserID, to}); err != nil {
		return msg, fmt.Errorf("record conversation %s: %w", msg.RoomID, err)
	}
	return msg, nil
}

// eventData is an event's data as it is posted: null when absent.
func eventData(d json.RawMessage) json.RawMessage {
	if len(d) == 0 {
		return json.RawMessage("null")
	}
	return d
}
