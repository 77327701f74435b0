package chat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/chatstack/websocketchatapi/internal/contract"
)

// ShardJob is one queued part of a large room's broadcast: post Frame to the members of one
// shard of the room, from Cursor on, except the connection Exclude. It is what the chat
// function puts on the publish queue, in JSON, and what the publish function runs
// (Service.RunShardJob).
type ShardJob struct {
	RoomID  string          `json:"roomId"`
	Shard   int             `json:"shard"`
	Cursor  string          `json:"cursor,omitempty"`
	Exclude string          `json:"exclude,omitempty"`
	Frame   json.RawMessage `json:"frame"`
}

// Queue sends shard jobs to the publish queue.
type Queue interface {
	// Enqueue sends every job, or returns an error; jobs sent before the error stay sent.
	Enqueue(ctx context.Context, jobs []ShardJob) error
}

// Broadcast is what a broadcast to a room did: delivered inline (Stats), or Queued in
// contract.RoomShards shard jobs.
type Broadcast struct {
	Stats  FanoutStats
	Queued bool
}

// broadcast delivers data to roomID's members except exclude. Without a Queue, or with no
// large-room threshold, it is Fanout. Otherwise it first reads, in parallel, a first page of
// every shard of threshold/RoomShards+1 members at most. When they hold more than threshold
// members in all, the room is large. When no shard has more, the room is small and those
// members are posted to at once. Else (a shard holds more than its share, the rest fewer) the
// shards with more are read on, threshold+1 members at most in all, to decide. A large room's
// broadcast is queued, one job a shard, and broadcast returns without waiting for it. The
// sender's ack thus reads about threshold members, not threshold+1 a shard.
func (s *Service) broadcast(ctx context.Context, roomID, exclude string, data []byte) (Broadcast, error) {
	if s.queue == nil || s.largeRoom == 0 {
		stats, err := s.Fanout(ctx, roomID, exclude, data)
		return Broadcast{Stats: stats}, err
	}
	var (
		pages   [contract.RoomShards][]Membership
		cursors [contract.RoomShards]string
	)
	read := func(limit func(shard int) int) error {
		g, gctx := errgroup.WithContext(ctx)
		for shard := range contract.RoomShards {
			n := limit(shard)
			if n <= 0 {
				continue
			}
			g.Go(func() error {
				page, next, err := s.store.ShardMembers(gctx, roomID, shard, cursors[shard], n)
				pages[shard], cursors[shard] = append(pages[shard], page...), next
				return err
			})
		}
		if err := g.Wait(); err != nil {
			return fmt.Errorf("chat: read members of room %s: %w", roomID, err)
		}
		return nil
	}
	counts := func() (total int, more bool) {
		for shard := range contract.RoomShards {
			total += len(pages[shard])
			more = more || cursors[shard] != ""
		}
		return total, more
	}
	if err := read(func(int) int { return s.largeRoom/contract.RoomShards + 1 }); err != nil {
		return Broadcast{}, err
	}
	total, more := counts()
	if more && total <= s.largeRoom {
		// Uneven shards: read on those with more, as many as would make the room large.
		rest := s.largeRoom + 1 - total
		if err := read(func(shard int) int {
			if cursors[shard] == "" {
				return 0
			}
			return rest
		}); err != nil {
			return Broadcast{}, err
		}
		total, more = counts()
	}
	if !more && total <= s.largeRoom {
		members := func(_ context.Context, fn func([]Membership) error) error {
			for _, page := range pages {
				if len(page) > 0 {
					if err := fn(page); err != nil {
						return err
					}
				}
			}
			return nil
		}
		stats, err := s.fanoutFrom(ctx, "room "+roomID, exclude, data, members)
		return Broadcast{Stats: stats}, err
	}
	jobs := make([]ShardJob, contract.RoomShards)
	for shard := range jobs {
		jobs[shard] = ShardJob{RoomID: roomID, Shard: shard, Exclude: exclude, Frame: data}
	}
	if err := s.queue.Enqueue(ctx, jobs); err != nil {
		return Broadcast{}, fmt.Errorf("chat: queue the broadcast to room %s: %w", roomID, err)
	}
	s.log.InfoContext(ctx, "broadcast queued", "roomId", roomID, "shards", len(jobs), "membersRead", total)
	return Broadcast{Queued: true, Stats: FanoutStats{Members: total}}, nil
}

// DefaultShardJobTime is how long RunShardJob reads members before it queues the rest of its
// shard as a new job.
const DefaultShardJobTime = 10 * time.Second

// RunShardJob posts job's frame to the members of its shard from its cursor on, page by page,
// up to FanoutOptions.JobMembers members or DefaultShardJobTime of reading (both bound what
// one invocation does), and queues the rest of the shard as a new job. It returns the counts,
// and an error (the job is then to be retried: the members posted to already may get the frame
// twice, and clients drop a sequence number they have) when the shard could not be read or
// the rest could not be queued.
func (s *Service) RunShardJob(ctx context.Context, job ShardJob) (FanoutStats, error) {
	if err := job.validate(); err != nil {
		return FanoutStats{}, err
	}
	var (
		mu     sync.Mutex
		cursor = job.Cursor
		read   int
	)
	start := time.Now()
	members := func(ctx context.Context, fn func([]Membership) error) error {
		for {
			page, next, err := s.store.ShardMembers(ctx, job.RoomID, job.Shard, cursor, s.fanout.PageSize)
			if err != nil {
				return err
			}
			if len(page) > 0 {
				if err := fn(page); err != nil {
					return err
				}
			}
			mu.Lock()
			cursor, read = next, read+len(page)
			done := next == "" || read >= s.fanout.JobMembers || time.Since(start) >= DefaultShardJobTime
			mu.Unlock()
			if done {
				return nil
			}
		}
	}
	label := fmt.Sprintf("room %s shard %d", job.RoomID, job.Shard)
	stats, err := s.fanoutFrom(ctx, label, job.Exclude, job.Frame, members)
	if err != nil {
		return stats, err
	}
	if stats.Incomplete {
		return stats, fmt.Errorf("chat: %s: out of time before every member read was posted", label)
	}
	if cursor != "" {
		rest := job
		rest.Cursor = cursor
		if s.queue == nil {
			return stats, fmt.Errorf("chat: %s: more members to post to, and no queue for the rest", label)
		}
		if err := s.queue.Enqueue(ctx, []ShardJob{rest}); err != nil {
			return stats, fmt.Errorf("chat: %s: queue the rest: %w", label, err)
		}
	}
	return stats, nil
}

// ErrInvalidShardJob is wrapped by the error of RunShardJob for a job that can never run:
// trying it again would not help.
var ErrInvalidShardJob = errors.New("chat: invalid shard job")

// validate checks a job read from the queue.
func (j ShardJob) validate() error {
	switch {
	case j.RoomID == "":
		return fmt.Errorf("%w: roomId is empty", ErrInvalidShardJob)
	case j.Shard < 0 || j.Shard >= contract.RoomShards:
		return fmt.Errorf("%w: shard %d, want 0 to %d", ErrInvalidShardJob, j.Shard, contract.RoomShards-1)
	case len(j.Frame) == 0 || !json.Valid(j.Frame):
		return fmt.Errorf("%w: frame is not JSON", ErrInvalidShardJob)
	}
	return nil
}
