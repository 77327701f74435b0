package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/chatstack/websocketchatapi/internal/chat"
	"github.com/chatstack/websocketchatapi/internal/contract"
)

// batchWriteMax is the most requests one BatchWriteItem call takes.
const batchWriteMax = 25

// batchRetries is how many times DeleteConnection resends unprocessed deletes before it gives up.
const batchRetries = 8

var _ chat.Store = (*Store)(nil)

// Store is a chat.Store backed by one DynamoDB table laid out as the package documentation
// describes. It is safe for concurrent use.
type Store struct {
	client        *dynamodb.Client
	table         string
	now           func() time.Time
	tokenAttempts int

	consumedRead  capacity
	consumedWrite capacity
}

// Option configures a Store.
type Option func(*Store)

// WithClock makes the Store read the time from now (default time.Now) when it decides whether
// an item has expired.
func WithClock(now func() time.Time) Option {
	return func(s *Store) { s.now = now }
}

// New returns a Store that keeps its items in table through client.
func New(client *dynamodb.Client, table string, opts ...Option) *Store {
	s := &Store{client: client, table: table, now: time.Now}
	for _, opt := range opts {
		opt(s)
	}
	return s
}

// ConsumedRead returns the read capacity units this Store's requests have consumed, as DynamoDB
// reported them (ReturnConsumedCapacity TOTAL; index reads included).
func (s *Store) ConsumedRead() float64 { return s.consumedRead.load() }

// ConsumedWrite returns the write capacity units this Store's requests have consumed, as
// DynamoDB reported them.
func (s *Store) ConsumedWrite() float64 { return s.consumedWrite.load() }

// PutConnection stores (or replaces) a connection item, indexed by its user (byUser), and its
// user's item (pk=USER#<id>, sk=PROFILE): two PutItem calls at once (the connect function's
// role allows PutItem only). Its memberships are untouched.
func (s *Store) PutConnection(ctx context.Context, c chat.Connection) error {
	if c.ID == "" || c.UserID == "" {
		return fmt.Errorf("dynamostore: put connection %q of user %q: empty id", c.ID, c.UserID)
	}
	conn := userItem(contract.PrefixConnection+c.ID, contract.SortKeyConnection, c.UserID, c.DisplayName)
	conn[contract.AttrGSI2PK] = str(contract.PrefixUser + c.UserID)
	conn[contract.AttrGSI2SK] = str(contract.PrefixConnection + c.ID)
	user := userItem(contract.PrefixUser+c.UserID, contract.SortKeyProfile, c.UserID, c.DisplayName)
	var g errgroup.Group
	g.Go(func() error {
		return s.put(ctx, conn, contract.AttrConnectedAt, c.ConnectedAt, c.ExpiresAt, "connection %s", c.ID)
	})
	g.Go(func() error {
		return s.put(ctx, user, contract.AttrConnectedAt, c.ConnectedAt, c.ConnectedAt.Add(contract.UserRecordTTL), "user %s", c.UserID)
	})
	return g.Wait()
}

// GetConnection returns the connection, or chat.ErrNotFound when it is absent or expired. The
// read is strongly consistent.
func (s *Store) GetConnection(ctx context.Context, connectionID string) (chat.Connection, error) {
	item, err := s.get(ctx, contract.PrefixConnection+connectionID, contract.SortKeyConnection)
	if err != nil {
		return chat.Connection{}, fmt.Errorf("dynamostore: get connection %s: %w", connectionID, err)
	}
	d := decoder{item: item}
	c := chat.Connection{
		ID:          connectionID,
		UserID:      d.str(contract.AttrUserID),
		DisplayName: d.str(contract.AttrDisplayName),
		ConnectedAt: d.millis(contract.AttrConnectedAt),
		ExpiresAt:   d.seconds(contract.AttrExpiresAt),
	}
	if d.err != nil {
		return chat.Connection{}, fmt.Errorf("dynamostore: get connection %s: %w", connectionID, d.err)
	}
	return c, nil
}

