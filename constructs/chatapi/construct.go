package chatapi

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscognito"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
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
	// AuthorizerFunction verifies tokens on $connect; nil with IamAuthentication and
	// NoAuthentication.
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
	// WebSocketUrl is the URL clients connect to: wss://{apiId}.execute-api.{region}.amazonaws.com/{stage},
	// or wss://{domain}[/{mappingKey}] with CustomDomain.
	WebSocketUrl() *string
	// CallbackUrl is the @connections endpoint that backends post to, built from the API id,
	// region and stage: https://{apiId}.execute-api.{region}.amazonaws.com/{stage}, also with
	// CustomDomain (see CustomDomainProps for why).
	CallbackUrl() *string
	// Route returns the route of a route key, or nil.
	Route(routeKey *string) awsapigatewayv2.WebSocketRoute
	// RouteKeys lists every route key of the API, sorted.
	RouteKeys() *[]*string
	// AddRoute adds a route served by an existing function or by a Go package folder that
	// the construct bundles like its own handlers. The keys of the construct's own routes
	// ($connect, $disconnect, $default, the chat actions and the heartbeat route "ping") are
	// refused.
	AddRoute(routeKey *string, options *AddRouteOptions) awsapigatewayv2.WebSocketRoute
	// GrantManageConnections lets grantee post to, read and delete this stage's connections
	// through the @connections API (the stage's own GrantManagementApiAccess).
	GrantManageConnections(grantee awsiam.IGrantable) awsiam.Grant
	// GrantConnect lets grantee open connections: execute-api:Invoke on this stage's $connect
	// route only (arn:<partition>:execute-api:<region>:<account>:<apiId>/<stage>/$connect),
	// which API Gateway checks when the authentication is IamAuthentication. It can be called
	// with any authentication, but only IamAuthentication makes API Gateway check IAM: with a
	// token authentication the grant is inert until the API switches to IamAuthentication.
	GrantConnect(grantee awsiam.IGrantable) awsiam.Grant
	// AccessLogGroup is the stage's access log group; nil with AccessLogging off.
	AccessLogGroup() awslogs.ILogGroup
	// Alarm returns an alarm by id (see AlarmIds), or nil.
	Alarm(id *string) awscloudwatch.Alarm
	// AlarmIds lists the alarms' ids, sorted; empty with Alarms off.
	AlarmIds() *[]*string
	// Dashboard is the CloudWatch dashboard; nil with Dashboard off.
	Dashboard() awscloudwatch.Dashboard
	// UsagePlan returns the usage plan of ApiKeys.Plans by name, or nil.
	UsagePlan(name *string) awsapigatewayv2.UsagePlan
	// UsagePlanNames lists the usage plans' names, sorted; empty without ApiKeys.
	UsagePlanNames() *[]*string
	// AddApiKey adds an enabled API key (construct id "ApiKey-" + id) to the usage plan
	// named plan. Without options.Value CloudFormation generates the value (read it with
	// aws apigateway get-api-key --include-value). It panics without ApiKeys, with an
	// unknown plan, or with a value outside 20 to 128 characters.
	AddApiKey(id *string, plan *string, options *awsapigatewayv2.ApiKeyOptions) awsapigatewayv2.ApiKey
	// CustomDomainName is the API Gateway domain name the stage is mapped to; nil without
	// CustomDomain.
	CustomDomainName() awsapigatewayv2.IDomainName
	// LiveAlias returns the "live" alias of a function by its Concurrency name ("chat",
	// ...), the one API Gateway (or, for "publish", the publish queue) invokes; nil when the
	// function has no provisioned concurrency.
	LiveAlias(function *string) awslambda.Alias
	// PublishQueue is the queue of publish requests, which any AWS service or backend may send
	// to (grant it with PublishQueue().GrantSendMessages), and of large rooms' fan-out shards.
	// SQS-managed encryption, TLS only; its messages move to PublishDeadLetterQueue after
	// PublishMaxReceiveCount receives.
	PublishQueue() awssqs.Queue
	// PublishDeadLetterQueue holds the publish queue's messages that failed
	// PublishMaxReceiveCount times or were refused (the publish function logs why), for 14
	// days; the PublishDeadLetters alarm fires when it holds any.
	PublishDeadLetterQueue() awssqs.Queue
	// PublishFunction consumes the publish queue: publish requests and large rooms' fan-out
	// shards, in batches with partial batch failures reported.
	PublishFunction() awslambda.Function
	// GrantPublish lets grantee run package publish against this chat: exactly the DynamoDB
	// actions it calls on the table and its byRoom and byUser indexes (no Scan),
	// execute-api:ManageConnections on POST to this stage's @connections, and sqs:SendMessage
	// on the publish queue.
	GrantPublish(grantee awsiam.IGrantable) awsiam.Grant
	// ConfigurePublisher is GrantPublish(fn) plus the environment publish.FromEnv reads in
	// fn: WEBSOCKETCHAT_TABLE_NAME, WEBSOCKETCHAT_CALLBACK_URL and
	// WEBSOCKETCHAT_PUBLISH_QUEUE_URL. It panics with a nil fn.
	ConfigurePublisher(fn awslambda.Function) awsiam.Grant
}

