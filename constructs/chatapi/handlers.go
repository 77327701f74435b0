package chatapi

import (
	"sort"
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"

	"github.com/chatstack/websocketchatapi/internal/contract"
)

// Timeouts of the functions, in seconds: those API Gateway invokes are under its 29-second
// integration timeout.
const (
	// shortTimeout is for the functions that read or write one item per request.
	shortTimeout = 10
	// fanoutTimeout is for the functions that broadcast to a room, and AddRoute's.
	fanoutTimeout = 28
	// publishTimeout is the publish function's, which the publish queue invokes: one batch
	// of publish requests and fan-out shards, each shard bounded in members
	// (contract.ShardJobMembers) and time. The queue's visibility timeout is six times this.
	publishTimeout = 30
)

// The handlers this module bundles, by folder name under lambdas/.
const (
	handlerAuthorizer = "authorizer"
	handlerChat       = "chat"
	handlerConnect    = "connect"
	handlerDefault    = "default"
	handlerDisconnect = "disconnect"
	handlerPublish    = "publish"
)

// handlerSpec is one function the construct bundles from lambdas/<name>: functions, grants,
// alarms and dashboard rows are all made from these.
type handlerSpec struct {
	name        string // folder under lambdas/; the label of its alarms and dashboard lines
	id          string // construct id of the function (never renamed: it is a logical id)
	description string
	chatMemory  bool    // memory from ChatMemorySize instead of HandlerMemorySize
	timeout     float64 // seconds
	// env is the function's environment; its keys are contract.Env* names.
	env func(c *webSocketChatApi) map[string]string
	// tableActions are the DynamoDB actions the handler calls on the table, indexActions
	// those it calls on each of indexes.
	tableActions, indexActions, indexes []string
	// post lets the function post to the stage's connections.
	post bool
	// send lets the function send to the publish queue.
	send bool
	// slowRunbook tells the on-call engineer what to do when the function runs near its
	// timeout.
	slowRunbook string
}

