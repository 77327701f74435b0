package chat_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatstack/websocketchatapi/internal/chat"
	"github.com/chatstack/websocketchatapi/internal/contract"
	"github.com/chatstack/websocketchatapi/protocol"
)

// The large-room benchmarks measure the sendmessage path of rooms above and below
// Options.LargeRoomThreshold over the same stack as the fan-out benchmarks (DynamoDB Local,
// the real Store, the real @connections client against a stand-in answering after
// -fanout.latency), with an in-process publish queue whose every SendMessageBatch call (ten
// jobs at most, as publishqueue sends them) takes -largeroom.enqueue-latency:
//
// BenchmarkLargeRoom has two parts:
//
//   - ack: the sender's ack latency (chat.Service.Handle of a sendmessage,
//     p50 and p99 over -largeroom.sends sends) for each of -largeroom.sizes, default threshold.
//     The shard jobs of queued sends are dropped, not run.
//   - completion: the time from the send until every member was posted to,
//     for each of -largeroom.completion, with the shard jobs run by W workers (-largeroom.workers)
//     that each take one job at a time and call RunShardJob, as W concurrent invocations of
//     the publish function with one job each. It also reports the broadcast's DynamoDB reads:
//     as DynamoDB Local reported them (Store.ConsumedRead) and by AWS's formula from the
//     items each Query page returned (eventually consistent: half a unit per 4 KB of the
//     page's index entries, summed before rounding).
//
// Each runs its sizes in one op (use -benchtime 1x); the setup (members written with
// BatchWriteItem in parallel, a warm-up send) is not measured, and its time is logged.
//
//	go test ./internal/chat -run '^$' -bench LargeRoom -benchtime 1x -timeout 30m \
//		-args -largeroom.sizes 10,1000,10000 -largeroom.completion 10000 -largeroom.workers 1,8
//
// go run ./bench/largeroom runs them and prints the figures as a table.
var (
	largeSizes          = flag.String("largeroom.sizes", "10,1000,10000,100000", "large-room benchmarks: comma-separated room sizes of the ack benchmark")
	largeSends          = flag.Int("largeroom.sends", 50, "large-room benchmarks: measured sends per room size of the ack benchmark")
	largeCompletion     = flag.String("largeroom.completion", "1000,10000,100000", "large-room benchmarks: comma-separated room sizes of the completion benchmark")
	largeWorkers        = flag.String("largeroom.workers", "1,8,32", "large-room benchmarks: comma-separated worker counts (concurrent publish invocations) of the completion benchmark")
	largeSmallThreshold = flag.Int("largeroom.queued-threshold", 500, "large-room benchmarks: the threshold of the completion rows that queue rooms at or under the default threshold (0: none)")
	largeEnqueueLatency = flag.Duration("largeroom.enqueue-latency", 10*time.Millisecond, "large-room benchmarks: time one SendMessageBatch to the publish queue takes")
)

// BenchmarkLargeRoom runs its two parts, ack and completion, over one table, so that each
// room is written once: ack/members=N (the sender's ack) and
// completion/members=N/threshold=T/workers=W (the whole broadcast).
func BenchmarkLargeRoom(b *testing.B) {
	ackSizes, err := parseInts(*largeSizes)
	if err != nil {
		b.Fatalf("-largeroom.sizes: %v", err)
	}
	if *largeSends < 1 {
		b.Fatalf("-largeroom.sends %d, want >= 1", *largeSends)
	}
	sizes, err := parseInts(*largeCompletion)
	if err != nil {
		b.Fatalf("-largeroom.completion: %v", err)
	}
	workers, err := parseInts(*largeWorkers)
	if err != nil {
		b.Fatalf("-largeroom.workers: %v", err)
	}
	f := newBenchFixture(b)
	f.queries.sizeItems.Store(true)
	b.Run("ack", func(b *testing.B) { largeRoomAck(b, f, ackSizes) })
	b.Run("completion", func(b *testing.B) { largeRoomCompletion(b, f, sizes, workers) })
}