type webSocketChatApi struct {
	constructs.Construct
	cfg          settings
	v            validator
	api          awsapigatewayv2.WebSocketApi
	stage        awsapigatewayv2.WebSocketStage
	table        awsdynamodb.Table
	userPool     awscognito.IUserPool
	client       awscognito.IUserPoolClient
	authEnv      map[string]string             // the authorizer's environment; nil without one
	fns          map[string]awslambda.Function // by handler name
	routes       map[string]awsapigatewayv2.WebSocketRoute
	integrations map[string]*lambdaIntegration // by function node address
	bundler      *bundler
	accessLogs   awslogs.LogGroup
	alarms       map[string]awscloudwatch.Alarm
	dashboard    awscloudwatch.Dashboard
	usagePlans   map[string]awsapigatewayv2.UsagePlan // by name; nil without ApiKeys
	aliases      map[string]awslambda.Alias           // live aliases by handler name
	publishQueue awssqs.Queue
	deadLetters  awssqs.Queue // the publish queue's
}

// NewWebSocketChatApi creates the chat backend. props may be nil: every prop has a default.
// Invalid props panic with a message that starts with "chatapi: <construct path>: <prop>:".
func NewWebSocketChatApi(scope constructs.Construct, id *string, props *WebSocketChatApiProps) WebSocketChatApi {
	base := constructs.NewConstruct(scope, id)
	v := newValidator(base)
	cfg := resolveProps(v, props)
	c := &webSocketChatApi{
		Construct:    base,
		cfg:          cfg,
		v:            v,
		fns:          map[string]awslambda.Function{},
		routes:       map[string]awsapigatewayv2.WebSocketRoute{},
		integrations: map[string]*lambdaIntegration{},
		alarms:       map[string]awscloudwatch.Alarm{},
		aliases:      map[string]awslambda.Alias{},
		bundler:      newBundler(cfg.architecture, v),
	}
	c.table = newTable(c.Construct, cfg)
	c.authEnv = c.authorizerEnv()
	c.apiKeyAuthorizerEnv()
	c.api = c.newApi()
	c.stage = c.newStage()
	c.addPublishQueues()
	c.addHandlers()
	c.addConcurrency()
	c.addPublishEventSource()
	c.addBuiltInRoutes()
	c.addHeartbeatRoute()
	c.updateDefaultEnvironment()
	c.configureStageLogging()
	c.Node().AddValidation(&routeSettingsValidation{c})
	c.addApiKeys()
	if cfg.domain != nil {
		c.addCustomDomain()
	}
	if cfg.alarms {
		c.addAlarms()
	}
	if cfg.dashboard {
		c.addDashboard()
	}
	return c
}

