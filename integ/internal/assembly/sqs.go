package assembly

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Defaults SQS applies to a queue created without the attribute.
const (
	defaultQueueVisibilityTimeout = 30
	defaultQueueRetention         = 345600
	defaultQueueMaxMessageSize    = 262144
)

// Queue is an AWS::SQS::Queue.
type Queue struct {
	// LogicalID is the queue's logical id.
	LogicalID string
	// Name is QueueName, or the name CloudFormation generates:
	// <StackName>-<LogicalID>-<12 characters> (".fifo" appended for a FIFO queue), 80 at most.
	Name string
	// URL is the queue's URL on AWS (what Ref gives): https://sqs.<region>.<suffix>/<account>/<name>.
	URL string
	// ARN is arn:<partition>:sqs:<region>:<account>:<name>.
	ARN string
	// FIFO mirrors FifoQueue; ContentBasedDeduplication mirrors its property.
	FIFO, ContentBasedDeduplication bool
	// VisibilityTimeout, MessageRetentionPeriod, DelaySeconds, MaximumMessageSize and
	// ReceiveMessageWaitTimeSeconds are the queue's attributes in seconds (bytes for the
	// size), SQS's defaults where unset.
	VisibilityTimeout, MessageRetentionPeriod, DelaySeconds, MaximumMessageSize, ReceiveMessageWaitTimeSeconds int
	// RedrivePolicy is the dead-letter queue setting (nil if none).
	RedrivePolicy *RedrivePolicy
	// Policies lists the AWS::SQS::QueuePolicy documents that apply to the queue.
	Policies []*QueuePolicy
}

// RedrivePolicy sends a message to DeadLetterTargetARN once it was received MaxReceiveCount
// times without being deleted.
type RedrivePolicy struct {
	// DeadLetterTargetARN is the dead-letter queue's ARN.
	DeadLetterTargetARN string
	// MaxReceiveCount is maxReceiveCount (1 to 1,000).
	MaxReceiveCount int
}

// QueuePolicy is an AWS::SQS::QueuePolicy: a resource policy set on queues.
type QueuePolicy struct {
	// LogicalID is the policy's logical id.
	LogicalID string
	// QueueURLs lists the URLs of the queues it applies to (Queues).
	QueueURLs []string
	// Document is the policy document.
	Document PolicyDocument
}

// EventSourceMapping is an AWS::Lambda::EventSourceMapping whose event source is an SQS queue.
type EventSourceMapping struct {
	// LogicalID is the mapping's logical id.
	LogicalID string
	// UUID is the mapping's id (what Ref gives).
	UUID string
	// EventSourceARN is the queue's ARN.
	EventSourceARN string
	// Queue is the stack's queue of EventSourceARN (nil when it is not in the stack).
	Queue *Queue
	// FunctionName is the resolved FunctionName: a name, an ARN, or a qualified ARN (version
	// or alias).
	FunctionName string
	// Function is the stack's function of FunctionName (nil when it is not in the stack).
	Function *Function
	// BatchSize is BatchSize (0 when unset: Lambda's default applies).
	BatchSize int
	// MaximumBatchingWindowInSeconds is the batching window (0 when unset).
	MaximumBatchingWindowInSeconds int
	// BatchingWindowSet reports whether MaximumBatchingWindowInSeconds was given.
	BatchingWindowSet bool
	// Enabled mirrors Enabled (true when unset).
	Enabled bool
	// FunctionResponseTypes lists the response types, e.g. ReportBatchItemFailures.
	FunctionResponseTypes []string
	// MaximumConcurrency is ScalingConfig.MaximumConcurrency (0 when unset).
	MaximumConcurrency int
	// HasFilterCriteria reports whether FilterCriteria is set.
	HasFilterCriteria bool
}

// ReportsBatchItemFailures reports whether FunctionResponseTypes has ReportBatchItemFailures.
func (m *EventSourceMapping) ReportsBatchItemFailures() bool {
	return slices.Contains(m.FunctionResponseTypes, "ReportBatchItemFailures")
}

// QueueByARN returns the stack's queue with the given ARN, or nil.
func (s *Stack) QueueByARN(arn string) *Queue {
	for _, id := range sortedKeys(s.Queues) {
		if q := s.Queues[id]; q.ARN == arn {
			return q
		}
	}
	return nil
}

// SortedQueues returns the queues in the order CloudFormation creates them: a dead-letter
// queue before the queues whose RedrivePolicy names it, else in logical id order.
func (s *Stack) SortedQueues() []*Queue {
	var out []*Queue
	done := map[string]bool{}
	var visit func(q *Queue, depth int)
	visit = func(q *Queue, depth int) {
		if done[q.LogicalID] || depth > len(s.Queues) {
			return
		}
		if q.RedrivePolicy != nil {
			if dlq := s.QueueByARN(q.RedrivePolicy.DeadLetterTargetARN); dlq != nil {
				visit(dlq, depth+1)
			}
		}
		done[q.LogicalID] = true
		out = append(out, q)
	}
	for _, id := range sortedKeys(s.Queues) {
		visit(s.Queues[id], 0)
	}
	return out
}

type queueProps struct {
	QueueName                     flexString
	FifoQueue                     flexBool
	ContentBasedDeduplication     flexBool
	VisibilityTimeout             *flexInt
	MessageRetentionPeriod        *flexInt
	DelaySeconds                  *flexInt
	MaximumMessageSize            *flexInt
	ReceiveMessageWaitTimeSeconds *flexInt
	RedrivePolicy                 any
}

type queuePolicyProps struct {
	Queues         []flexString
	PolicyDocument any
}

