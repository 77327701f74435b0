package chatapi

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
)

// suppressNag records a cdk-nag rule suppression on one resource, as the `cdk_nag` metadata
// that cdk-nag reads (what NagSuppressions.addResourceSuppressions writes), so users of the
// construct get clean AwsSolutions results without depending on cdk-nag. appliesTo narrows a
// granular rule (IAM4, IAM5) to findings matching these regular expressions.
func suppressNag(resource awscdk.CfnResource, rule, reason string, appliesTo ...string) {
	entry := map[string]any{"id": rule, "reason": reason}
	if len(appliesTo) > 0 {
		var applies []any
		for _, re := range appliesTo {
			applies = append(applies, map[string]any{"regex": re})
		}
		entry["applies_to"] = applies
	}
	rules := []any{entry}
	if existing, ok := resource.GetMetadata(jsii.String("cdk_nag")).(map[string]any); ok {
		if prev, ok := existing["rules_to_suppress"].([]any); ok {
			rules = append(prev, entry)
		}
	}
	resource.AddMetadata(jsii.String("cdk_nag"), map[string]any{"rules_to_suppress": rules})
}

// suppressRouteAuthorization explains AwsSolutions-APIG4 on a route other than $connect, naming
// how $connect authorizes (a Lambda REQUEST authorizer, or AWS_IAM with IamAuthentication).
func (c *webSocketChatApi) suppressRouteAuthorization(route awscdk.CfnResource) {
	how := "Lambda REQUEST authorizer"
	if _, ok := c.cfg.auth.(iamAuth); ok {
		how = "AWS_IAM: SigV4 and execute-api:Invoke"
	}
	suppressNag(route, "AwsSolutions-APIG4",
		"WebSocket APIs authorize once, on $connect ("+how+"); API Gateway accepts no authorizer on other routes, which only authenticated connections can reach.")
}

// suppressConnectionsWildcard explains AwsSolutions-IAM5 on a policy that posts to connections.
func suppressConnectionsWildcard(policy awscdk.CfnResource) {
	suppressNag(policy, "AwsSolutions-IAM5",
		"Connection ids are assigned by API Gateway at runtime; the grant is scoped to POST on this API's own stage (.../<stage>/POST/@connections/*).",
		`/^Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<[A-Za-z0-9]+>\/[A-Za-z0-9_-]+\/POST\/@connections\/\*$/`)
}