// newApi makes the WebSocket API; its routes come once the functions exist.
func (c *webSocketChatApi) newApi() awsapigatewayv2.WebSocketApi {
	name := c.cfg.apiName
	if name == nil {
		name = awscdk.Names_UniqueResourceName(c.Construct, &awscdk.UniqueResourceNameOptions{MaxLength: jsii.Number(128)})
	}
	return awsapigatewayv2.NewWebSocketApi(c.Construct, jsii.String("Api"), &awsapigatewayv2.WebSocketApiProps{
		ApiName:                   name,
		Description:               jsii.String("Real-time chat (WebSocketChatApi)"),
		RouteSelectionExpression:  jsii.String(c.cfg.routeSelection),
		ApiKeySelectionExpression: c.apiKeyExpression(),
	})
}

// newStage makes the auto-deployed stage with detailed metrics and default throttling.
func (c *webSocketChatApi) newStage() awsapigatewayv2.WebSocketStage {
	return awsapigatewayv2.NewWebSocketStage(c.Construct, jsii.String("Stage"), &awsapigatewayv2.WebSocketStageProps{
		WebSocketApi:           c.api,
		StageName:              jsii.String(c.cfg.stageName),
		AutoDeploy:             jsii.Bool(true),
		DetailedMetricsEnabled: jsii.Bool(true),
		Throttle: &awsapigatewayv2.ThrottleSettings{
			RateLimit:  jsii.Number(c.cfg.rateLimit),
			BurstLimit: jsii.Number(c.cfg.burstLimit),
		},
	})
}

// addBuiltInRoutes adds $connect (with the authorizer), $disconnect, $default (with a route
// response) and one route per chat action, all four served by the chat function's one
// integration.
func (c *webSocketChatApi) addBuiltInRoutes() {
	authorizer := c.connectAuthorizer()
	c.routes["$connect"] = c.api.AddRoute(jsii.String("$connect"), &awsapigatewayv2.WebSocketRouteOptions{
		Integration: c.integrationFor(c.invoked(handlerConnect), "ConnectIntegration"),
		Authorizer:  authorizer,
	})
	c.stageNeedsRoute("$connect", c.routes["$connect"])
	c.omitEmptyIdentitySource()
	c.grantIamGrantees()
	c.addRoute("$disconnect", c.integrationFor(c.invoked(handlerDisconnect), "DisconnectIntegration"), false, nil)
	c.addRoute("$default", c.integrationFor(c.invoked(handlerDefault), "DefaultIntegration"), true, nil)
	chat := c.integrationFor(c.invoked(handlerChat), "ChatIntegration")
	for _, action := range c.cfg.chatActions {
		c.addRoute(action, chat, true, schemaOf(action))
	}
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
func (c *webSocketChatApi) WebSocketUrl() *string { return c.webSocketURL() }

func (c *webSocketChatApi) CustomDomainName() awsapigatewayv2.IDomainName {
	if c.cfg.domain == nil {
		return nil
	}
	return c.cfg.domain.domain
}

func (c *webSocketChatApi) LiveAlias(function *string) awslambda.Alias {
	if function == nil {
		return nil
	}
	return c.aliases[*function]
}

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

func (c *webSocketChatApi) AlarmIds() *[]*string { return jsii.Strings(sortedKeys(c.alarms)...) }

func (c *webSocketChatApi) Dashboard() awscloudwatch.Dashboard { return c.dashboard }
func (c *webSocketChatApi) CallbackUrl() *string               { return c.stage.CallbackUrl() }

func (c *webSocketChatApi) Route(routeKey *string) awsapigatewayv2.WebSocketRoute {
	if routeKey == nil {
		return nil
	}
	return c.routes[*routeKey]
}

func (c *webSocketChatApi) RouteKeys() *[]*string { return jsii.Strings(sortedKeys(c.routes)...) }
