package e2e

import (
	"testing"

	"github.com/chatstack/websocketchatapi/protocol"
)

// TestHeartbeat: {"action":"ping"} is answered {"type":"pong"} by API Gateway itself, whatever
// else the message holds (no model applies to it), and no function runs for it.
func TestHeartbeat(t *testing.T) {
	c := tg.connect(t, "client", tg.user(t, 0), dialOptions{})
	counts := func() (chat, def int) { return -1, -1 }
	if tg.env != nil {
		chatName := chatFunction(t, tg.env).Name
		defName := tg.env.API.Route("$default").Integration.Function.Name
		counts = func() (int, int) { return logs.Invocations(chatName), logs.Invocations(defName) }
	}
	chatBefore, defBefore := counts()
	pings := []map[string]any{
		{"action": protocol.RoutePing},
		{"action": protocol.RoutePing, "x": []int{1, 2, 3}},
		{"action": protocol.RoutePing, "roomId": "not a room!", "text": 12345},
	}
	want := string(protocol.Encode(protocol.Pong{Type: protocol.FramePong}))
	for _, body := range pings {
		c.send(body)
		if f := c.expect(protocol.FramePong); f.raw != want {
			t.Errorf("ping %v answered %s, want %s", body, f.raw, want)
		}
	}
	if tg.env != nil {
		chatAfter, defAfter := counts()
		if chatAfter != chatBefore || defAfter != defBefore {
			t.Errorf("pings ran the chat function %d times and $default %d times, want none", chatAfter-chatBefore, defAfter-defBefore)
		}
	}
	// The connection still serves the chat after its pings.
	c.join(room("heartbeat"))
}
