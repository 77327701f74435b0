package chatapi

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscognito"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// WebSocketChatApi is a complete WebSocket chat backend. Make one with NewWebSocketChatApi.
type WebSocketChatApi interface {
	constructs.Construct
	// Api is the WebSocket API (L2); its L1 is Api().Node().DefaultChild().
	Api() awsapigatewayv2.WebSocketApi
	// Stage is the auto-deployed stage.
	Stage() awsapigatewayv2.WebSocketStage
	// Table holds connections, room memberships and message history.
	Table() awsdynamodb.Table
	// AuthorizerFunction verifies tokens on $connect; nil with NoAuthentication.
	AuthorizerFunction() awslambda.Function
	// ConnectFunction serves $connect.
	ConnectFunction() awslambda.Function
	// DisconnectFunction serves $disconnect.
	DisconnectFunction() awslambda.Function
	// ChatFunction serves every chat action.
	ChatFunction() awslambda.Function
	// DefaultFunction serves $default: unknown actions and non-JSON messages.
	DefaultFunction() awslambda.Function
	// UserPool is the Cognito user pool whose tokens are accepted; nil unless the
	// authentication is CognitoAuthentication.
	UserPool() awscognito.IUserPool
	// UserPoolClient is the first accepted app client; nil unless CognitoAuthentication.
	UserPoolClient() awscognito.IUserPoolClient
	// WebSocketUrl is the URL clients connect to: wss://{apiId}.execute-api.{region}.amazonaws.com/{stage}.
	WebSocketUrl() *string
	// CallbackUrl is the @connections endpoint that backends post to, built from the API id,
	// region and stage: https://{apiId}.execute-api.{region}.amazonaws.com/{stage}.
	CallbackUrl() *string
	// Route returns the route of a route key, or nil.
	Route(routeKey *string) awsapigatewayv2.WebSocketRoute
	// RouteKeys lists every route key of the API, sorted.
	RouteKeys() *[]*string
	// AddRoute adds a route served by an existing function or by a Go package folder that
	// the construct bundles like its own handlers.
	AddRoute(routeKey *string, options *AddRouteOptions) awsapigatewayv2.WebSocketRoute
	// GrantManageConnections lets grantee post to, read and delete this stage's connections
	// through the @connections API.
	GrantManageConnections(grantee awsiam.IGrantable) awsiam.Grant
	// AccessLogGroup is the stage's access log group; nil with AccessLogging off.
	AccessLogGroup() awslogs.ILogGroup
	// Alarm returns an alarm by id (see AlarmIds), or nil.
	Alarm(id *string) awscloudwatch.Alarm
	// AlarmIds lists the alarms' ids, sorted; empty with Alarms off.
	AlarmIds() *[]*string
	// Dashboard is the CloudWatch dashboard; nil with Dashboard off.
	Dashboard() awscloudwatch.Dashboard
}

type webSocketChatApi struct {
	constructs.Construct
	cfg          settings
	api          awsapigatewayv2.WebSocketApi
	stage        awsapigatewayv2.WebSocketStage
	table        awsdynamodb.Table
	userPool     awscognito.IUserPool
	client       awscognito.IUserPoolClient
	fns          map[string]awslambda.Function // by handler name
	routes       map[string]awsapigatewayv2.WebSocketRoute
	integrations map[string]*lambdaIntegration // by function node address
	bundler      *bundler
	timeouts     map[string]float64 // seconds, by function construct id
	accessLogs   awslogs.LogGroup
	alarms       map[string]awscloudwatch.Alarm
	dashboard    awscloudwatch.Dashboard
}

// The handlers this module bundles, by folder name under lambdas/.
const (
	handlerAuthorizer = "authorizer"
	handlerConnect    = "connect"
	handlerDisconnect = "disconnect"
	handlerChat       = "chat"
	handlerDefault    = "default"
)

