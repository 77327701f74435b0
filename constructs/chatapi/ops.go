package chatapi

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigateway"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"
)

// MetricsNamespace is the CloudWatch namespace of the metrics the chat function emits (in
// Embedded Metric Format), with the dimension Service set to the construct's unique id.
const MetricsNamespace = "WebSocketChatApi"

// accessLogFormat is one JSON object per line with the fields an on-call engineer needs; every
// variable is one API Gateway documents for WebSocket APIs.
var accessLogFormat = func() string {
	fields := map[string]string{
		"requestId":          "$context.requestId",
		"extendedRequestId":  "$context.extendedRequestId",
		"requestTime":        "$context.requestTime",
		"connectionId":       "$context.connectionId",
		"eventType":          "$context.eventType",
		"routeKey":           "$context.routeKey",
		"messageId":          "$context.messageId",
		"status":             "$context.status",
		"error":              "$context.error.message",
		"errorType":          "$context.error.responseType",
		"integrationError":   "$context.integration.error",
		"integrationStatus":  "$context.integration.status",
		"integrationLatency": "$context.integration.latency",
		"authorizerError":    "$context.authorizer.error",
		"principalId":        "$context.authorizer.principalId",
		"sourceIp":           "$context.identity.sourceIp",
		"userAgent":          "$context.identity.userAgent",
	}
	b, _ := json.Marshal(fields) // map keys are sorted: a stable template
	return string(b)
}()

// configureStageLogging turns on access logs (JSON) and, when asked, execution logging, and
// sets the account-level CloudWatch role both need for WebSocket APIs.
func (c *webSocketChatApi) configureStageLogging() {
	cfn := c.stage.Node().DefaultChild().(awsapigatewayv2.CfnStage)
	if c.cfg.accessLogging {
		c.accessLogs = awslogs.NewLogGroup(c.Construct, jsii.String("AccessLogs"), &awslogs.LogGroupProps{
			Retention: c.cfg.logRetention,
		})
		cfn.SetAccessLogSettings(&awsapigatewayv2.CfnStage_AccessLogSettingsProperty{
			DestinationArn: c.accessLogs.LogGroupArn(),
			Format:         jsii.String(accessLogFormat),
		})
	}
	if c.cfg.executionLogLevel != ExecutionLogLevelOff {
		cfn.AddPropertyOverride(jsii.String("DefaultRouteSettings.LoggingLevel"), jsii.String(string(c.cfg.executionLogLevel)))
		cfn.AddPropertyOverride(jsii.String("DefaultRouteSettings.DataTraceEnabled"), jsii.Bool(false))
	}
	if len(c.cfg.routeThrottling) > 0 {
		settings := map[string]any{}
		for key, t := range c.cfg.routeThrottling {
			settings[key] = map[string]any{"ThrottlingRateLimit": t.rate, "ThrottlingBurstLimit": t.burst}
		}
		cfn.SetRouteSettings(settings)
	}
	logging := c.cfg.accessLogging || c.cfg.executionLogLevel != ExecutionLogLevelOff
	if logging && c.cfg.cloudWatchRole {
		role := awsiam.NewRole(c.Construct, jsii.String("ApiGatewayCloudWatchRole"), &awsiam.RoleProps{
			AssumedBy:   awsiam.NewServicePrincipal(jsii.String("apigateway.amazonaws.com"), nil),
			Description: jsii.String("Lets API Gateway write access and execution logs (account-level setting of this region)"),
			ManagedPolicies: &[]awsiam.IManagedPolicy{
				awsiam.ManagedPolicy_FromAwsManagedPolicyName(jsii.String("service-role/AmazonAPIGatewayPushToCloudWatchLogs")),
			},
		})
		suppressNag(role.Node().DefaultChild().(awscdk.CfnResource), "AwsSolutions-IAM4",
			"AmazonAPIGatewayPushToCloudWatchLogs is the policy AWS documents for API Gateway's account-level logging role; it must reach the execution log groups API Gateway itself creates.",
			`/^Policy::arn:<AWS::Partition>:iam::aws:policy\/service-role\/AmazonAPIGatewayPushToCloudWatchLogs$/`)
		account := awsapigateway.NewCfnAccount(c.Construct, jsii.String("ApiGatewayAccount"), &awsapigateway.CfnAccountProps{
			CloudWatchRoleArn: role.RoleArn(),
		})
		// The stage cannot log before the account knows the role.
		cfn.AddDependency(account)
	}
}

