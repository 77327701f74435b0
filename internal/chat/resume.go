package chat

import (
	"context"
	"fmt"
	"time"

	"github.com/chatstack/websocketchatapi/protocol"
)

// replayBatch is how many messages a resume reads from the Store at a time.
const replayBatch = 500

// replay posts to connection c the messages of roomID from since+1 to last in Resume frames,
// each under protocol.MaxMessageBytes, with a Lost frame in its place for each run of numbers
// past retention. It stops early, without error, when the context's deadline comes within the
// fan-out's DeadlineReserve (the Joined frame's LastSeq then tells the client what it lacks)
// and when a post fails. It returns how many messages it posted.
func (s *Service) replay(ctx context.Context, c Connection, roomID string, since, last int64) (int, error) {
	r := replayRun{s: s, ctx: ctx, target: c.ID, roomID: roomID, next: since + 1, envelope: resumeEnvelope(roomID)}
	err := r.run(last)
	if err == nil {
		err = r.flush() // a page carries over from one read to the next: post what is left
	}
	return r.posted, err
}

// run reads and adds the messages up to last, batch by batch, until the deadline is near.
func (r *replayRun) run(last int64) error {
	for r.next <= last {
		if deadline, ok := r.ctx.Deadline(); ok && time.Until(deadline) < r.s.fanout.Retry.DeadlineReserve {
			return nil
		}
		stored, err := r.s.store.Messages(r.ctx, r.roomID, MessageRange{After: r.next - 1, Before: last + 1, Limit: replayBatch})
		if err != nil {
			return fmt.Errorf("messages of %s after %d: %w", r.roomID, r.next-1, err)
		}
		if len(stored) == 0 {
			return r.lost(last)
		}
		for _, m := range stored {
			if err := r.add(m); err != nil {
				return err
			}
		}
	}
	return nil
}

// replayRun is one replay: the page being filled and what was posted.
type replayRun struct {
	s        *Service
	ctx      context.Context
	target   string
	roomID   string
	envelope int
	next     int64 // the next number the client lacks
	page     []protocol.Message
	size     int
	posted   int
}

// add appends m to the page, after a Lost frame for any numbers missing before it, posting
// the page first when m would take it over the cap.
func (r *replayRun) add(m StoredMessage) error {
	if m.Seq > r.next {
		if err := r.lost(m.Seq - 1); err != nil {
			return err
		}
	}
	f := messageFrame(m)
	n := len(protocol.Encode(f)) + 1
	if r.envelope+r.size+n > protocol.MaxMessageBytes {
		if err := r.flush(); err != nil {
			return err
		}
	}
	r.page = append(r.page, f)
	r.size += n
	r.next = m.Seq + 1
	return nil
}

// lost posts the page so far, then a Lost frame for the numbers from next to to.
func (r *replayRun) lost(to int64) error {
	if err := r.flush(); err != nil {
		return err
	}
	f := protocol.Lost{
		Type: protocol.FrameLost, RoomID: r.roomID, SeqRange: protocol.SeqRange{From: r.next, To: to},
		Message: fmt.Sprintf("messages %d to %d of room %s are past history retention and cannot be delivered", r.next, to, r.roomID),
	}
	if err := r.post(f); err != nil {
		return err
	}
	r.next = to + 1
	return nil
}

// flush posts the page, if it holds any message.
func (r *replayRun) flush() error {
	if len(r.page) == 0 {
		return nil
	}
	if err := r.post(protocol.Resume{Type: protocol.FrameResume, RoomID: r.roomID, Messages: r.page}); err != nil {
		return err
	}
	r.posted += len(r.page)
	r.page, r.size = nil, 0
	return nil
}

// post delivers one frame to the resuming connection, with the fan-out's retries.
func (r *replayRun) post(frame any) error {
	switch out, _ := r.s.deliver(r.ctx, r.target, protocol.Encode(frame)); out {
	case delivered:
		return nil
	case gone:
		return fmt.Errorf("resume of %s: connection %s is gone", r.roomID, r.target)
	default:
		return fmt.Errorf("resume of %s: a post to %s failed", r.roomID, r.target)
	}
}

// resumeEnvelope is the encoded size of a Resume frame of roomID without its messages.
func resumeEnvelope(roomID string) int {
	return len(protocol.Encode(protocol.Resume{Type: protocol.FrameResume, RoomID: roomID, Messages: []protocol.Message{}}))
}
