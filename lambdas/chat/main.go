// Command chat serves every chat action (joinroom, leaveroom, sendmessage, history and any
// other route key routed to it), dispatching on the route key, and posts messages and
// presence events to the rooms' connections through the @connections API. Its environment is
// what [wsevent.LoadChatConfig] reads.
//
// Metrics go to standard output as CloudWatch Embedded Metric Format records, one line each,
// beside the JSON log lines. The rate limit needs dynamodb:UpdateItem on the table.
package main

import (
	"github.com/chatstack/websocketchatapi/internal/managementapi"
	"github.com/chatstack/websocketchatapi/lambdas/internal/awschat"
	"github.com/chatstack/websocketchatapi/lambdas/internal/lambdamain"
	"github.com/chatstack/websocketchatapi/lambdas/internal/wsevent"
)

func main() { lambdamain.Start(wsevent.LoadChatConfig, awschat.BuildChat(managementapi.New)) }
