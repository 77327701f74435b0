package chat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"time"

	"github.com/chatstack/websocketchatapi/internal/contract"
	"github.com/chatstack/websocketchatapi/protocol"
)

// Identity is who a connection belongs to, as the $connect authorizer established it. It never
// comes from a message body.
type Identity struct {
	// UserID is the user's id, never empty.
	UserID string
	// DisplayName is the name shown to other users, possibly empty.
	DisplayName string
}

// Request is one chat action received on a connection.
type Request struct {
	// ConnectionID is the connection the action came from.
	ConnectionID string
	// Action is the route key that selected the chat function, one of protocol.Actions().
	Action string
	// Body is the message as the client sent it (JSON).
	Body []byte
	// Identity is the caller, from the authorizer context of the event.
	Identity Identity
}

// Result is what Handle answers a Request with.
type Result struct {
	// Frame is the protocol frame to send back to the caller (never nil).
	Frame any
	// Code is the error code when Frame is an error frame, "" otherwise.
	Code string
	// Err is the unexpected error behind an internal_error frame, for the log; the client
	// only sees a generic message.
	Err error
	// Fanout counts the deliveries the action made to other connections, if any.
	Fanout *FanoutStats
}

// Options configure a Service. Zero fields take their documented defaults.
type Options struct {
	// ConnectionTTL sets a new connection's ExpiresAt. Default [contract.DefaultConnectionTTL].
	ConnectionTTL time.Duration
	// HistoryRetention sets a stored message's ExpiresAt. Default
	// [contract.DefaultHistoryRetention].
	HistoryRetention time.Duration
	// Fanout tunes the delivery of messages and presence events to a room.
	Fanout FanoutOptions
	// RateLimit limits how fast each connection may send chat actions. The zero value does
	// not limit.
	RateLimit RateLimit
	// Now is the clock of timestamps and expiry times. Default time.Now.
	Now func() time.Time
	// Logger receives fan-out summaries and delivery failures. Default: discard.
	Logger *slog.Logger
	// Queue takes the shard jobs of broadcasts to large rooms; nil delivers every broadcast
	// inline.
	Queue Queue
	// LargeRoomThreshold is the member count above which a room's broadcasts are queued
	// (with a Queue); 0 never queues. At most [contract.MaxLargeRoomThreshold].
	LargeRoomThreshold int
	// DirectMessages is who may send a direct message to whom: one of
	// contract.DirectMessagesAny, DirectMessagesSharedRoom (the default, when empty) and
	// DirectMessagesOff.
	DirectMessages string
}

// RateLimit is a token bucket per connection: every chat action takes one token; the bucket
// holds up to Burst tokens (a new connection's is full) and refills at PerSecond tokens per
// second. An action that finds no token is refused with a rate_limited error frame and has no
// other effect.
type RateLimit struct {
	// PerSecond is the sustained rate, in actions per second. Zero disables rate limiting.
	PerSecond float64
	// Burst is how many actions a connection may send at once after a quiet spell. At least 1
	// when PerSecond is set.
	Burst float64
}

func (r RateLimit) validate() error {
	switch {
	case r.PerSecond == 0:
		return nil
	case !(r.PerSecond > 0) || math.IsInf(r.PerSecond, 0):
		return fmt.Errorf("chat: rate limit of %v per second, want a finite number >= 0", r.PerSecond)
	case !(r.Burst >= 1) || math.IsInf(r.Burst, 0):
		return fmt.Errorf("chat: rate limit burst %v, want a finite number >= 1", r.Burst)
	}
	return nil
}

// Service is the chat: it connects and disconnects connections and serves the chat actions.
// It is safe for concurrent use.
type Service struct {
	store     Store
	poster    Poster
	announce  bool // a Poster was given: Disconnect tells the rooms
	validator *protocol.Validator
	ttl       time.Duration
	retention time.Duration
	fanout    FanoutOptions
	rate      RateLimit
	now       func() time.Time
	log       *slog.Logger
	ids       idSource
	queue     Queue
	largeRoom int
	direct    string
}

