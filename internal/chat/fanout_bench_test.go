package chat_test

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/sync/errgroup"

	"github.com/chatstack/websocketchatapi/internal/chat"
	"github.com/chatstack/websocketchatapi/internal/contract"
	"github.com/chatstack/websocketchatapi/internal/dynamostore"
	"github.com/chatstack/websocketchatapi/internal/dynamostore/dynamostoretest"
	"github.com/chatstack/websocketchatapi/internal/managementapi"
	"github.com/chatstack/websocketchatapi/internal/managementapi/managementapitest"
)

// The fan-out benchmarks measure one broadcast, chat.Service.Fanout, over the real stack:
// DynamoDB Local with the real table schema, the real dynamostore.Store, and the real
// managementapi client posting to a local @connections stand-in that answers every POST after
// -fanout.latency, so that, as in AWS, the bound is the wait for API Gateway:
//
//	ideal = posts × latency ÷ concurrency
//
// Each op is one broadcast to every member of the room (no sender is excluded, so posts =
// members). Metrics: median-ns/op (the median broadcast's wall time), posts/s and ratio
// (ideal ÷ actual; 1 is the bound) at that median, RCU/op (read capacity the broadcast
// consumed, as DynamoDB reported it: ReturnConsumedCapacity TOTAL), pages/op (Query requests
// answered, one per page of the byRoom index) and retries/op. Setup (members written with
// BatchWriteItem in parallel, a warm-up broadcast) is not measured.
//
//	go test ./internal/chat -run '^$' -bench Fanout -benchtime 3x \
//		-args -fanout.sizes 100,1000 -fanout.concurrency 32,64
//
// go run ./bench/fanout runs them and prints the figures as a table.
var (
	benchLatency     = flag.Duration("fanout.latency", 10*time.Millisecond, "fan-out benchmarks: time the @connections stand-in takes to answer each POST")
	benchSizes       = flag.String("fanout.sizes", "100,1000,10000", "fan-out benchmarks: comma-separated room sizes (members)")
	benchConcurrency = flag.String("fanout.concurrency", strconv.Itoa(contract.DefaultFanoutConcurrency), "fan-out benchmarks: comma-separated FanoutOptions.Concurrency values")
	benchOther       = flag.Int("fanout.other", 50000, "fan-out benchmarks: connections (each with one membership) added in other rooms by BenchmarkFanoutTableGrowth")
)

// growthRoomSize is the room BenchmarkFanoutTableGrowth broadcasts to before and after the
// table grows.
const growthRoomSize = 1000

// growthBeforeRuns is how many broadcasts BenchmarkFanoutTableGrowth measures before the table
// grows.
const growthBeforeRuns = 5

// otherRoomSize is how many of the -fanout.other connections share each other room.
const otherRoomSize = 100

// benchWriters is how many BatchWriteItem calls the setup keeps in flight.
const benchWriters = 16

// benchFrame is the frame broadcast: a chat message of typical size.
var benchFrame = []byte(`{"type":"message","roomId":"bench","messageId":"01JD8Z6Y0A5N3V9X4K2M7QGT1B","userId":"user-0001",` +
	`"displayName":"Benchmark User","text":"The quick brown fox jumps over the lazy dog, twice over.","sentAt":"2026-11-21T10:00:00.000Z"}`)

// BenchmarkFanout broadcasts to rooms of each -fanout.sizes at each -fanout.concurrency. After
// each broadcast, untimed, it posts to the same connections through the same client with the
// same bounded concurrency but without reading DynamoDB: ceiling-ratio, that run's ideal ÷
// actual, is the most this machine allows (the SDK's per-post cost, loopback HTTP, timers and
// CPU shared with DynamoDB Local and other work), measured under the same load as the broadcast.
func BenchmarkFanout(b *testing.B) {
	sizes, err := parseInts(*benchSizes)
	if err != nil {
		b.Fatalf("-fanout.sizes: %v", err)
	}
	concs, err := parseInts(*benchConcurrency)
	if err != nil {
		b.Fatalf("-fanout.concurrency: %v", err)
	}
	f := newBenchFixture(b)
	for _, size := range sizes {
		for _, conc := range concs {
			b.Run(fmt.Sprintf("members=%d/concurrency=%d", size, conc), func(b *testing.B) {
				room := f.room(b, size)
				svc := f.service(b, conc)
				f.warmUp(b, svc, room.id, size)
				var sum, ceiling broadcastSum
				for b.Loop() {
					sum.add(f.broadcast(b, svc, room.id, size))
					b.StopTimer()
					ceiling.add(f.postOnly(b, room.members, conc))
					f.api.Reset() // the stand-in records every request
					b.StartTimer()
				}
				sum.report(b, conc, *benchLatency)
				ceiling.reportCeiling(b, conc, *benchLatency)
			})
		}
	}
}

