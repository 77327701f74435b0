package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/chatstack/websocketchatapi/internal/contract"
)

const testMethodArn = "arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/prod/$connect"

// invoke runs the authorizer as Lambda would, with a request id, and returns the
// response, the error and the decoded log lines.
func invoke(t *testing.T, v TokenVerifier, req events.APIGatewayCustomAuthorizerRequestTypeRequest) (resp events.APIGatewayCustomAuthorizerResponse, logs []map[string]any, raw string, err error) {
	t.Helper()
	var buf bytes.Buffer
	a := NewAuthorizer(v, slog.New(slog.NewJSONHandler(&buf, nil)))
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "req-123"})
	req.MethodArn = testMethodArn
	req.RequestContext.RequestID = "apigw-456"
	resp, err = a.Handle(ctx, req)

	for line := range strings.SplitSeq(strings.TrimSpace(buf.String()), "\n") {
		var m map[string]any
		if jerr := json.Unmarshal([]byte(line), &m); jerr != nil {
			t.Fatalf("log line is not JSON: %q: %v", line, jerr)
		}
		logs = append(logs, m)
	}
	return resp, logs, buf.String(), err
}

func queryRequest(token string) events.APIGatewayCustomAuthorizerRequestTypeRequest {
	return events.APIGatewayCustomAuthorizerRequestTypeRequest{
		QueryStringParameters: map[string]string{"token": token},
	}
}

func protocolRequest(token string) events.APIGatewayCustomAuthorizerRequestTypeRequest {
	return events.APIGatewayCustomAuthorizerRequestTypeRequest{
		Headers: map[string]string{"sec-websocket-protocol": "chat.v1, bearer." + token},
	}
}

// checkPolicy checks the single execute-api:Invoke statement on the method ARN.
func checkPolicy(t *testing.T, resp events.APIGatewayCustomAuthorizerResponse, effect string) {
	t.Helper()
	doc := resp.PolicyDocument
	if doc.Version != "2012-10-17" || len(doc.Statement) != 1 {
		t.Fatalf("policy document = %+v", doc)
	}
	st := doc.Statement[0]
	if st.Effect != effect ||
		!slices.Equal(st.Action, []string{"execute-api:Invoke"}) ||
		!slices.Equal(st.Resource, []string{testMethodArn}) {
		t.Fatalf("statement = %+v, want %s execute-api:Invoke on %s", st, effect, testMethodArn)
	}
}

func TestHandleTable(t *testing.T) {
	f := newFixture(t)
	sources := []struct {
		source string
		req    func(string) events.APIGatewayCustomAuthorizerRequestTypeRequest
	}{
		{SourceQuery, queryRequest},
		{SourceProtocol, protocolRequest},
	}
	for _, tc := range tokenCases(t, f) {
		for _, src := range sources {
			t.Run(tc.name+" via "+src.source, func(t *testing.T) {
				resp, logs, raw, err := invoke(t, f.verifier, src.req(tc.token))
				if err != nil {
					t.Fatalf("Handle error = %v; a present token must give a policy", err)
				}
				if len(tc.token) >= 8 && strings.Contains(raw, tc.token) {
					t.Errorf("the log contains the token")
				}
				if parts := strings.Split(tc.token, "."); len(parts) == 3 && len(parts[2]) > 8 && strings.Contains(raw, parts[2]) {
					t.Errorf("the log contains the token's signature")
				}
				if len(logs) != 1 || logs[0]["requestId"] != "req-123" || logs[0]["apiRequestId"] != "apigw-456" || logs[0]["tokenSource"] != src.source {
					t.Errorf("logs = %v, want one line with requestId, apiRequestId and tokenSource", logs)
				}

				if tc.want != nil {
					checkPolicy(t, resp, "Deny")
					if resp.PrincipalID != "anonymous" || resp.Context != nil {
						t.Errorf("deny principal = %q context = %v, want anonymous and no context", resp.PrincipalID, resp.Context)
					}
					if len(logs) == 1 && (logs[0]["outcome"] != "deny" || logs[0]["reason"] == "" || logs[0]["level"] != "WARN") {
						t.Errorf("deny log = %v, want outcome deny with a reason", logs[0])
					}
					return
				}
				checkPolicy(t, resp, "Allow")
				if resp.PrincipalID != "3f1c2a9e-user-1" {
					t.Errorf("principal = %q", resp.PrincipalID)
				}
				if resp.Context[contract.ContextUserID] != "3f1c2a9e-user-1" || resp.Context[contract.ContextTokenSource] != src.source {
					t.Errorf("context = %v", resp.Context)
				}
				if len(logs) == 1 && (logs[0]["outcome"] != "allow" || logs[0]["userId"] != "3f1c2a9e-user-1") {
					t.Errorf("allow log = %v", logs[0])
				}
			})
		}
	}
}

