package publishqueue

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// ReasonAttribute is the message attribute (String) that says why a message was moved to
// the dead-letter queue.
const ReasonAttribute = "ErrorReason"

// maxReasonBytes clips a reason: SQS counts attributes in the message's size.
const maxReasonBytes = 1024

// DeadLetters sends refused messages to the dead-letter queue. It is safe for concurrent use.
type DeadLetters struct {
	client *sqs.Client
	url    string
}

// NewDeadLetters returns the DeadLetters of the queue at url.
func NewDeadLetters(client *sqs.Client, url string) *DeadLetters {
	return &DeadLetters{client: client, url: url}
}

// Send sends body as it was received, with the reason in the ReasonAttribute attribute.
func (d *DeadLetters) Send(ctx context.Context, body, reason string) error {
	if len(reason) > maxReasonBytes {
		reason = reason[:maxReasonBytes] + "…"
	}
	_, err := d.client.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl:    aws.String(d.url),
		MessageBody: aws.String(body),
		MessageAttributes: map[string]types.MessageAttributeValue{
			ReasonAttribute: {DataType: aws.String("String"), StringValue: aws.String(reason)},
		},
	})
	if err != nil {
		return fmt.Errorf("publishqueue: send to the dead-letter queue: %w", err)
	}
	return nil
}
