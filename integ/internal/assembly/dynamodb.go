package assembly

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// CreateTableInput returns the CreateTable request that makes this table locally: name, key
// schema, attribute definitions, billing mode (with throughput when provisioned), secondary
// indexes and stream. TTL is a separate call (TimeToLiveInput); encryption, point-in-time
// recovery, deletion protection and tags have no local effect and are left out.
func (t *Table) CreateTableInput() *dynamodb.CreateTableInput {
	in := &dynamodb.CreateTableInput{
		TableName:   aws.String(t.Name),
		KeySchema:   keySchema(t.KeySchema),
		BillingMode: types.BillingMode(t.BillingMode),
	}
	for _, a := range t.Attributes {
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{
			AttributeName: aws.String(a.Name),
			AttributeType: types.ScalarAttributeType(a.Type),
		})
	}
	provisioned := in.BillingMode == types.BillingModeProvisioned
	if provisioned {
		in.ProvisionedThroughput = throughput(t.ReadCapacity, t.WriteCapacity)
	}
	for _, ix := range t.GlobalIndexes {
		g := types.GlobalSecondaryIndex{
			IndexName:  aws.String(ix.Name),
			KeySchema:  keySchema(ix.KeySchema),
			Projection: projection(ix),
		}
		if provisioned {
			g.ProvisionedThroughput = throughput(ix.ReadCapacity, ix.WriteCapacity)
		}
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, g)
	}
	for _, ix := range t.LocalIndexes {
		in.LocalSecondaryIndexes = append(in.LocalSecondaryIndexes, types.LocalSecondaryIndex{
			IndexName:  aws.String(ix.Name),
			KeySchema:  keySchema(ix.KeySchema),
			Projection: projection(ix),
		})
	}
	if t.StreamViewType != "" {
		in.StreamSpecification = &types.StreamSpecification{
			StreamEnabled:  aws.Bool(true),
			StreamViewType: types.StreamViewType(t.StreamViewType),
		}
	}
	return in
}

// TimeToLiveInput returns the UpdateTimeToLive request that enables the table's TTL attribute,
// or nil when TTL is off.
func (t *Table) TimeToLiveInput() *dynamodb.UpdateTimeToLiveInput {
	if t.TTLAttribute == "" {
		return nil
	}
	return &dynamodb.UpdateTimeToLiveInput{
		TableName: aws.String(t.Name),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{
			AttributeName: aws.String(t.TTLAttribute),
			Enabled:       aws.Bool(true),
		},
	}
}

// keySchema converts a key schema.
func keySchema(in []KeyElement) []types.KeySchemaElement {
	out := make([]types.KeySchemaElement, 0, len(in))
	for _, k := range in {
		out = append(out, types.KeySchemaElement{AttributeName: aws.String(k.Name), KeyType: types.KeyType(k.Type)})
	}
	return out
}

// projection converts an index projection (ALL when unset, as DynamoDB requires one).
func projection(ix Index) *types.Projection {
	p := &types.Projection{ProjectionType: types.ProjectionType(ix.ProjectionType)}
	if p.ProjectionType == "" {
		p.ProjectionType = types.ProjectionTypeAll
	}
	if len(ix.NonKeyAttributes) > 0 {
		p.NonKeyAttributes = append([]string(nil), ix.NonKeyAttributes...)
	}
	return p
}

// throughput builds a ProvisionedThroughput, with 1/1 for missing values.
func throughput(read, write int64) *types.ProvisionedThroughput {
	if read <= 0 {
		read = 1
	}
	if write <= 0 {
		write = 1
	}
	return &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(read), WriteCapacityUnits: aws.Int64(write)}
}
