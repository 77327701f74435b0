package gateway

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/chatstack/websocketchatapi/protocol"
)

// selectRoute returns the route key a message goes to: the route selection expression's value
// when a route has that key, else $default. $connect and $disconnect are never selected.
func (g *Gateway) selectRoute(body []byte) string {
	key, ok := g.routeSel.Evaluate(body)
	if !ok || key == "$connect" || key == "$disconnect" {
		return "$default"
	}
	if _, exists := g.routes[key]; !exists {
		return "$default"
	}
	return key
}

// validate checks body against the model the route's model selection expression picks (its
// $default model when the value names none). No model, a body that is not JSON, or a body
// that breaks the schema fails.
func (rt *route) validate(body []byte) error {
	var schema *jsonschema.Schema
	if key, ok := rt.modelSel.Evaluate(body); ok {
		schema = rt.models[key]
	}
	if schema == nil {
		schema = rt.models["$default"]
	}
	if schema == nil {
		return errors.New("no request model matches and the route has no $default model")
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("body is not JSON: %w", err)
	}
	if err := schema.Validate(inst); err != nil {
		return fmt.Errorf("body does not match the request model: %w", err)
	}
	// Draft-04 integers have no fraction or exponent; API Gateway's validator holds to it.
	if err := protocol.CheckIntegerLiterals(schema, inst); err != nil {
		return fmt.Errorf("body does not match the request model: %w", err)
	}
	return nil
}

// handleMessage validates and integrates one client message of the route key, and sends
// back what API Gateway would: the route response, or one of its own error frames.
func (c *conn) handleMessage(key string, body []byte) {
	start := time.Now()
	g := c.g
	requestID, messageID := newID(), newID()
	rt := g.routes[key]
	if rt == nil {
		err := c.send(g.ctx, gatewayFrame("Forbidden", c.id, "requestId", requestID))
		g.logEvent("message", c.id, key, requestID, http.StatusForbidden, start, errors.Join(errors.New("no route matches and there is no $default route"), err))
		return
	}
	if msg := c.checkMessageKey(key); msg != "" {
		err := c.send(g.ctx, gatewayFrame(msg, c.id, "requestId", requestID))
		g.logEvent("message", c.id, key, requestID, http.StatusForbidden, start, errors.Join(fmt.Errorf("route %s requires an API key: %s", key, msg), err))
		return
	}
	if rt.modelSel != nil {
		if verr := rt.validate(body); verr != nil {
			err := c.send(g.ctx, gatewayFrame("Bad request body", c.id, "messageId", messageID))
			g.logEvent("message", c.id, key, requestID, http.StatusBadRequest, start, errors.Join(verr, err))
			return
		}
	}
	if rt.none {
		g.logEvent("message", c.id, key, requestID, http.StatusOK, start, nil)
		return
	}
	if rt.mock != nil {
		c.answerMock(rt, key, requestID, body, start)
		return
	}
	if rt.function == "" {
		c.internalError(key, requestID, start, errors.New("route integration is not a Lambda function of the stack"))
		return
	}
	text := string(body)
	ev := proxyEvent{RequestContext: c.requestContext(key, "MESSAGE", requestID, g.cfg.Now()), Body: &text}
	ev.RequestContext.MessageID = messageID
	out, err := g.invoke(g.ctx, rt.function, rt.timeout, ev)
	if errors.Is(err, errTimeout) {
		serr := c.send(g.ctx, gatewayFrame("Endpoint request timed out", c.id, "requestId", requestID))
		g.logEvent("message", c.id, key, requestID, http.StatusGatewayTimeout, start, errors.Join(err, serr))
		return
	}
	if err != nil {
		c.internalError(key, requestID, start, err)
		return
	}
	if !rt.twoWay {
		g.logEvent("message", c.id, key, requestID, http.StatusOK, start, nil)
		return
	}
	resp, err := parseProxyResponse(out)
	if err != nil {
		c.internalError(key, requestID, start, err)
		return
	}
	if len(resp.Body) > MaxMessageBytes {
		// AWS caps every message it sends at 128 KB, route responses included: such a reply
		// never reaches the client. Fail loudly, so that a test sees it.
		c.internalError(key, requestID, start, fmt.Errorf("route response of %d bytes is over API Gateway's %d-byte message limit", len(resp.Body), MaxMessageBytes))
		return
	}
	if resp.Body != "" {
		err = c.send(g.ctx, []byte(resp.Body))
	}
	g.logEvent("message", c.id, key, requestID, resp.StatusCode, start, err)
}

// answerMock answers a message of a route with a MOCK integration from its static templates,
// invoking nothing: the integration response's template goes back when the route has a route
// response and the template is not empty; a one-way route sends nothing, as on AWS.
func (c *conn) answerMock(rt *route, key, requestID string, body []byte, start time.Time) {
	g := c.g
	ans, err := rt.mock.Answer(body)
	if err != nil {
		c.internalError(key, requestID, start, err)
		return
	}
	if !rt.twoWay || ans.Body == "" {
		g.logEvent("message", c.id, key, requestID, ans.StatusCode, start, nil)
		return
	}
	if len(ans.Body) > MaxMessageBytes {
		c.internalError(key, requestID, start, fmt.Errorf("route response of %d bytes is over API Gateway's %d-byte message limit", len(ans.Body), MaxMessageBytes))
		return
	}
	err = c.send(g.ctx, []byte(ans.Body))
	g.logEvent("message", c.id, key, requestID, ans.StatusCode, start, err)
}

// internalError sends API Gateway's internal error frame.
func (c *conn) internalError(key, requestID string, start time.Time, cause error) {
	err := c.send(c.g.ctx, gatewayFrame("Internal server error", c.id, "requestId", requestID))
	c.g.logEvent("message", c.id, key, requestID, http.StatusInternalServerError, start, errors.Join(cause, err))
}
