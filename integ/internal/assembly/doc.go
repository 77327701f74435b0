// Package assembly loads a CDK cloud assembly (the cdk.out directory that `cdk synth` writes) and
// turns each CloudFormation stack in it into a typed model whose values are resolved against
// local stand-ins: the emulator runs what the assembly describes, never a hand-written copy.
//
// Load reads manifest.json, the stack templates and the asset manifests; LoadTemplate reads a
// lone template (no assets). Both evaluate the template's intrinsic functions (Ref, Fn::GetAtt,
// Fn::Join, Fn::Sub, Fn::Select, Fn::Split, Fn::If and the condition functions, Fn::FindInMap,
// Fn::GetAZs, Fn::Base64) with a Resolver that gives every resource a deterministic local
// physical id (see Resolver.PhysicalID for the naming rules) and builds ARNs in the formats AWS
// uses. An intrinsic it does not know, or a reference it cannot resolve, is an error that names
// the logical id and the path in the template.
//
// The model covers what the emulator needs: the WebSocket API (stages, routes, integrations,
// models, route responses, authorizers), its API keys and usage plans (the v1
// AWS::ApiGateway::ApiKey, UsagePlan and UsagePlanKey that WebSocket APIs use), Lambda functions (with their asset folders) and their
// permissions, DynamoDB tables (with a CreateTableInput helper), and IAM roles with every policy
// statement attached to them.
package assembly
