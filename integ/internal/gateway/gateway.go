package gateway

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/chatstack/websocketchatapi/integ/internal/assembly"
	"github.com/chatstack/websocketchatapi/internal/contract"
	"github.com/chatstack/websocketchatapi/protocol/selection"
)

// Limits and defaults API Gateway applies to WebSocket APIs.
const (
	// MaxMessageBytes is the largest message a client may send, and the largest @connections
	// POST body (128 KB).
	MaxMessageBytes = 128 * 1024
	// MaxFrameBytes is the largest frame payload a client may send (32 KB).
	MaxFrameBytes = 32 * 1024
	// DefaultIdleTimeout closes a connection that sent nothing for this long.
	DefaultIdleTimeout = 10 * time.Minute
	// DefaultMaxConnectionDuration closes any connection this old: API Gateway's cap of 2 h,
	// which the handlers' connection items outlive (contract.MaxConnectionDuration).
	DefaultMaxConnectionDuration = contract.MaxConnectionDuration
	// DefaultIntegrationTimeout bounds an integration without TimeoutInMillis (29 s).
	DefaultIntegrationTimeout = 29 * time.Second
)

// Invoker runs a Lambda function by name. A function error (the function ran and failed:
// Lambda's errorType/errorMessage) is returned as *FunctionError; any other error means it
// could not run.
type Invoker interface {
	Invoke(ctx context.Context, function string, payload []byte) ([]byte, error)
}

// FunctionError is a function's own failure, as Lambda reports it.
type FunctionError struct {
	// Type is Lambda's errorType, e.g. errorString.
	Type string
	// Message is Lambda's errorMessage, e.g. Unauthorized.
	Message string
}

// IAMCaller is the principal of an AWS_IAM connection, as API Gateway reports it in
// requestContext.identity.
type IAMCaller struct {
	// AccountID is the caller's account.
	AccountID string
	// Caller is the principal id: <role id>:<session name> for a role session.
	Caller string
	// User is the principal id too (API Gateway repeats it).
	User string
	// UserArn is the principal ARN, e.g. arn:aws:sts::<account>:assumed-role/<role>/<session>.
	UserArn string
	// AccessKey is the access key id the handshake was signed with.
	AccessKey string
}

// Error returns the type and the message.
func (e *FunctionError) Error() string {
	return fmt.Sprintf("function error %s: %s", e.Type, e.Message)
}

// ManagementError is an error that AuthorizeManagement may return to choose the refusal that
// the @connections caller gets; any other error answers 403 AccessDeniedException with the
// error's text as message.
type ManagementError struct {
	// Status is the HTTP status, e.g. 403.
	Status int
	// Type is the x-amzn-ErrorType, e.g. UnrecognizedClientException or ForbiddenException.
	Type string
	// Message is the body's message.
	Message string
}

// Error returns the type and the message.
func (e *ManagementError) Error() string {
	return fmt.Sprintf("%s (%d): %s", e.Type, e.Status, e.Message)
}

// Config configures a Gateway.
type Config struct {
	// API is the WebSocket API to serve.
	API *assembly.WebSocketAPI
	// Stage is which stage to serve (must exist).
	Stage string
	// Invoker runs the authorizer and integration functions.
	Invoker Invoker
	// Region and AccountID are used for the method ARN (defaults us-east-1 / 000000000000).
	Region, AccountID string
	// IdleTimeout closes a connection without client messages for this long (default 10 min).
	IdleTimeout time.Duration
	// MaxConnectionDuration closes a connection this old (default 2 h).
	MaxConnectionDuration time.Duration
	// AuthorizeManagement decides whether an @connections request may proceed (the caller
	// checks the SigV4 key's role with iamcheck); nil allows all. A non-nil error answers 403
	// with AWS's body (see ManagementError to choose another refusal).
	AuthorizeManagement func(r *http.Request, method, connectionID string) error
	// AuthorizeIAM decides a signed handshake to a $connect route with AWS_IAM authorization:
	// it verifies the SigV4 signature and whether the signer's identity-based policies allow
	// execute-api:Invoke on methodARN (arn:...:<apiId>/<stage>/$connect), and returns the
	// caller, which every event of the connection then carries as requestContext.identity. A
	// non-nil error answers 403 AccessDeniedException with the error as the message (see
	// ManagementError to choose another refusal). nil accepts any signed handshake, with no
	// caller. An unsigned handshake is refused either way.
	AuthorizeIAM func(r *http.Request, methodARN string) (IAMCaller, error)
	// Logger receives one JSON line per connect, message and disconnect (default: JSON on
	// standard error).
	Logger *slog.Logger
	// Now is the clock for the timestamps of events and of usage plan quota periods
	// (default time.Now).
	Now func() time.Time
	// UsagePlans are the stack's usage plans: the keys of those whose ApiStages name the
	// served API and stage are the valid API keys of routes that require one (none: every
	// such request is refused, as on AWS).
	UsagePlans []*assembly.UsagePlan
	// APIKeyValues gives, by key id, the value of each key whose template has no Value
	// (CloudFormation generates those at deploy time).
	APIKeyValues map[string]string
}