// handlerSpecs lists the bundled handlers, sorted by name.
var handlerSpecs = []handlerSpec{
	{
		slowRunbook: "The authorizer fetches the issuer's JWKS on a cold start and when a key is unknown: check that the issuer answers quickly (AUTH_JWKS_URL in its environment) and the function's logs for slow key fetches.",
		name:        handlerAuthorizer, id: "AuthorizerFunction", description: "Verifies the client's JWT on $connect",
		timeout: shortTimeout,
		env:     func(c *webSocketChatApi) map[string]string { return c.authEnv },
	},
	{
		slowRunbook: "Large rooms or a slow @connections endpoint: raise ChatMemorySize (CPU comes with memory) or FanoutConcurrency, or look for DynamoDB throttling (TableThrottles).",
		name:        handlerChat, id: "ChatFunction", description: "Serves the chat actions: rooms, messages, history, fan-out",
		chatMemory: true, timeout: fanoutTimeout, env: (*webSocketChatApi).chatEnv,
		tableActions: []string{"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:Query", "dynamodb:BatchWriteItem"},
		// byUser: a direct message's recipient's connections.
		indexActions: []string{"dynamodb:Query"}, indexes: []string{contract.IndexByRoom, contract.IndexByUser},
		post: true,
		// A large room's broadcast is queued in shards.
		send: true,
	},
	{
		slowRunbook: "It writes one item: look for DynamoDB throttling (TableThrottles) or latency on the dashboard; HandlerMemorySize raises its CPU.",
		name:        handlerConnect, id: "ConnectFunction", description: "Stores a connection on $connect",
		timeout: shortTimeout, env: (*webSocketChatApi).connectEnv,
		tableActions: []string{"dynamodb:PutItem"},
	},
	{
		slowRunbook: "It parses one message and answers: a slow run means too little CPU; raise HandlerMemorySize.",
		name:        handlerDefault, id: "DefaultFunction", description: "Answers unknown actions and non-JSON messages on $default",
		timeout: shortTimeout,
		// CHAT_ACTIONS follows the routes: see updateDefaultEnvironment.
		env: func(c *webSocketChatApi) map[string]string {
			return map[string]string{contract.EnvRouteSelection: c.cfg.routeSelection}
		},
	},
	{
		slowRunbook: "It deletes the connection's items and tells its rooms the user left: large rooms or a slow @connections endpoint; raise FanoutConcurrency or HandlerMemorySize, or look for DynamoDB throttling.",
		name:        handlerDisconnect, id: "DisconnectFunction", description: "Removes a connection and its memberships on $disconnect and tells its rooms",
		timeout: fanoutTimeout,
		env: func(c *webSocketChatApi) map[string]string {
			return map[string]string{
				contract.EnvTableName:         *c.table.TableName(),
				contract.EnvFanoutConcurrency: whole(c.cfg.fanoutConcurrency),
				contract.EnvCallbackURL:       *c.stage.CallbackUrl(),
				// Its presence broadcasts count in the fan-out metrics and alarms.
				contract.EnvMetricsNamespace: contract.MetricsNamespace,
				contract.EnvMetricsService:   c.metricsService(),
			}
		},
		// UpdateItem: the user's presence in each room it leaves.
		tableActions: []string{"dynamodb:Query", "dynamodb:BatchWriteItem", "dynamodb:UpdateItem"},
		indexActions: []string{"dynamodb:Query"}, indexes: []string{contract.IndexByRoom},
		post: true,
	},
	{
		slowRunbook: "A batch of publish requests or large-room shards ran long: a slow @connections endpoint (FanoutRetries, LimitExceeded throttling of the account's API Gateway rate) or DynamoDB throttling (TableThrottles); raise ChatMemorySize or FanoutConcurrency, or lower PublishBatchSize.",
		name:        handlerPublish, id: "PublishFunction", description: "Delivers publish requests and large rooms' fan-out shards from the publish queue",
		chatMemory: true, timeout: publishTimeout, env: (*webSocketChatApi).publishEnv,
		// Exactly what package publish needs (GrantPublish grants the same).
		tableActions: contract.PublisherTableActions(), indexActions: contract.PublisherIndexActions(), indexes: contract.PublisherIndexes(),
		post: true,
		send: true,
	},
}

func (c *webSocketChatApi) connectEnv() map[string]string {
	env := map[string]string{
		contract.EnvTableName:            *c.table.TableName(),
		contract.EnvConnectionTTLSeconds: whole(c.cfg.connectionTTL),
		contract.EnvSubprotocol:          DefaultSubprotocol,
	}
	if len(c.cfg.allowedOrigins) > 0 {
		env[contract.EnvAllowedOrigins] = strings.Join(c.cfg.allowedOrigins, ",")
	}
	return env
}

func (c *webSocketChatApi) chatEnv() map[string]string {
	return map[string]string{
		contract.EnvTableName:               *c.table.TableName(),
		contract.EnvCallbackURL:             *c.stage.CallbackUrl(),
		contract.EnvHistoryRetentionSeconds: whole(c.cfg.historyRetention),
		contract.EnvFanoutConcurrency:       whole(c.cfg.fanoutConcurrency),
		contract.EnvRateLimitPerSecond:      strconv.FormatFloat(c.cfg.ratePerSecond, 'f', -1, 64),
		contract.EnvRateLimitBurst:          whole(c.cfg.rateBurst),
		contract.EnvMetricsNamespace:        contract.MetricsNamespace,
		contract.EnvMetricsService:          c.metricsService(),
		contract.EnvPublishQueueURL:         *c.publishQueue.QueueUrl(),
		contract.EnvLargeRoomThreshold:      whole(c.cfg.publishing.largeRoomThreshold),
		contract.EnvDirectMessages:          string(c.cfg.publishing.directMessages),
	}
}

