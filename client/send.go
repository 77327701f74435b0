package client

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"regexp"
	"unicode/utf8"

	"github.com/chatstack/websocketchatapi/protocol"
)

var roomIDPattern = regexp.MustCompile(protocol.RoomIDPattern)

// Send posts text to a joined room and returns its acknowledgement, whose Seq places the
// message in the room's order; the message itself also comes as a MessageEvent in that order.
//
// It gives the message a fresh clientMessageId and sends it until the server acknowledges
// it: while disconnected it waits for the next connection, and after a drop, a missing
// answer, rate_limited or internal_error it sends again with the SAME clientMessageId, which
// the server answers with the first acknowledgement (Duplicate set): the message is stored
// and delivered once. It returns an *Error when the server refuses for good (not_member,
// invalid_request), or ctx's error (the message may then have been stored or not).
//
// In a large room the acknowledgement has Queued set: the message is stored, its delivery
// runs later, and the counts (Delivered, ...) are zero.
func (c *Client) Send(ctx context.Context, roomID, text string) (protocol.Ack, error) {
	if err := checkRoomID(roomID); err != nil {
		return protocol.Ack{}, err
	}
	if n := utf8.RuneCountInString(text); n == 0 || n > protocol.MaxTextLength {
		return protocol.Ack{}, fmt.Errorf("client: send to room %q: text has %d characters, want 1 to %d", roomID, n, protocol.MaxTextLength)
	}
	ack, err := c.sendText(ctx, text, func(cmid string) request {
		return sendRequest(protocol.SendMessage{RoomID: roomID, Text: text, ClientMessageID: cmid})
	})
	if err != nil {
		return ack, fmt.Errorf("client: send to room %q: %w", roomID, err)
	}
	return ack, nil
}

// sendText sends the request that build makes with a new clientMessageId, remembering text
// under that id until it is answered (so that the client's own message is placed from the
// acknowledgement), and decodes the acknowledgement.
func (c *Client) sendText(ctx context.Context, text string, build func(cmid string) request) (protocol.Ack, error) {
	cmid := newClientMessageID()
	c.mu.Lock()
	c.sends[cmid] = text
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.sends, cmid)
		c.mu.Unlock()
	}()
	a, err := c.request(ctx, build(cmid))
	if err != nil {
		return protocol.Ack{}, err
	}
	var ack protocol.Ack
	if err := a.decode(&ack); err != nil {
		return protocol.Ack{}, fmt.Errorf("unreadable acknowledgement: %w", err)
	}
	return ack, nil
}

// Direct sends text to the user toUserID and returns its acknowledgement: RoomID is the two
// users' conversation (protocol.ConversationID), Seq the message's place in it. Every
// connection of the recipient, and the client's user's other connections, receive it.
//
// It is queued and sent again like Send, with the same clientMessageId. The message itself
// also comes as a MessageEvent (ToUserID set) in the conversation's order: from then on the
// client tracks the conversation as it tracks a joined room (exactly once, in order, gaps read
// from history, resumed after reconnects), as it does from the first direct message it
// receives. It returns an *Error when the server refuses for good: not_allowed (the API's
// direct message policy), unknown_user (toUserID never connected), invalid_request.
func (c *Client) Direct(ctx context.Context, toUserID, text string) (protocol.Ack, error) {
	if n := utf8.RuneCountInString(toUserID); n == 0 || n > protocol.MaxUserIDLength {
		return protocol.Ack{}, fmt.Errorf("client: direct message: user id has %d characters, want 1 to %d", n, protocol.MaxUserIDLength)
	}
	who := protocol.Echo(toUserID)
	if n := utf8.RuneCountInString(text); n == 0 || n > protocol.MaxTextLength {
		return protocol.Ack{}, fmt.Errorf("client: direct message to %q: text has %d characters, want 1 to %d", who, n, protocol.MaxTextLength)
	}
	ack, err := c.sendText(ctx, text, func(cmid string) request {
		return directRequest(protocol.Direct{ToUserID: toUserID, Text: text, ClientMessageID: cmid})
	})
	if err != nil {
		return ack, fmt.Errorf("client: direct message to %q: %w", who, err)
	}
	return ack, nil
}

// newClientMessageID returns 128 random bits in hex.
func newClientMessageID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return hex.EncodeToString(b[:])
}

func checkRoomID(roomID string) error {
	if !roomIDPattern.MatchString(roomID) {
		return fmt.Errorf("client: room id %q does not match %s", protocol.Echo(roomID), protocol.RoomIDPattern)
	}
	return nil
}

// ownMessage is the message an acknowledgement confirms, when this client sent it and still
// knows its text.
func (c *Client) ownMessage(ack protocol.Ack) (protocol.Message, bool) {
	c.mu.Lock()
	text, ok := c.sends[ack.ClientMessageID]
	c.mu.Unlock()
	return protocol.Message{
		Type: protocol.FrameMessage, RoomID: ack.RoomID, Seq: ack.Seq, MessageID: ack.MessageID,
		UserID: ack.UserID, DisplayName: ack.DisplayName, Text: text, SentAt: ack.SentAt, ToUserID: ack.ToUserID,
	}, ok
}
