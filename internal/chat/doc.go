// Package chat is the chat domain: connecting, rooms, messages, history and the fan-out of a
// message to a room, behind two small interfaces: Store (DynamoDB in production) and Poster
// (API Gateway's @connections API). The Lambda handlers in lambdas/ only decode events and call
// it.
package chat
