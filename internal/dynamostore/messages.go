package dynamostore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/chatstack/websocketchatapi/internal/chat"
	"github.com/chatstack/websocketchatapi/internal/contract"
)

// appendAttempts bounds how many times an append reads the room's head and tries to take the
// next number: each failed try means another sender took that number first, so a room
// needs that many concurrent senders for one append to give up.
const appendAttempts = 40

// appendBackoffCap is the longest pause between two tries of one append.
const appendBackoffCap = 50 * time.Millisecond

// AppendMessage stores m as its room's next message. It reads the room's head item (strongly
// consistent) and writes, in one TransactWriteItems, the head's new number (conditional on
// the number it read) and the message under that number (conditional on none being there).
// A sender that loses the race to another reads the head again and retries, so concurrent
// appends get consecutive numbers, and a failed append takes none: a room's numbers have no
// gaps. Cost: one strongly consistent read and a two-item transaction per message.
func (s *Store) AppendMessage(ctx context.Context, m chat.StoredMessage) (chat.StoredMessage, error) {
	m, _, err := s.appendMessage(ctx, m, nil)
	if err != nil {
		return chat.StoredMessage{}, fmt.Errorf("dynamostore: append message %s to room %s: %w", m.MessageID, m.RoomID, err)
	}
	return m, nil
}

// AppendMessageOnce is AppendMessage with a third item in the transaction: the record of the
// sender's client message id, put on condition that no live record of its key exists. When
// that condition fails nothing is stored, and it returns the existing record.
func (s *Store) AppendMessageOnce(ctx context.Context, m chat.StoredMessage, clientMessageID string, until time.Time) (_ chat.StoredMessage, _ *chat.SentRecord, err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("dynamostore: append message %s to room %s once as %q: %w", m.MessageID, m.RoomID, clientMessageID, err)
		}
	}()
	key := sentKey(m.RoomID, m.UserID, clientMessageID)
	record := func(seq int64) types.TransactWriteItem {
		item := map[string]types.AttributeValue{contract.AttrMessageID: str(m.MessageID), contract.AttrSeq: num(seq)}
		for k, v := range key {
			item[k] = v
		}
		putMillis(item, contract.AttrSentAt, m.SentAt)
		putSeconds(item, contract.AttrExpiresAt, until)
		now := map[string]types.AttributeValue{}
		putSeconds(now, ":now", s.now())
		return types.TransactWriteItem{Put: &types.Put{
			TableName:                 aws.String(s.table),
			Item:                      item,
			ConditionExpression:       aws.String("attribute_not_exists(#pk) OR #e <= :now"),
			ExpressionAttributeNames:  map[string]string{"#pk": contract.AttrPK, "#e": contract.AttrExpiresAt},
			ExpressionAttributeValues: now,
		}}
	}
	stored, dup, err := s.appendMessage(ctx, m, record)
	if err != nil || !dup {
		return stored, nil, err
	}
	prior, err := s.sentRecord(ctx, key)
	if err != nil {
		return chat.StoredMessage{}, nil, fmt.Errorf("read the earlier send: %w", err)
	}
	return chat.StoredMessage{}, prior, nil
}

