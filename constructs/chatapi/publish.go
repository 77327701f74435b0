package chatapi

import (
	"math"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdaeventsources"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"
)

// publishSettings are the publishing, direct message and large-room props, checked.
type publishSettings struct {
	largeRoomThreshold float64
	directMessages     DirectMessagePolicy
	batchSize          float64
	maxReceiveCount    float64
	maxConcurrency     float64 // 0: unset
}

// resolve reads LargeRoomThreshold, DirectMessages, PublishBatchSize, PublishMaxReceiveCount
// and PublishMaxConcurrency.
func (s *publishSettings) resolve(v validator, p *WebSocketChatApiProps) {
	whole := func(prop string, n *float64, min, max float64, why string) float64 {
		if *n < min || *n > max || *n != math.Trunc(*n) {
			v.fail(prop, "must be a whole number from %g to %g%s, got %g", min, max, why, *n)
		}
		return *n
	}
	if p.LargeRoomThreshold != nil {
		s.largeRoomThreshold = whole("LargeRoomThreshold", p.LargeRoomThreshold, 0, MaxLargeRoomThreshold,
			" (members; 0 never queues; above the maximum the sender's invocation would read too many members before queueing)")
	}
	switch p.DirectMessages {
	case "":
	case DirectMessagePolicyAny, DirectMessagePolicySharedRoom, DirectMessagePolicyOff:
		s.directMessages = p.DirectMessages
	default:
		v.fail("DirectMessages", "%q is not a direct message policy; valid: %s, %s, %s", p.DirectMessages,
			DirectMessagePolicyAny, DirectMessagePolicySharedRoom, DirectMessagePolicyOff)
	}
	if p.PublishBatchSize != nil {
		s.batchSize = whole("PublishBatchSize", p.PublishBatchSize, 1, MaxPublishBatchSize,
			" (Lambda's SQS batch limit without a batching window)")
	}
	if p.PublishMaxReceiveCount != nil {
		s.maxReceiveCount = whole("PublishMaxReceiveCount", p.PublishMaxReceiveCount, 1, MaxPublishMaxReceiveCount,
			" (SQS's redrive policy limit)")
	}
	if p.PublishMaxConcurrency != nil {
		s.maxConcurrency = whole("PublishMaxConcurrency", p.PublishMaxConcurrency, MinPublishMaxConcurrency, MaxPublishMaxConcurrency,
			" (the SQS event source's MaximumConcurrency limits)")
	}
}

// Retention of the publish queues.
const (
	// deadLetterRetentionDays is the dead-letter queue's retention, SQS's longest: time for
	// someone to read the reasons and redrive.
	deadLetterRetentionDays = 14
	// visibilityTimeoutFactor is the publish queue's visibility timeout in publish function
	// timeouts: AWS's Lambda guide asks for at least six, so that Lambda can retry a batch whose
	// invocation was throttled before the messages reappear.
	visibilityTimeoutFactor = 6
)

// addPublishQueues makes the publish queue and its dead-letter queue: SQS-managed encryption,
// TLS only, a redrive after PublishMaxReceiveCount receives.
func (c *webSocketChatApi) addPublishQueues() {
	c.deadLetters = awssqs.NewQueue(c.Construct, jsii.String("PublishDeadLetterQueue"), &awssqs.QueueProps{
		Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:      jsii.Bool(true),
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(deadLetterRetentionDays)),
	})
	c.publishQueue = awssqs.NewQueue(c.Construct, jsii.String("PublishQueue"), &awssqs.QueueProps{
		Encryption:        awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:        jsii.Bool(true),
		VisibilityTimeout: awscdk.Duration_Seconds(jsii.Number(visibilityTimeoutFactor * publishTimeout)),
		DeadLetterQueue: &awssqs.DeadLetterQueue{
			Queue:           c.deadLetters,
			MaxReceiveCount: jsii.Number(c.cfg.publishing.maxReceiveCount),
		},
	})
}

// addPublishEventSource makes the publish queue invoke the publish function (its live alias
// with provisioned concurrency), which reports partial batch failures: only the failed
// messages come back, after the visibility timeout.
//
// No batching window (MaximumBatchingWindowInSeconds unset, 0): a publish is a real-time
// message, and a window would add its length to every delivery while the queue is quiet;
// under load Lambda's pollers fill batches anyway. Without a window a batch holds at most 10
// messages, which is why PublishBatchSize stops at 10.
func (c *webSocketChatApi) addPublishEventSource() {
	props := &awslambdaeventsources.SqsEventSourceProps{
		BatchSize:               jsii.Number(c.cfg.publishing.batchSize),
		ReportBatchItemFailures: jsii.Bool(true),
	}
	if c.cfg.publishing.maxConcurrency > 0 {
		props.MaxConcurrency = jsii.Number(c.cfg.publishing.maxConcurrency)
	}
	c.invoked(handlerPublish).AddEventSource(awslambdaeventsources.NewSqsEventSource(c.publishQueue, props))
}

func (c *webSocketChatApi) PublishQueue() awssqs.Queue           { return c.publishQueue }
func (c *webSocketChatApi) PublishDeadLetterQueue() awssqs.Queue { return c.deadLetters }
func (c *webSocketChatApi) PublishFunction() awslambda.Function  { return c.fns[handlerPublish] }
