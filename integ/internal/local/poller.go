package local

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/chatstack/websocketchatapi/integ/internal/assembly"
	"github.com/chatstack/websocketchatapi/integ/internal/lambdaemu"
)

// maxSQSEventPayload bounds a batch's event: Lambda's 6 MB synchronous invocation payload.
const maxSQSEventPayload = 6 * 1024 * 1024

// poller runs one SQS event source mapping as Lambda does: workers (ScalingConfig's
// MaximumConcurrency, else five) each long-poll the queue for a batch (BatchSize, gathered
// for up to MaximumBatchingWindowInSeconds when it exceeds 10), invoke the function
// synchronously with the SQS event, and delete what succeeded: the whole batch, or with
// ReportBatchItemFailures all but the reported failures. A function error, or a response
// that reports an unknown or empty itemIdentifier or is not JSON, deletes nothing: the
// messages return after the visibility timeout, and past maxReceiveCount SQS moves them to the
// dead-letter queue.
type poller struct {
	m        *assembly.EventSourceMapping
	client   *sqs.Client
	queueURL string
	region   string
	invoke   func(ctx context.Context, payload []byte) (lambdaemu.Result, error)
	logger   *slog.Logger
}

// run polls until ctx ends; wg tracks its workers.
func (p *poller) run(ctx context.Context, wg *sync.WaitGroup) {
	n := p.m.MaximumConcurrency
	if n == 0 {
		n = defaultSQSConcurrency
	}
	for range n {
		wg.Go(func() {
			for ctx.Err() == nil {
				p.once(ctx)
			}
		})
	}
}

// batchSize is the mapping's BatchSize or Lambda's default.
func (p *poller) batchSize() int {
	if p.m.BatchSize > 0 {
		return p.m.BatchSize
	}
	return defaultSQSBatchSize
}

// once gathers one batch, invokes the function with it and settles it.
func (p *poller) once(ctx context.Context) {
	batch := p.gather(ctx)
	if len(batch) == 0 {
		return
	}
	payload, err := p.event(batch)
	if err != nil {
		p.logger.Error("sqs poller: encode event", "mapping", p.m.LogicalID, "err", err)
		return
	}
	res, err := p.invoke(ctx, payload)
	if err != nil {
		if ctx.Err() == nil {
			p.logger.Warn("sqs poller: invoke", "mapping", p.m.LogicalID, "err", err)
		}
		return // nothing deleted: the messages come back after the visibility timeout
	}
	if res.Err != nil {
		p.logger.Info("sqs poller: function error, batch not deleted", "mapping", p.m.LogicalID, "error", res.Err.Error())
		return
	}
	keep, err := p.failures(batch, res.Payload)
	if err != nil {
		p.logger.Warn("sqs poller: batch failed", "mapping", p.m.LogicalID, "err", err)
		return
	}
	p.delete(ctx, batch, keep)
}

// gather receives up to batchSize messages: one long poll, then, with a batching window, more
// receives until the batch is full, the window has passed or the event would be too large.
func (p *poller) gather(ctx context.Context) []types.Message {
	size := p.batchSize()
	var batch []types.Message
	var bytes int
	var deadline time.Time
	for len(batch) < size {
		wait := int32(20)
		if len(batch) > 0 {
			left := time.Until(deadline)
			if left <= 0 {
				break
			}
			wait = int32(min(20, max(1, int(left.Seconds()))))
		}
		out, err := p.client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl:                    aws.String(p.queueURL),
			MaxNumberOfMessages:         int32(min(10, size-len(batch))),
			WaitTimeSeconds:             wait,
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
			MessageAttributeNames:       []string{"All"},
		})
		if err != nil {
			if ctx.Err() == nil {
				p.logger.Warn("sqs poller: receive", "mapping", p.m.LogicalID, "err", err)
				select {
				case <-ctx.Done():
				case <-time.After(time.Second):
				}
			}
			return batch
		}
		if len(batch) == 0 {
			deadline = time.Now().Add(time.Duration(p.m.MaximumBatchingWindowInSeconds) * time.Second)
		}
		for _, m := range out.Messages {
			bytes += len(aws.ToString(m.Body)) + 1024
			batch = append(batch, m)
		}
		if p.m.MaximumBatchingWindowInSeconds == 0 || bytes >= maxSQSEventPayload {
			break
		}
	}
	return batch
}

