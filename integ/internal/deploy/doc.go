// Package deploy creates a stack's resources in an order CloudFormation may choose and refuses,
// at each step, what API Gateway, Lambda and IAM would refuse at that moment, in AWS's words: a
// template that AWS would fail to deploy fails locally too.
//
// The contract:
//
//   - NewGraph gives the dependencies CloudFormation orders a template by: the DependsOn
//     attribute and every Ref, Fn::GetAtt and Fn::Sub reference to another resource, anywhere
//     in the properties (both branches of an Fn::If count). A DependsOn naming no resource and
//     a dependency cycle are errors in CloudFormation's words.
//   - An Order creates every resource after all of its dependencies, in waves: the resources
//     of one wave are created at the same time, so none of them may rely on another of the
//     same wave. Adversarial creates each resource as soon as its dependencies exist (wave n
//     holds the resources whose longest dependency chain has n links), which is what
//     CloudFormation's parallel creation tends to do and what puts a resource before anything
//     it needs but does not reference. Random is one topological order drawn with a seed,
//     one resource per wave: any seed gives an order CloudFormation may choose, a seed always
//     the same one.
//   - Simulate walks an Order over a resolved stack. Before each resource it checks the
//     lookups the services make by name, key or id at creation time, which no reference
//     orders (a stage's RouteSettings name routes by key, a route's RequestModels name models
//     by name, a permission, a policy or an account may name a function or role by name or
//     ARN), and then that every dependency of the graph exists. The first failure is a
//     *Refusal naming the resource, the one it needed and the order.
//   - Check runs Simulate in the orders Start uses: the adversarial one and one random one.
//
// The lookups and their wording (Refusal.Message), with where AWS's words were seen:
//
//   - AWS::ApiGatewayV2::Stage, a RouteSettings key with no route of the API yet:
//     NotFoundException "Unable to find Route by key <key> within the provided RouteSettings"
//     (https://github.com/terraform-aws-modules/terraform-aws-apigateway-v2/pull/80).
//   - AWS::ApiGatewayV2::Stage with access logging or execution logging (a LoggingLevel other
//     than OFF, or DataTraceEnabled) before the stack's AWS::ApiGateway::Account: BadRequest
//     "CloudWatch Logs role ARN must be set in account settings to enable logging"
//     (https://github.com/sst/ion/issues/373). A stack without an AWS::ApiGateway::Account is
//     taken to run where the account's role is set already.
//   - AWS::ApiGateway::Account before the role its CloudWatchRoleArn names: BadRequest "The
//     role ARN does not have required permissions configured. Please grant trust permission
//     for API Gateway and add the required role policy."
//     (https://github.com/aws-cloudformation/rain/issues/163).
//   - AWS::Lambda::Function before its execution role: InvalidParameterValueException "The
//     role defined for the function cannot be assumed by Lambda."
//     (https://github.com/Pizzaface/Alexa-Chromecast-Skill-2.0/issues/9).
//   - AWS::Lambda::Permission before its function: ResourceNotFoundException "Function not
//     found: <function ARN>" (https://github.com/serverless/serverless/issues/4523).
//   - AWS::IAM::Policy (or a ManagedPolicy's Roles) before a role it names: NoSuchEntity "The
//     role with name <name> cannot be found." (PutRolePolicy, as the AWS CLI reports it); an
//     AWS::IAM::Role before a stack managed policy in its ManagedPolicyArns: NoSuchEntity
//     "Policy <arn> does not exist or is not attachable."
//     (https://github.com/aws-quickstart/quickstart-aws-biotech-blueprint-cdk/issues/37).
//   - API Gateway children before what they name by id (a route's Target integration,
//     AuthorizerId and RequestModels models, a route response's route, an integration
//     response's integration, any child's API): NotFoundException with the API reference's
//     description of it, "The resource specified in the request was not found.", followed by
//     the emulator's own detail. AWS's exact message for these was not found.
//
// Not modeled: AWS's check that a route has a RouteResponseSelectionExpression before it gets
// a route response (no AWS wording or documentation of such a refusal was found), resource
// types outside the lookups above (they get the generic dependency check only), and DynamoDB,
// whose tables in these templates name nothing.
package deploy
