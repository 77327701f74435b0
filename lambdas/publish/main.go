// Command publish consumes the publish queue: publications that backends send (package publish
// documents their JSON, protocol's publish schema checks it) and the shard jobs of large
// rooms' broadcasts, which the chat function queues. Malformed messages go to the dead-letter
// queue at once, with the reason in their ErrorReason attribute; failed ones are reported in
// the batch response and tried again by the queue. Its environment is what
// [wsevent.LoadPublishConfig] reads.
package main

import (
	"github.com/chatstack/websocketchatapi/internal/managementapi"
	"github.com/chatstack/websocketchatapi/lambdas/internal/awschat"
	"github.com/chatstack/websocketchatapi/lambdas/internal/lambdamain"
	"github.com/chatstack/websocketchatapi/lambdas/internal/wsevent"
)

func main() { lambdamain.Start(wsevent.LoadPublishConfig, awschat.BuildPublish(managementapi.New)) }
