package sqslocal

import (
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
)

var server *Server

func TestMain(m *testing.M) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	s, err := Start(ctx, Options{Region: "eu-west-1", AccountID: "123456789012"})
	cancel()
	if err != nil {
		println(err.Error())
		os.Exit(1)
	}
	server = s
	code := m.Run()
	if err := s.Close(); err != nil {
		println(err.Error())
		code = 1
	}
	os.Exit(code)
}

func client(t *testing.T) *sqs.Client {
	t.Helper()
	c, err := NewClient(server.Endpoint(), "eu-west-1", aws.Credentials{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// createQueue creates a queue with attrs and returns its URL.
func createQueue(t *testing.T, c *sqs.Client, name string, attrs map[string]string) string {
	t.Helper()
	out, err := c.CreateQueue(context.Background(), &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
	if err != nil {
		t.Fatalf("create queue %s: %v", name, err)
	}
	if want := server.QueueURL(name); aws.ToString(out.QueueUrl) != want {
		t.Fatalf("queue URL %s, want %s", aws.ToString(out.QueueUrl), want)
	}
	return aws.ToString(out.QueueUrl)
}

func attrs(t *testing.T, c *sqs.Client, url string) map[string]string {
	t.Helper()
	out, err := c.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(url), AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameAll}})
	if err != nil {
		t.Fatal(err)
	}
	return out.Attributes
}

func receive(t *testing.T, c *sqs.Client, url string, wait int32) []types.Message {
	t.Helper()
	out, err := c.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
		QueueUrl: aws.String(url), MaxNumberOfMessages: 10, WaitTimeSeconds: wait,
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
		MessageAttributeNames:       []string{"All"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return out.Messages
}

// TestRedriveAfterMaxReceiveCount: a message received and not deleted comes back after the
// visibility timeout with its receive count raised, and after maxReceiveCount receives lands
// in the dead-letter queue, as SQS does.
func TestRedriveAfterMaxReceiveCount(t *testing.T) {
	c := client(t)
	dlq := createQueue(t, c, "redrive-dlq", nil)
	src := createQueue(t, c, "redrive-src", map[string]string{
		"VisibilityTimeout": "1",
		"RedrivePolicy":     `{"deadLetterTargetArn":"` + server.QueueARN("redrive-dlq") + `","maxReceiveCount":"2"}`,
	})
	if got := attrs(t, c, src)["QueueArn"]; got != "arn:aws:sqs:eu-west-1:123456789012:redrive-src" {
		t.Fatalf("QueueArn %q", got)
	}
	before := time.Now().UnixMilli()
	sent, err := c.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String(src), MessageBody: aws.String("hello"),
		MessageAttributes: map[string]types.MessageAttributeValue{"kind": {DataType: aws.String("String"), StringValue: aws.String("greeting")}}})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	var firstReceive string
	for i := 1; i <= 2; i++ {
		msgs := receive(t, c, src, 5)
		if len(msgs) != 1 || aws.ToString(msgs[0].MessageId) != aws.ToString(sent.MessageId) {
			t.Fatalf("receive %d: got %d messages, want the one sent", i, len(msgs))
		}
		m := msgs[0]
		if got := m.Attributes["ApproximateReceiveCount"]; got != strconv.Itoa(i) {
			t.Errorf("receive %d: ApproximateReceiveCount %q", i, got)
		}
		sentTS, _ := strconv.ParseInt(m.Attributes["SentTimestamp"], 10, 64)
		if sentTS < before || sentTS > before+40 {
			t.Errorf("receive %d: SentTimestamp %d, want the send time (~%d)", i, sentTS, before)
		}
		if i == 1 {
			firstReceive = m.Attributes["ApproximateFirstReceiveTimestamp"]
		} else if got := m.Attributes["ApproximateFirstReceiveTimestamp"]; got != firstReceive {
			t.Errorf("ApproximateFirstReceiveTimestamp changed from %s to %s", firstReceive, got)
		}
		if m.Attributes["SenderId"] != "123456789012" {
			t.Errorf("SenderId %q", m.Attributes["SenderId"])
		}
		if v := m.MessageAttributes["kind"]; aws.ToString(v.StringValue) != "greeting" {
			t.Errorf("message attribute kind = %+v", v)
		}
		if a := attrs(t, c, src); a["ApproximateNumberOfMessages"] != "0" || a["ApproximateNumberOfMessagesNotVisible"] != "1" {
			t.Errorf("receive %d: in flight, counts %s visible, %s not visible", i, a["ApproximateNumberOfMessages"], a["ApproximateNumberOfMessagesNotVisible"])
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for attrs(t, c, dlq)["ApproximateNumberOfMessages"] != "1" {
		if time.Now().After(deadline) {
			t.Fatalf("the message did not reach the DLQ: source %v, DLQ %v", attrs(t, c, src), attrs(t, c, dlq))
		}
		time.Sleep(100 * time.Millisecond)
	}
	if msgs := receive(t, c, src, 0); len(msgs) != 0 {
		t.Fatalf("the source queue still delivers %d messages", len(msgs))
	}
	if msgs := receive(t, c, dlq, 1); len(msgs) != 1 || aws.ToString(msgs[0].Body) != "hello" {
		t.Fatalf("DLQ: %+v", msgs)
	}
}

// TestAttributesOnlyWhenAsked: without AttributeNames and MessageAttributeNames SQS returns
// neither.
func TestAttributesOnlyWhenAsked(t *testing.T) {
	c := client(t)
	q := createQueue(t, c, "plain", nil)
	if _, err := c.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String(q), MessageBody: aws.String("x"),
		MessageAttributes: map[string]types.MessageAttributeValue{"a": {DataType: aws.String("Number"), StringValue: aws.String("1")}}}); err != nil {
		t.Fatal(err)
	}
	out, err := c.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(q), WaitTimeSeconds: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Messages) != 1 {
		t.Fatalf("%d messages", len(out.Messages))
	}
	if m := out.Messages[0]; len(m.Attributes) != 0 || len(m.MessageAttributes) != 0 || aws.ToString(m.MD5OfBody) != "9dd4e461268c8034f5c8564e155c67a6" {
		t.Fatalf("attributes %v, message attributes %v, MD5 %s", m.Attributes, m.MessageAttributes, aws.ToString(m.MD5OfBody))
	}
}

