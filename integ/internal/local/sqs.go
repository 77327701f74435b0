package local

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/chatstack/websocketchatapi/integ/internal/assembly"
	"github.com/chatstack/websocketchatapi/integ/internal/iamcheck"
	"github.com/chatstack/websocketchatapi/integ/internal/lambdaemu"
	"github.com/chatstack/websocketchatapi/integ/internal/sqslocal"
)

// usesSQS reports whether the stack has SQS queues or SQS event source mappings.
func usesSQS(st *assembly.Stack) bool {
	return len(st.Queues) > 0 || len(st.EventSourceMappings) > 0
}

// awsSQSEndpoint is the SQS endpoint that queue URLs resolve to on AWS, which function
// environments name and the local stack rewrites to its own.
func awsSQSEndpoint(env assembly.Env) string {
	return "https://sqs." + env.Region + "." + env.URLSuffix
}

// startSQS starts the SQS server, creates the stack's queues in CloudFormation's order (a
// dead-letter queue before its source queues), makes the IAM-checking proxy in front of it,
// and starts a poller per event source mapping.
func (s *starter) startSQS(ctx context.Context) error {
	e := s.env
	if !usesSQS(e.Stack) {
		return nil
	}
	env := e.Stack.Env
	srv, err := sqslocal.Start(ctx, sqslocal.Options{Region: env.Region, AccountID: env.AccountID, Partition: env.Partition})
	if err != nil {
		return err
	}
	e.sqsServer = srv
	if e.SQS, err = sqslocal.NewClient(srv.Endpoint(), env.Region, aws.Credentials{}); err != nil {
		return err
	}
	for _, q := range e.Stack.SortedQueues() {
		if err := createQueue(ctx, e.SQS, q); err != nil {
			return err
		}
	}
	target, err := url.Parse(srv.Endpoint())
	if err != nil {
		return err
	}
	s.sqsProxy, err = iamcheck.NewSQSProxy(iamcheck.SQSProxyConfig{
		Target:        target,
		Env:           env,
		Lookup:        e.sqsCaller(s.policies),
		QueuePolicies: e.queuePolicies,
		SenderHeader:  sqslocal.SenderHeader,
		Observe: func(r *http.Request, d iamcheck.Decision) {
			if !d.Allowed {
				e.deny("sqs", d)
			}
		},
	})
	return err
}

// createQueue creates q on the local server with its attributes.
func createQueue(ctx context.Context, c *sqs.Client, q *assembly.Queue) error {
	attrs := map[string]string{
		"VisibilityTimeout":             strconv.Itoa(q.VisibilityTimeout),
		"MessageRetentionPeriod":        strconv.Itoa(q.MessageRetentionPeriod),
		"DelaySeconds":                  strconv.Itoa(q.DelaySeconds),
		"MaximumMessageSize":            strconv.Itoa(q.MaximumMessageSize),
		"ReceiveMessageWaitTimeSeconds": strconv.Itoa(q.ReceiveMessageWaitTimeSeconds),
	}
	if q.FIFO {
		attrs["FifoQueue"] = "true"
		attrs["ContentBasedDeduplication"] = strconv.FormatBool(q.ContentBasedDeduplication)
	}
	if rp := q.RedrivePolicy; rp != nil {
		attrs["RedrivePolicy"] = fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":"%d"}`, rp.DeadLetterTargetARN, rp.MaxReceiveCount)
	}
	if _, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(q.Name), Attributes: attrs}); err != nil {
		return fmt.Errorf("create queue %s (%s): %w", q.Name, q.LogicalID, err)
	}
	return nil
}

// sqsCaller returns the SQS proxy's lookup of access keys: the functions' keys (their
// execution role, SenderId <role id>:<function name>) and the sessions Credentials made.
func (e *Env) sqsCaller(policies map[string]*iamcheck.Policy) func(string) (iamcheck.SQSCaller, bool) {
	senders := map[string]string{}
	for _, fn := range e.Stack.Functions {
		roleID := "AROALOCAL"
		if fn.RoleLogicalID != "" {
			if id, err := e.Stack.Resolver.GetAtt(fn.RoleLogicalID, "RoleId"); err == nil {
				roleID = id
			}
		}
		senders[e.AccessKeys[fn.Name]] = roleID + ":" + fn.Name
	}
	return func(key string) (iamcheck.SQSCaller, bool) {
		if p, ok := policies[key]; ok {
			return iamcheck.SQSCaller{Policy: p, SenderID: senders[key]}, true
		}
		e.mu.Lock()
		s := e.sessions[key]
		e.mu.Unlock()
		if s == nil {
			return iamcheck.SQSCaller{}, false
		}
		return iamcheck.SQSCaller{Policy: s.policy, SenderID: s.caller.User}, true
	}
}

