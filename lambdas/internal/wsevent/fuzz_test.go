package wsevent_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/chatstack/websocketchatapi/internal/chat"
	"github.com/chatstack/websocketchatapi/internal/contract"
	"github.com/chatstack/websocketchatapi/lambdas/internal/wsevent"
	"github.com/chatstack/websocketchatapi/protocol"
	"github.com/chatstack/websocketchatapi/protocol/selection"
)

// Body encodings of the fuzz targets' mode argument.
const (
	modePlain        = 0 // the body as is
	modeBase64       = 1 // base64-encoded, isBase64Encoded true
	modeFalseBase64  = 2 // as is, but isBase64Encoded true
	modeCount        = 3
	fuzzConnectionID = "A"
)

// fuzzRequest builds a MESSAGE event carrying body in one of the modes.
func fuzzRequest(routeKey, body string, mode uint8, authorizer map[string]any) events.APIGatewayWebsocketProxyRequest {
	req := events.APIGatewayWebsocketProxyRequest{
		RequestContext: events.APIGatewayWebsocketProxyRequestContext{
			RouteKey:     routeKey,
			EventType:    "MESSAGE",
			ConnectionID: fuzzConnectionID,
			RequestID:    "req-fuzz",
			Authorizer:   authorizer,
		},
		Body: body,
	}
	switch mode % modeCount {
	case modeBase64:
		req.Body = base64.StdEncoding.EncodeToString([]byte(body))
		req.IsBase64Encoded = true
	case modeFalseBase64:
		req.IsBase64Encoded = true
	}
	return req
}

// decodedBody is what the handler should read from req: the body, or false when it cannot be
// decoded.
func decodedBody(req events.APIGatewayWebsocketProxyRequest) ([]byte, bool) {
	if !req.IsBase64Encoded {
		return []byte(req.Body), true
	}
	b, err := base64.StdEncoding.DecodeString(req.Body)
	return b, err == nil
}

// errorFrame decodes an error frame and checks that it has a type, a known code and a message.
func errorFrame(t *testing.T, resp events.APIGatewayProxyResponse, codes ...string) protocol.Error {
	t.Helper()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, want 200", resp.StatusCode)
	}
	var f protocol.Error
	if err := json.Unmarshal([]byte(resp.Body), &f); err != nil {
		t.Fatalf("body %q is not a JSON frame: %v", resp.Body, err)
	}
	if f.Type != protocol.FrameError || f.Message == "" || !slices.Contains(codes, f.Code) {
		t.Fatalf("frame %s: want type error, a message and a code in %v", resp.Body, codes)
	}
	return f
}

// FuzzDefaultHandler sends arbitrary bodies (plain, base64-encoded, or falsely flagged as
// base64) to the $default handler, under a bare and a template route selection expression: it
// never panics and always answers 200 with an error frame that has a type, a code (invalid_json
// exactly when the body is not JSON, unknown_action otherwise, naming the selected action) and
// a message, and lists the valid actions.
//
// Seeds: testdata/fuzz/FuzzDefaultHandler.
func FuzzDefaultHandler(f *testing.F) {
	actions := []string{"sendmessage", "joinroom", "leaveroom", "history"}
	var handlers []*wsevent.DefaultHandler
	for _, expr := range []string{"$request.body.action", `${request.body.kind}\$${request.body.op.name}`} {
		sel, err := selection.Parse(expr)
		if err != nil {
			f.Fatal(err)
		}
		handlers = append(handlers, &wsevent.DefaultHandler{RouteSelection: sel, Actions: actions})
	}
	f.Fuzz(func(t *testing.T, body string, mode uint8) {
		req := fuzzRequest("$default", body, mode, nil)
		raw, decoded := decodedBody(req)
		for _, h := range handlers {
			resp, err := h.Handle(context.Background(), req)
			if err != nil {
				t.Fatalf("handler error %v", err)
			}
			if !decoded || !json.Valid(raw) {
				errorFrame(t, resp, protocol.CodeInvalidJSON)
				continue
			}
			e := errorFrame(t, resp, protocol.CodeUnknownAction)
			want, ok := h.RouteSelection.Evaluate(raw)
			// JSON encoding turns each byte of invalid UTF-8 into U+FFFD, as []rune does.
			if want = string([]rune(want)); !ok {
				want = ""
			}
			if e.Action != want {
				t.Fatalf("%s on %q: action %q, want %q", h.RouteSelection, raw, e.Action, want)
			}
			if !slices.Equal(e.ValidActions, actions) {
				t.Fatalf("validActions %v", e.ValidActions)
			}
		}
	})
}

