// Package local runs a synthesized chat stack on this machine, for real: the cloud assembly
// that the reference app synthesizes (Synth) is loaded and each of its parts runs locally
// (Start):
//
//   - first, CloudFormation's deploy order: the template is created on paper in the orders
//     package deploy draws (the adversarial one and a random one), and what API Gateway,
//     Lambda or IAM would refuse at that moment fails Start, as the deploy would fail on AWS;
//   - DynamoDB Local with every table of the template (key schema, indexes, TTL);
//   - an IAM-checking proxy in front of it: every function signs its calls with an access key
//     of its own, mapped to its execution role's policies, so a missing grant fails as on AWS;
//   - SQS queues on a local SQS server (goaws, package sqslocal) behind an IAM-checking proxy,
//     and a Lambda-like poller per SQS event source mapping;
//   - every Lambda function of the template on the Lambda Runtime API emulator, running the
//     very bootstrap of its asset folder (an arm64 one through qemu-user on other hosts) with
//     the template's environment;
//   - a local OIDC issuer standing in for Cognito, whose tokens the real authorizer accepts;
//   - the WebSocket API (routes, authorizer, models, route responses, limits) and its
//     @connections endpoint on one loopback listener, with @connections calls checked against
//     the caller's role.
//
// The differences from AWS are listed on Start; integ/cmd/localchat is the command for people,
// integ/cmd/loadbench measures the stack under load.
package local
