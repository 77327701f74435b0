// Package gateway emulates an API Gateway WebSocket API stage and its @connections management
// API, driven by the API model that package assembly reads from the synthesized template, so the
// handlers meet locally what they meet on AWS.
//
// A Gateway is an http.Handler. GET /<stage> with a WebSocket upgrade is a handshake:
//
//   - an AWS_IAM $connect is decided by Config.AuthorizeIAM (403 when unsigned or refused);
//   - the $connect route's REQUEST authorizer (if any) gets the event AWS sends it; a missing
//     identity source answers 401 without invoking it, an error "Unauthorized" 401, any other
//     function error 500, a policy that does not allow execute-api:Invoke on the method ARN (or
//     denies it) 403; an allowed connection carries principalId and the context as
//     requestContext.authorizer in every later event;
//   - the $connect integration then decides: a 2xx statusCode upgrades the connection (with the
//     response's headers, Sec-WebSocket-Protocol included, on the 101), anything else refuses it
//     with that status, a function error with 502;
//   - text messages are routed with the API's route selection expression (non-JSON or unmatched
//     go to $default), validated against the route's request model (draft-04, whose integers
//     have no fraction or exponent: 2.0 is not one) when the route has a model selection
//     expression, and passed to the route's Lambda integration, one at a time per connection; a
//     route with a route response sends the integration's body back, unless it is over 128 KB
//     (AWS's cap on every message it sends): then the client gets the Internal server error
//     frame and the log says why;
//   - a route with a MOCK integration invokes nothing: its static request template yields a
//     status code, which picks the integration response ($default, or a key /re/ matching the
//     whole code), whose static template goes back when the route has a route response (an
//     empty or missing template sends nothing, nor does a one-way route); a configuration
//     AWS would fail at run time (no request template, no integration response matching)
//     gets the Internal server error frame and the log names AWS's error; templates with
//     Velocity markup are refused when the assembly is loaded (see assembly.Mock);
//   - binary frames close with 1003, frames over 32 KB and messages over 128 KB with 1009, an
//     idle connection (IdleTimeout) and an old one (MaxConnectionDuration) with 1001; every close
//     runs $disconnect once, best effort;
//   - Drop cuts a connection as a lost network does (the TCP connection closes, no close
//     frame), and $disconnect runs with 1006; Connections lists the open connections' ids.
//
// /<stage>/@connections/<id> answers POST (send a text frame), GET (connection info) and DELETE
// (close), with 410 GoneException for a connection that is unknown, closed or still in its
// $connect, as the aws-sdk-go-v2 apigatewaymanagementapi client expects.
//
// The frames API Gateway itself sends (the first three byte for byte as AWS clients record them;
// the last with the documented keys, spelled like the others):
//
//	{"message": "Forbidden", "connectionId":"<id>", "requestId":"<id>"}                   no route
//	{"message": "Internal server error", "connectionId":"<id>", "requestId":"<id>"}       function error
//	{"message": "Endpoint request timed out", "connectionId":"<id>", "requestId":"<id>"}  integration timeout
//	{"message": "Bad request body", "connectionId":"<id>", "messageId":"<id>"}            model validation
//
// Where the shapes come from: the four frames and the $disconnect headers and reasons
// ("Going away", "Client-side close frame status not set", "Connection Closed Normally") as
// clients and Lambda logs record them from AWS; "Bad request body" with messageId as the API
// Gateway developer guide documents it; 502 for a $connect function error as observed with
// wscat; the @connections errors as the aws-sdk-go-v2 client (restJson1, x-amzn-ErrorType) reads
// them, with GoneException's body {} (AWS sends no message: boto3 prints an empty one).
//
// Known differences from AWS:
//   - messages of one connection are integrated one at a time, in order (AWS runs them
//     concurrently); different connections run concurrently; a MOCK route's message is
//     answered at once, never behind the connection's invocations;
//   - header names reach the functions in Go's canonical form (X-Api-Key), except the
//     Sec-WebSocket-* family, spelled as clients send it; AWS keeps the client's spelling;
//   - AWS_IAM authorization on $connect refuses an unsigned handshake with 403 and hands a
//     signed one to Config.AuthorizeIAM (package local verifies the SigV4 signature, header or
//     presigned URL, and evaluates execute-api:Invoke on the method ARN against the
//     identity-based policies of the stack role whose session signed it, with iamcheck); the
//     caller reaches every event as requestContext.identity (accountId, caller, user, userArn,
//     accessKey). Resource policies, SCPs, permissions boundaries, conditions and callers
//     outside the stack's roles are not evaluated, and the refusals' bodies follow REST APIs'
//     (AWS documents none for WebSocket handshakes); a route's required request parameters are not
//     checked; stage and route throttling are not emulated;
//   - API keys (Config.UsagePlans): a route with ApiKeyRequired takes the key the API's key
//     selection expression names (the x-api-key header of the handshake, or the authorizer's
//     usageIdentifierKey, from its output or else its context) after the authorizer; a
//     missing, unknown or disabled key, or one in no usage plan of the stage, answers 403
//     {"message":"Forbidden"}, a spent quota 429 {"message":"Limit Exceeded"}, an empty
//     rate/burst bucket 429 {"message":"Too Many Requests"} (REST APIs' answers, which AWS does
//     not document for WebSocket handshakes); a message route that requires a key charges the
//     connection's key and answers those messages in the frame of the other gateway errors;
//     counters live in memory per key (AWS's are eventually consistent and shared), quota
//     periods start at 00:00 UTC and Quota.Offset is ignored;
//   - only AWS_PROXY integrations to the stack's functions and static MOCK integrations run; a
//     route without integration accepts and answers nothing, as do $connect and $disconnect
//     with a MOCK one; any other integration fails like a function;
//   - the reasons of the 1003 and 1009 closes and of abnormal ends (1006) are this package's own
//     (the codes are AWS's); the idle timer and lastActiveAt count client messages only;
//   - authorizer context values reach later events stringified (as REST APIs pass them) and a
//     null value is dropped; the authorizer map has no integrationLatency.
package gateway
