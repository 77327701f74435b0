package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	chatclient "github.com/chatstack/websocketchatapi/client"
	"github.com/chatstack/websocketchatapi/integ/internal/local"
	"github.com/chatstack/websocketchatapi/integ/internal/localauth"
	"github.com/chatstack/websocketchatapi/internal/contract"
	"github.com/chatstack/websocketchatapi/protocol"
)

// seededMessages is how many messages the room has before the pages join: more than two of
// the page's history pages (20), so that scrolling back takes three pages.
const seededMessages = 45

// TestChatPageInChromium runs the chat page of clients/js in headless Chromium against the
// local stack: two browser contexts (Alice, Bob) sign in with tokens of the local issuer,
// scroll back through the room's history, chat with sender and time, see each other in the
// member list; Bob goes offline (CDP network emulation) while Alice writes and while he writes
// himself, and comes back: both pages then show every message exactly once, in order. A text
// over the limit is refused in the page naming the limit, a server error frame shows next to
// the message that caused it, and a wrong or expired token shows a sign-in error without a
// reconnect loop. The page never shows a raw error. Screenshots go to .artifacts/browser.
func TestChatPageInChromium(t *testing.T) {
	env := tg.local(t, "the page's tokens come from the local issuer, and the test drops connections")
	dir := artifactsDir(t)
	pageURL := servePage(t, env)
	roomID := room("browser")
	seedRoom(t, env, roomID, seededMessages)

	browser := startChromium(t)
	alice := newTab(t, browser, "alice")
	bob := newTab(t, browser, "bob")
	aliceID, bobID := "alice-"+t.Name()+"-"+runID, "bob-"+t.Name()+"-"+runID

	// Sign in and join by keyboard: Enter submits each form.
	signInAndJoin(alice, pageURL, aliceID, "Alice", roomID)
	alice.waitFor("the newest page of history", logSeqsAre(roomID, seededMessages-19, seededMessages))
	for _, want := range []int{seededMessages - 39, 1} {
		alice.do("load older messages", chromedp.Click(chromedp.ID("older")))
		alice.waitFor(fmt.Sprintf("history back to %d", want), logSeqsAre(roomID, want, seededMessages))
	}
	alice.waitFor("the beginning of the room", `document.getElementById("older").hidden && document.getElementById("older-status").textContent === "Beginning of the room."`)

	signInAndJoin(bob, pageURL, bobID, "Bob", roomID)
	bob.waitFor("the newest page of history", logSeqsAre(roomID, seededMessages-19, seededMessages))
	alice.waitFor("Bob's presence", `!!document.querySelector('#presence li[data-user="`+bobID+`"]')`)
	// Bob joined after Alice: his member list (read with members) names her too.
	for _, tb := range []*tab{alice, bob} {
		tb.waitFor("the member list of both users", `(() => { const u = [...document.querySelectorAll("#presence li[data-user]")].map(li => li.dataset.user);
			return u.includes("`+aliceID+`") && u.includes("`+bobID+`"); })()`)
	}

	// Chat: sender and time on both pages.
	say(alice, "hello from alice")
	// Bob sends once Alice's message is numbered: two sends in flight at once may be numbered
	// in either order.
	alice.waitFor("alice's message numbered", logSeqsAre(roomID, 1, seededMessages+1))
	say(bob, "hi from bob")
	// Alice scrolled back to 1, Bob shows the newest page and what came since.
	first := map[*tab]int{alice: 1, bob: seededMessages - 19}
	n := seededMessages + 2
	for _, tb := range []*tab{alice, bob} {
		tb.waitFor("both messages", logSeqsAre(roomID, first[tb], n))
		got := eval[[]string](tb, `[...document.querySelectorAll('ol.log[data-room="`+roomID+`"] li[data-seq]')].slice(-2).map(li => li.querySelector(".sender").textContent + "|" + li.querySelector(".text").textContent + "|" + (li.querySelector("time").dateTime.length > 0))`)
		if want := []string{"Alice|hello from alice|true", "Bob|hi from bob|true"}; strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("%s: the last messages are %q, want %q", tb.name, got, want)
		}
	}

	// A message over the limit is refused in the page, naming it, before anything is sent.
	alice.do("type an over-long message", chromedp.Evaluate[chromedp.Void](fmt.Sprintf(
		`(() => { const t = document.getElementById("text"); t.value = "x".repeat(%d); t.dispatchEvent(new Event("input")); })()`, protocol.MaxTextLength+1)),
		chromedp.SendKeys(chromedp.ID("text"), kb.Enter))
	refused := eval[string](alice, `document.getElementById("send-error").textContent`)
	if want := fmt.Sprintf("Not sent: text has %d characters, over the limit of %d (MAX_TEXT_LENGTH).", protocol.MaxTextLength+1, protocol.MaxTextLength); refused != want {
		t.Errorf("over-long message: the page says %q, want %q", refused, want)
	}
	if eval[int](alice, `document.querySelectorAll("li.pending").length`) != 0 || !eval[bool](alice, `document.getElementById("counter").classList.contains("over")`) {
		t.Error("over-long message: it is pending, or the counter does not show it over the limit")
	}
	alice.do("clear the message", chromedp.Evaluate[chromedp.Void](`(() => { const t = document.getElementById("text"); t.value = ""; t.dispatchEvent(new Event("input")); })()`))

	// Bob goes offline; Alice writes meanwhile, and so does Bob.
	cut := goOffline(t, env, bob, bobID)
	bob.waitFor("the reconnecting state", `document.getElementById("status").dataset.state === "reconnecting"`)
	away := []string{"while bob is away 1", "while bob is away 2", "while bob is away 3"}
	for _, text := range away {
		say(alice, text)
	}
	bob.do("write while offline", chromedp.SendKeys(chromedp.ID("text"), "queued by bob"+kb.Enter))
	bob.waitFor("the queued message", `[...document.querySelectorAll("li.pending")].some(li => li.textContent.includes("queued by bob") && li.textContent.includes("sending…"))`)
	time.Sleep(2 * time.Second) // offline long enough for reconnect attempts to fail
	if state := eval[string](bob, `document.getElementById("status").dataset.state`); state != "reconnecting" {
		t.Errorf("bob offline for 2 s: state %q, want reconnecting", state)
	}
	t.Logf("offline: %s; status %q", cut, eval[string](bob, `document.getElementById("status").textContent`))
	bob.screenshot(dir, "bob-reconnecting")
	bob.checkNoRawErrors()

	goOnline(bob)
	bob.waitFor("the connection back", `document.getElementById("status").dataset.state === "connected"`)
	n += len(away) + 1
	for _, tb := range []*tab{alice, bob} {
		tb.waitFor("every message once, in order", logSeqsAre(roomID, first[tb], n))
		tb.waitFor("no message pending", `document.querySelectorAll("li.pending").length === 0`)
		texts := eval[[]string](tb, `[...document.querySelectorAll('ol.log[data-room="`+roomID+`"] li[data-seq] .text')].slice(-4).map(p => p.textContent)`)
		if got := strings.Join(texts, ","); got != strings.Join(append(away, "queued by bob"), ",") && got != "queued by bob,"+strings.Join(away, ",") {
			t.Errorf("%s: the messages of the offline time are %q", tb.name, texts)
		}
	}

	// A server error frame shows next to the message that caused it: Alice's membership is
	// gone (as when the table lost it), so the chat function answers not_member.
	dropMembership(t, env, aliceID, roomID)
	say(alice, "after the membership is gone")
	alice.waitFor("the refusal next to the message", `[...document.querySelectorAll("li.pending.failed")].some(li => li.textContent.includes("after the membership is gone") && li.querySelector(".error").textContent.includes("(not_member)"))`)
	t.Logf("server error shown: %s", eval[string](alice, `document.querySelector("li.pending.failed .error").textContent`))

	shot := alice.screenshot(dir, "alice")
	bob.screenshot(dir, "bob")
	t.Logf("the README's screenshot is docs/chat-page.png; this run's: %s", shot)
	alice.checkNoRawErrors()
	bob.checkNoRawErrors()

	// Bad tokens: a sign-in error, and no reconnect loop.
	mallory := newTab(t, browser, "mallory")
	expired := mint(t, env.Issuer, localauth.Claims{Subject: "mallory", Audience: audience(t), TokenUse: localauth.TokenUseID, TTL: -time.Minute})
	for _, c := range []struct{ token, want string }{
		{"not-a-token", "Sign-in failed: the chat server refused the token, or cannot be reached."},
		{expired, "Sign-in failed: the token expired at "},
	} {
		before := len(env.Gateway.Connections())
		mallory.do("paste a token", chromedp.Navigate(pageURL), chromedp.WaitVisible(chromedp.ID("user")),
			chromedp.Click(chromedp.CSS("details summary")),
			chromedp.SendKeys(chromedp.ID("token"), c.token),
			chromedp.Click(chromedp.ID("signin-button")))
		mallory.waitFor("the sign-in error", `document.getElementById("signin-error").textContent !== ""`)
		time.Sleep(time.Second) // a loop would connect again, and change what the page shows
		got := eval[string](mallory, `document.getElementById("signin-error").textContent`)
		if !strings.HasPrefix(got, c.want) {
			t.Errorf("token %.12s...: the page says %q, want %q", c.token, got, c.want)
		}
		if state := eval[string](mallory, `document.getElementById("status").dataset.state`); state != "signedout" {
			t.Errorf("token %.12s...: state %q, want signedout", c.token, state)
		}
		if after := len(env.Gateway.Connections()); after > before {
			t.Errorf("token %.12s...: %d connections opened", c.token, after-before)
		}
	}
	mallory.screenshot(dir, "signin-error")
	mallory.checkNoRawErrors()
}

