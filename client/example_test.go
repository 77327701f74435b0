package client_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/coder/websocket"

	"github.com/chatstack/websocketchatapi/client"
	"github.com/chatstack/websocketchatapi/protocol"
)

// Example joins a room, sends a message and reads it back in the room's order. The server is
// a stand-in that answers joinroom and sendmessage as the chat does.
func Example() {
	srv := httptest.NewServer(http.HandlerFunc(exampleServer))
	defer srv.Close()
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/prod"

	ctx := context.Background()
	c, err := client.Dial(ctx, url, client.Options{
		Token: func(context.Context) (string, error) { return "alice-token", nil },
	})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	if err := c.Join(ctx, "general"); err != nil {
		log.Fatal(err)
	}
	ack, err := c.Send(ctx, "general", "hello")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("acknowledged as seq", ack.Seq)
	for e := range c.Events() {
		switch e := e.(type) {
		case *client.StateEvent:
			fmt.Println("state:", e.State)
		case *client.MessageEvent:
			fmt.Printf("[%d] %s: %s\n", e.Seq, e.UserID, e.Text)
			return
		}
	}
	// Output:
	// acknowledged as seq 1
	// state: connected
	// [1] alice: hello
}

// exampleServer answers joinroom with joined and sendmessage with an ack of seq 1.
func exampleServer(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("token") != "alice-token" {
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
		var req struct{ Action, RoomID, ClientMessageID string }
		_ = json.Unmarshal(data, &req)
		var answer any
		switch req.Action {
		case protocol.ActionJoinRoom:
			answer = protocol.Joined{Type: protocol.FrameJoined, RoomID: req.RoomID}
		case protocol.ActionSendMessage:
			answer = protocol.Ack{Type: protocol.FrameAck, RoomID: req.RoomID, Seq: 1, MessageID: "m1",
				ClientMessageID: req.ClientMessageID, UserID: "alice", SentAt: protocol.NewTime(time.Now())}
		default:
			continue
		}
		_ = ws.Write(r.Context(), websocket.MessageText, protocol.Encode(answer))
	}
}

// ExampleOptions shows a browser-style token transport and faster heartbeats.
func ExampleOptions() {
	opts := client.Options{
		Token: func(ctx context.Context) (string, error) {
			return "a fresh JWT from your identity provider", nil // called before every connection
		},
		TokenTransport:    client.TokenInSubprotocol, // Sec-WebSocket-Protocol: chat.v1, bearer.<jwt>
		HeartbeatInterval: time.Minute,
	}
	c, err := client.Dial(context.Background(), "wss://abc123.execute-api.eu-west-1.amazonaws.com/prod", opts)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
}

// ExampleClient_History reads a room's history backwards, page by page.
func ExampleClient_History() {
	var c *client.Client // from client.Dial
	ctx := context.Background()
	q := client.HistoryQuery{Limit: 50}
	for {
		page, err := c.History(ctx, "general", q)
		if err != nil {
			log.Fatal(err)
		}
		for _, m := range page.Messages {
			fmt.Printf("[%d] %s: %s\n", m.Seq, m.DisplayName, m.Text)
		}
		if !page.HasMore {
			break
		}
		q.Before = page.Before
	}
}
