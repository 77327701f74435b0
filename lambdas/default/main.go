// Command default is the $default handler: it answers messages that match no route with an
// error frame that lists the actions the API serves.
//
// Environment: CHAT_ACTIONS (comma-separated route keys), ROUTE_SELECTION_EXPRESSION (default
// $request.body.action), LOG_LEVEL (default info).
package main

import (
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/chatstack/websocketchatapi/lambdas/internal/wsevent"
)

func main() {
	env, err := wsevent.LoadDefaultConfig(os.Getenv)
	if err != nil {
		slog.New(slog.NewJSONHandler(os.Stderr, nil)).Error("init failed", "error", err.Error())
		os.Exit(1)
	}
	h := &wsevent.DefaultHandler{
		RouteSelection: env.RouteSelection,
		Actions:        env.Actions,
		Logger:         wsevent.NewLogger(os.Stdout, env.LogLevel),
	}
	lambda.Start(h.Handle)
}
