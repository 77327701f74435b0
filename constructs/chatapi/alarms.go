package chatapi

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/jsii-runtime-go"

	"github.com/chatstack/websocketchatapi/internal/contract"
)

// alarmSpec is one alarm with the runbook line an on-call engineer reads when it fires.
type alarmSpec struct {
	id        string
	metric    awscloudwatch.IMetric
	threshold float64
	runbook   string
}

// MetricsNamespace is the CloudWatch namespace of the metrics the chat function emits (in
// Embedded Metric Format), with the one dimension Service set to the construct's unique id.
const MetricsNamespace = contract.MetricsNamespace

// alarmPeriod is the period every alarm evaluates.
func alarmPeriod() awscdk.Duration { return awscdk.Duration_Minutes(jsii.Number(5)) }

// addAlarms creates the alarms, and their SNS actions when a topic is given.
func (c *webSocketChatApi) addAlarms() {
	specs := []alarmSpec{
		{"ApiIntegrationErrors", c.apiMetric("IntegrationError", "Sum", nil, alarmPeriod()), 1,
			"A route's Lambda integration failed (API Gateway got an error or timeout from the function). Check the failing function's logs by connection id in the access log; then its Errors and Duration alarms."},
		{"ApiExecutionErrors", c.apiMetric("ExecutionError", "Sum", nil, alarmPeriod()), 1,
			"API Gateway itself failed to run a request (5xx). Check the access log's error and errorType fields; if it persists, open an AWS support case."},
	}
	for _, h := range c.activeHandlers() {
		specs = append(specs, c.functionAlarms(h)...)
	}
	specs = append(specs,
		alarmSpec{"TableThrottles", c.table.MetricThrottledRequestsForOperations(&awsdynamodb.OperationsMetricOptions{
			Operations: &[]awsdynamodb.Operation{
				awsdynamodb.Operation_GET_ITEM, awsdynamodb.Operation_PUT_ITEM, awsdynamodb.Operation_DELETE_ITEM,
				awsdynamodb.Operation_UPDATE_ITEM, awsdynamodb.Operation_QUERY, awsdynamodb.Operation_BATCH_WRITE_ITEM,
			},
			Period: alarmPeriod(),
		}), 1,
			"DynamoDB throttled requests to the chat table (on-demand tables throttle on sudden 2x traffic jumps or a hot room partition). Check which operation in the dashboard; a hot room needs its members spread or a rate limit."},
		// Named after its metric.
		alarmSpec{contract.MetricFanoutFailures, c.chatMetric(contract.MetricFanoutFailures, "Sum"), 1,
			"Messages could not be delivered to live connections after retries (throttling or 5xx from @connections). Check the chat function's fan-out log lines; sustained failures mean the account's @connections rate is exhausted."},
	)
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

// functionAlarms are the Errors, Throttles and DurationNearTimeout alarms of a handler.
func (c *webSocketChatApi) functionAlarms(h handlerSpec) []alarmSpec {
	fn, n := c.fns[h.name], h.name
	opts := func(stat string) *awscloudwatch.MetricOptions {
		return &awscloudwatch.MetricOptions{Period: alarmPeriod(), Statistic: jsii.String(stat)}
	}
	return []alarmSpec{
		{h.id + "Errors", fn.MetricErrors(opts("Sum")), 1,
			"The " + n + " function returned errors or crashed. Read its JSON logs (level ERROR) for the request id and cause; a deploy that broke it is rolled back with the previous template."},
		{h.id + "Throttles", fn.MetricThrottles(opts("Sum")), 1,
			"The " + n + " function hit its concurrency limit and requests were refused. Raise the account's Lambda concurrency quota or lower the stage throttling."},
		{h.id + "DurationNearTimeout", fn.MetricDuration(opts("Maximum")), h.timeout * 1000 * 0.8,
			fmt.Sprintf("The %s function ran for over 80%% of its %gs timeout. For chat: large rooms or a slow @connections endpoint; raise ChatMemorySize or FanoutConcurrency, or look for DynamoDB throttling.", n, h.timeout)},
	}
}

// apiMetric is one of API Gateway's metrics of this API's stage; label may be nil.
func (c *webSocketChatApi) apiMetric(name, stat string, label *string, period awscdk.Duration) awscloudwatch.Metric {
	return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
		Namespace:     jsii.String("AWS/ApiGateway"),
		MetricName:    jsii.String(name),
		DimensionsMap: &map[string]*string{"ApiId": c.api.ApiId(), "Stage": jsii.String(c.cfg.stageName)},
		Statistic:     jsii.String(stat),
		Label:         label,
		Period:        period,
	})
}

// chatMetric is one of the metrics the chat function emits.
func (c *webSocketChatApi) chatMetric(name, stat string) awscloudwatch.Metric {
	return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
		Namespace:     jsii.String(contract.MetricsNamespace),
		MetricName:    jsii.String(name),
		DimensionsMap: &map[string]*string{contract.DimensionService: jsii.String(c.metricsService())},
		Statistic:     jsii.String(stat),
		Period:        alarmPeriod(),
	})
}

// metricsService is the Service dimension of the chat function's metrics: the construct's
// unique id, so two chats in one account keep apart.
func (c *webSocketChatApi) metricsService() string { return *awscdk.Names_UniqueId(c.Construct) }
