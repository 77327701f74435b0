package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/chatstack/websocketchatapi/protocol"
)

// keysApp is the variant of the reference app that requires an API key on $connect.
const keysApp = "./integ/e2e/testdata/keysapp"

// TestApiKeysOnConnect: with keys required, a handshake without a key or with an unknown one
// is refused 403; a key of a usage plan connects and chats; a key past its plan's quota is
// refused 429.
func TestApiKeysOnConnect(t *testing.T) {
	tg.local(t, "synthesizes and runs a variant of the stack with API keys")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	env := startVariant(ctx, t, keysApp, newLogSink())
	keys := map[string]string{} // plan -> key value
	for _, k := range env.APIKeys() {
		for _, p := range k.Plans {
			keys[p] = k.Value
		}
	}
	if keys["tiny"] == "" || keys["open"] == "" {
		t.Fatalf("the stack's keys %+v, want one in plan tiny and one in plan open", env.APIKeys())
	}
	tok, err := env.Token("keyed", "Keyed")
	if err != nil {
		t.Fatal(err)
	}
	dial := func(key string) (*websocket.Conn, int) {
		t.Helper()
		h := http.Header{}
		if key != "" {
			h.Set("x-api-key", key)
		}
		c, resp, err := websocket.Dial(ctx, env.URL+"?token="+tok, &websocket.DialOptions{HTTPHeader: h})
		if err == nil {
			t.Cleanup(func() { _ = c.CloseNow() })
			return c, http.StatusSwitchingProtocols
		}
		if resp == nil {
			t.Fatalf("handshake with key %q: %v", key, err)
		}
		return nil, resp.StatusCode
	}
	for _, key := range []string{"", "not-a-key-of-this-stack-0123456789"} {
		if _, status := dial(key); status != http.StatusForbidden {
			t.Errorf("handshake with key %q: %d, want 403", key, status)
		}
	}
	c, status := dial(keys["open"])
	if status != http.StatusSwitchingProtocols {
		t.Fatalf("handshake with the open plan's key: %d, want 101", status)
	}
	if err := c.Write(ctx, websocket.MessageText, []byte(`{"action":"joinroom","roomId":"keyed"}`)); err != nil {
		t.Fatal(err)
	}
	if _, data, err := c.Read(ctx); err != nil || frameType(t, data) != protocol.FrameJoined {
		t.Fatalf("joinroom over a keyed connection: %s, %v", data, err)
	}
	var got []int
	for range 4 {
		_, status := dial(keys["tiny"])
		got = append(got, status)
	}
	if !slices.Equal(got, []int{101, 101, 101, 429}) {
		t.Errorf("four handshakes with the tiny plan's key (quota 3 a day): %v, want 101 101 101 429", got)
	}
}

// frameType returns the type of a frame.
func frameType(t *testing.T, data []byte) string {
	t.Helper()
	var f frame
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatalf("frame %q: %v", data, err)
	}
	return f.Type
}