type eventSourceMappingProps struct {
	EventSourceArn                 flexString
	FunctionName                   flexString
	BatchSize                      *flexInt
	MaximumBatchingWindowInSeconds *flexInt
	Enabled                        *flexBool
	FunctionResponseTypes          []flexString
	ScalingConfig                  *struct{ MaximumConcurrency *flexInt }
	FilterCriteria                 any
}

// intOr returns *p, or def when p is nil.
func intOr(p *flexInt, def int) int {
	if p == nil {
		return def
	}
	return int(*p)
}

// queues builds the SQS queues, their policies and the SQS event source mappings.
func (b *builder) queues() error {
	b.st.Queues = map[string]*Queue{}
	for _, res := range b.ofType("AWS::SQS::Queue") {
		p, url, err := decodeNamed[queueProps](b, res)
		if err != nil {
			return err
		}
		name := url[strings.LastIndex(url, "/")+1:]
		q := &Queue{
			LogicalID:                     res.LogicalID,
			Name:                          name,
			URL:                           url,
			ARN:                           b.st.Env.ARN("sqs", b.st.Env.Region, b.st.Env.AccountID, name),
			FIFO:                          bool(p.FifoQueue),
			ContentBasedDeduplication:     bool(p.ContentBasedDeduplication),
			VisibilityTimeout:             intOr(p.VisibilityTimeout, defaultQueueVisibilityTimeout),
			MessageRetentionPeriod:        intOr(p.MessageRetentionPeriod, defaultQueueRetention),
			DelaySeconds:                  intOr(p.DelaySeconds, 0),
			MaximumMessageSize:            intOr(p.MaximumMessageSize, defaultQueueMaxMessageSize),
			ReceiveMessageWaitTimeSeconds: intOr(p.ReceiveMessageWaitTimeSeconds, 0),
		}
		where := res.LogicalID + " (AWS::SQS::Queue)"
		if q.FIFO != strings.HasSuffix(q.Name, ".fifo") {
			return fmt.Errorf("%s: the name of a FIFO queue must end in .fifo, and only a FIFO queue's may (QueueName %q, FifoQueue %v)", where, q.Name, q.FIFO)
		}
		if p.RedrivePolicy != nil {
			rp, err := redrivePolicy(p.RedrivePolicy)
			if err != nil {
				return fmt.Errorf("%s: RedrivePolicy: %w", where, err)
			}
			q.RedrivePolicy = rp
		}
		b.st.Queues[res.LogicalID] = q
	}
	if err := b.queuePolicies(); err != nil {
		return err
	}
	for _, res := range b.ofType("AWS::Lambda::EventSourceMapping") {
		p, uuid, err := decodeNamed[eventSourceMappingProps](b, res)
		if err != nil {
			return err
		}
		if !strings.Contains(string(p.EventSourceArn), ":sqs:") {
			continue // streams, Kafka, MQ: not emulated
		}
		m := &EventSourceMapping{
			LogicalID:             res.LogicalID,
			UUID:                  uuid,
			EventSourceARN:        string(p.EventSourceArn),
			FunctionName:          string(p.FunctionName),
			BatchSize:             intOr(p.BatchSize, 0),
			Enabled:               p.Enabled == nil || bool(*p.Enabled),
			FunctionResponseTypes: flexStrings(p.FunctionResponseTypes),
			HasFilterCriteria:     p.FilterCriteria != nil,
		}
		if p.MaximumBatchingWindowInSeconds != nil {
			m.MaximumBatchingWindowInSeconds, m.BatchingWindowSet = int(*p.MaximumBatchingWindowInSeconds), true
		}
		if p.ScalingConfig != nil {
			m.MaximumConcurrency = intOr(p.ScalingConfig.MaximumConcurrency, 0)
		}
		m.Queue = b.st.QueueByARN(m.EventSourceARN)
		m.Function = b.st.FunctionByARN(m.FunctionName)
		b.st.EventSourceMappings = append(b.st.EventSourceMappings, m)
	}
	return nil
}

// queuePolicies attaches each AWS::SQS::QueuePolicy to the queues it names.
func (b *builder) queuePolicies() error {
	for _, res := range b.ofType("AWS::SQS::QueuePolicy") {
		p, err := decode[queuePolicyProps](b, res)
		if err != nil {
			return err
		}
		doc, err := ParsePolicyDocument(p.PolicyDocument)
		if err != nil {
			return fmt.Errorf("%s (AWS::SQS::QueuePolicy): PolicyDocument: %w", res.LogicalID, err)
		}
		qp := &QueuePolicy{LogicalID: res.LogicalID, QueueURLs: flexStrings(p.Queues), Document: doc}
		for _, u := range qp.QueueURLs {
			for _, q := range b.st.Queues {
				if q.URL == u {
					q.Policies = append(q.Policies, qp)
				}
			}
		}
	}
	return nil
}

// redrivePolicy decodes a RedrivePolicy given as an object or a JSON string.
func redrivePolicy(v any) (*RedrivePolicy, error) {
	if s, ok := v.(string); ok {
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			return nil, fmt.Errorf("not JSON: %w", err)
		}
	}
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var p struct {
		DeadLetterTargetArn flexString `json:"deadLetterTargetArn"`
		MaxReceiveCount     flexInt    `json:"maxReceiveCount"`
	}
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, err
	}
	if p.DeadLetterTargetArn == "" {
		return nil, fmt.Errorf("no deadLetterTargetArn")
	}
	if p.MaxReceiveCount < 1 || p.MaxReceiveCount > 1000 {
		return nil, fmt.Errorf("maxReceiveCount %d: must be 1 to 1000", p.MaxReceiveCount)
	}
	return &RedrivePolicy{DeadLetterTargetARN: string(p.DeadLetterTargetArn), MaxReceiveCount: int(p.MaxReceiveCount)}, nil
}
