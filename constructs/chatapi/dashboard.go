package chatapi

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/jsii-runtime-go"

	"github.com/chatstack/websocketchatapi/internal/contract"
)

// addDashboard draws connections, messages, errors, latency and fan-out.
func (c *webSocketChatApi) addDashboard() {
	minute := awscdk.Duration_Minutes(jsii.Number(1))
	api := func(name, stat, label string) awscloudwatch.IMetric {
		return c.apiMetric(name, stat, jsii.String(label), minute)
	}
	var lambdaErrors, durations []awscloudwatch.IMetric
	for _, h := range c.activeHandlers() {
		fn := c.fns[h.name]
		lambdaErrors = append(lambdaErrors, fn.MetricErrors(&awscloudwatch.MetricOptions{Label: jsii.String(h.name + " errors"), Period: minute}))
		durations = append(durations, fn.MetricDuration(&awscloudwatch.MetricOptions{Label: jsii.String(h.name + " p99"), Statistic: jsii.String("p99"), Period: minute}))
	}
	fanout := func(name, stat, label string) awscloudwatch.IMetric {
		m := c.chatMetric(name, stat)
		return m.With(&awscloudwatch.MetricOptions{Label: jsii.String(label), Period: minute})
	}
	c.dashboard = awscloudwatch.NewDashboard(c.Construct, jsii.String("Dashboard"), &awscloudwatch.DashboardProps{
		Widgets: &[]*[]awscloudwatch.IWidget{
			{
				graph("Connections", api("ConnectCount", "Sum", "connects")),
				graph("Messages", api("MessageCount", "Sum", "messages (all routes)"), fanout(contract.MetricMessagesSent, "Sum", "chat messages sent"), fanout(contract.MetricRateLimited, "Sum", "rate limited")),
				graph("API errors", api("ClientError", "Sum", "4xx"), api("ExecutionError", "Sum", "5xx"), api("IntegrationError", "Sum", "integration errors")),
			},
			{
				graph("Lambda errors", lambdaErrors...),
				graph("Latency", append([]awscloudwatch.IMetric{api("IntegrationLatency", "p99", "integration p99")}, durations...)...),
				graph("Fan-out", fanout(contract.MetricFanoutRecipients, "Average", "recipients avg"), fanout(contract.MetricFanoutRecipients, "Maximum", "recipients max"),
					fanout(contract.MetricFanoutDurationMs, "p50", "duration p50 (ms)"), fanout(contract.MetricFanoutDurationMs, "p99", "duration p99 (ms)"), fanout(contract.MetricFanoutFailures, "Sum", "failures")),
			},
			c.tableWidgets(minute),
			c.publishWidgets(minute),
		},
	})
}

// tableWidgets are the dashboard row of the chat table: throttled requests by operation (what
// the TableThrottles runbook points to), consumed capacity, and latency of the reads a
// broadcast makes.
func (c *webSocketChatApi) tableWidgets(period awscdk.Duration) *[]awscloudwatch.IWidget {
	var throttles []awscloudwatch.IMetric
	for _, op := range *tableOperations() {
		throttles = append(throttles, c.table.MetricThrottledRequestsForOperation(jsii.String(string(op)), &awscloudwatch.MetricOptions{
			Label: jsii.String(string(op)), Period: period, Statistic: jsii.String("Sum"),
		}))
	}
	opts := func(label, stat string) *awscloudwatch.MetricOptions {
		return &awscloudwatch.MetricOptions{Label: jsii.String(label), Period: period, Statistic: jsii.String(stat)}
	}
	return &[]awscloudwatch.IWidget{
		graph("DynamoDB throttles", throttles...),
		graph("DynamoDB capacity", c.table.MetricConsumedReadCapacityUnits(opts("read units", "Sum")), c.table.MetricConsumedWriteCapacityUnits(opts("write units", "Sum"))),
		graph("DynamoDB latency", c.table.MetricSuccessfulRequestLatency(&awscloudwatch.MetricOptions{
			Label: jsii.String("Query p99 (ms)"), Period: period, Statistic: jsii.String("p99"),
			DimensionsMap: &map[string]*string{"TableName": c.table.TableName(), "Operation": jsii.String("Query")},
		})),
	}
}

// publishWidgets are the dashboard row of the publish queue: its backlog and age (a large room's
// shards waiting for the publish function), and its dead letters (what the PublishDeadLetters
// alarm watches).
func (c *webSocketChatApi) publishWidgets(period awscdk.Duration) *[]awscloudwatch.IWidget {
	opts := func(label, stat string) *awscloudwatch.MetricOptions {
		return &awscloudwatch.MetricOptions{Label: jsii.String(label), Period: period, Statistic: jsii.String(stat)}
	}
	q, dlq := c.publishQueue, c.deadLetters
	return &[]awscloudwatch.IWidget{
		graph("Publish queue", q.MetricApproximateNumberOfMessagesVisible(opts("waiting", "Maximum")), q.MetricApproximateNumberOfMessagesNotVisible(opts("in flight", "Maximum"))),
		graph("Publish queue age", q.MetricApproximateAgeOfOldestMessage(opts("oldest message (s)", "Maximum"))),
		graph("Publish dead letters", dlq.MetricApproximateNumberOfMessagesVisible(opts("dead letters", "Maximum"))),
	}
}

// graph is a dashboard graph, a third of a row wide.
func graph(title string, metrics ...awscloudwatch.IMetric) awscloudwatch.IWidget {
	return awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{
		Title: jsii.String(title), Left: &metrics, Width: jsii.Number(8), Height: jsii.Number(6),
	})
}
