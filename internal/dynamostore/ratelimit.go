package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/chatstack/websocketchatapi/internal/chat"
	"github.com/chatstack/websocketchatapi/internal/contract"
)

// tokenAttempts is how many conditional updates TakeToken tries before it gives up with
// chat.ErrTokenContention, unless WithTokenAttempts sets it: a request loses a round only to a
// request that took a token, and at most burst tokens (plus the refill during the race) can
// be taken, so 2×burst+5 rounds let every concurrent request of a connection finish with a
// token or an honest refusal. A fixed small number refused legitimate concurrent bursts
// (API Gateway runs one connection's messages concurrently).
func tokenAttempts(configured int, burst float64) int {
	if configured > 0 {
		return configured
	}
	return int(2*burst) + 5
}

// tokenRetryStep is the ceiling of the random wait before TakeToken's second attempt; before
// attempt n the ceiling is (n-1) times this.
const tokenRetryStep = 2 * time.Millisecond

// tokenPrecision is the resolution tokens are stored with: one millionth of a token, so that
// sums of refills do not drift below a whole token by float rounding.
const tokenPrecision = 1e6

// WithTokenAttempts sets how many conditional updates TakeToken tries (default: 2×burst+5,
// see tokenAttempts; at least 1).
func WithTokenAttempts(n int) Option {
	return func(s *Store) { s.tokenAttempts = max(n, 1) }
}

// TakeToken implements chat.Store.TakeToken on the item pk=CONN#<id>, sk=RATE.
//
// It reads the bucket with a strongly consistent GetItem, refills it for the time elapsed since
// its updatedAt (never past burst; updatedAt never moves back, whatever the callers' clocks),
// and when a whole token is there writes the bucket less that token with one UpdateItem whose
// condition is that tokens and updatedAt still hold what was read (or, for a new bucket, that
// there is none). Every successful update changes that pair, so of two requests that read the
// same bucket only one can write it: the other's condition fails, DynamoDB returns the bucket
// the winner left (ReturnValuesOnConditionCheckFailure ALL_OLD), and it decides again from
// there after a short random wait. After the Store's token attempts (2×burst+5 unless WithTokenAttempts) it
// returns an error wrapping chat.ErrTokenContention. A refusal writes nothing.
//
// The only write action it needs is dynamodb:UpdateItem (and dynamodb:GetItem to read).
func (s *Store) TakeToken(ctx context.Context, connectionID string, now time.Time, rate, burst float64, expiresAt time.Time) (bool, error) {
	if connectionID == "" {
		return false, errors.New("dynamostore: take token: empty connection id")
	}
	if !(rate > 0) || math.IsInf(rate, 0) || !(burst >= 1) || math.IsInf(burst, 0) {
		return false, fmt.Errorf("dynamostore: take token of %s: rate %v per second and burst %v, want rate > 0 and burst >= 1", connectionID, rate, burst)
	}
	key := itemKey(contract.PrefixConnection+connectionID, contract.SortKeyRate)
	item, err := s.getItem(ctx, key)
	if err != nil {
		return false, fmt.Errorf("dynamostore: take token of %s: read bucket: %w", connectionID, err)
	}
	for attempt := 1; ; attempt++ {
		b, err := decodeBucket(item)
		if err != nil {
			return false, fmt.Errorf("dynamostore: take token of %s: %w", connectionID, err)
		}
		left, updatedAt, ok := b.take(now.UnixMilli(), rate, burst)
		if !ok {
			return false, nil
		}
		out, err := s.client.UpdateItem(ctx, b.update(s.table, key, left, updatedAt, expiresAt))
		if err == nil {
			s.consumedWrite.addFrom(out.ConsumedCapacity)
			return true, nil
		}
		var failed *types.ConditionalCheckFailedException
		if !errors.As(err, &failed) {
			return false, fmt.Errorf("dynamostore: take token of %s: update: %w", connectionID, err)
		}
		if attempt >= tokenAttempts(s.tokenAttempts, burst) {
			return false, fmt.Errorf("dynamostore: take token of %s: the bucket changed under each of %d attempts: %w", connectionID, attempt, chat.ErrTokenContention)
		}
		// Another request of the connection wrote the bucket first. DynamoDB returns the
		// bucket it left; none means the bucket is gone (or an emulator does not return it).
		item = failed.Item
		if len(item) == 0 {
			if item, err = s.getItem(ctx, key); err != nil {
				return false, fmt.Errorf("dynamostore: take token of %s: read bucket: %w", connectionID, err)
			}
		}
		select {
		case <-ctx.Done():
			return false, fmt.Errorf("dynamostore: take token of %s: %w", connectionID, ctx.Err())
		case <-time.After(rand.N(time.Duration(attempt) * tokenRetryStep)):
		}
	}
}

