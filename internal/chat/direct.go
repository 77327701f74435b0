package chat

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/chatstack/websocketchatapi/internal/contract"
	"github.com/chatstack/websocketchatapi/protocol"
)

// directMessage sends text to one user: it is stored in the two users' conversation
// (protocol.ConversationID) and posted to every live connection of the recipient and to the
// sender's other connections, found with the users index. The policy decides who may send to
// whom: an error frame says why a message is refused.
func (s *Service) directMessage(ctx context.Context, req Request, c Connection) (any, *FanoutStats, error) {
	var in protocol.Direct
	if err := s.decode(req.Action, req.Body, &in); err != nil {
		return nil, nil, err
	}
	if err := s.mayDirect(ctx, c.UserID, in.ToUserID); err != nil {
		return nil, nil, err
	}
	room := protocol.ConversationID(c.UserID, in.ToUserID)
	if err := s.store.PutConversation(ctx, room, [2]string{c.UserID, in.ToUserID}); err != nil {
		return nil, nil, fmt.Errorf("record conversation %s: %w", room, err)
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	msg := StoredMessage{
		RoomID:      room,
		MessageID:   s.ids.next(now),
		UserID:      c.UserID,
		DisplayName: c.DisplayName,
		Text:        in.Text,
		ToUserID:    in.ToUserID,
		SentAt:      now,
		ExpiresAt:   now.Add(s.retention),
	}
	msg, prior, err := s.storeMessage(ctx, msg, in.ClientMessageID)
	if err != nil {
		return nil, nil, err
	}
	if prior != nil {
		prior.ToUserID = in.ToUserID
		return *prior, nil, nil
	}
	stats, err := s.toUsers(ctx, c.ID, protocol.Encode(messageFrame(msg)), c.UserID, in.ToUserID)
	if err != nil {
		return nil, &stats, fmt.Errorf("deliver direct message %s: %w", msg.MessageID, err)
	}
	return s.acknowledge(ctx, c, msg, in.ClientMessageID, Broadcast{Stats: stats}), &stats, nil
}

// mayDirect returns the client error that refuses a direct message from one user to another,
// or nil when the policy allows it.
func (s *Service) mayDirect(ctx context.Context, from, to string) error {
	if to == from {
		return &clientError{protocol.CodeInvalidRequest, "toUserId: that is your own user id; a direct message goes to another user"}
	}
	if s.direct == contract.DirectMessagesOff {
		return &clientError{protocol.CodeNotAllowed, "direct messages are turned off on this API (policy " + contract.DirectMessagesOff + ")"}
	}
	if _, err := s.store.GetUser(ctx, to); errors.Is(err, ErrNotFound) {
		return &clientError{protocol.CodeUnknownUser, fmt.Sprintf("toUserId: no user %q has connected to this API", protocol.Echo(to))}
	} else if err != nil {
		return fmt.Errorf("get user %s: %w", to, err)
	}
	if s.direct == contract.DirectMessagesAny {
		return nil
	}
	shared, err := s.shareRoom(ctx, from, to)
	if err != nil {
		return err
	}
	if !shared {
		return &clientError{protocol.CodeNotAllowed, fmt.Sprintf(
			"direct messages go only to users who share a room with you (policy %s), and user %q is in none of your rooms",
			contract.DirectMessagesSharedRoom, protocol.Echo(to))}
	}
	return nil
}

// shareRoom reports whether live connections of users a and b are members of one room (a
// direct conversation does not count).
func (s *Service) shareRoom(ctx context.Context, a, b string) (bool, error) {
	roomsOf := func(user string) (map[string]bool, error) {
		conns, err := s.store.UserConnections(ctx, user)
		if err != nil {
			return nil, fmt.Errorf("connections of %s: %w", user, err)
		}
		rooms := map[string]bool{}
		for _, id := range conns {
			ms, err := s.store.ConnectionMemberships(ctx, id)
			if err != nil {
				return nil, fmt.Errorf("rooms of %s: %w", id, err)
			}
			for _, m := range ms {
				rooms[m.RoomID] = !protocol.IsConversation(m.RoomID)
			}
		}
		return rooms, nil
	}
	ra, err := roomsOf(a)
	if err != nil || len(ra) == 0 {
		return false, err
	}
	rb, err := roomsOf(b)
	if err != nil {
		return false, err
	}
	for room, counts := range ra {
		if counts && rb[room] {
			return true, nil
		}
	}
	return false, nil
}

// toUsers posts data to every live connection of the users, except exclude.
func (s *Service) toUsers(ctx context.Context, exclude string, data []byte, users ...string) (FanoutStats, error) {
	var targets []Membership
	for _, u := range users {
		conns, err := s.store.UserConnections(ctx, u)
		if err != nil {
			return FanoutStats{}, fmt.Errorf("chat: connections of user %s: %w", u, err)
		}
		for _, id := range conns {
			targets = append(targets, Membership{ConnectionID: id, UserID: u})
		}
	}
	return s.toConnections(ctx, "users", exclude, data, targets)
}

// toConnections posts data to the targets, except exclude.
func (s *Service) toConnections(ctx context.Context, label, exclude string, data []byte, targets []Membership) (FanoutStats, error) {
	return s.fanoutFrom(ctx, label, exclude, data, func(_ context.Context, fn func([]Membership) error) error {
		if len(targets) == 0 {
			return nil
		}
		return fn(targets)
	})
}

// conversationMember returns nil when user is one of the two users of the conversation
// roomID, and a not_member client error otherwise.
func (s *Service) conversationMember(ctx context.Context, roomID, user string) error {
	users, err := s.store.ConversationUsers(ctx, roomID)
	if errors.Is(err, ErrNotFound) || err == nil && !slices.Contains(users[:], user) {
		return &clientError{protocol.CodeNotMember, fmt.Sprintf("room %q is a direct conversation of other users", roomID)}
	}
	if err != nil {
		return fmt.Errorf("users of conversation %s: %w", roomID, err)
	}
	return nil
}
