package chat

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime/debug"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/chatstack/websocketchatapi/internal/contract"
)

// Defaults of FanoutOptions and RetryPolicy.
const (
	DefaultFanoutPageSize  = 100
	DefaultRetryAttempts   = 5
	DefaultRetryBaseDelay  = 50 * time.Millisecond
	DefaultRetryMaxDelay   = 2 * time.Second
	DefaultDeadlineReserve = 500 * time.Millisecond
)

// FanoutOptions tune how a frame is delivered to a room. Zero fields take the defaults.
type FanoutOptions struct {
	// Concurrency bounds the posts in flight. Default [contract.DefaultFanoutConcurrency].
	Concurrency int
	// PageSize is how many memberships are read per Store.RoomMembers page. Default
	// DefaultFanoutPageSize.
	PageSize int
	// Retry says how posts that fail with a *TransientError are retried.
	Retry RetryPolicy
	// JobMembers bounds the members one shard job (RunShardJob) posts to. Default
	// [contract.ShardJobMembers].
	JobMembers int
}

// RetryPolicy is exponential backoff with full jitter: before retry n (n = 1, 2, ...) it
// waits a random duration in [0, min(MaxDelay, BaseDelay*2^(n-1))).
type RetryPolicy struct {
	// MaxAttempts counts the first attempt. Default DefaultRetryAttempts.
	MaxAttempts int
	// BaseDelay is the ceiling of the first wait. Default DefaultRetryBaseDelay.
	BaseDelay time.Duration
	// MaxDelay caps every wait. Default DefaultRetryMaxDelay.
	MaxDelay time.Duration
	// DeadlineReserve is the time kept free before the context's deadline (the Lambda
	// timeout) so that the handler can still answer: posts in flight then are cut, and no
	// retry wait that would end later is started. Default DefaultDeadlineReserve.
	DeadlineReserve time.Duration
}

func (o FanoutOptions) withDefaults() (FanoutOptions, error) {
	r := &o.Retry
	if o.Concurrency < 0 || o.PageSize < 0 || o.JobMembers < 0 || r.MaxAttempts < 0 || r.BaseDelay < 0 || r.MaxDelay < 0 || r.DeadlineReserve < 0 {
		return o, fmt.Errorf("chat: negative fan-out option in %+v", o)
	}
	o.Concurrency = cmp.Or(o.Concurrency, contract.DefaultFanoutConcurrency)
	o.PageSize = cmp.Or(o.PageSize, DefaultFanoutPageSize)
	o.JobMembers = cmp.Or(o.JobMembers, contract.ShardJobMembers)
	r.MaxAttempts = cmp.Or(r.MaxAttempts, DefaultRetryAttempts)
	r.BaseDelay = cmp.Or(r.BaseDelay, DefaultRetryBaseDelay)
	r.MaxDelay = cmp.Or(r.MaxDelay, DefaultRetryMaxDelay)
	r.DeadlineReserve = cmp.Or(r.DeadlineReserve, DefaultDeadlineReserve)
	return o, nil
}

// backoff returns the wait before retry n (n >= 1).
func (r RetryPolicy) backoff(n int) time.Duration {
	ceiling := r.MaxDelay
	if n-1 < 32 {
		if d := r.BaseDelay << (n - 1); d > 0 && d < ceiling {
			ceiling = d
		}
	}
	if ceiling <= 0 {
		return 0
	}
	return rand.N(ceiling)
}

// FanoutStats counts what one fan-out did.
type FanoutStats struct {
	// Members is how many memberships of the room were read.
	Members int
	// Targets is how many connections were posted to: the members except the excluded
	// connection (and any duplicate).
	Targets int
	// Delivered counts targets that received the frame.
	Delivered int
	// Undelivered counts targets that could not be reached: retries exhausted, a
	// non-retryable error, or no time left.
	Undelivered int
	// Gone counts targets found closed (410); their items were deleted.
	Gone int
	// Retries counts the retried posts, over all targets.
	Retries int
	// Incomplete reports that the fan-out ran out of time (DeadlineReserve before the
	// context's deadline) before it had read every member: the members not read are in no
	// count.
	Incomplete bool
	// Duration is the wall time of the fan-out.
	Duration time.Duration
}

// add adds the counts of o to f.
func (f *FanoutStats) add(o FanoutStats) {
	f.Members += o.Members
	f.Targets += o.Targets
	f.Delivered += o.Delivered
	f.Undelivered += o.Undelivered
	f.Gone += o.Gone
	f.Retries += o.Retries
	f.Incomplete = f.Incomplete || o.Incomplete
	f.Duration += o.Duration
}

// errOutOfTime stops the reading of a room's members when no time is left to post.
var errOutOfTime = errors.New("chat: fan-out out of time")