// alarmSpec is one alarm with the runbook line an on-call engineer reads when it fires.
type alarmSpec struct {
	id        string
	metric    awscloudwatch.IMetric
	threshold float64
	runbook   string
}

// addAlarms creates the alarms (and their SNS actions when a topic is given) and the dashboard.
func (c *webSocketChatApi) addAlarms() {
	var specs []alarmSpec
	apiMetric := func(name, stat string) awscloudwatch.Metric {
		return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
			Namespace:  jsii.String("AWS/ApiGateway"),
			MetricName: jsii.String(name),
			DimensionsMap: &map[string]*string{
				"ApiId": c.api.ApiId(),
				"Stage": jsii.String(c.cfg.stageName),
			},
			Statistic: jsii.String(stat),
			Period:    awscdk.Duration_Minutes(jsii.Number(5)),
		})
	}
	specs = append(specs,
		alarmSpec{"ApiIntegrationErrors", apiMetric("IntegrationError", "Sum"), 1,
			"A route's Lambda integration failed (API Gateway got an error or timeout from the function). Check the failing function's logs by connection id in the access log; then its Errors and Duration alarms."},
		alarmSpec{"ApiExecutionErrors", apiMetric("ExecutionError", "Sum"), 1,
			"API Gateway itself failed to run a request (5xx). Check the access log's error and errorType fields; if it persists, open an AWS support case."},
	)
	names := make([]string, 0, len(c.fns))
	for n := range c.fns {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fn := c.fns[n]
		id := handlerID(n)
		timeout := c.timeouts[id]
		specs = append(specs,
			alarmSpec{id + "Errors", fn.MetricErrors(&awscloudwatch.MetricOptions{Period: awscdk.Duration_Minutes(jsii.Number(5)), Statistic: jsii.String("Sum")}), 1,
				"The " + n + " function returned errors or crashed. Read its JSON logs (level ERROR) for the request id and cause; a deploy that broke it is rolled back with the previous template."},
			alarmSpec{id + "Throttles", fn.MetricThrottles(&awscloudwatch.MetricOptions{Period: awscdk.Duration_Minutes(jsii.Number(5)), Statistic: jsii.String("Sum")}), 1,
				"The " + n + " function hit its concurrency limit and requests were refused. Raise the account's Lambda concurrency quota or lower the stage throttling."},
			alarmSpec{id + "DurationNearTimeout", fn.MetricDuration(&awscloudwatch.MetricOptions{Period: awscdk.Duration_Minutes(jsii.Number(5)), Statistic: jsii.String("Maximum")}), timeout * 1000 * 0.8,
				fmt.Sprintf("The %s function ran for over 80%% of its %gs timeout. For chat: large rooms or a slow @connections endpoint; raise ChatMemorySize or FanoutConcurrency, or look for DynamoDB throttling.", n, timeout)},
		)
	}
	specs = append(specs,
		alarmSpec{"TableThrottles", c.table.MetricThrottledRequestsForOperations(&awsdynamodb.OperationsMetricOptions{
			Operations: &[]awsdynamodb.Operation{
				awsdynamodb.Operation_GET_ITEM, awsdynamodb.Operation_PUT_ITEM, awsdynamodb.Operation_DELETE_ITEM,
				awsdynamodb.Operation_UPDATE_ITEM, awsdynamodb.Operation_QUERY, awsdynamodb.Operation_BATCH_WRITE_ITEM,
			},
			Period: awscdk.Duration_Minutes(jsii.Number(5)),
		}), 1,
			"DynamoDB throttled requests to the chat table (on-demand tables throttle on sudden 2x traffic jumps or a hot room partition). Check which operation in the dashboard; a hot room needs its members spread or a rate limit."},
		alarmSpec{"FanoutFailures", c.chatMetric("FanoutFailures", "Sum"), 1,
			"Messages could not be delivered to live connections after retries (throttling or 5xx from @connections). Check the chat function's fan-out log lines; sustained failures mean the account's @connections rate is exhausted."},
	)
	c.alarms = map[string]awscloudwatch.Alarm{}
	for _, s := range specs {
		a := awscloudwatch.NewAlarm(c.Construct, jsii.String(s.id+"Alarm"), &awscloudwatch.AlarmProps{
			Metric:             s.metric,
			Threshold:          jsii.Number(s.threshold),
			EvaluationPeriods:  jsii.Number(1),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
			TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
			AlarmDescription:   jsii.String(s.runbook),
		})
		if c.cfg.alarmTopic != nil {
			a.AddAlarmAction(awscloudwatchactions.NewSnsAction(c.cfg.alarmTopic))
			a.AddOkAction(awscloudwatchactions.NewSnsAction(c.cfg.alarmTopic))
		}
		c.alarms[s.id] = a
	}
}

