package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/chatstack/websocketchatapi/internal/chat"
	"github.com/chatstack/websocketchatapi/internal/contract"
)

// sentKey is the key of the record of a sender's client message id in a room. The user id's
// length comes first, so that no two (user, client message id) pairs share a key whatever
// characters they hold.
func sentKey(roomID, userID, clientMessageID string) map[string]types.AttributeValue {
	return itemKey(contract.PrefixRoom+roomID,
		contract.PrefixSent+strconv.Itoa(len(userID))+"#"+userID+"#"+clientMessageID)
}

// transactAttempts is how many times transact sends a transaction that DynamoDB cancelled for
// a conflict with another one on the same items (concurrent retries of one send).
const transactAttempts = 6

// transact runs in, sending it again with exponential backoff while DynamoDB cancels it for a
// TransactionConflict: the SDK does not retry cancellations, and AWS (unlike DynamoDB Local,
// which runs transactions one at a time) cancels one of two transactions that overlap. The
// retry then finds the winner's record through the condition.
func (s *Store) transact(ctx context.Context, in *dynamodb.TransactWriteItemsInput) error {
	delay := 10 * time.Millisecond
	for attempt := 1; ; attempt++ {
		in.ClientRequestToken = nil // a new attempt, not a replay of the cancelled one
		out, err := s.client.TransactWriteItems(ctx, in)
		if err == nil {
			for _, cc := range out.ConsumedCapacity {
				s.consumedWrite.addFrom(&cc)
			}
			return nil
		}
		if attempt == transactAttempts || !cancelledFor(err, "TransactionConflict") {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(delay):
		}
		delay *= 2
	}
}

// cancelledFor reports whether err is a transaction that DynamoDB cancelled with a reason of
// code (ConditionalCheckFailed, TransactionConflict, ...).
func cancelledFor(err error, code string) bool {
	var tc *types.TransactionCanceledException
	if !errors.As(err, &tc) {
		return false
	}
	for _, r := range tc.CancellationReasons {
		if aws.ToString(r.Code) == code {
			return true
		}
	}
	return false
}

// sentRecord reads the record of a client message id.
func (s *Store) sentRecord(ctx context.Context, key map[string]types.AttributeValue) (*chat.SentRecord, error) {
	item, err := s.getItem(ctx, key)
	if err != nil {
		return nil, err
	}
	if len(item) == 0 {
		return nil, errors.New("the record that refused the message is gone")
	}
	d := decoder{item: item}
	r := &chat.SentRecord{MessageID: d.str(contract.AttrMessageID), SentAt: d.millis(contract.AttrSentAt)}
	r.Seq, _ = d.num(contract.AttrSeq)
	delivered, ok := d.num(contract.AttrDelivered)
	undelivered, _ := d.num(contract.AttrUndelivered)
	gone, _ := d.num(contract.AttrGone)
	r.Delivery = chat.Delivery{Delivered: int(delivered), Undelivered: int(undelivered), Gone: int(gone)}
	r.Recorded = ok
	if d.err != nil {
		return nil, fmt.Errorf("sent record: %w", d.err)
	}
	return r, nil
}

// RecordDelivery sets the counts on the record of a client message id, if it still exists.
func (s *Store) RecordDelivery(ctx context.Context, roomID, userID, clientMessageID string, d chat.Delivery) error {
	n := func(v int) types.AttributeValue { return &types.AttributeValueMemberN{Value: strconv.Itoa(v)} }
	out, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           aws.String(s.table),
		Key:                 sentKey(roomID, userID, clientMessageID),
		UpdateExpression:    aws.String("SET #d = :d, #u = :u, #g = :g"),
		ConditionExpression: aws.String("attribute_exists(#pk)"),
		ExpressionAttributeNames: map[string]string{
			"#d": contract.AttrDelivered, "#u": contract.AttrUndelivered, "#g": contract.AttrGone, "#pk": contract.AttrPK,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{":d": n(d.Delivered), ":u": n(d.Undelivered), ":g": n(d.Gone)},
		ReturnConsumedCapacity:    types.ReturnConsumedCapacityTotal,
	})
	if conditionFailed(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("dynamostore: record delivery of %q in room %s: %w", clientMessageID, roomID, err)
	}
	s.consumedWrite.addFrom(out.ConsumedCapacity)
	return nil
}
