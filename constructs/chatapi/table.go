package chatapi

import (
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/jsii-runtime-go"
)

// The table layout the handlers use (lambdas/internal/dynamostore keeps the same names).
const (
	tablePartitionKey = "pk"
	tableSortKey      = "sk"
	tableTTLAttribute = "expiresAt"
	roomIndexName     = "byRoom"
	roomIndexPK       = "gsi1pk"
	roomIndexSK       = "gsi1sk"
)

// newTable makes the one table: connections (pk=CONN#id, sk=CONN), memberships (pk=CONN#id,
// sk=ROOM#room, indexed by room in byRoom so a broadcast queries one room, never scans), and
// messages (pk=ROOM#room, sk=MSG#time#id). On demand, TTL, point-in-time recovery, encrypted
// with the AWS managed key.
func newTable(c *webSocketChatApi, cfg settings) awsdynamodb.Table {
	t := awsdynamodb.NewTable(c.Construct, jsii.String("Table"), &awsdynamodb.TableProps{
		PartitionKey:        &awsdynamodb.Attribute{Name: jsii.String(tablePartitionKey), Type: awsdynamodb.AttributeType_STRING},
		SortKey:             &awsdynamodb.Attribute{Name: jsii.String(tableSortKey), Type: awsdynamodb.AttributeType_STRING},
		BillingMode:         awsdynamodb.BillingMode_PAY_PER_REQUEST,
		TimeToLiveAttribute: jsii.String(tableTTLAttribute),
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{
			PointInTimeRecoveryEnabled: jsii.Bool(true),
		},
		Encryption:         awsdynamodb.TableEncryption_AWS_MANAGED,
		RemovalPolicy:      cfg.tableRemoval,
		DeletionProtection: jsii.Bool(cfg.deletionProtection),
	})
	t.AddGlobalSecondaryIndex(&awsdynamodb.GlobalSecondaryIndexProps{
		IndexName:        jsii.String(roomIndexName),
		PartitionKey:     &awsdynamodb.Attribute{Name: jsii.String(roomIndexPK), Type: awsdynamodb.AttributeType_STRING},
		SortKey:          &awsdynamodb.Attribute{Name: jsii.String(roomIndexSK), Type: awsdynamodb.AttributeType_STRING},
		ProjectionType:   awsdynamodb.ProjectionType_INCLUDE,
		NonKeyAttributes: jsii.Strings("userId", "displayName", "expiresAt", "joinedAt"),
	})
	return t
}
