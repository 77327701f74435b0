// Command connect is the $connect handler: it records each new connection, with the identity
// the authorizer established, in the connections table.
//
// Environment: TABLE_NAME, CONNECTION_TTL_SECONDS (default 7800), SUBPROTOCOL (default
// chat.v1), ALLOWED_ORIGINS (comma-separated browser origins such as
// https://chat.example.com that may connect; unset or * allows any), LOG_LEVEL (default
// info).
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

func newHandler(ctx context.Context) (*wsevent.ConnectHandler, error) {
	env, err := wsevent.LoadConnectConfig(os.Getenv)
	if err != nil {
		return nil, err
	}
	logger := wsevent.NewLogger(os.Stdout, env.LogLevel)
	awsCfg, err := awsenv.Config(os.Getenv)
	if err != nil {
		return nil, fmt.Errorf("load AWS config: %w", err)
	}
	store := dynamostore.New(awsenv.DynamoDB(awsCfg, os.Getenv), env.TableName)
	svc, err := chat.NewService(store, nil, chat.Options{ConnectionTTL: env.ConnectionTTL, Logger: logger})
	if err != nil {
		return nil, err
	}
	return &wsevent.ConnectHandler{Service: svc, Subprotocol: env.Subprotocol, Origins: env.Origins, Logger: logger}, nil
}
