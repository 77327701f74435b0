package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/coder/websocket"
)

// errTimeout marks an invocation that outlived the integration timeout.
var errTimeout = errors.New("integration timed out")

// handshake is one $connect in progress.
type handshake struct {
	g                 *Gateway
	r                 *http.Request
	id                string
	requestID         string
	extendedRequestID string
	connectedAt       time.Time
	requestAt         time.Time
	sourceIP          string
	userAgent         string
	domainName        string
	headers           map[string]string
	multiHeaders      map[string][]string
	query             map[string]string
	multiQuery        map[string][]string
	authorizer        map[string]any
	usageKey          string    // the authorizer output's usageIdentifierKey
	apiKey            string    // the key the API key selection expression chose
	iam               IAMCaller // the caller of an AWS_IAM $connect
}

// refusal is a handshake answered without an upgrade.
type refusal struct {
	status  int
	errType string // x-amzn-ErrorType, "" for none
	body    string
	headers http.Header
	err     error // why, for the log
}

func (rf *refusal) write(w http.ResponseWriter, requestID string) {
	for k, vs := range rf.headers {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	w.Header().Set("x-amzn-RequestId", requestID)
	if rf.errType != "" {
		w.Header().Set("x-amzn-ErrorType", rf.errType)
	}
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(rf.status)
	_, _ = w.Write([]byte(rf.body))
}

func (g *Gateway) newHandshake(r *http.Request) *handshake {
	now := g.cfg.Now()
	ip := sourceIP(r)
	h := &handshake{
		g:                 g,
		r:                 r,
		id:                newID(),
		requestID:         newID(),
		extendedRequestID: newID(),
		connectedAt:       now,
		requestAt:         now,
		sourceIP:          ip,
		userAgent:         r.UserAgent(),
		domainName:        r.Host,
	}
	h.headers, h.multiHeaders = handshakeHeaders(r, ip, now)
	h.query, h.multiQuery = queryParameters(r)
	return h
}

// requestContext is the requestContext of the $connect events.
func (h *handshake) requestContext() requestContext {
	return requestContext{
		RouteKey:          "$connect",
		Authorizer:        h.authorizer,
		EventType:         "CONNECT",
		ExtendedRequestID: h.extendedRequestID,
		RequestTime:       requestTime(h.requestAt),
		MessageDirection:  "IN",
		Stage:             h.g.stage.Name,
		ConnectedAt:       h.connectedAt.UnixMilli(),
		RequestTimeEpoch:  h.requestAt.UnixMilli(),
		Identity:          newIdentity(h.userAgent, h.sourceIP, h.iam),
		RequestID:         h.requestID,
		DomainName:        h.domainName,
		ConnectionID:      h.id,
		APIID:             h.g.api.ID,
	}
}

// serveHandshake runs a connection from its $connect to its $disconnect.
func (g *Gateway) serveHandshake(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	if r.Method != http.MethodGet {
		writeJSONError(w, http.StatusForbidden, "ForbiddenException", `{"message":"Forbidden"}`)
		return
	}
	if status, err := checkUpgrade(r); err != nil {
		w.Header().Set("Connection", "Upgrade")
		w.Header().Set("Upgrade", "websocket")
		writeJSONError(w, status, "", fmt.Sprintf(`{"message":%s}`, jsonString(err.Error())))
		return
	}
	h := g.newHandshake(r)
	rf := g.authorize(h)
	if rf == nil {
		rf = g.checkConnectKey(h)
	}
	if rf != nil {
		rf.write(w, h.requestID)
		g.logEvent("connect", h.id, "$connect", h.requestID, rf.status, start, rf.err)
		return
	}
	resp, rf := g.runConnect(h)
	if rf != nil {
		rf.write(w, h.requestID)
		g.logEvent("connect", h.id, "$connect", h.requestID, rf.status, start, rf.err)
		return
	}
	c, err := g.upgrade(w, r, h, resp)
	if err != nil {
		// The $connect integration accepted the connection: tell $disconnect it is gone.
		g.logEvent("connect", h.id, "$connect", h.requestID, http.StatusBadRequest, start, err)
		c.disconnect(closeAbnormal, reasonAbnormal)
		return
	}
	g.logEvent("connect", h.id, "$connect", h.requestID, http.StatusSwitchingProtocols, start, nil,
		slog.String("subprotocol", c.ws.Subprotocol()))
	c.serve()
}

// checkUpgrade refuses a request that is not a WebSocket handshake, before anything runs.
func checkUpgrade(r *http.Request) (int, error) {
	if !headerHasToken(r.Header, "Connection", "upgrade") || !headerHasToken(r.Header, "Upgrade", "websocket") {
		return http.StatusUpgradeRequired, errors.New("upgrade required: not a WebSocket handshake")
	}
	if r.Header.Get("Sec-WebSocket-Version") != "13" {
		return http.StatusBadRequest, errors.New("unsupported Sec-WebSocket-Version, want 13")
	}
	if r.Header.Get("Sec-WebSocket-Key") == "" {
		return http.StatusBadRequest, errors.New("missing Sec-WebSocket-Key")
	}
	return 0, nil
}

func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// authorize runs the $connect route's authorization. It returns nil when the connection may
// proceed, with h.authorizer set for a Lambda authorizer.
func (g *Gateway) authorize(h *handshake) *refusal {
	model := g.api.Route("$connect")
	if model == nil {
		return nil
	}
	switch model.AuthorizationType {
	case "CUSTOM":
	case "AWS_IAM":
		return g.authorizeIAM(h)
	default:
		return nil
	}
	auth := model.Authorizer
	if auth == nil || auth.Function == nil {
		return authorizerFailure(fmt.Errorf("$connect authorizer %v is not a Lambda function of the stack", auth))
	}
	for _, src := range auth.IdentitySource {
		if !h.hasIdentity(src) {
			return &refusal{status: http.StatusUnauthorized, errType: "UnauthorizedException",
				body: `{"message":"Unauthorized"}`, err: fmt.Errorf("identity source %s is missing", src)}
		}
	}
	ev := authorizerEvent{
		Type:                            "REQUEST",
		MethodArn:                       g.methodARN("$connect"),
		Headers:                         h.headers,
		MultiValueHeaders:               h.multiHeaders,
		QueryStringParameters:           h.query,
		MultiValueQueryStringParameters: h.multiQuery,
		StageVariables:                  stageVariables(g.stage.Variables),
		RequestContext:                  h.requestContext(),
	}
	out, err := g.invoke(g.ctx, auth.Function.Name, DefaultIntegrationTimeout, ev)
	if err != nil {
		var fe *FunctionError
		if errors.As(err, &fe) && fe.Message == "Unauthorized" {
			return &refusal{status: http.StatusUnauthorized, errType: "UnauthorizedException",
				body: `{"message":"Unauthorized"}`, err: err}
		}
		return authorizerFailure(err)
	}
	res, err := parseAuthorizerResult(out)
	if err != nil {
		return authorizerFailure(err)
	}
	allowed, explicit := res.allows(ev.MethodArn)
	if !allowed {
		msg := "User is not authorized to access this resource"
		if explicit {
			msg += " with an explicit deny"
		}
		return &refusal{status: http.StatusForbidden, errType: "AccessDeniedException",
			body: fmt.Sprintf(`{"Message":%s}`, jsonString(msg)), err: fmt.Errorf("authorizer policy for %s: %s", res.principalID, msg)}
	}
	h.authorizer = res.authorizerMap()
	h.usageKey = usageIdentifierKey(out)
	return nil
}

// authorizeIAM decides an AWS_IAM $connect: an unsigned handshake is refused with 403; a
// signed one goes to Config.AuthorizeIAM (signature and execute-api:Invoke on the method
// ARN), whose caller becomes requestContext.identity of the connection's events. Without
// AuthorizeIAM any signed handshake passes, with no caller.
func (g *Gateway) authorizeIAM(h *handshake) *refusal {
	if h.r.Header.Get("Authorization") == "" && h.r.URL.Query().Get("X-Amz-Signature") == "" {
		return &refusal{status: http.StatusForbidden, errType: "MissingAuthenticationTokenException",
			body: `{"message":"Forbidden"}`, err: errors.New("AWS_IAM route and an unsigned handshake")}
	}
	if g.cfg.AuthorizeIAM == nil {
		return nil
	}
	caller, err := g.cfg.AuthorizeIAM(h.r, g.methodARN("$connect"))
	if err == nil {
		h.iam = caller
		return nil
	}
	var me *ManagementError
	if !errors.As(err, &me) {
		me = &ManagementError{Status: http.StatusForbidden, Type: "AccessDeniedException", Message: err.Error()}
	}
	key := "message"
	if me.Type == "AccessDeniedException" {
		key = "Message" // as API Gateway spells it in an IAM denial
	}
	return &refusal{status: me.Status, errType: me.Type, body: fmt.Sprintf(`{%q:%s}`, key, jsonString(me.Message)), err: err}
}

// authorizerFailure is API Gateway's answer to an authorizer that failed or answered nonsense.
func authorizerFailure(err error) *refusal {
	return &refusal{status: http.StatusInternalServerError, errType: "AuthorizerConfigurationException",
		body: `{"message": null}`, err: err}
}

// hasIdentity reports whether an identity source is present and not empty.
func (h *handshake) hasIdentity(src string) bool {
	switch {
	case strings.HasPrefix(src, "route.request.header."):
		return h.r.Header.Get(strings.TrimPrefix(src, "route.request.header.")) != ""
	case strings.HasPrefix(src, "route.request.querystring."):
		return h.query[strings.TrimPrefix(src, "route.request.querystring.")] != ""
	case strings.HasPrefix(src, "stageVariables."):
		return h.g.stage.Variables[strings.TrimPrefix(src, "stageVariables.")] != ""
	case strings.HasPrefix(src, "context."):
		v, ok := h.contextValue(strings.TrimPrefix(src, "context."))
		return ok && v != ""
	}
	return false
}

func stageVariables(v map[string]string) map[string]string {
	if v == nil {
		return map[string]string{}
	}
	return v
}

// runConnect invokes the $connect integration. It returns the integration's response when the
// connection may be upgraded.
func (g *Gateway) runConnect(h *handshake) (proxyResponse, *refusal) {
	rt := g.routes["$connect"]
	if rt == nil || rt.none || rt.mock != nil {
		return proxyResponse{StatusCode: http.StatusOK}, nil
	}
	if rt.function == "" {
		return proxyResponse{}, &refusal{status: http.StatusInternalServerError, body: `{"message": "Internal server error"}`,
			err: errors.New("$connect integration is not a Lambda function of the stack")}
	}
	ev := proxyEvent{
		Headers:                         h.headers,
		MultiValueHeaders:               h.multiHeaders,
		QueryStringParameters:           h.query,
		MultiValueQueryStringParameters: h.multiQuery,
		StageVariables:                  g.stage.Variables,
		RequestContext:                  h.requestContext(),
	}
	out, err := g.invoke(g.ctx, rt.function, rt.timeout, ev)
	if errors.Is(err, errTimeout) {
		return proxyResponse{}, &refusal{status: http.StatusGatewayTimeout, body: `{"message": "Endpoint request timed out"}`, err: err}
	}
	if err != nil {
		return proxyResponse{}, &refusal{status: http.StatusBadGateway, body: `{"message": "Internal server error"}`, err: err}
	}
	resp, err := parseProxyResponse(out)
	if err != nil {
		return proxyResponse{}, &refusal{status: http.StatusBadGateway, body: `{"message": "Internal server error"}`, err: err}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return proxyResponse{}, &refusal{status: resp.StatusCode, body: resp.Body, headers: responseHeaders(resp),
			err: fmt.Errorf("$connect integration answered %d", resp.StatusCode)}
	}
	return resp, nil
}

// responseHeaders merges a proxy response's headers and multiValueHeaders, leaving out those
// that belong to the handshake itself.
func responseHeaders(resp proxyResponse) http.Header {
	h := http.Header{}
	for k, v := range resp.Headers {
		h.Set(k, v)
	}
	for k, vs := range resp.MultiValueHeaders {
		h.Del(k)
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	for k := range h {
		switch {
		case hopByHop[k], k == "Content-Length", k == "Sec-Websocket-Accept", k == "Sec-Websocket-Extensions":
			h.Del(k)
		}
	}
	return h
}

// upgrade completes the handshake with the $connect integration's headers on the 101.
func (g *Gateway) upgrade(w http.ResponseWriter, r *http.Request, h *handshake, resp proxyResponse) (*conn, error) {
	c := newConn(g, h)
	opts := &websocket.AcceptOptions{InsecureSkipVerify: true, CompressionMode: websocket.CompressionDisabled}
	for k, vs := range responseHeaders(resp) {
		if k == "Sec-Websocket-Protocol" {
			// Echoed as the integration says, offered or not, as API Gateway does.
			w.Header().Set(k, vs[0])
			opts.Subprotocols = []string{vs[0]}
			continue
		}
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	hw := &hijackWriter{ResponseWriter: w, onOversize: func() {
		c.initiateClose(websocket.StatusMessageTooBig, reasonFrameTooBig)
	}}
	if !g.register(c) {
		close(c.ready)
		return c, errors.New("upgrade: the gateway is closed")
	}
	ws, err := websocket.Accept(hw, r, opts)
	if err != nil {
		g.forget(c)
		close(c.ready)
		return c, fmt.Errorf("upgrade: %w", err)
	}
	ws.SetReadLimit(MaxMessageBytes)
	c.ws = ws
	close(c.ready)
	return c, nil
}

// invoke runs function with event as payload, bounded by timeout. A *FunctionError is returned
// as such (wrapped); an invocation past the timeout returns an error wrapping errTimeout.
func (g *Gateway) invoke(ctx context.Context, function string, timeout time.Duration, event any) ([]byte, error) {
	payload, err := json.Marshal(event)
	if err != nil {
		return nil, fmt.Errorf("invoke %s: marshal event: %w", function, err)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	type result struct {
		out []byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		out, err := g.cfg.Invoker.Invoke(ctx, function, payload)
		done <- result{out, err}
	}()
	select {
	case res := <-done:
		if res.err == nil {
			return res.out, nil
		}
		var fe *FunctionError
		if !errors.As(res.err, &fe) && errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, fmt.Errorf("invoke %s: %w after %s", function, errTimeout, timeout)
		}
		return nil, fmt.Errorf("invoke %s: %w", function, res.err)
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, fmt.Errorf("invoke %s: %w after %s", function, errTimeout, timeout)
		}
		return nil, fmt.Errorf("invoke %s: %w", function, ctx.Err())
	}
}

// writeJSONError writes an API Gateway error answer.
func writeJSONError(w http.ResponseWriter, status int, errType, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("x-amzn-RequestId", newID())
	if errType != "" {
		w.Header().Set("x-amzn-ErrorType", errType)
	}
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}
