package chat_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/chatstack/websocketchatapi/internal/chat"
	"github.com/chatstack/websocketchatapi/internal/contract"
	"github.com/chatstack/websocketchatapi/protocol"
)

func direct(to, text string) string {
	return fmt.Sprintf(`{"action":"direct","toUserId":%q,"text":%q}`, to, text)
}

// TestDirectReachesEveryConnection: bob's two connections receive alice's message, and so does
// alice's other connection; it is stored in their conversation, which both read.
func TestDirectReachesEveryConnection(t *testing.T) {
	e := newEnv(t, chat.Options{}, "A1=alice", "A2=alice", "B1=bob", "B2=bob", "C=carol")
	e.join("A1", "lobby")
	e.join("B1", "lobby")
	e.api.Reset()

	var ack protocol.Ack
	e.ok("A1", protocol.ActionDirect, direct("bob", "hi bob"), &ack)
	room := protocol.ConversationID("alice", "bob")
	if ack.RoomID != room || ack.ToUserID != "bob" || ack.Seq != 1 || ack.Delivered != 3 {
		t.Fatalf("ack %+v, want room %s, toUserId bob, seq 1, 3 delivered (B1, B2, A2)", ack, room)
	}
	for _, id := range []string{"B1", "B2", "A2"} {
		posts := e.posts(id)
		if len(posts) != 1 || posts[0]["text"] != "hi bob" || posts[0]["roomId"] != room || posts[0]["toUserId"] != "bob" || posts[0]["userId"] != "alice" {
			t.Errorf("%s got %v, want the direct message once", id, posts)
		}
	}
	if posts := e.posts("A1"); len(posts) != 0 {
		t.Errorf("the sender's own connection got %v", posts)
	}
	if posts := e.posts("C"); len(posts) != 0 {
		t.Errorf("carol got %v", posts)
	}
	// Both read the conversation without joining it; carol cannot.
	var page protocol.HistoryPage
	e.ok("B2", protocol.ActionHistory, fmt.Sprintf(`{"action":"history","roomId":%q}`, room), &page)
	if len(page.Messages) != 1 || page.Messages[0].Text != "hi bob" || page.Messages[0].ToUserID != "bob" {
		t.Errorf("bob's history of the conversation: %+v", page.Messages)
	}
	e.fails("C", protocol.ActionHistory, fmt.Sprintf(`{"action":"history","roomId":%q}`, room), protocol.CodeNotMember)
	e.fails("C", protocol.ActionJoinRoom, fmt.Sprintf(`{"action":"joinroom","roomId":%q}`, room), protocol.CodeNotMember)
	// A conversation is written with direct only.
	e.join("B1", room)
	f := e.fails("B1", protocol.ActionSendMessage, fmt.Sprintf(`{"action":"sendmessage","roomId":%q,"text":"x"}`, room), protocol.CodeInvalidRequest)
	if !strings.Contains(f.Message, "direct") {
		t.Errorf("sendmessage to a conversation: %q does not point to direct", f.Message)
	}
}

func TestDirectPolicy(t *testing.T) {
	for _, tc := range []struct {
		policy, to, code, says string
	}{
		{contract.DirectMessagesSharedRoom, "carol", protocol.CodeNotAllowed, "share a room"},
		{contract.DirectMessagesSharedRoom, "bob", "", ""},
		{contract.DirectMessagesAny, "carol", "", ""},
		{contract.DirectMessagesOff, "bob", protocol.CodeNotAllowed, "turned off"},
		{contract.DirectMessagesAny, "alice", protocol.CodeInvalidRequest, "your own"},
		{contract.DirectMessagesAny, "nobody", protocol.CodeUnknownUser, `"nobody"`},
	} {
		t.Run(tc.policy+"/"+tc.to, func(t *testing.T) {
			e := newEnv(t, chat.Options{DirectMessages: tc.policy}, "A=alice", "B=bob", "C=carol")
			e.join("A", "lobby")
			e.join("B", "lobby")
			e.join("C", "elsewhere")
			if tc.code == "" {
				e.ok("A", protocol.ActionDirect, direct(tc.to, "hello"), nil)
				return
			}
			f := e.fails("A", protocol.ActionDirect, direct(tc.to, "hello"), tc.code)
			if !strings.Contains(f.Message, tc.says) {
				t.Errorf("error %q does not say %q", f.Message, tc.says)
			}
		})
	}
	if _, err := chat.NewService(newStore(t, newClock().Now), nil, chat.Options{DirectMessages: "friends"}); err == nil || !strings.Contains(err.Error(), `"friends"`) {
		t.Errorf("policy friends: %v, want an error naming it", err)
	}
}