// appendMessage runs the append transaction until it takes a number, with extra's item (if
// extra is not nil) as the transaction's third. It reports dup when that item's condition
// failed: then nothing was stored.
func (s *Store) appendMessage(ctx context.Context, m chat.StoredMessage, extra func(seq int64) types.TransactWriteItem) (_ chat.StoredMessage, dup bool, _ error) {
	if m.RoomID == "" || m.MessageID == "" {
		return m, false, errors.New("empty id")
	}
	for attempt := 1; ; attempt++ {
		last, err := s.LastSeq(ctx, m.RoomID)
		if err != nil {
			return m, false, err
		}
		m.Seq = last + 1
		in := &dynamodb.TransactWriteItemsInput{
			TransactItems:          []types.TransactWriteItem{s.advanceHead(m.RoomID, last), s.putMessage(m)},
			ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
		}
		if extra != nil {
			in.TransactItems = append(in.TransactItems, extra(m.Seq))
		}
		err = s.transact(ctx, in)
		switch {
		case err == nil:
			return m, false, nil
		case extra != nil && cancelledAt(err, 2, "ConditionalCheckFailed"):
			return m, true, nil
		case !cancelledAt(err, 0, "ConditionalCheckFailed") && cancelledAt(err, 1, "ConditionalCheckFailed"):
			return m, false, fmt.Errorf("sequence number %d is taken though the room's head says %d", m.Seq, last)
		case !cancelledAt(err, 0, "ConditionalCheckFailed"):
			return m, false, err
		case attempt == appendAttempts:
			return m, false, fmt.Errorf("%d concurrent senders took every number this append tried; last tried %d", attempt, m.Seq)
		}
		// Another sender took the number: wait a little (full jitter) and read the head again.
		pause := time.Duration(rand.Int64N(int64(min(appendBackoffCap, time.Millisecond<<min(attempt, 6)))))
		select {
		case <-ctx.Done():
			return m, false, ctx.Err()
		case <-time.After(pause):
		}
	}
}

// advanceHead is the transaction item that moves the room's head from last to last+1, on
// condition that it still says last.
func (s *Store) advanceHead(roomID string, last int64) types.TransactWriteItem {
	u := &types.Update{
		TableName:                 aws.String(s.table),
		Key:                       itemKey(contract.PrefixRoom+roomID, contract.SortKeyHead),
		UpdateExpression:          aws.String("SET #seq = :next"),
		ExpressionAttributeNames:  map[string]string{"#seq": contract.AttrSeq},
		ExpressionAttributeValues: map[string]types.AttributeValue{":next": num(last + 1)},
	}
	if last == 0 {
		u.ConditionExpression = aws.String("attribute_not_exists(#seq)")
	} else {
		u.ConditionExpression = aws.String("#seq = :last")
		u.ExpressionAttributeValues[":last"] = num(last)
	}
	return types.TransactWriteItem{Update: u}
}

// putMessage is the transaction item that writes m under its sequence number, on condition
// that no message has it.
func (s *Store) putMessage(m chat.StoredMessage) types.TransactWriteItem {
	item := userItem(contract.PrefixRoom+m.RoomID, messageSortKey(m.Seq), m.UserID, m.DisplayName)
	item[contract.AttrSeq] = num(m.Seq)
	item[contract.AttrMessageID] = str(m.MessageID)
	item[contract.AttrText] = str(m.Text)
	if m.ToUserID != "" {
		item[contract.AttrToUserID] = str(m.ToUserID)
	}
	if m.System {
		item[contract.AttrSystem] = &types.AttributeValueMemberBOOL{Value: true}
	}
	if m.EventType != "" {
		item[contract.AttrEventType] = str(m.EventType)
		item[contract.AttrData] = str(string(m.Data))
	}
	putMillis(item, contract.AttrSentAt, m.SentAt)
	putSeconds(item, contract.AttrExpiresAt, m.ExpiresAt)
	return types.TransactWriteItem{Put: &types.Put{
		TableName:                aws.String(s.table),
		Item:                     item,
		ConditionExpression:      aws.String("attribute_not_exists(#pk)"),
		ExpressionAttributeNames: map[string]string{"#pk": contract.AttrPK},
	}}
}

// LastSeq returns the room's last sequence number, 0 for a room without messages, with a
// strongly consistent read: every message up to it is stored.
func (s *Store) LastSeq(ctx context.Context, roomID string) (int64, error) {
	item, err := s.getItem(ctx, itemKey(contract.PrefixRoom+roomID, contract.SortKeyHead))
	if err != nil {
		return 0, fmt.Errorf("dynamostore: head of room %s: %w", roomID, err)
	}
	d := decoder{item: item}
	seq, _ := d.num(contract.AttrSeq)
	if d.err != nil {
		return 0, fmt.Errorf("dynamostore: head of room %s: %w", roomID, d.err)
	}
	return seq, nil
}

