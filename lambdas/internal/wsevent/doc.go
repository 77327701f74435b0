// Package wsevent is the glue between API Gateway WebSocket events (aws-lambda-go) and the
// chat.Service: the handlers of $connect, $disconnect, the chat actions and $default, the
// caller's identity from the authorizer context, the handlers' environment configuration and
// their JSON logging.
//
// One file per handler holds its configuration (a Config type and the Load function that reads
// it from the environment, with the variable names of internal/contract) and its handler type.
// The Lambda mains in lambdas/ only load a configuration, make the AWS clients and start one of
// these handlers.
package wsevent