// largeRoomAck measures the sender's ack for rooms of each size, with the default threshold:
// rooms above it are acknowledged as queued.
func largeRoomAck(b *testing.B, f *benchFixture, sizes []int) {
	for _, size := range sizes {
		b.Run(fmt.Sprintf("members=%d", size), func(b *testing.B) {
			room := f.room(b, size)
			q := &dropQueue{latency: *largeEnqueueLatency}
			svc := f.largeService(b, q, contract.DefaultLargeRoomThreshold, 0)
			sender := room.members[0]
			queued := size > contract.DefaultLargeRoomThreshold
			send := func(i int) time.Duration {
				start := time.Now()
				ack := sendAs(b, svc, sender, room.id, fmt.Sprintf("ack %d", i))
				d := time.Since(start)
				if ack.Queued != queued {
					b.Fatalf("room of %d: ack %+v, want queued %v", size, ack, queued)
				}
				return d
			}
			send(-1) // warm-up
			f.api.Reset()
			for b.Loop() {
				var acks []time.Duration
				rcu, pages, half, jobs := f.store.ConsumedRead(), f.queries.n.Load(), f.queries.halfRCU.Load(), q.jobs.Load()
				for i := range *largeSends {
					acks = append(acks, send(i))
				}
				n := float64(*largeSends)
				b.ReportMetric(float64(percentile(acks, 50).Nanoseconds()), "p50-ns")
				b.ReportMetric(float64(percentile(acks, 99).Nanoseconds()), "p99-ns")
				b.ReportMetric(float64(mean(acks).Nanoseconds()), "mean-ns")
				b.ReportMetric((f.store.ConsumedRead()-rcu)/n, "RCU-local/send")
				b.ReportMetric(float64(f.queries.halfRCU.Load()-half)/2/n, "RCU-aws-query/send")
				b.ReportMetric(float64(f.queries.n.Load()-pages)/n, "pages/send")
				b.ReportMetric(float64(q.jobs.Load()-jobs)/n, "jobs/send")
				b.ReportMetric(n, "sends")
				f.api.Reset()
			}
		})
	}
}

// largeRoomCompletion measures a broadcast from the send until every member was posted to,
// for each size and each worker count. A room at or under the default threshold is delivered
// inline (one row, workers=0); with -largeroom.queued-threshold below its size, it is also
// measured queued at that threshold.
func largeRoomCompletion(b *testing.B, f *benchFixture, sizes, workers []int) {
	for _, size := range sizes {
		room := f.room(b, size)
		type variant struct {
			threshold int
			workers   []int
		}
		variants := []variant{{contract.DefaultLargeRoomThreshold, workers}}
		if size <= contract.DefaultLargeRoomThreshold {
			variants = []variant{{contract.DefaultLargeRoomThreshold, []int{0}}}
			if t := *largeSmallThreshold; t > 0 && t < size {
				variants = append(variants, variant{t, workers})
			}
		}
		for _, v := range variants {
			for _, w := range v.workers {
				b.Run(fmt.Sprintf("members=%d/threshold=%d/workers=%d", size, v.threshold, w), func(b *testing.B) {
					q := newWorkQueue(*largeEnqueueLatency)
					svc := f.largeService(b, q, v.threshold, 0)
					q.start(svc, max(w, 1))
					defer q.stop()
					sender := room.members[0]
					run := func(text string) (time.Duration, time.Duration) {
						start := time.Now()
						ack := sendAs(b, svc, sender, room.id, text)
						acked := time.Since(start)
						if ack.Queued != (w > 0) {
							b.Fatalf("ack %+v, want queued %v", ack, w > 0)
						}
						delivered := ack.Delivered
						if ack.Queued {
							stats, err := q.wait()
							if err != nil {
								b.Fatal(err)
							}
							delivered = stats.Delivered
						}
						done := time.Since(start)
						if delivered != size-1 {
							b.Fatalf("%d delivered, want %d", delivered, size-1)
						}
						return acked, done
					}
					if size <= largeWarmUpMax {
						run("warm-up")
						f.api.Reset()
					}
					for b.Loop() {
						rcu, pages, half, items := f.store.ConsumedRead(), f.queries.n.Load(), f.queries.halfRCU.Load(), f.queries.items.Load()
						jobs := q.count()
						acked, done := run("completion")
						b.StopTimer()
						got := f.api.Delivered()
						for _, id := range room.members[1:] {
							if got[id] != 1 {
								b.Fatalf("%s posted to %d times, want once", id, got[id])
							}
						}
						b.StartTimer()
						b.ReportMetric(float64(done.Nanoseconds()), "complete-ns")
						b.ReportMetric(float64(acked.Nanoseconds()), "ack-ns")
						b.ReportMetric(float64(size-1)/done.Seconds(), "posts/s")
						b.ReportMetric(f.store.ConsumedRead()-rcu, "RCU-local")
						b.ReportMetric(float64(f.queries.halfRCU.Load()-half)/2, "RCU-aws-query")
						b.ReportMetric(float64(f.queries.n.Load()-pages), "pages")
						b.ReportMetric(float64(f.queries.items.Load()-items), "items-read")
						b.ReportMetric(float64(q.count()-jobs), "jobs")
						b.ReportMetric(float64(q.busiest()), "max-workers-busy")
						f.api.Reset()
					}
				})
			}
		}
	}
}

