package awschat_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/chatstack/websocketchatapi/internal/managementapi"
	"github.com/chatstack/websocketchatapi/lambdas/internal/awschat"
	"github.com/chatstack/websocketchatapi/lambdas/internal/lambdamain"
	"github.com/chatstack/websocketchatapi/lambdas/internal/wsevent"
)

// lambdaEnv is the environment Lambda gives a function, as awsenv reads it.
func lambdaEnv(k string) string {
	return map[string]string{"AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "secret"}[k]
}

type handle = func(context.Context, events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error)

func TestBuildersMakeHandlers(t *testing.T) {
	in := lambdamain.Init{Getenv: lambdaEnv, Stdout: &bytes.Buffer{}}
	builds := map[string]func() (any, error){
		"connect": func() (any, error) {
			return awschat.BuildConnect(in, wsevent.ConnectConfig{TableName: "chat"})
		},
		"disconnect without callback URL": func() (any, error) {
			return awschat.BuildDisconnect(managementapi.New)(in, wsevent.DisconnectConfig{TableName: "chat", Metrics: wsevent.MetricsConfig{Namespace: "Chat", Service: "chat"}})
		},
		"disconnect": func() (any, error) {
			return awschat.BuildDisconnect(managementapi.New)(in, wsevent.DisconnectConfig{TableName: "chat", CallbackURL: "https://x.example/prod", Metrics: wsevent.MetricsConfig{Namespace: "Chat", Service: "chat"}})
		},
		"chat": func() (any, error) {
			return awschat.BuildChat(managementapi.New)(in, wsevent.ChatConfig{TableName: "chat", CallbackURL: "https://x.example/prod", Metrics: wsevent.MetricsConfig{Namespace: "Chat", Service: "chat"}})
		},
	}
	for name, build := range builds {
		h, err := build()
		if _, ok := h.(handle); err != nil || !ok {
			t.Errorf("%s: %T, %v, want a WebSocket event handler", name, h, err)
		}
	}
}

func TestBuildersFailWithoutAWSEnvironment(t *testing.T) {
	in := lambdamain.Init{Getenv: func(string) string { return "" }, Stdout: &bytes.Buffer{}}
	if _, err := awschat.BuildConnect(in, wsevent.ConnectConfig{TableName: "chat"}); err == nil || !strings.Contains(err.Error(), "AWS_REGION") {
		t.Errorf("error %v, want one naming AWS_REGION", err)
	}
	if _, err := awschat.BuildChat(managementapi.New)(in, wsevent.ChatConfig{TableName: "chat", Metrics: wsevent.MetricsConfig{Namespace: "AWS/Chat"}}); err == nil || !strings.Contains(err.Error(), "metrics") {
		t.Errorf("error %v, want the metrics namespace refused", err)
	}
}
