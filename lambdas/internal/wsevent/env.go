package wsevent

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/chatstack/websocketchatapi/lambdas/internal/chat"
	"github.com/chatstack/websocketchatapi/protocol/selection"
)

// Environment variables of the handlers, as the construct sets them.
const (
	EnvLogLevel                = "LOG_LEVEL"
	EnvTableName               = "TABLE_NAME"
	EnvConnectionTTLSeconds    = "CONNECTION_TTL_SECONDS"
	EnvSubprotocol             = "SUBPROTOCOL"
	EnvCallbackURL             = "CALLBACK_URL"
	EnvHistoryRetentionSeconds = "HISTORY_RETENTION_SECONDS"
	EnvFanoutConcurrency       = "FANOUT_CONCURRENCY"
	EnvChatActions             = "CHAT_ACTIONS"
	EnvRouteSelection          = "ROUTE_SELECTION_EXPRESSION"
)

// Defaults and bounds of the environment.
const (
	DefaultSubprotocol    = "chat.v1"
	DefaultRouteSelection = "$request.body.action"
	// MinConnectionTTL is API Gateway's connection cap: a connection item must not expire
	// while its connection may still be open.
	MinConnectionTTL = 2 * time.Hour
	// MaxFanoutConcurrency bounds FANOUT_CONCURRENCY.
	MaxFanoutConcurrency = 1000
)

// Getenv reads one environment variable, as os.Getenv does.
type Getenv func(key string) string

// ConnectConfig is the $connect handler's environment.
type ConnectConfig struct {
	LogLevel      slog.Level
	TableName     string
	ConnectionTTL time.Duration
	Subprotocol   string
}

// LoadConnectConfig reads LOG_LEVEL, TABLE_NAME, CONNECTION_TTL_SECONDS (default 7800) and
// SUBPROTOCOL (default chat.v1). Its error names every variable that is wrong.
func LoadConnectConfig(getenv Getenv) (ConnectConfig, error) {
	r := reader{getenv: getenv}
	c := ConnectConfig{
		LogLevel:      r.logLevel(),
		TableName:     r.required(EnvTableName),
		ConnectionTTL: r.seconds(EnvConnectionTTLSeconds, chat.DefaultConnectionTTL, MinConnectionTTL),
		Subprotocol:   r.token(EnvSubprotocol, DefaultSubprotocol),
	}
	return c, r.err()
}

// DisconnectConfig is the $disconnect handler's environment.
type DisconnectConfig struct {
	LogLevel  slog.Level
	TableName string
}

// LoadDisconnectConfig reads LOG_LEVEL and TABLE_NAME.
func LoadDisconnectConfig(getenv Getenv) (DisconnectConfig, error) {
	r := reader{getenv: getenv}
	c := DisconnectConfig{LogLevel: r.logLevel(), TableName: r.required(EnvTableName)}
	return c, r.err()
}

// ChatConfig is the chat handler's environment.
type ChatConfig struct {
	LogLevel          slog.Level
	TableName         string
	CallbackURL       string
	HistoryRetention  time.Duration
	FanoutConcurrency int
}

// LoadChatConfig reads LOG_LEVEL, TABLE_NAME, CALLBACK_URL (an absolute http(s) URL of the
// stage, such as https://abc123.execute-api.us-east-1.amazonaws.com/prod),
// HISTORY_RETENTION_SECONDS (default 30 days) and FANOUT_CONCURRENCY (default 32, at most
// 1000).
//
// CONNECTION_TTL_SECONDS is not read: the chat handler never creates a connection item, it
// requires the one $connect stored, and memberships expire with it.
func LoadChatConfig(getenv Getenv) (ChatConfig, error) {
	r := reader{getenv: getenv}
	c := ChatConfig{
		LogLevel:          r.logLevel(),
		TableName:         r.required(EnvTableName),
		CallbackURL:       r.callbackURL(EnvCallbackURL),
		HistoryRetention:  r.seconds(EnvHistoryRetentionSeconds, chat.DefaultHistoryRetention, time.Second),
		FanoutConcurrency: r.intRange(EnvFanoutConcurrency, chat.DefaultFanoutConcurrency, 1, MaxFanoutConcurrency),
	}
	return c, r.err()
}

