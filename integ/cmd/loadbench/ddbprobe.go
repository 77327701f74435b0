package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/chatstack/websocketchatapi/internal/contract"
)

// probePrefix starts the partition key of the probe's copies, apart from the chat's items.
const probePrefix = "LOADPROBE#"

// capacityRow is one request of a handler's code path and the capacity it consumed.
type capacityRow struct {
	request string
	units   float64 // RRU or WRU, as DynamoDB Local reported
	write   bool
	bytes   int // item size (per item for a Query), by DynamoDB's rules
	items   int // items a Query returned
	note    string
}

// item is a DynamoDB item.
type item = map[string]types.AttributeValue

// prober sends requests to the chat table with ReturnConsumedCapacity and keeps a row per
// request.
type prober struct {
	ctx    context.Context
	client *dynamodb.Client
	table  string
	rows   []capacityRow
}

// probeCapacity replays, against items that the load wrote (a connection, its rate bucket,
// its membership, a message), each request of the sendmessage path with
// ReturnConsumedCapacity, plus the writes of connect and joinroom, and reports what DynamoDB
// Local charged. Writes go to copies under a probe key and are deleted afterwards. Without a
// rate bucket in the table (the rate limit off), the bucket's requests are left out.
func probeCapacity(ctx context.Context, client *dynamodb.Client, table string) ([]capacityRow, error) {
	items, err := findItems(ctx, client, table)
	if err != nil {
		return nil, err
	}
	conn, rate, member, msg := items[contract.SortKeyConnection], items[contract.SortKeyRate], items[contract.PrefixRoom], items[contract.PrefixMessage]
	p := &prober{ctx: ctx, client: client, table: table}
	if err := p.get("GetItem connection (strongly consistent)", conn); err != nil {
		return nil, err
	}
	if rate != nil {
		if err := p.get("GetItem rate bucket (strongly consistent)", rate); err != nil {
			return nil, err
		}
	}
	if err := p.get("GetItem membership (strongly consistent)", member); err != nil {
		return nil, err
	}
	if err := p.queryRoom(member); err != nil {
		return nil, err
	}
	probed := map[string]item{"msg": msg, "conn": conn, "member": member}
	if err := p.put("PutItem message", msg, "msg"); err != nil {
		return nil, err
	}
	if err := p.put("PutItem connection ($connect)", conn, "conn"); err != nil {
		return nil, err
	}
	if err := p.put("PutItem membership (joinroom)", member, "member"); err != nil {
		return nil, err
	}
	if rate != nil {
		if err := p.updateRate(rate); err != nil {
			return nil, err
		}
		probed["rate"] = rate
	}
	for pk, src := range probed {
		_, err := client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(table), Key: probeKey(pk, src)})
		if err != nil {
			return nil, fmt.Errorf("probe clean-up: %w", err)
		}
	}
	return p.rows, nil
}

// probeKey is the key of the probe's copy of src under pk.
func probeKey(pk string, src item) item {
	return item{contract.AttrPK: &types.AttributeValueMemberS{Value: probePrefix + pk}, contract.AttrSK: src[contract.AttrSK]}
}

// get reads it again by its key, strongly consistent, and records the request as label.
func (p *prober) get(label string, it item) error {
	out, err := p.client.GetItem(p.ctx, &dynamodb.GetItemInput{
		TableName:              aws.String(p.table),
		Key:                    keyOf(it),
		ConsistentRead:         aws.Bool(true),
		ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
	})
	if err != nil {
		return fmt.Errorf("probe %s: %w", label, err)
	}
	p.rows = append(p.rows, capacityRow{request: label, units: units(out.ConsumedCapacity), bytes: itemSize(out.Item), items: 1})
	return nil
}

// queryRoom reads the room of member as Store.RoomMembers does: the byRoom index, eventually
// consistent, 100 per page.
func (p *prober) queryRoom(member item) error {
	q, err := p.client.Query(p.ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(p.table),
		IndexName:                 aws.String(contract.IndexByRoom),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": contract.AttrGSI1PK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": member[contract.AttrGSI1PK]},
		Limit:                     aws.Int32(100),
		ReturnConsumedCapacity:    types.ReturnConsumedCapacityTotal,
	})
	if err != nil {
		return fmt.Errorf("probe room query: %w", err)
	}
	per := 0
	for _, it := range q.Items {
		per += itemSize(it)
	}
	if len(q.Items) > 0 {
		per /= len(q.Items)
	}
	p.rows = append(p.rows, capacityRow{request: "Query byRoom index (eventually consistent)", units: units(q.ConsumedCapacity), bytes: per, items: len(q.Items),
		note: fmt.Sprintf("%d members, %d B per index item", len(q.Items), per)})
	return nil
}

// put writes a copy of it under the probe key pk; an empty label writes without recording.
func (p *prober) put(label string, it item, pk string) error {
	cp := maps.Clone(it)
	cp[contract.AttrPK] = &types.AttributeValueMemberS{Value: probePrefix + pk}
	out, err := p.client.PutItem(p.ctx, &dynamodb.PutItemInput{
		TableName:              aws.String(p.table),
		Item:                   cp,
		ReturnConsumedCapacity: types.ReturnConsumedCapacityIndexes,
	})
	if err != nil {
		return fmt.Errorf("probe write %s: %w", pk, err)
	}
	if label == "" {
		return nil
	}
	row := capacityRow{request: label, units: units(out.ConsumedCapacity), write: true, bytes: itemSize(cp), items: 1}
	if out.ConsumedCapacity != nil && len(out.ConsumedCapacity.GlobalSecondaryIndexes) > 0 {
		row.note = "includes the byRoom index write"
	}
	p.rows = append(p.rows, row)
	return nil
}

