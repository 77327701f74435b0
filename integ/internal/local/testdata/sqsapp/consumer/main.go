// Command consumer is the SQS consumer of the sqsapp fixture. For each record of a batch it
// logs "delivery <body> count=<ApproximateReceiveCount>", then: a body starting with "fail"
// is reported as a batch item failure; the body "crash" fails the whole invocation; any other
// record is forwarded to the queue OUT_QUEUE_URL as JSON (the record as received), with its
// message attributes.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

type handler struct {
	client *sqs.Client
	out    string
}

func (h handler) handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	var resp events.SQSEventResponse
	for _, r := range ev.Records {
		fmt.Printf("delivery %s count=%s\n", r.Body, r.Attributes["ApproximateReceiveCount"])
		switch {
		case r.Body == "crash":
			return resp, errors.New("crash requested")
		case strings.HasPrefix(r.Body, "fail"):
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: r.MessageId})
		default:
			data, err := json.Marshal(r)
			if err != nil {
				return resp, err
			}
			attrs := map[string]types.MessageAttributeValue{}
			for k, a := range r.MessageAttributes {
				attrs[k] = types.MessageAttributeValue{DataType: aws.String(a.DataType), StringValue: a.StringValue, BinaryValue: a.BinaryValue}
			}
			if _, err := h.client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(h.out), MessageBody: aws.String(string(data)), MessageAttributes: attrs}); err != nil {
				return resp, fmt.Errorf("forward %s: %w", r.MessageId, err)
			}
		}
	}
	return resp, nil
}

func main() {
	client := sqs.New(sqs.Options{
		Region:      os.Getenv("AWS_REGION"),
		Credentials: credentials.NewStaticCredentialsProvider(os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY"), os.Getenv("AWS_SESSION_TOKEN")),
	}, func(o *sqs.Options) {
		if ep := os.Getenv("AWS_ENDPOINT_URL_SQS"); ep != "" {
			o.BaseEndpoint = aws.String(ep)
		}
	})
	lambda.Start(handler{client: client, out: os.Getenv("OUT_QUEUE_URL")}.handle)
}
