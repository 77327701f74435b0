// Command sqsapp synthesizes the reference stack plus an SQS consumer, for the local stack's
// SQS tests: queue Work (visibility 2 s, enforceSSL, redrive to Dlq after 2 receives) feeds
// function Consumer (testdata/sqsapp/consumer) through an event source mapping with
// ReportBatchItemFailures; the consumer forwards what it handles to queue Out.
//
// With SQSAPP_VARIANT=noreceive the mapping is made by hand (awslambda.NewEventSourceMapping)
// without granting the consumer's role anything on Work, which Lambda refuses at deploy.
//
// The consumer is built here with go build for this machine's architecture (no qemu needed).
package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdaeventsources"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"

	"github.com/chatstack/websocketchatapi/app/chatstack"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "sqsapp:", err)
		os.Exit(1)
	}
}

func run() (err error) {
	defer jsii.Close()
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%v", p)
		}
	}()
	codeDir, err := os.MkdirTemp("", "sqsapp-consumer-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(codeDir)
	arch := awslambda.Architecture_X86_64()
	if runtime.GOARCH == "arm64" {
		arch = awslambda.Architecture_ARM_64()
	}
	build := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-o", filepath.Join(codeDir, "bootstrap"), "./integ/internal/local/testdata/sqsapp/consumer")
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("build the consumer: %v\n%s", err, out)
	}

	app := awscdk.NewApp(nil)
	st := chatstack.New(app, "SqsFixture", nil)
	dlq := awssqs.NewQueue(st.Stack, jsii.String("Dlq"), nil)
	work := awssqs.NewQueue(st.Stack, jsii.String("Work"), &awssqs.QueueProps{
		VisibilityTimeout: awscdk.Duration_Seconds(jsii.Number(2)),
		EnforceSSL:        jsii.Bool(true),
		DeadLetterQueue:   &awssqs.DeadLetterQueue{Queue: dlq, MaxReceiveCount: jsii.Number(2)},
	})
	out := awssqs.NewQueue(st.Stack, jsii.String("Out"), &awssqs.QueueProps{EnforceSSL: jsii.Bool(true)})
	fn := awslambda.NewFunction(st.Stack, jsii.String("Consumer"), &awslambda.FunctionProps{
		Runtime:      awslambda.Runtime_PROVIDED_AL2023(),
		Handler:      jsii.String("bootstrap"),
		Architecture: arch,
		Code:         awslambda.Code_FromAsset(jsii.String(codeDir), nil),
		Timeout:      awscdk.Duration_Seconds(jsii.Number(2)),
		Environment:  &map[string]*string{"OUT_QUEUE_URL": out.QueueUrl()},
	})
	out.GrantSendMessages(fn)
	if os.Getenv("SQSAPP_VARIANT") == "noreceive" {
		awslambda.NewEventSourceMapping(st.Stack, jsii.String("Mapping"), &awslambda.EventSourceMappingProps{
			Target:         fn,
			EventSourceArn: work.QueueArn(),
		})
	} else {
		fn.AddEventSource(awslambdaeventsources.NewSqsEventSource(work, &awslambdaeventsources.SqsEventSourceProps{
			BatchSize:               jsii.Number(10),
			ReportBatchItemFailures: jsii.Bool(true),
		}))
	}
	app.Synth(nil)
	return nil
}