// sqsRecord is one record of the event Lambda sends for SQS (aws-lambda-go's events.SQSMessage).
type sqsRecord struct {
	MessageID              string                      `json:"messageId"`
	ReceiptHandle          string                      `json:"receiptHandle"`
	Body                   string                      `json:"body"`
	Attributes             map[string]string           `json:"attributes"`
	MessageAttributes      map[string]sqsAttributeJSON `json:"messageAttributes"`
	MD5OfMessageAttributes *string                     `json:"md5OfMessageAttributes,omitempty"`
	MD5OfBody              string                      `json:"md5OfBody"`
	EventSource            string                      `json:"eventSource"`
	EventSourceARN         string                      `json:"eventSourceARN"`
	AWSRegion              string                      `json:"awsRegion"`
}

// sqsAttributeJSON is a message attribute as the event carries it.
type sqsAttributeJSON struct {
	StringValue      *string  `json:"stringValue,omitempty"`
	BinaryValue      *string  `json:"binaryValue,omitempty"`
	StringListValues []string `json:"stringListValues"`
	BinaryListValues []string `json:"binaryListValues"`
	DataType         string   `json:"dataType"`
}

// event encodes the batch as Lambda's SQS event.
func (p *poller) event(batch []types.Message) ([]byte, error) {
	records := make([]sqsRecord, 0, len(batch))
	for _, m := range batch {
		r := sqsRecord{
			MessageID:              aws.ToString(m.MessageId),
			ReceiptHandle:          aws.ToString(m.ReceiptHandle),
			Body:                   aws.ToString(m.Body),
			Attributes:             m.Attributes,
			MessageAttributes:      map[string]sqsAttributeJSON{},
			MD5OfMessageAttributes: m.MD5OfMessageAttributes,
			MD5OfBody:              aws.ToString(m.MD5OfBody),
			EventSource:            "aws:sqs",
			EventSourceARN:         p.m.EventSourceARN,
			AWSRegion:              p.region,
		}
		if r.Attributes == nil {
			r.Attributes = map[string]string{}
		}
		for k, a := range m.MessageAttributes {
			j := sqsAttributeJSON{StringValue: a.StringValue, DataType: aws.ToString(a.DataType), StringListValues: []string{}, BinaryListValues: []string{}}
			if a.BinaryValue != nil {
				b := base64.StdEncoding.EncodeToString(a.BinaryValue)
				j.BinaryValue = &b
			}
			r.MessageAttributes[k] = j
		}
		records = append(records, r)
	}
	return json.Marshal(map[string]any{"Records": records})
}

// failures returns the message ids to keep (not delete) after a successful invocation: none
// without ReportBatchItemFailures; else the reported ones. A response that is not JSON, or
// reports an empty or unknown itemIdentifier, fails the whole batch (an error), as Lambda does.
func (p *poller) failures(batch []types.Message, payload []byte) (map[string]bool, error) {
	keep := map[string]bool{}
	if !p.m.ReportsBatchItemFailures() {
		return keep, nil
	}
	var resp struct {
		BatchItemFailures []struct {
			ItemIdentifier *string `json:"itemIdentifier"`
		} `json:"batchItemFailures"`
	}
	if len(payload) == 0 {
		return keep, nil
	}
	if err := json.Unmarshal(payload, &resp); err != nil {
		return nil, fmt.Errorf("the function's response is not a batch item failure response (%v): the whole batch failed", err)
	}
	ids := map[string]bool{}
	for _, m := range batch {
		ids[aws.ToString(m.MessageId)] = true
	}
	for i, f := range resp.BatchItemFailures {
		id := ""
		if f.ItemIdentifier != nil {
			id = *f.ItemIdentifier
		}
		if id == "" || !ids[id] {
			return nil, fmt.Errorf("batchItemFailures[%d].itemIdentifier %q is empty or not a message of the batch: the whole batch failed", i, id)
		}
		keep[id] = true
	}
	return keep, nil
}

// delete deletes the batch's messages but keep, ten per request.
func (p *poller) delete(ctx context.Context, batch []types.Message, keep map[string]bool) {
	var entries []types.DeleteMessageBatchRequestEntry
	for i, m := range batch {
		if keep[aws.ToString(m.MessageId)] {
			continue
		}
		entries = append(entries, types.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: m.ReceiptHandle})
	}
	for len(entries) > 0 {
		n := min(10, len(entries))
		out, err := p.client.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(p.queueURL), Entries: entries[:n]})
		if err != nil {
			p.logger.Warn("sqs poller: delete", "mapping", p.m.LogicalID, "err", err)
		} else if len(out.Failed) > 0 {
			p.logger.Warn("sqs poller: delete", "mapping", p.m.LogicalID, "failed", len(out.Failed))
		}
		entries = entries[n:]
	}
}