// Gateway serves one stage of a WebSocket API: handshakes at /<stage> and the @connections
// API at /<stage>/@connections/<id>. It is safe for concurrent use.
type Gateway struct {
	cfg      Config
	api      *assembly.WebSocketAPI
	stage    *assembly.Stage
	routeSel *selection.Expression
	routes   map[string]*route
	keys     *keyring
	log      *slog.Logger

	ctx    context.Context // cancelled by Close: aborts handshakes and message invocations
	cancel context.CancelFunc

	mu     sync.Mutex
	closed bool
	conns  map[string]*conn
	wg     sync.WaitGroup // every ServeHTTP that may hold a connection
}

// route is a route compiled for serving.
type route struct {
	function string // "" unless the integration is an AWS_PROXY one to a Lambda function of the stack
	timeout  time.Duration
	twoWay   bool
	none     bool           // no integration: accepted without answering anything
	mock     *assembly.Mock // a MOCK integration: answered from its static templates
	modelSel *selection.Expression
	models   map[string]*jsonschema.Schema
}

// New checks cfg and compiles the API's routes, selection expressions and models.
func New(cfg Config) (*Gateway, error) {
	if cfg.API == nil {
		return nil, errors.New("gateway: Config.API is nil")
	}
	if cfg.Invoker == nil {
		return nil, errors.New("gateway: Config.Invoker is nil")
	}
	stage := cfg.API.Stage(cfg.Stage)
	if stage == nil {
		names := make([]string, 0, len(cfg.API.Stages))
		for _, s := range cfg.API.Stages {
			names = append(names, s.Name)
		}
		return nil, fmt.Errorf("gateway: API %s has no stage %q (stages: %s)", cfg.API.ID, cfg.Stage, strings.Join(names, ", "))
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.AccountID == "" {
		cfg.AccountID = "000000000000"
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.MaxConnectionDuration <= 0 {
		cfg.MaxConnectionDuration = DefaultMaxConnectionDuration
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.NewJSONHandler(os.Stderr, nil))
	}
	sel, err := selection.Parse(cfg.API.RouteSelectionExpression)
	if err != nil {
		return nil, fmt.Errorf("gateway: API %s route selection expression: %w", cfg.API.ID, err)
	}
	routes := make(map[string]*route, len(cfg.API.Routes))
	for _, r := range cfg.API.Routes {
		cr, err := compileRoute(r)
		if err != nil {
			return nil, fmt.Errorf("gateway: API %s: %w", cfg.API.ID, err)
		}
		routes[r.Key] = cr
	}
	keys, err := newKeyring(cfg.UsagePlans, cfg.APIKeyValues, cfg.API.ID, stage.Name)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Gateway{
		cfg:      cfg,
		api:      cfg.API,
		stage:    stage,
		routeSel: sel,
		routes:   routes,
		keys:     keys,
		log:      logger,
		ctx:      ctx,
		cancel:   cancel,
		conns:    map[string]*conn{},
	}, nil
}

func compileRoute(r *assembly.Route) (*route, error) {
	cr := &route{twoWay: r.HasRouteResponse(), timeout: DefaultIntegrationTimeout}
	in := r.Integration
	cr.none = in == nil
	if in != nil && in.Type == "MOCK" {
		if in.Mock == nil {
			return nil, fmt.Errorf("route %s: MOCK integration %s was not read by the assembly", r.Key, in.LogicalID)
		}
		cr.mock = in.Mock
	}
	if in != nil {
		if in.Timeout > 0 {
			cr.timeout = in.Timeout
		}
		if in.Function != nil && in.Type == "AWS_PROXY" {
			cr.function = in.Function.Name
		}
	}
	if r.ModelSelectionExpression == "" {
		return cr, nil
	}
	sel, err := selection.Parse(r.ModelSelectionExpression)
	if err != nil {
		return nil, fmt.Errorf("route %s model selection expression: %w", r.Key, err)
	}
	cr.modelSel = sel
	cr.models = map[string]*jsonschema.Schema{}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft4)
	byName := map[string]*jsonschema.Schema{}
	for key, m := range r.RequestModels {
		if s, ok := byName[m.Name]; ok {
			cr.models[key] = s
			continue
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(m.Schema))
		if err != nil {
			return nil, fmt.Errorf("route %s model %s: parse schema: %w", r.Key, m.Name, err)
		}
		u := "mem:///models/" + url.PathEscape(m.Name) + ".json"
		if err := c.AddResource(u, doc); err != nil {
			return nil, fmt.Errorf("route %s model %s: %w", r.Key, m.Name, err)
		}
		s, err := c.Compile(u)
		if err != nil {
			return nil, fmt.Errorf("route %s model %s: compile schema: %w", r.Key, m.Name, err)
		}
		byName[m.Name] = s
		cr.models[key] = s
	}
	return cr, nil
}