// NewWebSocketChatApi creates the chat backend. props may be nil: every prop has a default.
func NewWebSocketChatApi(scope constructs.Construct, id *string, props *WebSocketChatApiProps) WebSocketChatApi {
	cfg := resolveProps(props)
	c := &webSocketChatApi{
		Construct:    constructs.NewConstruct(scope, id),
		cfg:          cfg,
		fns:          map[string]awslambda.Function{},
		routes:       map[string]awsapigatewayv2.WebSocketRoute{},
		integrations: map[string]*lambdaIntegration{},
		timeouts:     map[string]float64{},
	}
	c.bundler = newBundler(cfg.architecture)

	c.table = newTable(c, cfg)
	names := []string{handlerConnect, handlerDisconnect, handlerChat, handlerDefault}
	if _, none := cfg.auth.(noAuth); !none {
		names = append([]string{handlerAuthorizer}, names...)
	}
	code := c.bundler.ownHandlers(names)

	connectEnv := map[string]string{
		"TABLE_NAME":             *c.table.TableName(),
		"CONNECTION_TTL_SECONDS": strconv.FormatFloat(cfg.connectionTTL, 'f', 0, 64),
		"SUBPROTOCOL":            DefaultSubprotocol,
	}
	if len(cfg.allowedOrigins) > 0 {
		connectEnv["ALLOWED_ORIGINS"] = strings.Join(cfg.allowedOrigins, ",")
	}
	c.fns[handlerConnect] = c.newFunction("ConnectFunction", "Stores a connection on $connect", code[handlerConnect], cfg.handlerMemory, 10, connectEnv)
	// CALLBACK_URL is added once the stage exists: $disconnect tells the rooms the user left.
	c.fns[handlerDisconnect] = c.newFunction("DisconnectFunction", "Removes a connection and its memberships on $disconnect and tells its rooms", code[handlerDisconnect], cfg.handlerMemory, 28, map[string]string{
		"TABLE_NAME":         *c.table.TableName(),
		"FANOUT_CONCURRENCY": strconv.FormatFloat(cfg.fanoutConcurrency, 'f', 0, 64),
	})
	c.fns[handlerDefault] = c.newFunction("DefaultFunction", "Answers unknown actions and non-JSON messages on $default", code[handlerDefault], cfg.handlerMemory, 10, map[string]string{
		"ROUTE_SELECTION_EXPRESSION": cfg.routeSelection,
	})

	var authorizer awsapigatewayv2.IWebSocketRouteAuthorizer
	if fn := c.newAuthorizer(code); fn != nil {
		c.fns[handlerAuthorizer] = fn
		authorizer = newRequestAuthorizer(fn, cfg.tokenSources)
	} else {
		awscdk.Annotations_Of(c.Construct).AddWarningV2(jsii.String("@chatstack/websocketchatapi:authenticationDisabled"),
			jsii.String("Authentication is disabled (NoAuthentication): anyone who knows the URL can connect and chat as an anonymous user."))
	}

	apiName := cfg.apiName
	if apiName == nil {
		apiName = awscdk.Names_UniqueResourceName(c.Construct, &awscdk.UniqueResourceNameOptions{MaxLength: jsii.Number(128)})
	}
	c.api = awsapigatewayv2.NewWebSocketApi(c.Construct, jsii.String("Api"), &awsapigatewayv2.WebSocketApiProps{
		ApiName:                  apiName,
		Description:              jsii.String("Real-time chat (WebSocketChatApi)"),
		RouteSelectionExpression: jsii.String(cfg.routeSelection),
		ConnectRouteOptions: &awsapigatewayv2.WebSocketRouteOptions{
			Integration: c.integrationFor(c.fns[handlerConnect], "ConnectIntegration"),
			Authorizer:  authorizer,
		},
		DisconnectRouteOptions: &awsapigatewayv2.WebSocketRouteOptions{
			Integration: c.integrationFor(c.fns[handlerDisconnect], "DisconnectIntegration"),
		},
		DefaultRouteOptions: &awsapigatewayv2.WebSocketRouteOptions{
			Integration:    c.integrationFor(c.fns[handlerDefault], "DefaultIntegration"),
			ReturnResponse: jsii.Bool(true),
		},
	})
	if authorizer != nil && identitySources(cfg.tokenSources) == nil {
		// With no identity source the L2 still renders an empty list; omit the property,
		// which CloudFormation documents as optional for REQUEST authorizers.
		cfn := c.api.Node().FindChild(jsii.String("Authorizer")).Node().DefaultChild().(awscdk.CfnResource)
		cfn.AddPropertyDeletionOverride(jsii.String("IdentitySource"))
	}
	// The route integrations made before the API existed get their permission now.
	for _, name := range []string{handlerConnect, handlerDisconnect, handlerDefault} {
		c.allowInvoke(c.fns[name])
	}
	for _, key := range []string{"$connect", "$disconnect", "$default"} {
		c.routes[key] = c.api.Node().FindChild(jsii.String(key + "-Route")).(awsapigatewayv2.WebSocketRoute)
		if key != "$connect" {
			suppressRouteAuthorization(c.routes[key].Node().DefaultChild().(awscdk.CfnResource))
		}
	}
	c.stage = awsapigatewayv2.NewWebSocketStage(c.Construct, jsii.String("Stage"), &awsapigatewayv2.WebSocketStageProps{
		WebSocketApi:           c.api,
		StageName:              jsii.String(cfg.stageName),
		AutoDeploy:             jsii.Bool(true),
		DetailedMetricsEnabled: jsii.Bool(true),
		Throttle: &awsapigatewayv2.ThrottleSettings{
			RateLimit:  jsii.Number(cfg.rateLimit),
			BurstLimit: jsii.Number(cfg.burstLimit),
		},
	})

	chat := c.newFunction("ChatFunction", "Serves the chat actions: rooms, messages, history, fan-out", code[handlerChat], cfg.chatMemory, 28, map[string]string{
		"TABLE_NAME":                *c.table.TableName(),
		"CALLBACK_URL":              *c.stage.CallbackUrl(),
		"HISTORY_RETENTION_SECONDS": strconv.FormatFloat(cfg.historyRetention, 'f', 0, 64),
		"FANOUT_CONCURRENCY":        strconv.FormatFloat(cfg.fanoutConcurrency, 'f', 0, 64),
		"RATE_LIMIT_PER_SECOND":     strconv.FormatFloat(cfg.ratePerSecond, 'f', -1, 64),
		"RATE_LIMIT_BURST":          strconv.FormatFloat(cfg.rateBurst, 'f', 0, 64),
		"METRICS_NAMESPACE":         MetricsNamespace,
		"METRICS_SERVICE":           c.metricsService(),
	})
	c.fns[handlerChat] = chat
	chatIntegration := c.integrationFor(chat, "ChatIntegration")
	for _, action := range cfg.chatActions {
		c.addRoute(action, chatIntegration, true, schemaOf(action))
	}

	c.fns[handlerDisconnect].AddEnvironment(jsii.String("CALLBACK_URL"), c.stage.CallbackUrl(), nil)
	c.grantTable()
	c.grantPost(chat)
	c.grantPost(c.fns[handlerDisconnect])
	c.updateDefaultEnvironment()
	c.configureStageLogging()
	if cfg.alarms {
		c.addAlarms()
	}
	if cfg.dashboard {
		c.addDashboard()
	}
	return c
}

