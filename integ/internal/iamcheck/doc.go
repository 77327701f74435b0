// Package iamcheck decides, as IAM does for identity-based policies, whether a role of the
// synthesized stack may perform an action on a resource, so the local emulator refuses what AWS
// would refuse.
//
// Evaluation follows IAM's rules for one account without boundaries or SCPs: a matching Deny
// wins, else a matching Allow allows, else the request is implicitly denied. Action and
// NotAction match case-insensitively with * and ? wildcards; Resource and NotResource match
// case-sensitively, ARN segment by segment as ArnLike does. Conditions and policy variables are
// not evaluated: a statement using them is skipped when it allows and applied when it denies
// (fail closed), and the Decision says so in its Notes. Of the AWS managed policies only
// AWSLambdaBasicExecutionRole, the one the stack attaches, is modeled.
//
// The package also maps requests to what IAM checks: DynamoDB JSON-protocol requests
// (DynamoDBChecks) and @connections calls (ConnectionsCheck); reads the access key id of a
// SigV4-signed request (ParseAuthorization, RequestCredential) so a proxy can tell which
// function made a call; and provides DynamoDBProxy, a reverse proxy that forwards only the
// requests the caller's role allows.
package iamcheck
