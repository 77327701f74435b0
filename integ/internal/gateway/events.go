package gateway

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The events below mirror, field for field, what API Gateway sends to Lambda for a WebSocket
// API; aws-lambda-go's events.APIGatewayWebsocketProxyRequest and
// events.APIGatewayCustomAuthorizerRequestTypeRequest decode them.

// requestContext is the requestContext of every WebSocket event.
type requestContext struct {
	RouteKey             string         `json:"routeKey"`
	MessageID            string         `json:"messageId,omitempty"`
	DisconnectStatusCode int            `json:"disconnectStatusCode,omitempty"`
	Authorizer           map[string]any `json:"authorizer,omitempty"`
	EventType            string         `json:"eventType"`
	ExtendedRequestID    string         `json:"extendedRequestId"`
	RequestTime          string         `json:"requestTime"`
	MessageDirection     string         `json:"messageDirection"`
	DisconnectReason     *string        `json:"disconnectReason,omitempty"`
	Stage                string         `json:"stage"`
	ConnectedAt          int64          `json:"connectedAt"`
	RequestTimeEpoch     int64          `json:"requestTimeEpoch"`
	Identity             identity       `json:"identity"`
	RequestID            string         `json:"requestId"`
	DomainName           string         `json:"domainName"`
	ConnectionID         string         `json:"connectionId"`
	APIID                string         `json:"apiId"`
}

// identity is requestContext.identity.
type identity struct {
	UserAgent string `json:"userAgent,omitempty"`
	SourceIP  string `json:"sourceIp"`
	// The IAM caller of an AWS_IAM connection (see IAMCaller).
	AccountID string `json:"accountId,omitempty"`
	Caller    string `json:"caller,omitempty"`
	User      string `json:"user,omitempty"`
	UserArn   string `json:"userArn,omitempty"`
	AccessKey string `json:"accessKey,omitempty"`
}

// newIdentity is requestContext.identity of a connection's events.
func newIdentity(userAgent, sourceIP string, iam IAMCaller) identity {
	return identity{UserAgent: userAgent, SourceIP: sourceIP, AccountID: iam.AccountID, Caller: iam.Caller,
		User: iam.User, UserArn: iam.UserArn, AccessKey: iam.AccessKey}
}

// proxyEvent is the event of an AWS_PROXY integration: CONNECT, MESSAGE or DISCONNECT.
type proxyEvent struct {
	Headers                         map[string]string   `json:"headers,omitempty"`
	MultiValueHeaders               map[string][]string `json:"multiValueHeaders,omitempty"`
	QueryStringParameters           map[string]string   `json:"queryStringParameters,omitempty"`
	MultiValueQueryStringParameters map[string][]string `json:"multiValueQueryStringParameters,omitempty"`
	StageVariables                  map[string]string   `json:"stageVariables,omitempty"`
	RequestContext                  requestContext      `json:"requestContext"`
	Body                            *string             `json:"body,omitempty"`
	IsBase64Encoded                 bool                `json:"isBase64Encoded"`
}

// authorizerEvent is the event of a REQUEST authorizer on $connect.
type authorizerEvent struct {
	Type                            string              `json:"type"`
	MethodArn                       string              `json:"methodArn"`
	Headers                         map[string]string   `json:"headers"`
	MultiValueHeaders               map[string][]string `json:"multiValueHeaders"`
	QueryStringParameters           map[string]string   `json:"queryStringParameters"`
	MultiValueQueryStringParameters map[string][]string `json:"multiValueQueryStringParameters"`
	StageVariables                  map[string]string   `json:"stageVariables"`
	RequestContext                  requestContext      `json:"requestContext"`
}

// proxyResponse is what an AWS_PROXY integration answers.
type proxyResponse struct {
	StatusCode        int
	Headers           map[string]string
	MultiValueHeaders map[string][]string
	Body              string
}

// parseProxyResponse reads a Lambda proxy response: a JSON object with a numeric statusCode,
// string headers and a string body. Anything else is the "malformed Lambda proxy response" that
// API Gateway answers with an internal error.
func parseProxyResponse(b []byte) (proxyResponse, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil || raw == nil {
		return proxyResponse{}, fmt.Errorf("malformed Lambda proxy response: not a JSON object: %.100q", b)
	}
	var out proxyResponse
	sc, ok := raw["statusCode"]
	if !ok {
		return proxyResponse{}, fmt.Errorf("malformed Lambda proxy response: no statusCode")
	}
	if err := json.Unmarshal(sc, &out.StatusCode); err != nil {
		return proxyResponse{}, fmt.Errorf("malformed Lambda proxy response: statusCode %s is not an integer", sc)
	}
	if h, ok := raw["headers"]; ok && string(h) != "null" {
		if err := json.Unmarshal(h, &out.Headers); err != nil {
			return proxyResponse{}, fmt.Errorf("malformed Lambda proxy response: headers: %w", err)
		}
	}
	if h, ok := raw["multiValueHeaders"]; ok && string(h) != "null" {
		if err := json.Unmarshal(h, &out.MultiValueHeaders); err != nil {
			return proxyResponse{}, fmt.Errorf("malformed Lambda proxy response: multiValueHeaders: %w", err)
		}
	}
	if body, ok := raw["body"]; ok && string(body) != "null" {
		if err := json.Unmarshal(body, &out.Body); err != nil {
			return proxyResponse{}, fmt.Errorf("malformed Lambda proxy response: body is not a string")
		}
	}
	return out, nil
}

// newID returns a random id shaped like API Gateway's connection, request and message ids:
// 16 characters of URL-safe base64 ending in "=", e.g. L0SM9cOFvHcCIhw=.
func newID() string {
	var b [11]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("gateway: crypto/rand: %v", err)) // never fails on supported platforms
	}
	return base64.URLEncoding.EncodeToString(b[:])
}

