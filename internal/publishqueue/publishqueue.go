// Package publishqueue is the SQS side of the publish queue: it sends the shard jobs of a large
// room's broadcast (chat.Queue) and decodes what the publish function receives.
//
// # The queue's messages
//
// A message body is JSON, one of two shapes: a publication (protocol.Publish, validated
// against protocol's publish schema), which anyone with sqs:SendMessage may send, or
// {"shardJob": chat.ShardJob}, which the chat and publish functions send themselves. Decode
// tells them apart by the "shardJob" key.
package publishqueue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/chatstack/websocketchatapi/internal/chat"
)

// SQS's limits on one SendMessageBatch.
const (
	maxBatchEntries = 10
	maxBatchBytes   = 256 * 1024
)

// sendAttempts bounds how many times Enqueue sends the entries a batch failed.
const sendAttempts = 4

// Queue sends shard jobs to the publish queue. It is safe for concurrent use.
type Queue struct {
	client *sqs.Client
	url    string
}

var _ chat.Queue = (*Queue)(nil)

// New returns the Queue of the queue at url.
func New(client *sqs.Client, url string) *Queue { return &Queue{client: client, url: url} }

// Envelope is a queue message body that carries a shard job.
type Envelope struct {
	ShardJob *chat.ShardJob `json:"shardJob,omitempty"`
}

// Enqueue sends the jobs in SendMessageBatch calls of at most 10 entries and 256 KB, and
// sends again the entries SQS failed (with backoff), up to four times.
func (q *Queue) Enqueue(ctx context.Context, jobs []chat.ShardJob) error {
	var batch []types.SendMessageBatchRequestEntry
	size := 0
	for i, job := range jobs {
		body, err := json.Marshal(Envelope{ShardJob: &job})
		if err != nil {
			return fmt.Errorf("publishqueue: encode shard job: %w", err)
		}
		if len(body) > maxBatchBytes {
			return fmt.Errorf("publishqueue: shard job of %d bytes, over SQS's %d", len(body), maxBatchBytes)
		}
		if len(batch) == maxBatchEntries || size+len(body) > maxBatchBytes {
			if err := q.send(ctx, batch); err != nil {
				return err
			}
			batch, size = nil, 0
		}
		batch = append(batch, types.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), MessageBody: aws.String(string(body))})
		size += len(body)
	}
	if len(batch) == 0 {
		return nil
	}
	return q.send(ctx, batch)
}

// send sends one batch, and its failed entries again.
func (q *Queue) send(ctx context.Context, batch []types.SendMessageBatchRequestEntry) error {
	delay := 50 * time.Millisecond
	for attempt := 1; ; attempt++ {
		out, err := q.client.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(q.url), Entries: batch})
		if err != nil {
			return fmt.Errorf("publishqueue: send %d shard jobs: %w", len(batch), err)
		}
		if len(out.Failed) == 0 {
			return nil
		}
		failed := map[string]bool{}
		for _, f := range out.Failed {
			failed[aws.ToString(f.Id)] = true
			if f.SenderFault {
				return fmt.Errorf("publishqueue: shard job refused: %s: %s", aws.ToString(f.Code), aws.ToString(f.Message))
			}
		}
		if attempt == sendAttempts {
			return fmt.Errorf("publishqueue: %d shard jobs still failed after %d attempts: %s", len(out.Failed), attempt, aws.ToString(out.Failed[0].Message))
		}
		var again []types.SendMessageBatchRequestEntry
		for _, e := range batch {
			if failed[aws.ToString(e.Id)] {
				again = append(again, e)
			}
		}
		batch = again
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		delay *= 2
	}
}

// Decode reads a queue message body: a shard job, or else a publication for
// chat.Service.CheckPublication to validate (returned as it is).
func Decode(body string) (*chat.ShardJob, []byte, error) {
	b := []byte(body)
	if !json.Valid(b) {
		return nil, nil, errors.New("the message body is not JSON")
	}
	var env Envelope
	if err := json.Unmarshal(b, &env); err == nil && env.ShardJob != nil {
		return env.ShardJob, nil, nil
	}
	return nil, b, nil
}
