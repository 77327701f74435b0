package client

import (
	"github.com/chatstack/websocketchatapi/protocol"
)

// deliver runs step on r's sequencer and emits what became deliverable, in order. Then, while
// a message is missing, it arranges to read it from history: at once when fillNow (a joined
// frame said that the replay is over), else after Options.GapTimeout.
func (c *Client) deliver(r *room, fillNow bool, step func(*sequencer) []Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c.emit(step(r.seq)...)
	if !r.seq.missing() {
		if r.gapTimer != nil {
			r.gapTimer.Stop()
			r.gapTimer = nil
		}
		return
	}
	if r.filling {
		return
	}
	if fillNow {
		c.startFill(r)
		return
	}
	if r.gapTimer == nil {
		r.gapTimer = c.opts.clock.AfterFunc(c.opts.GapTimeout, func() { c.gapTimedOut(r) })
	}
}

// gapTimedOut starts a fill when a gap outlived Options.GapTimeout.
func (c *Client) gapTimedOut(r *room) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.gapTimer = nil
	if r.seq.missing() && !r.filling {
		c.startFill(r)
	}
}

// startFill runs fill in the background; r.mu is held.
func (c *Client) startFill(r *room) {
	if r.gapTimer != nil {
		r.gapTimer.Stop()
		r.gapTimer = nil
	}
	r.filling = c.spawn(func() { c.fill(r) })
}

// fill reads history pages after r's last delivered seq until nothing known is missing or
// the history has no more. A gap it could not close (a message not yet readable) is tried
// again after Options.GapTimeout.
func (c *Client) fill(r *room) {
	defer func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.filling = false
		if r.seq.missing() && r.gapTimer == nil && c.ctx.Err() == nil {
			r.gapTimer = c.opts.clock.AfterFunc(c.opts.GapTimeout, func() { c.gapTimedOut(r) })
		}
	}()
	lk := c.roomLocks(r.id)
	lk.history.Lock()
	defer lk.history.Unlock()
	for {
		after := r.since()
		if cur, ok := c.joinedRoom(r.id); !ok || cur != r || after == nil {
			return
		}
		a, err := c.request(c.ctx, historyRequest(protocol.History{RoomID: r.id, Limit: protocol.MaxHistoryLimit, After: after}))
		var page protocol.HistoryPage
		if err == nil {
			err = a.decode(&page)
		}
		if err != nil {
			c.opts.Logger.Warn("chat gap fill failed", "room", r.id, "after", *after, "err", err)
			return
		}
		missing := false
		c.deliver(r, false, func(s *sequencer) []Event {
			evs := pageEvents(s, page)
			missing = s.missing()
			return evs
		})
		if !page.HasMore || !missing {
			return
		}
	}
}

// pageEvents feeds a forward history page to s.
func pageEvents(s *sequencer, page protocol.HistoryPage) []Event {
	var evs []Event
	if page.Lost != nil {
		evs = append(evs, s.lost(*page.Lost, "")...)
	}
	for _, m := range page.Messages {
		evs = append(evs, s.add(m)...)
	}
	return evs
}
