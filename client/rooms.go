package client

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"sync"

	"github.com/chatstack/websocketchatapi/protocol"
)

// room is a joined room: its sequencer and its gap filling.
type room struct {
	id string
	// mu guards the fields below and orders the room's events: they are emitted under it.
	mu       sync.Mutex
	seq      *sequencer
	gapTimer stopper
	filling  bool
}

// roomLocks serialize a room's requests whose answers carry nothing but the room id, so that
// only one of each is in flight. They outlive the room (a few bytes per room id ever used).
type roomLocks struct {
	join    sync.Mutex // Join and Leave
	history sync.Mutex // History and gap fills
	members sync.Mutex // Members pages
}

func (c *Client) roomLocks(id string) *roomLocks {
	c.mu.Lock()
	defer c.mu.Unlock()
	l, ok := c.locks[id]
	if !ok {
		l = &roomLocks{}
		c.locks[id] = l
	}
	return l
}

// since is the seq to resume r from, or nil before its first joined.
func (r *room) since() *int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	if s, ok := r.seq.since(); ok {
		return &s
	}
	return nil
}

func (r *room) stopTimer() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.gapTimer != nil {
		r.gapTimer.Stop()
		r.gapTimer = nil
	}
}

// Join makes the client a member of roomID and delivers its messages from now on: each one
// after the room's last sequence number at the time of joining, exactly once and in order.
// Joining a joined room resumes it (nothing is delivered twice). The room stays joined
// across reconnects until Leave.
func (c *Client) Join(ctx context.Context, roomID string) error {
	if err := checkRoomID(roomID); err != nil {
		return err
	}
	lk := c.roomLocks(roomID)
	lk.join.Lock()
	defer lk.join.Unlock()
	c.mu.Lock()
	r, joined := c.rooms[roomID]
	if !joined {
		r = &room{id: roomID, seq: newSequencer(roomID)}
		c.rooms[roomID] = r
	}
	c.mu.Unlock()
	if _, err := c.request(ctx, joinRequest(roomID, r.since())); err != nil {
		if !joined {
			c.dropRoom(r)
		}
		return fmt.Errorf("client: join room %q: %w", roomID, err)
	}
	return nil
}

// Leave ends the membership of roomID: no more of its events are delivered, from the moment
// Leave is called, and it is not rejoined after reconnects. Leaving a room the client is
// not in succeeds.
func (c *Client) Leave(ctx context.Context, roomID string) error {
	if err := checkRoomID(roomID); err != nil {
		return err
	}
	lk := c.roomLocks(roomID)
	lk.join.Lock()
	defer lk.join.Unlock()
	c.mu.Lock()
	r := c.rooms[roomID]
	c.mu.Unlock()
	if r != nil {
		c.dropRoom(r)
	}
	_, err := c.request(ctx, leaveRequest(roomID))
	var e *Error
	if errors.As(err, &e) && e.Code == protocol.CodeNotMember {
		return nil
	}
	if err != nil {
		return fmt.Errorf("client: leave room %q: %w", roomID, err)
	}
	return nil
}

// dropRoom forgets r: its frames are ignored from now on.
func (c *Client) dropRoom(r *room) {
	c.mu.Lock()
	if c.rooms[r.id] == r {
		delete(c.rooms, r.id)
	}
	c.mu.Unlock()
	r.stopTimer()
}

// conversation returns the direct conversation roomID, tracked from now on when it was not:
// its first delivered message is seq (the one just seen), and it is resumed after reconnects
// like a joined room.
func (c *Client) conversation(roomID string, seq int64) *room {
	c.mu.Lock()
	defer c.mu.Unlock()
	if r, ok := c.rooms[roomID]; ok {
		return r
	}
	r := &room{id: roomID, seq: newSequencer(roomID)}
	r.seq.base(max(seq, 1) - 1)
	c.rooms[roomID] = r
	return r
}

