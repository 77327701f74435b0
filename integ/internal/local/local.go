package local

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/chatstack/websocketchatapi/integ/internal/assembly"
	"github.com/chatstack/websocketchatapi/integ/internal/deploy"
	"github.com/chatstack/websocketchatapi/integ/internal/gateway"
	"github.com/chatstack/websocketchatapi/integ/internal/iamcheck"
	"github.com/chatstack/websocketchatapi/integ/internal/lambdaemu"
	"github.com/chatstack/websocketchatapi/integ/internal/localauth"
	"github.com/chatstack/websocketchatapi/integ/internal/sqslocal"
	"github.com/chatstack/websocketchatapi/internal/contract"
	"github.com/chatstack/websocketchatapi/internal/ddblocal"
)

// accessKeyPrefix starts every function's local access key id.
const accessKeyPrefix = "AKIALOCAL"

// Options configure Start.
type Options struct {
	// AssemblyDir is the cloud assembly to run (what Synth or `cdk synth` wrote). Required.
	AssemblyDir string
	// Stack names the stack (name or artifact id); "" takes the assembly's only stack.
	Stack string
	// API names the WebSocket API to serve, by logical id or Name; "" takes the stack's only
	// one (a stack with none or several fails Start with the list and how to pick).
	API string
	// Stage names the API's stage to serve; "" takes the API's only (or first) stage.
	Stage string
	// IdleTimeout closes a connection that carries no message for this long; zero keeps API
	// Gateway's 10 minutes (the gateway's default).
	IdleTimeout time.Duration
	// MaxConnectionDuration closes (1001 "Going away") a connection open this long; zero keeps
	// API Gateway's 2 hours (the gateway's default). Tests shorten it to meet the cap.
	MaxConnectionDuration time.Duration
	// Logger receives the emulator's own logs (gateway, IAM denials); default: discarded.
	Logger *slog.Logger
	// LogSink receives every output line of every function, prefixed with its name, plus
	// Lambda's START, END and REPORT lines; default: none (Env.Logs keeps them anyway).
	LogSink io.Writer
	// Addr is the loopback address of the WebSocket and @connections endpoint; default
	// 127.0.0.1:0 (a free port).
	Addr string
	// DeployOrders chooses the orders of creation Start simulates over the template before it
	// runs anything (see package deploy): by default the adversarial order, in which each
	// resource is created as soon as its dependencies exist, and one random order.
	DeployOrders deploy.Orders
	// DeploySeed seeds the random deploy order; 0 means deploy.DefaultSeed.
	DeploySeed uint64
}