// TestMembersListsUsers: users, not connections, in pages that continue with the cursor.
func TestMembersListsUsers(t *testing.T) {
	e := newEnv(t, chat.Options{})
	for i := range 7 {
		user := fmt.Sprintf("u%d", i)
		for j := range 2 {
			id := fmt.Sprintf("%s-c%d", user, j)
			e.connect(id, user)
			e.join(id, "r")
		}
	}
	seen := map[string]int{}
	cursor, pages := "", 0
	for {
		body := `{"action":"members","roomId":"r","limit":3}`
		if cursor != "" {
			body = fmt.Sprintf(`{"action":"members","roomId":"r","limit":3,"cursor":%q}`, cursor)
		}
		var page protocol.MemberList
		e.ok("u0-c0", protocol.ActionMembers, body, &page)
		pages++
		if page.Type != protocol.FrameMembers || len(page.Members) > 3 {
			t.Fatalf("page %+v", page)
		}
		for _, m := range page.Members {
			seen[m.UserID]++
			if m.Connections != 2 || m.DisplayName != "name of "+m.UserID {
				t.Errorf("member %+v, want 2 connections and the display name", m)
			}
		}
		if cursor = page.Cursor; cursor == "" {
			break
		}
	}
	if len(seen) != 7 || pages != 3 {
		t.Errorf("%d users in %d pages (%v), want 7 in 3", len(seen), pages, seen)
	}
	for u, n := range seen {
		if n != 1 {
			t.Errorf("%s listed %d times", u, n)
		}
	}
	e.connect("X", "outsider")
	e.fails("X", protocol.ActionMembers, `{"action":"members","roomId":"r"}`, protocol.CodeNotMember)
	e.fails("u0-c0", protocol.ActionMembers, `{"action":"members","roomId":"r","limit":201}`, protocol.CodeInvalidRequest)
}

// TestMembersPageStaysUnderTheCap: 200 users with 512-character ids do not fit in 128 KB.
func TestMembersPageStaysUnderTheCap(t *testing.T) {
	e := newEnv(t, chat.Options{})
	for i := range 200 {
		user := fmt.Sprintf("%03d%s", i, strings.Repeat("x", protocol.MaxUserIDLength-3))
		e.connect(fmt.Sprintf("c%d", i), user)
		e.join(fmt.Sprintf("c%d", i), "big")
	}
	total, cursor := 0, ""
	for {
		body := `{"action":"members","roomId":"big","limit":200}`
		if cursor != "" {
			body = fmt.Sprintf(`{"action":"members","roomId":"big","limit":200,"cursor":%q}`, cursor)
		}
		_, raw := e.do("c0", protocol.ActionMembers, body)
		if len(raw) > protocol.MaxMessageBytes {
			t.Fatalf("page of %d bytes", len(raw))
		}
		var page protocol.MemberList
		if err := json.Unmarshal(raw, &page); err != nil {
			t.Fatal(err)
		}
		total += len(page.Members)
		if cursor = page.Cursor; cursor == "" {
			break
		}
	}
	if total != 200 {
		t.Errorf("%d users listed, want 200", total)
	}
}
