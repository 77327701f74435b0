// Command connect is the $connect handler: it records each new connection, with the identity
// the authorizer established, in the chat table. Its environment is what
// [wsevent.LoadConnectConfig] reads.
package main

import (
	"github.com/chatstack/websocketchatapi/lambdas/internal/awschat"
	"github.com/chatstack/websocketchatapi/lambdas/internal/lambdamain"
	"github.com/chatstack/websocketchatapi/lambdas/internal/wsevent"
)

func main() { lambdamain.Start(wsevent.LoadConnectConfig, awschat.BuildConnect) }