// BenchmarkFanoutTableGrowth shows that a broadcast reads the room, not the table: it
// broadcasts to a room of 1,000 members, adds -fanout.other connections with a membership
// each in other rooms, and broadcasts again (the measured ops). RCU-before and RCU-after,
// pages-before and pages-after must match (per broadcast); median-ns-before is the median wall
// time of the runs-before (growthBeforeRuns) broadcasts before.
func BenchmarkFanoutTableGrowth(b *testing.B) {
	conc := contract.DefaultFanoutConcurrency
	f := newBenchFixture(b)
	room := f.room(b, growthRoomSize).id
	svc := f.service(b, conc)
	f.warmUp(b, svc, room, growthRoomSize)
	var before broadcastSum
	for range growthBeforeRuns {
		before.add(f.broadcast(b, svc, room, growthRoomSize))
	}
	f.growTable(b, *benchOther)
	var sum broadcastSum
	for b.Loop() {
		sum.add(f.broadcast(b, svc, room, growthRoomSize))
	}
	sum.report(b, conc, *benchLatency)
	b.ReportMetric(before.rcu/float64(before.ops), "RCU-before")
	b.ReportMetric(sum.rcu/float64(sum.ops), "RCU-after")
	b.ReportMetric(float64(before.pages)/float64(before.ops), "pages-before")
	b.ReportMetric(float64(sum.pages)/float64(sum.ops), "pages-after")
	b.ReportMetric(float64(before.median().Nanoseconds()), "median-ns-before")
	b.ReportMetric(float64(before.ops), "runs-before")
	b.ReportMetric(float64(*benchOther), "other-conns")
}

// parseInts parses a comma-separated list of positive integers.
func parseInts(s string) ([]int, error) {
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

// benchFixture is the table, store and @connections stand-in of one top-level fan-out
// benchmark. Rooms are written once and reused by its sub-benchmarks.
type benchFixture struct {
	client  *dynamodb.Client
	queries *queryCounter
	table   string
	store   *dynamostore.Store
	api     *managementapitest.Server
	poster  *managementapi.Client
	rooms   map[int]benchRoom
	svcs    map[int]*chat.Service
}

// benchRoom is a room written to the table.
type benchRoom struct {
	id      string
	members []string // connection ids
}

// newBenchFixture creates a table of its own in DynamoDB Local and starts an @connections
// stand-in that lives as long as b.
func newBenchFixture(b *testing.B) *benchFixture {
	b.Helper()
	base, table := dynamostoretest.NewTable(b)
	counter := &queryCounter{}
	client := dynamodb.New(base.Options(), func(o *dynamodb.Options) {
		inner := o.HTTPClient
		if inner == nil {
			inner = awshttp.NewBuildableClient()
		}
		if bc, ok := inner.(*awshttp.BuildableClient); ok {
			// The setup writes with benchWriters requests in flight.
			inner = bc.WithTransportOptions(func(t *http.Transport) { t.MaxIdleConnsPerHost = 2 * benchWriters })
		}
		counter.inner = inner
		o.HTTPClient = counter
	})
	api := managementapitest.New(b, "prod")
	api.SetLatency(*benchLatency)
	return &benchFixture{
		client:  client,
		queries: counter,
		table:   table,
		store:   dynamostore.New(client, table),
		api:     api,
		poster:  api.Client(),
		rooms:   map[int]benchRoom{},
		svcs:    map[int]*chat.Service{},
	}
}

// service returns the Service that fans out with concurrency conc.
func (f *benchFixture) service(b *testing.B, conc int) *chat.Service {
	b.Helper()
	if svc, ok := f.svcs[conc]; ok {
		return svc
	}
	svc, err := chat.NewService(f.store, f.poster, chat.Options{
		Fanout: chat.FanoutOptions{Concurrency: conc},
	})
	if err != nil {
		b.Fatal(err)
	}
	f.svcs[conc] = svc
	return svc
}

// room returns a room of size members, writing it on first use.
func (f *benchFixture) room(b *testing.B, size int) benchRoom {
	b.Helper()
	if r, ok := f.rooms[size]; ok {
		return r
	}
	r := benchRoom{id: fmt.Sprintf("bench-%d", size)}
	prefix := "m" + strconv.Itoa(size) + "-"
	for i := range size {
		r.members = append(r.members, memberID(prefix, i))
	}
	start := time.Now()
	if err := f.putMembers(context.Background(), []string{r.id}, size, prefix); err != nil {
		b.Fatal(err)
	}
	b.Logf("setup: wrote %d connections and memberships of room %s in %v", size, r.id, time.Since(start).Round(time.Millisecond))
	f.rooms[size] = r
	return r
}

// memberID is the id of the index-th connection putMembers writes with prefix.
func memberID(prefix string, index int) string { return fmt.Sprintf("%s%06d", prefix, index) }

// growTable adds n connections, each a member of one of the other rooms of otherRoomSize.
func (f *benchFixture) growTable(b *testing.B, n int) {
	b.Helper()
	if n < 0 {
		b.Fatalf("-fanout.other %d, want >= 0", n)
	}
	start := time.Now()
	var rooms []string
	for i := 0; i < (n+otherRoomSize-1)/otherRoomSize; i++ {
		rooms = append(rooms, fmt.Sprintf("other-%05d", i))
	}
	if err := f.putMembers(context.Background(), rooms, n, "o-"); err != nil {
		b.Fatal(err)
	}
	b.Logf("setup: wrote %d connections and memberships in %d other rooms in %v", n, len(rooms), time.Since(start).Round(time.Millisecond))
}

// putMembers writes n connections named prefix + index, each with its connection item and a
// membership of rooms[index % len(rooms)], with BatchWriteItem calls in parallel.
func (f *benchFixture) putMembers(ctx context.Context, rooms []string, n int, prefix string) error {
	if n == 0 {
		return nil
	}
	now := time.Now().UTC()
	joined := strconv.FormatInt(now.UnixMilli(), 10)
	expires := strconv.FormatInt(now.Add(contract.DefaultConnectionTTL).Unix(), 10)
	s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	num := func(v string) types.AttributeValue { return &types.AttributeValueMemberN{Value: v} }
	items := func(i int) []types.WriteRequest {
		conn := memberID(prefix, i)
		room := rooms[i%len(rooms)]
		user, name := "user-"+conn, "User "+conn
		return []types.WriteRequest{
			{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{
				contract.AttrPK:          s(contract.PrefixConnection + conn),
				contract.AttrSK:          s(contract.SortKeyConnection),
				contract.AttrUserID:      s(user),
				contract.AttrDisplayName: s(name),
				contract.AttrConnectedAt: num(joined),
				contract.AttrExpiresAt:   num(expires),
			}}},
			{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{
				contract.AttrPK:          s(contract.PrefixConnection + conn),
				contract.AttrSK:          s(contract.PrefixRoom + room),
				contract.AttrGSI1PK:      s(contract.RoomShardKey(room, contract.RoomShard(conn))),
				contract.AttrGSI1SK:      s(contract.PrefixConnection + conn),
				contract.AttrUserID:      s(user),
				contract.AttrDisplayName: s(name),
				contract.AttrJoinedAt:    num(joined),
				contract.AttrExpiresAt:   num(expires),
			}}},
		}
	}
	// BatchWriteItem takes up to 25 requests: 12 connections, 24 items.
	const perBatch = 12
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(benchWriters)
	for first := 0; first < n; first += perBatch {
		var batch []types.WriteRequest
		for i := first; i < min(first+perBatch, n); i++ {
			batch = append(batch, items(i)...)
		}
		g.Go(func() error { return f.batchWrite(ctx, batch) })
	}
	if err := g.Wait(); err != nil {
		return fmt.Errorf("write %d connections %s*: %w", n, prefix, err)
	}
	return nil
}

