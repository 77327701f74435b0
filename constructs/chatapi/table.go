package chatapi

import (
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/chatstack/websocketchatapi/internal/contract"
)

// newTable makes the one table in the layout of internal/contract: connections (indexed by
// user), memberships (indexed by room, so a broadcast queries one room, never scans) and
// messages. On demand,
// TTL, point-in-time recovery, encrypted with the AWS managed key.
func newTable(scope constructs.Construct, cfg settings) awsdynamodb.Table {
	t := awsdynamodb.NewTable(scope, jsii.String("Table"), &awsdynamodb.TableProps{
		PartitionKey:        &awsdynamodb.Attribute{Name: jsii.String(contract.AttrPK), Type: awsdynamodb.AttributeType_STRING},
		SortKey:             &awsdynamodb.Attribute{Name: jsii.String(contract.AttrSK), Type: awsdynamodb.AttributeType_STRING},
		BillingMode:         awsdynamodb.BillingMode_PAY_PER_REQUEST,
		TimeToLiveAttribute: jsii.String(contract.AttrExpiresAt),
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{
			PointInTimeRecoveryEnabled: jsii.Bool(true),
		},
		Encryption:         awsdynamodb.TableEncryption_AWS_MANAGED,
		RemovalPolicy:      cfg.tableRemoval,
		DeletionProtection: jsii.Bool(cfg.deletionProtection),
	})
	t.AddGlobalSecondaryIndex(&awsdynamodb.GlobalSecondaryIndexProps{
		IndexName:        jsii.String(contract.IndexByRoom),
		PartitionKey:     &awsdynamodb.Attribute{Name: jsii.String(contract.AttrGSI1PK), Type: awsdynamodb.AttributeType_STRING},
		SortKey:          &awsdynamodb.Attribute{Name: jsii.String(contract.AttrGSI1SK), Type: awsdynamodb.AttributeType_STRING},
		ProjectionType:   awsdynamodb.ProjectionType_INCLUDE,
		NonKeyAttributes: jsii.Strings(contract.ByRoomProjection()...),
	})
	// A user's connections: a direct message or a publish to a user is a Query of the user,
	// never a Scan. CloudFormation adds one GSI per stack update; an existing table gets this
	// one as that one.
	t.AddGlobalSecondaryIndex(&awsdynamodb.GlobalSecondaryIndexProps{
		IndexName:        jsii.String(contract.IndexByUser),
		PartitionKey:     &awsdynamodb.Attribute{Name: jsii.String(contract.AttrGSI2PK), Type: awsdynamodb.AttributeType_STRING},
		SortKey:          &awsdynamodb.Attribute{Name: jsii.String(contract.AttrGSI2SK), Type: awsdynamodb.AttributeType_STRING},
		ProjectionType:   awsdynamodb.ProjectionType_INCLUDE,
		NonKeyAttributes: jsii.Strings(contract.ByUserProjection()...),
	})
	return t
}
