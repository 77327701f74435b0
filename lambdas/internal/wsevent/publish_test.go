package wsevent_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/chatstack/websocketchatapi/internal/chat"
	"github.com/chatstack/websocketchatapi/internal/dynamostore"
	"github.com/chatstack/websocketchatapi/internal/dynamostore/dynamostoretest"
	"github.com/chatstack/websocketchatapi/lambdas/internal/wsevent"
)

// deadLetters records what the handler sends to the dead-letter queue (the SQS side is
// tested against a real SQS server in the e2e suite).
type deadLetters struct {
	mu      sync.Mutex
	reasons map[string]string // body -> reason
}

func (d *deadLetters) Send(_ context.Context, body, reason string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.reasons[body] = reason
	return nil
}

func sqsEvent(bodies ...string) events.SQSEvent {
	var ev events.SQSEvent
	for i, b := range bodies {
		ev.Records = append(ev.Records, events.SQSMessage{MessageId: string(rune('a' + i)), Body: b, Attributes: map[string]string{"ApproximateReceiveCount": "1"}})
	}
	return ev
}

// TestPublishHandlerBatch: publications are delivered, malformed messages go to the
// dead-letter queue with their reason (and are not reported as failures, so the queue does not
// try them again), and a message that fails for another reason is reported.
func TestPublishHandlerBatch(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	for _, id := range []string{"A", "B"} {
		if _, err := w.svc.Connect(ctx, id, chat.Identity{UserID: "user-" + id}); err != nil {
			t.Fatal(err)
		}
		if res := w.svc.Handle(ctx, chat.Request{ConnectionID: id, Action: "joinroom", Body: []byte(`{"roomId":"news"}`), Identity: chat.Identity{UserID: "user-" + id}}); res.Code != "" {
			t.Fatalf("join: %+v", res.Frame)
		}
	}
	w.api.Reset()
	dl := &deadLetters{reasons: map[string]string{}}
	h := &wsevent.PublishHandler{Service: w.svc, DeadLetters: dl, Logger: wsevent.NewLogger(w.log, 0)}
	good := `{"roomId":"news","event":{"type":"score","data":{"home":2}}}`
	notJSON := `{"roomId":`
	badType := `{"roomId":"news","event":{"type":"9"}}`
	badJob := `{"shardJob":{"roomId":"news","shard":99,"frame":{}}}`
	resp, err := h.Handle(ctx, sqsEvent(good, notJSON, badType, badJob))
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("response %+v, %v; want no failures", resp, err)
	}
	for _, id := range []string{"A", "B"} {
		if posts := w.api.Posts(id); len(posts) != 1 || !strings.Contains(string(posts[0]), `"eventType":"score"`) {
			t.Errorf("%s got %q", id, posts)
		}
	}
	for body, says := range map[string]string{notJSON: "not JSON", badType: "event.type", badJob: "shard 99"} {
		if r, ok := dl.reasons[body]; !ok || !strings.Contains(r, says) {
			t.Errorf("dead letter of %s: %q (sent %v), want a reason with %q", body, r, ok, says)
		}
	}
	if len(dl.reasons) != 3 {
		t.Errorf("%d dead letters, want 3", len(dl.reasons))
	}

	// A store that fails (its table does not exist): the message is reported, to be tried again.
	client, _ := dynamostoretest.NewTable(t)
	broken, err := chat.NewService(dynamostore.New(client, "no-such-table"), w.api.Client(), chat.Options{})
	if err != nil {
		t.Fatal(err)
	}
	h.Service = broken
	resp, err = h.Handle(ctx, sqsEvent(good))
	if err != nil || len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != "a" {
		t.Errorf("response %+v, %v; want message a reported", resp, err)
	}
	raw, _ := json.Marshal(resp)
	if !strings.Contains(string(raw), `"batchItemFailures":[{"itemIdentifier":"a"}]`) {
		t.Errorf("response JSON %s is not Lambda's partial batch response", raw)
	}
}
