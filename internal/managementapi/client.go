// Package managementapi is the chat.Poster over API Gateway's @connections API (the
// ApiGatewayManagementApi service), with its errors mapped to the chat package's: 410 to
// chat.ErrGone, throttling and 5xx to *chat.TransientError.
package managementapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/apigatewaymanagementapi"
	"github.com/aws/aws-sdk-go-v2/service/apigatewaymanagementapi/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/chatstack/websocketchatapi/internal/chat"
)

// maxIdleConnsPerHost keeps enough idle connections to the one @connections host for a
// fan-out's concurrent posts (the SDK's default of 10 would reopen TLS connections).
const maxIdleConnsPerHost = 128

// Client posts to, reads and closes WebSocket connections. It implements chat.Poster and is
// safe for concurrent use.
type Client struct {
	api *apigatewaymanagementapi.Client
}

var _ chat.Poster = (*Client)(nil)

// New returns a Client for the stage whose callback URL is callbackURL, such as
// https://abc123.execute-api.us-east-1.amazonaws.com/prod (built from the API id, region and
// stage, not from a request's domainName, which custom domains change).
//
// The SDK's own retries are off: chat.Service retries transient failures with its own
// backoff and deadline.
func New(cfg aws.Config, callbackURL string) *Client {
	callbackURL = strings.TrimRight(callbackURL, "/")
	var httpClient aws.HTTPClient = cfg.HTTPClient
	switch c := cfg.HTTPClient.(type) {
	case nil:
		httpClient = awshttp.NewBuildableClient().WithTransportOptions(raiseIdleConns)
	case *awshttp.BuildableClient:
		httpClient = c.WithTransportOptions(raiseIdleConns)
	}
	api := apigatewaymanagementapi.NewFromConfig(cfg, func(o *apigatewaymanagementapi.Options) {
		o.BaseEndpoint = aws.String(callbackURL)
		o.Retryer = aws.NopRetryer{}
		o.RetryMaxAttempts = 1
		o.HTTPClient = httpClient
	})
	return &Client{api: api}
}

func raiseIdleConns(t *http.Transport) {
	t.MaxIdleConnsPerHost = maxIdleConnsPerHost
	t.MaxIdleConns = max(t.MaxIdleConns, maxIdleConnsPerHost)
}

// Post sends data to a connection. The error wraps chat.ErrGone when the connection is
// closed (410), is a *chat.TransientError on throttling (429, LimitExceededException), 5xx or
// a failure to reach API Gateway, and names the connection otherwise.
func (c *Client) Post(ctx context.Context, connectionID string, data []byte) error {
	_, err := c.api.PostToConnection(ctx, &apigatewaymanagementapi.PostToConnectionInput{
		ConnectionId: aws.String(connectionID),
		Data:         data,
	})
	return mapError(ctx, "post to", connectionID, err)
}

// Delete closes a connection. Closing one that is already gone returns an error wrapping
// chat.ErrGone.
func (c *Client) Delete(ctx context.Context, connectionID string) error {
	_, err := c.api.DeleteConnection(ctx, &apigatewaymanagementapi.DeleteConnectionInput{
		ConnectionId: aws.String(connectionID),
	})
	return mapError(ctx, "delete", connectionID, err)
}

// ConnectionInfo is what API Gateway knows of a live connection.
type ConnectionInfo struct {
	// ConnectedAt is when the connection opened; LastActiveAt when it last sent or received.
	ConnectedAt  time.Time
	LastActiveAt time.Time
	// SourceIP and UserAgent are the client's, from the handshake.
	SourceIP  string
	UserAgent string
}

// Get describes a connection. The error wraps chat.ErrGone when it is closed.
func (c *Client) Get(ctx context.Context, connectionID string) (ConnectionInfo, error) {
	out, err := c.api.GetConnection(ctx, &apigatewaymanagementapi.GetConnectionInput{
		ConnectionId: aws.String(connectionID),
	})
	if err != nil {
		return ConnectionInfo{}, mapError(ctx, "get", connectionID, err)
	}
	info := ConnectionInfo{
		ConnectedAt:  aws.ToTime(out.ConnectedAt),
		LastActiveAt: aws.ToTime(out.LastActiveAt),
	}
	if out.Identity != nil {
		info.SourceIP = aws.ToString(out.Identity.SourceIp)
		info.UserAgent = aws.ToString(out.Identity.UserAgent)
	}
	return info, nil
}

// mapError turns an SDK error into the chat package's vocabulary.
func mapError(ctx context.Context, op, connectionID string, err error) error {
	if err == nil {
		return nil
	}
	wrapped := fmt.Errorf("managementapi: %s connection %s: %w", op, connectionID, err)
	var (
		gone    *types.GoneException
		limit   *types.LimitExceededException
		resp    *awshttp.ResponseError
		sendErr *smithyhttp.RequestSendError
	)
	hasResp := errors.As(err, &resp)
	switch {
	case errors.As(err, &gone), hasResp && resp.HTTPStatusCode() == http.StatusGone:
		return fmt.Errorf("%w: %w", chat.ErrGone, wrapped)
	case errors.As(err, &limit):
		return &chat.TransientError{Err: wrapped}
	case hasResp && (resp.HTTPStatusCode() == http.StatusTooManyRequests || resp.HTTPStatusCode() >= 500):
		return &chat.TransientError{Err: wrapped}
	case errors.As(err, &sendErr) && ctx.Err() == nil:
		// The request did not get an answer (connection refused or reset): worth a retry,
		// as the SDK's own retryer would have made.
		return &chat.TransientError{Err: wrapped}
	default:
		return wrapped
	}
}
