package chatapi

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/jsii-runtime-go"

	"github.com/chatstack/websocketchatapi/internal/contract"
)

// grantTable gives grantee the DynamoDB actions it calls on this table's ARN, and on each named
// index's ARN (never index/*).
func (c *webSocketChatApi) grantTable(grantee awsiam.IGrantable, tableActions, indexActions, indexes []string) awsiam.Grant {
	table := *c.table.TableArn()
	grant := awsiam.Grant_Drop(grantee, jsii.String("no table actions"))
	allow := func(actions []string, resources ...string) {
		if len(actions) == 0 || len(resources) == 0 {
			return
		}
		grant = grant.Combine(awsiam.Grant_AddToPrincipal(&awsiam.GrantOnPrincipalOptions{
			Grantee:      grantee,
			Actions:      jsii.Strings(actions...),
			ResourceArns: jsii.Strings(resources...),
		}))
	}
	allow(tableActions, table)
	var indexArns []string
	for _, index := range indexes {
		indexArns = append(indexArns, table+"/index/"+index)
	}
	allow(indexActions, indexArns...)
	return grant
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

// grantPost lets grantee post to this stage's connections, and nothing else. When grantee's
// principal is a role of this app, its default policy gets the cdk-nag suppression of the
// connection id wildcard.
func (c *webSocketChatApi) grantPost(grantee awsiam.IGrantable) awsiam.Grant {
	g := awsiam.Grant_AddToPrincipal(&awsiam.GrantOnPrincipalOptions{
		Grantee:      grantee,
		Actions:      jsii.Strings(contract.PublisherConnectionsActions()...),
		ResourceArns: &[]*string{c.connectionsArn("POST")},
	})
	if role, ok := grantee.GrantPrincipal().(awsiam.Role); ok {
		if policy := role.Node().TryFindChild(jsii.String("DefaultPolicy")); policy != nil {
			suppressConnectionsWildcard(policy.Node().DefaultChild().(awscdk.CfnResource))
		}
	}
	return g
}

// grantSend lets grantee send to the publish queue (its ARN only; not the dead-letter queue).
func (c *webSocketChatApi) grantSend(grantee awsiam.IGrantable) awsiam.Grant {
	return awsiam.Grant_AddToPrincipal(&awsiam.GrantOnPrincipalOptions{
		Grantee:      grantee,
		Actions:      jsii.Strings(contract.PublisherQueueActions()...),
		ResourceArns: &[]*string{c.publishQueue.QueueArn()},
	})
}

// grantDeadLetter lets the publish function send a malformed message to the dead-letter
// queue, with the reason, at once: sqs:SendMessage on that queue only.
func (c *webSocketChatApi) grantDeadLetter(grantee awsiam.IGrantable) awsiam.Grant {
	return awsiam.Grant_AddToPrincipal(&awsiam.GrantOnPrincipalOptions{
		Grantee:      grantee,
		Actions:      jsii.Strings("sqs:SendMessage"),
		ResourceArns: &[]*string{c.deadLetters.QueueArn()},
	})
}

// GrantPublish adds to grantee's identity policy exactly what package publish calls, the
// actions listed once in internal/contract: on the table, contract.PublisherTableActions;
// dynamodb:Query on the byRoom and byUser indexes; execute-api:ManageConnections on POST to
// this stage's @connections; sqs:SendMessage on the publish queue.
func (c *webSocketChatApi) GrantPublish(grantee awsiam.IGrantable) awsiam.Grant {
	if grantee == nil {
		c.v.fail("GrantPublish", "grantee must not be nil")
	}
	return c.grantTable(grantee, contract.PublisherTableActions(), contract.PublisherIndexActions(), contract.PublisherIndexes()).
		Combine(c.grantPost(grantee)).
		Combine(c.grantSend(grantee))
}

// ConfigurePublisher makes fn a publisher: GrantPublish(fn), and the environment that
// publish.FromEnv reads (the table name, the callback URL and the publish queue's URL, under
// names of their own so they do not clash with fn's).
func (c *webSocketChatApi) ConfigurePublisher(fn awslambda.Function) awsiam.Grant {
	if fn == nil {
		c.v.fail("ConfigurePublisher", "function must not be nil")
	}
	grant := c.GrantPublish(fn)
	fn.AddEnvironment(jsii.String(contract.EnvPublisherTableName), c.table.TableName(), nil)
	fn.AddEnvironment(jsii.String(contract.EnvPublisherCallbackURL), c.stage.CallbackUrl(), nil)
	fn.AddEnvironment(jsii.String(contract.EnvPublisherQueueURL), c.publishQueue.QueueUrl(), nil)
	return grant
}

// GrantManageConnections delegates to the stage's own grant: execute-api:ManageConnections
// (POST, GET and DELETE) on this stage's @connections.
func (c *webSocketChatApi) GrantManageConnections(grantee awsiam.IGrantable) awsiam.Grant {
	return c.stage.GrantManagementApiAccess(grantee)
}

// connectArn is the ARN API Gateway authorizes a $connect of this stage against:
// arn:<partition>:execute-api:<region>:<account>:<apiId>/<stage>/$connect.
func (c *webSocketChatApi) connectArn() *string {
	return awscdk.Stack_Of(c.Construct).FormatArn(&awscdk.ArnComponents{
		Service:      jsii.String("execute-api"),
		Resource:     c.api.ApiId(),
		ResourceName: jsii.String(c.cfg.stageName + "/$connect"),
		ArnFormat:    awscdk.ArnFormat_SLASH_RESOURCE_NAME,
	})
}

// GrantConnect adds execute-api:Invoke on connectArn to grantee's identity policy.
func (c *webSocketChatApi) GrantConnect(grantee awsiam.IGrantable) awsiam.Grant {
	if grantee == nil {
		c.v.fail("GrantConnect", "grantee must not be nil")
	}
	return awsiam.Grant_AddToPrincipal(&awsiam.GrantOnPrincipalOptions{
		Grantee:      grantee,
		Actions:      jsii.Strings("execute-api:Invoke"),
		ResourceArns: &[]*string{c.connectArn()},
	})
}
