package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/chatstack/websocketchatapi/internal/chat"
	"github.com/chatstack/websocketchatapi/internal/contract"
)

// AddPresence adds the connection to the string set of its user's connections in the room
// (pk=ROOM#<room>, sk=USER#<user>) and sets the record's display name. Every step is one conditional UpdateItem, which DynamoDB
// applies atomically:
//
//  1. start the record afresh with this connection, if it is absent, expired or empty: the
//     user is new to the room;
//  2. else ADD the connection and raise the record's expiry to the connection's, if that is
//     later (the record expires with the user's latest connection, never earlier);
//  3. else ADD the connection alone.
//
// In 2 and 3 the set as it was says whether the user was present: a concurrent leave may
// have emptied it since step 1.
func (s *Store) AddPresence(ctx context.Context, p chat.Presence) (bool, error) {
	if p.RoomID == "" || p.UserID == "" || p.ConnectionID == "" || p.ExpiresAt.IsZero() {
		return false, fmt.Errorf("dynamostore: add presence %+v: empty id or expiry", p)
	}
	key := itemKey(contract.PrefixRoom+p.RoomID, contract.PrefixUser+p.UserID)
	_, err := s.updatePresence(ctx, key, p, "SET #c = :c, #e = :e, #d = :d",
		"attribute_not_exists(#pk) OR attribute_not_exists(#c) OR #e <= :now")
	if err == nil {
		return true, nil
	}
	if conditionFailed(err) {
		var old map[string]types.AttributeValue
		old, err = s.updatePresence(ctx, key, p, "ADD #c :c SET #e = :e, #d = :d", "#e < :e")
		if conditionFailed(err) {
			old, err = s.updatePresence(ctx, key, p, "ADD #c :c SET #d = :d", "")
		}
		if err == nil {
			return len(connectionSet(old)) == 0, nil
		}
	}
	return false, fmt.Errorf("dynamostore: add presence of %s in room %s: %w", p.ConnectionID, p.RoomID, err)
}

// RemovePresence deletes the connection from its user's set in the room, on the condition
// that the set holds it, and reads the set as it was: the user left when that was exactly
// this connection of a live record. A connection not in the set (removed already, or never
// added) changes nothing and is not the last, so that two removals of one connection tell
// the room once.
func (s *Store) RemovePresence(ctx context.Context, roomID, userID, connectionID string) (bool, error) {
	out, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.table),
		Key:                       itemKey(contract.PrefixRoom+roomID, contract.PrefixUser+userID),
		UpdateExpression:          aws.String("DELETE #c :c"),
		ConditionExpression:       aws.String("contains(#c, :id)"),
		ExpressionAttributeNames:  map[string]string{"#c": contract.AttrConnections},
		ExpressionAttributeValues: map[string]types.AttributeValue{":c": connections(connectionID), ":id": str(connectionID)},
		ReturnValues:              types.ReturnValueAllOld,
		ReturnConsumedCapacity:    types.ReturnConsumedCapacityTotal,
	})
	if conditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("dynamostore: remove presence of %s in room %s: %w", connectionID, roomID, err)
	}
	s.consumedWrite.addFrom(out.ConsumedCapacity)
	old := connectionSet(out.Attributes)
	return len(old) == 1 && old[0] == connectionID && s.live(out.Attributes), nil
}

// updatePresence runs one UpdateItem of a presence record, under cond unless it is "", and
// returns the record as it was. expr and cond may use #c (the connections), #e (the expiry),
// #pk, #d (the user's display name), :c (this connection as a set), :d (the Presence's display
// name), :e (its expiry) and :now (the Store's clock); only the
// placeholders they use are sent, as DynamoDB requires.
func (s *Store) updatePresence(ctx context.Context, key map[string]types.AttributeValue, p chat.Presence, expr, cond string) (map[string]types.AttributeValue, error) {
	uses := func(ref string) bool { return strings.Contains(expr, ref) || strings.Contains(cond, ref) }
	names := map[string]string{"#c": contract.AttrConnections}
	values := map[string]types.AttributeValue{":c": connections(p.ConnectionID)}
	if uses("#e") {
		names["#e"] = contract.AttrExpiresAt
	}
	if uses("#pk") {
		names["#pk"] = contract.AttrPK
	}
	if uses("#d") {
		names["#d"] = contract.AttrDisplayName
		values[":d"] = str(p.DisplayName)
	}
	if uses(":e") {
		putSeconds(values, ":e", p.ExpiresAt)
	}
	if uses(":now") {
		putSeconds(values, ":now", s.now())
	}
	in := &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.table),
		Key:                       key,
		UpdateExpression:          aws.String(expr),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
		ReturnValues:              types.ReturnValueAllOld,
		ReturnConsumedCapacity:    types.ReturnConsumedCapacityTotal,
	}
	if cond != "" {
		in.ConditionExpression = aws.String(cond)
	}
	out, err := s.client.UpdateItem(ctx, in)
	if err != nil {
		return nil, err
	}
	s.consumedWrite.addFrom(out.ConsumedCapacity)
	return out.Attributes, nil
}

// connections is a string set of one connection id.
func connections(id string) types.AttributeValue {
	return &types.AttributeValueMemberSS{Value: []string{id}}
}

// connectionSet returns the connections attribute of a presence record.
func connectionSet(item map[string]types.AttributeValue) []string {
	if ss, ok := item[contract.AttrConnections].(*types.AttributeValueMemberSS); ok {
		return ss.Value
	}
	return nil
}

// conditionFailed reports whether err is a failed condition of a single-item write.
func conditionFailed(err error) bool {
	var failed *types.ConditionalCheckFailedException
	return errors.As(err, &failed)
}
