package chat_test

import (
	"context"
	"sync"
	"testing"

	"github.com/chatstack/websocketchatapi/internal/chat"
	"github.com/chatstack/websocketchatapi/protocol"
)

// TestRetriedSendIsIdempotent: a client that lost an ack sends again with the same
// clientMessageId; it gets the first ack back and nothing is stored or delivered twice.
func TestRetriedSendIsIdempotent(t *testing.T) {
	e := newEnv(t, chat.Options{})
	e.members("r1", "A", "B")
	body := `{"roomId":"r1","text":"once","clientMessageId":"retry-1"}`
	var first, second protocol.Ack
	e.ok("A", protocol.ActionSendMessage, body, &first)
	e.ok("A", protocol.ActionSendMessage, body, &second)
	if first.Duplicate || !second.Duplicate || second.MessageID != first.MessageID || !second.SentAt.Equal(first.SentAt.Time) ||
		second.Delivered != first.Delivered || second.Delivered != 1 || second.ClientMessageID != "retry-1" ||
		first.Seq != 1 || second.Seq != 1 || second.UserID != "user-A" {
		t.Fatalf("first ack %+v, retry's ack %+v: want the first ack, marked duplicate", first, second)
	}
	if n := len(e.api.Posts("B")); n != 1 {
		t.Errorf("B got %d posts, want the message once", n)
	}
	msgs, err := e.store.Messages(context.Background(), "r1", chat.MessageRange{Limit: 10})
	if err != nil || len(msgs) != 1 {
		t.Errorf("history holds %d messages (%v), want 1", len(msgs), err)
	}
	// Another sender, or another room, may use the same clientMessageId.
	e.members("r2", "C")
	e.join("A", "r2")
	e.api.Reset()
	var other protocol.Ack
	e.ok("B", protocol.ActionSendMessage, body, &other)
	if other.Duplicate || other.MessageID == first.MessageID {
		t.Errorf("bob's message with alice's clientMessageId was taken for a retry: %+v", other)
	}
	e.ok("A", protocol.ActionSendMessage, `{"roomId":"r2","text":"once","clientMessageId":"retry-1"}`, &other)
	if other.Duplicate {
		t.Errorf("the same clientMessageId in another room was taken for a retry: %+v", other)
	}
}

// TestConcurrentRetriesStoreOnce: eight copies of one send at once store one message.
func TestConcurrentRetriesStoreOnce(t *testing.T) {
	e := newEnv(t, chat.Options{})
	e.members("r1", "A", "B")
	body := `{"roomId":"r1","text":"burst","clientMessageId":"same"}`
	acks := make([]protocol.Ack, 8)
	var wg sync.WaitGroup
	for i := range acks {
		wg.Go(func() { e.ok("A", protocol.ActionSendMessage, body, &acks[i]) })
	}
	wg.Wait()
	originals := 0
	for _, a := range acks {
		if a.MessageID != acks[0].MessageID || a.Seq != 1 {
			t.Fatalf("acks name different messages: %+v", acks)
		}
		if !a.Duplicate {
			originals++
		}
	}
	msgs, err := e.store.Messages(context.Background(), "r1", chat.MessageRange{Limit: 10})
	if originals != 1 || err != nil || len(msgs) != 1 || len(e.api.Posts("B")) != 1 {
		t.Fatalf("%d originals, %d stored (%v), %d delivered to B: want 1 each", originals, len(msgs), err, len(e.api.Posts("B")))
	}
}
