package main

import (
	"fmt"
	"strings"

	"github.com/chatstack/websocketchatapi/integ/internal/local"
)

// publishBody is the example publication the banner's shell command sends.
const publishBody = `{"roomId":"general","message":{"text":"hello from the shell","sender":{"userId":"system:shell","displayName":"Shell"}}}`

// publishCommand returns the AWS CLI command that puts a publication on the stack's publish
// queue (the queue whose logical id holds "PublishQueue" and that an event source mapping
// consumes), signed with a session of the consuming function's role, which may send to it;
// "" when the stack has no such queue.
func publishCommand(env *local.Env) (string, error) {
	for _, m := range env.Stack.EventSourceMappings {
		if m.Queue == nil || m.Function == nil || m.Function.RoleLogicalID == "" || !strings.Contains(m.Queue.LogicalID, "PublishQueue") {
			continue
		}
		url, err := env.QueueURL(m.Queue.LogicalID)
		if err != nil {
			return "", err
		}
		creds, err := env.Credentials(m.Function.RoleLogicalID, "shell")
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=%s AWS_SESSION_TOKEN=%s \\\n"+
			"    aws sqs send-message --region %s --endpoint-url %s \\\n"+
			"    --queue-url %s \\\n"+
			"    --message-body '%s'",
			creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken, env.Stack.Env.Region, env.SQSEndpoint, url, publishBody), nil
	}
	return "", nil
}