type outcome int

const (
	delivered outcome = iota
	undelivered
	gone
)

// Fanout posts data to every member of roomID except the connection exclude (the sender),
// reading the room page by page and posting with bounded concurrency while the next page is
// read. Transient failures are retried with backoff; a target that is gone has its connection
// and memberships deleted. When ctx has a deadline (the Lambda timeout), posting stops
// DeadlineReserve before it. It returns the counts, and an error only when the room could not
// be read, in which case the counts cover the members read so far.
func (s *Service) Fanout(ctx context.Context, roomID, exclude string, data []byte) (stats FanoutStats, err error) {
	members := func(ctx context.Context, fn func([]Membership) error) error {
		return s.store.RoomMembers(ctx, roomID, s.fanout.PageSize, fn)
	}
	return s.fanoutFrom(ctx, roomID, exclude, data, members)
}

// memberSource calls fn with pages of members to post to, and returns fn's first error.
type memberSource func(ctx context.Context, fn func([]Membership) error) error

// fanoutFrom is Fanout over the members that source reads; label names them in errors and
// logs.
func (s *Service) fanoutFrom(ctx context.Context, label, exclude string, data []byte, source memberSource) (stats FanoutStats, err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("chat: read members of %s: %w", label, err)
		}
	}()
	start := time.Now()
	// Posts (and their retries) must end DeadlineReserve before the invocation's deadline,
	// so that the handler can still answer: a post that hangs is cut there.
	postCtx := ctx
	if d, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		postCtx, cancel = context.WithDeadline(ctx, d.Add(-s.fanout.Retry.DeadlineReserve))
		defer cancel()
	}
	r := &fanoutRun{s: s, ctx: postCtx, exclude: exclude, data: data, seen: map[string]bool{}}
	r.g.SetLimit(s.fanout.Concurrency)
	err = r.run(ctx, source)
	stats = r.stats
	stats.Duration = time.Since(start)
	if errors.Is(err, errOutOfTime) {
		stats.Incomplete = true
		err = nil
	}
	s.logFanout(ctx, label, stats, err)
	return stats, err
}

// fanoutRun is one Fanout: what its reader, its dispatcher and its posts share.
type fanoutRun struct {
	s       *Service
	ctx     context.Context // the posts': it ends DeadlineReserve before the invocation's deadline
	exclude string
	data    []byte
	g       errgroup.Group // the posts, at most Concurrency in flight

	seen      map[string]bool // the targets taken so far, guarded by mu
	outOfTime bool            // set by the dispatcher before it returns

	mu    sync.Mutex
	stats FanoutStats
}

// run reads the room one page ahead of the posts. The calling goroutine reads the pages and
// hands each to the dispatcher goroutine, which starts the page's posts (g.Go blocks while
// Concurrency posts are in flight) while the next page is read: the posts do not wait for a
// Query at every page. A page is counted when the dispatcher takes it, so a page read ahead but
// never taken (out of time) is in no count, as if it had not been read. run returns once every
// post has ended, with the error of the reading (errOutOfTime when the time ran out).
func (r *fanoutRun) run(ctx context.Context, source memberSource) error {
	pages := make(chan []Membership)
	stopped := make(chan struct{}) // closed when the dispatcher returns
	go r.dispatch(pages, stopped)
	readErr := r.read(ctx, source, pages, stopped)
	<-stopped
	if r.outOfTime {
		// The dispatcher found no time left when it took a page: the reading stops there, as
		// it did when pages were dispatched as read. Whatever the read ahead met after (a
		// failed Query included) concerns members in no count.
		readErr = errOutOfTime
	}
	_ = r.g.Wait() // the posts never fail: outcomes are counted
	return readErr
}

// read sends the room's pages to the dispatcher, and stops with errOutOfTime when the posts'
// time is out or the dispatcher has stopped.
func (r *fanoutRun) read(ctx context.Context, source memberSource, pages chan<- []Membership, stopped <-chan struct{}) error {
	// Closed even if the Store panics, so that the dispatcher ends.
	defer close(pages)
	return source(ctx, func(page []Membership) error {
		if r.ctx.Err() != nil {
			return errOutOfTime
		}
		select {
		case pages <- page:
			return nil
		case <-stopped: // the dispatcher ran out of time
			return errOutOfTime
		}
	})
}

// dispatch starts the posts to the targets of each page it takes, until pages is closed or the
// posts' time is out, and closes stopped when it returns.
func (r *fanoutRun) dispatch(pages <-chan []Membership, stopped chan<- struct{}) {
	defer close(stopped)
	for page := range pages {
		if r.ctx.Err() != nil {
			// Out of time: taking more members would only count them as undelivered.
			r.outOfTime = true
			return
		}
		for _, m := range page {
			if r.take(m.ConnectionID) {
				r.post(m.ConnectionID)
			}
		}
	}
}

