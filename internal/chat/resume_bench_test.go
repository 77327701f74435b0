package chat_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/sync/errgroup"

	"github.com/chatstack/websocketchatapi/internal/chat"
	"github.com/chatstack/websocketchatapi/internal/contract"
	"github.com/chatstack/websocketchatapi/protocol"
)

// BenchmarkResume measures the catch-up of a reconnecting client: one joinroom with since 0
// to a room of -resume.messages stored messages, through chat.Service.Handle, over DynamoDB
// Local (the real table and Store) and the real @connections client posting to the local
// stand-in, which answers every POST after each of -resume.latency. Each op is one whole
// joinroom: membership and presence, the replay of every message in resume frames
// (strongly consistent Queries of 500 messages, frames under protocol.MaxMessageBytes), and
// the joined answer. The benchmark fails unless every message arrived once, in order, in
// frames under the cap.
//
// Metrics: median-ns/op (the median joinroom), msgs/s at that median, frames/op (POSTs),
// KB/frame (mean), RCU/op (as DynamoDB Local reported it), pages/op (Query requests).
//
// Setup, not measured (nor is one warm-up joinroom): the first -resume.appended messages go through Store.AppendMessage,
// so that the room's items are the Store's own; the rest are copies of the last of them
// with only the number, sort key and message id changed, written with BatchWriteItem in
// parallel, and the room's head is moved to the last number (the Store reads every one
// back and checks its sort key against its number).
//
//	go test ./internal/chat -run '^$' -bench Resume -benchtime 3x \
//		-args -resume.messages 10000 -resume.latency 0,10ms
var (
	benchResumeMessages = flag.Int("resume.messages", 10000, "resume benchmark: messages stored in the room, all replayed (since 0)")
	benchResumeLatency  = flag.String("resume.latency", "0s,10ms", "resume benchmark: comma-separated latencies of the @connections stand-in")
	benchResumeAppended = flag.Int("resume.appended", 500, "resume benchmark: how many of the messages setup stores with AppendMessage (the rest are copies of the last)")
)

// resumeRoom is the room the resume benchmark replays.
const resumeRoom = "resume"

// resumeConn is the connection that resumes.
const resumeConn = "resumer"

// BenchmarkResume replays the room to one connection at each -resume.latency.
func BenchmarkResume(b *testing.B) {
	var lats []time.Duration
	for field := range strings.SplitSeq(*benchResumeLatency, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(field))
		if err != nil || d < 0 {
			b.Fatalf("-resume.latency %q: want durations >= 0 separated by commas", *benchResumeLatency)
		}
		lats = append(lats, d)
	}
	n := *benchResumeMessages
	if n < 1 || *benchResumeAppended < 1 {
		b.Fatalf("-resume.messages %d, -resume.appended %d: want >= 1", n, *benchResumeAppended)
	}
	f := newBenchFixture(b)
	f.storeRoom(b, n, min(*benchResumeAppended, n))
	svc := f.service(b, contract.DefaultFanoutConcurrency)
	id := chat.Identity{UserID: "resumer-user", DisplayName: "Resuming User"}
	if _, err := svc.Connect(context.Background(), resumeConn, id); err != nil {
		b.Fatal(err)
	}
	// One unmeasured resume: the user's first join tells the room (a presence broadcast the
	// measured joins do not make), and DynamoDB Local's JIT warms up.
	f.api.SetLatency(0)
	f.resume(b, svc, id, n)
	f.checkResume(b, n)
	for _, lat := range lats {
		b.Run("latency="+lat.String(), func(b *testing.B) {
			f.api.SetLatency(lat)
			var sum broadcastSum
			var frames, bytes int
			for b.Loop() {
				f.api.Reset()
				r := f.resume(b, svc, id, n)
				b.StopTimer()
				frames += r.posts
				bytes += f.checkResume(b, n)
				b.StartTimer()
				sum.add(r)
			}
			median := sum.median()
			b.ReportMetric(float64(median.Nanoseconds()), "median-ns/op")
			b.ReportMetric(float64(n)/median.Seconds(), "msgs/s")
			b.ReportMetric(float64(frames)/float64(sum.ops), "frames/op")
			b.ReportMetric(float64(bytes)/float64(frames)/1024, "KB/frame")
			b.ReportMetric(sum.rcu/float64(sum.ops), "RCU/op")
			b.ReportMetric(float64(sum.pages)/float64(sum.ops), "pages/op")
			b.ReportMetric(float64(n), "messages")
		})
	}
}

// resume sends one joinroom with since 0 as the resuming connection and checks its answer.
func (f *benchFixture) resume(b *testing.B, svc *chat.Service, id chat.Identity, n int) broadcastResult {
	b.Helper()
	rcu, pages := f.store.ConsumedRead(), f.queries.n.Load()
	start := time.Now()
	res := svc.Handle(context.Background(), chat.Request{
		ConnectionID: resumeConn, Action: protocol.ActionJoinRoom, Identity: id,
		Body: []byte(fmt.Sprintf(`{"roomId":%q,"since":0}`, resumeRoom)),
	})
	wall := time.Since(start)
	j, ok := res.Frame.(protocol.Joined)
	if res.Code != "" || !ok || j.LastSeq != int64(n) {
		b.Fatalf("joinroom: %s (%v), want joined with lastSeq %d", protocol.Encode(res.Frame), res.Err, n)
	}
	return broadcastResult{
		posts: len(f.api.Posts(resumeConn)),
		wall:  wall,
		rcu:   f.store.ConsumedRead() - rcu,
		pages: f.queries.n.Load() - pages,
	}
}

