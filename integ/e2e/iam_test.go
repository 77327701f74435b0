package e2e

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	chatclient "github.com/chatstack/websocketchatapi/client"
	"github.com/chatstack/websocketchatapi/integ/internal/local"
)

// iamApp is the variant of the reference app whose $connect uses IAM authorization.
const iamApp = "./integ/e2e/testdata/iamapp"

// TestIAMClients (IAM-authorized clients): on the IAM variant (testdata/iamapp), package
// client signs its handshake with a session of DeviceRole, which GrantConnect allowed: it
// connects (Authorization header, and a presigned URL for a second device), and a message it
// sends reaches the other device with the session's ARN as user id and the session name as
// display name. A session of UngrantedRole is refused with 403 and the emulator records the
// denial of execute-api:Invoke on $connect in AWS's words.
func TestIAMClients(t *testing.T) {
	tg.local(t, "synthesizes and runs the IAM variant of the stack")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	env := startVariant(ctx, t, iamApp, newLogSink())
	dial := func(role, session string, inQuery bool) (*chatclient.Client, local.Credentials, error) {
		creds, err := env.Credentials(role, session)
		if err != nil {
			t.Fatal(err)
		}
		dctx, cancel := context.WithTimeout(ctx, dialTimeout)
		defer cancel()
		c, err := chatclient.Dial(dctx, env.URL, chatclient.Options{
			AWSCredentials: func(context.Context) (chatclient.AWSCredentials, error) {
				return chatclient.AWSCredentials{AccessKeyID: creds.AccessKeyID, SecretAccessKey: creds.SecretAccessKey, SessionToken: creds.SessionToken}, nil
			},
			AWSRegion:           env.Stack.Env.Region,
			AWSSignatureInQuery: inQuery,
		})
		if c != nil {
			t.Cleanup(func() { _ = c.Close() })
		}
		return c, creds, err
	}

	sender, senderCreds, err := dial("DeviceRole", "thing-1", false)
	if err != nil {
		t.Fatalf("granted role, signed header: %v", err)
	}
	receiver, _, err := dial("DeviceRole", "thing-2", true)
	if err != nil {
		t.Fatalf("granted role, presigned URL: %v", err)
	}
	roomID := room("iam")
	for _, c := range []*chatclient.Client{receiver, sender} {
		if err := c.Join(ctx, roomID); err != nil {
			t.Fatalf("join: %v", err)
		}
	}
	if _, err := sender.Send(ctx, roomID, "hello from a device"); err != nil {
		t.Fatalf("send: %v", err)
	}
	msg := awaitMessage(t, receiver, "hello from a device")
	if msg.UserID != senderCreds.Principal || msg.DisplayName != "thing-1" {
		t.Errorf("message from %q (%q), want %q (thing-1)", msg.UserID, msg.DisplayName, senderCreds.Principal)
	}

	_, ungranted, err := dial("UngrantedRole", "thing-3", false)
	var ae *chatclient.AuthError
	if !errors.As(err, &ae) || ae.StatusCode != http.StatusForbidden {
		t.Fatalf("ungranted role: %v, want a 403 AuthError", err)
	}
	found := false
	for _, d := range env.Denials() {
		if d.Principal == ungranted.Principal && d.Action == "execute-api:Invoke" && strings.HasSuffix(d.Resource, "/"+env.Stage+"/$connect") {
			found = true
			t.Logf("denied: %s", d.Reason)
		}
	}
	if !found {
		t.Errorf("no execute-api:Invoke denial of %s among %v", ungranted.Principal, env.Denials())
	}
}

// awaitMessage waits for the message of text among c's events.
func awaitMessage(t *testing.T, c *chatclient.Client, text string) *chatclient.MessageEvent {
	t.Helper()
	deadline := time.After(frameTimeout)
	for {
		select {
		case ev := <-c.Events():
			if m, ok := ev.(*chatclient.MessageEvent); ok && m.Text == text {
				return m
			}
		case <-deadline:
			t.Fatalf("no message %q within %v", text, frameTimeout)
			return nil
		}
	}
}
