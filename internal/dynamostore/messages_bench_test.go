package dynamostore

import (
	"context"
	"flag"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/chatstack/websocketchatapi/internal/chat"
	"github.com/chatstack/websocketchatapi/internal/contract"
	"github.com/chatstack/websocketchatapi/internal/dynamostore/dynamostoretest"
)

// The sequencing benchmarks measure what a per-room sequence number costs a message, on
// DynamoDB Local with the real table schema and the real Store:
//
//   - BenchmarkAppend, one sender: put-baseline is the write before sequencing (one
//     unconditional PutItem of the same message item, sent with the raw client: 1 WCU);
//     append is AppendMessage (a strongly consistent GetItem of the room's head, then a
//     TransactWriteItems of the head update and the message put); append-once is
//     AppendMessageOnce (the same with a third item, the clientMessageId record).
//   - BenchmarkAppendContention: -seq.senders goroutines appending to one room at once.
//
// Metrics per message: ns/op and median-ns/op; RCU/msg and WCU-local/msg, the capacity DynamoDB Local
// reported (ReturnConsumedCapacity TOTAL; Local reports a flat 4 WCU for every
// TransactWriteItems whatever its items); WCU-aws/msg, what AWS charges by its documented
// formula (a PutItem: 1 WCU per KB of the item; a TransactWriteItems: 2 WCU per KB of each
// item), computed from the sizes of the items the run stored (msg-B, head-B, record-B, by
// AWS's item size rules); for contention msgs/s, retries/msg (head reads beyond the first:
// every try of an append reads the head once, 1 RCU) and p50-ms/p99-ms of one append.
//
//	go test ./internal/dynamostore -run '^$' -bench 'Append' -benchtime 300x \
//		-args -seq.senders 1,4,16
//
// go run ./bench/sequence runs them with the resume benchmark of package chat and prints
// the figures as tables.
var (
	benchSenders   = flag.String("seq.senders", "1,4,16", "sequencing benchmarks: comma-separated numbers of concurrent senders in one room (BenchmarkAppendContention)")
	benchTextBytes = flag.Int("seq.text-bytes", 100, "sequencing benchmarks: bytes of text per message")
)

// benchEnv is the table and Store of one sequencing benchmark. Its Store reads the real clock.
type benchEnv struct {
	client *dynamodb.Client
	table  string
	store  *Store
}

// benchRooms numbers the rooms of the benchmarks that run once per b.N.
var benchRooms atomic.Int64

// newBenchEnv creates a table of b's own in the package's DynamoDB Local.
func newBenchEnv(b *testing.B) benchEnv {
	b.Helper()
	client, table := dynamostoretest.NewTable(b)
	return benchEnv{client: client, table: table, store: New(client, table)}
}

// benchMessage is the i-th message of a benchmark in room: a typical chat message with
// -seq.text-bytes of text.
func benchMessage(room string, i int) chat.StoredMessage {
	at := time.Now().UTC().Truncate(time.Millisecond)
	text := strings.Repeat("x", max(*benchTextBytes, 1))
	return chat.StoredMessage{
		RoomID: room, MessageID: fmt.Sprintf("01JD8Z6Y0A5N3V9X4K%08d", i), UserID: "3f2a9c1e-7b4d-4e8a-9f10-2c3d4e5f6a7b",
		DisplayName: "Benchmark User", Text: text, SentAt: at, ExpiresAt: at.Add(contract.DefaultHistoryRetention),
	}
}

// capacitySince counts the capacity a run of messages consumes, as DynamoDB Local reports it.
type capacitySince struct {
	store       *Store
	read, write float64
}

// since starts counting s's capacity.
func since(s *Store) capacitySince {
	return capacitySince{store: s, read: s.ConsumedRead(), write: s.ConsumedWrite()}
}

// opTimes are the wall times of a sub-benchmark's ops.
type opTimes []time.Duration

// time runs op and records its wall time.
func (t *opTimes) time(op func()) {
	start := time.Now()
	op()
	*t = append(*t, time.Since(start))
}

// report reports median-ns/op, steadier than the mean on a shared machine.
func (t opTimes) report(b *testing.B) {
	b.ReportMetric(float64(percentile(t, 0.5).Nanoseconds()), "median-ns/op")
}

// report reports RCU/msg and WCU-local/msg over n messages.
func (c capacitySince) report(b *testing.B, n int) {
	b.ReportMetric((c.store.ConsumedRead()-c.read)/float64(n), "RCU/msg")
	b.ReportMetric((c.store.ConsumedWrite()-c.write)/float64(n), "WCU-local/msg")
}

