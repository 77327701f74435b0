// Command disconnect is the $disconnect handler: it deletes the connection and its room
// memberships from the chat table and, when it has a callback URL, tells each room the
// connection was in that its user left (presence "left", best effort). Its environment is what
// [wsevent.LoadDisconnectConfig] reads.
//
// With a callback URL the function needs execute-api:ManageConnections on the stage's
// @connections and dynamodb:Query on the table's byRoom index, besides dynamodb:Query and
// dynamodb:BatchWriteItem on the table.
package main

import (
	"github.com/chatstack/websocketchatapi/internal/managementapi"
	"github.com/chatstack/websocketchatapi/lambdas/internal/awschat"
	"github.com/chatstack/websocketchatapi/lambdas/internal/lambdamain"
	"github.com/chatstack/websocketchatapi/lambdas/internal/wsevent"
)

func main() {
	lambdamain.Start(wsevent.LoadDisconnectConfig, awschat.BuildDisconnect(managementapi.New))
}
