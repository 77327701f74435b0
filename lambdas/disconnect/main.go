// Command disconnect is the $disconnect handler: it deletes the connection and its room
// memberships from the connections table and, when CALLBACK_URL is set, tells each room the
// connection was in that its user left (presence "left", best effort).
//
// Environment: TABLE_NAME, CALLBACK_URL (optional: the stage's https URL, as for the chat
// function), FANOUT_CONCURRENCY (default 32), LOG_LEVEL (default info). With CALLBACK_URL the
// function needs execute-api:ManageConnections on the stage's @connections and dynamodb:Query
// on the table's byRoom index, besides dynamodb:Query and dynamodb:BatchWriteItem on the
// table.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/chatstack/websocketchatapi/lambdas/internal/awsenv"
	"github.com/chatstack/websocketchatapi/lambdas/internal/chat"
	"github.com/chatstack/websocketchatapi/lambdas/internal/dynamostore"
	"github.com/chatstack/websocketchatapi/lambdas/internal/managementapi"
	"github.com/chatstack/websocketchatapi/lambdas/internal/wsevent"
)

func main() {
	h, err := newHandler(context.Background())
	if err != nil {
		slog.New(slog.NewJSONHandler(os.Stderr, nil)).Error("init failed", "error", err.Error())
		os.Exit(1)
	}
	lambda.Start(h.Handle)
}

func newHandler(ctx context.Context) (*wsevent.DisconnectHandler, error) {
	env, err := wsevent.LoadDisconnectConfig(os.Getenv)
	if err != nil {
		return nil, err
	}
	logger := wsevent.NewLogger(os.Stdout, env.LogLevel)
	awsCfg, err := awsenv.Config(os.Getenv)
	if err != nil {
		return nil, fmt.Errorf("load AWS config: %w", err)
	}
	store := dynamostore.New(awsenv.DynamoDB(awsCfg, os.Getenv), env.TableName)
	var poster chat.Poster // nil: nobody is told
	if env.CallbackURL != "" {
		poster = managementapi.New(awsCfg, env.CallbackURL)
	}
	svc, err := chat.NewService(store, poster, chat.Options{
		Fanout: chat.FanoutOptions{Concurrency: env.FanoutConcurrency},
		Logger: logger,
	})
	if err != nil {
		return nil, err
	}
	return &wsevent.DisconnectHandler{Service: svc, Logger: logger}, nil
}