// integrationFor returns the one integration of fn, creating it (and fn's one invoke
// permission) on first use.
func (c *webSocketChatApi) integrationFor(fn awslambda.IFunction, id string) *lambdaIntegration {
	addr := *fn.Node().Addr()
	if i, ok := c.integrations[addr]; ok {
		return i
	}
	i := newLambdaIntegration(id, fn)
	c.integrations[addr] = i
	if c.api != nil {
		c.allowInvoke(fn)
	}
	return i
}

// allowInvoke adds the one permission that lets this API's stage invoke fn on any route.
func (c *webSocketChatApi) allowInvoke(fn awslambda.IFunction) {
	fn.AddPermission(jsii.String("InvokeFrom"+*awscdk.Names_UniqueId(c.Construct)), &awslambda.Permission{
		Principal: awsiam.NewServicePrincipal(jsii.String("apigateway.amazonaws.com"), nil),
		Action:    jsii.String("lambda:InvokeFunction"),
		SourceArn: c.api.ArnForExecuteApiV2(nil, jsii.String(c.cfg.stageName)),
	})
}

// addRoute adds a route to the API through integration i, with a $default route response
// when reply is set and a request model when schema is not nil.
func (c *webSocketChatApi) addRoute(key string, i *lambdaIntegration, reply bool, schema map[string]any) awsapigatewayv2.WebSocketRoute {
	route := c.api.AddRoute(jsii.String(key), &awsapigatewayv2.WebSocketRouteOptions{
		Integration:    i,
		ReturnResponse: jsii.Bool(reply),
	})
	c.routes[key] = route
	suppressRouteAuthorization(route.Node().DefaultChild().(awscdk.CfnResource))
	if schema != nil {
		model := awsapigatewayv2.NewCfnModel(c.api, jsii.String("Model-"+key), &awsapigatewayv2.CfnModelProps{
			ApiId:       c.api.ApiId(),
			Name:        jsii.String(modelName(key)),
			ContentType: jsii.String("application/json"),
			Schema:      schema,
			Description: jsii.String("Body of the " + key + " message (JSON Schema draft-04)"),
		})
		cfn := route.Node().DefaultChild().(awsapigatewayv2.CfnRoute)
		// The model selection expression evaluates to the route key; "$default" is the
		// fallback every request of this route matches.
		cfn.SetModelSelectionExpression(jsii.String(c.cfg.routeSelection))
		cfn.SetRequestModels(map[string]any{"$default": modelName(key)})
		cfn.AddResourceDependency(model, jsii.String("RequestModels names the model"))
	}
	return route
}