// updateRate writes a copy of the rate bucket under the probe key and updates it as
// TakeToken does (a conditional UpdateItem), recording the update's capacity.
func (p *prober) updateRate(rate item) error {
	if err := p.put("", rate, "rate"); err != nil {
		return err
	}
	up, err := p.client.UpdateItem(p.ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(p.table),
		Key:                       probeKey("rate", rate),
		UpdateExpression:          aws.String("SET #t = :t, #u = :u"),
		ConditionExpression:       aws.String("#t = :rt AND #u = :ru"),
		ExpressionAttributeNames:  map[string]string{"#t": contract.AttrTokens, "#u": contract.AttrUpdatedAt},
		ExpressionAttributeValues: map[string]types.AttributeValue{":t": &types.AttributeValueMemberN{Value: "18.5"}, ":u": &types.AttributeValueMemberN{Value: "1"}, ":rt": rate[contract.AttrTokens], ":ru": rate[contract.AttrUpdatedAt]},
		ReturnConsumedCapacity:    types.ReturnConsumedCapacityTotal,
	})
	if err != nil {
		return fmt.Errorf("probe rate bucket update: %w", err)
	}
	p.rows = append(p.rows, capacityRow{request: "UpdateItem rate bucket (conditional)", units: units(up.ConsumedCapacity), write: true, bytes: itemSize(rate), items: 1})
	return nil
}

// findItems scans the table for one item of each kind: a connection, a rate bucket, a
// membership and a message, keyed by contract.SortKeyConnection, contract.SortKeyRate,
// contract.PrefixRoom and contract.PrefixMessage. The connection, bucket and membership belong
// to the same connection when possible.
func findItems(ctx context.Context, client *dynamodb.Client, table string) (map[string]map[string]types.AttributeValue, error) {
	byConn := map[string]map[string]map[string]types.AttributeValue{}
	var msg map[string]types.AttributeValue
	in := &dynamodb.ScanInput{TableName: aws.String(table), Limit: aws.Int32(500)}
	for range 50 {
		out, err := client.Scan(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("probe: scan: %w", err)
		}
		for _, it := range out.Items {
			pk, sk := str(it[contract.AttrPK]), str(it[contract.AttrSK])
			var kind string
			switch {
			case strings.HasPrefix(sk, contract.PrefixMessage):
				if msg == nil {
					msg = it
				}
				continue
			case sk == contract.SortKeyConnection, sk == contract.SortKeyRate:
				kind = sk
			case strings.HasPrefix(sk, contract.PrefixRoom):
				kind = contract.PrefixRoom
			default:
				continue
			}
			if byConn[pk] == nil {
				byConn[pk] = map[string]map[string]types.AttributeValue{}
			}
			byConn[pk][kind] = it
			if c := byConn[pk]; msg != nil && c[contract.SortKeyConnection] != nil && c[contract.SortKeyRate] != nil && c[contract.PrefixRoom] != nil {
				return map[string]map[string]types.AttributeValue{contract.SortKeyConnection: c[contract.SortKeyConnection], contract.SortKeyRate: c[contract.SortKeyRate], contract.PrefixRoom: c[contract.PrefixRoom], contract.PrefixMessage: msg}, nil
			}
		}
		if len(out.LastEvaluatedKey) == 0 {
			break
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
	// No rate bucket anywhere: the stack runs without the rate limit.
	for _, c := range byConn {
		if msg != nil && c[contract.SortKeyConnection] != nil && c[contract.PrefixRoom] != nil {
			return map[string]map[string]types.AttributeValue{contract.SortKeyConnection: c[contract.SortKeyConnection], contract.PrefixRoom: c[contract.PrefixRoom], contract.PrefixMessage: msg}, nil
		}
	}
	return nil, errors.New("probe: found no connection with a membership, and no message (did any message get through?)")
}

// units returns the consumed capacity units, or 0.
func units(c *types.ConsumedCapacity) float64 {
	if c == nil || c.CapacityUnits == nil {
		return 0
	}
	return *c.CapacityUnits
}

// keyOf returns an item's primary key.
func keyOf(item map[string]types.AttributeValue) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{contract.AttrPK: item[contract.AttrPK], contract.AttrSK: item[contract.AttrSK]}
}

// str returns a string attribute's value, or "".
func str(v types.AttributeValue) string {
	if s, ok := v.(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}

// itemSize is an item's size as DynamoDB counts it: per attribute, the name's UTF-8 bytes plus
// the value's (a string its bytes, a number about one byte per two significant digits plus
// one).
func itemSize(item map[string]types.AttributeValue) int {
	n := 0
	for k, v := range item {
		n += len(k)
		switch v := v.(type) {
		case *types.AttributeValueMemberS:
			n += len(v.Value)
		case *types.AttributeValueMemberN:
			digits := len(strings.TrimLeft(strings.NewReplacer("-", "", ".", "").Replace(v.Value), "0"))
			n += (digits+1)/2 + 1
		case *types.AttributeValueMemberBOOL, *types.AttributeValueMemberNULL:
			n++
		case *types.AttributeValueMemberB:
			n += len(v.Value)
		default:
			n += 8 // not used by the chat table
		}
	}
	return n
}
