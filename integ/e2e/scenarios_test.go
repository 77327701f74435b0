package e2e

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/coder/websocket"

	"github.com/chatstack/websocketchatapi/integ/internal/localauth"
	"github.com/chatstack/websocketchatapi/internal/contract"
	"github.com/chatstack/websocketchatapi/protocol"
)

// TestHandshake (scenario 1): $connect runs the REQUEST authorizer. Without a token it answers
// 401; a token that is expired, for another audience, or signed by a key the issuer's JWKS does
// not hold gets 403; a good token connects, from the query string or from the subprotocol list
// (where $connect answers with chat.v1).
func TestHandshake(t *testing.T) {
	t.Run("no token is 401", func(t *testing.T) {
		if got := tg.refusal(t, ""); got != http.StatusUnauthorized {
			t.Errorf("status %s, want %s", statusText(got), statusText(http.StatusUnauthorized))
		}
	})
	t.Run("not a JWT is 403", func(t *testing.T) {
		if got := tg.refusal(t, "not-a-jwt"); got != http.StatusForbidden {
			t.Errorf("status %s, want %s", statusText(got), statusText(http.StatusForbidden))
		}
	})
	// Tokens only the local target can mint, each refused by the authorizer (Deny → 403).
	refused := []struct {
		name string
		mint func(t *testing.T) string
	}{
		{"expired token is 403", func(t *testing.T) string {
			env := tg.local(t, "mints an expired token")
			return mint(t, env.Issuer, localauth.Claims{Subject: "expired", Audience: audience(t), TokenUse: localauth.TokenUseID, TTL: -time.Minute})
		}},
		{"token for another audience is 403", func(t *testing.T) string {
			env := tg.local(t, "mints a token for another audience")
			return mint(t, env.Issuer, localauth.Claims{Subject: "stranger", Audience: "some-other-app-client", TokenUse: localauth.TokenUseID})
		}},
		{"token signed by another key is 403", func(t *testing.T) string {
			env := tg.local(t, "mints a token with a key of its own")
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			// Same iss, same claims, but a key that the issuer's JWKS does not publish.
			forger, err := localauth.Start(ctx, localauth.Options{Issuer: env.Issuer.Issuer()})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = forger.Close() })
			if forger.KeyID() == env.Issuer.KeyID() {
				t.Fatal("the second issuer has the first one's key id")
			}
			return mint(t, forger, localauth.Claims{Subject: "forger", Audience: audience(t), TokenUse: localauth.TokenUseID})
		}},
	}
	for _, r := range refused {
		t.Run(r.name, func(t *testing.T) {
			tok := r.mint(t)
			if got := tg.refusal(t, tok); got != http.StatusForbidden {
				t.Errorf("status %s, want %s", statusText(got), statusText(http.StatusForbidden))
			}
		})
	}
	for _, sub := range []bool{false, true} {
		name := "good token in the query string connects"
		if sub {
			name = "good token in the subprotocol list connects with chat.v1"
		}
		t.Run(name, func(t *testing.T) {
			u := tg.user(t, 0)
			c := tg.connect(t, "client", u, dialOptions{subprotocol: sub})
			if got := c.conn.Subprotocol(); sub && got != subprotocolChat {
				t.Errorf("negotiated subprotocol %q, want %q", got, subprotocolChat)
			} else if !sub && got != "" {
				t.Errorf("negotiated subprotocol %q without offering any", got)
			}
			c.join(room("handshake"))
		})
	}
}

// audience returns an audience the local authorizer accepts.
func audience(t *testing.T) string {
	t.Helper()
	if len(tg.env.Audiences) == 0 {
		t.Fatal("the local authorizer accepts no audience")
	}
	return tg.env.Audiences[0]
}

