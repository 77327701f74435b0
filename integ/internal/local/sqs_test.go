package local_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"

	"github.com/chatstack/websocketchatapi/integ/internal/assembly"
	"github.com/chatstack/websocketchatapi/integ/internal/local"
)

// sqsApp is the fixture app with a queue, its DLQ and a consumer (testdata/sqsapp).
const sqsApp = "./integ/internal/local/testdata/sqsapp"

// startSQSApp synthesizes sqsApp with extraEnv and starts it; the error is Start's.
func startSQSApp(t *testing.T, ctx context.Context, extraEnv ...string) (*local.Env, error) {
	t.Helper()
	dir := t.TempDir()
	if err := local.SynthApp(ctx, dir, sqsApp, extraEnv...); err != nil {
		t.Fatal(err)
	}
	var sink *os.File
	if os.Getenv(envLogs) != "" {
		sink = os.Stderr
	}
	opts := local.Options{AssemblyDir: dir}
	if sink != nil {
		opts.LogSink = sink
	}
	e, err := local.Start(ctx, opts)
	if e != nil {
		t.Cleanup(func() {
			if err := e.Close(); err != nil {
				t.Errorf("close: %v", err)
			}
		})
	}
	return e, err
}

// TestSQSEventSourceMapping runs the fixture's queue, DLQ and consumer: a batch is delivered
// and deleted with its attributes; reported item failures and function errors are delivered
// again and land in the DLQ after maxReceiveCount (2); a role without sqs:SendMessage on a
// queue is refused with SQS's AccessDenied.
func TestSQSEventSourceMapping(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	e, err := startSQSApp(t, ctx)
	if err != nil {
		t.Fatal(err)
	}
	workURL, err := e.QueueURL(queueID(t, e, "Work"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(workURL, e.SQSEndpoint+"/") || !strings.Contains(workURL, "/SqsFixture-Work") {
		t.Fatalf("Work's URL %s: want %s/<account>/SqsFixture-Work-<suffix>", workURL, e.SQSEndpoint)
	}
	var consumer *assembly.Function
	for id, fn := range e.Stack.Functions {
		if strings.HasPrefix(id, "Consumer") {
			consumer = fn
		}
	}
	if consumer == nil {
		t.Fatal("no Consumer function")
	}
	consumerLogs := func() []string { return e.Logs(consumer.Name) }
	// The consumer's environment names the local Out queue.
	outURL, _ := e.QueueURL(queueID(t, e, "Out"))
	if got := consumer.Environment["OUT_QUEUE_URL"]; !strings.HasSuffix(outURL, got[strings.LastIndex(got, "/"):]) {
		t.Fatalf("OUT_QUEUE_URL %s does not name Out (%s)", got, outURL)
	}
	// A client with the consumer's role: it may send to Out (granted; enforceSSL's Deny does
	// not trip on the local endpoint) but not to Work.
	creds, err := e.Credentials(consumer.RoleLogicalID, "test")
	if err != nil {
		t.Fatal(err)
	}
	roleClient, err := e.SQSClient(creds)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := roleClient.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(outURL), MessageBody: aws.String(`{"probe":true}`)}); err != nil {
		t.Fatalf("a granted SendMessage was refused: %v", err)
	}
	drain(t, ctx, e, "Out", 1)

	workARN := e.Stack.Queues[queueID(t, e, "Work")].ARN
	_, err = roleClient.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(workURL), MessageBody: aws.String("x")})
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != "AccessDenied" ||
		!strings.Contains(api.ErrorMessage(), "is not authorized to perform: sqs:sendmessage on resource: "+workARN) {
		t.Fatalf("SendMessage without sqs:SendMessage: got %v, want AccessDenied naming sqs:sendmessage on %s", err, workARN)
	}

	// A sender that may send to Work: a session of a role granted sqs:SendMessage? The stack
	// has none, so the test sends with the bypassing client, as another service would.
	send := func(bodies ...string) {
		t.Helper()
		var entries []types.SendMessageBatchRequestEntry
		for i, b := range bodies {
			entries = append(entries, types.SendMessageBatchRequestEntry{
				Id: aws.String(string(rune('a' + i))), MessageBody: aws.String(b),
				MessageAttributes: map[string]types.MessageAttributeValue{"origin": {DataType: aws.String("String"), StringValue: aws.String("test-" + b)}},
			})
		}
		out, err := e.SQS.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(serverURL(t, e, "Work")), Entries: entries})
		if err != nil || len(out.Successful) != len(bodies) {
			t.Fatalf("send %v: %v (%d sent)", bodies, err, len(out.Successful))
		}
	}

	t.Run("batch delivered and deleted", func(t *testing.T) {
		send("ok-1", "ok-2", "ok-3")
		recs := drain(t, ctx, e, "Out", 3)
		seen := map[string]bool{}
		for _, r := range recs {
			seen[r.Body] = true
			if r.EventSource != "aws:sqs" || r.EventSourceARN != workARN || r.AWSRegion != e.Stack.Env.Region {
				t.Errorf("record %s: eventSource %q, eventSourceARN %q, awsRegion %q", r.Body, r.EventSource, r.EventSourceARN, r.AWSRegion)
			}
			if r.Attributes["ApproximateReceiveCount"] != "1" || r.Attributes["SentTimestamp"] == "" || r.Attributes["ApproximateFirstReceiveTimestamp"] == "" || r.Attributes["SenderId"] == "" {
				t.Errorf("record %s: attributes %v", r.Body, r.Attributes)
			}
			if a := r.MessageAttributes["origin"]; aws.ToString(a.StringValue) != "test-"+r.Body || a.DataType != "String" {
				t.Errorf("record %s: message attribute origin %+v", r.Body, a)
			}
			if r.MessageId == "" || r.ReceiptHandle == "" || r.Md5OfBody == "" {
				t.Errorf("record %s: id %q, handle %q, md5 %q", r.Body, r.MessageId, r.ReceiptHandle, r.Md5OfBody)
			}
		}
		if !seen["ok-1"] || !seen["ok-2"] || !seen["ok-3"] {
			t.Errorf("forwarded %v, want ok-1..3", seen)
		}
		waitDepth(t, ctx, e, "Work", 0)
	})

	t.Run("partial failure redelivered then dead-lettered", func(t *testing.T) {
		send("fail-1", "ok-4")
		recs := drain(t, ctx, e, "Out", 1)
		if recs[0].Body != "ok-4" {
			t.Errorf("forwarded %q, want ok-4", recs[0].Body)
		}
		waitDepth(t, ctx, e, "Dlq", 1)
		waitDepth(t, ctx, e, "Work", 0)
		logs := consumerLogs()
		if !containsLine(logs, "delivery fail-1 count=1") || !containsLine(logs, "delivery fail-1 count=2") {
			t.Errorf("fail-1 was not delivered twice: %q", logs)
		}
		if containsLine(logs, "delivery ok-4 count=2") {
			t.Errorf("ok-4 was delivered again although it succeeded")
		}
		if n := len(drainNow(t, ctx, e, "Out")); n != 0 {
			t.Errorf("%d more forwarded messages, want none", n)
		}
		purgeDLQ(t, ctx, e)
	})

	t.Run("function error redelivers", func(t *testing.T) {
		send("crash")
		waitDepth(t, ctx, e, "Dlq", 1)
		logs := consumerLogs()
		if !containsLine(logs, "delivery crash count=1") || !containsLine(logs, "delivery crash count=2") {
			t.Errorf("crash was not delivered twice: %q", logs)
		}
	})
}