// DefaultConfig is the $default handler's environment.
type DefaultConfig struct {
	LogLevel       slog.Level
	Actions        []string
	RouteSelection *selection.Expression
}

// LoadDefaultConfig reads LOG_LEVEL, CHAT_ACTIONS (required: comma-separated route keys, no
// empty or duplicate entries) and ROUTE_SELECTION_EXPRESSION (default $request.body.action).
func LoadDefaultConfig(getenv Getenv) (DefaultConfig, error) {
	r := reader{getenv: getenv}
	c := DefaultConfig{LogLevel: r.logLevel(), Actions: r.actions(EnvChatActions)}
	expr := getenv(EnvRouteSelection)
	if expr == "" {
		expr = DefaultRouteSelection
	}
	sel, err := selection.Parse(expr)
	if err != nil {
		r.fail(EnvRouteSelection, err.Error())
	}
	c.RouteSelection = sel
	return c, r.err()
}

// reader collects the errors of the variables it reads.
type reader struct {
	getenv Getenv
	errs   []error
}

func (r *reader) fail(key, format string, args ...any) {
	r.errs = append(r.errs, fmt.Errorf("%s: "+format, append([]any{key}, args...)...))
}

func (r *reader) err() error {
	if len(r.errs) == 0 {
		return nil
	}
	return fmt.Errorf("invalid environment: %w", errors.Join(r.errs...))
}

func (r *reader) logLevel() slog.Level {
	l, err := ParseLevel(r.getenv(EnvLogLevel))
	if err != nil {
		r.fail(EnvLogLevel, "%v", err)
	}
	return l
}

func (r *reader) required(key string) string {
	v := strings.TrimSpace(r.getenv(key))
	if v == "" {
		r.fail(key, "is required")
	}
	return v
}

func (r *reader) intRange(key string, def, lo, hi int) int {
	s := strings.TrimSpace(r.getenv(key))
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		r.fail(key, "%q is not an integer from %d to %d", s, lo, hi)
		return def
	}
	return n
}

// seconds reads a whole number of seconds of at least lo.
func (r *reader) seconds(key string, def, lo time.Duration) time.Duration {
	s := strings.TrimSpace(r.getenv(key))
	if s == "" {
		return def
	}
	n, err := strconv.ParseInt(s, 10, 64)
	const maxSeconds = int64(100 * 365 * 24 * 3600)
	if err != nil || n < int64(lo/time.Second) || n > maxSeconds {
		r.fail(key, "%q is not a whole number of seconds from %d to %d", s, int64(lo/time.Second), maxSeconds)
		return def
	}
	return time.Duration(n) * time.Second
}

// token reads an HTTP token (RFC 9110), as a WebSocket subprotocol must be.
func (r *reader) token(key, def string) string {
	v := strings.TrimSpace(r.getenv(key))
	if v == "" {
		return def
	}
	for _, c := range v {
		if c > '~' || c <= ' ' || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, c) {
			r.fail(key, "%q is not a valid subprotocol token (no spaces, commas or separators)", v)
			return def
		}
	}
	return v
}

func (r *reader) callbackURL(key string) string {
	v := strings.TrimRight(r.required(key), "/")
	if v == "" {
		return ""
	}
	u, err := url.Parse(v)
	switch {
	case err != nil:
		r.fail(key, "%q is not a URL: %v", v, err)
	case u.Scheme != "https" && u.Scheme != "http":
		r.fail(key, "%q must be an https:// URL (http:// only for local emulators)", v)
	case u.Host == "":
		r.fail(key, "%q has no host", v)
	case u.RawQuery != "" || u.Fragment != "":
		r.fail(key, "%q must not have a query or fragment", v)
	case strings.Contains(u.Path, "@connections"):
		r.fail(key, "%q must be the stage URL, without /@connections", v)
	}
	return v
}

func (r *reader) actions(key string) []string {
	v := r.required(key)
	if v == "" {
		return nil
	}
	var out []string
	seen := map[string]bool{}
	for _, a := range strings.Split(v, ",") {
		a = strings.TrimSpace(a)
		switch {
		case a == "":
			r.fail(key, "%q has an empty entry", v)
			return nil
		case seen[a]:
			r.fail(key, "%q lists %q twice", v, a)
			return nil
		}
		seen[a] = true
		out = append(out, a)
	}
	return out
}