// take counts a member and reports whether it is a target: neither the excluded connection
// nor one taken before.
func (r *fanoutRun) take(connectionID string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stats.Members++
	if connectionID == r.exclude || r.seen[connectionID] {
		return false
	}
	r.seen[connectionID] = true
	r.stats.Targets++
	return true
}

// post starts the delivery to target and counts its outcome when it ends.
func (r *fanoutRun) post(target string) {
	r.g.Go(func() error {
		out, retries := r.s.deliverSafely(r.ctx, target, r.data)
		r.mu.Lock()
		defer r.mu.Unlock()
		r.stats.Retries += retries
		switch out {
		case delivered:
			r.stats.Delivered++
		case gone:
			r.stats.Gone++
		default:
			r.stats.Undelivered++
		}
		return nil
	})
}

// logFanout writes the summary line of a fan-out, a warning when the room could not be read,
// a target was not reached or the time ran out.
func (s *Service) logFanout(ctx context.Context, label string, stats FanoutStats, readErr error) {
	level := slog.LevelInfo
	if readErr != nil || stats.Undelivered > 0 || stats.Incomplete {
		level = slog.LevelWarn
	}
	s.log.LogAttrs(ctx, level, "fanout",
		slog.String("to", label),
		slog.Int("members", stats.Members),
		slog.Int("targets", stats.Targets),
		slog.Int("delivered", stats.Delivered),
		slog.Int("retries", stats.Retries),
		slog.Int("gone", stats.Gone),
		slog.Int("failed", stats.Undelivered),
		slog.Bool("incomplete", stats.Incomplete),
		slog.Int64("ms", stats.Duration.Milliseconds()),
	)
}

// deliverSafely is deliver, with a panic (which would otherwise end the process from this
// goroutine) logged and counted as undelivered.
func (s *Service) deliverSafely(ctx context.Context, target string, data []byte) (out outcome, retries int) {
	defer func() {
		if p := recover(); p != nil {
			s.log.ErrorContext(ctx, "post panicked", "target", target, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			out = undelivered
		}
	}()
	return s.deliver(ctx, target, data)
}

// deliver posts data to one target, retrying transient failures, and returns the outcome and
// how many retries it made.
func (s *Service) deliver(ctx context.Context, target string, data []byte) (outcome, int) {
	policy := s.fanout.Retry
	retries := 0
	for attempt := 1; ; attempt++ {
		if ctx.Err() != nil {
			s.log.WarnContext(ctx, "post abandoned: context done", "target", target, "attempts", attempt-1)
			return undelivered, retries
		}
		err := s.poster.Post(ctx, target, data)
		if err == nil {
			return delivered, retries
		}
		if errors.Is(err, ErrGone) {
			// The target's connection closed without (or before) its $disconnect: remove it
			// so later fan-outs skip it. Never the sender's: only the target was posted to.
			s.removeGone(ctx, target)
			return gone, retries
		}
		var te *TransientError
		if !errors.As(err, &te) {
			s.log.WarnContext(ctx, "post failed", "target", target, "attempts", attempt, "error", err.Error())
			return undelivered, retries
		}
		if attempt >= policy.MaxAttempts {
			s.log.WarnContext(ctx, "post failed: retries exhausted", "target", target, "attempts", attempt, "error", err.Error())
			return undelivered, retries
		}
		wait := policy.backoff(attempt)
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < wait {
			s.log.WarnContext(ctx, "post failed: no time left to retry", "target", target, "attempts", attempt, "error", err.Error())
			return undelivered, retries
		}
		if !sleep(ctx, wait) {
			return undelivered, retries
		}
		retries++
	}
}

// sleep waits for d or until ctx is done, and reports whether it waited the whole time.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// removeGone deletes the items of a connection found closed and takes it out of its user's
// presence in each of its rooms, telling the rooms where it was the user's last connection
// that the user left: its $disconnect, should it come later, finds no rooms left to tell.
// Failures are logged: the items expire by TTL.
func (s *Service) removeGone(ctx context.Context, target string) {
	rooms, err := s.store.ConnectionMemberships(ctx, target)
	if err != nil {
		s.log.WarnContext(ctx, "rooms of a gone connection unreadable: its presence stays until it expires", "target", target, "error", err.Error())
	}
	if err := s.store.DeleteConnection(ctx, target); err != nil {
		s.log.WarnContext(ctx, "delete gone connection failed", "target", target, "error", err.Error())
	}
	for _, m := range rooms {
		s.leavePresence(ctx, m)
	}
}
