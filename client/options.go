package client

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"regexp"
	"time"

	"github.com/chatstack/websocketchatapi/internal/contract"
)

// Defaults of [Options]: a zero field takes the value named here. They are the only place the
// package spells its defaults.
const (
	// DefaultMinBackoff is the ceiling of the first reconnect's (and retry's) random wait.
	DefaultMinBackoff = 500 * time.Millisecond
	// DefaultMaxBackoff caps every reconnect's (and retry's) random wait.
	DefaultMaxBackoff = 30 * time.Second
	// DefaultHeartbeatInterval is how long a connection may stay without sending before the
	// client sends a ping: half of API Gateway's 10-minute idle timeout.
	DefaultHeartbeatInterval = 5 * time.Minute
	// DefaultPongTimeout is how long the client waits for a ping's pong before it counts the
	// connection dead.
	DefaultPongTimeout = 30 * time.Second
	// DefaultMaxConnectionAge is when the client replaces a connection proactively: 10 minutes
	// before API Gateway's 2-hour cap.
	DefaultMaxConnectionAge = 1*time.Hour + 50*time.Minute
	// DefaultRequestTimeout bounds a handshake, and the wait for a request's answer before the
	// request is sent again.
	DefaultRequestTimeout = 30 * time.Second
	// DefaultGapTimeout is how long a gap in a room's sequence may stay open before the client
	// reads the missing messages from history.
	DefaultGapTimeout = 2 * time.Second
	// DefaultEventBuffer is how many events [Client.Events] holds before the client waits for
	// the application to take them.
	DefaultEventBuffer = 256
)

// API Gateway's limits that bound the options.
const (
	// GatewayIdleTimeout is API Gateway's idle timeout: a connection without messages for that
	// long is closed (1001).
	GatewayIdleTimeout = 10 * time.Minute
	// GatewayMaxConnectionAge is API Gateway's cap on a connection's life.
	GatewayMaxConnectionAge = 2 * time.Hour
)

// TokenTransport says how the token reaches the server's $connect authorizer.
type TokenTransport int

const (
	// TokenInQuery sends the token as the "token" query string parameter (the default).
	TokenInQuery TokenTransport = iota
	// TokenInSubprotocol offers the subprotocols [Options.Subprotocol] and "bearer.<token>",
	// as browsers must; the server answers with [Options.Subprotocol].
	TokenInSubprotocol
)

// regionPattern is the shape of an AWS region name.
var regionPattern = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)

// tokenQueryParam and bearerPrefix are where the authorizer looks for the token.
const (
	tokenQueryParam = "token"
	bearerPrefix    = "bearer."
)

// Options configure a [Client]. Token, or AWSCredentials with AWSRegion, is required; every
// zero field takes its Default* value.
type Options struct {
	// Token returns the token to connect with. It is called before every connection (the
	// first and each reconnect), so it can refresh an expiring token. Required unless
	// AWSCredentials is set; not both.
	Token func(ctx context.Context) (string, error)
	// AWSCredentials returns the AWS credentials that sign each handshake with SigV4
	// (service execute-api), for an API whose $connect uses IAM authorization
	// (chatapi.IamAuthentication). It is called before every connection, so it can return
	// refreshed temporary credentials. Not with Token.
	AWSCredentials func(ctx context.Context) (AWSCredentials, error)
	// AWSRegion is the API's region, e.g. eu-west-1 (the region in its execute-api host).
	// Required with AWSCredentials.
	AWSRegion string
	// AWSSignatureInQuery puts the signature in the URL's query string (a presigned URL)
	// instead of the Authorization header. Default false (the header).
	AWSSignatureInQuery bool
	// TokenTransport says how the token is sent. Default TokenInQuery.
	TokenTransport TokenTransport
	// Subprotocol is the chat subprotocol offered with TokenInSubprotocol, which the server
	// must answer with. Default "chat.v1".
	Subprotocol string

	// MinBackoff and MaxBackoff bound the waits between reconnect attempts, and between
	// retries of a request refused with rate_limited or internal_error. Attempt n waits a
	// random duration between 0 and min(MaxBackoff, MinBackoff·2ⁿ) ("full jitter").
	// Defaults DefaultMinBackoff and DefaultMaxBackoff; MaxBackoff must be ≥ MinBackoff.
	MinBackoff time.Duration
	MaxBackoff time.Duration

	// HeartbeatInterval: when the client sent nothing on a connection for that long, it sends
	// {"action":"ping"}. It must be below GatewayIdleTimeout. Default DefaultHeartbeatInterval.
	HeartbeatInterval time.Duration
	// PongTimeout: a ping's pong missing for that long counts the connection dead, and the
	// client reconnects. Default DefaultPongTimeout.
	PongTimeout time.Duration
	// MaxConnectionAge: a connection this old is replaced; the new one is opened and every
	// room resumed on it before the old one is closed. It must be below
	// GatewayMaxConnectionAge. Default DefaultMaxConnectionAge.
	MaxConnectionAge time.Duration
	// RequestTimeout bounds a connection's handshake, and the wait for the answer of a
	// request, which is then sent again. Default DefaultRequestTimeout.
	RequestTimeout time.Duration
	// GapTimeout is how long a gap in a room's sequence numbers may stay open (a later
	// message arrived, an earlier one not) before the client reads the missing ones from
	// history. Default DefaultGapTimeout.
	GapTimeout time.Duration
	// EventBuffer is the capacity of the channel [Client.Events] returns. Default
	// DefaultEventBuffer.
	EventBuffer int

	// HTTPClient makes the handshakes. Default http.DefaultClient.
	HTTPClient *http.Client
	// Logger receives what the client cannot return to a caller: dropped connections, API
	// Gateway's own error frames, failed gap fills. Default: discard.
	Logger *slog.Logger

	// clock and rand replace time and randomness in tests.
	clock clock
	rand  *rand.Rand
}

