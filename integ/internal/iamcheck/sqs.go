package iamcheck

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"

	"github.com/chatstack/websocketchatapi/integ/internal/assembly"
)

// SQSTargetPrefix is the X-Amz-Target prefix of SQS's JSON protocol.
const SQSTargetPrefix = "AmazonSQS."

// maxSQSRequest bounds the body the proxy reads.
const maxSQSRequest = 4 << 20

// sqsBatchActions maps the batch operations to the action IAM checks for them: there is no
// sqs:SendMessageBatch permission, a batch needs the action of its entries.
var sqsBatchActions = map[string]string{
	"SendMessageBatch":             "SendMessage",
	"DeleteMessageBatch":           "DeleteMessage",
	"ChangeMessageVisibilityBatch": "ChangeMessageVisibility",
}

// SQSCheck returns what IAM checks for an SQS JSON-protocol request, given its X-Amz-Target
// (e.g. AmazonSQS.SendMessage) and body: sqs:<Operation> (the entries' action for a batch) on
// the ARN of the queue its QueueUrl names (https://<host>/<account>/<name>), or of QueueName
// for CreateQueue and GetQueueUrl; on "*" for ListQueues.
func SQSCheck(env assembly.Env, target string, body []byte) (Check, error) {
	op, ok := strings.CutPrefix(target, SQSTargetPrefix)
	if !ok || op == "" {
		return Check{}, fmt.Errorf("sqs request: X-Amz-Target %q is not %s<Operation>", target, SQSTargetPrefix)
	}
	var req struct {
		QueueUrl, QueueName, QueueOwnerAWSAccountId string
	}
	if len(body) > 0 {
		if err := json.Unmarshal(body, &req); err != nil {
			return Check{}, fmt.Errorf("sqs %s: body: %w", op, err)
		}
	}
	action := op
	if a, ok := sqsBatchActions[op]; ok {
		action = a
	}
	action = "sqs:" + action
	switch {
	case op == "ListQueues":
		return Check{Action: action, Resource: "*"}, nil
	case req.QueueUrl != "":
		u, err := url.Parse(req.QueueUrl)
		parts := strings.Split(strings.Trim(u.Path, "/"), "/")
		if err != nil || len(parts) != 2 || parts[0] == "" || parts[1] == "" {
			return Check{}, fmt.Errorf("sqs %s: QueueUrl %q is not <endpoint>/<account>/<queue name>", op, req.QueueUrl)
		}
		return Check{Action: action, Resource: env.ARN("sqs", env.Region, parts[0], parts[1])}, nil
	case req.QueueName != "":
		account := req.QueueOwnerAWSAccountId
		if account == "" {
			account = env.AccountID
		}
		return Check{Action: action, Resource: env.ARN("sqs", env.Region, account, req.QueueName)}, nil
	}
	return Check{}, fmt.Errorf("sqs %s: no QueueUrl in the request", op)
}

// SQSCaller is who signed an SQS request, as SQSProxyConfig.Lookup finds it.
type SQSCaller struct {
	// Policy is the caller's identity-based policy.
	Policy *Policy
	// SenderID is the SenderId SQS records for the caller's messages: <role id>:<session> for
	// a role session.
	SenderID string
}

// SQSProxyConfig configures an SQSProxy.
type SQSProxyConfig struct {
	// Target is the SQS endpoint allowed requests are forwarded to.
	Target *url.URL
	// Env gives the region and partition queue ARNs are built with.
	Env assembly.Env
	// Lookup finds the caller of an access key id; false for an unknown key.
	Lookup func(accessKeyID string) (SQSCaller, bool)
	// QueuePolicies returns the resource policies of the queue with the given ARN.
	QueuePolicies func(queueARN string) []ResourcePolicy
	// SenderHeader, if set, is the header the proxy sets to the caller's SenderID on the
	// forwarded request (package sqslocal reads it).
	SenderHeader string
	// Observe, if set, is called with every decision the proxy makes.
	Observe func(r *http.Request, d Decision)
}

// SQSProxy is an http.Handler that authorizes each SQS JSON-protocol request against the
// caller's role policies and the queue's resource policies, and forwards the allowed ones.
// Refusals are SQS's: HTTP 403 with {"__type", "message"} and X-Amzn-Query-Error
// AccessDenied (not allowed, with IAM's message naming the action in lower case as SQS does),
// InvalidClientTokenId (unknown access key) or MissingAuthenticationToken (unsigned).
type SQSProxy struct {
	cfg   SQSProxyConfig
	proxy *httputil.ReverseProxy
}

// NewSQSProxy returns a proxy for cfg.
func NewSQSProxy(cfg SQSProxyConfig) (*SQSProxy, error) {
	if cfg.Target == nil || cfg.Target.Host == "" {
		return nil, errors.New("sqs proxy: no target endpoint")
	}
	if cfg.Lookup == nil {
		return nil, errors.New("sqs proxy: no Lookup")
	}
	target := cfg.Target
	return &SQSProxy{cfg: cfg, proxy: &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) { pr.SetURL(target) }}}, nil
}

// ServeHTTP implements http.Handler.
func (p *SQSProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	cred, err := RequestCredential(r)
	if err != nil {
		writeSQSError(w, http.StatusForbidden, "com.amazon.coral.service#MissingAuthenticationTokenException", "MissingAuthenticationToken", "Request is missing Authentication Token")
		return
	}
	caller, ok := p.cfg.Lookup(cred.AccessKeyID)
	if !ok {
		writeSQSError(w, http.StatusForbidden, "com.amazon.coral.service#UnrecognizedClientException", "InvalidClientTokenId", "The security token included in the request is invalid.")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxSQSRequest))
	if err != nil {
		writeSQSError(w, http.StatusBadRequest, "com.amazonaws.sqs#InvalidParameterValue", "InvalidParameterValue", fmt.Sprintf("could not read the request body: %v", err))
		return
	}
	check, err := SQSCheck(p.cfg.Env, r.Header.Get("X-Amz-Target"), body)
	if err != nil {
		writeSQSError(w, http.StatusBadRequest, "com.amazonaws.sqs#InvalidAddress", "InvalidAddress", err.Error())
		return
	}
	var rps []ResourcePolicy
	if p.cfg.QueuePolicies != nil {
		rps = p.cfg.QueuePolicies(check.Resource)
	}
	d := caller.Policy.AllowedWithResource(rps, check.Action, check.Resource)
	if p.cfg.Observe != nil {
		p.cfg.Observe(r, d)
	}
	if !d.Allowed {
		// SQS names the action in lower case: "... to perform: sqs:sendmessage on resource: ...".
		msg := strings.ReplaceAll(d.Reason, check.Action, strings.ToLower(check.Action))
		writeSQSError(w, http.StatusForbidden, "com.amazon.coral.service#AccessDeniedException", "AccessDenied", msg)
		return
	}
	if p.cfg.SenderHeader != "" {
		r.Header.Set(p.cfg.SenderHeader, caller.SenderID)
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	p.proxy.ServeHTTP(w, r)
}

// writeSQSError answers as SQS's JSON protocol does for an error.
func writeSQSError(w http.ResponseWriter, status int, typ, queryCode, msg string) {
	body, err := json.Marshal(map[string]string{"__type": typ, "message": msg})
	if err != nil {
		http.Error(w, msg, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("X-Amzn-Requestid", requestID())
	w.Header().Set("X-Amzn-Query-Error", queryCode+";Sender")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