// logSeqsAre is a page expression: the room's log shows exactly the seqs from to to, once each
// and in order.
func logSeqsAre(roomID string, from, to int) string {
	return fmt.Sprintf(`(() => { const s = [...document.querySelectorAll('ol.log[data-room="%s"] li[data-seq]')].map(li => +li.dataset.seq);
		return s.length === %d && s.every((v, i) => v === %d + i); })()`, roomID, to-from+1, from)
}

// signInAndJoin signs in as user by keyboard (Enter in the name field) and joins roomID.
func signInAndJoin(tb *tab, pageURL, user, name, roomID string) {
	tb.t.Helper()
	tb.do("open the page", chromedp.Navigate(pageURL), chromedp.WaitVisible(chromedp.ID("user")))
	tb.waitFor("the page's configuration", `document.body.dataset.ready === "true"`)
	tb.do("sign in", chromedp.SendKeys(chromedp.ID("user"), user), chromedp.SendKeys(chromedp.ID("name"), name+kb.Enter))
	tb.waitFor("the connection", `document.getElementById("status").dataset.state === "connected"`)
	tb.waitFor("room general", `!!document.querySelector('ol.log[data-room="general"]')`)
	tb.do("join the room", chromedp.WaitVisible(chromedp.ID("room")), chromedp.Clear(chromedp.ID("room")), chromedp.SendKeys(chromedp.ID("room"), roomID+kb.Enter))
	tb.waitFor("the room selected", `document.getElementById("room-title").textContent === "# `+roomID+`"`)
}