// withDefaults returns o with every zero field set to its default.
func (o Options) withDefaults() Options {
	setDuration(&o.MinBackoff, DefaultMinBackoff)
	setDuration(&o.MaxBackoff, DefaultMaxBackoff)
	setDuration(&o.HeartbeatInterval, DefaultHeartbeatInterval)
	setDuration(&o.PongTimeout, DefaultPongTimeout)
	setDuration(&o.MaxConnectionAge, DefaultMaxConnectionAge)
	setDuration(&o.RequestTimeout, DefaultRequestTimeout)
	setDuration(&o.GapTimeout, DefaultGapTimeout)
	if o.EventBuffer == 0 {
		o.EventBuffer = DefaultEventBuffer
	}
	if o.Subprotocol == "" {
		o.Subprotocol = contract.Subprotocol
	}
	if o.HTTPClient == nil {
		o.HTTPClient = http.DefaultClient
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.clock == nil {
		o.clock = realClock{}
	}
	if o.rand == nil {
		o.rand = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	return o
}

func setDuration(d *time.Duration, def time.Duration) {
	if *d == 0 {
		*d = def
	}
}

// check reports the first option that breaks its rule. It runs on the options with defaults.
func (o Options) check() error {
	switch {
	case o.Token == nil && o.AWSCredentials == nil:
		return fmt.Errorf("client: Options.Token is required (or Options.AWSCredentials for IAM authorization)")
	case o.Token != nil && o.AWSCredentials != nil:
		return fmt.Errorf("client: Options.Token and Options.AWSCredentials exclude each other: an API authorizes $connect one way")
	case o.AWSCredentials != nil && !regionPattern.MatchString(o.AWSRegion):
		return fmt.Errorf("client: Options.AWSRegion (%q) must name the API's region, such as eu-west-1, with Options.AWSCredentials", o.AWSRegion)
	case o.AWSCredentials == nil && o.AWSRegion != "":
		return fmt.Errorf("client: Options.AWSRegion is set without Options.AWSCredentials")
	}
	if o.TokenTransport != TokenInQuery && o.TokenTransport != TokenInSubprotocol {
		return fmt.Errorf("client: Options.TokenTransport (%d) must be TokenInQuery or TokenInSubprotocol", o.TokenTransport)
	}
	for _, d := range []struct {
		name  string
		value time.Duration
	}{
		{"MinBackoff", o.MinBackoff}, {"HeartbeatInterval", o.HeartbeatInterval},
		{"PongTimeout", o.PongTimeout}, {"MaxConnectionAge", o.MaxConnectionAge},
		{"RequestTimeout", o.RequestTimeout}, {"GapTimeout", o.GapTimeout},
	} {
		if d.value < 0 {
			return fmt.Errorf("client: Options.%s (%v) must be positive (0 picks the default)", d.name, d.value)
		}
	}
	if o.MaxBackoff < o.MinBackoff {
		return fmt.Errorf("client: Options.MaxBackoff (%v) must be ≥ Options.MinBackoff (%v)", o.MaxBackoff, o.MinBackoff)
	}
	if o.HeartbeatInterval >= GatewayIdleTimeout {
		return fmt.Errorf("client: Options.HeartbeatInterval (%v) must be below API Gateway's idle timeout (%v)", o.HeartbeatInterval, GatewayIdleTimeout)
	}
	if o.MaxConnectionAge >= GatewayMaxConnectionAge {
		return fmt.Errorf("client: Options.MaxConnectionAge (%v) must be below API Gateway's connection cap (%v)", o.MaxConnectionAge, GatewayMaxConnectionAge)
	}
	if o.EventBuffer < 0 {
		return fmt.Errorf("client: Options.EventBuffer (%d) must be positive (0 picks the default)", o.EventBuffer)
	}
	return nil
}

// checkURL parses a chat URL: ws:// or wss://, without a token of its own.
func checkURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("client: url %q does not parse", raw)
	}
	if u.Scheme != "ws" && u.Scheme != "wss" {
		return nil, fmt.Errorf("client: url %q must start with ws:// or wss://", redact(u))
	}
	if u.Host == "" {
		return nil, fmt.Errorf("client: url %q names no host", redact(u))
	}
	if u.Query().Has("X-Amz-Signature") {
		return nil, fmt.Errorf("client: url %q is presigned: give credentials with Options.AWSCredentials", redact(u))
	}
	if u.Query().Has(tokenQueryParam) {
		return nil, fmt.Errorf("client: url %q carries a token: give it with Options.Token", redact(u))
	}
	return u, nil
}

// redact returns u without its query string, which may hold a token.
func redact(u *url.URL) string {
	c := *u
	c.RawQuery = ""
	c.User = nil
	return c.String()
}
