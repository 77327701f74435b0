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

// connectErrorRate is the share of $connect integration errors, in percent over a period
// with at least connectErrorMinimum connects, that fires the ConnectErrorRate alarm. A refused
// Origin or a wrong subprotocol is a 4xx of the $connect function, so single errors there are
// client mistakes, not breakage.
const (
	connectErrorRate    = 10
	connectErrorMinimum = 20
)

// addAlarms creates the alarms, and their SNS actions when a topic is given.
func (c *webSocketChatApi) addAlarms() {
	if c.cfg.alarmTopic == nil {
		awscdk.Annotations_Of(c.Construct).AddWarningV2(jsii.String("@chatstack/websocketchatapi:alarmsWithoutTopic"),
			jsii.String("Alarms are on but AlarmTopic is not set: the alarms notify no one. Give an SNS topic (AlarmTopic) or turn Alarms off."), nil)
	}
	specs := []alarmSpec{
		{"ApiIntegrationErrors", c.messageIntegrationErrors(), 1,
			"A message route's function failed (API Gateway got an error, a timeout or a 4xx/5xx status from the integration; $connect is watched by ConnectErrorRate). Find the route in the access log (routeKey, integrationError) and read that function's logs by connection id; then its Errors and Duration alarms."},
		{"ConnectErrorRate", c.connectErrorRate(), connectErrorRate,
			fmt.Sprintf("Over %d%% of at least %d connects in 5 minutes failed in the $connect function (401/403 answers are the authorizer's and do not count). Read the connect function's logs for the status and reason; a refused Origin after a domain change means AllowedOrigins needs the new origin.", connectErrorRate, connectErrorMinimum)},
		{"ApiExecutionErrors", c.apiMetric("ExecutionError", "Sum", nil, alarmPeriod()), 1,
			"API Gateway could not call an integration (ExecutionError: errors that occurred when calling the integration), e.g. a function it may not invoke, a throttled function, or a request it could not map. Check the access log's error, errorType and integrationError fields for the route, and the Throttles alarms."},
	}
	for _, h := range c.activeHandlers() {
		specs = append(specs, c.functionAlarms(h)...)
	}
	specs = append(specs,
		alarmSpec{"TableThrottles", c.table.MetricThrottledRequestsForOperations(&awsdynamodb.OperationsMetricOptions{
			Operations: tableOperations(),
			Period:     alarmPeriod(),
		}), 1,
			"DynamoDB throttled requests to the chat table (on-demand tables throttle on sudden 2x traffic jumps or a hot room partition). The dashboard's \"DynamoDB throttles\" graph shows which operation; a hot room needs its members spread or a lower RateLimit."},
		// Named after its metric.
		alarmSpec{contract.MetricFanoutFailures, c.chatMetric(contract.MetricFanoutFailures, "Sum"), 1,
			"Messages or presence events could not be delivered to live connections after retries (throttling or 5xx from @connections). Check the chat and disconnect functions' fan-out log lines; sustained failures mean the account's @connections rate is exhausted."},
		c.newConnectionRateAlarm(),
		c.deadLettersAlarm(),
		c.publishBacklogAlarm(),
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

// deadLettersAlarm fires when the publish queue's dead-letter queue holds any message: a publish
// request refused (malformed, over the cap, schema-invalid) or a shard that failed
// PublishMaxReceiveCount times.
func (c *webSocketChatApi) deadLettersAlarm() alarmSpec {
	visible := c.deadLetters.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{
		Period: alarmPeriod(), Statistic: jsii.String("Maximum"),
	})
	return alarmSpec{"PublishDeadLetters", visible, 1,
		fmt.Sprintf("Publish requests or large-room fan-out shards reached the publish dead-letter queue: refused as invalid, or failed %g times. The publish function's logs (level ERROR) give each message's id and reason; a refused message carries it in its ErrorReason attribute too. Fix the sender or the cause, then move the messages back with `aws sqs start-message-move-task --source-arn <dead-letter queue ARN>`, or delete them; they are kept %d days.", c.cfg.publishing.maxReceiveCount, deadLetterRetentionDays)}
}

// publishBacklogAge is the age of the publish queue's oldest message, in seconds, at which
// deliveries are late enough to alarm: publications and large rooms' shards are real-time.
const publishBacklogAge = 60

// publishBacklogAlarm fires when the publish queue's oldest message has waited a minute: the
// publish function cannot keep up (its concurrency, throttling) or keeps failing a message.
func (c *webSocketChatApi) publishBacklogAlarm() alarmSpec {
	age := c.publishQueue.MetricApproximateAgeOfOldestMessage(&awscloudwatch.MetricOptions{
		Period: alarmPeriod(), Statistic: jsii.String("Maximum"),
	})
	return alarmSpec{"PublishBacklogAge", age, publishBacklogAge,
		fmt.Sprintf("A message has waited %d s or more in the publish queue: publications and large rooms' deliveries are late. Check the publish function's Throttles and Errors alarms and its concurrency (PublishMaxConcurrency, Concurrency[\"publish\"]); a message that fails again and again waits until PublishMaxReceiveCount moves it to the dead-letter queue.", publishBacklogAge)}
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
			fmt.Sprintf("The %s function ran for over 80%% of its %gs timeout. %s", n, h.timeout, h.slowRunbook)},
	}
}