// DeleteConnection deletes every item under the connection's partition key: the connection,
// all its memberships and its rate limit bucket. Deleting a connection that does not exist is
// not an error.
func (s *Store) DeleteConnection(ctx context.Context, connectionID string) error {
	if connectionID == "" {
		return errors.New("dynamostore: delete connection: empty connection id")
	}
	in := s.partitionQuery(contract.PrefixConnection+connectionID, "")
	in.ProjectionExpression = aws.String("#pk, #sk")
	in.ExpressionAttributeNames["#sk"] = contract.AttrSK
	in.ConsistentRead = aws.Bool(true)
	err := s.queryPages(ctx, in, func(items []map[string]types.AttributeValue) (bool, error) {
		for chunk := range slices.Chunk(items, batchWriteMax) {
			if err := s.batchDelete(ctx, chunk); err != nil {
				return false, err
			}
		}
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("dynamostore: delete connection %s: %w", connectionID, err)
	}
	return nil
}

// batchDelete deletes up to batchWriteMax items by key, resending unprocessed ones with
// exponential backoff.
func (s *Store) batchDelete(ctx context.Context, keys []map[string]types.AttributeValue) error {
	reqs := make([]types.WriteRequest, len(keys))
	for i, k := range keys {
		reqs[i] = types.WriteRequest{DeleteRequest: &types.DeleteRequest{
			Key: map[string]types.AttributeValue{contract.AttrPK: k[contract.AttrPK], contract.AttrSK: k[contract.AttrSK]},
		}}
	}
	if err := s.batchWrite(ctx, reqs); err != nil {
		return fmt.Errorf("batch delete: %w", err)
	}
	return nil
}

// batchWrite writes up to batchWriteMax requests, resending unprocessed ones with exponential
// backoff.
func (s *Store) batchWrite(ctx context.Context, reqs []types.WriteRequest) error {
	pending := map[string][]types.WriteRequest{s.table: reqs}
	delay := 50 * time.Millisecond
	for attempt := 0; ; attempt++ {
		out, err := s.client.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{
			RequestItems:           pending,
			ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
		})
		if err != nil {
			return err
		}
		for _, c := range out.ConsumedCapacity {
			s.consumedWrite.add(c.CapacityUnits)
		}
		pending = out.UnprocessedItems
		if len(pending[s.table]) == 0 {
			return nil
		}
		if attempt == batchRetries {
			return fmt.Errorf("%d items still unprocessed after %d retries", len(pending[s.table]), batchRetries)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		delay = min(2*delay, 2*time.Second)
	}
}

// PutMembership stores (or replaces) a membership item.
func (s *Store) PutMembership(ctx context.Context, m chat.Membership) error {
	if m.ConnectionID == "" || m.RoomID == "" {
		return fmt.Errorf("dynamostore: put membership %q in room %q: empty id", m.ConnectionID, m.RoomID)
	}
	item := userItem(contract.PrefixConnection+m.ConnectionID, contract.PrefixRoom+m.RoomID, m.UserID, m.DisplayName)
	item[contract.AttrGSI1PK] = str(contract.RoomShardKey(m.RoomID, contract.RoomShard(m.ConnectionID)))
	item[contract.AttrGSI1SK] = str(contract.PrefixConnection + m.ConnectionID)
	return s.put(ctx, item, contract.AttrJoinedAt, m.JoinedAt, m.ExpiresAt, "membership of %s in room %s", m.ConnectionID, m.RoomID)
}

// GetMembership returns the membership, or chat.ErrNotFound when the connection is not in the
// room or the membership expired. The read is strongly consistent.
func (s *Store) GetMembership(ctx context.Context, connectionID, roomID string) (chat.Membership, error) {
	item, err := s.get(ctx, contract.PrefixConnection+connectionID, contract.PrefixRoom+roomID)
	if err != nil {
		return chat.Membership{}, fmt.Errorf("dynamostore: get membership of %s in room %s: %w", connectionID, roomID, err)
	}
	m, err := decodeMembership(item)
	if err != nil {
		return chat.Membership{}, fmt.Errorf("dynamostore: get membership of %s in room %s: %w", connectionID, roomID, err)
	}
	return m, nil
}

// DeleteMembership deletes the membership and reports whether a live one existed (an expired
// membership is deleted too, and reported as absent).
func (s *Store) DeleteMembership(ctx context.Context, connectionID, roomID string) (bool, error) {
	out, err := s.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:              aws.String(s.table),
		Key:                    itemKey(contract.PrefixConnection+connectionID, contract.PrefixRoom+roomID),
		ReturnValues:           types.ReturnValueAllOld,
		ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
	})
	if err != nil {
		return false, fmt.Errorf("dynamostore: delete membership of %s in room %s: %w", connectionID, roomID, err)
	}
	s.consumedWrite.addFrom(out.ConsumedCapacity)
	return len(out.Attributes) > 0 && s.live(out.Attributes), nil
}

