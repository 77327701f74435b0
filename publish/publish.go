// Package publish lets a Go backend push to the chat at any time: a chat message in a named
// sender's name, or an application event, to a room, to a user (every connection of theirs)
// or to one connection.
//
// # The contract
//
//   - A Message is stored and numbered like any chat message: in the room, or in the
//     conversation of its sender and the user (protocol.ConversationID), which the user reads
//     with history and resumes with joinroom. Members receive it as a "message" frame with
//     "system": true.
//   - An Event reaches the connections live as an "event" frame with its own eventType and
//     JSON data. It is not stored, so a client that is offline never gets it, unless it was
//     made with StoredEvent (rooms only): it is then numbered and delivered as a "message"
//     frame carrying eventType and data.
//   - Delivery is the chat's own: the room's members read from its index (never a scan),
//     posted with bounded concurrency, throttling and 5xx retried with backoff, closed
//     connections (410) removed. A room above the large-room threshold is delivered from the
//     publish queue in parallel shards: the Result then says Queued.
//   - A room or user with nobody connected gives a Result with zero Recipients, not an error.
//     A publication the protocol refuses (oversize, a bad event type, an empty text) gives an
//     *Error naming the field; nothing was stored or posted.
//
// The process needs what the construct's GrantPublish grants, and the values that its
// ConfigurePublisher puts in the function's environment, which FromEnv reads.
//
// Without Go, the same publications go on the construct's publish queue as JSON (see
// protocol.Publish and protocol's publish schema); Body builds that JSON.
package publish

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/chatstack/websocketchatapi/internal/chat"
	"github.com/chatstack/websocketchatapi/internal/contract"
	"github.com/chatstack/websocketchatapi/internal/dynamostore"
	"github.com/chatstack/websocketchatapi/internal/managementapi"
	"github.com/chatstack/websocketchatapi/internal/publishqueue"
	"github.com/chatstack/websocketchatapi/protocol"
)

// Config says where the chat is. TableName and CallbackURL are required.
type Config struct {
	// TableName is the chat table (the construct's Table()).
	TableName string
	// CallbackURL is the stage's https URL (the construct's CallbackUrl()).
	CallbackURL string
	// QueueURL is the publish queue (the construct's PublishQueue()): large rooms are
	// delivered through it. Empty delivers every room inline, in this process.
	QueueURL string
	// LargeRoomThreshold is the member count above which a room is delivered through the
	// queue. Default contract.DefaultLargeRoomThreshold (the construct's default); set it to
	// the construct's LargeRoomThreshold when that differs.
	LargeRoomThreshold int
	// HistoryRetention is how long published messages are kept. Default 30 days (the
	// construct's default).
	HistoryRetention time.Duration
	// Concurrency bounds the posts in flight of one publication. Default 32.
	Concurrency int
	// Logger receives delivery failures. Default: discard.
	Logger *slog.Logger
	// DynamoDBEndpoint and SQSEndpoint replace the SDK's endpoints of those services, for
	// local emulators. Empty keeps cfg's.
	DynamoDBEndpoint, SQSEndpoint string
}

// FromEnv returns the Config that the construct's ConfigurePublisher sets in a function's
// environment: WEBSOCKETCHAT_TABLE_NAME, WEBSOCKETCHAT_CALLBACK_URL and
// WEBSOCKETCHAT_PUBLISH_QUEUE_URL. Its error names the variables missing.
func FromEnv() (Config, error) {
	c := Config{
		TableName:   os.Getenv(contract.EnvPublisherTableName),
		CallbackURL: os.Getenv(contract.EnvPublisherCallbackURL),
		QueueURL:    os.Getenv(contract.EnvPublisherQueueURL),
	}
	var missing []string
	for name, v := range map[string]string{contract.EnvPublisherTableName: c.TableName, contract.EnvPublisherCallbackURL: c.CallbackURL} {
		if v == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return c, fmt.Errorf("publish: %v not set (the construct's ConfigurePublisher sets them)", missing)
	}
	return c, nil
}

// Publisher publishes to one chat. It is safe for concurrent use; make one at init.
type Publisher struct {
	svc *chat.Service
}