// ServeHTTP serves WebSocket upgrades at /<stage> and the @connections API at
// /<stage>/@connections/<id>; anything else answers 403 {"message":"Forbidden"} as
// execute-api does for a path it does not know.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	segs, err := pathSegments(r.URL.EscapedPath())
	if err != nil || len(segs) == 0 || segs[0] != g.stage.Name {
		writeJSONError(w, http.StatusForbidden, "ForbiddenException", `{"message":"Forbidden"}`)
		return
	}
	switch {
	case len(segs) == 1 || (len(segs) == 2 && segs[1] == ""):
		if !g.enter() {
			writeJSONError(w, http.StatusServiceUnavailable, "ServiceUnavailableException", `{"message":"Service Unavailable"}`)
			return
		}
		defer g.wg.Done()
		g.serveHandshake(w, r)
	case len(segs) == 3 && segs[1] == "@connections" && segs[2] != "":
		g.serveManagement(w, r, segs[2])
	default:
		writeJSONError(w, http.StatusForbidden, "ForbiddenException", `{"message":"Forbidden"}`)
	}
}

// pathSegments splits an escaped path into unescaped segments, without the leading slash.
func pathSegments(escaped string) ([]string, error) {
	escaped = strings.TrimPrefix(escaped, "/")
	parts := strings.Split(escaped, "/")
	for i, p := range parts {
		s, err := url.PathUnescape(p)
		if err != nil {
			return nil, fmt.Errorf("path segment %q: %w", p, err)
		}
		parts[i] = s
	}
	return parts, nil
}

// enter counts a handshake in, unless the gateway is closed.
func (g *Gateway) enter() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return false
	}
	g.wg.Add(1)
	return true
}

// Connections returns the ids of the open connections (upgraded, or being upgraded, and not
// closing), sorted.
func (g *Gateway) Connections() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Sorted(maps.Keys(g.conns))
}

// Drop ends an open connection abruptly, as a lost network does: no close frame is sent, the
// TCP connection is just closed, so the client's read ends with an error that carries no
// close code (1006 in browsers). Then $disconnect runs, as API Gateway runs it for a lost
// client, with 1006 and this package's reason. Drop returns once the TCP connection is
// closed, not waiting for $disconnect. An id with no open connection is an error that names
// it.
func (g *Gateway) Drop(connectionID string) error {
	c := g.lookup(connectionID)
	if c == nil {
		return fmt.Errorf("gateway: drop connection %q: no open connection has this id", connectionID)
	}
	done := make(chan struct{})
	if !c.setClosing(closeAbnormal, reasonAbnormal, done) {
		return fmt.Errorf("gateway: drop connection %q: the connection is already closing", connectionID)
	}
	defer close(done)
	// CloseNow closes the TCP connection without a close handshake; its error (a connection
	// the client has just closed too) changes nothing for the client.
	_ = c.ws.CloseNow()
	return nil
}

// Close closes every connection with 1001 "Going away", running $disconnect for each, refuses
// new handshakes and waits until every connection is done. It is idempotent.
func (g *Gateway) Close() error {
	g.mu.Lock()
	g.closed = true
	conns := make([]*conn, 0, len(g.conns))
	for _, c := range g.conns {
		conns = append(conns, c)
	}
	g.mu.Unlock()
	g.cancel()
	for _, c := range conns {
		<-c.ready
		if c.ws != nil {
			c.initiateClose(closeGoingAway, reasonGoingAway)
		}
	}
	g.wg.Wait()
	return nil
}

// register adds an upgraded connection; it reports false when the gateway is closed.
func (g *Gateway) register(c *conn) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return false
	}
	g.conns[c.id] = c
	return true
}

// forget removes a connection that is closing: @connections answers 410 for it from now on.
func (g *Gateway) forget(c *conn) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.conns[c.id] == c {
		delete(g.conns, c.id)
	}
}

// lookup returns the open connection with the given id, or nil. A connection whose upgrade
// is still being written is waited for (briefly), as API Gateway answers for a connection the
// client already has.
func (g *Gateway) lookup(id string) *conn {
	g.mu.Lock()
	c := g.conns[id]
	g.mu.Unlock()
	if c == nil {
		return nil
	}
	select {
	case <-c.ready:
	case <-time.After(5 * time.Second):
		return nil
	}
	if c.ws == nil {
		return nil
	}
	return c
}

// methodARN is the execute-api ARN of a route of the served stage.
func (g *Gateway) methodARN(routeKey string) string {
	return fmt.Sprintf("arn:%s:execute-api:%s:%s:%s/%s/%s", partition(g.cfg.Region), g.cfg.Region, g.cfg.AccountID, g.api.ID, g.stage.Name, routeKey)
}

func partition(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	}
	return "aws"
}

// logEvent writes the one line of a connect, message or disconnect.
func (g *Gateway) logEvent(event, connectionID, routeKey, requestID string, status int, start time.Time, err error, extra ...slog.Attr) {
	attrs := []slog.Attr{
		slog.String("event", event),
		slog.String("connectionId", connectionID),
		slog.String("routeKey", routeKey),
		slog.String("requestId", requestID),
		slog.Int("status", status),
		slog.Float64("latencyMs", float64(time.Since(start).Microseconds())/1000),
	}
	attrs = append(attrs, extra...)
	level := slog.LevelInfo
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
		level = slog.LevelWarn
	}
	g.log.LogAttrs(context.Background(), level, "websocket "+event, attrs...)
}