// ConnectionMemberships returns the connection's live memberships, in room id order, from a
// strongly consistent Query of the connection's partition (sort keys beginning with
// [contract.PrefixRoom]).
func (s *Store) ConnectionMemberships(ctx context.Context, connectionID string) ([]chat.Membership, error) {
	if connectionID == "" {
		return nil, errors.New("dynamostore: memberships: empty connection id")
	}
	in := s.partitionQuery(contract.PrefixConnection+connectionID, contract.PrefixRoom)
	in.ConsistentRead = aws.Bool(true)
	var out []chat.Membership
	err := s.queryPages(ctx, in, func(items []map[string]types.AttributeValue) (bool, error) {
		page, err := s.liveMemberships(items)
		out = append(out, page...)
		return true, err
	})
	if err != nil {
		return nil, fmt.Errorf("dynamostore: memberships of %s: %w", connectionID, err)
	}
	return out, nil
}

// RoomMembers queries the room's shards of the byRoom index in parallel, pageSize items per
// request, and calls fn with each page's live memberships, one call at a time, skipping pages
// that have none. It returns fn's first error unchanged, and stops reading at the first error.
// Index reads are eventually consistent.
func (s *Store) RoomMembers(ctx context.Context, roomID string, pageSize int, fn func([]chat.Membership) error) error {
	if pageSize <= 0 {
		return fmt.Errorf("dynamostore: room %s members: page size %d, want > 0", roomID, pageSize)
	}
	g, gctx := errgroup.WithContext(ctx)
	var (
		mu    sync.Mutex
		fnErr error
	)
	for shard := range contract.RoomShards {
		g.Go(func() error {
			in := s.shardQuery(roomID, shard, pageSize)
			return s.queryPages(gctx, in, func(items []map[string]types.AttributeValue) (bool, error) {
				page, err := s.liveMemberships(items)
				if err != nil || len(page) == 0 {
					return err == nil, err
				}
				mu.Lock()
				defer mu.Unlock()
				if fnErr == nil {
					fnErr = fn(page)
				}
				return fnErr == nil, fnErr
			})
		})
	}
	err := g.Wait()
	if fnErr != nil {
		return fnErr
	}
	if err != nil {
		return fmt.Errorf("dynamostore: room %s members: %w", roomID, err)
	}
	return nil
}

// shardQuery returns a Query of one shard of the room in the byRoom index, limit items a page.
func (s *Store) shardQuery(roomID string, shard, limit int) *dynamodb.QueryInput {
	return &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		IndexName:                 aws.String(contract.IndexByRoom),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": contract.AttrGSI1PK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(contract.RoomShardKey(roomID, shard))},
		Limit:                     aws.Int32(int32(min(limit, math.MaxInt32))),
		ReturnConsumedCapacity:    types.ReturnConsumedCapacityTotal,
	}
}

// partitionQuery returns a Query of the table's items whose partition key is pk and, unless
// skPrefix is "", whose sort key begins with skPrefix.
func (s *Store) partitionQuery(pk, skPrefix string) *dynamodb.QueryInput {
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": contract.AttrPK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pk)},
		ReturnConsumedCapacity:    types.ReturnConsumedCapacityTotal,
	}
	if skPrefix != "" {
		in.KeyConditionExpression = aws.String("#pk = :pk AND begins_with(#sk, :sk)")
		in.ExpressionAttributeNames["#sk"] = contract.AttrSK
		in.ExpressionAttributeValues[":sk"] = str(skPrefix)
	}
	return in
}

