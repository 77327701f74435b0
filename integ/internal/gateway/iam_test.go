package gateway

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/chatstack/websocketchatapi/client"
	"github.com/chatstack/websocketchatapi/integ/internal/iamcheck"
)

// iamKeys are the test's principals: an allowed and a denied one.
var iamKeys = map[string]struct{ secret, arn string }{
	"ASIAALLOWED": {"allowed-secret", "arn:aws:sts::000000000000:assumed-role/Device/thing-1"},
	"ASIADENIED":  {"denied-secret", "arn:aws:sts::000000000000:assumed-role/Other/thing-2"},
}

// iamHarness serves the reference API with AWS_IAM on $connect and an AuthorizeIAM that
// verifies the signature with iamcheck and allows ASIAALLOWED only.
func iamHarness(t *testing.T) *harness {
	api := loadAPI(t)
	connect := api.Route("$connect")
	connect.AuthorizationType, connect.Authorizer = "AWS_IAM", nil
	h := newHarness(t, api, func(c *Config) {
		c.AuthorizeIAM = func(r *http.Request, methodARN string) (IAMCaller, error) {
			cred, err := iamcheck.RequestCredential(r)
			k, ok := iamKeys[cred.AccessKeyID]
			if err != nil || !ok {
				return IAMCaller{}, &ManagementError{Status: 403, Type: "UnrecognizedClientException", Message: "The security token included in the request is invalid."}
			}
			if _, err := iamcheck.VerifySigV4(r, k.secret, time.Now()); err != nil {
				return IAMCaller{}, &ManagementError{Status: 403, Type: "InvalidSignatureException", Message: err.Error()}
			}
			if cred.AccessKeyID != "ASIAALLOWED" {
				return IAMCaller{}, errors.New("User: " + k.arn + " is not authorized to perform: execute-api:Invoke on resource: " + methodARN)
			}
			return IAMCaller{AccountID: "000000000000", Caller: "AROADEVICE:thing-1", User: "AROADEVICE:thing-1", UserArn: k.arn, AccessKey: cred.AccessKeyID}, nil
		}
	})
	return h
}

// dialIAM connects with package client, signing with key (and secret, "" for its own).
func (h *harness) dialIAM(key, secret string, inQuery bool) (*client.Client, error) {
	if secret == "" {
		secret = iamKeys[key].secret
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return client.Dial(ctx, h.wsURL(""), client.Options{
		AWSCredentials: func(context.Context) (client.AWSCredentials, error) {
			return client.AWSCredentials{AccessKeyID: key, SecretAccessKey: secret, SessionToken: "tok"}, nil
		},
		AWSRegion:           "us-east-1",
		AWSSignatureInQuery: inQuery,
	})
}

// TestIAMConnect: on an AWS_IAM $connect, a handshake that package client signs (header or
// presigned URL) passes the verifier and carries the caller in requestContext.identity; an
// unsigned, badly signed or denied one is refused with 403 before $connect runs.
func TestIAMConnect(t *testing.T) {
	h := iamHarness(t)
	for _, inQuery := range []bool{false, true} {
		c, err := h.dialIAM("ASIAALLOWED", "", inQuery)
		if err != nil {
			t.Fatalf("signed handshake (query %v): %v", inQuery, err)
		}
		_ = c.Close()
	}
	evs := h.lambda.events(h.names.connect)
	if len(evs) != 2 {
		t.Fatalf("$connect ran %d times, want 2", len(evs))
	}
	rc := decodeProxy(t, evs[0]).RequestContext
	if rc.Identity.UserArn != iamKeys["ASIAALLOWED"].arn || rc.Identity.AccessKey != "ASIAALLOWED" || rc.Identity.AccountID != "000000000000" || rc.Authorizer != nil {
		t.Errorf("identity %+v, authorizer %v", rc.Identity, rc.Authorizer)
	}
	waitFor(t, "the $disconnect events", func() bool { return h.lambda.count(h.names.disconnect) == 2 })
	if rc := decodeProxy(t, h.lambda.events(h.names.disconnect)[0]).RequestContext; rc.Identity.UserArn != iamKeys["ASIAALLOWED"].arn {
		t.Errorf("$disconnect identity %+v, want the caller again", rc.Identity)
	}

	for name, dial := range map[string]func() error{
		"denied":     func() error { _, err := h.dialIAM("ASIADENIED", "", false); return err },
		"bad secret": func() error { _, err := h.dialIAM("ASIAALLOWED", "wrong", true); return err },
		"unknown":    func() error { _, err := h.dialIAM("ASIAUNKNOWN", "x", false); return err },
	} {
		var ae *client.AuthError
		if err := dial(); !errors.As(err, &ae) || ae.StatusCode != http.StatusForbidden {
			t.Errorf("%s: %v, want a 403 AuthError", name, err)
		}
	}
	h.refuse("", http.StatusForbidden) // unsigned
	if n := h.lambda.count(h.names.connect); n != 2 {
		t.Errorf("$connect ran %d times, want 2: refused handshakes must not reach it", n)
	}
	logs := h.logs.String()
	for _, want := range []string{"is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:", "InvalidSignatureException", "UnrecognizedClientException"} {
		if !strings.Contains(logs, want) {
			t.Errorf("the log does not mention %q", want)
		}
	}
}

// TestIAMRefusalAnswer: a badly signed handshake gets 403 with the error type and a JSON body.
func TestIAMRefusalAnswer(t *testing.T) {
	h := iamHarness(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	hdr := http.Header{}
	hdr.Set("Authorization", "AWS4-HMAC-SHA256 Credential=ASIADENIED/20260101/us-east-1/execute-api/aws4_request, SignedHeaders=host, Signature="+strings.Repeat("0", 64))
	_, resp, err := websocket.Dial(ctx, h.wsURL(""), &websocket.DialOptions{HTTPHeader: hdr})
	if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden || resp.Header.Get("x-amzn-ErrorType") != "InvalidSignatureException" {
		t.Fatalf("dial: %v, %+v", err, resp)
	}
	body := make([]byte, 512)
	n, _ := resp.Body.Read(body)
	if !strings.HasPrefix(string(body[:n]), `{"message":`) {
		t.Errorf("body %q, want {\"message\": ...}", body[:n])
	}
}