// BenchmarkAppend compares the write before sequencing with AppendMessage and
// AppendMessageOnce, one sender, each in a room of its own.
func BenchmarkAppend(b *testing.B) {
	e := newBenchEnv(b)
	ctx := context.Background()
	e.warmUp(b)
	b.Run("put-baseline", func(b *testing.B) {
		var wcu float64
		var last map[string]types.AttributeValue
		var times opTimes
		i := 0
		for b.Loop() {
			i++
			m := benchMessage("baseline", i)
			m.Seq = int64(i)
			last = e.store.putMessage(m).Put.Item
			var out *dynamodb.PutItemOutput
			var err error
			times.time(func() {
				out, err = e.client.PutItem(ctx, &dynamodb.PutItemInput{
					TableName: aws.String(e.table), Item: last, ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
				})
			})
			if err != nil {
				b.Fatalf("put message %d: %v", i, err)
			}
			wcu += aws.ToFloat64(out.ConsumedCapacity.CapacityUnits)
		}
		times.report(b)
		size := itemSize(last)
		b.ReportMetric(0, "RCU/msg")
		b.ReportMetric(wcu/float64(i), "WCU-local/msg")
		b.ReportMetric(writeUnits(size), "WCU-aws/msg")
		b.ReportMetric(float64(size), "msg-B")
	})
	b.Run("append", func(b *testing.B) {
		c := since(e.store)
		var times opTimes
		i := 0
		for b.Loop() {
			i++
			m := benchMessage("append", i)
			var err error
			times.time(func() { _, err = e.store.AppendMessage(ctx, m) })
			if err != nil {
				b.Fatal(err)
			}
		}
		times.report(b)
		c.report(b, i)
		e.reportAWS(b, "append", int64(i), "")
	})
	b.Run("append-once", func(b *testing.B) {
		c := since(e.store)
		var times opTimes
		i := 0
		for b.Loop() {
			i++
			m := benchMessage("once", i)
			var prior *chat.SentRecord
			var err error
			times.time(func() {
				_, prior, err = e.store.AppendMessageOnce(ctx, m, "c-"+strconv.Itoa(i), m.SentAt.Add(time.Hour))
			})
			if err != nil || prior != nil {
				b.Fatalf("append once %d: %+v, %v", i, prior, err)
			}
		}
		times.report(b)
		c.report(b, i)
		e.reportAWS(b, "once", int64(i), "c-"+strconv.Itoa(i))
	})
}

// benchWarmUp is how many messages warmUp writes each way before anything is measured.
const benchWarmUp = 100

// warmUp writes benchWarmUp messages each way (PutItem, AppendMessage, AppendMessageOnce) in
// a room of its own, so that DynamoDB Local's JIT and the client's connections are warm for
// whichever sub-benchmark comes first.
func (e benchEnv) warmUp(b *testing.B) {
	b.Helper()
	ctx := context.Background()
	for i := 1; i <= benchWarmUp; i++ {
		m := benchMessage("warm-up", i)
		m.Seq = int64(1_000_000 + i)
		if _, err := e.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(e.table), Item: e.store.putMessage(m).Put.Item}); err != nil {
			b.Fatalf("warm-up put %d: %v", i, err)
		}
		if _, err := e.store.AppendMessage(ctx, m); err != nil {
			b.Fatalf("warm-up: %v", err)
		}
		if _, _, err := e.store.AppendMessageOnce(ctx, m, "w-"+strconv.Itoa(i), m.SentAt.Add(time.Hour)); err != nil {
			b.Fatalf("warm-up: %v", err)
		}
	}
}

// reportAWS reads back the head and the seq-th message of room (and the record of
// clientMessageID, unless it is "") and reports their sizes and WCU-aws/msg: 2 WCU per KB
// of each item of the transaction. The head's update is charged on the larger of its
// before and after images, the same size here.
func (e benchEnv) reportAWS(b *testing.B, room string, seq int64, clientMessageID string) {
	b.Helper()
	head := e.rawItem(b, itemKey(contract.PrefixRoom+room, contract.SortKeyHead))
	msg := e.rawItem(b, itemKey(contract.PrefixRoom+room, messageSortKey(seq)))
	if got := decodeNum(b, msg); got != seq {
		b.Fatalf("room %s: message %d holds seq %d", room, seq, got)
	}
	wcu := 2*writeUnits(itemSize(head)) + 2*writeUnits(itemSize(msg))
	if clientMessageID != "" {
		rec := e.rawItem(b, sentKey(room, benchMessage(room, 0).UserID, clientMessageID))
		wcu += 2 * writeUnits(itemSize(rec))
		b.ReportMetric(float64(itemSize(rec)), "record-B")
	}
	b.ReportMetric(wcu, "WCU-aws/msg")
	b.ReportMetric(float64(itemSize(msg)), "msg-B")
	b.ReportMetric(float64(itemSize(head)), "head-B")
}

