package dynamostore

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/chatstack/websocketchatapi/internal/contract"
	"github.com/chatstack/websocketchatapi/lambdas/internal/chat"
)

// AddPresence adds the connection to the string set of its user's connections in the room
// (pk=ROOM#<room>, sk=USER#<user>) in one UpdateItem, which DynamoDB applies atomically, and
// reads the set as it was: the user is new to the room when it was empty, absent or expired.
// An expired record's set is replaced by this connection alone, so that connections that
// vanished without $disconnect do not keep the user present.
func (s *Store) AddPresence(ctx context.Context, p chat.Presence) (bool, error) {
	if p.RoomID == "" || p.UserID == "" || p.ConnectionID == "" {
		return false, fmt.Errorf("dynamostore: add presence %+v: empty id", p)
	}
	key := itemKey(contract.PrefixRoom+p.RoomID, contract.PrefixUser+p.UserID)
	old, err := s.updatePresence(ctx, key, "ADD #c :c SET #e = :e", types.ReturnValueAllOld, p)
	if err != nil {
		return false, fmt.Errorf("dynamostore: add presence of %s in room %s: %w", p.ConnectionID, p.RoomID, err)
	}
	if len(old) == 0 {
		return true, nil
	}
	if s.live(old) {
		return len(connectionSet(old)) == 0, nil
	}
	// The record had expired: start it again from this connection.
	_, err = s.updatePresence(ctx, key, "SET #c = :c, #e = :e", types.ReturnValueNone, p)
	if err != nil {
		return false, fmt.Errorf("dynamostore: renew presence of %s in room %s: %w", p.ConnectionID, p.RoomID, err)
	}
	return true, nil
}

// RemovePresence deletes the connection from its user's set in the room in one UpdateItem and
// reads the set as it is after: the user left when it is empty (DynamoDB drops an emptied
// set). The update is conditional on the record existing, so that it never creates one; a
// missing record counts as left.
func (s *Store) RemovePresence(ctx context.Context, roomID, userID, connectionID string) (bool, error) {
	out, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.table),
		Key:                       itemKey(contract.PrefixRoom+roomID, contract.PrefixUser+userID),
		UpdateExpression:          aws.String("DELETE #c :c"),
		ConditionExpression:       aws.String("attribute_exists(#pk)"),
		ExpressionAttributeNames:  map[string]string{"#c": contract.AttrConnections, "#pk": contract.AttrPK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":c": &types.AttributeValueMemberSS{Value: []string{connectionID}}},
		ReturnValues:              types.ReturnValueAllNew,
		ReturnConsumedCapacity:    types.ReturnConsumedCapacityTotal,
	})
	var failed *types.ConditionalCheckFailedException
	if errors.As(err, &failed) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("dynamostore: remove presence of %s in room %s: %w", connectionID, roomID, err)
	}
	s.consumedWrite.addFrom(out.ConsumedCapacity)
	return len(connectionSet(out.Attributes)) == 0 || !s.live(out.Attributes), nil
}

// updatePresence runs one UpdateItem of a presence record with #c the connections, #e the
// expiry, :c this connection (as a set) and :e its expiry.
func (s *Store) updatePresence(ctx context.Context, key map[string]types.AttributeValue, expr string, rv types.ReturnValue, p chat.Presence) (map[string]types.AttributeValue, error) {
	exp := map[string]types.AttributeValue{}
	putSeconds(exp, ":e", p.ExpiresAt)
	if len(exp) == 0 {
		return nil, errors.New("presence without an expiry")
	}
	exp[":c"] = &types.AttributeValueMemberSS{Value: []string{p.ConnectionID}}
	out, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.table),
		Key:                       key,
		UpdateExpression:          aws.String(expr),
		ExpressionAttributeNames:  map[string]string{"#c": contract.AttrConnections, "#e": contract.AttrExpiresAt},
		ExpressionAttributeValues: exp,
		ReturnValues:              rv,
		ReturnConsumedCapacity:    types.ReturnConsumedCapacityTotal,
	})
	if err != nil {
		return nil, err
	}
	s.consumedWrite.addFrom(out.ConsumedCapacity)
	return out.Attributes, nil
}

// connectionSet returns the connections attribute of a presence record.
func connectionSet(item map[string]types.AttributeValue) []string {
	if ss, ok := item[contract.AttrConnections].(*types.AttributeValueMemberSS); ok {
		return ss.Value
	}
	return nil
}