// modelName turns a route key into a model name (API Gateway allows only letters and digits),
// with a short hash so that keys differing only in punctuation do not collide.
func modelName(key string) string {
	var b strings.Builder
	for _, r := range key {
		if (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		}
	}
	var h uint32 = 2166136261 // FNV-1a
	for i := 0; i < len(key); i++ {
		h ^= uint32(key[i])
		h *= 16777619
	}
	return fmt.Sprintf("%s%08x", b.String(), h)
}

// grantTable gives each function the DynamoDB actions it calls, on this table's ARN, and the
// room index's ARN to the functions that list a room (never index/*).
func (c *webSocketChatApi) grantTable() {
	table := *c.table.TableArn()
	index := table + "/index/" + roomIndexName
	allow := func(name, resource string, actions ...string) {
		c.fns[name].AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:   jsii.Strings(actions...),
			Resources: jsii.Strings(resource),
		}))
	}
	allow(handlerConnect, table, "dynamodb:PutItem")
	allow(handlerDisconnect, table, "dynamodb:Query", "dynamodb:BatchWriteItem")
	allow(handlerChat, table, "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:Query", "dynamodb:BatchWriteItem")
	allow(handlerChat, index, "dynamodb:Query")
	allow(handlerDisconnect, index, "dynamodb:Query")
}

// connectionsArn is the ARN of this stage's @connections for one HTTP method ("*" for all).
func (c *webSocketChatApi) connectionsArn(method string) *string {
	return awscdk.Stack_Of(c.Construct).FormatArn(&awscdk.ArnComponents{
		Service:      jsii.String("execute-api"),
		Resource:     c.api.ApiId(),
		ResourceName: jsii.String(c.cfg.stageName + "/" + method + "/@connections/*"),
		ArnFormat:    awscdk.ArnFormat_SLASH_RESOURCE_NAME,
	})
}

