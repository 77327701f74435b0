package publish_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/chatstack/websocketchatapi/internal/chat"
	"github.com/chatstack/websocketchatapi/internal/ddblocal/ddblocaltest"
	"github.com/chatstack/websocketchatapi/internal/dynamostore"
	"github.com/chatstack/websocketchatapi/internal/dynamostore/dynamostoretest"
	"github.com/chatstack/websocketchatapi/internal/managementapi/managementapitest"
	"github.com/chatstack/websocketchatapi/protocol"
	"github.com/chatstack/websocketchatapi/publish"
)

func TestMain(m *testing.M) { ddblocaltest.Main(m) }

// chatWith returns a Publisher and the chat Service it publishes to, over a table of its own in
// DynamoDB Local and a recording @connections server; each of users is connected as
// "<user>-1" and "<user>-2" and joins room "lobby".
func chatWith(t *testing.T, users ...string) (*publish.Publisher, *managementapitest.Server) {
	t.Helper()
	client, table := dynamostoretest.NewTable(t)
	api := managementapitest.New(t, "prod")
	svc, err := chat.NewService(dynamostore.New(client, table), api.Client(), chat.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, u := range users {
		for _, n := range []string{"-1", "-2"} {
			if _, err := svc.Connect(ctx, u+n, chat.Identity{UserID: u}); err != nil {
				t.Fatal(err)
			}
			res := svc.Handle(ctx, chat.Request{ConnectionID: u + n, Action: protocol.ActionJoinRoom, Body: []byte(`{"roomId":"lobby"}`), Identity: chat.Identity{UserID: u}})
			if res.Code != "" {
				t.Fatalf("join: %+v", res.Frame)
			}
		}
	}
	api.Reset()
	cfg := aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
		BaseEndpoint: aws.String(ddblocaltest.Endpoint(t)),
	}
	p, err := publish.New(cfg, publish.Config{TableName: table, CallbackURL: api.URL})
	if err != nil {
		t.Fatal(err)
	}
	return p, api
}

func TestPublisher(t *testing.T) {
	p, api := chatWith(t, "ann", "ben")
	ctx := context.Background()

	res, err := p.ToRoom(ctx, "lobby", publish.Message(publish.Sender{UserID: "system:ci", DisplayName: "CI"}, "build green"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Seq != 1 || res.Recipients != 4 || res.Delivered != 4 {
		t.Errorf("to room: %+v, want seq 1 delivered to 4 connections", res)
	}
	res, err = p.ToUser(ctx, "ben", publish.Event("order.shipped", map[string]any{"order": 42}))
	if err != nil || res.Seq != 0 || res.Delivered != 2 {
		t.Errorf("to user: %+v, %v; want 2 deliveries of an unstored event", res, err)
	}
	var ev protocol.Event
	if posts := api.Posts("ben-2"); len(posts) != 2 || json.Unmarshal(posts[1], &ev) != nil || ev.EventType != "order.shipped" || string(ev.Data) != `{"order":42}` {
		t.Errorf("ben-2 got %q", api.Posts("ben-2"))
	}
	if n := len(api.Posts("ann-1")); n != 1 {
		t.Errorf("ann got %d posts, want the room's message only", n)
	}
	res, err = p.ToConnection(ctx, "ann-1", publish.Event("ping", nil))
	if err != nil || res.Delivered != 1 {
		t.Errorf("to connection: %+v, %v", res, err)
	}
	res, err = p.ToUser(ctx, "nobody", publish.Event("ping", nil))
	if err != nil || res.Recipients != 0 {
		t.Errorf("to a user never seen: %+v, %v; want zero recipients", res, err)
	}
}

func TestPublisherRefusesWithTheField(t *testing.T) {
	p, api := chatWith(t, "ann")
	ctx := context.Background()
	for _, tc := range []struct {
		c     publish.Content
		field string
	}{
		{publish.Event("bad type!", nil), "event.type"},
		{publish.Event("x", func() {}), "event.data"},
		{publish.Event("x", strings.Repeat("y", protocol.MaxMessageBytes)), "event.data"},
		{publish.Message(publish.Sender{UserID: "s"}, ""), "message.text"},
		{publish.Message(publish.Sender{}, "hi"), "message.sender.userId"},
	} {
		_, err := p.ToRoom(ctx, "lobby", tc.c)
		var pe *publish.Error
		if !errors.As(err, &pe) || pe.Field != tc.field {
			t.Errorf("%+v: %v, want an *Error on %s", tc.c, err, tc.field)
		}
	}
	if n := len(api.Delivered()); n != 0 {
		t.Errorf("%d connections posted to by refused publications", n)
	}
	if _, err := publish.New(aws.Config{}, publish.Config{TableName: "t", CallbackURL: "wss://x"}); err == nil || !strings.Contains(err.Error(), "CallbackURL") {
		t.Errorf("a wss callback URL: %v", err)
	}
}

func TestBody(t *testing.T) {
	b, err := publish.Body("lobby", "", "", publish.StoredEvent("stock", []int{1}))
	if err != nil || string(b) != `{"roomId":"lobby","event":{"type":"stock","data":[1],"store":true}}` {
		t.Errorf("Body: %s, %v", b, err)
	}
	if _, err := publish.Body("lobby", "ann", "", publish.Event("x", nil)); err == nil || !strings.Contains(err.Error(), "exactly one") {
		t.Errorf("two targets: %v", err)
	}
}
