package chat_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/chatstack/websocketchatapi/internal/chat"
	"github.com/chatstack/websocketchatapi/protocol"
)

func TestPublishToRoom(t *testing.T) {
	e := newEnv(t, chat.Options{})
	e.members("news", "a", "b")
	ctx := context.Background()
	res, err := e.svc.Publish(ctx, protocol.Publish{RoomID: "news", Message: &protocol.PublishMessage{Text: "deploy done", Sender: protocol.Sender{UserID: "system:ci", DisplayName: "CI"}}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Seq != 1 || res.RoomID != "news" || res.Recipients != 2 || res.Delivered != 2 {
		t.Errorf("result %+v, want seq 1 delivered to both", res)
	}
	for _, id := range []string{"a", "b"} {
		p := e.posts(id)
		if len(p) != 1 || p[0]["text"] != "deploy done" || p[0]["system"] != true || p[0]["userId"] != "system:ci" || p[0]["seq"] != float64(1) {
			t.Errorf("%s got %v", id, p)
		}
	}
	e.api.Reset()
	// An event is not stored: no seq, history unchanged.
	res, err = e.svc.Publish(ctx, protocol.Publish{RoomID: "news", Event: &protocol.PublishEvent{Type: "stock.updated", Data: json.RawMessage(`{"sku":"x","qty":3}`)}})
	if err != nil || res.Seq != 0 || res.Delivered != 2 {
		t.Fatalf("event: %+v, %v", res, err)
	}
	p := e.posts("a")
	if len(p) != 1 || p[0]["type"] != "event" || p[0]["eventType"] != "stock.updated" || p[0]["data"].(map[string]any)["qty"] != float64(3) {
		t.Errorf("event posted as %v", p)
	}
	// A stored event is numbered.
	res, err = e.svc.Publish(ctx, protocol.Publish{RoomID: "news", Event: &protocol.PublishEvent{Type: "stock.updated", Data: json.RawMessage(`[1]`), Store: true}})
	if err != nil || res.Seq != 2 {
		t.Fatalf("stored event: %+v, %v", res, err)
	}
	var page protocol.HistoryPage
	e.ok("a", protocol.ActionHistory, `{"action":"history","roomId":"news"}`, &page)
	if len(page.Messages) != 2 || page.Messages[1].EventType != "stock.updated" || string(page.Messages[1].Data) != "[1]" || !page.Messages[0].System {
		t.Errorf("history %+v", page.Messages)
	}
	// Nobody there: zero recipients, no error.
	res, err = e.svc.Publish(ctx, protocol.Publish{RoomID: "empty", Event: &protocol.PublishEvent{Type: "x"}})
	if err != nil || res.Recipients != 0 {
		t.Errorf("empty room: %+v, %v", res, err)
	}
}

func TestPublishToUserAndConnection(t *testing.T) {
	e := newEnv(t, chat.Options{}, "B1=bob", "B2=bob", "C=carol")
	ctx := context.Background()
	res, err := e.svc.Publish(ctx, protocol.Publish{UserID: "bob", Message: &protocol.PublishMessage{Text: "your order shipped", Sender: protocol.Sender{UserID: "system:shop"}}})
	if err != nil {
		t.Fatal(err)
	}
	if res.RoomID != protocol.ConversationID("system:shop", "bob") || res.Seq != 1 || res.Delivered != 2 {
		t.Errorf("to user: %+v", res)
	}
	if len(e.posts("B1")) != 1 || len(e.posts("B2")) != 1 || len(e.posts("C")) != 0 {
		t.Errorf("posts: B1 %v, B2 %v, C %v", e.posts("B1"), e.posts("B2"), e.posts("C"))
	}
	var page protocol.HistoryPage
	e.ok("B2", protocol.ActionHistory, `{"action":"history","roomId":"`+res.RoomID+`"}`, &page)
	if len(page.Messages) != 1 || page.Messages[0].Text != "your order shipped" {
		t.Errorf("bob's conversation with the shop: %+v", page.Messages)
	}
	e.api.Reset()
	res, err = e.svc.Publish(ctx, protocol.Publish{ConnectionID: "C", Event: &protocol.PublishEvent{Type: "ping"}})
	if err != nil || res.Delivered != 1 || len(e.posts("C")) != 1 || len(e.posts("B1")) != 0 {
		t.Errorf("to connection: %+v, %v", res, err)
	}
	res, err = e.svc.Publish(ctx, protocol.Publish{UserID: "nobody", Event: &protocol.PublishEvent{Type: "x"}})
	if err != nil || res.Recipients != 0 {
		t.Errorf("unknown user: %+v, %v", res, err)
	}
}

func TestPublicationErrorsNameTheField(t *testing.T) {
	e := newEnv(t, chat.Options{})
	for _, tc := range []struct{ body, field, says string }{
		{`{"roomId":"r","event":{"type":"9bad"}}`, "event.type", "pattern"},
		{`{"roomId":"r","userId":"u","event":{"type":"x"}}`, "", "exactly one of roomId, userId and connectionId"},
		{`{"roomId":"r"}`, "", ""},
		{`{"roomId":"r","message":{"text":"hi"}}`, "message", "sender"},
		{`{"roomId":"r","message":{"text":"","sender":{"userId":"s"}}}`, "message.text", ""},
		{`{"userId":"u","event":{"type":"x","store":true}}`, "event.store", "room"},
		{`{"roomId":"r","event":{"type":"x"},"extra":1}`, "", "extra"},
		{`[1]`, "", ""},
	} {
		_, err := e.svc.CheckPublication([]byte(tc.body))
		var pe *chat.PublicationError
		if !errors.As(err, &pe) {
			t.Errorf("%s: %v, want a *PublicationError", tc.body, err)
			continue
		}
		if pe.Field != tc.field || !strings.Contains(pe.Error(), tc.says) {
			t.Errorf("%s: field %q, %q; want field %q saying %q", tc.body, pe.Field, pe.Error(), tc.field, tc.says)
		}
		if strings.Contains(pe.Error(), "protocol.") || strings.Contains(pe.Error(), "json:") {
			t.Errorf("%s: Go internals in %q", tc.body, pe.Error())
		}
	}
	big := strings.Repeat("x", protocol.MaxMessageBytes)
	_, err := e.svc.Publish(context.Background(), protocol.Publish{RoomID: "r", Event: &protocol.PublishEvent{Type: "x", Data: json.RawMessage(`"` + big + `"`)}})
	var pe *chat.PublicationError
	if !errors.As(err, &pe) || pe.Field != "event.data" || !strings.Contains(pe.Error(), "131072") {
		t.Errorf("oversize event: %v", err)
	}
}
