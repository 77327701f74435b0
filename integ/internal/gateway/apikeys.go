package gateway

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/chatstack/websocketchatapi/integ/internal/assembly"
)

// API key selection expressions (the only two AWS supports).
const (
	keyFromHeader     = "$request.header.x-api-key"
	keyFromAuthorizer = "$context.authorizer.usageIdentifierKey"
)

// keyState is one valid API key of the served stage: its usage plan and what it has used.
type keyState struct {
	key  *assembly.APIKey
	plan *assembly.UsagePlan

	mu       sync.Mutex
	tokens   float64   // throttle bucket
	refilled time.Time // monotonic
	used     int       // requests counted in the quota period
	period   time.Time // start of the quota period (Config.Now clock, UTC)
}

// keyring holds the keys of the usage plans that name the served API and stage, by value.
type keyring struct {
	byValue map[string]*keyState
}

// newKeyring indexes the keys of the plans that apply to apiID/stage. A key without a value in
// the template takes its value from values (by key id); a key in two plans of one stage is an
// error, as AWS refuses that association.
func newKeyring(plans []*assembly.UsagePlan, values map[string]string, apiID, stage string) (*keyring, error) {
	kr := &keyring{byValue: map[string]*keyState{}}
	inPlan := map[string]string{}
	for _, p := range plans {
		if !p.AppliesTo(apiID, stage) {
			continue
		}
		for _, k := range p.Keys {
			if other, dup := inPlan[k.ID]; dup {
				return nil, fmt.Errorf("gateway: API key %s is in usage plans %s and %s of stage %s", k.LogicalID, other, p.LogicalID, stage)
			}
			inPlan[k.ID] = p.LogicalID
			value := k.Value
			if value == "" {
				value = values[k.ID]
			}
			if value == "" {
				return nil, fmt.Errorf("gateway: API key %s has no value (give it in Config.APIKeyValues)", k.LogicalID)
			}
			burst := 0.0
			if p.Throttle != nil {
				burst = float64(p.Throttle.BurstLimit)
			}
			kr.byValue[value] = &keyState{key: k, plan: p, tokens: burst, refilled: time.Now()}
		}
	}
	return kr, nil
}

// Refusals of a request that requires an API key, with API Gateway's status, error type and
// message (as REST APIs answer them; WebSocket handshakes get the same HTTP answers).
var (
	errKeyForbidden = errors.New("Forbidden")
	errKeyThrottled = errors.New("Too Many Requests")
	errKeyQuota     = errors.New("Limit Exceeded")
)

// use checks and counts one request made with value at now: errKeyForbidden for a missing,
// unknown or disabled key, errKeyQuota when the plan's quota for the period is spent,
// errKeyThrottled when the plan's rate/burst bucket is empty. A refused request is not counted.
// Quota periods start at 00:00 UTC (weeks on Sunday, months on the 1st); Quota.Offset is not
// applied.
func (kr *keyring) use(value string, now time.Time) error {
	ks := kr.byValue[value]
	if value == "" || ks == nil || !ks.key.Enabled {
		return errKeyForbidden
	}
	ks.mu.Lock()
	defer ks.mu.Unlock()
	if q := ks.plan.Quota; q != nil {
		start := periodStart(q.Period, now)
		if !start.Equal(ks.period) {
			ks.period, ks.used = start, 0
		}
		if ks.used >= q.Limit {
			return errKeyQuota
		}
	}
	if t := ks.plan.Throttle; t != nil && (t.RateLimit > 0 || t.BurstLimit > 0) {
		mono := time.Now()
		ks.tokens = min(float64(max(t.BurstLimit, 1)), ks.tokens+t.RateLimit*mono.Sub(ks.refilled).Seconds())
		ks.refilled = mono
		if ks.tokens < 1 {
			return errKeyThrottled
		}
		ks.tokens--
	}
	ks.used++
	return nil
}

// periodStart is the start of the quota period (UTC) that contains now.
func periodStart(period string, now time.Time) time.Time {
	d := time.Date(now.UTC().Year(), now.UTC().Month(), now.UTC().Day(), 0, 0, 0, 0, time.UTC)
	switch period {
	case "WEEK":
		return d.AddDate(0, 0, -int(d.Weekday()))
	case "MONTH":
		return time.Date(d.Year(), d.Month(), 1, 0, 0, 0, 0, time.UTC)
	}
	return d
}

// keyRefusal turns a refused key into API Gateway's answer to a handshake.
func keyRefusal(err error, route string) *refusal {
	switch {
	case errors.Is(err, errKeyQuota):
		return &refusal{status: http.StatusTooManyRequests, errType: "LimitExceededException",
			body: `{"message":"Limit Exceeded"}`, err: fmt.Errorf("%s: the API key's usage plan quota is spent", route)}
	case errors.Is(err, errKeyThrottled):
		return &refusal{status: http.StatusTooManyRequests, errType: "TooManyRequestsException",
			body: `{"message":"Too Many Requests"}`, err: fmt.Errorf("%s: the API key's usage plan throttle", route)}
	}
	return &refusal{status: http.StatusForbidden, errType: "ForbiddenException",
		body: `{"message":"Forbidden"}`, err: fmt.Errorf("%s requires an API key: missing, unknown, disabled or not in a usage plan of the stage", route)}
}

// apiKeyOf evaluates the API's key selection expression for a handshake: the x-api-key header,
// or the authorizer's usageIdentifierKey (its output's top-level field, else its context's).
func (g *Gateway) apiKeyOf(h *handshake) string {
	if g.api.APIKeySelectionExpression == keyFromAuthorizer {
		if h.usageKey != "" {
			return h.usageKey
		}
		s, _ := h.authorizer["usageIdentifierKey"].(string)
		return s
	}
	return h.r.Header.Get("x-api-key")
}

// checkConnectKey applies the API key of a handshake when $connect requires one. It keeps the
// key for the connection's later routes that require one.
func (g *Gateway) checkConnectKey(h *handshake) *refusal {
	h.apiKey = g.apiKeyOf(h)
	if rt := g.api.Route("$connect"); rt == nil || !rt.APIKeyRequired {
		return nil
	}
	if err := g.keys.use(h.apiKey, g.cfg.Now()); err != nil {
		return keyRefusal(err, "$connect")
	}
	return nil
}

// checkMessageKey applies the connection's API key to a message of a route that requires one;
// it returns the frame message of the refusal ("" when the message may proceed).
func (c *conn) checkMessageKey(key string) string {
	if rt := c.g.api.Route(key); rt == nil || !rt.APIKeyRequired {
		return ""
	}
	if err := c.g.keys.use(c.apiKey, c.g.cfg.Now()); err != nil {
		return err.Error()
	}
	return ""
}

// usageIdentifierKey reads the top-level usageIdentifierKey of an authorizer's output.
func usageIdentifierKey(out []byte) string {
	var v struct {
		UsageIdentifierKey string `json:"usageIdentifierKey"`
	}
	_ = json.Unmarshal(out, &v)
	return v.UsageIdentifierKey
}
