package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/chatstack/websocketchatapi/protocol"
)

// chatServer is a stand-in chat for one user: it answers joinroom, sendmessage (seq 1, 2,
// ...) and history, and accepts only the token its token service hands out.
type chatServer struct {
	mu       sync.Mutex
	messages []protocol.Message
}

func (s *chatServer) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("token") != "token-for-alice" {
		http.Error(w, "Unauthorized", http.StatusUnauthorized)
		return
	}
	ws, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer ws.CloseNow()
	for {
		_, data, err := ws.Read(r.Context())
		if err != nil {
			return
		}
		var req struct{ Action, RoomID, Text, ClientMessageID string }
		_ = json.Unmarshal(data, &req)
		if answer := s.answer(req.Action, req.RoomID, req.Text, req.ClientMessageID); answer != nil {
			_ = ws.Write(r.Context(), websocket.MessageText, protocol.Encode(answer))
		}
	}
}

func (s *chatServer) answer(action, room, text, cmid string) any {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch action {
	case protocol.ActionJoinRoom:
		return protocol.Joined{Type: protocol.FrameJoined, RoomID: room, LastSeq: int64(len(s.messages))}
	case protocol.ActionSendMessage:
		seq := int64(len(s.messages)) + 1
		m := protocol.Message{Type: protocol.FrameMessage, RoomID: room, Seq: seq, MessageID: fmt.Sprint(seq),
			UserID: "alice", DisplayName: "Alice", Text: text, SentAt: protocol.NewTime(time.Now())}
		s.messages = append(s.messages, m)
		return protocol.Ack{Type: protocol.FrameAck, RoomID: room, Seq: seq, MessageID: m.MessageID,
			ClientMessageID: cmid, UserID: m.UserID, DisplayName: m.DisplayName, SentAt: m.SentAt}
	case protocol.ActionHistory:
		return protocol.HistoryPage{Type: protocol.FrameHistory, RoomID: room, Messages: s.messages, LastSeq: int64(len(s.messages))}
	}
	return nil
}

func TestChatSession(t *testing.T) {
	chat := httptest.NewServer(http.HandlerFunc((&chatServer{}).serve))
	defer chat.Close()
	tokens := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "token-for-%s\n", r.URL.Query().Get("user"))
	}))
	defer tokens.Close()

	var out bytes.Buffer
	in := strings.NewReader("hello\n/history 5\n/bogus\n/quit\n")
	args := []string{"-url", "ws" + strings.TrimPrefix(chat.URL, "http") + "/prod", "-user", "alice", "-token-url", tokens.URL + "/token"}
	if err := run(args, in, &out); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{"joined #general", "unknown command /bogus"} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	// Once as it was sent, once in /history.
	if n := strings.Count(got, "[1] Alice: hello\n"); n != 2 {
		t.Errorf("output has %d lines \"[1] Alice: hello\", want 2:\n%s", n, got)
	}
}

func TestFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "-url is required"},
		{[]string{"-url", "ws://x/prod"}, "give -token, or -token-url and -user"},
		{[]string{"-url", "ws://x/prod", "-token-url", "http://x/token"}, "give -token, or -token-url and -user"},
	} {
		if _, err := parseFlags(tc.args); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("parseFlags(%q): %v, want %q", tc.args, err, tc.want)
		}
	}
}