// Env is a running local copy of a synthesized stack: DynamoDB Local with the template's
// tables behind an IAM-checking proxy, the template's functions on the Lambda Runtime API
// emulator, a local OIDC issuer for the authorizer, and the WebSocket API with its @connections
// endpoint on one loopback listener. Close stops all of it.
type Env struct {
	// URL is what clients connect to: ws://127.0.0.1:<port>/<stage>.
	URL string
	// CallbackURL is the @connections base URL: http://127.0.0.1:<port>/<stage>; functions get
	// it wherever the template has the stage's https callback URL.
	CallbackURL string
	// Stage is the served stage's name.
	Stage string
	// Stack is the resolved stack that runs.
	Stack *assembly.Stack
	// API is the stack's WebSocket API.
	API *assembly.WebSocketAPI
	// Issuer mints the tokens the authorizer accepts (its iss is the template's AUTH_ISSUER).
	Issuer *localauth.Issuer
	// Audiences are the audiences the authorizer accepts (its AUTH_AUDIENCES); empty when the
	// API has no authorizer.
	Audiences []string
	// TokenUses are the token_use values the authorizer accepts (its AUTH_TOKEN_USE); empty
	// means any.
	TokenUses []string
	// DynamoDB is a client of DynamoDB Local itself, for assertions: it bypasses the IAM
	// checks that the functions' calls go through.
	DynamoDB *dynamodb.Client
	// DynamoDBEndpoint is DynamoDB Local's endpoint.
	DynamoDBEndpoint string
	// DynamoDBProxyURL is the IAM-checking proxy in front of it, which the functions use.
	DynamoDBProxyURL string
	// Gateway is the WebSocket API and @connections emulator.
	Gateway *gateway.Gateway
	// Lambda runs the functions.
	Lambda *lambdaemu.Emulator
	// AccessKeys maps each function's name to the access key id it signs its calls with.
	AccessKeys map[string]string
	// SQSEndpoint is the IAM-checking SQS endpoint in front of the local SQS server, which the
	// functions use (AWS_ENDPOINT_URL_SQS) and QueueURL names; "" when the stack has no queue.
	SQSEndpoint string
	// SQS is a client of the local SQS server itself, for assertions: it bypasses the IAM
	// checks (nil when the stack has no queue).
	SQS *sqs.Client

	logger    *slog.Logger
	keyValues map[string]string                // generated API key values, by key id
	ddbWait   func() (*ddblocal.Server, error) // waits for the start of DynamoDB Local
	ddbCancel context.CancelFunc               // cancels that start
	proxySrv  *http.Server
	proxyLn   net.Listener
	sqsServer *sqslocal.Server
	sqsSrv    *http.Server
	sqsLn     net.Listener
	pollStop  context.CancelFunc // stops the event source mappings' pollers
	pollers   sync.WaitGroup
	gwSrv     *http.Server
	gwLn      net.Listener
	served    []chan struct{}

	mu       sync.Mutex
	denials  []iamcheck.Decision
	sessions map[string]*clientSession // by access key id (see Credentials)

	closeOnce sync.Once
	closeErr  error
}

// Start runs the stack of the cloud assembly in opts.AssemblyDir locally and returns once every
// part answers. ctx bounds only the start. On failure everything started is stopped.
//
// First the stack is deployed on paper, in the orders opts.DeployOrders chooses (deploy.Check):
// a template that CloudFormation may create in an order where API Gateway, Lambda or IAM
// refuse a resource (a stage whose RouteSettings name a route not created yet, ...) fails
// Start with that refusal, in AWS's words, before anything starts.
//
// Every function runs the bootstrap of its asset folder (through qemu-user when built for
// another architecture) with the template's resolved environment, plus these overrides, the
// emulator's only differences from AWS:
//   - AWS_ENDPOINT_URL_DYNAMODB: the IAM-checking proxy in front of DynamoDB Local;
//   - AWS_ENDPOINT_URL_SQS (when the stack has SQS queues): the IAM-checking proxy in front of
//     the local SQS server (package sqslocal), Env.SQSEndpoint; queue URLs of the template
//     (https://sqs.<region>.<suffix>/<account>/<name>) in the environment name it instead;
//   - AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY: the function's own local key, which the
//     proxy and the @connections endpoint map to the function's execution role;
//   - AWS_REGION and AWS_DEFAULT_REGION: the stack's region, as Lambda sets them;
//   - any value that is, or starts with, the stage's https callback URL (wss URL) now names
//     the local http (ws) endpoint, such as CALLBACK_URL;
//   - in an authorizer function, AUTH_JWKS_URL: the local issuer's JWKS (AUTH_ISSUER stays).
//
// The stack's SQS queues are created in CloudFormation's order (dead-letter queues first) on
// a local SQS server, and each SQS event source mapping gets a poller that drives its function
// as Lambda does (see poller); a mapping Lambda would refuse (settings out of range, an
// execution role that may not receive, delete or read the queue's attributes) fails Start.
// Calls to SQS are checked against the caller's role and the queue's policies;
// aws:SecureTransport is true for them (see iamcheck.LocalConditionKeys).
//
// API keys whose template has no Value (CloudFormation generates those) get a random value
// here; Env.APIKeys lists every key with the value clients send.
func Start(ctx context.Context, opts Options) (_ *Env, err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("start local stack: %w", err)
		}
	}()
	s, err := newStarter(opts)
	if err != nil {
		return nil, err
	}
	e := s.env
	defer func() {
		if err != nil {
			_ = e.Close()
		}
	}()
	// DynamoDB Local (a JVM) takes longest: start it first and wire the rest meanwhile.
	e.startDynamoDB(ctx)
	for _, step := range []func(context.Context) error{s.listen, s.startIssuer, s.startFunctions, s.startGateway, s.startDynamoDBProxy, s.startSQS} {
		if err := step(ctx); err != nil {
			return nil, err
		}
	}
	e.proxySrv = e.serve(e.proxyLn, s.proxy)
	e.gwSrv = e.serve(e.gwLn, e.Gateway)
	if s.sqsProxy != nil {
		e.sqsSrv = e.serve(e.sqsLn, s.sqsProxy)
	}
	e.startPollers()
	e.logger.Info("local stack started", "stack", e.Stack.Name, "url", e.URL, "callbackUrl", e.CallbackURL,
		"dynamodb", e.DynamoDBEndpoint, "functions", len(e.Stack.Functions))
	return e, nil
}

