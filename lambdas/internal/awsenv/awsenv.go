// Package awsenv builds the AWS SDK configuration of a Lambda function from the environment
// Lambda gives it: AWS_REGION and the execution role's AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY
// and AWS_SESSION_TOKEN, plus the endpoint overrides AWS_ENDPOINT_URL_<SERVICE> and
// AWS_ENDPOINT_URL that the SDK's own config package honours (the local emulator points
// DynamoDB at itself this way).
//
// It replaces config.LoadDefaultConfig in the handlers: that resolves environment credentials
// to the same static provider, but links the whole credential chain (STS, SSO, IMDS, shared
// files) that a Lambda function never uses, 1.8 MB of every binary.
package awsenv

import (
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// Config returns the SDK configuration for a function. getenv is os.Getenv in production.
func Config(getenv func(string) string) (aws.Config, error) {
	region := getenv("AWS_REGION")
	if region == "" {
		region = getenv("AWS_DEFAULT_REGION")
	}
	if region == "" {
		return aws.Config{}, fmt.Errorf("awsenv: AWS_REGION is not set (Lambda sets it; set it for local runs)")
	}
	id, secret := getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY")
	if id == "" || secret == "" {
		return aws.Config{}, fmt.Errorf("awsenv: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must both be set (Lambda sets the execution role's)")
	}
	return aws.Config{
		Region:      region,
		Credentials: aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(id, secret, getenv("AWS_SESSION_TOKEN"))),
	}, nil
}

// Endpoint returns the endpoint override for a service, named as in the SDK's environment
// variables (e.g. "DYNAMODB" for AWS_ENDPOINT_URL_DYNAMODB), falling back to
// AWS_ENDPOINT_URL; "" means the service's regional endpoint. AWS_IGNORE_CONFIGURED_ENDPOINT_URLS
// turns the overrides off, as in the SDK.
func Endpoint(getenv func(string) string, service string) string {
	if strings.EqualFold(getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"), "true") {
		return ""
	}
	if ep := getenv("AWS_ENDPOINT_URL_" + strings.ToUpper(service)); ep != "" {
		return ep
	}
	return getenv("AWS_ENDPOINT_URL")
}

// DynamoDB returns a DynamoDB client on cfg that honours AWS_ENDPOINT_URL_DYNAMODB.
func DynamoDB(cfg aws.Config, getenv func(string) string) *dynamodb.Client {
	return dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		if ep := Endpoint(getenv, "DYNAMODB"); ep != "" {
			o.BaseEndpoint = aws.String(ep)
		}
	})
}

// SQS returns an SQS client on cfg that honours AWS_ENDPOINT_URL_SQS.
func SQS(cfg aws.Config, getenv func(string) string) *sqs.Client {
	return sqs.NewFromConfig(cfg, func(o *sqs.Options) {
		if ep := Endpoint(getenv, "SQS"); ep != "" {
			o.BaseEndpoint = aws.String(ep)
		}
	})
}