// mint mints a token with iss, failing the test on error.
func mint(t *testing.T, iss *localauth.Issuer, c localauth.Claims) string {
	t.Helper()
	tok, err := iss.Mint(c)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestRoomFanout (scenario 2): A and B join r1 and C joins r2; B's message reaches A (userId from
// B's token, not from the body), B's ack comes through the route response with delivered 1,
// and C, whose stream a later marker in r2 proves live, gets nothing.
func TestRoomFanout(t *testing.T) {
	r1, r2 := room("fanout-r1"), room("fanout-r2")
	a := tg.connect(t, "A", tg.user(t, 0), dialOptions{})
	b := tg.connect(t, "B", tg.user(t, 1), dialOptions{subprotocol: true})
	c := tg.connect(t, "C", tg.user(t, 2), dialOptions{})
	a.join(r1)
	b.join(r1)
	c.join(r2)

	b.send(map[string]any{"action": protocol.ActionSendMessage, "roomId": r1, "text": "hello from B", "clientMessageId": "b-1", "userId": "spoofed"})
	msg := a.expect(protocol.FrameMessage)
	if msg.RoomID != r1 || msg.Text != "hello from B" || msg.UserID != b.user.subject || msg.MessageID == "" {
		t.Errorf("A got %s, want B's message in %s from userId %q", msg.raw, r1, b.user.subject)
	}
	ack := b.expect(protocol.FrameAck)
	if ack.ClientMessageID != "b-1" || ack.MessageID != msg.MessageID || intValue(ack.Delivered) != 1 || intValue(ack.Undelivered) != 0 || intValue(ack.Gone) != 0 {
		t.Errorf("B's ack %s, want clientMessageId b-1, messageId %s, delivered 1, undelivered 0, gone 0", ack.raw, msg.MessageID)
	}

	// The marker: C posts to r2 (nobody else there). B's message was fanned out before B's ack,
	// so had it been posted to C it would precede C's own ack.
	if ack := c.say(r2, "marker in r2", "c-1"); intValue(ack.Delivered) != 0 {
		t.Errorf("C's ack %s, want delivered 0 (C is alone in r2)", ack.raw)
	}
	c.quiet(quietWindow)
	a.quiet(quietWindow) // A does not get B's message twice
}

// TestRouting (scenario 3): an unknown action reaches $default (unknown_action with the valid
// actions), a message that is not JSON too (invalid_json), and a body that breaks the route's
// model gets API Gateway's "Bad request body" without invoking the chat function.
func TestRouting(t *testing.T) {
	c := tg.connect(t, "client", tg.user(t, 0), dialOptions{})

	c.send(map[string]any{"action": "dance", "roomId": "x"})
	f := c.expectError(protocol.CodeUnknownAction)
	if f.Action != "dance" {
		t.Errorf("unknown_action frame %s, want action dance", f.raw)
	}
	for _, a := range protocol.Actions() {
		if !slices.Contains(f.ValidActions, a) {
			t.Errorf("unknown_action frame %s: validActions lacks %q", f.raw, a)
		}
	}

	c.sendRaw(websocket.MessageText, []byte("hello, is this JSON?"))
	if f := c.expectError(protocol.CodeInvalidJSON); f.Message == "" {
		t.Errorf("invalid_json frame %s has no message", f.raw)
	}

	before := 0
	if tg.env != nil {
		before = logs.Invocations(chatFunction(t, tg.env).Name)
	}
	bad := []map[string]any{
		{"action": protocol.ActionSendMessage, "roomId": room("routing")},                // no text
		{"action": protocol.ActionJoinRoom, "roomId": "bad room!"},                       // roomId pattern
		{"action": protocol.ActionSendMessage, "roomId": room("routing"), "text": ""},    // text too short
		{"action": protocol.ActionHistory, "roomId": room("routing"), "limit": 101},      // limit too large
		{"action": protocol.ActionLeaveRoom, "roomId": strings.Repeat("r", 65)},          // roomId too long
		{"action": protocol.ActionSendMessage, "roomId": room("routing"), "text": 12345}, // text not a string
	}
	for _, body := range bad {
		c.send(body)
		f := c.expectGateway("Bad request body")
		if f.ConnectionID == "" || !strings.Contains(f.raw, `"messageId"`) {
			t.Errorf("Bad request body frame %s, want connectionId and messageId", f.raw)
		}
	}
	// No ack or error frame follows any of them: the next frame answers the marker.
	c.expectMarker(c.sendMarker())
	if tg.env != nil {
		name := chatFunction(t, tg.env).Name
		if after := logs.Invocations(name); after != before {
			t.Errorf("the chat function ran %d times for bodies that fail the models, want 0", after-before)
		}
		// The count is live: a valid body reaches the function once.
		c.join(room("routing"))
		if after := logs.Invocations(name); after != before+1 {
			t.Errorf("the chat function ran %d times for one valid joinroom, want 1", after-before)
		}
	}
}

// TestHistoryAndLeave (scenario 4): history returns the room's last messages oldest first, and
// after leaveroom a connection gets no more of the room's messages and may not post to it.
func TestHistoryAndLeave(t *testing.T) {
	r := room("history")
	a := tg.connect(t, "A", tg.user(t, 0), dialOptions{})
	b := tg.connect(t, "B", tg.user(t, 1), dialOptions{})
	a.join(r)
	b.join(r)

	var ids []string
	for i := 1; i <= 5; i++ {
		ack := b.say(r, fmt.Sprintf("message %d", i), fmt.Sprintf("h-%d", i))
		ids = append(ids, ack.MessageID)
		if m := a.expect(protocol.FrameMessage); m.MessageID != ack.MessageID {
			t.Fatalf("A got %s, want message %d (%s)", m.raw, i, ack.MessageID)
		}
	}

	a.send(map[string]any{"action": protocol.ActionHistory, "roomId": r, "limit": 3})
	h := a.expect(protocol.FrameHistory)
	var got []string
	for _, m := range h.Messages {
		got = append(got, m.Text)
		if m.UserID != b.user.subject || m.RoomID != r {
			t.Errorf("history message %s, want userId %q in room %s", m.raw, b.user.subject, r)
		}
	}
	if want := []string{"message 3", "message 4", "message 5"}; h.RoomID != r || !slices.Equal(got, want) {
		t.Errorf("history %s: texts %q, want %q (the last 3, oldest first)", h.raw, got, want)
	}
	if len(h.Messages) == 3 && (h.Messages[0].MessageID != ids[2] || h.Messages[2].MessageID != ids[4]) {
		t.Errorf("history message ids %s, %s, want %s, %s", h.Messages[0].MessageID, h.Messages[2].MessageID, ids[2], ids[4])
	}

	a.send(map[string]any{"action": protocol.ActionLeaveRoom, "roomId": r})
	if f := a.expect(protocol.FrameLeft); f.RoomID != r {
		t.Errorf("left frame %s, want room %s", f.raw, r)
	}
	if ack := b.say(r, "after A left", "h-6"); intValue(ack.Delivered) != 0 {
		t.Errorf("B's ack %s, want delivered 0: A left", ack.raw)
	}
	// B's message was fanned out before B's ack: had it gone to A, it would precede this answer.
	a.send(map[string]any{"action": protocol.ActionSendMessage, "roomId": r, "text": "am I in?"})
	if f := a.expectError(protocol.CodeNotMember); f.Action != protocol.ActionSendMessage {
		t.Errorf("not_member frame %s, want action sendmessage", f.raw)
	}
	a.quiet(quietWindow)
}

// TestConnectionCleanup (scenario 5): $disconnect removes the connection's items, and a
// connection that vanished without $disconnect is removed by the next broadcast to its room
// (the post gets 410 Gone).
func TestConnectionCleanup(t *testing.T) {
	t.Run("disconnect removes the connection's items", func(t *testing.T) {
		env := tg.local(t, "reads the table")
		u := tg.user(t, 0)
		c := tg.connect(t, "client", u, dialOptions{})
		c.join(room("cleanup"))
		ids := connectionsOf(t, env, u.subject)
		if len(ids) != 1 {
			t.Fatalf("%d connection items of %s, want 1: %v", len(ids), u.subject, ids)
		}
		id := ids[0]
		if sks := connectionItems(t, env, id); !slices.Contains(sks, contract.SortKeyConnection) || !slices.Contains(sks, contract.PrefixRoom+room("cleanup")) {
			t.Fatalf("items of connection %s: %q, want CONN and ROOM#%s", id, sks, room("cleanup"))
		}
		c.close()
		// $disconnect runs after the close, asynchronously, as on AWS.
		if !eventually(10*time.Second, func() bool { return len(connectionItems(t, env, id)) == 0 }) {
			t.Errorf("items of connection %s 10 s after its close: %q, want none", id, connectionItems(t, env, id))
		}
	})

	t.Run("a lost connection's items are removed by $disconnect", func(t *testing.T) {
		env := tg.local(t, "drops a connection in the emulator, as a lost network would")
		u := tg.user(t, 0)
		c := tg.connect(t, "client", u, dialOptions{})
		c.join(room("dropped"))
		ids := connectionsOf(t, env, u.subject)
		if len(ids) != 1 {
			t.Fatalf("%d connection items of %s, want 1: %v", len(ids), u.subject, ids)
		}
		if err := env.Gateway.Drop(ids[0]); err != nil {
			t.Fatal(err)
		}
		// The client sees the connection end without a close frame.
		select {
		case <-c.done:
		case <-time.After(frameTimeout):
			t.Fatalf("the dropped connection did not end within %v", frameTimeout)
		}
		if code := websocket.CloseStatus(c.err); code != -1 {
			t.Errorf("the dropped connection ended with close status %d (%v), want no close frame", code, c.err)
		}
		if !eventually(10*time.Second, func() bool { return len(connectionItems(t, env, ids[0])) == 0 }) {
			t.Errorf("items of dropped connection %s 10 s later: %q, want none", ids[0], connectionItems(t, env, ids[0]))
		}
	})

	t.Run("a stale connection is removed by the next broadcast", func(t *testing.T) {
		env := tg.local(t, "writes a stale connection into the table")
		r := room("stale")
		c := tg.connect(t, "client", tg.user(t, 0), dialOptions{})
		c.join(r)

		// A connection whose $disconnect was missed: its items are there, its socket is not.
		ghost := "GhostE2E" + strings.ToUpper(runID) + "="
		putStale(t, env.DynamoDB, tableName(t, env), ghost, r)
		if sks := connectionItems(t, env, ghost); len(sks) != 2 {
			t.Fatalf("items of the stale connection: %q, want CONN and its membership", sks)
		}

		ack := c.say(r, "anyone there?", "s-1")
		if intValue(ack.Gone) != 1 || intValue(ack.Delivered) != 0 || intValue(ack.Undelivered) != 0 {
			t.Errorf("ack %s, want gone 1, delivered 0, undelivered 0", ack.raw)
		}
		if sks := connectionItems(t, env, ghost); len(sks) != 0 {
			t.Errorf("items of the stale connection after the broadcast: %q, want none", sks)
		}
		// The next broadcast finds nobody gone.
		if ack := c.say(r, "and now?", "s-2"); intValue(ack.Gone) != 0 {
			t.Errorf("second ack %s, want gone 0", ack.raw)
		}
	})
}

// putStale writes the connection and membership items of connection id in roomID straight into
// the table, as the connect function and joinroom would have.
func putStale(t *testing.T, db *dynamodb.Client, table, id, roomID string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	now := time.Now()
	s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	n := func(v int64) types.AttributeValue { return &types.AttributeValueMemberN{Value: fmt.Sprint(v)} }
	expires := n(now.Add(time.Hour).Unix())
	items := []map[string]types.AttributeValue{
		{contract.AttrPK: s(contract.PrefixConnection + id), contract.AttrSK: s(contract.SortKeyConnection),
			contract.AttrUserID: s("ghost"), contract.AttrDisplayName: s("Ghost"),
			contract.AttrConnectedAt: n(now.UnixMilli()), contract.AttrExpiresAt: expires},
		{contract.AttrPK: s(contract.PrefixConnection + id), contract.AttrSK: s(contract.PrefixRoom + roomID),
			contract.AttrGSI1PK: s(contract.RoomShardKey(roomID, contract.RoomShard(id))), contract.AttrGSI1SK: s(contract.PrefixConnection + id),
			contract.AttrUserID: s("ghost"), contract.AttrDisplayName: s("Ghost"),
			contract.AttrJoinedAt: n(now.UnixMilli()), contract.AttrExpiresAt: expires},
	}
	for _, item := range items {
		if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item}); err != nil {
			t.Fatalf("put a stale item: %v", err)
		}
	}
}

