// Package dynamostore is the DynamoDB implementation of chat.Store: one on-demand table in a
// single-table design, with a sparse global secondary index that lists a room's members.
//
// Items (the CDK construct hard-codes the same names):
//
//	connection  pk=CONN#<connectionId>  sk=CONN
//	            userId, displayName, connectedAt (epoch ms), expiresAt
//	membership  pk=CONN#<connectionId>  sk=ROOM#<roomId>
//	            gsi1pk=ROOM#<roomId>  gsi1sk=CONN#<connectionId>
//	            userId, displayName, joinedAt (epoch ms), expiresAt
//	rate limit  pk=CONN#<connectionId>  sk=RATE
//	            tokens (N, fractional), updatedAt (epoch ms), expiresAt (the connection's)
//	message     pk=ROOM#<roomId>  sk=MSG#<unix nanos of sentAt, 19 digits>#<messageId>
//	            messageId, userId, displayName, text, sentAt (epoch ms), expiresAt
//
// The rate limit bucket lives in the connection's partition, so DeleteConnection removes it
// with the rest and TTL removes it with its connection. It is the only item the Store writes
// with UpdateItem.
//
// expiresAt (epoch seconds) is the table's TTL attribute. TTL deletion lags, so readers treat an
// item whose expiresAt is not after now as absent. An item stored with a zero ExpiresAt has no
// expiresAt and never expires.
package dynamostore

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Attribute names.
const (
	// AttrPK is the table's partition key (S).
	AttrPK = "pk"
	// AttrSK is the table's sort key (S).
	AttrSK = "sk"
	// AttrGSI1PK is the partition key (S) of IndexByRoom; only memberships have it.
	AttrGSI1PK = "gsi1pk"
	// AttrGSI1SK is the sort key (S) of IndexByRoom.
	AttrGSI1SK = "gsi1sk"
	// AttrExpiresAt is the TTL attribute (N, epoch seconds).
	AttrExpiresAt = "expiresAt"
	// AttrUserID is the user's id (S).
	AttrUserID = "userId"
	// AttrDisplayName is the user's display name (S).
	AttrDisplayName = "displayName"
	// AttrConnectedAt is when a connection opened (N, epoch milliseconds).
	AttrConnectedAt = "connectedAt"
	// AttrJoinedAt is when a connection joined a room (N, epoch milliseconds).
	AttrJoinedAt = "joinedAt"
	// AttrMessageID is a message's id (S).
	AttrMessageID = "messageId"
	// AttrText is a message's text (S).
	AttrText = "text"
	// AttrSentAt is when a message was sent (N, epoch milliseconds; the exact time, to the
	// nanosecond, is in the sort key).
	AttrSentAt = "sentAt"
	// AttrTokens is the tokens left in a rate limit bucket (N, fractional) at AttrUpdatedAt.
	AttrTokens = "tokens"
	// AttrUpdatedAt is when a rate limit bucket last gave a token (N, epoch milliseconds).
	AttrUpdatedAt = "updatedAt"
)

// Index and key values.
const (
	// IndexByRoom is the global secondary index that lists a room's memberships.
	IndexByRoom = "byRoom"
	// PrefixConnection starts the partition key of connection and membership items and the
	// byRoom sort key.
	PrefixConnection = "CONN#"
	// PrefixRoom starts the partition key of message items, the sort key of memberships and
	// the byRoom partition key.
	PrefixRoom = "ROOM#"
	// PrefixMessage starts the sort key of message items.
	PrefixMessage = "MSG#"
	// SortKeyConnection is the sort key of a connection item.
	SortKeyConnection = "CONN"
	// SortKeyRate is the sort key of a connection's rate limit bucket.
	SortKeyRate = "RATE"
)

// ByRoomProjection returns the non-key attributes that IndexByRoom projects (INCLUDE).
func ByRoomProjection() []string {
	return []string{AttrUserID, AttrDisplayName, AttrExpiresAt, AttrJoinedAt}
}

// TableSchema returns the CreateTable input for the chat table: on-demand, pk/sk keys and the
// byRoom index. TTL cannot be set at creation: see EnableTTL.
func TableSchema(tableName string) *dynamodb.CreateTableInput {
	s := func(name string) types.AttributeDefinition {
		return types.AttributeDefinition{AttributeName: aws.String(name), AttributeType: types.ScalarAttributeTypeS}
	}
	return &dynamodb.CreateTableInput{
		TableName:            aws.String(tableName),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{s(AttrPK), s(AttrSK), s(AttrGSI1PK), s(AttrGSI1SK)},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(AttrPK), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(AttrSK), KeyType: types.KeyTypeRange},
		},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
			IndexName: aws.String(IndexByRoom),
			KeySchema: []types.KeySchemaElement{
				{AttributeName: aws.String(AttrGSI1PK), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String(AttrGSI1SK), KeyType: types.KeyTypeRange},
			},
			Projection: &types.Projection{
				ProjectionType:   types.ProjectionTypeInclude,
				NonKeyAttributes: ByRoomProjection(),
			},
		}},
	}
}

// EnableTTL turns on the table's time to live on AttrExpiresAt.
func EnableTTL(ctx context.Context, client *dynamodb.Client, table string) error {
	_, err := client.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName: aws.String(table),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{
			AttributeName: aws.String(AttrExpiresAt),
			Enabled:       aws.Bool(true),
		},
	})
	if err != nil {
		return fmt.Errorf("dynamostore: enable TTL on %s: %w", table, err)
	}
	return nil
}

// CreateTable creates the table from TableSchema, waits until it is active (up to two
// minutes) and enables TTL: what tests and the local emulator need.
func CreateTable(ctx context.Context, client *dynamodb.Client, table string) error {
	if _, err := client.CreateTable(ctx, TableSchema(table)); err != nil {
		return fmt.Errorf("dynamostore: create table %s: %w", table, err)
	}
	waiter := dynamodb.NewTableExistsWaiter(client, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay = 100 * time.Millisecond
		o.MaxDelay = 2 * time.Second
	})
	if err := waiter.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)}, 2*time.Minute); err != nil {
		return fmt.Errorf("dynamostore: wait for table %s: %w", table, err)
	}
	return EnableTTL(ctx, client, table)
}