// batchWrite writes reqs with BatchWriteItem, resending unprocessed items.
func (f *benchFixture) batchWrite(ctx context.Context, reqs []types.WriteRequest) error {
	for attempt := 1; len(reqs) > 0; attempt++ {
		if attempt > 20 {
			return fmt.Errorf("batch write: %d items still unprocessed after %d attempts", len(reqs), attempt-1)
		}
		out, err := f.client.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{
			RequestItems: map[string][]types.WriteRequest{f.table: reqs},
		})
		if err != nil {
			return fmt.Errorf("batch write: %w", err)
		}
		reqs = out.UnprocessedItems[f.table]
		if len(reqs) > 0 {
			time.Sleep(time.Duration(attempt) * 10 * time.Millisecond)
		}
	}
	return nil
}

// warmUp makes one unmeasured broadcast, so that the measured ones find open HTTP connections
// to both servers, as a warm Lambda does.
func (f *benchFixture) warmUp(b *testing.B, svc *chat.Service, room string, size int) {
	b.Helper()
	f.broadcast(b, svc, room, size)
}

// postOnly posts benchFrame to each of targets through the fixture's client, conc at a time,
// as Fanout does but without reading the room.
func (f *benchFixture) postOnly(b *testing.B, targets []string, conc int) broadcastResult {
	b.Helper()
	var g errgroup.Group
	g.SetLimit(conc)
	start := time.Now()
	for _, id := range targets {
		g.Go(func() error { return f.poster.Post(context.Background(), id, benchFrame) })
	}
	if err := g.Wait(); err != nil {
		b.Fatal(err)
	}
	return broadcastResult{posts: len(targets), wall: time.Since(start)}
}