func TestHandleNoToken(t *testing.T) {
	f := newFixture(t)
	reqs := map[string]events.APIGatewayCustomAuthorizerRequestTypeRequest{
		"empty request": {},
		"only the chat protocol": {
			Headers:               map[string]string{"Sec-WebSocket-Protocol": "chat.v1"},
			QueryStringParameters: map[string]string{"room": "lobby"},
		},
	}
	for name, req := range reqs {
		t.Run(name, func(t *testing.T) {
			resp, logs, _, err := invoke(t, f.verifier, req)
			if err == nil || err.Error() != "Unauthorized" {
				t.Fatalf("err = %v, want exactly \"Unauthorized\" (API Gateway's 401)", err)
			}
			if resp.PrincipalID != "" || len(resp.PolicyDocument.Statement) != 0 {
				t.Errorf("response = %+v, want empty", resp)
			}
			if len(logs) != 1 || logs[0]["outcome"] != "unauthorized" || logs[0]["requestId"] != "req-123" {
				t.Errorf("logs = %v", logs)
			}
		})
	}
	if got := f.pool.hits.Load(); got != 0 {
		t.Errorf("a request without a token fetched the JWKS %d times", got)
	}
}

func TestHandleAmbiguousTokenDenied(t *testing.T) {
	f := newFixture(t)
	good := f.rsa.sign(t, idClaims(f.pool.issuer), nil)
	req := queryRequest(good)
	req.Headers = map[string]string{"Sec-WebSocket-Protocol": "chat.v1, bearer." + f.ec.sign(t, idClaims(f.pool.issuer), nil)}
	resp, _, raw, err := invoke(t, f.verifier, req)
	if err != nil {
		t.Fatalf("err = %v", err)
	}
	checkPolicy(t, resp, "Deny")
	if strings.Contains(raw, good) {
		t.Errorf("the log contains the token")
	}
}

func TestHandleAllowContext(t *testing.T) {
	f := newFixture(t)
	claims := with(idClaims(f.pool.issuer), map[string]any{"name": strings.Repeat("名", 1000)})
	resp, _, _, err := invoke(t, f.verifier, protocolRequest(f.ec.sign(t, claims, nil)))
	if err != nil {
		t.Fatalf("err = %v", err)
	}
	checkPolicy(t, resp, "Allow")
	want := map[string]any{
		"userId":      "3f1c2a9e-user-1",
		"displayName": strings.Repeat("名", 128),
		"tokenUse":    "id",
		"tokenSource": "protocol",
	}
	if !maps.Equal(resp.Context, want) {
		t.Fatalf("context = %v, want %v", resp.Context, want)
	}

	// The response as API Gateway receives it.
	b, err := json.Marshal(resp)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	var wire struct {
		PrincipalID    string `json:"principalId"`
		PolicyDocument struct {
			Version   string
			Statement []struct {
				Action   []string
				Effect   string
				Resource []string
			}
		} `json:"policyDocument"`
		Context map[string]any `json:"context"`
	}
	if err := json.Unmarshal(b, &wire); err != nil {
		t.Fatalf("unmarshal: %v", err)
	}
	if wire.PrincipalID != "3f1c2a9e-user-1" || len(wire.PolicyDocument.Statement) != 1 || wire.PolicyDocument.Statement[0].Effect != "Allow" {
		t.Errorf("wire response = %s", b)
	}
	ctxJSON, err := json.Marshal(wire.Context)
	if err != nil {
		t.Fatalf("marshal context: %v", err)
	}
	if len(ctxJSON) > 1024 {
		t.Errorf("context is %d bytes, want well under API Gateway's 8 KB", len(ctxJSON))
	}
}

// stubVerifier returns a fixed identity.
type stubVerifier struct{ id Identity }

func (s stubVerifier) Verify(context.Context, string) (Identity, error) { return s.id, nil }

func TestHandleTruncatesDisplayName(t *testing.T) {
	long := strings.Repeat("x", 5000) + "\xff"
	resp, _, _, err := invoke(t, stubVerifier{Identity{UserID: "u1", DisplayName: long, TokenUse: "access"}}, queryRequest("t"))
	if err != nil {
		t.Fatalf("err = %v", err)
	}
	name, ok := resp.Context[contract.ContextDisplayName].(string)
	if !ok || utf8.RuneCountInString(name) != MaxDisplayNameRunes || !utf8.ValidString(name) {
		t.Errorf("displayName = %q (%d runes), want %d valid runes", name, utf8.RuneCountInString(name), MaxDisplayNameRunes)
	}
	for k, v := range resp.Context {
		if _, ok := v.(string); !ok {
			t.Errorf("context[%s] is %T, want string", k, v)
		}
	}
}