// largeWarmUpMax is the largest room the completion rows warm up with a first, unmeasured
// broadcast; larger rooms find the clients warm from the rows before (a warm-up of a
// 100,000-member broadcast would double the run).
const largeWarmUpMax = 10000

// largeService returns a Service with the queue q and the threshold.
func (f *benchFixture) largeService(b *testing.B, q chat.Queue, threshold, conc int) *chat.Service {
	b.Helper()
	svc, err := chat.NewService(f.store, f.poster, chat.Options{
		Fanout:             chat.FanoutOptions{Concurrency: conc},
		Queue:              q,
		LargeRoomThreshold: threshold,
	})
	if err != nil {
		b.Fatal(err)
	}
	return svc
}

// sendAs sends a chat message to room as the connection sender (a member written by
// putMembers) and returns the ack.
func sendAs(b *testing.B, svc *chat.Service, sender, room, text string) protocol.Ack {
	b.Helper()
	body := fmt.Sprintf(`{"action":"sendmessage","roomId":%q,"text":%q}`, room, text)
	res := svc.Handle(context.Background(), chat.Request{
		ConnectionID: sender,
		Action:       protocol.ActionSendMessage,
		Body:         []byte(body),
		Identity:     chat.Identity{UserID: "user-" + sender, DisplayName: "User " + sender},
	})
	if res.Code != "" || res.Err != nil {
		b.Fatalf("sendmessage by %s: %s %v %+v", sender, res.Code, res.Err, res.Frame)
	}
	ack, ok := res.Frame.(protocol.Ack)
	if !ok {
		b.Fatalf("sendmessage answered %T %+v, want an ack", res.Frame, res.Frame)
	}
	return ack
}

// enqueueDelay sleeps latency once per SendMessageBatch publishqueue would make for n jobs
// (ten at most each).
func enqueueDelay(latency time.Duration, n int) {
	if calls := (n + 9) / 10; latency > 0 && calls > 0 {
		time.Sleep(time.Duration(calls) * latency)
	}
}

// dropQueue takes shard jobs after the simulated SendMessageBatch latency and drops them.
type dropQueue struct {
	latency time.Duration
	jobs    atomicCount
}

func (q *dropQueue) Enqueue(_ context.Context, jobs []chat.ShardJob) error {
	enqueueDelay(q.latency, len(jobs))
	q.jobs.Add(int64(len(jobs)))
	return nil
}

// atomicCount is a counter safe for concurrent use.
type atomicCount struct {
	mu sync.Mutex
	n  int64
}

func (c *atomicCount) Add(d int64) { c.mu.Lock(); c.n += d; c.mu.Unlock() }
func (c *atomicCount) Load() int64 { c.mu.Lock(); defer c.mu.Unlock(); return c.n }

// workQueue is an in-process publish queue consumed by workers, each running one job at a
// time with RunShardJob: what the publish queue's event source mapping does with a batch
// size of 1 and a maximum concurrency of the worker count. A job that fails fails the
// benchmark (the queue would retry it).
type workQueue struct {
	latency time.Duration

	mu         sync.Mutex
	cond       *sync.Cond
	pending    []chat.ShardJob
	unfinished int // enqueued, not yet finished
	running    int
	maxRunning int
	jobs       int
	stats      chat.FanoutStats
	err        error
	closed     bool
	wg         sync.WaitGroup
}

