package dynamostore

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/chatstack/websocketchatapi/internal/contract"
)

// TableSchema returns the CreateTable input for the chat table: on-demand, pk/sk keys and the
// byRoom index. TTL cannot be set at creation: see EnableTTL.
func TableSchema(tableName string) *dynamodb.CreateTableInput {
	s := func(name string) types.AttributeDefinition {
		return types.AttributeDefinition{AttributeName: aws.String(name), AttributeType: types.ScalarAttributeTypeS}
	}
	return &dynamodb.CreateTableInput{
		TableName:            aws.String(tableName),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{s(contract.AttrPK), s(contract.AttrSK), s(contract.AttrGSI1PK), s(contract.AttrGSI1SK)},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(contract.AttrPK), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(contract.AttrSK), KeyType: types.KeyTypeRange},
		},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
			IndexName: aws.String(contract.IndexByRoom),
			KeySchema: []types.KeySchemaElement{
				{AttributeName: aws.String(contract.AttrGSI1PK), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String(contract.AttrGSI1SK), KeyType: types.KeyTypeRange},
			},
			Projection: &types.Projection{
				ProjectionType:   types.ProjectionTypeInclude,
				NonKeyAttributes: contract.ByRoomProjection(),
			},
		}},
	}
}

// EnableTTL turns on the table's time to live on [contract.AttrExpiresAt].
func EnableTTL(ctx context.Context, client *dynamodb.Client, table string) error {
	_, err := client.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName: aws.String(table),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{
			AttributeName: aws.String(contract.AttrExpiresAt),
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