// messageIntegrationErrors counts the integration errors of every route but $connect: the
// stage's total less the $connect route's (detailed metrics are on), so routes added later
// are counted too.
func (c *webSocketChatApi) messageIntegrationErrors() awscloudwatch.IMetric {
	return awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
		Expression: jsii.String("total - FILL(connect, 0)"),
		UsingMetrics: &map[string]awscloudwatch.IMetric{
			"total":   c.apiMetric("IntegrationError", "Sum", nil, alarmPeriod()),
			"connect": c.routeMetric("IntegrationError", "Sum", "$connect"),
		},
		Label:  jsii.String("integration errors of message routes"),
		Period: alarmPeriod(),
	})
}

// connectErrorRate is the percentage of connects whose $connect integration failed, 0 while
// there are fewer than connectErrorMinimum connects.
func (c *webSocketChatApi) connectErrorRate() awscloudwatch.IMetric {
	return awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
		Expression: jsii.String(fmt.Sprintf("IF(FILL(connects, 0) >= %d, 100 * FILL(errors, 0) / connects, 0)", connectErrorMinimum)),
		UsingMetrics: &map[string]awscloudwatch.IMetric{
			"connects": c.apiMetric("ConnectCount", "Sum", nil, alarmPeriod()),
			"errors":   c.routeMetric("IntegrationError", "Sum", "$connect"),
		},
		Label:  jsii.String("$connect integration errors (%)"),
		Period: alarmPeriod(),
	})
}

// routeMetric is one of API Gateway's detailed metrics of one route of this stage.
func (c *webSocketChatApi) routeMetric(name, stat, route string) awscloudwatch.Metric {
	return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
		Namespace:     jsii.String("AWS/ApiGateway"),
		MetricName:    jsii.String(name),
		DimensionsMap: &map[string]*string{"ApiId": c.api.ApiId(), "Stage": jsii.String(c.cfg.stageName), "Route": jsii.String(route)},
		Statistic:     jsii.String(stat),
		Period:        alarmPeriod(),
	})
}

// tableOperations are the DynamoDB operations the handlers call.
func tableOperations() *[]awsdynamodb.Operation {
	return &[]awsdynamodb.Operation{
		awsdynamodb.Operation_GET_ITEM, awsdynamodb.Operation_PUT_ITEM, awsdynamodb.Operation_DELETE_ITEM,
		awsdynamodb.Operation_UPDATE_ITEM, awsdynamodb.Operation_QUERY, awsdynamodb.Operation_BATCH_WRITE_ITEM,
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

// newConnectionRateAlarm watches the account's quota of new connections per second
// (NewConnectionsQuota, 500 by default, per account and region across all WebSocket APIs):
// it fires when this stage's connects per second, averaged over a minute (ConnectCount's Sum
// per minute / 60), reach NewConnectionsAlarmPercent of it. Over the quota API Gateway
// refuses handshakes, so the alarm is the warning before clients fail to connect.
//
// API Gateway publishes no metric of concurrent connections (the quota page: "API Gateway
// doesn't enforce a quota on concurrent connections"), and this construct publishes none:
// a running total needs state. A counter item in DynamoDB updated on every connect and
// disconnect is a hot key (one partition takes 1,000 writes/s, the quota's 500 connects plus
// as many disconnects), sharding it makes every read a fan-in, and either drifts upward
// because $disconnect is best effort. Counts of opened and closed connections are rates, and
// CloudWatch metric math has no sum from the beginning of a metric (an expression sees only
// the data points of the queried range), so their difference is not a total either. A
// connection lives at most 2 hours: the quota bounds the total at 500 x 7,200 = 3.6 million.
func (c *webSocketChatApi) newConnectionRateAlarm() alarmSpec {
	minute := awscdk.Duration_Minutes(jsii.Number(1))
	rate := awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
		Expression:   jsii.String("FILL(connects, 0) / 60"),
		UsingMetrics: &map[string]awscloudwatch.IMetric{"connects": c.apiMetric("ConnectCount", "Sum", nil, minute)},
		Label:        jsii.String("new connections per second (1-minute average)"),
		Period:       minute,
	})
	quota, share := c.cfg.connectionsQuota, c.cfg.connectionsAlarmShare
	return alarmSpec{"NewConnectionRate", rate, quota * share / 100,
		fmt.Sprintf("This stage opened over %g%% of the account's quota of %g new WebSocket connections per second (per account and region, across all WebSocket APIs; ConnectCount counts connects that reached $connect, so other APIs and refused handshakes add to the real use). Over the quota API Gateway refuses handshakes. Look for a reconnect storm (a deploy or an outage that dropped every client: clients should reconnect with jittered backoff) or a flood from one source in the access log (sourceIp); for steady growth, request a higher quota in Service Quotas (API Gateway, new connections per second) and raise NewConnectionsQuota.", share, quota)}
}