// TestBatches: SendMessageBatch answers with Successful entries (goaws's own answer names
// them otherwise) and DeleteMessageBatch deletes; a stale receipt handle deletes nothing but
// succeeds.
func TestBatches(t *testing.T) {
	c := client(t)
	q := createQueue(t, c, "batch", map[string]string{"VisibilityTimeout": "1"})
	var entries []types.SendMessageBatchRequestEntry
	for i := range 3 {
		entries = append(entries, types.SendMessageBatchRequestEntry{Id: aws.String("e" + strconv.Itoa(i)), MessageBody: aws.String("m" + strconv.Itoa(i))})
	}
	out, err := c.SendMessageBatch(context.Background(), &sqs.SendMessageBatchInput{QueueUrl: aws.String(q), Entries: entries})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Successful) != 3 || len(out.Failed) != 0 {
		t.Fatalf("SendMessageBatch: %d successful, %d failed", len(out.Successful), len(out.Failed))
	}
	msgs := receive(t, c, q, 2)
	if len(msgs) != 3 {
		t.Fatalf("received %d", len(msgs))
	}
	stale := aws.ToString(msgs[0].ReceiptHandle)
	time.Sleep(1300 * time.Millisecond) // visibility expires: receive again, new handles
	again := receive(t, c, q, 2)
	if len(again) != 3 {
		t.Fatalf("received again %d", len(again))
	}
	if _, err := c.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: aws.String(q), ReceiptHandle: aws.String(stale)}); err != nil {
		t.Fatalf("delete with a stale handle: %v", err)
	}
	var del []types.DeleteMessageBatchRequestEntry
	for i, m := range again {
		del = append(del, types.DeleteMessageBatchRequestEntry{Id: aws.String("d" + strconv.Itoa(i)), ReceiptHandle: m.ReceiptHandle})
	}
	dout, err := c.DeleteMessageBatch(context.Background(), &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(q), Entries: del})
	if err != nil {
		t.Fatal(err)
	}
	if len(dout.Successful) != 3 || len(dout.Failed) != 0 {
		t.Fatalf("DeleteMessageBatch: %d successful, %d failed", len(dout.Successful), len(dout.Failed))
	}
	if a := attrs(t, c, q); a["ApproximateNumberOfMessages"] != "0" || a["ApproximateNumberOfMessagesNotVisible"] != "0" {
		t.Fatalf("after delete: %v", a)
	}
}

// TestErrors: SQS's error codes and wording reach the SDK.
func TestErrors(t *testing.T) {
	c := client(t)
	q := createQueue(t, c, "small", map[string]string{"MaximumMessageSize": "1024"})
	_, err := c.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String(q), MessageBody: aws.String(strings.Repeat("x", 1000)),
		MessageAttributes: map[string]types.MessageAttributeValue{"pad": {DataType: aws.String("String"), StringValue: aws.String(strings.Repeat("y", 30))}}})
	assertAPIError(t, err, "InvalidParameterValue", "One or more parameters are invalid. Reason: Message must be shorter than 1024 bytes.")
	big := createQueue(t, c, "default-size", nil)
	_, err = c.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String(big), MessageBody: aws.String(strings.Repeat("x", 262145))})
	assertAPIError(t, err, "InvalidParameterValue", "One or more parameters are invalid. Reason: Message must be shorter than 262144 bytes.")
	_, err = c.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String(server.QueueURL("nope")), MessageBody: aws.String("x")})
	assertAPIError(t, err, "AWS.SimpleQueueService.NonExistentQueue", "The specified queue does not exist.")
	var qdne *types.QueueDoesNotExist
	if !errors.As(err, &qdne) {
		t.Errorf("want a *types.QueueDoesNotExist, got %T", err)
	}
}

func assertAPIError(t *testing.T, err error, code, msg string) {
	t.Helper()
	var api smithy.APIError
	if !errors.As(err, &api) {
		t.Fatalf("want an API error %s, got %v", code, err)
	}
	if api.ErrorCode() != code || api.ErrorMessage() != msg {
		t.Errorf("got %s: %q, want %s: %q", api.ErrorCode(), api.ErrorMessage(), code, msg)
	}
}