// TestLimits (scenario 6): API Gateway closes a connection with 1009 on a message over 128 KB
// (sent as frames of at most 32 KB, which alone are allowed) and with 1003 on a binary frame.
func TestLimits(t *testing.T) {
	t.Run("message over 128 KB closes with 1009", func(t *testing.T) {
		c := tg.connect(t, "client", tg.user(t, 0), dialOptions{})
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		w, err := c.conn.Writer(ctx, websocket.MessageText)
		if err != nil {
			t.Fatal(err)
		}
		// Five frames of 30,000 bytes: each under the 32 KB frame limit, 150,000 in all.
		chunk := []byte(strings.Repeat("a", 30000))
		_, _ = w.Write([]byte(`{"action":"sendmessage","roomId":"big","text":"`))
		for range 5 {
			if _, err := w.Write(chunk); err != nil {
				break // the server may close before the last frame
			}
		}
		_, _ = w.Write([]byte(`"}`))
		_ = w.Close()
		c.expectClose(websocket.StatusMessageTooBig)
	})
	t.Run("binary frame closes with 1003", func(t *testing.T) {
		c := tg.connect(t, "client", tg.user(t, 0), dialOptions{})
		c.sendRaw(websocket.MessageBinary, []byte(`{"action":"sendmessage"}`))
		c.expectClose(websocket.StatusUnsupportedData)
	})
	t.Run("message under the limits passes", func(t *testing.T) {
		c := tg.connect(t, "client", tg.user(t, 0), dialOptions{})
		r := room("limits")
		c.join(r)
		// 4,000 characters of 3 bytes each: the longest text, 12 KB on the wire.
		ack := c.say(r, strings.Repeat("€", protocol.MaxTextLength), "big-1")
		if intValue(ack.Delivered) != 0 {
			t.Errorf("ack %s, want delivered 0", ack.raw)
		}
	})
}

