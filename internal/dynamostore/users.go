package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/chatstack/websocketchatapi/internal/chat"
	"github.com/chatstack/websocketchatapi/internal/contract"
)

// ShardMembers reads one page of a shard of the room from the byRoom index. The cursor is the
// last connection id of the previous page: the index's start key is rebuilt from it.
func (s *Store) ShardMembers(ctx context.Context, roomID string, shard int, cursor string, limit int) (_ []chat.Membership, next string, err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("dynamostore: room %s shard %d members: %w", roomID, shard, err)
		}
	}()
	if shard < 0 || shard >= contract.RoomShards || limit <= 0 {
		return nil, "", fmt.Errorf("shard %d of %d, limit %d: out of range", shard, contract.RoomShards, limit)
	}
	in := s.shardQuery(roomID, shard, limit)
	if cursor != "" {
		in.ExclusiveStartKey = map[string]types.AttributeValue{
			contract.AttrGSI1PK: str(contract.RoomShardKey(roomID, shard)),
			contract.AttrGSI1SK: str(contract.PrefixConnection + cursor),
			contract.AttrPK:     str(contract.PrefixConnection + cursor),
			contract.AttrSK:     str(contract.PrefixRoom + roomID),
		}
	}
	out, err := s.client.Query(ctx, in)
	if err != nil {
		return nil, "", err
	}
	s.consumedRead.addFrom(out.ConsumedCapacity)
	page, err := s.liveMemberships(out.Items)
	if err != nil {
		return nil, "", err
	}
	if len(out.LastEvaluatedKey) > 0 {
		d := decoder{item: out.LastEvaluatedKey}
		next = strings.TrimPrefix(d.str(contract.AttrPK), contract.PrefixConnection)
		if d.err != nil || next == "" {
			return nil, "", fmt.Errorf("unreadable LastEvaluatedKey: %v", d.err)
		}
	}
	return page, next, nil
}

// RoomUsers reads the room's presence records (pk=ROOM#<room>, sk=USER#<user>) with a Query
// of limit items; the cursor is the last user id of the previous page. Records past their
// expiry, or with no connection left, are left out, so a page may hold fewer than limit users
// and still have a next cursor.
func (s *Store) RoomUsers(ctx context.Context, roomID, cursor string, limit int) (_ []chat.RoomUser, next string, err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("dynamostore: users of room %s: %w", roomID, err)
		}
	}()
	if limit <= 0 {
		return nil, "", fmt.Errorf("limit %d, want > 0", limit)
	}
	in := s.partitionQuery(contract.PrefixRoom+roomID, contract.PrefixUser)
	in.Limit = aws.Int32(int32(min(limit, math.MaxInt32)))
	if cursor != "" {
		in.ExclusiveStartKey = itemKey(contract.PrefixRoom+roomID, contract.PrefixUser+cursor)
	}
	out, err := s.client.Query(ctx, in)
	if err != nil {
		return nil, "", err
	}
	s.consumedRead.addFrom(out.ConsumedCapacity)
	users := make([]chat.RoomUser, 0, len(out.Items))
	for _, item := range out.Items {
		conns := connectionSet(item)
		if !s.live(item) || len(conns) == 0 {
			continue
		}
		d := decoder{item: item}
		u := chat.RoomUser{
			UserID:      strings.TrimPrefix(d.str(contract.AttrSK), contract.PrefixUser),
			DisplayName: d.str(contract.AttrDisplayName),
			Connections: len(conns),
		}
		if d.err != nil {
			return nil, "", d.err
		}
		users = append(users, u)
	}
	if len(out.LastEvaluatedKey) > 0 {
		d := decoder{item: out.LastEvaluatedKey}
		next = strings.TrimPrefix(d.str(contract.AttrSK), contract.PrefixUser)
		if d.err != nil || next == "" {
			return nil, "", fmt.Errorf("unreadable LastEvaluatedKey: %v", d.err)
		}
	}
	return users, next, nil
}

// UserConnections queries the byUser index for the user's connections, page by page, and
// leaves out those past their expiry.
func (s *Store) UserConnections(ctx context.Context, userID string) ([]string, error) {
	if userID == "" {
		return nil, errors.New("dynamostore: connections of a user: empty user id")
	}
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		IndexName:                 aws.String(contract.IndexByUser),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": contract.AttrGSI2PK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(contract.PrefixUser + userID)},
		ReturnConsumedCapacity:    types.ReturnConsumedCapacityTotal,
	}
	var ids []string
	err := s.queryPages(ctx, in, func(items []map[string]types.AttributeValue) (bool, error) {
		for _, item := range items {
			if s.live(item) {
				d := decoder{item: item}
				ids = append(ids, strings.TrimPrefix(d.str(contract.AttrPK), contract.PrefixConnection))
			}
		}
		return true, nil
	})
	if err != nil {
		return nil, fmt.Errorf("dynamostore: connections of user %s: %w", userID, err)
	}
	return ids, nil
}

// GetUser reads the user's item (pk=USER#<id>, sk=PROFILE) with a strongly consistent read.
func (s *Store) GetUser(ctx context.Context, userID string) (chat.User, error) {
	item, err := s.get(ctx, contract.PrefixUser+userID, contract.SortKeyProfile)
	if err != nil {
		return chat.User{}, fmt.Errorf("dynamostore: get user %s: %w", userID, err)
	}
	d := decoder{item: item}
	u := chat.User{UserID: userID, DisplayName: d.str(contract.AttrDisplayName), ConnectedAt: d.millis(contract.AttrConnectedAt)}
	if d.err != nil {
		return chat.User{}, fmt.Errorf("dynamostore: get user %s: %w", userID, d.err)
	}
	return u, nil
}

// PutConversation writes the conversation's users item (pk=ROOM#<room>, sk=USERS).
func (s *Store) PutConversation(ctx context.Context, roomID string, users [2]string) error {
	item := map[string]types.AttributeValue{
		contract.AttrPK:    str(contract.PrefixRoom + roomID),
		contract.AttrSK:    str(contract.SortKeyUsers),
		contract.AttrUsers: &types.AttributeValueMemberSS{Value: users[:]},
	}
	if users[0] == users[1] {
		return fmt.Errorf("dynamostore: conversation %s: one user twice", roomID)
	}
	return s.put(ctx, item, "", zeroTime, zeroTime, "conversation %s", roomID)
}

// ConversationUsers reads the conversation's users item.
func (s *Store) ConversationUsers(ctx context.Context, roomID string) ([2]string, error) {
	item, err := s.get(ctx, contract.PrefixRoom+roomID, contract.SortKeyUsers)
	if err != nil {
		return [2]string{}, fmt.Errorf("dynamostore: users of conversation %s: %w", roomID, err)
	}
	ss, ok := item[contract.AttrUsers].(*types.AttributeValueMemberSS)
	if !ok || len(ss.Value) != 2 {
		return [2]string{}, fmt.Errorf("dynamostore: users of conversation %s: attribute %s is not a set of two", roomID, contract.AttrUsers)
	}
	return [2]string{ss.Value[0], ss.Value[1]}, nil
}
