// Command chat serves every chat action (joinroom, leaveroom, sendmessage, history and any
// other route key routed to it), dispatching on the route key, and posts messages and
// presence events to the rooms' connections through the @connections API.
//
// Environment: TABLE_NAME, CALLBACK_URL (the stage's https URL, from API id + region +
// stage), HISTORY_RETENTION_SECONDS (default 30 days), FANOUT_CONCURRENCY (default 32),
// RATE_LIMIT_PER_SECOND (default 10; 0 turns the per-connection rate limit off),
// RATE_LIMIT_BURST (default 20), METRICS_NAMESPACE (default WebSocketChatApi),
// METRICS_SERVICE (default chat), LOG_LEVEL (default info).
//
// Metrics go to standard output as CloudWatch Embedded Metric Format records, one line each,
// beside the JSON log lines. The rate limit needs dynamodb:UpdateItem on the table.
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
	"github.com/chatstack/websocketchatapi/lambdas/internal/emf"
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

func newHandler(ctx context.Context) (*wsevent.ChatHandler, error) {
	env, err := wsevent.LoadChatConfig(os.Getenv)
	if err != nil {
		return nil, err
	}
	logger := wsevent.NewLogger(os.Stdout, env.LogLevel)
	awsCfg, err := awsenv.Config(os.Getenv)
	if err != nil {
		return nil, fmt.Errorf("load AWS config: %w", err)
	}
	store := dynamostore.New(awsenv.DynamoDB(awsCfg, os.Getenv), env.TableName)
	poster := managementapi.New(awsCfg, env.CallbackURL)
	svc, err := chat.NewService(store, poster, chat.Options{
		HistoryRetention: env.HistoryRetention,
		Fanout:           chat.FanoutOptions{Concurrency: env.FanoutConcurrency},
		RateLimit:        env.RateLimit,
		Logger:           logger,
	})
	if err != nil {
		return nil, err
	}
	metrics, err := emf.New(os.Stdout, env.MetricsNamespace, []emf.Dimension{{Name: "Service", Value: env.MetricsService}})
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	return &wsevent.ChatHandler{Service: svc, Logger: logger, Metrics: metrics}, nil
}
