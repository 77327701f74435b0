package chatapi

import (
	"sort"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"
)

// newFunction makes a Go function on provided.al2023 with its own log group (retention from
// the props) and JSON logs.
func (c *webSocketChatApi) newFunction(id, description string, code awslambda.Code, memoryMB, timeoutSeconds float64, env map[string]string) awslambda.Function {
	logs := awslogs.NewLogGroup(c.Construct, jsii.String(id+"Logs"), &awslogs.LogGroupProps{
		Retention: c.cfg.logRetention,
	})
	// Its own role, allowed to write to its own log group only (instead of the managed
	// AWSLambdaBasicExecutionRole, which allows every log group of the account).
	role := awsiam.NewRole(c.Construct, jsii.String(id+"Role"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String(description),
	})
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("logs:CreateLogStream", "logs:PutLogEvents"),
		Resources: &[]*string{logs.LogGroupArn()},
	}))
	c.timeouts[id] = timeoutSeconds
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	vars := map[string]*string{}
	for _, k := range keys {
		vars[k] = jsii.String(env[k])
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
