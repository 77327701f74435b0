package local

import (
	"fmt"

	"github.com/chatstack/websocketchatapi/integ/internal/assembly"
	"github.com/chatstack/websocketchatapi/integ/internal/iamcheck"
)

// Lambda's limits and defaults for SQS event source mappings.
const (
	defaultSQSBatchSize   = 10
	maxSQSBatchSize       = 10000
	maxFIFOBatchSize      = 10
	maxBatchingWindow     = 300
	minMaxConcurrency     = 2
	maxMaxConcurrency     = 1000
	defaultSQSConcurrency = 5 // Lambda starts polling a queue with five concurrent batches
)

// checkMappings refuses, as CreateEventSourceMapping does, the SQS event source mappings of st
// that Lambda would refuse at deploy: out-of-range settings, a queue or function that does
// not exist, a queue whose visibility timeout is shorter than the function's timeout, and an
// execution role that may not receive, delete and read the attributes of the queue's
// messages. Errors are Lambda's InvalidParameterValueException and name the mapping.
func checkMappings(st *assembly.Stack) error {
	for _, m := range st.EventSourceMappings {
		if err := checkMapping(m); err != nil {
			return fmt.Errorf("event source mapping %s: InvalidParameterValueException: %w", m.LogicalID, err)
		}
	}
	return nil
}

func checkMapping(m *assembly.EventSourceMapping) error {
	switch {
	case m.Queue == nil:
		return fmt.Errorf("the queue %s does not exist in the stack", m.EventSourceARN)
	case m.Function == nil:
		return fmt.Errorf("Function not found: %s", m.FunctionName)
	case m.HasFilterCriteria:
		return fmt.Errorf("FilterCriteria is not emulated locally; remove it or filter in the function")
	}
	if m.BatchSize != 0 && (m.BatchSize < 1 || m.BatchSize > maxSQSBatchSize) {
		return fmt.Errorf("1 validation error detected: Value '%d' at 'batchSize' failed to satisfy constraint: Member must have value between 1 and %d", m.BatchSize, maxSQSBatchSize)
	}
	if m.MaximumBatchingWindowInSeconds < 0 || m.MaximumBatchingWindowInSeconds > maxBatchingWindow {
		return fmt.Errorf("1 validation error detected: Value '%d' at 'maximumBatchingWindowInSeconds' failed to satisfy constraint: Member must have value less than or equal to %d", m.MaximumBatchingWindowInSeconds, maxBatchingWindow)
	}
	if m.Queue.FIFO && m.BatchSize > maxFIFOBatchSize {
		return fmt.Errorf("BatchSize %d: the maximum batch size of a FIFO queue is %d", m.BatchSize, maxFIFOBatchSize)
	}
	if m.Queue.FIFO && m.BatchingWindowSet {
		return fmt.Errorf("Batching window is not supported for FIFO queues")
	}
	if m.BatchSize > 10 && m.MaximumBatchingWindowInSeconds == 0 {
		return fmt.Errorf("Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10")
	}
	if c := m.MaximumConcurrency; c != 0 && (c < minMaxConcurrency || c > maxMaxConcurrency) {
		return fmt.Errorf("1 validation error detected: Value '%d' at 'scalingConfig.maximumConcurrency' failed to satisfy constraint: Member must have value between %d and %d", c, minMaxConcurrency, maxMaxConcurrency)
	}
	if timeout := int(m.Function.Timeout.Seconds()); m.Queue.VisibilityTimeout < timeout {
		return fmt.Errorf("Queue visibility timeout: %d seconds is less than Function timeout: %d seconds", m.Queue.VisibilityTimeout, timeout)
	}
	pol, err := iamcheck.ForFunction(m.Function)
	if err != nil {
		return err
	}
	var rps []iamcheck.ResourcePolicy
	for _, p := range m.Queue.Policies {
		rps = append(rps, iamcheck.ResourcePolicy{Name: p.LogicalID, Document: p.Document})
	}
	for _, action := range []string{"ReceiveMessage", "DeleteMessage", "GetQueueAttributes"} {
		if d := pol.AllowedWithResource(rps, "sqs:"+action, m.Queue.ARN); !d.Allowed {
			return fmt.Errorf("The provided execution role does not have permissions to call %s on SQS (role %s of function %s, queue %s: %s)",
				action, m.Function.RoleARN, m.Function.LogicalID, m.Queue.ARN, d.Reason)
		}
	}
	return nil
}