// traceID returns an X-Amzn-Trace-Id value: Root=1-<epoch hex>-<96 random bits>.
func traceID(now time.Time) string {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("gateway: crypto/rand: %v", err))
	}
	return fmt.Sprintf("Root=1-%08x-%s", now.Unix(), hex.EncodeToString(b[:]))
}

// requestTime formats t as API Gateway's requestTime: 09/Feb/2024:18:11:43 +0000.
func requestTime(t time.Time) string {
	return t.UTC().Format("02/Jan/2006:15:04:05 -0700")
}

// hopByHop lists the handshake headers API Gateway does not pass to the functions.
var hopByHop = map[string]bool{
	"Connection":        true,
	"Upgrade":           true,
	"Keep-Alive":        true,
	"Proxy-Connection":  true,
	"Te":                true,
	"Trailer":           true,
	"Transfer-Encoding": true,
}

// awsHeaderName spells a canonical Go header name as clients and AWS do for the WebSocket
// family (Go writes Sec-Websocket-Key; everyone else Sec-WebSocket-Key).
func awsHeaderName(name string) string {
	if rest, ok := strings.CutPrefix(name, "Sec-Websocket-"); ok {
		return "Sec-WebSocket-" + rest
	}
	return name
}

// handshakeHeaders builds headers and multiValueHeaders of the $connect events: the client's
// headers without hop-by-hop ones, plus Host and the X-Forwarded-* and X-Amzn-Trace-Id headers
// that API Gateway adds.
func handshakeHeaders(r *http.Request, sourceIP string, now time.Time) (map[string]string, map[string][]string) {
	multi := map[string][]string{}
	for name, vs := range r.Header {
		if hopByHop[name] || name == "X-Forwarded-For" || name == "X-Forwarded-Port" || name == "X-Forwarded-Proto" {
			continue
		}
		multi[awsHeaderName(name)] = append([]string(nil), vs...)
	}
	multi["Host"] = []string{r.Host}
	xff := sourceIP
	if prior := r.Header.Values("X-Forwarded-For"); len(prior) > 0 {
		xff = strings.Join(prior, ", ") + ", " + sourceIP
	}
	multi["X-Forwarded-For"] = []string{xff}
	multi["X-Forwarded-Port"] = []string{localPort(r)}
	proto := "http"
	if r.TLS != nil {
		proto = "https"
	}
	multi["X-Forwarded-Proto"] = []string{proto}
	if _, ok := multi["X-Amzn-Trace-Id"]; !ok {
		multi["X-Amzn-Trace-Id"] = []string{traceID(now)}
	}
	single := make(map[string]string, len(multi))
	for k, vs := range multi {
		single[k] = vs[len(vs)-1]
	}
	return single, multi
}

// localPort is the port the client connected to.
func localPort(r *http.Request) string {
	if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		if _, port, err := net.SplitHostPort(a.String()); err == nil {
			return port
		}
	}
	if _, port, err := net.SplitHostPort(r.Host); err == nil {
		return port
	}
	if r.TLS != nil {
		return "443"
	}
	return "80"
}

// queryParameters builds queryStringParameters (last value wins) and
// multiValueQueryStringParameters.
func queryParameters(r *http.Request) (map[string]string, map[string][]string) {
	q := r.URL.Query()
	single := make(map[string]string, len(q))
	multi := make(map[string][]string, len(q))
	for k, vs := range q {
		multi[k] = vs
		single[k] = vs[len(vs)-1]
	}
	return single, multi
}

// sourceIP is the client's address as API Gateway sees it (the TCP peer).
func sourceIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// contextValue returns a $context variable of a handshake, for context.X identity sources.
func (h *handshake) contextValue(name string) (string, bool) {
	rc := h.requestContext()
	switch name {
	case "connectionId":
		return rc.ConnectionID, true
	case "routeKey":
		return rc.RouteKey, true
	case "eventType":
		return rc.EventType, true
	case "messageDirection":
		return rc.MessageDirection, true
	case "requestId":
		return rc.RequestID, true
	case "extendedRequestId":
		return rc.ExtendedRequestID, true
	case "stage":
		return rc.Stage, true
	case "apiId":
		return rc.APIID, true
	case "domainName":
		return rc.DomainName, true
	case "requestTime":
		return rc.RequestTime, true
	case "requestTimeEpoch":
		return strconv.FormatInt(rc.RequestTimeEpoch, 10), true
	case "connectedAt":
		return strconv.FormatInt(rc.ConnectedAt, 10), true
	case "identity.sourceIp":
		return rc.Identity.SourceIP, rc.Identity.SourceIP != ""
	case "identity.userAgent":
		return rc.Identity.UserAgent, rc.Identity.UserAgent != ""
	}
	return "", false
}

// disconnectHeaders are the headers API Gateway puts on every $disconnect event.
func disconnectHeaders(host string) (map[string]string, map[string][]string) {
	single := map[string]string{"Host": host, "x-api-key": "", "X-Forwarded-For": "", "x-restapi": ""}
	multi := make(map[string][]string, len(single))
	for k, v := range single {
		multi[k] = []string{v}
	}
	return single, multi
}

// gatewayFrame is a frame that API Gateway itself sends to a client, in AWS's exact spelling.
func gatewayFrame(message, connectionID, idKey, id string) []byte {
	return fmt.Appendf(nil, `{"message": %s, "connectionId":%s, %s:%s}`, jsonString(message), jsonString(connectionID), jsonString(idKey), jsonString(id))
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