// say types text and sends it with Enter.
func say(tb *tab, text string) {
	tb.t.Helper()
	tb.do("send "+text, chromedp.SendKeys(chromedp.ID("text"), text+kb.Enter))
}

// goOffline takes the tab offline with CDP's network emulation. Chromium's emulation fails new
// requests and handshakes but leaves an open WebSocket open, so the connection is also cut as a
// lost network cuts it, without a close frame (Gateway.Drop): the page sees 1006. It says what
// it did.
func goOffline(t *testing.T, env *local.Env, tb *tab, userID string) string {
	t.Helper()
	tb.do("go offline", chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
			return err
		}
		if _, err := chromedp.Call(ctx, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
			MatchedNetworkConditions: []*network.Conditions{{Offline: true, DownloadThroughput: -1, UploadThroughput: -1}},
		}); err != nil {
			return err
		}
		_, err := chromedp.Call(ctx, network.OverrideNetworkState, network.OverrideNetworkStateParams{Offline: true, DownloadThroughput: -1, UploadThroughput: -1})
		return err
	}))
	if eventually(3*time.Second, func() bool {
		return eval[string](tb, `document.getElementById("status").dataset.state`) == "reconnecting"
	}) {
		return "network emulation closed the open WebSocket"
	}
	ids := connectionsOf(t, env, userID)
	for _, id := range ids {
		if err := env.Gateway.Drop(id); err != nil {
			t.Logf("drop %s: %v", id, err)
		}
	}
	return fmt.Sprintf("network emulation left the open WebSocket open for 3 s; dropped %d connection(s) at the gateway", len(ids))
}

// goOnline ends the tab's network emulation.
func goOnline(tb *tab) {
	tb.t.Helper()
	tb.do("go online", chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		if _, err := chromedp.Call(ctx, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
			MatchedNetworkConditions: []*network.Conditions{},
		}); err != nil {
			return err
		}
		_, err := chromedp.Call(ctx, network.OverrideNetworkState, network.OverrideNetworkStateParams{Offline: false, DownloadThroughput: -1, UploadThroughput: -1})
		return err
	}))
}

// seedRoom posts n messages to roomID with the Go client, as a user of its own.
func seedRoom(t *testing.T, env *local.Env, roomID string, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := chatclient.Dial(ctx, env.URL, chatclient.Options{Token: func(context.Context) (string, error) {
		return env.Token("carol-"+t.Name()+"-"+runID, "Carol")
	}})
	if err != nil {
		t.Fatalf("seed: %v", err)
	}
	defer c.Close()
	go func() {
		for range c.Events() {
		}
	}()
	if err := c.Join(ctx, roomID); err != nil {
		t.Fatalf("seed: %v", err)
	}
	for i := 1; i <= n; i++ {
		if _, err := c.Send(ctx, roomID, fmt.Sprintf("seed message %d", i)); err != nil {
			t.Fatalf("seed message %d: %v", i, err)
		}
	}
}

// dropMembership deletes the membership items of userID's connections in roomID.
func dropMembership(t *testing.T, env *local.Env, userID, roomID string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ids := connectionsOf(t, env, userID)
	if len(ids) == 0 {
		t.Fatalf("%s has no connection", userID)
	}
	for _, id := range ids {
		_, err := env.DynamoDB.DeleteItem(ctx, &dynamodb.DeleteItemInput{
			TableName: aws.String(tableName(t, env)),
			Key: map[string]types.AttributeValue{
				contract.AttrPK: &types.AttributeValueMemberS{Value: contract.PrefixConnection + id},
				contract.AttrSK: &types.AttributeValueMemberS{Value: contract.PrefixRoom + roomID},
			},
		})
		if err != nil {
			t.Fatalf("delete the membership of %s in %s: %v", id, roomID, err)
		}
	}
}
