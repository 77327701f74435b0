package chatapi

import (
	"encoding/json"
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigateway"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"
)

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
		cfn.SetRouteSettings(c.routeSettings())
	}
	if c.cfg.logging() && c.cfg.cloudWatchRole {
		cfn.AddResourceDependency(c.newCloudWatchRole(), jsii.String("the stage cannot log before the account knows the role"))
	}
}

// routeSettings are the stage's per-route settings. A route's settings replace the stage's
// default route settings for that route, so each entry repeats what the defaults set
// (detailed metrics, the execution log level) beside its throttling.
func (c *webSocketChatApi) routeSettings() map[string]any {
	settings := map[string]any{}
	for key, t := range c.cfg.routeThrottling {
		entry := map[string]any{
			"ThrottlingRateLimit":    t.rate,
			"ThrottlingBurstLimit":   t.burst,
			"DetailedMetricsEnabled": true,
		}
		if c.cfg.executionLogLevel != ExecutionLogLevelOff {
			entry["LoggingLevel"] = string(c.cfg.executionLogLevel)
			entry["DataTraceEnabled"] = false
		}
		settings[key] = entry
	}
	return settings
}

// stageNeedsRoute makes the stage depend on route when its RouteSettings name the route:
// CloudFormation may otherwise create the stage first, and API Gateway refuses settings for
// a route that does not exist ("Unable to find Route by key ... within the provided
// RouteSettings").
func (c *webSocketChatApi) stageNeedsRoute(key string, route awsapigatewayv2.WebSocketRoute) {
	if _, ok := c.cfg.routeThrottling[key]; ok {
		c.stage.Node().AddDependency(route)
	}
}

// routeSettingsValidation fails the synth when RouteThrottling names a route the API never
// got (AddRoute may add it after the construct is made, so this is checked at synth).
type routeSettingsValidation struct{ c *webSocketChatApi }

func (r *routeSettingsValidation) Validate() *[]*string {
	var errs []string
	for _, key := range sortedKeys(r.c.cfg.routeThrottling) {
		if _, ok := r.c.routes[key]; !ok {
			errs = append(errs, fmt.Sprintf("chatapi: %s: RouteThrottling: %q is not a route of the API (add it with AddRoute, or drop its throttling): API Gateway would refuse the stage", r.c.v.path, key))
		}
	}
	return jsii.Strings(errs...)
}

// newCloudWatchRole sets the account-level role that API Gateway needs to write WebSocket
// logs in this region (AWS::ApiGateway::Account).
func (c *webSocketChatApi) newCloudWatchRole() awsapigateway.CfnAccount {
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
	// The account's setting outlives the stack: deleting the role would break logging for
	// every API of the account and region (aws-cdk issue 10878), so both stay by default.
	role.ApplyRemovalPolicy(c.cfg.cloudWatchRoleRemoval)
	account.ApplyRemovalPolicy(c.cfg.cloudWatchRoleRemoval, nil)
	return account
}