// bucket is a rate limit bucket as read.
type bucket struct {
	exists    bool
	tokens    float64
	updatedAt int64 // epoch ms
	// rawTokens and rawUpdatedAt are the attribute values as read: the update's condition
	// compares with them, so no number formatting can make equal values differ.
	rawTokens, rawUpdatedAt types.AttributeValue
}

// decodeBucket reads a bucket item; an empty item is a bucket that does not exist yet.
func decodeBucket(item map[string]types.AttributeValue) (bucket, error) {
	if len(item) == 0 {
		return bucket{}, nil
	}
	b := bucket{exists: true, rawTokens: item[contract.AttrTokens], rawUpdatedAt: item[contract.AttrUpdatedAt]}
	tokens, ok := b.rawTokens.(*types.AttributeValueMemberN)
	updated, ok2 := b.rawUpdatedAt.(*types.AttributeValueMemberN)
	if !ok || !ok2 {
		return bucket{}, fmt.Errorf("bucket item: %s and %s must be numbers, got %T and %T", contract.AttrTokens, contract.AttrUpdatedAt, b.rawTokens, b.rawUpdatedAt)
	}
	var err error
	if b.tokens, err = strconv.ParseFloat(tokens.Value, 64); err != nil || math.IsNaN(b.tokens) || math.IsInf(b.tokens, 0) {
		return bucket{}, fmt.Errorf("bucket item: %s %q is not a finite number", contract.AttrTokens, tokens.Value)
	}
	if b.updatedAt, err = strconv.ParseInt(updated.Value, 10, 64); err != nil {
		return bucket{}, fmt.Errorf("bucket item: %s %q is not epoch milliseconds", contract.AttrUpdatedAt, updated.Value)
	}
	return b, nil
}

// take returns the tokens left after taking one at nowMs and the bucket's new updatedAt, and
// false when the refilled bucket holds less than one token.
func (b bucket) take(nowMs int64, rate, burst float64) (left float64, updatedAt int64, ok bool) {
	tokens, updatedAt := burst, nowMs
	if b.exists {
		elapsed := max(nowMs-b.updatedAt, 0)
		tokens = min(burst, b.tokens+float64(elapsed)*rate/1000)
		updatedAt = max(nowMs, b.updatedAt)
	}
	tokens = math.Round(tokens*tokenPrecision) / tokenPrecision
	if tokens < 1 {
		return 0, 0, false
	}
	return math.Round((tokens-1)*tokenPrecision) / tokenPrecision, updatedAt, true
}

// update returns the UpdateItem that writes the bucket with left tokens at updatedAt, on the
// condition that the bucket is still as b was read.
func (b bucket) update(table string, key map[string]types.AttributeValue, left float64, updatedAt int64, expiresAt time.Time) *dynamodb.UpdateItemInput {
	names := map[string]string{"#tokens": contract.AttrTokens, "#updatedAt": contract.AttrUpdatedAt}
	values := map[string]types.AttributeValue{
		":tokens":    &types.AttributeValueMemberN{Value: strconv.FormatFloat(left, 'f', -1, 64)},
		":updatedAt": &types.AttributeValueMemberN{Value: strconv.FormatInt(updatedAt, 10)},
	}
	set := "SET #tokens = :tokens, #updatedAt = :updatedAt"
	if !expiresAt.IsZero() {
		names["#expiresAt"] = contract.AttrExpiresAt
		values[":expiresAt"] = &types.AttributeValueMemberN{Value: strconv.FormatInt(expiresAt.Unix(), 10)}
		set += ", #expiresAt = :expiresAt"
	}
	var cond string
	if b.exists {
		cond = "#tokens = :readTokens AND #updatedAt = :readUpdatedAt"
		values[":readTokens"] = b.rawTokens
		values[":readUpdatedAt"] = b.rawUpdatedAt
	} else {
		cond = "attribute_not_exists(#pk)"
		names["#pk"] = contract.AttrPK
	}
	return &dynamodb.UpdateItemInput{
		TableName:                           &table,
		Key:                                 key,
		UpdateExpression:                    &set,
		ConditionExpression:                 &cond,
		ExpressionAttributeNames:            names,
		ExpressionAttributeValues:           values,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		ReturnConsumedCapacity:              types.ReturnConsumedCapacityTotal,
	}
}
