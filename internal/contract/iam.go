package contract

// The IAM actions that package publish (and the publish function, which runs it) calls, written
// once: the construct's GrantPublish grants exactly these, and the handler side checks its
// calls against them.
//
// There is no dynamodb:TransactWriteItems action in IAM: each item of a transaction is
// authorized by the action of its kind (Put: dynamodb:PutItem, Update: dynamodb:UpdateItem,
// Delete: dynamodb:DeleteItem, ConditionCheck: dynamodb:ConditionCheckItem), as AWS's "Using
// IAM with DynamoDB transactions" says. Likewise SendMessageBatch is authorized by
// sqs:SendMessage.

// PublisherTableActions returns the DynamoDB actions a publisher calls on the chat table itself
// (its ARN, no index), sorted:
//   - GetItem: a room's head and a connection or user item;
//   - PutItem, UpdateItem, ConditionCheckItem: a stored message is appended in one transaction
//     (the message's Put, the room head's Update, conditions);
//   - Query, DeleteItem, BatchWriteItem: the 410 cleanup reads a gone connection's items (its
//     partition) and deletes them;
//   - UpdateItem also: the gone connection's presence in each of its rooms.
//
// No Scan, no BatchGetItem, nothing on another table.
func PublisherTableActions() []string {
	return []string{
		"dynamodb:BatchWriteItem",
		"dynamodb:ConditionCheckItem",
		"dynamodb:DeleteItem",
		"dynamodb:GetItem",
		"dynamodb:PutItem",
		"dynamodb:Query",
		"dynamodb:UpdateItem",
	}
}

// PublisherIndexes returns the indexes a publisher queries: [IndexByRoom] (a room's members,
// shard by shard) and [IndexByUser] (a user's connections).
func PublisherIndexes() []string {
	return []string{IndexByRoom, IndexByUser}
}

// PublisherIndexActions returns the DynamoDB actions a publisher calls on each of
// [PublisherIndexes] (the index's ARN, table/<name>/index/<index>).
func PublisherIndexActions() []string {
	return []string{"dynamodb:Query"}
}

// PublisherQueueActions returns the SQS actions a publisher calls on the publish queue: it
// queues a large room's fan-out shards, and the continuation of a shard it could not finish.
// It knows the queue's URL ([EnvPublisherQueueURL]), so it needs neither GetQueueUrl nor
// GetQueueAttributes.
func PublisherQueueActions() []string {
	return []string{"sqs:SendMessage"}
}

// PublisherConnectionsActions returns the API Gateway actions a publisher calls: posts to the
// stage's @connections (POST only: a gone connection's 410 is cleaned up in the table, never
// with a DELETE to the API).
func PublisherConnectionsActions() []string {
	return []string{"execute-api:ManageConnections"}
}
