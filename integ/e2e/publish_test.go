package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/chatstack/websocketchatapi/integ/internal/local"
	"github.com/chatstack/websocketchatapi/internal/publishqueue"
	"github.com/chatstack/websocketchatapi/protocol"
	"github.com/chatstack/websocketchatapi/publish"
)

// publishApp is the variant whose rooms of more than 4 members are large, with BackendRole
// granted GrantPublish.
const publishApp = "./integ/e2e/testdata/publishapp"

// TestPublishDirectMembersAndLargeRooms (issue 11) runs on the publish variant:
//   - a Go backend with BackendRole's session publishes to a room with package publish, and a
//     plain SQS SendMessage puts a publication on the publish queue: every member gets each
//     exactly once;
//   - a direct message reaches both connections of its recipient; members lists users;
//   - a malformed queue message lands in the dead-letter queue with its reason;
//   - a room of 6 (over the threshold of 4) acknowledges a message as queued, and every other
//     member gets it exactly once, through the shard jobs.
func TestPublishDirectMembersAndLargeRooms(t *testing.T) {
	tg.local(t, "synthesizes and runs the publish variant of the stack")
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	env := startVariant(ctx, t, publishApp, newLogSink())
	vt := newTarget("local (publish variant)", env.URL, env)

	alice, bob, carol := vt.user(t, 0), vt.user(t, 1), vt.user(t, 2)
	a1 := vt.connect(t, "alice-1", alice, dialOptions{})
	a2 := vt.connect(t, "alice-2", alice, dialOptions{})
	b := vt.connect(t, "bob", bob, dialOptions{})
	c := vt.connect(t, "carol", carol, dialOptions{})
	r := room("publish")
	members := []*client{a1, a2, b, c}
	for _, m := range members {
		m.join(r)
	}

	// A Go backend publishes with the package, as BackendRole.
	p := backendPublisher(ctx, t, env)
	res, err := p.ToRoom(ctx, r, publish.Message(publish.Sender{UserID: "system:ci", DisplayName: "CI"}, "build green"))
	if err != nil {
		t.Fatalf("publish to %s: %v", r, err)
	}
	if res.Seq != 1 || res.Recipients != 4 || res.Delivered != 4 {
		t.Errorf("publish result %+v, want seq 1 delivered to the 4 connections", res)
	}
	// A plain SQS call puts a publication on the queue.
	body := `{"roomId":"` + r + `","event":{"type":"stock.updated","data":{"sku":"a1","qty":3}}}`
	pubQueue := queueURL(t, env, "ChatPublishQueue")
	if _, err := env.SQS.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(pubQueue), MessageBody: aws.String(body)}); err != nil {
		t.Fatal(err)
	}
	for _, m := range members {
		msg := m.expect(protocol.FrameMessage)
		if msg.Text != "build green" || !msg.System || msg.UserID != "system:ci" || msg.Seq != 1 {
			t.Errorf("%s: got %s, want the backend's message", m.name, msg.raw)
		}
		ev := m.expect(protocol.FrameEvent)
		if ev.EventType != "stock.updated" || string(ev.Data) != `{"sku":"a1","qty":3}` || ev.RoomID != r {
			t.Errorf("%s: got %s, want the queued event", m.name, ev.raw)
		}
	}
	for _, m := range members {
		m.quiet(quietWindow) // each exactly once
	}

	// Direct: both of alice's connections get bob's message; the ack names the conversation.
	b.send(map[string]any{"action": protocol.ActionDirect, "toUserId": alice.subject, "text": "psst"})
	ack := b.expect(protocol.FrameAck)
	if ack.RoomID != protocol.ConversationID(alice.subject, bob.subject) || intValue(ack.Delivered) != 2 {
		t.Errorf("direct ack %s, want the conversation and 2 delivered", ack.raw)
	}
	for _, m := range []*client{a1, a2} {
		if d := m.expect(protocol.FrameMessage); d.Text != "psst" || d.ToUserID != alice.subject || d.RoomID != ack.RoomID {
			t.Errorf("%s: got %s, want bob's direct message", m.name, d.raw)
		}
	}
	c.quiet(quietWindow)

	// Members: users, not connections.
	c.send(map[string]any{"action": protocol.ActionMembers, "roomId": r})
	list := c.expect(protocol.FrameMembers)
	got := map[string]int{}
	for _, m := range list.Members {
		got[m.UserID] = m.Connections
	}
	if len(got) != 3 || got[alice.subject] != 2 || got[bob.subject] != 1 || got[carol.subject] != 1 {
		t.Errorf("members %s, want alice (2 connections), bob and carol", list.raw)
	}

	// A malformed publication goes to the dead-letter queue with its reason.
	bad := `{"roomId":"` + r + `","event":{"type":"9 not a type"}}`
	if _, err := env.SQS.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(pubQueue), MessageBody: aws.String(bad)}); err != nil {
		t.Fatal(err)
	}
	dlq := queueURL(t, env, "ChatPublishDeadLetterQueue")
	reason := awaitDeadLetter(ctx, t, env.SQS, dlq, bad)
	if !strings.Contains(reason, "event.type") {
		t.Errorf("dead letter reason %q does not name event.type", reason)
	}

	// A large room: 6 members, over the threshold of 4.
	big := room("large")
	var crowd []*client
	for i := range 6 {
		m := vt.connect(t, "crowd-"+string(rune('a'+i)), vt.user(t, 10+i), dialOptions{})
		m.join(big)
		crowd = append(crowd, m)
	}
	for _, m := range crowd {
		drainPresence(m)
	}
	sent := crowd[0].say(big, "to the crowd", "crowd-1")
	if !sent.Queued || intValue(sent.Delivered) != 0 {
		t.Errorf("ack %s, want queued", sent.raw)
	}
	for _, m := range crowd[1:] {
		if msg := m.expect(protocol.FrameMessage); msg.Text != "to the crowd" || msg.Seq != sent.Seq {
			t.Errorf("%s: got %s", m.name, msg.raw)
		}
	}
	for _, m := range crowd {
		m.quiet(quietWindow)
	}
}

