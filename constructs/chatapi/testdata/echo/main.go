// Command echo is a user's own route handler, used by the composition tests to show that
// AddRoute bundles a Go package folder: it replies with the body it received.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

func handle(_ context.Context, req events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error) {
	return events.APIGatewayProxyResponse{StatusCode: 200, Body: req.Body}, nil
}

func main() { lambda.Start(handle) }
