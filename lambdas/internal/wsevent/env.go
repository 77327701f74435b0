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
	"github.com/chatstack/websocketchatapi/lambdas/internal/emf"
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
	EnvAllowedOrigins          = "ALLOWED_ORIGINS"
	EnvRateLimitPerSecond      = "RATE_LIMIT_PER_SECOND"
	EnvRateLimitBurst          = "RATE_LIMIT_BURST"
	EnvMetricsNamespace        = "METRICS_NAMESPACE"
	EnvMetricsService          = "METRICS_SERVICE"
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
	// MaxRateLimit bounds RATE_LIMIT_PER_SECOND and RATE_LIMIT_BURST.
	MaxRateLimit = 1_000_000
	// DefaultMetricsNamespace and DefaultMetricsService are the CloudWatch namespace and the
	// Service dimension of the chat handler's metrics.
	DefaultMetricsNamespace = "WebSocketChatApi"
	DefaultMetricsService   = "chat"
)

// Getenv reads one environment variable, as os.Getenv does.
type Getenv func(key string) string

// ConnectConfig is the $connect handler's environment.
type ConnectConfig struct {
	LogLevel      slog.Level
	TableName     string
	ConnectionTTL time.Duration
	Subprotocol   string
	// Origins says which browser origins may connect (ALLOWED_ORIGINS).
	Origins *OriginPolicy
}

// LoadConnectConfig reads LOG_LEVEL, TABLE_NAME, CONNECTION_TTL_SECONDS (default 7800),
// SUBPROTOCOL (default chat.v1) and ALLOWED_ORIGINS (comma-separated origins such as
// https://chat.example.com; unset or * allows any, see ParseOriginPolicy). Its error names
// every variable that is wrong.
func LoadConnectConfig(getenv Getenv) (ConnectConfig, error) {
	r := reader{getenv: getenv}
	c := ConnectConfig{
		LogLevel:      r.logLevel(),
		TableName:     r.required(EnvTableName),
		ConnectionTTL: r.seconds(EnvConnectionTTLSeconds, chat.DefaultConnectionTTL, MinConnectionTTL),
		Subprotocol:   r.token(EnvSubprotocol, DefaultSubprotocol),
		Origins:       r.origins(EnvAllowedOrigins),
	}
	return c, r.err()
}

// DisconnectConfig is the $disconnect handler's environment.
type DisconnectConfig struct {
	LogLevel  slog.Level
	TableName string
	// CallbackURL, when set, makes $disconnect tell the rooms of a closing connection that
	// its user left; "" turns that off.
	CallbackURL       string
	FanoutConcurrency int
}

// LoadDisconnectConfig reads LOG_LEVEL, TABLE_NAME, and optionally CALLBACK_URL (as for the
// chat handler) and FANOUT_CONCURRENCY (default 32, at most 1000). With CALLBACK_URL set the
// function also needs execute-api:ManageConnections on the stage's connections and
// dynamodb:Query on the table's byRoom index.
func LoadDisconnectConfig(getenv Getenv) (DisconnectConfig, error) {
	r := reader{getenv: getenv}
	c := DisconnectConfig{
		LogLevel:          r.logLevel(),
		TableName:         r.required(EnvTableName),
		CallbackURL:       r.optionalCallbackURL(EnvCallbackURL),
		FanoutConcurrency: r.intRange(EnvFanoutConcurrency, chat.DefaultFanoutConcurrency, 1, MaxFanoutConcurrency),
	}
	return c, r.err()
}

// ChatConfig is the chat handler's environment.
type ChatConfig struct {
	LogLevel          slog.Level
	TableName         string
	CallbackURL       string
	HistoryRetention  time.Duration
	FanoutConcurrency int
	// RateLimit is each connection's token bucket; PerSecond 0 turns it off.
	RateLimit chat.RateLimit
	// MetricsNamespace and MetricsService are the CloudWatch namespace and Service dimension
	// of the EMF metrics the handler writes.
	MetricsNamespace string
	MetricsService   string
}

// LoadChatConfig reads LOG_LEVEL, TABLE_NAME, CALLBACK_URL (an absolute http(s) URL of the
// stage, such as https://abc123.execute-api.us-east-1.amazonaws.com/prod),
// HISTORY_RETENTION_SECONDS (default 30 days), FANOUT_CONCURRENCY (default 32, at most 1000),
// RATE_LIMIT_PER_SECOND (default 10, fractions allowed, 0 turns rate limiting off),
// RATE_LIMIT_BURST (a whole number, default 20), METRICS_NAMESPACE (default WebSocketChatApi)
// and METRICS_SERVICE (the Service dimension, default chat).
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
		RateLimit: chat.RateLimit{
			PerSecond: r.number(EnvRateLimitPerSecond, chat.DefaultRateLimitPerSecond, 0, MaxRateLimit),
			Burst:     float64(r.intRange(EnvRateLimitBurst, chat.DefaultRateLimitBurst, 1, MaxRateLimit)),
		},
		MetricsNamespace: r.checked(EnvMetricsNamespace, DefaultMetricsNamespace, emf.CheckNamespace),
		MetricsService:   r.checked(EnvMetricsService, DefaultMetricsService, emf.CheckDimensionValue),
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

// number reads a finite decimal number from lo to hi.
func (r *reader) number(key string, def, lo, hi float64) float64 {
	s := strings.TrimSpace(r.getenv(key))
	if s == "" {
		return def
	}
	n, err := strconv.ParseFloat(s, 64)
	if err != nil || !(n >= lo && n <= hi) {
		r.fail(key, "%q is not a number from %g to %g", s, lo, hi)
		return def
	}
	return n
}

// checked reads a value that check accepts.
func (r *reader) checked(key, def string, check func(string) error) string {
	v := strings.TrimSpace(r.getenv(key))
	if v == "" {
		return def
	}
	if err := check(v); err != nil {
		r.fail(key, "%v", err)
		return def
	}
	return v
}

// origins reads an origin allowlist (see ParseOriginPolicy).
func (r *reader) origins(key string) *OriginPolicy {
	p, err := ParseOriginPolicy(r.getenv(key))
	if err != nil {
		r.fail(key, "%v", err)
		return nil
	}
	return p
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
	return r.stageURL(key, strings.TrimRight(r.required(key), "/"))
}

// optionalCallbackURL reads a stage URL as callbackURL does, or "" when the variable is unset.
func (r *reader) optionalCallbackURL(key string) string {
	return r.stageURL(key, strings.TrimRight(strings.TrimSpace(r.getenv(key)), "/"))
}

// stageURL checks v, the value of key, as the https URL of a stage ("" passes).
func (r *reader) stageURL(key, v string) string {
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