// starter is one run of Start: the Env being started and what its steps hand each other.
type starter struct {
	env          *Env
	opts         Options
	stage        *assembly.Stage
	interpreters map[string]string             // what runs the bootstraps, by architecture
	authorizers  map[string]*assembly.Function // the API's authorizer functions, by logical id
	policies     map[string]*iamcheck.Policy   // each function's role, by its access key id
	proxy        http.Handler                  // the IAM-checking DynamoDB proxy
	sqsProxy     http.Handler                  // the IAM-checking SQS proxy (nil without queues)
}

// newStarter loads the stack of opts.AssemblyDir and picks its API and stage.
func newStarter(opts Options) (*starter, error) {
	if opts.AssemblyDir == "" {
		return nil, errors.New("AssemblyDir is empty")
	}
	asm, err := assembly.Load(opts.AssemblyDir, assembly.Options{})
	if err != nil {
		return nil, err
	}
	st, err := asm.Stack(opts.Stack)
	if err != nil {
		return nil, err
	}
	if err := deploy.Check(st, opts.DeployOrders, opts.DeploySeed); err != nil {
		return nil, err
	}
	if err := checkMappings(st); err != nil {
		return nil, fmt.Errorf("stack %s: %w", st.Name, err)
	}
	api, err := PickAPI(st, opts.API)
	if err != nil {
		return nil, err
	}
	stage, err := pickStage(api, opts.Stage)
	if err != nil {
		return nil, fmt.Errorf("stack %s: %w", st.Name, err)
	}
	interpreters, err := findInterpreters(st)
	if err != nil {
		return nil, fmt.Errorf("stack %s: %w", st.Name, err)
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &starter{
		env:          &Env{Stage: stage.Name, Stack: st, API: api, logger: logger, keyValues: generateKeyValues(st)},
		opts:         opts,
		stage:        stage,
		interpreters: interpreters,
		authorizers:  authorizerFunctions(api),
	}, nil
}

// listen opens the loopback listeners of the gateway (at opts.Addr) and of the DynamoDB
// proxy, and sets the Env's URLs.
func (s *starter) listen(ctx context.Context) (err error) {
	e := s.env
	addr := s.opts.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	if e.gwLn, err = listenLoopback(ctx, addr); err != nil {
		return fmt.Errorf("gateway: %w", err)
	}
	if e.proxyLn, err = listenLoopback(ctx, "127.0.0.1:0"); err != nil {
		return fmt.Errorf("DynamoDB proxy: %w", err)
	}
	host := e.gwLn.Addr().String()
	e.CallbackURL = "http://" + host + "/" + s.stage.Name
	e.URL = "ws://" + host + "/" + s.stage.Name
	e.DynamoDBProxyURL = "http://" + e.proxyLn.Addr().String()
	if usesSQS(e.Stack) {
		if e.sqsLn, err = listenLoopback(ctx, "127.0.0.1:0"); err != nil {
			return fmt.Errorf("SQS proxy: %w", err)
		}
		e.SQSEndpoint = "http://" + e.sqsLn.Addr().String()
	}
	return nil
}

// startIssuer starts the local issuer with the issuer the authorizers expect, and keeps the
// audiences and token uses they accept.
func (s *starter) startIssuer(ctx context.Context) (err error) {
	e := s.env
	issuer := ""
	for _, fn := range s.authorizers {
		if v := fn.Environment[contract.EnvAuthIssuer]; v != "" {
			if issuer != "" && v != issuer {
				return fmt.Errorf("authorizers expect different issuers (%s, %s); one local issuer serves one", issuer, v)
			}
			issuer = v
			e.Audiences = splitList(fn.Environment[contract.EnvAuthAudiences])
			e.TokenUses = splitList(fn.Environment[contract.EnvAuthTokenUse])
		}
	}
	e.Issuer, err = localauth.Start(ctx, localauth.Options{Issuer: issuer})
	return err
}

// startFunctions gives every function its access key and registers it with a new Lambda
// emulator.
func (s *starter) startFunctions(context.Context) (err error) {
	e, st := s.env, s.env.Stack
	if s.policies, err = e.assignKeys(st); err != nil {
		return err
	}
	e.Lambda = lambdaemu.New(lambdaemu.Options{
		Region:    st.Env.Region,
		AccountID: st.Env.AccountID,
		LogSink:   s.opts.LogSink,
	})
	for _, fn := range st.SortedFunctions() {
		if err := e.addFunction(fn, s.stage, s.interpreters[fn.Architecture], s.authorizers); err != nil {
			return err
		}
	}
	return nil
}

// startGateway makes the API Gateway emulator of the stage.
func (s *starter) startGateway(context.Context) (err error) {
	e, st := s.env, s.env.Stack
	e.Gateway, err = gateway.New(gateway.Config{
		API:                   e.API,
		Stage:                 s.stage.Name,
		Invoker:               invoker{em: e.Lambda, stack: st},
		Region:                st.Env.Region,
		AccountID:             st.Env.AccountID,
		IdleTimeout:           s.opts.IdleTimeout,
		MaxConnectionDuration: s.opts.MaxConnectionDuration,
		AuthorizeManagement:   e.authorizeManagement(s.policies),
		AuthorizeIAM:          e.authorizeIAM,
		Logger:                e.logger,
		UsagePlans:            st.UsagePlans,
		APIKeyValues:          e.keyValues,
	})
	return err
}

// startDynamoDBProxy waits for DynamoDB Local, creates the stack's tables, and makes the
// IAM-checking proxy in front of it.
func (s *starter) startDynamoDBProxy(ctx context.Context) error {
	e := s.env
	if err := e.awaitDynamoDB(ctx); err != nil {
		return err
	}
	if err := createTables(ctx, e.DynamoDB, e.Stack); err != nil {
		return err
	}
	target, err := url.Parse(e.DynamoDBEndpoint)
	if err != nil {
		return fmt.Errorf("DynamoDB endpoint: %w", err)
	}
	s.proxy, err = iamcheck.NewDynamoDBProxy(iamcheck.ProxyConfig{
		Target: target,
		Env:    e.Stack.Env,
		Lookup: e.callerPolicy(s.policies),
		Observe: func(r *http.Request, d iamcheck.Decision) {
			if !d.Allowed {
				e.deny("dynamodb", d)
			}
		},
	})
	return err
}

// pickStage returns the stage named name, or the API's only (else first) stage.
func pickStage(api *assembly.WebSocketAPI, name string) (*assembly.Stage, error) {
	if name != "" {
		if s := api.Stage(name); s != nil {
			return s, nil
		}
		return nil, fmt.Errorf("API %s has no stage %q", api.LogicalID, name)
	}
	if len(api.Stages) == 0 {
		return nil, fmt.Errorf("API %s has no stage: nothing is deployed", api.LogicalID)
	}
	return api.Stages[0], nil
}

// findInterpreters finds, per architecture of the stack's functions, what runs their
// bootstraps here ("" natively).
func findInterpreters(st *assembly.Stack) (map[string]string, error) {
	out := make(map[string]string)
	for _, fn := range st.SortedFunctions() {
		if _, done := out[fn.Architecture]; done {
			continue
		}
		p, err := lambdaemu.FindInterpreter(fn.Architecture)
		if err != nil {
			return nil, fmt.Errorf("function %s: %w", fn.LogicalID, err)
		}
		out[fn.Architecture] = p
	}
	return out, nil
}

// authorizerFunctions returns the functions of the API's authorizers.
func authorizerFunctions(api *assembly.WebSocketAPI) map[string]*assembly.Function {
	out := make(map[string]*assembly.Function)
	for _, a := range api.Authorizers {
		if a.Function != nil {
			out[a.Function.LogicalID] = a.Function
		}
	}
	return out
}

// assignKeys gives every function an access key id and returns the policies by key id.
func (e *Env) assignKeys(st *assembly.Stack) (map[string]*iamcheck.Policy, error) {
	e.AccessKeys = make(map[string]string)
	policies := make(map[string]*iamcheck.Policy)
	for _, fn := range st.SortedFunctions() {
		pol, err := iamcheck.ForFunction(fn)
		if err != nil {
			return nil, fmt.Errorf("function %s: %w", fn.LogicalID, err)
		}
		key := accessKeyID(fn.LogicalID)
		if _, dup := policies[key]; dup {
			return nil, fmt.Errorf("function %s: access key id %s is taken", fn.LogicalID, key)
		}
		policies[key] = pol
		e.AccessKeys[fn.Name] = key
	}
	return policies, nil
}

// accessKeyID returns the local access key id of a function: AKIALOCAL and 11 characters of a
// hash of its logical id (20 upper-case letters and digits, as AWS's; stable across runs).
func accessKeyID(logicalID string) string {
	sum := sha256.Sum256([]byte(logicalID))
	return accessKeyPrefix + base32.StdEncoding.EncodeToString(sum[:])[:20-len(accessKeyPrefix)]
}

// addFunction registers fn with the Lambda emulator, with its environment rewritten for the
// local endpoints.
func (e *Env) addFunction(fn *assembly.Function, stage *assembly.Stage, interpreter string, authorizers map[string]*assembly.Function) error {
	if fn.Code.AssetDir == "" {
		return fmt.Errorf("function %s: its code is not an asset folder with a bootstrap (S3 key %q); only those run locally", fn.LogicalID, fn.Code.S3Key)
	}
	secret := make([]byte, 20)
	if _, err := rand.Read(secret); err != nil {
		return fmt.Errorf("function %s: %w", fn.LogicalID, err)
	}
	env := make(map[string]string, len(fn.Environment))
	for k, v := range fn.Environment {
		env[k] = rewriteURL(rewriteURL(v, stage.CallbackURL, e.CallbackURL), stage.URL, e.URL)
		if e.SQSEndpoint != "" {
			env[k] = rewriteURL(env[k], awsSQSEndpoint(e.Stack.Env), e.SQSEndpoint)
		}
	}
	extra := map[string]string{
		"AWS_ENDPOINT_URL_DYNAMODB": e.DynamoDBProxyURL,
		"AWS_ACCESS_KEY_ID":         e.AccessKeys[fn.Name],
		"AWS_SECRET_ACCESS_KEY":     hex.EncodeToString(secret),
	}
	if e.SQSEndpoint != "" {
		extra["AWS_ENDPOINT_URL_SQS"] = e.SQSEndpoint
	}
	if _, ok := authorizers[fn.LogicalID]; ok {
		extra[contract.EnvAuthJWKSURL] = e.Issuer.JWKSURL()
	}
	maxConc := 0
	if fn.ReservedConcurrency != nil && *fn.ReservedConcurrency > 0 {
		maxConc = *fn.ReservedConcurrency
	}
	err := e.Lambda.Add(lambdaemu.Function{
		Name:           fn.Name,
		Dir:            fn.Code.AssetDir,
		Handler:        fn.Handler,
		Environment:    env,
		ExtraEnv:       extra,
		Timeout:        fn.Timeout,
		MemorySize:     fn.MemoryMB,
		Architecture:   fn.Architecture,
		Interpreter:    interpreter,
		MaxConcurrency: maxConc,
	})
	if err != nil {
		return fmt.Errorf("function %s: %w", fn.LogicalID, err)
	}
	return nil
}

// rewriteURL replaces the prefix from of v with to when v is from or continues it with a
// path, query or fragment.
func rewriteURL(v, from, to string) string {
	if from == "" {
		return v
	}
	rest, ok := strings.CutPrefix(v, from)
	if !ok || (rest != "" && !strings.ContainsRune("/?#", rune(rest[0]))) {
		return v
	}
	return to + rest
}

// splitList splits a comma-separated list, trimming blanks and dropping empty entries.
func splitList(s string) []string {
	var out []string
	for part := range strings.SplitSeq(s, ",") {
		if p := strings.TrimSpace(part); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// authorizeManagement returns the gateway's @connections check: the SigV4 access key of the
// request names the calling function, whose execution role must allow
// execute-api:ManageConnections on the connection, as IAM requires. The refusals are AWS's: 403
// MissingAuthenticationTokenException (unsigned), UnrecognizedClientException (unknown key),
// AccessDeniedException (not allowed).
func (e *Env) authorizeManagement(policies map[string]*iamcheck.Policy) func(r *http.Request, method, connectionID string) error {
	lookup := e.callerPolicy(policies)
	return func(r *http.Request, method, connectionID string) error {
		cred, err := iamcheck.RequestCredential(r)
		if err != nil {
			return &gateway.ManagementError{Status: http.StatusForbidden, Type: "MissingAuthenticationTokenException", Message: "Missing Authentication Token"}
		}
		pol, ok := lookup(cred.AccessKeyID)
		if !ok {
			return &gateway.ManagementError{Status: http.StatusForbidden, Type: "UnrecognizedClientException", Message: "The security token included in the request is invalid."}
		}
		check, err := iamcheck.ConnectionsCheck(e.Stack.Env, e.API.ID, method, "/"+e.Stage+"/@connections/"+url.PathEscape(connectionID))
		if err != nil {
			return err
		}
		d := pol.Allowed(check.Action, check.Resource)
		if !d.Allowed {
			e.deny("execute-api", d)
			return errors.New(d.Reason) // AWS's wording: "User: <arn> is not authorized to perform: ..."
		}
		return nil
	}
}

// callerPolicy returns the lookup of a caller's policy by access key id: a function's (in
// functions, by its key), else a role session's that Credentials handed out.
func (e *Env) callerPolicy(functions map[string]*iamcheck.Policy) func(accessKeyID string) (*iamcheck.Policy, bool) {
	return func(accessKeyID string) (*iamcheck.Policy, bool) {
		if p, ok := functions[accessKeyID]; ok {
			return p, true
		}
		e.mu.Lock()
		defer e.mu.Unlock()
		if s, ok := e.sessions[accessKeyID]; ok {
			return s.policy, true
		}
		return nil, false
	}
}

// deny records and logs a denied call.
func (e *Env) deny(service string, d iamcheck.Decision) {
	e.mu.Lock()
	e.denials = append(e.denials, d)
	e.mu.Unlock()
	e.logger.Warn("IAM denied a call", "service", service, "decision", d.String())
}

// Denials returns the calls that IAM checks refused so far (DynamoDB and @connections), for
// tests that assert the stack's grants suffice.
func (e *Env) Denials() []iamcheck.Decision {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.denials)
}

// Logs returns the kept output lines of a function, named by its function name or logical id.
func (e *Env) Logs(function string) []string {
	if fn := e.function(function); fn != nil {
		return e.Lambda.Logs(fn.Name)
	}
	return nil
}

// function finds a function by name, logical id or ARN.
func (e *Env) function(ref string) *assembly.Function {
	return lookupFunction(e.Stack, ref)
}

// lookupFunction finds a function of st by name, logical id or ARN.
func lookupFunction(st *assembly.Stack, ref string) *assembly.Function {
	if fn, ok := st.Functions[ref]; ok {
		return fn
	}
	if fn := st.FunctionByName(ref); fn != nil {
		return fn
	}
	return st.FunctionByARN(ref)
}

// Token mints a token that the authorizer accepts for subject, with name as display name: an
// ID token (or an access token when the authorizer accepts only those) for the first audience
// it accepts, valid for localauth.DefaultTTL.
func (e *Env) Token(subject, name string) (string, error) {
	c := localauth.Claims{Subject: subject, Name: name, TokenUse: localauth.TokenUseID}
	if len(e.TokenUses) > 0 && !slices.Contains(e.TokenUses, localauth.TokenUseID) {
		c.TokenUse = e.TokenUses[0]
	}
	if len(e.Audiences) > 0 {
		if c.TokenUse == localauth.TokenUseAccess {
			c.ClientID = e.Audiences[0]
		} else {
			c.Audience = e.Audiences[0]
		}
	}
	tok, err := e.Issuer.Mint(c)
	if err != nil {
		return "", fmt.Errorf("token for %s: %w", subject, err)
	}
	return tok, nil
}

// invoker runs the gateway's invocations on the Lambda emulator.
type invoker struct {
	em    *lambdaemu.Emulator
	stack *assembly.Stack
}

// Invoke implements gateway.Invoker: function is a function name, logical id or ARN; a function
// failure becomes a *gateway.FunctionError.
func (i invoker) Invoke(ctx context.Context, function string, payload []byte) ([]byte, error) {
	name := function
	if fn := lookupFunction(i.stack, function); fn != nil {
		name = fn.Name
	}
	res, err := i.em.Invoke(ctx, name, payload)
	if err != nil {
		return nil, err
	}
	if res.Err != nil {
		return nil, &gateway.FunctionError{Type: res.Err.Type, Message: res.Err.Message}
	}
	return res.Payload, nil
}

// listenLoopback listens on addr, which must be a loopback address.
func listenLoopback(ctx context.Context, addr string) (net.Listener, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("listen address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("listen address %q is not a loopback address", addr)
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	return ln, nil
}

// serve serves h on ln until Close.
func (e *Env) serve(ln net.Listener, h http.Handler) *http.Server {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(e.logger.Handler(), slog.LevelDebug)}
	done := make(chan struct{})
	e.served = append(e.served, done)
	go func() {
		defer close(done)
		_ = srv.Serve(ln) // ends with ErrServerClosed
	}()
	return srv
}

// startDynamoDB starts DynamoDB Local in the background; awaitDynamoDB collects it, and Close
// cancels a start still under way and stops the server.
func (e *Env) startDynamoDB(ctx context.Context) {
	type result struct {
		srv *ddblocal.Server
		err error
	}
	ctx, cancel := context.WithCancel(ctx)
	ch := make(chan result, 1)
	go func() {
		srv, err := ddblocal.Start(ctx) // ctx bounds only the start
		ch <- result{srv, err}
	}()
	var once sync.Once
	var r result
	e.ddbCancel = cancel
	e.ddbWait = func() (*ddblocal.Server, error) {
		once.Do(func() { r = <-ch })
		return r.srv, r.err
	}
}

// awaitDynamoDB waits for DynamoDB Local and makes the assertion client.
func (e *Env) awaitDynamoDB(ctx context.Context) error {
	srv, err := e.ddbWait()
	if err != nil {
		return err
	}
	e.DynamoDBEndpoint = srv.Endpoint()
	e.DynamoDB, err = ddblocal.NewClient(srv.Endpoint())
	return err
}

// createTables creates every table of the stack, with its TTL, in parallel.
func createTables(ctx context.Context, client *dynamodb.Client, st *assembly.Stack) error {
	var wg sync.WaitGroup
	errs := make([]error, 0, len(st.Tables))
	var mu sync.Mutex
	for _, t := range st.Tables {
		wg.Go(func() {
			err := createTable(ctx, client, t)
			if err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// createTable creates one table and enables its TTL.
func createTable(ctx context.Context, client *dynamodb.Client, t *assembly.Table) error {
	if _, err := client.CreateTable(ctx, t.CreateTableInput()); err != nil {
		return fmt.Errorf("create table %s (%s): %w", t.Name, t.LogicalID, err)
	}
	if in := t.TimeToLiveInput(); in != nil {
		if _, err := client.UpdateTimeToLive(ctx, in); err != nil {
			return fmt.Errorf("enable TTL on table %s (%s): %w", t.Name, t.LogicalID, err)
		}
	}
	return nil
}

// Close stops everything Start started: the endpoint stops accepting, the gateway closes its
// connections (their $disconnect still reaches the functions and DynamoDB), then the DynamoDB
// proxy, the functions' processes, DynamoDB Local and the issuer stop. It is safe to call more
// than once.
func (e *Env) Close() error {
	e.closeOnce.Do(func() {
		var errs []error
		// Close the connections first, while @connections still answers: their $disconnect
		// runs now and may post to the closing rooms (410 for closing connections). Shutting
		// the listener first left those posts retrying against a closed port for ~30 s.
		if e.Gateway != nil {
			if err := e.Gateway.Close(); err != nil {
				errs = append(errs, fmt.Errorf("close gateway: %w", err))
			}
		}
		if e.pollStop != nil {
			e.pollStop()
			e.pollers.Wait()
		}
		shutdown(e.gwSrv)
		shutdown(e.proxySrv)
		shutdown(e.sqsSrv)
		for _, ln := range []net.Listener{e.gwLn, e.proxyLn, e.sqsLn} {
			if ln != nil {
				_ = ln.Close() // not served yet when Start failed early
			}
		}
		for _, done := range e.served {
			<-done
		}
		if e.Lambda != nil {
			if err := e.Lambda.Close(); err != nil {
				errs = append(errs, fmt.Errorf("close Lambda emulator: %w", err))
			}
		}
		if e.ddbWait != nil {
			e.ddbCancel()
			if srv, _ := e.ddbWait(); srv != nil {
				if err := srv.Close(); err != nil {
					errs = append(errs, fmt.Errorf("close DynamoDB Local: %w", err))
				}
			}
		}
		if e.sqsServer != nil {
			if err := e.sqsServer.Close(); err != nil {
				errs = append(errs, fmt.Errorf("close SQS server: %w", err))
			}
		}
		if e.Issuer != nil {
			if err := e.Issuer.Close(); err != nil {
				errs = append(errs, err)
			}
		}
		if err := errors.Join(errs...); err != nil {
			e.closeErr = fmt.Errorf("close local stack: %w", err)
		}
	})
	return e.closeErr
}

// shutdown stops srv (if any) gracefully, forcibly after 2 s.
func shutdown(srv *http.Server) {
	if srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		_ = srv.Close()
	}
}