// Messages returns the room's live messages in r, in sequence order, with strongly consistent
// reads: a message of a number LastSeq has returned is found unless it expired. Expired
// messages are skipped, leaving holes in the numbers.
func (s *Store) Messages(ctx context.Context, roomID string, r chat.MessageRange) ([]chat.StoredMessage, error) {
	if r.Limit <= 0 {
		return nil, nil
	}
	hi := int64(math.MaxInt64)
	if r.Before > 0 {
		hi = r.Before - 1
	}
	if r.After >= hi {
		return nil, nil
	}
	in := s.partitionQuery(contract.PrefixRoom+roomID, "")
	in.KeyConditionExpression = aws.String("#pk = :pk AND #sk BETWEEN :lo AND :hi")
	in.ExpressionAttributeNames["#sk"] = contract.AttrSK
	in.ExpressionAttributeValues[":lo"] = str(messageSortKey(r.After + 1))
	in.ExpressionAttributeValues[":hi"] = str(messageSortKey(hi))
	in.ScanIndexForward = aws.Bool(!r.Newest)
	in.ConsistentRead = aws.Bool(true)
	in.Limit = aws.Int32(int32(min(r.Limit, math.MaxInt32)))
	var msgs []chat.StoredMessage
	err := s.queryPages(ctx, in, func(items []map[string]types.AttributeValue) (bool, error) {
		for _, item := range items {
			if len(msgs) == r.Limit {
				break
			}
			if !s.live(item) {
				continue
			}
			m, err := decodeMessage(roomID, item)
			if err != nil {
				return false, err
			}
			msgs = append(msgs, m)
		}
		return len(msgs) < r.Limit, nil
	})
	if err != nil {
		return nil, fmt.Errorf("dynamostore: messages of room %s: %w", roomID, err)
	}
	if r.Newest {
		slices.Reverse(msgs)
	}
	return msgs, nil
}

// decodeMessage reads a message item of roomID.
func decodeMessage(roomID string, item map[string]types.AttributeValue) (chat.StoredMessage, error) {
	d := decoder{item: item}
	m := chat.StoredMessage{
		RoomID:      roomID,
		MessageID:   d.str(contract.AttrMessageID),
		UserID:      d.str(contract.AttrUserID),
		DisplayName: d.str(contract.AttrDisplayName),
		Text:        d.str(contract.AttrText),
		ToUserID:    d.str(contract.AttrToUserID),
		EventType:   d.str(contract.AttrEventType),
		SentAt:      d.millis(contract.AttrSentAt),
		ExpiresAt:   d.seconds(contract.AttrExpiresAt),
	}
	if data := d.str(contract.AttrData); data != "" {
		m.Data = json.RawMessage(data)
	}
	_, m.System = item[contract.AttrSystem].(*types.AttributeValueMemberBOOL)
	m.Seq, _ = d.num(contract.AttrSeq)
	sk := d.str(contract.AttrSK)
	if d.err != nil {
		return chat.StoredMessage{}, fmt.Errorf("message item %s: %w", sk, d.err)
	}
	if messageSortKey(m.Seq) != sk {
		return chat.StoredMessage{}, fmt.Errorf("message item %s: its seq is %d", sk, m.Seq)
	}
	return m, nil
}

// seqDigits is the width of the zero-padded sequence number in a message sort key: enough for
// any non-negative int64.
const seqDigits = 19

// messageSortKey returns SEQ#<19-digit seq>, which sorts by number.
func messageSortKey(seq int64) string {
	return contract.PrefixMessage + fmt.Sprintf("%0*d", seqDigits, seq)
}

// num returns a number attribute value.
func num(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

// cancelledAt reports whether err is a transaction that DynamoDB cancelled with the reason
// code for its item at index i.
func cancelledAt(err error, i int, code string) bool {
	var tc *types.TransactionCanceledException
	if !errors.As(err, &tc) || i >= len(tc.CancellationReasons) {
		return false
	}
	return aws.ToString(tc.CancellationReasons[i].Code) == code
}