// NewService returns a Service over store and poster. poster may be nil for handlers that
// never post ($connect, and $disconnect when it does not announce departures): every post
// then fails as undelivered.
func NewService(store Store, poster Poster, o Options) (*Service, error) {
	if store == nil {
		return nil, errors.New("chat: NewService needs a Store")
	}
	announce := poster != nil
	if poster == nil {
		poster = noPoster{}
	}
	if err := o.RateLimit.validate(); err != nil {
		return nil, err
	}
	if o.ConnectionTTL < 0 || o.HistoryRetention < 0 {
		return nil, fmt.Errorf("chat: negative ConnectionTTL (%v) or HistoryRetention (%v)", o.ConnectionTTL, o.HistoryRetention)
	}
	if o.ConnectionTTL == 0 {
		o.ConnectionTTL = contract.DefaultConnectionTTL
	}
	if o.HistoryRetention == 0 {
		o.HistoryRetention = contract.DefaultHistoryRetention
	}
	fo, err := o.Fanout.withDefaults()
	if err != nil {
		return nil, err
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.LargeRoomThreshold < 0 || o.LargeRoomThreshold > contract.MaxLargeRoomThreshold {
		return nil, fmt.Errorf("chat: large room threshold %d, want 0 to %d", o.LargeRoomThreshold, contract.MaxLargeRoomThreshold)
	}
	switch o.DirectMessages {
	case "":
		o.DirectMessages = contract.DirectMessagesSharedRoom
	case contract.DirectMessagesAny, contract.DirectMessagesSharedRoom, contract.DirectMessagesOff:
	default:
		return nil, fmt.Errorf("chat: direct message policy %q, want %s, %s or %s", o.DirectMessages,
			contract.DirectMessagesAny, contract.DirectMessagesSharedRoom, contract.DirectMessagesOff)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	v, err := protocol.NewValidator()
	if err != nil {
		return nil, fmt.Errorf("chat: %w", err)
	}
	return &Service{
		store:     store,
		poster:    poster,
		announce:  announce,
		validator: v,
		ttl:       o.ConnectionTTL,
		retention: o.HistoryRetention,
		fanout:    fo,
		rate:      o.RateLimit,
		now:       o.Now,
		log:       o.Logger,
		queue:     o.Queue,
		largeRoom: o.LargeRoomThreshold,
		direct:    o.DirectMessages,
	}, nil
}

// Connect records a new connection of id. It never posts to the connection: API Gateway
// refuses posts until $connect has returned.
func (s *Service) Connect(ctx context.Context, connectionID string, id Identity) (Connection, error) {
	if connectionID == "" || id.UserID == "" {
		return Connection{}, errors.New("chat: connect needs a connection id and a user id")
	}
	now := s.now().UTC()
	c := Connection{
		ID:          connectionID,
		UserID:      id.UserID,
		DisplayName: id.DisplayName,
		ConnectedAt: now,
		ExpiresAt:   now.Add(s.ttl),
	}
	if err := s.store.PutConnection(ctx, c); err != nil {
		return Connection{}, fmt.Errorf("chat: connect %s: %w", connectionID, err)
	}
	return c, nil
}

// DisconnectResult says what Disconnect did.
type DisconnectResult struct {
	// Rooms counts the rooms that were told the connection left.
	Rooms int
	// Fanout sums the deliveries of those presence events.
	Fanout FanoutStats
}

// Disconnect removes a connection and every item kept for it. It is idempotent.
//
// It first reads the rooms the connection had joined and, once the connection is deleted,
// takes it out of its user's presence in each; when the Service has a Poster, it tells each
// room where it was the user's last connection that the user left (presence "left"). That is
// best effort, like $disconnect itself: a failure to read the rooms, to update presence or to
// deliver is logged, never returned.
func (s *Service) Disconnect(ctx context.Context, connectionID string) (DisconnectResult, error) {
	rooms, err := s.store.ConnectionMemberships(ctx, connectionID)
	if err != nil {
		s.log.WarnContext(ctx, "rooms of a closing connection unreadable: its presence stays until it expires", "error", err.Error())
	}
	if err := s.store.DeleteConnection(ctx, connectionID); err != nil {
		return DisconnectResult{}, fmt.Errorf("chat: disconnect %s: %w", connectionID, err)
	}
	var res DisconnectResult
	for _, m := range rooms {
		if stats := s.leavePresence(ctx, m); stats != nil {
			res.Rooms++
			res.Fanout.add(*stats)
		}
	}
	return res, nil
}

// leavePresence takes m's connection out of its user's presence in m's room and, when that was
// the user's last connection there and the Service has a Poster, tells the room the user
// left. It returns the broadcast's stats, or nil when nobody was told. Failures are logged.
func (s *Service) leavePresence(ctx context.Context, m Membership) *FanoutStats {
	last, err := s.store.RemovePresence(ctx, m.RoomID, m.UserID, m.ConnectionID)
	if err != nil {
		s.log.WarnContext(ctx, "presence not updated: nobody is told the user left", "roomId", m.RoomID, "connectionId", m.ConnectionID, "error", err.Error())
		return nil
	}
	if !last || !s.announce {
		return nil // the user is still in the room through another connection
	}
	c := Connection{ID: m.ConnectionID, UserID: m.UserID, DisplayName: m.DisplayName}
	return s.presence(ctx, c, m.RoomID, protocol.PresenceLeft)
}

// clientError is a failure the caller is told about in an error frame.
type clientError struct {
	code    string
	message string
}

func (e *clientError) Error() string { return e.code + ": " + e.message }

func notMember(roomID string) error {
	return &clientError{protocol.CodeNotMember, fmt.Sprintf("this connection has not joined room %q", roomID)}
}

// action serves one chat action for the caller's connection c.
type action func(ctx context.Context, req Request, c Connection) (frame any, stats *FanoutStats, err error)

// Handle serves one chat action and returns the frame to answer it with. It checks, in this
// order, that the action exists, that the connection is registered to the caller, that the
// connection's rate limit has a token left, and then that the body is valid. Failures become
// error frames: unknown_action, unauthorized (the connection is unknown, expired or belongs to
// another user), rate_limited (nothing else was done), invalid_json, invalid_request (naming
// the field), not_member, and internal_error for anything unexpected (Result.Err then holds
// the cause).
func (s *Service) Handle(ctx context.Context, req Request) Result {
	var act action
	switch req.Action {
	case protocol.ActionJoinRoom:
		act = s.joinRoom
	case protocol.ActionLeaveRoom:
		act = s.leaveRoom
	case protocol.ActionSendMessage:
		act = s.sendMessage
	case protocol.ActionHistory:
		act = s.history
	case protocol.ActionDirect:
		act = s.directMessage
	case protocol.ActionMembers:
		act = s.members
	default:
		e := protocol.NewError(protocol.CodeUnknownAction, fmt.Sprintf("unknown action %q", req.Action))
		e.Action = req.Action
		e.ValidActions = protocol.Actions()
		return Result{Frame: e, Code: e.Code}
	}
	var (
		frame any
		stats *FanoutStats
	)
	c, err := s.caller(ctx, req)
	if err == nil {
		err = s.admit(ctx, c)
	}
	if err == nil {
		frame, stats, err = act(ctx, req, c)
	}
	if err == nil {
		return Result{Frame: frame, Fanout: stats}
	}
	var ce *clientError
	if errors.As(err, &ce) {
		e := errorFrame(req, ce.code, ce.message)
		return Result{Frame: e, Code: ce.code, Fanout: stats}
	}
	e := errorFrame(req, protocol.CodeInternal, "internal error; try again")
	return Result{Frame: e, Code: protocol.CodeInternal, Err: fmt.Errorf("chat: %s: %w", req.Action, err), Fanout: stats}
}

// errorFrame is the error frame answering req, repeating the room and client message id
// the body named, if it named them as strings.
func errorFrame(req Request, code, message string) protocol.Error {
	e := protocol.NewError(code, message)
	e.Action = req.Action
	var refs struct {
		RoomID          any `json:"roomId"`
		ClientMessageID any `json:"clientMessageId"`
	}
	if json.Unmarshal(req.Body, &refs) == nil {
		e.RoomID, _ = refs.RoomID.(string)
		e.ClientMessageID, _ = refs.ClientMessageID.(string)
		e.RoomID, e.ClientMessageID = protocol.Echo(e.RoomID), protocol.Echo(e.ClientMessageID)
	}
	return e
}

// decode validates the body against the action's schema and decodes it into out.
func (s *Service) decode(action string, body []byte, out any) error {
	err := s.validator.Validate(action, body, out)
	if err == nil {
		return nil
	}
	var inv *protocol.InvalidError
	if errors.As(err, &inv) {
		if inv.JSON {
			return &clientError{protocol.CodeInvalidJSON, "the message is not valid JSON"}
		}
		return &clientError{protocol.CodeInvalidRequest, inv.Reason}
	}
	return err
}

// caller returns the caller's live connection, checking that it belongs to the identity of
// the event.
func (s *Service) caller(ctx context.Context, req Request) (Connection, error) {
	c, err := s.store.GetConnection(ctx, req.ConnectionID)
	if errors.Is(err, ErrNotFound) {
		return Connection{}, &clientError{protocol.CodeUnauthorized, "this connection is not registered (or has expired); reconnect"}
	}
	if err != nil {
		return Connection{}, fmt.Errorf("get connection %s: %w", req.ConnectionID, err)
	}
	if c.UserID != req.Identity.UserID {
		return Connection{}, &clientError{protocol.CodeUnauthorized, "this connection belongs to another user"}
	}
	return c, nil
}

// admit takes a token from the rate limit bucket of c, and returns a rate_limited error when
// there is none.
func (s *Service) admit(ctx context.Context, c Connection) error {
	if s.rate.PerSecond == 0 {
		return nil
	}
	ok, err := s.store.TakeToken(ctx, c.ID, s.now(), s.rate.PerSecond, s.rate.Burst, c.ExpiresAt)
	if errors.Is(err, ErrTokenContention) {
		s.log.WarnContext(ctx, "rate limit bucket contended: message refused", "error", err.Error())
		ok, err = false, nil
	}
	if err != nil {
		return fmt.Errorf("take a token of %s: %w", c.ID, err)
	}
	if !ok {
		return &clientError{protocol.CodeRateLimited, fmt.Sprintf(
			"too many messages: a connection may send %s per second, in bursts of up to %s; this message was dropped, send it again later",
			strconv.FormatFloat(s.rate.PerSecond, 'g', -1, 64), strconv.FormatFloat(s.rate.Burst, 'g', -1, 64))}
	}
	return nil
}

// decodeMember decodes the body of req into in, like decode, and checks that the caller's
// connection c has joined the room in names, *roomID (a field of in), or that the room is a
// direct conversation of the caller's user: a not_member error otherwise.
func (s *Service) decodeMember(ctx context.Context, req Request, c Connection, in any, roomID *string) error {
	if err := s.decode(req.Action, req.Body, in); err != nil {
		return err
	}
	if protocol.IsConversation(*roomID) {
		// Its two users read a conversation whether or not this connection joined it.
		return s.conversationMember(ctx, *roomID, c.UserID)
	}
	_, err := s.store.GetMembership(ctx, c.ID, *roomID)
	if errors.Is(err, ErrNotFound) {
		return notMember(*roomID)
	}
	if err != nil {
		return fmt.Errorf("get membership %s in %s: %w", c.ID, *roomID, err)
	}
	return nil
}

// joinRoom makes the caller's connection a member of the room, tells the room when it is the
// user's first connection there, and, with Since, replays what the client missed. The
// membership is written before the room's last sequence number is read: a message numbered
// above it is stored after the membership, so its fan-out (which reads the members after
// storing) reaches the connection, and the replay covers everything up to it.
func (s *Service) joinRoom(ctx context.Context, req Request, c Connection) (any, *FanoutStats, error) {
	var in protocol.JoinRoom
	if err := s.decode(req.Action, req.Body, &in); err != nil {
		return nil, nil, err
	}
	if protocol.IsConversation(in.RoomID) {
		if err := s.conversationMember(ctx, in.RoomID, c.UserID); err != nil {
			return nil, nil, err
		}
	}
	if in.Since != nil {
		last, err := s.store.LastSeq(ctx, in.RoomID)
		if err != nil {
			return nil, nil, fmt.Errorf("last sequence number of %s: %w", in.RoomID, err)
		}
		if err := checkSeq("since", in.Since, last, "the room's last sequence number"); err != nil {
			return nil, nil, err
		}
	}
	stats, err := s.enter(ctx, c, in.RoomID)
	if err != nil {
		return nil, nil, err
	}
	last, err := s.store.LastSeq(ctx, in.RoomID)
	if err != nil {
		return nil, stats, fmt.Errorf("last sequence number of %s: %w", in.RoomID, err)
	}
	if in.Since != nil {
		// Best effort: the client reads what the replay did not post with history after.
		if n, err := s.replay(ctx, c, in.RoomID, *in.Since, last); err != nil {
			s.log.WarnContext(ctx, "resume cut short", "roomId", in.RoomID, "since", *in.Since, "lastSeq", last, "posted", n, "error", err.Error())
		}
	}
	return protocol.Joined{Type: protocol.FrameJoined, RoomID: in.RoomID, LastSeq: last}, stats, nil
}

// enter writes c's membership of roomID, unless it has one, and its user's presence there,
// and tells the room when this is the user's first connection in it.
func (s *Service) enter(ctx context.Context, c Connection, roomID string) (*FanoutStats, error) {
	_, err := s.store.GetMembership(ctx, c.ID, roomID)
	switch {
	case errors.Is(err, ErrNotFound):
		m := Membership{
			ConnectionID: c.ID,
			RoomID:       roomID,
			UserID:       c.UserID,
			DisplayName:  c.DisplayName,
			JoinedAt:     s.now().UTC(),
			ExpiresAt:    c.ExpiresAt,
		}
		if err := s.store.PutMembership(ctx, m); err != nil {
			return nil, fmt.Errorf("put membership %s in %s: %w", c.ID, roomID, err)
		}
	case err != nil:
		return nil, fmt.Errorf("get membership %s in %s: %w", c.ID, roomID, err)
	}
	// A user joins a room with their first connection in it. Adding a connection that is in
	// already changes nothing, so a join retried after a failure here still counts.
	first, err := s.store.AddPresence(ctx, Presence{RoomID: roomID, UserID: c.UserID, ConnectionID: c.ID, DisplayName: c.DisplayName, ExpiresAt: c.ExpiresAt})
	if err != nil {
		return nil, fmt.Errorf("add presence %s in %s: %w", c.ID, roomID, err)
	}
	if !first {
		return nil, nil
	}
	return s.presence(ctx, c, roomID, protocol.PresenceJoined), nil
}

func (s *Service) leaveRoom(ctx context.Context, req Request, c Connection) (any, *FanoutStats, error) {
	var in protocol.LeaveRoom
	if err := s.decode(req.Action, req.Body, &in); err != nil {
		return nil, nil, err
	}
	existed, err := s.store.DeleteMembership(ctx, c.ID, in.RoomID)
	if err != nil {
		return nil, nil, fmt.Errorf("delete membership %s in %s: %w", c.ID, in.RoomID, err)
	}
	if !existed {
		return nil, nil, notMember(in.RoomID)
	}
	left := protocol.Left{Type: protocol.FrameLeft, RoomID: in.RoomID}
	// A user leaves a room with their last connection in it.
	last, err := s.store.RemovePresence(ctx, in.RoomID, c.UserID, c.ID)
	if err != nil {
		return nil, nil, fmt.Errorf("remove presence %s in %s: %w", c.ID, in.RoomID, err)
	}
	if !last {
		return left, nil, nil
	}
	return left, s.presence(ctx, c, in.RoomID, protocol.PresenceLeft), nil
}

// presence tells the other members of roomID that c joined or left. It is best effort: a
// failure is logged, never returned.
func (s *Service) presence(ctx context.Context, c Connection, roomID, event string) *FanoutStats {
	data := protocol.Encode(protocol.Presence{
		Type:        protocol.FramePresence,
		RoomID:      roomID,
		UserID:      c.UserID,
		DisplayName: c.DisplayName,
		Event:       event,
	})
	b, err := s.broadcast(ctx, roomID, c.ID, data)
	if err != nil {
		s.log.WarnContext(ctx, "presence fan-out failed", "roomId", roomID, "event", event, "error", err.Error())
	}
	return &b.Stats
}

func (s *Service) sendMessage(ctx context.Context, req Request, c Connection) (any, *FanoutStats, error) {
	var in protocol.SendMessage
	if err := s.decodeMember(ctx, req, c, &in, &in.RoomID); err != nil {
		return nil, nil, err
	}
	if protocol.IsConversation(in.RoomID) {
		return nil, nil, &clientError{protocol.CodeInvalidRequest, fmt.Sprintf("room %q is a direct conversation: send to it with the %s action", in.RoomID, protocol.ActionDirect)}
	}
	// Millisecond precision: what the client gets now equals what history returns later.
	now := s.now().UTC().Truncate(time.Millisecond)
	msg := StoredMessage{
		RoomID:      in.RoomID,
		MessageID:   s.ids.next(now),
		UserID:      c.UserID,
		DisplayName: c.DisplayName,
		Text:        in.Text,
		SentAt:      now,
		ExpiresAt:   now.Add(s.retention),
	}
	msg, prior, err := s.storeMessage(ctx, msg, in.ClientMessageID)
	if err != nil {
		return nil, nil, err
	}
	if prior != nil {
		return *prior, nil, nil // a retry: the first send's acknowledgement, nothing delivered
	}
	b, err := s.broadcast(ctx, in.RoomID, c.ID, protocol.Encode(messageFrame(msg)))
	if err != nil {
		// The message is stored, but some members were never tried: say so rather than
		// acknowledge a partial delivery as complete.
		return nil, &b.Stats, fmt.Errorf("fan out message %s: %w", msg.MessageID, err)
	}
	return s.acknowledge(ctx, c, msg, in.ClientMessageID, b), &b.Stats, nil
}

// acknowledge records the delivery of msg, sent by c with clientMessageID, and returns its
// acknowledgement.
func (s *Service) acknowledge(ctx context.Context, c Connection, msg StoredMessage, clientMessageID string, b Broadcast) protocol.Ack {
	d := Delivery{Delivered: b.Stats.Delivered, Undelivered: b.Stats.Undelivered, Gone: b.Stats.Gone}
	if clientMessageID != "" && !b.Queued {
		if err := s.store.RecordDelivery(ctx, msg.RoomID, c.UserID, clientMessageID, d); err != nil {
			s.log.WarnContext(ctx, "delivery not recorded: a retry is acknowledged without counts", "error", err.Error())
		}
	}
	sent := SentRecord{MessageID: msg.MessageID, Seq: msg.Seq, SentAt: msg.SentAt, Delivery: d}
	a := ack(c, msg.RoomID, clientMessageID, sent, false)
	a.Queued, a.ToUserID = b.Queued, msg.ToUserID
	return a
}

// storeMessage appends msg to its room. With a client message id it stores it once per
// sender, room and protocol.ClientMessageIDWindow: a repeat returns the first send's
// acknowledgement instead.
func (s *Service) storeMessage(ctx context.Context, msg StoredMessage, clientMessageID string) (StoredMessage, *protocol.Ack, error) {
	if clientMessageID == "" {
		stored, err := s.store.AppendMessage(ctx, msg)
		if err != nil {
			return msg, nil, fmt.Errorf("append message to %s: %w", msg.RoomID, err)
		}
		return stored, nil, nil
	}
	stored, prior, err := s.store.AppendMessageOnce(ctx, msg, clientMessageID, msg.SentAt.Add(protocol.ClientMessageIDWindow))
	if err != nil {
		return msg, nil, fmt.Errorf("append message to %s once: %w", msg.RoomID, err)
	}
	if prior == nil {
		return stored, nil, nil
	}
	c := Connection{UserID: msg.UserID, DisplayName: msg.DisplayName}
	a := ack(c, msg.RoomID, clientMessageID, *prior, true)
	return msg, &a, nil
}

// ack is the acknowledgement to sender c of the message sent.
func ack(c Connection, roomID, clientMessageID string, sent SentRecord, duplicate bool) protocol.Ack {
	return protocol.Ack{
		Type:            protocol.FrameAck,
		RoomID:          roomID,
		Seq:             sent.Seq,
		MessageID:       sent.MessageID,
		ClientMessageID: clientMessageID,
		UserID:          c.UserID,
		DisplayName:     c.DisplayName,
		SentAt:          protocol.NewTime(sent.SentAt),
		Duplicate:       duplicate,
		Delivered:       sent.Delivered,
		Undelivered:     sent.Undelivered,
		Gone:            sent.Gone,
	}
}

func messageFrame(m StoredMessage) protocol.Message {
	return protocol.Message{
		Type:        protocol.FrameMessage,
		RoomID:      m.RoomID,
		Seq:         m.Seq,
		MessageID:   m.MessageID,
		UserID:      m.UserID,
		DisplayName: m.DisplayName,
		Text:        m.Text,
		SentAt:      protocol.NewTime(m.SentAt),
		ToUserID:    m.ToUserID,
		System:      m.System,
		EventType:   m.EventType,
		Data:        m.Data,
	}
}

// noPoster is the Poster of a Service made without one.
type noPoster struct{}

func (noPoster) Post(context.Context, string, []byte) error {
	return errors.New("chat: this Service has no Poster")
}
