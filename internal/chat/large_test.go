package chat_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	"github.com/chatstack/websocketchatapi/internal/chat"
	"github.com/chatstack/websocketchatapi/internal/contract"
	"github.com/chatstack/websocketchatapi/protocol"
)

// jobQueue keeps the shard jobs it is given, for the test to run: the chat package's side of
// the publish queue (package publishqueue is tested against a real SQS server).
type jobQueue struct {
	mu   sync.Mutex
	jobs []chat.ShardJob
}

func (q *jobQueue) Enqueue(_ context.Context, jobs []chat.ShardJob) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.jobs = append(q.jobs, jobs...)
	return nil
}

// drain runs the queued jobs, and the ones they queue, until none is left, and returns how
// many ran.
func (q *jobQueue) drain(t *testing.T, svc *chat.Service) int {
	t.Helper()
	ran := 0
	for {
		q.mu.Lock()
		jobs := q.jobs
		q.jobs = nil
		q.mu.Unlock()
		if len(jobs) == 0 {
			return ran
		}
		for _, j := range jobs {
			if _, err := svc.RunShardJob(context.Background(), j); err != nil {
				t.Fatalf("job %+v: %v", j, err)
			}
			ran++
		}
	}
}

// TestLargeRoomIsQueued: a room over the threshold is acknowledged as queued, without any post;
// the shard jobs then reach every member but the sender exactly once.
func TestLargeRoomIsQueued(t *testing.T) {
	q := &jobQueue{}
	e := newEnv(t, chat.Options{Queue: q, LargeRoomThreshold: 16})
	var ids []string
	for i := range 60 {
		ids = append(ids, fmt.Sprintf("m%02d", i))
	}
	e.members("big", ids...)
	q.jobs = nil // the presence broadcasts of the joins

	var ack protocol.Ack
	e.ok("m00", protocol.ActionSendMessage, `{"action":"sendmessage","roomId":"big","text":"to all"}`, &ack)
	if !ack.Queued || ack.Seq == 0 || ack.Delivered != 0 {
		t.Fatalf("ack %+v, want queued with a seq and no counts", ack)
	}
	if n := len(e.api.Delivered()); n != 0 {
		t.Fatalf("%d connections posted to before the jobs ran", n)
	}
	if len(q.jobs) != contract.RoomShards {
		t.Fatalf("%d jobs queued, want one a shard (%d)", len(q.jobs), contract.RoomShards)
	}
	q.drain(t, e.svc)
	for _, id := range ids[1:] {
		posts := e.posts(id)
		if len(posts) != 1 || posts[0]["text"] != "to all" || posts[0]["seq"] != float64(ack.Seq) {
			t.Errorf("%s got %v, want the message once", id, posts)
		}
	}
	if posts := e.posts("m00"); len(posts) != 0 {
		t.Errorf("the sender got %v", posts)
	}
}

// TestSmallRoomStaysInline: under the threshold nothing is queued and the ack counts.
func TestSmallRoomStaysInline(t *testing.T) {
	q := &jobQueue{}
	e := newEnv(t, chat.Options{Queue: q, LargeRoomThreshold: 16})
	e.members("small", "a", "b", "c")
	q.jobs = nil
	ack := e.send("a", "small", "hi")
	if ack.Queued || ack.Delivered != 2 || len(q.jobs) != 0 {
		t.Errorf("ack %+v with %d jobs, want 2 delivered inline", ack, len(q.jobs))
	}
}

// TestShardJobContinues: a shard bigger than one job's bound is posted in several jobs, each
// queued by the one before.
func TestShardJobContinues(t *testing.T) {
	q := &jobQueue{}
	e := newEnv(t, chat.Options{Queue: q, LargeRoomThreshold: 16, Fanout: chat.FanoutOptions{PageSize: 7, JobMembers: 20}})
	var ids []string
	for i := 0; len(ids) < 75; i++ {
		id := fmt.Sprintf("c%05d", i)
		if contract.RoomShard(id) == 3 {
			ids = append(ids, id)
		}
	}
	ctx := context.Background()
	for _, id := range ids {
		if err := e.store.PutMembership(ctx, chat.Membership{ConnectionID: id, RoomID: "huge", UserID: "u" + id}); err != nil {
			t.Fatal(err)
		}
	}
	job := chat.ShardJob{RoomID: "huge", Shard: 3, Frame: json.RawMessage(`{"type":"event","eventType":"x","data":null}`)}
	stats, err := e.svc.RunShardJob(ctx, job)
	if err != nil {
		t.Fatal(err)
	}
	if stats.Targets < 20 || stats.Targets > 27 || len(q.jobs) != 1 || q.jobs[0].Cursor == "" {
		t.Fatalf("first job: %+v, queued %+v: want a bounded part and one continuation", stats, q.jobs)
	}
	ran := q.drain(t, e.svc)
	delivered := e.api.Delivered()
	for _, id := range ids {
		if delivered[id] != 1 {
			t.Errorf("%s posted %d times", id, delivered[id])
		}
	}
	if ran != 3 {
		t.Errorf("75 members in jobs of 20 (pages of 7): 1+%d jobs, want 1+3", ran)
	}

	for _, bad := range []chat.ShardJob{{Shard: 1, Frame: job.Frame}, {RoomID: "r", Shard: contract.RoomShards, Frame: job.Frame}, {RoomID: "r", Frame: json.RawMessage(`{`)}} {
		if _, err := e.svc.RunShardJob(ctx, bad); err == nil {
			t.Errorf("job %+v accepted", bad)
		}
	}
}

// TestUnevenShards: the first reads take threshold/RoomShards+1 members a shard; a room whose
// members all hash to one shard is read on until it is known to be small (delivered inline,
// exactly) or over the threshold (queued).
func TestUnevenShards(t *testing.T) {
	var ids []string
	for i := 0; len(ids) < 20; i++ {
		if id := fmt.Sprintf("u%04d", i); contract.RoomShard(id) == 5 {
			ids = append(ids, id)
		}
	}
	for _, tc := range []struct {
		members int
		queued  bool
	}{{10, false}, {16, false}, {17, true}, {20, true}} {
		q := &jobQueue{}
		e := newEnv(t, chat.Options{Queue: q, LargeRoomThreshold: 16})
		e.members("one-shard", ids[:tc.members]...)
		q.jobs = nil
		ack := e.send(ids[0], "one-shard", fmt.Sprintf("to %d", tc.members))
		if ack.Queued != tc.queued {
			t.Errorf("%d members in one shard, threshold 16: ack %+v, want queued %v", tc.members, ack, tc.queued)
		}
		if !tc.queued && (ack.Delivered != tc.members-1 || len(q.jobs) != 0) {
			t.Errorf("%d members: ack %+v with %d jobs, want %d delivered inline", tc.members, ack, len(q.jobs), tc.members-1)
		}
	}
}
