package wsevent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"golang.org/x/sync/errgroup"

	"github.com/chatstack/websocketchatapi/internal/chat"
	"github.com/chatstack/websocketchatapi/internal/contract"
	"github.com/chatstack/websocketchatapi/internal/emf"
	"github.com/chatstack/websocketchatapi/internal/publishqueue"
)

// PublishConfig is the publish function's environment.
type PublishConfig struct {
	// LogLevel is the least level logged ([contract.EnvLogLevel]).
	LogLevel slog.Level
	// TableName is the chat table ([contract.EnvTableName]).
	TableName string
	// CallbackURL is the stage's URL, whose @connections the handler posts to.
	CallbackURL string
	// QueueURL is the publish queue ([contract.EnvPublishQueueURL]), where the rest of a
	// large room's shard goes.
	QueueURL string
	// DeadLetterQueueURL is where malformed messages go at once, with the reason
	// ([contract.EnvPublishDeadLetterQueueURL]).
	DeadLetterQueueURL string
	// HistoryRetention is how long a published message is kept.
	HistoryRetention time.Duration
	// FanoutConcurrency bounds the posts in flight of one delivery.
	FanoutConcurrency int
	// LargeRoomThreshold is as in ChatConfig.
	LargeRoomThreshold int
	// Metrics says where the handler's EMF metrics go.
	Metrics MetricsConfig
}

// LoadPublishConfig reads [contract.EnvLogLevel], [contract.EnvTableName],
// [contract.EnvCallbackURL], [contract.EnvPublishQueueURL] and
// [contract.EnvPublishDeadLetterQueueURL] (all four required),
// [contract.EnvHistoryRetentionSeconds], [contract.EnvFanoutConcurrency],
// [contract.EnvLargeRoomThreshold] and the metrics variables, with the chat handler's defaults.
// Its error names every variable that is wrong.
func LoadPublishConfig(getenv func(string) string) (PublishConfig, error) {
	r := newReader(getenv)
	c := PublishConfig{
		LogLevel:           r.logLevel(),
		TableName:          r.Required(contract.EnvTableName),
		CallbackURL:        r.stageURL(contract.EnvCallbackURL, true),
		QueueURL:           r.Required(contract.EnvPublishQueueURL),
		DeadLetterQueueURL: r.Required(contract.EnvPublishDeadLetterQueueURL),
		HistoryRetention:   r.Seconds(contract.EnvHistoryRetentionSeconds, contract.DefaultHistoryRetention, time.Second),
		FanoutConcurrency:  r.Int(contract.EnvFanoutConcurrency, contract.DefaultFanoutConcurrency, 1, contract.MaxFanoutConcurrency),
		LargeRoomThreshold: r.Int(contract.EnvLargeRoomThreshold, contract.DefaultLargeRoomThreshold, 0, contract.MaxLargeRoomThreshold),
		Metrics:            r.metrics(),
	}
	return c, r.Err()
}

// DeadLetters sends a message that can never be processed to the dead-letter queue, with the
// reason.
type DeadLetters interface {
	Send(ctx context.Context, body, reason string) error
}

// PublishHandler runs the publish queue's messages: publications and shard jobs, up to ten at
// a time. A malformed message (not JSON, or a publication the schema refuses) goes to the
// dead-letter queue at once with the reason, and is logged; a message that failed for any
// other reason is reported in the batch's failures, so that the queue tries it again (and
// after its maxReceiveCount, moves it to the dead-letter queue).
type PublishHandler struct {
	Service     *chat.Service
	DeadLetters DeadLetters
	Logger      *slog.Logger
	Metrics     *emf.Emitter
}

// Handle runs one batch.
func (h *PublishHandler) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	var (
		mu   sync.Mutex
		resp = events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
	)
	var g errgroup.Group
	g.SetLimit(10)
	for _, rec := range ev.Records {
		g.Go(func() error {
			if err := h.record(ctx, rec); err != nil {
				h.Logger.ErrorContext(ctx, "queue message failed: it will be tried again", "messageId", rec.MessageId, "receiveCount", rec.Attributes["ApproximateReceiveCount"], "error", err.Error())
				mu.Lock()
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
				mu.Unlock()
			}
			return nil
		})
	}
	_ = g.Wait()
	return resp, nil
}

// record runs one message; its error asks for the message to be tried again.
func (h *PublishHandler) record(ctx context.Context, rec events.SQSMessage) error {
	job, body, err := publishqueue.Decode(rec.Body)
	if err != nil {
		return h.deadLetter(ctx, rec, err)
	}
	if job != nil {
		stats, err := h.Service.RunShardJob(ctx, *job)
		h.emit(ctx, "shardJob", 0, stats)
		if errors.Is(err, chat.ErrInvalidShardJob) {
			return h.deadLetter(ctx, rec, err)
		}
		return err
	}
	res, err := h.Service.PublishBody(ctx, body)
	var invalid *chat.PublicationError
	if errors.As(err, &invalid) {
		return h.deadLetter(ctx, rec, err)
	}
	if err != nil {
		return err
	}
	h.Logger.InfoContext(ctx, "published", "messageId", rec.MessageId, "roomId", res.RoomID, "seq", res.Seq,
		"recipients", res.Recipients, "delivered", res.Delivered, "queued", res.Queued)
	h.emit(ctx, "publish", 1, chat.FanoutStats{Targets: res.Recipients, Delivered: res.Delivered, Undelivered: res.Undelivered, Gone: res.Gone})
	return nil
}

// deadLetter sends a message that can never be processed to the dead-letter queue with the
// reason, and logs it. Only when that fails is the message tried again (and moved to the
// dead-letter queue by the queue's redrive policy in the end).
func (h *PublishHandler) deadLetter(ctx context.Context, rec events.SQSMessage, reason error) error {
	h.Logger.ErrorContext(ctx, "queue message refused: sent to the dead-letter queue", "messageId", rec.MessageId, "reason", reason.Error())
	if err := h.DeadLetters.Send(ctx, rec.Body, reason.Error()); err != nil {
		return fmt.Errorf("send refused message to the dead-letter queue: %w", err)
	}
	return nil
}

// emit writes the metrics of one message, with its kind ("publish" or "shardJob") as the
// property "kind"; sent counts the publications. A failure to write is logged.
func (h *PublishHandler) emit(ctx context.Context, kind string, sent float64, stats chat.FanoutStats) {
	if h.Metrics == nil {
		return
	}
	if err := h.Metrics.Emit(fanoutMetrics(sent, stats), emf.Property{Name: "kind", Value: kind}); err != nil {
		h.Logger.WarnContext(ctx, "metrics not written", "error", err.Error())
	}
}