// grantPost lets grantee post to this stage's connections, and nothing else.
func (c *webSocketChatApi) grantPost(fn awslambda.Function) awsiam.Grant {
	g := awsiam.Grant_AddToPrincipal(&awsiam.GrantOnPrincipalOptions{
		Grantee:      fn,
		Actions:      jsii.Strings("execute-api:ManageConnections"),
		ResourceArns: &[]*string{c.connectionsArn("POST")},
	})
	if role, ok := fn.Role().(awsiam.Role); ok {
		if policy := role.Node().TryFindChild(jsii.String("DefaultPolicy")); policy != nil {
			suppressConnectionsWildcard(policy.Node().DefaultChild().(awscdk.CfnResource))
		}
	}
	return g
}

func (c *webSocketChatApi) GrantManageConnections(grantee awsiam.IGrantable) awsiam.Grant {
	return awsiam.Grant_AddToPrincipal(&awsiam.GrantOnPrincipalOptions{
		Grantee:      grantee,
		Actions:      jsii.Strings("execute-api:ManageConnections"),
		ResourceArns: &[]*string{c.connectionsArn("*")},
	})
}

// updateDefaultEnvironment tells the $default function which actions exist, so its error
// frame can list them. AddRoute calls it again.
func (c *webSocketChatApi) updateDefaultEnvironment() {
	c.fns[handlerDefault].AddEnvironment(jsii.String("CHAT_ACTIONS"), jsii.String(strings.Join(c.clientRouteKeys(), ",")), nil)
}

// clientRouteKeys are the route keys a client may send: all but $connect, $disconnect and
// $default, sorted.
func (c *webSocketChatApi) clientRouteKeys() []string {
	var keys []string
	for k := range c.routes {
		if !strings.HasPrefix(k, "$") {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}

func (c *webSocketChatApi) Api() awsapigatewayv2.WebSocketApi      { return c.api }
func (c *webSocketChatApi) Stage() awsapigatewayv2.WebSocketStage  { return c.stage }
func (c *webSocketChatApi) Table() awsdynamodb.Table               { return c.table }
func (c *webSocketChatApi) AuthorizerFunction() awslambda.Function { return c.fns[handlerAuthorizer] }
func (c *webSocketChatApi) ConnectFunction() awslambda.Function    { return c.fns[handlerConnect] }
func (c *webSocketChatApi) DisconnectFunction() awslambda.Function { return c.fns[handlerDisconnect] }
func (c *webSocketChatApi) ChatFunction() awslambda.Function       { return c.fns[handlerChat] }
func (c *webSocketChatApi) DefaultFunction() awslambda.Function    { return c.fns[handlerDefault] }
func (c *webSocketChatApi) UserPool() awscognito.IUserPool         { return c.userPool }
func (c *webSocketChatApi) UserPoolClient() awscognito.IUserPoolClient {
	return c.client
}
func (c *webSocketChatApi) WebSocketUrl() *string { return c.stage.Url() }

func (c *webSocketChatApi) AccessLogGroup() awslogs.ILogGroup {
	if c.accessLogs == nil {
		return nil
	}
	return c.accessLogs
}

func (c *webSocketChatApi) Alarm(id *string) awscloudwatch.Alarm {
	if id == nil {
		return nil
	}
	return c.alarms[*id]
}

func (c *webSocketChatApi) AlarmIds() *[]*string {
	ids := make([]string, 0, len(c.alarms))
	for id := range c.alarms {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return jsii.Strings(ids...)
}

func (c *webSocketChatApi) Dashboard() awscloudwatch.Dashboard { return c.dashboard }
func (c *webSocketChatApi) CallbackUrl() *string               { return c.stage.CallbackUrl() }

func (c *webSocketChatApi) Route(routeKey *string) awsapigatewayv2.WebSocketRoute {
	if routeKey == nil {
		return nil
	}
	return c.routes[*routeKey]
}

func (c *webSocketChatApi) RouteKeys() *[]*string {
	keys := make([]string, 0, len(c.routes))
	for k := range c.routes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return jsii.Strings(keys...)
}
