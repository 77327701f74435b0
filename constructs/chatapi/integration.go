package chatapi

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/jsii-runtime-go"
)

// lambdaIntegration is a Lambda proxy integration that one function shares across any number
// of routes. The stock WebSocketLambdaIntegration adds an invoke permission per route (its Bind
// runs once per route even when one instance is reused), which hits Lambda's 20 KB resource
// policy limit near 50 routes; this one grants nothing in Bind,
// and the construct adds a single permission per function, scoped to the stage. N routes to a
// function thus cost N routes, 1 integration and 1 permission.
type lambdaIntegration struct {
	awsapigatewayv2.WebSocketRouteIntegration
	fn awslambda.IFunction
}

func newLambdaIntegration(id string, fn awslambda.IFunction) *lambdaIntegration {
	i := &lambdaIntegration{fn: fn}
	awsapigatewayv2.NewWebSocketRouteIntegration_Override(i, jsii.String(id))
	return i
}

// Bind returns the integration's configuration; the L2 calls it once and reuses the result
// for every route given this integration.
func (i *lambdaIntegration) Bind(options *awsapigatewayv2.WebSocketRouteIntegrationBindOptions) *awsapigatewayv2.WebSocketRouteIntegrationConfig {
	stack := awscdk.Stack_Of(options.Scope)
	uri := stack.FormatArn(&awscdk.ArnComponents{
		Service:      jsii.String("apigateway"),
		Account:      jsii.String("lambda"),
		Resource:     jsii.String("path/2015-03-31/functions"),
		ResourceName: jsii.String(*i.fn.FunctionArn() + "/invocations"),
		ArnFormat:    awscdk.ArnFormat_SLASH_RESOURCE_NAME,
	})
	return &awsapigatewayv2.WebSocketRouteIntegrationConfig{
		Type: awsapigatewayv2.WebSocketIntegrationType_AWS_PROXY,
		Uri:  uri,
	}
}

// integrationFor returns the one integration of fn, creating it and fn's one invoke
// permission on first use.
func (c *webSocketChatApi) integrationFor(fn awslambda.IFunction, id string) *lambdaIntegration {
	addr := *fn.Node().Addr()
	if i, ok := c.integrations[addr]; ok {
		return i
	}
	i := newLambdaIntegration(id, fn)
	c.integrations[addr] = i
	fn.AddPermission(jsii.String("InvokeFrom"+*awscdk.Names_UniqueId(c.Construct)), &awslambda.Permission{
		Principal: awsiam.NewServicePrincipal(jsii.String("apigateway.amazonaws.com"), nil),
		Action:    jsii.String("lambda:InvokeFunction"),
		SourceArn: c.api.ArnForExecuteApiV2(nil, jsii.String(c.cfg.stageName)),
	})
	return i
}