// Shape of TestConcurrentRooms: 24 clients in 4 rooms, each sending 8 messages (9 chat actions
// with the join: under the rate limit's burst of 20).
const (
	concurrentRooms    = 4
	concurrentClients  = 24
	concurrentMessages = 8
)

// TestConcurrentRooms (scenario 7): many clients in several rooms send at once; every member
// gets every message of its room exactly once, none of another room, and each sender's
// messages in the order sent. A sender sends its next message once the previous one is acked
// (the ack comes after the fan-out), which is what makes the order a guarantee on AWS too,
// where a connection's messages are integrated concurrently.
func TestConcurrentRooms(t *testing.T) {
	clients := tg.connectAll(t, "c", concurrentClients)
	roomOf := func(i int) string { return room(fmt.Sprintf("busy%d", i%concurrentRooms)) }
	members := concurrentClients / concurrentRooms

	var wg sync.WaitGroup
	for i, c := range clients {
		wg.Go(func() { c.send(map[string]any{"action": protocol.ActionJoinRoom, "roomId": roomOf(i)}) })
	}
	wg.Wait()
	for i, c := range clients {
		if f := c.expect(protocol.FrameJoined); f.RoomID != roomOf(i) {
			t.Fatalf("%s joined %q, want %q", c.name, f.RoomID, roomOf(i))
		}
	}

	// Everyone is in. Each client now sends its messages and, meanwhile, records what it
	// receives; its own acks come in the same stream.
	type received struct {
		from, seq int
		room      string
	}
	got := make([][]received, len(clients))
	acks := make([][]frame, len(clients))
	errs := make([]string, len(clients))
	start := make(chan struct{})
	for i, c := range clients {
		wg.Go(func() {
			<-start
			collect := func(f frame) bool { // reports whether f was a frame of the scenario
				if f.Type != protocol.FrameMessage {
					return f.Type == protocol.FramePresence
				}
				var from, seq int
				if _, err := fmt.Sscanf(f.Text, "from %d seq %d", &from, &seq); err != nil {
					errs[i] += fmt.Sprintf("unexpected message %s; ", f.raw)
					return true
				}
				got[i] = append(got[i], received{from, seq, f.RoomID})
				return true
			}
			for seq := range concurrentMessages {
				b := fmt.Sprintf(`{"action":"sendmessage","roomId":%q,"text":"from %d seq %d","clientMessageId":"%d-%d"}`, roomOf(i), i, seq, i, seq)
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				err := c.conn.Write(ctx, websocket.MessageText, []byte(b))
				cancel()
				if err != nil {
					errs[i] += fmt.Sprintf("write: %v; ", err)
					return
				}
				for {
					f, err := c.next(frameTimeout)
					if err != nil {
						errs[i] += fmt.Sprintf("waiting for the ack of %d: %v; ", seq, err)
						return
					}
					if f.Type == protocol.FrameAck {
						acks[i] = append(acks[i], f)
						break
					}
					if !collect(f) {
						errs[i] += fmt.Sprintf("unexpected frame %s; ", f.raw)
					}
				}
			}
		})
	}
	began := time.Now()
	close(start)
	wg.Wait()
	t.Logf("%d clients sent %d messages each in %v", len(clients), concurrentMessages, time.Since(began).Round(time.Millisecond))
	for i, e := range errs {
		if e != "" {
			t.Errorf("%s: %s", clients[i].name, e)
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	// Every ack is in, so every fan-out is done: each client's remaining messages precede the
	// answer to its marker.
	for i, c := range clients {
		action := c.sendMarker()
		for {
			f := c.nextFrame()
			if f.errorCode() == protocol.CodeUnknownAction && f.Action == action {
				break
			}
			if f.Type != protocol.FrameMessage {
				t.Fatalf("%s: got %s, want messages, then the marker's answer", c.name, f.raw)
			}
			var from, seq int
			if _, err := fmt.Sscanf(f.Text, "from %d seq %d", &from, &seq); err != nil {
				t.Fatalf("%s: unexpected message %s", c.name, f.raw)
			}
			got[i] = append(got[i], received{from, seq, f.RoomID})
		}
	}

	deliveries := 0
	for i, c := range clients {
		for k, ack := range acks[i] {
			if ack.ClientMessageID != fmt.Sprintf("%d-%d", i, k) || intValue(ack.Delivered) != members-1 || intValue(ack.Undelivered) != 0 || intValue(ack.Gone) != 0 {
				t.Errorf("%s: ack %s, want clientMessageId %d-%d, delivered %d, undelivered 0, gone 0", c.name, ack.raw, i, k, members-1)
			}
		}
		next := make(map[int]int) // sender → the next seq expected from it
		for _, m := range got[i] {
			switch {
			case m.room != roomOf(i) || roomOf(m.from) != roomOf(i):
				t.Errorf("%s (room %s) got message %d of client %d in room %s", c.name, roomOf(i), m.seq, m.from, m.room)
			case m.from == i:
				t.Errorf("%s got its own message %d", c.name, m.seq)
			case m.seq != next[m.from]:
				t.Errorf("%s got message %d of client %d, want %d (each sender's messages once, in order)", c.name, m.seq, m.from, next[m.from])
			}
			next[m.from] = m.seq + 1
		}
		if want := (members - 1) * concurrentMessages; len(got[i]) != want {
			t.Errorf("%s got %d messages, want %d", c.name, len(got[i]), want)
		}
		deliveries += len(got[i])
	}
	if want := concurrentClients * (members - 1) * concurrentMessages; deliveries != want {
		t.Errorf("%d deliveries in all, want %d", deliveries, want)
	}
}

// Shape of TestRateLimit: the chat's default per-connection rate limit is a bucket of 20
// tokens refilled at 10 per second. The client writes rateMessages at once, then one more per
// reply until a refusal has come back (at most rateMaxMessages): on AWS, which integrates a
// connection's messages concurrently, the first 30 meet the empty bucket at once; the local
// gateway integrates them one at a time, and at its pace under qemu (10 to 40 ms a message,
// slower while the function's code is still cold) the bucket may refill nearly as fast as 30
// messages drain it.
const (
	rateBurst       = 20
	ratePerSecond   = 10
	rateMessages    = 30
	rateMaxMessages = 200
)

// TestRateLimit (scenario 8): a connection that sends faster than its rate limit allows gets
// rate_limited error frames once its bucket is empty, never more acks than the bucket allows,
// and the first 20 messages (the burst) are acked; another connection of the same room is
// unaffected and gets exactly the messages that were accepted.
func TestRateLimit(t *testing.T) {
	r := room("ratelimit")
	fast := tg.connect(t, "fast", tg.user(t, 0), dialOptions{})
	other := tg.connect(t, "other", tg.user(t, 1), dialOptions{})
	other.join(r)
	began := time.Now() // the bucket is created full by the join, after this
	fast.join(r)        // takes one token: the 20th message needs one refilled (0.1 s)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	written := 0
	write := func() {
		m := fmt.Appendf(nil, `{"action":"sendmessage","roomId":%q,"text":"burst %d","clientMessageId":"r-%d"}`, r, written, written)
		if err := fast.conn.Write(ctx, websocket.MessageText, m); err != nil {
			t.Fatalf("fast: write message %d: %v", written, err)
		}
		written++
	}
	// rateMessages at once; then one more for each reply (the same rateMessages in flight)
	// until a refusal has come back.
	for range rateMessages {
		write()
	}
	acked := make(map[string]bool)
	limited := 0
	var order []string // replies in arrival order: r-<n> for an ack, "limited" for a refusal
	for replies := 0; replies < written; {
		var f frame
		select {
		case f = <-fast.frames:
		case <-fast.done:
			t.Fatalf("fast: the connection ended after %d replies: %v", replies, fast.err)
		case <-ctx.Done():
			t.Fatalf("fast: %d replies of %d after 60 s", replies, written)
		}
		switch {
		case f.Type == protocol.FramePresence:
			continue
		case f.Type == protocol.FrameAck:
			acked[f.ClientMessageID] = true
			order = append(order, f.ClientMessageID)
		case f.errorCode() == protocol.CodeRateLimited:
			limited++
			order = append(order, "limited")
			if f.Action != protocol.ActionSendMessage {
				t.Errorf("rate_limited frame %s, want action sendmessage", f.raw)
			}
		default:
			t.Fatalf("fast: got %s, want an ack or a rate_limited error", f.raw)
		}
		replies++
		if limited == 0 && written < rateMaxMessages {
			write()
		}
	}
	total := written
	elapsed := time.Since(began)
	t.Logf("%d messages in %v: %d acked, %d rate limited; replies in order: %v", total, elapsed.Round(time.Millisecond), len(acked), limited, order)
	if limited == 0 {
		t.Errorf("no rate_limited frame for %d messages as fast as possible, want at least one (burst %d, %d/s)", total, rateBurst, ratePerSecond)
	}
	for i := range rateBurst {
		if id := fmt.Sprintf("r-%d", i); !acked[id] {
			t.Errorf("message %s of the first %d (the burst) was not acked", id, rateBurst)
		}
	}
	// The bucket's bound: the burst, plus what refilled while the messages were served, less
	// the join's token.
	if most := rateBurst - 1 + int(elapsed.Seconds()*ratePerSecond) + 1; len(acked) > most {
		t.Errorf("%d messages acked in %v, want at most %d (burst %d + %d/s)", len(acked), elapsed, most, rateBurst, ratePerSecond)
	}

	// The other connection is not limited, and got exactly the accepted messages: their fan-out
	// finished before their acks, so before its own message is even sent.
	other.send(map[string]any{"action": protocol.ActionSendMessage, "roomId": r, "text": "still fine", "clientMessageId": "o-1"})
	var texts []string
	for {
		f := other.nextFrame()
		if f.Type == protocol.FrameAck {
			if f.ClientMessageID != "o-1" || intValue(f.Delivered) != 1 {
				t.Errorf("other's ack %s, want clientMessageId o-1, delivered 1", f.raw)
			}
			break
		}
		if f.Type != protocol.FrameMessage {
			t.Fatalf("other: got %s, want fast's messages, then its ack", f.raw)
		}
		texts = append(texts, f.Text)
	}
	if len(texts) != len(acked) {
		t.Errorf("other got %d of fast's messages, want the %d acked", len(texts), len(acked))
	}
	other.quiet(quietWindow)
}