// checkResume fails b unless the frames posted to the resuming connection are resume frames
// under the cap holding messages 1 to n, in order. It returns their bytes.
func (f *benchFixture) checkResume(b *testing.B, n int) int {
	b.Helper()
	next, bytes := int64(1), 0
	for i, raw := range f.api.Posts(resumeConn) {
		bytes += len(raw)
		if len(raw) > protocol.MaxMessageBytes {
			b.Fatalf("frame %d is %d bytes, over the %d-byte cap", i, len(raw), protocol.MaxMessageBytes)
		}
		var fr protocol.Resume
		if err := json.Unmarshal(raw, &fr); err != nil || fr.Type != protocol.FrameResume || fr.RoomID != resumeRoom {
			b.Fatalf("frame %d: %.200s (%v), want a resume frame of %s", i, raw, err, resumeRoom)
		}
		for _, m := range fr.Messages {
			if m.Seq != next {
				b.Fatalf("frame %d: message %d arrived where %d was due", i, m.Seq, next)
			}
			next++
		}
	}
	if next != int64(n)+1 {
		b.Fatalf("%d of %d messages arrived", next-1, n)
	}
	return bytes
}

// storeRoom stores n messages in resumeRoom: the first appended with AppendMessage, the
// rest copies of the last appended item (found under messageSK, which checks that key),
// then the head moved to n.
func (f *benchFixture) storeRoom(b *testing.B, n, appended int) {
	b.Helper()
	ctx := context.Background()
	start := time.Now()
	text := strings.Repeat("x", 100)
	for i := 1; i <= appended; i++ {
		at := time.Now().UTC().Truncate(time.Millisecond)
		m := chat.StoredMessage{
			RoomID: resumeRoom, MessageID: fmt.Sprintf("01JD8Z6Y0A5N3V9X4K%08d", i), UserID: "3f2a9c1e-7b4d-4e8a-9f10-2c3d4e5f6a7b",
			DisplayName: "Benchmark User", Text: text, SentAt: at, ExpiresAt: at.Add(contract.DefaultHistoryRetention),
		}
		if got, err := f.store.AppendMessage(ctx, m); err != nil || got.Seq != int64(i) {
			b.Fatalf("append %d: seq %d, %v", i, got.Seq, err)
		}
	}
	pk := &types.AttributeValueMemberS{Value: contract.PrefixRoom + resumeRoom}
	model := f.rawItem(b, pk, messageSK(int64(appended)))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(benchWriters)
	for first := appended + 1; first <= n; first += 25 {
		var batch []types.WriteRequest
		for i := first; i < min(first+25, n+1); i++ {
			item := make(map[string]types.AttributeValue, len(model))
			for k, v := range model {
				item[k] = v
			}
			item[contract.AttrSK] = &types.AttributeValueMemberS{Value: messageSK(int64(i))}
			item[contract.AttrSeq] = &types.AttributeValueMemberN{Value: strconv.Itoa(i)}
			item[contract.AttrMessageID] = &types.AttributeValueMemberS{Value: fmt.Sprintf("01JD8Z6Y0A5N3V9X4K%08d", i)}
			batch = append(batch, types.WriteRequest{PutRequest: &types.PutRequest{Item: item}})
		}
		g.Go(func() error { return f.batchWrite(gctx, batch) })
	}
	if err := g.Wait(); err != nil {
		b.Fatalf("copy messages: %v", err)
	}
	f.moveHead(b, pk, appended, n)
	b.Logf("setup: %d messages in room %s (%d appended, %d copied) in %v", n, resumeRoom, appended, n-appended, time.Since(start).Round(time.Millisecond))
}

// moveHead sets the room's head from appended to n, and checks it with the Store.
func (f *benchFixture) moveHead(b *testing.B, pk types.AttributeValue, appended, n int) {
	b.Helper()
	_, err := f.client.UpdateItem(context.Background(), &dynamodb.UpdateItemInput{
		TableName:                 aws.String(f.table),
		Key:                       map[string]types.AttributeValue{contract.AttrPK: pk, contract.AttrSK: &types.AttributeValueMemberS{Value: contract.SortKeyHead}},
		UpdateExpression:          aws.String("SET #seq = :n"),
		ConditionExpression:       aws.String("#seq = :appended"),
		ExpressionAttributeNames:  map[string]string{"#seq": contract.AttrSeq},
		ExpressionAttributeValues: map[string]types.AttributeValue{":n": &types.AttributeValueMemberN{Value: strconv.Itoa(n)}, ":appended": &types.AttributeValueMemberN{Value: strconv.Itoa(appended)}},
	})
	if err != nil {
		b.Fatalf("move the head of %s to %d: %v", resumeRoom, n, err)
	}
	if last, err := f.store.LastSeq(context.Background(), resumeRoom); err != nil || last != int64(n) {
		b.Fatalf("LastSeq(%s) = %d, %v; want %d", resumeRoom, last, err, n)
	}
}

// messageSK is the sort key of message seq, as the Store writes it; storeRoom checks it
// against the items AppendMessage wrote.
func messageSK(seq int64) string { return contract.PrefixMessage + fmt.Sprintf("%019d", seq) }

// rawItem reads the item pk, sk with the raw client, failing b when it is absent.
func (f *benchFixture) rawItem(b *testing.B, pk types.AttributeValue, sk string) map[string]types.AttributeValue {
	b.Helper()
	skv := &types.AttributeValueMemberS{Value: sk}
	out, err := f.client.GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: aws.String(f.table), Key: map[string]types.AttributeValue{contract.AttrPK: pk, contract.AttrSK: skv}, ConsistentRead: aws.Bool(true),
	})
	if err != nil || len(out.Item) == 0 {
		b.Fatalf("get %v %v: %d attributes, %v", pk, sk, len(out.Item), err)
	}
	return out.Item
}