// New returns a Publisher over the chat c describes, with the SDK configuration cfg (its
// region, credentials and endpoints: AWS_ENDPOINT_URL_DYNAMODB and AWS_ENDPOINT_URL_SQS are
// honoured by the SDK as usual).
func New(cfg aws.Config, c Config) (*Publisher, error) {
	if c.TableName == "" {
		return nil, errors.New("publish: Config.TableName is empty")
	}
	if u, err := url.Parse(c.CallbackURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("publish: Config.CallbackURL %q is not the stage's https URL", c.CallbackURL)
	}
	if c.LargeRoomThreshold < 0 || c.LargeRoomThreshold > contract.MaxLargeRoomThreshold {
		return nil, fmt.Errorf("publish: Config.LargeRoomThreshold %d, want 0 to %d", c.LargeRoomThreshold, contract.MaxLargeRoomThreshold)
	}
	if c.LargeRoomThreshold == 0 {
		c.LargeRoomThreshold = contract.DefaultLargeRoomThreshold
	}
	o := chat.Options{
		HistoryRetention:   c.HistoryRetention,
		Fanout:             chat.FanoutOptions{Concurrency: c.Concurrency},
		Logger:             c.Logger,
		LargeRoomThreshold: c.LargeRoomThreshold,
	}
	if c.QueueURL != "" {
		o.Queue = publishqueue.New(sqs.NewFromConfig(cfg, func(o *sqs.Options) {
			if c.SQSEndpoint != "" {
				o.BaseEndpoint = aws.String(c.SQSEndpoint)
			}
		}), c.QueueURL)
	}
	db := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		if c.DynamoDBEndpoint != "" {
			o.BaseEndpoint = aws.String(c.DynamoDBEndpoint)
		}
	})
	store := dynamostore.New(db, c.TableName)
	svc, err := chat.NewService(store, managementapi.New(cfg, c.CallbackURL), o)
	if err != nil {
		return nil, fmt.Errorf("publish: %w", err)
	}
	return &Publisher{svc: svc}, nil
}

// Sender is who a Message is from: an id of the backend's choosing (e.g. "system:orders")
// and a display name.
type Sender = protocol.Sender

// Content is what is published: a Message, an Event or a StoredEvent.
type Content struct {
	message *protocol.PublishMessage
	event   *protocol.PublishEvent
	err     error
}

// Message is a chat message from sender.
func Message(from Sender, text string) Content {
	return Content{message: &protocol.PublishMessage{Text: text, Sender: from}}
}

// Event is an application event of the given type with data (any value encoding/json
// marshals; nil for none), delivered live and not stored.
func Event(eventType string, data any) Content {
	c := Content{event: &protocol.PublishEvent{Type: eventType}}
	if data != nil {
		c.event.Data, c.err = json.Marshal(data)
		if c.err != nil {
			c.err = &Error{Field: "event.data", Reason: "not encodable as JSON: " + c.err.Error()}
		}
	}
	return c
}

// StoredEvent is an Event that is also stored in the room's history with a sequence number.
// Only rooms store events.
func StoredEvent(eventType string, data any) Content {
	c := Event(eventType, data)
	c.event.Store = true
	return c
}

// Error refuses a publication, naming the field at fault ("event.type", "message.text", ...).
type Error = chat.PublicationError

// Result says what a publication did.
type Result struct {
	// RoomID, Seq and MessageID are where the publication was stored, for a Message or a
	// StoredEvent: the room, or the conversation of the sender and the user.
	RoomID    string
	Seq       int64
	MessageID string
	// Recipients counts the connections posted to: Delivered reached, Undelivered could not
	// be reached after retries, Gone were closed and removed.
	Recipients, Delivered, Undelivered, Gone int
	// Queued is set when the room was large: delivery runs from the publish queue, and the
	// counts are zero.
	Queued bool
}

// ToRoom publishes c to the connections in room roomID.
func (p *Publisher) ToRoom(ctx context.Context, roomID string, c Content) (Result, error) {
	return p.publish(ctx, protocol.Publish{RoomID: roomID}, c)
}

// ToUser publishes c to every connection of user userID.
func (p *Publisher) ToUser(ctx context.Context, userID string, c Content) (Result, error) {
	return p.publish(ctx, protocol.Publish{UserID: userID}, c)
}

// ToConnection publishes c to one connection.
func (p *Publisher) ToConnection(ctx context.Context, connectionID string, c Content) (Result, error) {
	return p.publish(ctx, protocol.Publish{ConnectionID: connectionID}, c)
}

func (p *Publisher) publish(ctx context.Context, to protocol.Publish, c Content) (Result, error) {
	if c.err != nil {
		return Result{}, c.err
	}
	to.Message, to.Event = c.message, c.event
	r, err := p.svc.Publish(ctx, to)
	return Result(r), err
}

// Body returns the publish queue message that publishes c to the target named by exactly one
// of roomID, userID and connectionID, checked against protocol's publish schema: the JSON to
// send with sqs:SendMessage (or from SNS, EventBridge, Step Functions).
func Body(roomID, userID, connectionID string, c Content) ([]byte, error) {
	if c.err != nil {
		return nil, c.err
	}
	body, err := json.Marshal(protocol.Publish{RoomID: roomID, UserID: userID, ConnectionID: connectionID, Message: c.message, Event: c.event})
	if err != nil {
		return nil, fmt.Errorf("publish: %w", err)
	}
	if _, err := chat.CheckPublicationBody(body); err != nil {
		return nil, err
	}
	return body, nil
}