// backendPublisher returns a publish.Publisher signed with a session of BackendRole.
func backendPublisher(ctx context.Context, t *testing.T, env *local.Env) *publish.Publisher {
	t.Helper()
	var roleID string
	for id := range env.Stack.Roles {
		if strings.HasPrefix(id, "BackendRole") {
			roleID = id
		}
	}
	creds, err := env.Credentials(roleID, "backend")
	if err != nil {
		t.Fatal(err)
	}
	var table string
	for _, tb := range env.Stack.Tables {
		table = tb.Name
	}
	cfg := aws.Config{
		Region:      env.Stack.Env.Region,
		Credentials: credentials.NewStaticCredentialsProvider(creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken),
	}
	p, err := publish.New(cfg, publish.Config{
		TableName:          table,
		CallbackURL:        env.CallbackURL,
		QueueURL:           queueURL(t, env, "ChatPublishQueue"),
		LargeRoomThreshold: 4,
		DynamoDBEndpoint:   env.DynamoDBProxyURL,
		SQSEndpoint:        env.SQSEndpoint,
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// queueURL returns the local URL of the queue whose logical id starts with prefix.
func queueURL(t *testing.T, env *local.Env, prefix string) string {
	t.Helper()
	for id := range env.Stack.Queues {
		if strings.HasPrefix(id, prefix) && !strings.HasPrefix(id, prefix+"Policy") {
			u, err := env.QueueURL(id)
			if err != nil {
				t.Fatal(err)
			}
			return u
		}
	}
	t.Fatalf("no queue %s* in the stack", prefix)
	return ""
}

// awaitDeadLetter receives from the dead-letter queue until body arrives, and returns its
// reason attribute.
func awaitDeadLetter(ctx context.Context, t *testing.T, client *sqs.Client, url, body string) string {
	t.Helper()
	deadline := time.Now().Add(frameTimeout)
	for time.Now().Before(deadline) {
		out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(url), WaitTimeSeconds: 2, MaxNumberOfMessages: 10,
			MessageAttributeNames: []string{"All"},
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range out.Messages {
			if aws.ToString(m.Body) == body {
				return aws.ToString(m.MessageAttributes[publishqueue.ReasonAttribute].StringValue)
			}
		}
	}
	t.Fatalf("the malformed message did not reach the dead-letter queue within %v", frameTimeout)
	return ""
}

// drainPresence reads the presence frames queued on m.
func drainPresence(m *client) {
	for {
		f, err := m.next(300 * time.Millisecond)
		if err != nil || f.Type != protocol.FramePresence {
			if err == nil {
				m.t.Fatalf("%s: got %s, want presence frames only", m.name, f.raw)
			}
			return
		}
	}
}