// chatMetric is one of the metrics the chat function emits.
func (c *webSocketChatApi) chatMetric(name, stat string) awscloudwatch.Metric {
	return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
		Namespace:     jsii.String(MetricsNamespace),
		MetricName:    jsii.String(name),
		DimensionsMap: &map[string]*string{"Service": jsii.String(c.metricsService())},
		Statistic:     jsii.String(stat),
		Period:        awscdk.Duration_Minutes(jsii.Number(5)),
	})
}

// metricsService is the Service dimension of the chat function's metrics: the construct's
// unique id, so two chats in one account keep apart.
func (c *webSocketChatApi) metricsService() string { return *awscdk.Names_UniqueId(c.Construct) }

// addDashboard draws connections, messages, errors, latency and fan-out.
func (c *webSocketChatApi) addDashboard() {
	api := func(name, stat, label string) awscloudwatch.IMetric {
		return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
			Namespace:     jsii.String("AWS/ApiGateway"),
			MetricName:    jsii.String(name),
			DimensionsMap: &map[string]*string{"ApiId": c.api.ApiId(), "Stage": jsii.String(c.cfg.stageName)},
			Statistic:     jsii.String(stat),
			Label:         jsii.String(label),
			Period:        awscdk.Duration_Minutes(jsii.Number(1)),
		})
	}
	graph := func(title string, metrics ...awscloudwatch.IMetric) awscloudwatch.IWidget {
		return awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{
			Title: jsii.String(title), Left: &metrics, Width: jsii.Number(8), Height: jsii.Number(6),
		})
	}
	var lambdaErrors, durations []awscloudwatch.IMetric
	names := make([]string, 0, len(c.fns))
	for n := range c.fns {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		lambdaErrors = append(lambdaErrors, c.fns[n].MetricErrors(&awscloudwatch.MetricOptions{Label: jsii.String(n + " errors"), Period: awscdk.Duration_Minutes(jsii.Number(1))}))
		durations = append(durations, c.fns[n].MetricDuration(&awscloudwatch.MetricOptions{Label: jsii.String(n + " p99"), Statistic: jsii.String("p99"), Period: awscdk.Duration_Minutes(jsii.Number(1))}))
	}
	fanout := func(name, stat, label string) awscloudwatch.IMetric {
		m := c.chatMetric(name, stat)
		return m.With(&awscloudwatch.MetricOptions{Label: jsii.String(label), Period: awscdk.Duration_Minutes(jsii.Number(1))})
	}
	c.dashboard = awscloudwatch.NewDashboard(c.Construct, jsii.String("Dashboard"), &awscloudwatch.DashboardProps{
		Widgets: &[]*[]awscloudwatch.IWidget{
			{
				graph("Connections", api("ConnectCount", "Sum", "connects")),
				graph("Messages", api("MessageCount", "Sum", "messages (all routes)"), fanout("MessagesSent", "Sum", "chat messages sent"), fanout("RateLimited", "Sum", "rate limited")),
				graph("API errors", api("ClientError", "Sum", "4xx"), api("ExecutionError", "Sum", "5xx"), api("IntegrationError", "Sum", "integration errors")),
			},
			{
				graph("Lambda errors", lambdaErrors...),
				graph("Latency", append([]awscloudwatch.IMetric{api("IntegrationLatency", "p99", "integration p99")}, durations...)...),
				graph("Fan-out", fanout("FanoutRecipients", "Average", "recipients avg"), fanout("FanoutRecipients", "Maximum", "recipients max"),
					fanout("FanoutDurationMs", "p50", "duration p50 (ms)"), fanout("FanoutDurationMs", "p99", "duration p99 (ms)"), fanout("FanoutFailures", "Sum", "failures")),
			},
		},
	})
}

// handlerID is the construct id of a handler's function: "chat" → "ChatFunction".
func handlerID(name string) string {
	return strings.ToUpper(name[:1]) + name[1:] + "Function"
}