// Conversations returns the ids of the direct conversations the client tracks: those it saw a
// direct message of (sent or received) since Dial.
func (c *Client) Conversations() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var ids []string
	for id := range c.rooms {
		if protocol.IsConversation(id) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// MaxMembersPages bounds [Client.Members]: it reads at most this many pages (of
// protocol.MaxMembersLimit users) of one room, then ends with an error.
const MaxMembersPages = 100

// Members lists the users in roomID, a room the client joined, reading pages of
// protocol.MaxMembersLimit with the server's cursor as the loop asks for more (break early to
// stop). It yields an error (and ends) when a page fails, an *Error not_member when the room
// is not joined, or after MaxMembersPages pages.
//
//	for m, err := range c.Members(ctx, "general") {
//		if err != nil { ... }
//		fmt.Println(m.UserID, m.DisplayName, m.Connections)
//	}
func (c *Client) Members(ctx context.Context, roomID string) iter.Seq2[protocol.Member, error] {
	return func(yield func(protocol.Member, error) bool) {
		if err := checkRoomID(roomID); err != nil {
			yield(protocol.Member{}, err)
			return
		}
		cursor := ""
		for page := 0; ; page++ {
			if page == MaxMembersPages {
				yield(protocol.Member{}, fmt.Errorf("client: members of room %q: more than %d pages", roomID, MaxMembersPages))
				return
			}
			list, err := c.membersPage(ctx, roomID, cursor)
			if err != nil {
				yield(protocol.Member{}, err)
				return
			}
			for _, m := range list.Members {
				if !yield(m, nil) {
					return
				}
			}
			if list.Cursor == "" || list.Cursor == cursor {
				return
			}
			cursor = list.Cursor
		}
	}
}

// membersPage reads one page of roomID's members; only one is in flight per room, since the
// answer names nothing but the room.
func (c *Client) membersPage(ctx context.Context, roomID, cursor string) (protocol.MemberList, error) {
	lk := c.roomLocks(roomID)
	lk.members.Lock()
	defer lk.members.Unlock()
	a, err := c.request(ctx, membersRequest(protocol.Members{RoomID: roomID, Limit: protocol.MaxMembersLimit, Cursor: cursor}))
	if err != nil {
		return protocol.MemberList{}, fmt.Errorf("client: members of room %q: %w", roomID, err)
	}
	var list protocol.MemberList
	if err := a.decode(&list); err != nil {
		return protocol.MemberList{}, fmt.Errorf("client: members of room %q: unreadable page: %w", roomID, err)
	}
	return list, nil
}

// joinedRoom returns the room roomID when it is joined.
func (c *Client) joinedRoom(roomID string) (*room, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.rooms[roomID]
	return r, ok
}

// HistoryQuery selects a page of a room's history.
type HistoryQuery struct {
	// Before reads the newest messages whose seq is below it; 0 reads the room's newest.
	Before int64
	// Limit is the most messages: 1 to protocol.MaxHistoryLimit, 0 for
	// protocol.DefaultHistoryLimit.
	Limit int
}

// History reads a page of roomID's history, oldest first, for the application to show older
// messages: continue with HistoryQuery{Before: page.Before} while page.HasMore. Its messages
// are not delivered as events. The client must be a member of the room (an *Error with code
// not_member otherwise).
func (c *Client) History(ctx context.Context, roomID string, q HistoryQuery) (protocol.HistoryPage, error) {
	if err := checkRoomID(roomID); err != nil {
		return protocol.HistoryPage{}, err
	}
	if q.Limit < 0 || q.Limit > protocol.MaxHistoryLimit {
		return protocol.HistoryPage{}, fmt.Errorf("client: history of room %q: HistoryQuery.Limit (%d) must be 0 to %d", roomID, q.Limit, protocol.MaxHistoryLimit)
	}
	if q.Before < 0 {
		return protocol.HistoryPage{}, fmt.Errorf("client: history of room %q: HistoryQuery.Before (%d) must not be negative", roomID, q.Before)
	}
	h := protocol.History{RoomID: roomID, Limit: q.Limit}
	if q.Before > 0 {
		h.Before = &q.Before
	}
	lk := c.roomLocks(roomID)
	lk.history.Lock()
	defer lk.history.Unlock()
	a, err := c.request(ctx, historyRequest(h))
	if err != nil {
		return protocol.HistoryPage{}, fmt.Errorf("client: history of room %q: %w", roomID, err)
	}
	var page protocol.HistoryPage
	if err := a.decode(&page); err != nil {
		return protocol.HistoryPage{}, fmt.Errorf("client: history of room %q: unreadable page: %w", roomID, err)
	}
	return page, nil
}