// rawItem reads the item of key with the raw client, failing b when it is absent.
func (e benchEnv) rawItem(b *testing.B, key map[string]types.AttributeValue) map[string]types.AttributeValue {
	b.Helper()
	out, err := e.client.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(e.table), Key: key, ConsistentRead: aws.Bool(true)})
	if err != nil || len(out.Item) == 0 {
		b.Fatalf("get item %v: %d attributes, %v", key, len(out.Item), err)
	}
	return out.Item
}

// decodeNum returns the seq attribute of item.
func decodeNum(b *testing.B, item map[string]types.AttributeValue) int64 {
	b.Helper()
	d := decoder{item: item}
	n, _ := d.num(contract.AttrSeq)
	if d.err != nil {
		b.Fatal(d.err)
	}
	return n
}

// BenchmarkAppendContention runs -seq.senders senders appending to one room (a fresh room
// per sub-benchmark) until b.N messages are stored, then checks that the room's numbers are
// 1 to b.N. An append that loses the race for a number reads the head again: retries/msg
// counts those reads (RCU beyond one per message; the head is one strongly consistent read
// of a small item, 1 RCU).
func BenchmarkAppendContention(b *testing.B) {
	senders, err := parsePositive(*benchSenders)
	if err != nil {
		b.Fatalf("-seq.senders: %v", err)
	}
	e := newBenchEnv(b)
	for _, n := range senders {
		b.Run(fmt.Sprintf("senders=%d", n), func(b *testing.B) {
			// The function runs again for each b.N: a room per run.
			room := fmt.Sprintf("contention-%d-%d", n, benchRooms.Add(1))
			store := New(e.client, e.table) // counters of its own
			var next atomic.Int64
			lat := make([]time.Duration, 0, 1024)
			var mu sync.Mutex
			var wg sync.WaitGroup
			errs := make(chan error, n)
			total := int64(b.N)
			b.ResetTimer()
			start := time.Now()
			for range n {
				wg.Go(func() {
					for i := next.Add(1); i <= total; i = next.Add(1) {
						t0 := time.Now()
						if _, err := store.AppendMessage(context.Background(), benchMessage(room, int(i))); err != nil {
							errs <- err
							return
						}
						d := time.Since(t0)
						mu.Lock()
						lat = append(lat, d)
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			wall := time.Since(start)
			b.StopTimer()
			close(errs)
			for err := range errs {
				b.Fatal(err)
			}
			if last, err := store.LastSeq(context.Background(), room); err != nil || last != total {
				b.Fatalf("room %s: last seq %d (%v), want %d", room, last, err, total)
			}
			reads := store.ConsumedRead() - 1 // the check's LastSeq
			b.ReportMetric(float64(total)/wall.Seconds(), "msgs/s")
			b.ReportMetric((reads-float64(total))/float64(total), "retries/msg")
			b.ReportMetric(reads/float64(total), "RCU/msg")
			b.ReportMetric(store.ConsumedWrite()/float64(total), "WCU-local/msg")
			b.ReportMetric(percentile(lat, 0.50).Seconds()*1000, "p50-ms")
			b.ReportMetric(percentile(lat, 0.99).Seconds()*1000, "p99-ms")
			b.ReportMetric(float64(n), "senders")
		})
	}
}

// percentile returns the p-quantile of ds (nearest rank), 0 for none.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(math.Ceil(p*float64(len(s)))) - 1
	return s[min(max(i, 0), len(s)-1)]
}

// parsePositive parses a comma-separated list of positive integers.
func parsePositive(s string) ([]int, error) {
	var out []int
	for field := range strings.SplitSeq(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(field))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("%q: want positive integers separated by commas", s)
		}
		out = append(out, n)
	}
	return out, nil
}

// writeUnits is AWS's write capacity of one write of an item of n bytes: 1 WCU per KB,
// rounded up.
func writeUnits(n int) float64 { return math.Ceil(float64(max(n, 1)) / 1024) }

// itemSize is an item's size as DynamoDB bills it
// (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html):
// per attribute, its name's UTF-8 bytes plus its value's: a string's UTF-8 bytes, a number's
// 1 byte per two significant digits plus 1, a string set's strings summed.
func itemSize(item map[string]types.AttributeValue) int {
	n := 0
	for name, v := range item {
		n += len(name)
		switch v := v.(type) {
		case *types.AttributeValueMemberS:
			n += len(v.Value)
		case *types.AttributeValueMemberN:
			digits := strings.Trim(strings.TrimLeft(strings.ReplaceAll(v.Value, ".", ""), "-0"), "0")
			n += (len(digits)+1)/2 + 1
		case *types.AttributeValueMemberSS:
			for _, s := range v.Value {
				n += len(s)
			}
		default:
			n += 8 // not in the message path's items
		}
	}
	return n
}
