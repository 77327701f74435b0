package dynamostore

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// The chat table as DynamoDB holds it, read and written around the Store.

func TestTableSchema(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	desc, err := e.client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(e.table)})
	if err != nil {
		t.Fatal(err)
	}
	tbl := desc.Table
	if got := keyNames(tbl.KeySchema); got != "pk HASH, sk RANGE" {
		t.Errorf("table key = %s", got)
	}
	if tbl.BillingModeSummary == nil || tbl.BillingModeSummary.BillingMode != types.BillingModePayPerRequest {
		t.Errorf("billing mode = %+v, want PAY_PER_REQUEST", tbl.BillingModeSummary)
	}
	if len(tbl.GlobalSecondaryIndexes) != 2 {
		t.Fatalf("%d global secondary indexes, want 2", len(tbl.GlobalSecondaryIndexes))
	}
	want := map[string]string{
		"byRoom": "gsi1pk HASH, gsi1sk RANGE INCLUDE [displayName expiresAt joinedAt userId]",
		"byUser": "gsi2pk HASH, gsi2sk RANGE INCLUDE [expiresAt]",
	}
	for _, gsi := range tbl.GlobalSecondaryIndexes {
		proj := slices.Sorted(slices.Values(gsi.Projection.NonKeyAttributes))
		got := fmt.Sprintf("%s %s %v", keyNames(gsi.KeySchema), gsi.Projection.ProjectionType, proj)
		if name := aws.ToString(gsi.IndexName); got != want[name] {
			t.Errorf("index %s = %s, want %s", name, got, want[name])
		}
	}
	ttl, err := e.client.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(e.table)})
	if err != nil {
		t.Fatal(err)
	}
	if d := ttl.TimeToLiveDescription; d == nil || aws.ToString(d.AttributeName) != "expiresAt" ||
		d.TimeToLiveStatus != types.TimeToLiveStatusEnabled {
		t.Errorf("TTL = %+v, want enabled on expiresAt", d)
	}
}

func keyNames(ks []types.KeySchemaElement) string {
	var parts []string
	for _, k := range ks {
		parts = append(parts, aws.ToString(k.AttributeName)+" "+string(k.KeyType))
	}
	return strings.Join(parts, ", ")
}

// countPartition counts the items under a table partition key, expired ones included.
func countPartition(t *testing.T, e env, pk string) int {
	t.Helper()
	out, err := e.client.Query(context.Background(), &dynamodb.QueryInput{
		TableName:                 aws.String(e.table),
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: pk}},
		Select:                    types.SelectCount,
		ConsistentRead:            aws.Bool(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	return int(out.Count)
}

// rawItem returns the item of pk and sk as the table holds it (strongly consistent read), nil
// when there is none.
func rawItem(t *testing.T, e env, pk, sk string) map[string]types.AttributeValue {
	t.Helper()
	out, err := e.client.GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName:      aws.String(e.table),
		Key:            itemKey(pk, sk),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	return out.Item
}

// putRaw writes item to the table as it is, bypassing the Store.
func putRaw(t *testing.T, e env, item map[string]types.AttributeValue) {
	t.Helper()
	if _, err := e.client.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(e.table), Item: item}); err != nil {
		t.Fatal(err)
	}
}