// publishEnv is the publish function's: the chat function's fan-out and storage settings
// (it stores published chat messages and delivers shards like the chat function), and the
// queue it queues the rest of an unfinished shard to, and the dead-letter queue it sends
// malformed messages to.
func (c *webSocketChatApi) publishEnv() map[string]string {
	return map[string]string{
		contract.EnvTableName:                 *c.table.TableName(),
		contract.EnvCallbackURL:               *c.stage.CallbackUrl(),
		contract.EnvHistoryRetentionSeconds:   whole(c.cfg.historyRetention),
		contract.EnvFanoutConcurrency:         whole(c.cfg.fanoutConcurrency),
		contract.EnvPublishQueueURL:           *c.publishQueue.QueueUrl(),
		contract.EnvPublishDeadLetterQueueURL: *c.deadLetters.QueueUrl(),
		contract.EnvLargeRoomThreshold:        whole(c.cfg.publishing.largeRoomThreshold),
		contract.EnvMetricsNamespace:          contract.MetricsNamespace,
		contract.EnvMetricsService:            c.metricsService(),
	}
}

// whole renders a whole number as the handlers parse it.
func whole(n float64) string { return strconv.FormatFloat(n, 'f', 0, 64) }

// activeHandlers are the specs of the handlers this configuration runs: all but the
// authorizer with NoAuthentication.
func (c *webSocketChatApi) activeHandlers() []handlerSpec {
	var out []handlerSpec
	for _, h := range handlerSpecs {
		if h.name != handlerAuthorizer || c.authEnv != nil {
			out = append(out, h)
		}
	}
	return out
}

// addHandlers bundles the active handlers and makes their functions with their grants.
func (c *webSocketChatApi) addHandlers() {
	specs := c.activeHandlers()
	names := make([]string, len(specs))
	for i, h := range specs {
		names[i] = h.name
	}
	code := c.bundler.ownHandlers(names)
	for _, h := range specs {
		mem := c.cfg.handlerMemory
		if h.chatMemory {
			mem = c.cfg.chatMemory
		}
		fn := c.newFunction(h.id, h.description, code[h.name], mem, h.timeout, h.env(c))
		c.fns[h.name] = fn
		c.grantTable(fn, h.tableActions, h.indexActions, h.indexes)
		if h.post {
			c.grantPost(fn)
		}
		if h.send {
			c.grantSend(fn)
		}
		if h.name == handlerPublish {
			c.grantDeadLetter(fn)
		}
	}
}

// newFunction makes a Go function on provided.al2023 with its own log group (retention from
// the props), its own role that may write only to that group, and JSON logs.
func (c *webSocketChatApi) newFunction(id, description string, code awslambda.Code, memoryMB, timeoutSeconds float64, env map[string]string) awslambda.Function {
	logs := awslogs.NewLogGroup(c.Construct, jsii.String(id+"Logs"), &awslogs.LogGroupProps{
		Retention: c.cfg.logRetention,
	})
	// Instead of the managed AWSLambdaBasicExecutionRole, which allows every log group of
	// the account.
	role := awsiam.NewRole(c.Construct, jsii.String(id+"Role"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String(description),
	})
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("logs:CreateLogStream", "logs:PutLogEvents"),
		Resources: &[]*string{logs.LogGroupArn()},
	}))
	vars := map[string]*string{}
	for k, v := range env {
		vars[k] = jsii.String(v)
	}
	return awslambda.NewFunction(c.Construct, jsii.String(id), &awslambda.FunctionProps{
		Description:   jsii.String(description),
		Runtime:       awslambda.Runtime_PROVIDED_AL2023(),
		Architecture:  c.cfg.architecture,
		Handler:       jsii.String("bootstrap"),
		Code:          code,
		MemorySize:    jsii.Number(memoryMB),
		Timeout:       awscdk.Duration_Seconds(jsii.Number(timeoutSeconds)),
		Environment:   &vars,
		LogGroup:      logs,
		Role:          role,
		LoggingFormat: awslambda.LoggingFormat_JSON,
	})
}

// sortedKeys returns a map's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