// FuzzChatDecode sends arbitrary route keys and bodies from a registered connection to the
// chat handler, over an in-memory store: it never panics (no internal_error) and always
// answers 200 with one JSON frame: an error frame with a code and a message, or the frame of
// the action; and whatever it accepted is within the protocol's limits (room id pattern,
// message length).
//
// Seeds: testdata/fuzz/FuzzChatDecode.
func FuzzChatDecode(f *testing.F) {
	store := &memStore{}
	svc, err := chat.NewService(store, okPoster{}, chat.Options{RateLimit: chat.RateLimit{PerSecond: 1, Burst: 1}})
	if err != nil {
		f.Fatal(err)
	}
	h := &wsevent.ChatHandler{Service: svc}
	roomID := regexp.MustCompile(protocol.RoomIDPattern)
	answers := map[string]string{
		protocol.ActionJoinRoom:    protocol.FrameJoined,
		protocol.ActionLeaveRoom:   protocol.FrameLeft,
		protocol.ActionSendMessage: protocol.FrameAck,
		protocol.ActionHistory:     protocol.FrameHistory,
	}
	codes := []string{protocol.CodeUnknownAction, protocol.CodeInvalidJSON, protocol.CodeInvalidRequest, protocol.CodeNotMember}
	f.Fuzz(func(t *testing.T, routeKey, body string, mode uint8) {
		store.reset()
		req := fuzzRequest(routeKey, body, mode, map[string]any{"userId": "alice", "displayName": "Alice"})
		resp, err := h.Handle(context.Background(), req)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("%+v, %v: want 200 and no error", resp, err)
		}
		var frame struct {
			Type   string `json:"type"`
			RoomID string `json:"roomId"`
		}
		if err := json.Unmarshal([]byte(resp.Body), &frame); err != nil {
			t.Fatalf("body %q is not a JSON frame", resp.Body)
		}
		if frame.Type == protocol.FrameError {
			errorFrame(t, resp, codes...)
			if sent := store.sent(); sent != nil {
				t.Fatalf("an error frame, yet the message %+v was stored", sent)
			}
			return
		}
		if want, ok := answers[routeKey]; !ok || frame.Type != want {
			t.Fatalf("route %q answered %s", routeKey, resp.Body)
		}
		if !roomID.MatchString(frame.RoomID) {
			t.Fatalf("accepted room id %q", frame.RoomID)
		}
		if routeKey != protocol.ActionSendMessage {
			return
		}
		m := store.sent()
		if m == nil || m.RoomID != frame.RoomID || m.UserID != "alice" {
			t.Fatalf("ack %s for the stored message %+v", resp.Body, m)
		}
		if n := utf8.RuneCountInString(m.Text); n < 1 || n > protocol.MaxTextLength {
			t.Fatalf("stored a text of %d code points", n)
		}
	})
}

// okPoster delivers every post.
type okPoster struct{}

func (okPoster) Post(context.Context, string, []byte) error { return nil }

// memStore is an in-memory chat.Store for fuzzing: connection A of alice exists, is a member
// of every room whose id has an even length, and shares each room with connection B. It keeps
// only the last message stored.
type memStore struct {
	mu   sync.Mutex
	last *chat.StoredMessage
}

func (s *memStore) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.last = nil
}

func (s *memStore) sent() *chat.StoredMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

func member(roomID string) bool { return len(roomID)%2 == 0 }

func (s *memStore) PutConnection(context.Context, chat.Connection) error { return nil }

func (s *memStore) GetConnection(_ context.Context, id string) (chat.Connection, error) {
	if id != fuzzConnectionID {
		return chat.Connection{}, chat.ErrNotFound
	}
	return chat.Connection{ID: id, UserID: "alice", DisplayName: "Alice", ExpiresAt: time.Now().Add(time.Hour)}, nil
}