func newWorkQueue(latency time.Duration) *workQueue {
	q := &workQueue{latency: latency}
	q.cond = sync.NewCond(&q.mu)
	return q
}

func (q *workQueue) Enqueue(_ context.Context, jobs []chat.ShardJob) error {
	enqueueDelay(q.latency, len(jobs))
	q.mu.Lock()
	defer q.mu.Unlock()
	q.pending = append(q.pending, jobs...)
	q.unfinished += len(jobs)
	q.jobs += len(jobs)
	q.cond.Broadcast()
	return nil
}

// start starts n workers running jobs with svc.
func (q *workQueue) start(svc *chat.Service, n int) {
	for range n {
		q.wg.Go(func() {
			for {
				q.mu.Lock()
				for len(q.pending) == 0 && !q.closed {
					q.cond.Wait()
				}
				if q.closed {
					q.mu.Unlock()
					return
				}
				job := q.pending[0]
				q.pending = q.pending[1:]
				q.running++
				q.maxRunning = max(q.maxRunning, q.running)
				q.mu.Unlock()

				stats, err := svc.RunShardJob(context.Background(), job)

				q.mu.Lock()
				q.running--
				q.unfinished--
				q.stats.Delivered += stats.Delivered
				q.stats.Targets += stats.Targets
				if err != nil && q.err == nil {
					q.err = fmt.Errorf("shard job %d of room %s: %w", job.Shard, job.RoomID, err)
				}
				q.cond.Broadcast()
				q.mu.Unlock()
			}
		})
	}
}

// wait waits until every job enqueued has finished, the ones they enqueued included, and
// returns (and resets) their summed counts.
func (q *workQueue) wait() (chat.FanoutStats, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for q.unfinished > 0 && q.err == nil {
		q.cond.Wait()
	}
	stats, err := q.stats, q.err
	q.stats = chat.FanoutStats{}
	return stats, err
}

// count returns how many jobs were enqueued.
func (q *workQueue) count() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.jobs
}

// busiest returns the most workers that ran a job at once.
func (q *workQueue) busiest() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.maxRunning
}

// stop ends the workers.
func (q *workQueue) stop() {
	q.mu.Lock()
	q.closed = true
	q.cond.Broadcast()
	q.mu.Unlock()
	q.wg.Wait()
}

// percentile returns the p-th percentile (nearest rank) of ds.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := int(math.Ceil(p / 100 * float64(len(s))))
	return s[min(max(rank, 1), len(s))-1]
}

// mean returns the mean of ds.
func mean(ds []time.Duration) time.Duration {
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	return sum / time.Duration(max(len(ds), 1))
}

// size reads a Query answer's body, adds its items and their AWS read cost (an eventually
// consistent read: half a unit per 4 KB of the items' summed sizes, rounded up once per
// page) to the counts, and returns the body to read again.
func (c *queryCounter) size(body io.ReadCloser) io.ReadCloser {
	raw, err := io.ReadAll(body)
	body.Close()
	var out struct {
		Items []map[string]map[string]json.RawMessage
	}
	if err == nil && json.Unmarshal(raw, &out) == nil {
		total := 0
		for _, item := range out.Items {
			total += awsItemSize(item)
		}
		c.items.Add(int64(len(out.Items)))
		c.halfRCU.Add(int64(math.Ceil(float64(max(total, 1)) / 4096)))
	}
	return io.NopCloser(bytes.NewReader(raw))
}

// awsItemSize returns an item's size by DynamoDB's rules: each attribute's name plus its
// value (a string's UTF-8 bytes; a number, about 1 byte per 2 significant digits plus 1;
// 1 byte for a boolean or null). Only the types the table uses are sized exactly.
func awsItemSize(item map[string]map[string]json.RawMessage) int {
	n := 0
	for name, value := range item {
		n += len(name)
		for typ, raw := range value {
			var v string
			_ = json.Unmarshal(raw, &v)
			switch typ {
			case "S":
				n += len(v)
			case "N":
				digits := strings.TrimLeft(strings.NewReplacer("-", "", ".", "").Replace(v), "0")
				digits = strings.TrimRight(digits, "0")
				n += (len(digits)+1)/2 + 1
			default:
				n += max(len(raw), 1)
			}
		}
	}
	return n
}
