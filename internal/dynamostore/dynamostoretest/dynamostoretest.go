// Package dynamostoretest makes chat tables in DynamoDB Local (package ddblocal) for tests: the
// table the construct declares, laid out as internal/contract describes.
package dynamostoretest

import (
	"context"
	"fmt"
	"regexp"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/chatstack/websocketchatapi/internal/contract"
	"github.com/chatstack/websocketchatapi/internal/ddblocal"
	"github.com/chatstack/websocketchatapi/internal/ddblocal/ddblocaltest"
)

// TableSchema returns the CreateTable input for the chat table: on-demand, keys
// [contract.AttrPK] and [contract.AttrSK], and the [contract.IndexByRoom] and [contract.IndexByUser] indexes. TTL cannot be
// set at creation: CreateTable enables it.
func TableSchema(tableName string) *dynamodb.CreateTableInput {
	s := func(name string) types.AttributeDefinition {
		return types.AttributeDefinition{AttributeName: aws.String(name), AttributeType: types.ScalarAttributeTypeS}
	}
	key := func(hash, sort string) []types.KeySchemaElement {
		return []types.KeySchemaElement{
			{AttributeName: aws.String(hash), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(sort), KeyType: types.KeyTypeRange},
		}
	}
	return &dynamodb.CreateTableInput{
		TableName:            aws.String(tableName),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{s(contract.AttrPK), s(contract.AttrSK), s(contract.AttrGSI1PK), s(contract.AttrGSI1SK), s(contract.AttrGSI2PK), s(contract.AttrGSI2SK)},
		KeySchema:            key(contract.AttrPK, contract.AttrSK),
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
			IndexName: aws.String(contract.IndexByRoom),
			KeySchema: key(contract.AttrGSI1PK, contract.AttrGSI1SK),
			Projection: &types.Projection{
				ProjectionType:   types.ProjectionTypeInclude,
				NonKeyAttributes: contract.ByRoomProjection(),
			},
		}, {
			IndexName: aws.String(contract.IndexByUser),
			KeySchema: key(contract.AttrGSI2PK, contract.AttrGSI2SK),
			Projection: &types.Projection{
				ProjectionType:   types.ProjectionTypeInclude,
				NonKeyAttributes: contract.ByUserProjection(),
			},
		}},
	}
}

// CreateTable creates the table from TableSchema, waits until it is active (up to two
// minutes) and enables its time to live on [contract.AttrExpiresAt].
func CreateTable(ctx context.Context, client *dynamodb.Client, table string) error {
	if _, err := client.CreateTable(ctx, TableSchema(table)); err != nil {
		return fmt.Errorf("dynamostoretest: create table %s: %w", table, err)
	}
	waiter := dynamodb.NewTableExistsWaiter(client, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay = 100 * time.Millisecond
		o.MaxDelay = 2 * time.Second
	})
	if err := waiter.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)}, 2*time.Minute); err != nil {
		return fmt.Errorf("dynamostoretest: wait for table %s: %w", table, err)
	}
	_, err := client.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName: aws.String(table),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{
			AttributeName: aws.String(contract.AttrExpiresAt),
			Enabled:       aws.Bool(true),
		},
	})
	if err != nil {
		return fmt.Errorf("dynamostoretest: enable TTL on %s: %w", table, err)
	}
	return nil
}

// tableSeq makes table names unique within a test binary.
var tableSeq atomic.Int64

// notInTableName matches what a DynamoDB table name may not hold.
var notInTableName = regexp.MustCompile(`[^a-zA-Z0-9_.-]+`)

// NewTable creates a chat table of t's own (CreateTable) in the test process's DynamoDB Local
// (ddblocaltest.Endpoint) and returns a client of the emulator and the table's name, which
// starts with t's name.
func NewTable(t testing.TB) (*dynamodb.Client, string) {
	t.Helper()
	ctx := context.Background()
	client, err := ddblocal.NewClient(ddblocaltest.Endpoint(t))
	if err != nil {
		t.Fatal(err)
	}
	name := notInTableName.ReplaceAllString(t.Name(), "-")
	table := fmt.Sprintf("%.180s-%d-%d", name, time.Now().UnixNano(), tableSeq.Add(1))
	if err := CreateTable(ctx, client, table); err != nil {
		t.Fatal(err)
	}
	return client, table
}
