// Package awschat builds the handlers that keep the chat in AWS, once, at init: $connect,
// $disconnect and the chat actions, each over a chat.Service made with the SDK configuration
// of Lambda's environment (package awsenv) and the chat table in DynamoDB (package
// dynamostore). The handlers that post get their Poster from the function their main passes
// (managementapi.New): a handler that never posts then does not link the @connections client.
//
// BuildConnect, BuildDisconnect(...) and BuildChat(...) are the build arguments of
// lambdamain.Start for the matching wsevent.Load*Config.
package awschat

import (
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/chatstack/websocketchatapi/internal/chat"
	"github.com/chatstack/websocketchatapi/internal/contract"
	"github.com/chatstack/websocketchatapi/internal/dynamostore"
	"github.com/chatstack/websocketchatapi/internal/emf"
	"github.com/chatstack/websocketchatapi/internal/publishqueue"
	"github.com/chatstack/websocketchatapi/lambdas/internal/awsenv"
	"github.com/chatstack/websocketchatapi/lambdas/internal/lambdamain"
	"github.com/chatstack/websocketchatapi/lambdas/internal/wsevent"
)

// BuildConnect returns the Handle method of the $connect handler of cfg. Its Service never
// posts: API Gateway refuses posts to a connection until $connect has returned.
func BuildConnect(in lambdamain.Init, cfg wsevent.ConnectConfig) (any, error) {
	logger := wsevent.NewLogger(in.Stdout, cfg.LogLevel)
	svc, err := newService(in.Getenv, cfg.TableName, nil, chat.Options{ConnectionTTL: cfg.ConnectionTTL, Logger: logger})
	if err != nil {
		return nil, err
	}
	return (&wsevent.ConnectHandler{Service: svc, Subprotocol: cfg.Subprotocol, Origins: cfg.Origins, Logger: logger}).Handle, nil
}

// BuildDisconnect returns the builder of the $disconnect handler, whose Service tells the rooms
// of a closing connection that its user left, posting through the client that newPoster makes
// for the configuration's callback URL (managementapi.New in production), and writes the
// metrics of those broadcasts to the Init's Stdout; without a callback URL it never posts.
func BuildDisconnect[P chat.Poster](newPoster func(aws.Config, string) P) func(lambdamain.Init, wsevent.DisconnectConfig) (any, error) {
	return func(in lambdamain.Init, cfg wsevent.DisconnectConfig) (any, error) {
		o := chat.Options{Fanout: chat.FanoutOptions{Concurrency: cfg.FanoutConcurrency}}
		o.Logger = wsevent.NewLogger(in.Stdout, cfg.LogLevel)
		metrics, err := newEmitter(in, cfg.Metrics)
		if err != nil {
			return nil, err
		}
		svc, err := newService(in.Getenv, cfg.TableName, posterOf(newPoster, cfg.CallbackURL), o)
		if err != nil {
			return nil, err
		}
		return (&wsevent.DisconnectHandler{Service: svc, Logger: o.Logger, Metrics: metrics}).Handle, nil
	}
}

// BuildChat returns the builder of the chat handler, which posts through the client that
// newPoster makes for the configuration's callback URL (managementapi.New in production) and
// writes its metrics to the Init's Stdout.
func BuildChat[P chat.Poster](newPoster func(aws.Config, string) P) func(lambdamain.Init, wsevent.ChatConfig) (any, error) {
	return func(in lambdamain.Init, cfg wsevent.ChatConfig) (any, error) {
		h := &wsevent.ChatHandler{Logger: wsevent.NewLogger(in.Stdout, cfg.LogLevel)}
		var err error
		h.Metrics, err = newEmitter(in, cfg.Metrics)
		if err != nil {
			return nil, err
		}
		h.Service, err = newService(in.Getenv, cfg.TableName, posterOf(newPoster, cfg.CallbackURL), chat.Options{
			HistoryRetention:   cfg.HistoryRetention,
			Fanout:             chat.FanoutOptions{Concurrency: cfg.FanoutConcurrency},
			RateLimit:          cfg.RateLimit,
			Logger:             h.Logger,
			Queue:              queueOf(in.Getenv, cfg.PublishQueueURL),
			LargeRoomThreshold: cfg.LargeRoomThreshold,
			DirectMessages:     cfg.DirectMessages,
		})
		if err != nil {
			return nil, err
		}
		return h.Handle, nil
	}
}