// broadcastResult is what one broadcast did.
type broadcastResult struct {
	posts   int
	retries int
	wall    time.Duration
	rcu     float64
	pages   int64
}

// broadcast fans benchFrame out to every member of room and checks that all size received it.
func (f *benchFixture) broadcast(b *testing.B, svc *chat.Service, room string, size int) broadcastResult {
	b.Helper()
	rcu, pages := f.store.ConsumedRead(), f.queries.n.Load()
	start := time.Now()
	stats, err := svc.Fanout(context.Background(), room, "", benchFrame)
	wall := time.Since(start)
	if err != nil {
		b.Fatal(err)
	}
	if stats.Targets != size || stats.Delivered != size {
		b.Fatalf("broadcast to %s: %+v, want %d targets, all delivered", room, stats, size)
	}
	return broadcastResult{
		posts:   stats.Delivered,
		retries: stats.Retries,
		wall:    wall,
		rcu:     f.store.ConsumedRead() - rcu,
		pages:   f.queries.n.Load() - pages,
	}
}

// broadcastSum adds up the measured broadcasts of one benchmark.
type broadcastSum struct {
	ops     int
	posts   int
	retries int
	walls   []time.Duration
	rcu     float64
	pages   int64
}

// add counts one broadcast.
func (s *broadcastSum) add(r broadcastResult) {
	s.ops++
	s.posts += r.posts
	s.retries += r.retries
	s.walls = append(s.walls, r.wall)
	s.rcu += r.rcu
	s.pages += r.pages
}

// median returns the median wall time of the broadcasts, 0 when there were none.
func (s *broadcastSum) median() time.Duration {
	if len(s.walls) == 0 {
		return 0
	}
	walls := slices.Clone(s.walls)
	slices.Sort(walls)
	if len(walls)%2 == 0 {
		return (walls[len(walls)/2-1] + walls[len(walls)/2]) / 2
	}
	return walls[len(walls)/2]
}

// report reports, per broadcast: median-ns/op (the median wall time, steadier than the
// mean ns/op on a shared machine), posts/s and ratio (ideal ÷ actual) at that median,
// posts/op, ideal-ns/op, RCU/op, pages/op and retries/op (posts retried after a transient
// failure).
func (s *broadcastSum) report(b *testing.B, conc int, latency time.Duration) {
	if s.ops == 0 {
		return
	}
	median := s.median()
	if median <= 0 {
		return
	}
	posts := float64(s.posts) / float64(s.ops)
	ideal := time.Duration(posts * float64(latency) / float64(conc))
	b.ReportMetric(float64(median.Nanoseconds()), "median-ns/op")
	b.ReportMetric(posts/median.Seconds(), "posts/s")
	b.ReportMetric(ideal.Seconds()/median.Seconds(), "ratio")
	b.ReportMetric(posts, "posts/op")
	b.ReportMetric(float64(ideal.Nanoseconds()), "ideal-ns/op")
	b.ReportMetric(s.rcu/float64(s.ops), "RCU/op")
	b.ReportMetric(float64(s.pages)/float64(s.ops), "pages/op")
	b.ReportMetric(float64(s.retries)/float64(s.ops), "retries/op")
}

// reportCeiling reports ceiling-ratio (ideal ÷ median wall time) and ceiling-median-ns/op
// for posts made without reading the room.
func (s *broadcastSum) reportCeiling(b *testing.B, conc int, latency time.Duration) {
	median := s.median()
	if s.ops == 0 || median <= 0 {
		return
	}
	posts := float64(s.posts) / float64(s.ops)
	ideal := posts * float64(latency) / float64(conc)
	b.ReportMetric(ideal/float64(median), "ceiling-ratio")
	b.ReportMetric(float64(median.Nanoseconds()), "ceiling-median-ns/op")
}

// queryCounter is the DynamoDB client's HTTP client: it counts the pages read, the Query
// requests answered 200 (a request the SDK retries counts once, when it succeeds). With
// sizeItems set (the large-room benchmarks), it also adds up what each page costs by AWS's
// formula (awsQueryRCU), from the items the answer carries.
type queryCounter struct {
	inner     aws.HTTPClient
	n         atomic.Int64
	sizeItems atomic.Bool
	items     atomic.Int64
	halfRCU   atomic.Int64 // AWS's read units, in halves (an eventually consistent unit)
}

// Do sends r and counts it when it is a Query answered 200.
func (c *queryCounter) Do(r *http.Request) (*http.Response, error) {
	resp, err := c.inner.Do(r)
	if err == nil && resp.StatusCode == http.StatusOK && r.Header.Get("X-Amz-Target") == "DynamoDB_20120810.Query" {
		c.n.Add(1)
		if c.sizeItems.Load() {
			resp.Body = c.size(resp.Body)
		}
	}
	return resp, err
}