func (s *memStore) DeleteConnection(context.Context, string) error { return nil }

func (s *memStore) PutMembership(context.Context, chat.Membership) error { return nil }

func (s *memStore) GetMembership(_ context.Context, connID, roomID string) (chat.Membership, error) {
	if !member(roomID) {
		return chat.Membership{}, chat.ErrNotFound
	}
	return chat.Membership{ConnectionID: connID, RoomID: roomID, UserID: "alice"}, nil
}

func (s *memStore) DeleteMembership(_ context.Context, _, roomID string) (bool, error) {
	return member(roomID), nil
}

func (s *memStore) ConnectionMemberships(context.Context, string) ([]chat.Membership, error) {
	return nil, nil
}

func (s *memStore) RoomMembers(_ context.Context, roomID string, _ int, fn func([]chat.Membership) error) error {
	return fn([]chat.Membership{
		{ConnectionID: fuzzConnectionID, RoomID: roomID, UserID: "alice"},
		{ConnectionID: "B", RoomID: roomID, UserID: "bob"},
	})
}

func (s *memStore) AppendMessage(_ context.Context, m chat.StoredMessage) (chat.StoredMessage, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m.Seq = 2
	s.last = &m
	return m, nil
}

func (s *memStore) AppendMessageOnce(ctx context.Context, m chat.StoredMessage, _ string, _ time.Time) (chat.StoredMessage, *chat.SentRecord, error) {
	m, err := s.AppendMessage(ctx, m)
	return m, nil, err
}

func (s *memStore) LastSeq(context.Context, string) (int64, error) { return 1, nil }

func (s *memStore) RecordDelivery(context.Context, string, string, string, chat.Delivery) error {
	return nil
}

func (s *memStore) AddPresence(context.Context, chat.Presence) (bool, error) { return true, nil }

func (s *memStore) RemovePresence(context.Context, string, string, string) (bool, error) {
	return true, nil
}

func (s *memStore) Messages(_ context.Context, roomID string, r chat.MessageRange) ([]chat.StoredMessage, error) {
	if r.After >= 1 || r.Before == 1 {
		return nil, nil
	}
	return []chat.StoredMessage{{RoomID: roomID, Seq: 1, MessageID: "m1", UserID: "bob", Text: "earlier", SentAt: time.Unix(0, 0)}}[:min(r.Limit, 1)], nil
}

func (s *memStore) TakeToken(context.Context, string, time.Time, float64, float64, time.Time) (bool, error) {
	return true, nil
}

func (s *memStore) ShardMembers(ctx context.Context, roomID string, shard int, _ string, _ int) ([]chat.Membership, string, error) {
	var page []chat.Membership
	_ = s.RoomMembers(ctx, roomID, 0, func(all []chat.Membership) error {
		for _, m := range all {
			if contract.RoomShard(m.ConnectionID) == shard {
				page = append(page, m)
			}
		}
		return nil
	})
	return page, "", nil
}

func (s *memStore) RoomUsers(context.Context, string, string, int) ([]chat.RoomUser, string, error) {
	return []chat.RoomUser{{UserID: "alice", Connections: 1}, {UserID: "bob", Connections: 1}}, "", nil
}

// UserConnections knows alice (connection A) and bob (connection B).
func (s *memStore) UserConnections(_ context.Context, userID string) ([]string, error) {
	switch userID {
	case "alice":
		return []string{fuzzConnectionID}, nil
	case "bob":
		return []string{"B"}, nil
	}
	return nil, nil
}

func (s *memStore) GetUser(_ context.Context, userID string) (chat.User, error) {
	if userID == "alice" || userID == "bob" {
		return chat.User{UserID: userID}, nil
	}
	return chat.User{}, chat.ErrNotFound
}

func (s *memStore) PutConversation(context.Context, string, [2]string) error { return nil }

func (s *memStore) ConversationUsers(_ context.Context, roomID string) ([2]string, error) {
	if roomID == protocol.ConversationID("alice", "bob") {
		return [2]string{"alice", "bob"}, nil
	}
	return [2]string{}, chat.ErrNotFound
}