// queuePolicies returns the queue policies of the queue with the given ARN.
func (e *Env) queuePolicies(arn string) []iamcheck.ResourcePolicy {
	q := e.Stack.QueueByARN(arn)
	if q == nil {
		return nil
	}
	var out []iamcheck.ResourcePolicy
	for _, p := range q.Policies {
		out = append(out, iamcheck.ResourcePolicy{Name: p.LogicalID, Document: p.Document})
	}
	return out
}

// queue finds a queue of the stack by logical id.
func (e *Env) queue(logicalID string) (*assembly.Queue, error) {
	q, ok := e.Stack.Queues[logicalID]
	if !ok || e.sqsServer == nil {
		return nil, fmt.Errorf("the stack has no queue %q", logicalID)
	}
	return q, nil
}

// QueueURL returns the local URL of the stack's queue logicalID, on SQSEndpoint (the
// IAM-checked endpoint), as functions see it.
func (e *Env) QueueURL(logicalID string) (string, error) {
	q, err := e.queue(logicalID)
	if err != nil {
		return "", err
	}
	return rewriteURL(q.URL, awsSQSEndpoint(e.Stack.Env), e.SQSEndpoint), nil
}

// QueueDepth is the approximate content of a queue, as GetQueueAttributes reports it.
type QueueDepth struct {
	// Visible is ApproximateNumberOfMessages: messages available to receive.
	Visible int
	// InFlight is ApproximateNumberOfMessagesNotVisible: received, neither deleted nor back.
	InFlight int
	// Delayed is ApproximateNumberOfMessagesDelayed.
	Delayed int
}

// Total returns every message the queue holds.
func (d QueueDepth) Total() int { return d.Visible + d.InFlight + d.Delayed }

// QueueDepth reads the depth of the stack's queue logicalID (bypassing IAM).
func (e *Env) QueueDepth(ctx context.Context, logicalID string) (QueueDepth, error) {
	q, err := e.queue(logicalID)
	if err != nil {
		return QueueDepth{}, err
	}
	out, err := e.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       aws.String(e.sqsServer.QueueURL(q.Name)),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameAll},
	})
	if err != nil {
		return QueueDepth{}, fmt.Errorf("depth of queue %s: %w", logicalID, err)
	}
	var d QueueDepth
	d.Visible, _ = strconv.Atoi(out.Attributes["ApproximateNumberOfMessages"])
	d.InFlight, _ = strconv.Atoi(out.Attributes["ApproximateNumberOfMessagesNotVisible"])
	d.Delayed, _ = strconv.Atoi(out.Attributes["ApproximateNumberOfMessagesDelayed"])
	return d, nil
}

// SQSClient returns an SQS client of SQSEndpoint that signs with creds (from Credentials):
// its calls are checked against that role's policies and the queues' policies, as on AWS.
func (e *Env) SQSClient(creds Credentials) (*sqs.Client, error) {
	if e.SQSEndpoint == "" {
		return nil, errors.New("sqs client: the stack has no SQS queue")
	}
	return sqslocal.NewClient(e.SQSEndpoint, e.Stack.Env.Region, aws.Credentials{
		AccessKeyID: creds.AccessKeyID, SecretAccessKey: creds.SecretAccessKey, SessionToken: creds.SessionToken})
}

// startPollers starts a poller per enabled event source mapping; Close stops them.
func (e *Env) startPollers() {
	if len(e.Stack.EventSourceMappings) == 0 {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	e.pollStop = cancel
	for _, m := range e.Stack.EventSourceMappings {
		if !m.Enabled {
			continue
		}
		name := m.Function.Name
		p := &poller{
			m:        m,
			client:   e.SQS,
			queueURL: e.sqsServer.QueueURL(m.Queue.Name),
			region:   e.Stack.Env.Region,
			invoke: func(ctx context.Context, payload []byte) (lambdaemu.Result, error) {
				return e.Lambda.Invoke(ctx, name, payload)
			},
			logger: e.logger,
		}
		p.run(ctx, &e.pollers)
	}
}