// TestSQSMappingWithoutReceiveIsRefused: a mapping whose function's role may not receive from
// the queue fails Start, as CreateEventSourceMapping fails the deploy.
func TestSQSMappingWithoutReceiveIsRefused(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	_, err := startSQSApp(t, ctx, "SQSAPP_VARIANT=noreceive")
	if err == nil {
		t.Fatal("Start accepted a mapping whose role may not receive from the queue")
	}
	for _, want := range []string{"event source mapping Mapping", "InvalidParameterValueException",
		"The provided execution role does not have permissions to call ReceiveMessage on SQS", ":sqs:", "SqsFixture-Work"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
}

// queueID returns the logical id of the fixture's queue whose construct id is id (CDK adds a
// hash to it).
func queueID(t *testing.T, e *local.Env, id string) string {
	t.Helper()
	for lid := range e.Stack.Queues {
		if strings.HasPrefix(lid, id) && len(lid) == len(id)+8 {
			return lid
		}
	}
	t.Fatalf("the stack has no queue %s<hash>", id)
	return ""
}

// serverURL is the queue's URL on the SQS server itself (for the bypassing client).
func serverURL(t *testing.T, e *local.Env, logicalID string) string {
	t.Helper()
	u, err := e.QueueURL(queueID(t, e, logicalID))
	if err != nil {
		t.Fatal(err)
	}
	return u // requests name queues by their last path segment: any host works
}

// drainNow receives and deletes what queue logicalID holds now.
func drainNow(t *testing.T, ctx context.Context, e *local.Env, logicalID string) []events.SQSMessage {
	t.Helper()
	out, err := e.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(serverURL(t, e, logicalID)), MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
	if err != nil {
		t.Fatal(err)
	}
	var recs []events.SQSMessage
	for _, m := range out.Messages {
		var r events.SQSMessage
		_ = json.Unmarshal([]byte(aws.ToString(m.Body)), &r)
		recs = append(recs, r)
		if _, err := e.SQS.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(serverURL(t, e, logicalID)), ReceiptHandle: m.ReceiptHandle}); err != nil {
			t.Fatal(err)
		}
	}
	return recs
}

// drain waits for n messages in queue logicalID and returns them decoded as SQS records.
func drain(t *testing.T, ctx context.Context, e *local.Env, logicalID string, n int) []events.SQSMessage {
	t.Helper()
	var recs []events.SQSMessage
	deadline := time.Now().Add(30 * time.Second)
	for len(recs) < n {
		if time.Now().After(deadline) {
			t.Fatalf("queue %s: %d of %d messages after 30 s; consumer logs: %q", logicalID, len(recs), n, fixtureLogs(e))
		}
		recs = append(recs, drainNow(t, ctx, e, logicalID)...)
	}
	return recs
}

// waitDepth waits until queue logicalID holds exactly n messages.
func waitDepth(t *testing.T, ctx context.Context, e *local.Env, logicalID string, n int) {
	t.Helper()
	var d local.QueueDepth
	deadline := time.Now().Add(30 * time.Second)
	for {
		var err error
		if d, err = e.QueueDepth(ctx, queueID(t, e, logicalID)); err != nil {
			t.Fatal(err)
		}
		if d.Total() == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("queue %s: depth %+v after 30 s, want %d; consumer logs: %q", logicalID, d, n, fixtureLogs(e))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// purgeDLQ empties the DLQ.
func purgeDLQ(t *testing.T, ctx context.Context, e *local.Env) {
	t.Helper()
	for len(drainNow(t, ctx, e, "Dlq")) > 0 {
	}
}

// fixtureLogs returns the output of the fixture's consumer.
func fixtureLogs(e *local.Env) []string {
	for id, fn := range e.Stack.Functions {
		if strings.HasPrefix(id, "Consumer") {
			return e.Logs(fn.Name)
		}
	}
	return nil
}