// BuildPublish returns the builder of the publish function's handler, which posts through the
// client that newPoster makes for the configuration's callback URL, queues the rest of large
// rooms' shards on the publish queue and sends malformed messages to its dead-letter queue.
func BuildPublish[P chat.Poster](newPoster func(aws.Config, string) P) func(lambdamain.Init, wsevent.PublishConfig) (any, error) {
	return func(in lambdamain.Init, cfg wsevent.PublishConfig) (any, error) {
		h := &wsevent.PublishHandler{Logger: wsevent.NewLogger(in.Stdout, cfg.LogLevel)}
		var err error
		if h.Metrics, err = newEmitter(in, cfg.Metrics); err != nil {
			return nil, err
		}
		awsCfg, err := awsenv.Config(in.Getenv)
		if err != nil {
			return nil, fmt.Errorf("load AWS config: %w", err)
		}
		queues := awsenv.SQS(awsCfg, in.Getenv) // one client for the queue and its dead letters
		h.Service, err = newService(in.Getenv, cfg.TableName, posterOf(newPoster, cfg.CallbackURL), chat.Options{
			HistoryRetention:   cfg.HistoryRetention,
			Fanout:             chat.FanoutOptions{Concurrency: cfg.FanoutConcurrency},
			Logger:             h.Logger,
			Queue:              publishqueue.New(queues, cfg.QueueURL),
			LargeRoomThreshold: cfg.LargeRoomThreshold,
		})
		if err != nil {
			return nil, err
		}
		h.DeadLetters = publishqueue.NewDeadLetters(queues, cfg.DeadLetterQueueURL)
		return h.Handle, nil
	}
}

// queueOf returns the chat.Queue of the publish queue at url, or nil when url is "" (or the
// SDK configuration cannot be loaded: newService reports that).
func queueOf(getenv func(string) string, url string) chat.Queue {
	if url == "" {
		return nil
	}
	cfg, err := awsenv.Config(getenv)
	if err != nil {
		return nil
	}
	return publishqueue.New(awsenv.SQS(cfg, getenv), url)
}

// newEmitter returns the EMF emitter of a handler's metrics, writing to the Init's Stdout.
func newEmitter(in lambdamain.Init, m wsevent.MetricsConfig) (*emf.Emitter, error) {
	e, err := emf.New(in.Stdout, m.Namespace, []emf.Dimension{{Name: contract.DimensionService, Value: m.Service}})
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	return e, nil
}

// newService returns a chat.Service over the chat table tableName, with the SDK configuration
// of Lambda's environment, read with getenv (see awsenv.Config). poster, when not nil, makes
// the Service's Poster from that configuration (see posterOf); with a nil poster the Service
// never posts.
func newService(getenv func(string) string, tableName string, poster func(aws.Config) chat.Poster, o chat.Options) (*chat.Service, error) {
	cfg, err := awsenv.Config(getenv)
	if err != nil {
		return nil, fmt.Errorf("load AWS config: %w", err)
	}
	var p chat.Poster
	if poster != nil {
		p = poster(cfg)
	}
	return chat.NewService(dynamostore.New(awsenv.DynamoDB(cfg, getenv), tableName), p, o)
}

// posterOf returns the poster argument of newService for the stage whose callback URL is
// callbackURL, made by newPoster, or nil when callbackURL is "".
func posterOf[P chat.Poster](newPoster func(aws.Config, string) P, callbackURL string) func(aws.Config) chat.Poster {
	if callbackURL == "" {
		return nil
	}
	return func(cfg aws.Config) chat.Poster { return newPoster(cfg, callbackURL) }
}
