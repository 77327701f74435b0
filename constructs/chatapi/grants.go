package chatapi

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/jsii-runtime-go"

	"github.com/chatstack/websocketchatapi/internal/contract"
)

// grantTable gives fn the DynamoDB actions it calls on this table's ARN, and on the room
// index's ARN (never index/*) when it lists rooms.
func (c *webSocketChatApi) grantTable(fn awslambda.Function, tableActions, indexActions []string) {
	table := *c.table.TableArn()
	allow := func(resource string, actions []string) {
		if len(actions) == 0 {
			return
		}
		fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:   jsii.Strings(actions...),
			Resources: jsii.Strings(resource),
		}))
	}
	allow(table, tableActions)
	allow(table+"/index/"+contract.IndexByRoom, indexActions)
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

// grantPost lets fn post to this stage's connections, and nothing else.
func (c *webSocketChatApi) grantPost(fn awslambda.Function) awsiam.Grant {
	g := awsiam.Grant_AddToPrincipal(&awsiam.GrantOnPrincipalOptions{
		Grantee:      fn,
		Actions:      jsii.Strings("execute-api:ManageConnections"),
		ResourceArns: &[]*string{c.connectionsArn("POST")},
	})
	if role, ok := fn.Role().(awsiam.Role); ok {
		if policy := role.Node().TryFindChild(jsii.String("DefaultPolicy")); policy != nil {
			suppressConnectionsWildcard(policy.Node().DefaultChild().(awscdk.CfnResource))
		}
	}
	return g
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