// queryPages runs the Query in page by page, counting the capacity it consumes, and calls page
// with the items of each, until page returns false or an error, or the last page is read.
func (s *Store) queryPages(ctx context.Context, in *dynamodb.QueryInput, page func([]map[string]types.AttributeValue) (bool, error)) error {
	for {
		out, err := s.client.Query(ctx, in)
		if err != nil {
			return fmt.Errorf("query: %w", err)
		}
		s.consumedRead.addFrom(out.ConsumedCapacity)
		more, err := page(out.Items)
		if err != nil || !more || len(out.LastEvaluatedKey) == 0 {
			return err
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// liveMemberships decodes the live memberships among items of the table or of the byRoom
// index.
func (s *Store) liveMemberships(items []map[string]types.AttributeValue) ([]chat.Membership, error) {
	page := make([]chat.Membership, 0, len(items))
	for _, item := range items {
		if !s.live(item) {
			continue
		}
		m, err := decodeMembership(item)
		if err != nil {
			return nil, err
		}
		page = append(page, m)
	}
	return page, nil
}

// userItem returns an item with the keys pk and sk and a user's attributes.
func userItem(pk, sk, userID, displayName string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		contract.AttrPK:          str(pk),
		contract.AttrSK:          str(sk),
		contract.AttrUserID:      str(userID),
		contract.AttrDisplayName: str(displayName),
	}
}

// put writes item to the table, with the time at in epoch milliseconds under the attribute
// atName and expiresAt in epoch seconds under [contract.AttrExpiresAt], each unless zero. Its
// error names the item as format and args do.
func (s *Store) put(ctx context.Context, item map[string]types.AttributeValue, atName string, at, expiresAt time.Time, format string, args ...any) error {
	putMillis(item, atName, at)
	putSeconds(item, contract.AttrExpiresAt, expiresAt)
	out, err := s.client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:              aws.String(s.table),
		Item:                   item,
		ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
	})
	if err != nil {
		return fmt.Errorf("dynamostore: put %s: %w", fmt.Sprintf(format, args...), err)
	}
	s.consumedWrite.addFrom(out.ConsumedCapacity)
	return nil
}

// get reads one item with a strongly consistent read, returning chat.ErrNotFound when it is
// absent or expired.
func (s *Store) get(ctx context.Context, pk, sk string) (map[string]types.AttributeValue, error) {
	item, err := s.getItem(ctx, itemKey(pk, sk))
	if err != nil {
		return nil, err
	}
	if len(item) == 0 || !s.live(item) {
		return nil, chat.ErrNotFound
	}
	return item, nil
}

// getItem reads the item of key with a strongly consistent read: nil when there is none,
// whether or not it has expired.
func (s *Store) getItem(ctx context.Context, key map[string]types.AttributeValue) (map[string]types.AttributeValue, error) {
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:              aws.String(s.table),
		Key:                    key,
		ConsistentRead:         aws.Bool(true),
		ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
	})
	if err != nil {
		return nil, err
	}
	s.consumedRead.addFrom(out.ConsumedCapacity)
	return out.Item, nil
}

// itemKey returns the key of the item whose partition key is pk and sort key sk.
func itemKey(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{contract.AttrPK: str(pk), contract.AttrSK: str(sk)}
}

// live reports whether item has no expiresAt or one after now. An unreadable expiresAt counts
// as live: a reader would rather show a stale item than lose a good one.
func (s *Store) live(item map[string]types.AttributeValue) bool {
	v, ok := item[contract.AttrExpiresAt].(*types.AttributeValueMemberN)
	if !ok {
		return true
	}
	exp, err := strconv.ParseInt(v.Value, 10, 64)
	if err != nil {
		return true
	}
	return time.Unix(exp, 0).After(s.now())
}

// decodeMembership reads a membership from a table item or a byRoom index item.
func decodeMembership(item map[string]types.AttributeValue) (chat.Membership, error) {
	d := decoder{item: item}
	m := chat.Membership{
		ConnectionID: strings.TrimPrefix(d.str(contract.AttrPK), contract.PrefixConnection),
		RoomID:       strings.TrimPrefix(d.str(contract.AttrSK), contract.PrefixRoom),
		UserID:       d.str(contract.AttrUserID),
		DisplayName:  d.str(contract.AttrDisplayName),
		JoinedAt:     d.millis(contract.AttrJoinedAt),
		ExpiresAt:    d.seconds(contract.AttrExpiresAt),
	}
	if d.err != nil {
		return chat.Membership{}, fmt.Errorf("membership item: %w", d.err)
	}
	return m, nil
}

// zeroTime is the zero time.Time: no timestamp, no expiry.
var zeroTime time.Time

// str returns a string attribute value.
func str(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

// putMillis sets item[name] to t in epoch milliseconds, unless t is zero.
func putMillis(item map[string]types.AttributeValue, name string, t time.Time) {
	if !t.IsZero() {
		item[name] = &types.AttributeValueMemberN{Value: strconv.FormatInt(t.UnixMilli(), 10)}
	}
}

// putSeconds sets item[name] to t in epoch seconds, unless t is zero.
func putSeconds(item map[string]types.AttributeValue, name string, t time.Time) {
	if !t.IsZero() {
		item[name] = &types.AttributeValueMemberN{Value: strconv.FormatInt(t.Unix(), 10)}
	}
}

// decoder reads attributes of one item, keeping the first type or format error. Absent
// attributes read as zero values.
type decoder struct {
	item map[string]types.AttributeValue
	err  error
}

// str returns the string attribute name, or "" when it is absent.
func (d *decoder) str(name string) string {
	switch v := d.item[name].(type) {
	case nil:
		return ""
	case *types.AttributeValueMemberS:
		return v.Value
	default:
		d.fail(fmt.Errorf("attribute %s: %T, want S", name, v))
		return ""
	}
}

// num returns the integer attribute name and whether it is present.
func (d *decoder) num(name string) (int64, bool) {
	switch v := d.item[name].(type) {
	case nil:
		return 0, false
	case *types.AttributeValueMemberN:
		n, err := strconv.ParseInt(v.Value, 10, 64)
		if err != nil {
			d.fail(fmt.Errorf("attribute %s: %w", name, err))
			return 0, false
		}
		return n, true
	default:
		d.fail(fmt.Errorf("attribute %s: %T, want N", name, v))
		return 0, false
	}
}

// millis returns the epoch-milliseconds attribute name as a UTC time, zero when absent.
func (d *decoder) millis(name string) time.Time {
	if n, ok := d.num(name); ok {
		return time.UnixMilli(n).UTC()
	}
	return time.Time{}
}

// seconds returns the epoch-seconds attribute name as a UTC time, zero when absent.
func (d *decoder) seconds(name string) time.Time {
	if n, ok := d.num(name); ok {
		return time.Unix(n, 0).UTC()
	}
	return time.Time{}
}

// fail records err unless an earlier error was recorded.
func (d *decoder) fail(err error) {
	if d.err == nil {
		d.err = err
	}
}

// capacity accumulates capacity units; safe for concurrent use.
type capacity struct {
	bits atomic.Uint64 // math.Float64bits of the total
}

// add adds units to the total.
func (c *capacity) add(units *float64) {
	if units == nil {
		return
	}
	for {
		old := c.bits.Load()
		if c.bits.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+*units)) {
			return
		}
	}
}

// addFrom adds the total units of cc, if any.
func (c *capacity) addFrom(cc *types.ConsumedCapacity) {
	if cc != nil {
		c.add(cc.CapacityUnits)
	}
}

// load returns the total.
func (c *capacity) load() float64 { return math.Float64frombits(c.bits.Load()) }
