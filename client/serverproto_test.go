package client

import (
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/chatstack/websocketchatapi/protocol"
)

// serveRequest answers a request as the chat function does.
func (s *testServer) serveRequest(sc *serverConn, req clientRequest) {
	switch req.Action {
	case protocol.RoutePing:
		sc.send(protocol.Pong{Type: protocol.FramePong})
	case protocol.ActionJoinRoom:
		s.join(sc, req.RoomID, req.Since)
	case protocol.ActionLeaveRoom:
		s.mu.Lock()
		delete(s.room(req.RoomID).members, sc)
		s.mu.Unlock()
		sc.send(protocol.Left{Type: protocol.FrameLeft, RoomID: req.RoomID})
	case protocol.ActionSendMessage:
		s.sendMessage(sc, req)
	case protocol.ActionHistory:
		sc.send(s.history(req))
	case protocol.ActionDirect:
		s.direct(sc, req)
	case protocol.ActionMembers:
		sc.send(s.members(sc, req))
	default:
		e := protocol.NewError(protocol.CodeUnknownAction, "unknown action")
		e.Action = req.Action
		sc.send(e)
	}
}

// room returns the room id, made on first use; s.mu is held.
func (s *testServer) room(id string) *testRoom {
	r, ok := s.rooms[id]
	if !ok {
		r = &testRoom{id: id, members: map[*serverConn]bool{}, acks: map[string]protocol.Ack{}, retainedFrom: 1}
		s.rooms[id] = r
	}
	return r
}

// join makes sc a member first, then replays what it missed since (lost and resume frames),
// then answers joined, as the server does.
func (s *testServer) join(sc *serverConn, roomID string, since *int64) {
	s.mu.Lock()
	r := s.room(roomID)
	r.members[sc] = true
	last := int64(len(r.messages))
	var replay []protocol.Message
	var lost *protocol.SeqRange
	if since != nil {
		from := *since + 1
		if from < r.retainedFrom {
			lost = &protocol.SeqRange{From: from, To: r.retainedFrom - 1}
			from = r.retainedFrom
		}
		replay = append(replay, r.messages[from-1:]...)
	}
	s.mu.Unlock()
	if lost != nil {
		sc.send(protocol.Lost{Type: protocol.FrameLost, RoomID: roomID, SeqRange: *lost, Message: "past retention"})
	}
	if len(replay) > 0 {
		sc.send(protocol.Resume{Type: protocol.FrameResume, RoomID: roomID, Messages: replay})
	}
	s.note("conn%d joined %s", sc.n, roomID) // before the client can know it
	sc.send(protocol.Joined{Type: protocol.FrameJoined, RoomID: roomID, LastSeq: last})
}

// sendMessage stores and fans out a message, or answers a repeated clientMessageId with the
// first acknowledgement.
func (s *testServer) sendMessage(sc *serverConn, req clientRequest) {
	s.mu.Lock()
	r := s.room(req.RoomID)
	if !r.members[sc] {
		s.mu.Unlock()
		e := protocol.NewError(protocol.CodeNotMember, "join the room first")
		e.Action, e.RoomID, e.ClientMessageID = req.Action, req.RoomID, req.ClientMessageID
		sc.send(e)
		return
	}
	if ack, dup := r.acks[req.ClientMessageID]; dup {
		s.mu.Unlock()
		ack.Duplicate = true
		sc.send(ack)
		return
	}
	s.mu.Unlock()
	m, members := s.store(req.RoomID, sc.user, req.Text)
	ack := protocol.Ack{Type: protocol.FrameAck, RoomID: m.RoomID, Seq: m.Seq, MessageID: m.MessageID,
		ClientMessageID: req.ClientMessageID, UserID: m.UserID, SentAt: m.SentAt}
	s.mu.Lock()
	r.acks[req.ClientMessageID] = ack
	s.mu.Unlock()
	ack.Delivered = s.fanOut(m, members, sc)
	sc.send(ack)
}

// store appends a message to the room's history and returns it with the members at that
// moment. Nobody receives it: fanOut does.
func (s *testServer) store(roomID, user, text string) (protocol.Message, []*serverConn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.room(roomID)
	seq := int64(len(r.messages)) + 1
	m := protocol.Message{Type: protocol.FrameMessage, RoomID: roomID, Seq: seq, MessageID: fmt.Sprintf("m%d", seq),
		UserID: user, DisplayName: user, Text: text, SentAt: protocol.NewTime(time.Now())}
	r.messages = append(r.messages, m)
	members := make([]*serverConn, 0, len(r.members))
	for sc := range r.members {
		members = append(members, sc)
	}
	return m, members
}

// fanOut delivers m to members but the sender, unless deliverTo refuses; it returns how many
// received it.
func (s *testServer) fanOut(m protocol.Message, members []*serverConn, sender *serverConn) int {
	s.mu.Lock()
	filter := s.deliverTo
	s.mu.Unlock()
	n := 0
	for _, sc := range members {
		if sc != sender && (filter == nil || filter(sc, m)) {
			sc.send(m)
			n++
		}
	}
	return n
}

// post stores a message from user and delivers it to the room's members.
func (s *testServer) post(roomID, user, text string) protocol.Message {
	m, members := s.store(roomID, user, text)
	s.fanOut(m, members, nil)
	return m
}

// history answers a history request: backwards by default, forwards with after.
func (s *testServer) history(req clientRequest) any {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.room(req.RoomID)
	limit := req.Limit
	if limit == 0 {
		limit = protocol.DefaultHistoryLimit
	}
	last := int64(len(r.messages))
	page := protocol.HistoryPage{Type: protocol.FrameHistory, RoomID: req.RoomID, Messages: []protocol.Message{}, LastSeq: last}
	if req.After != nil {
		from := *req.After + 1
		if from < r.retainedFrom {
			page.Lost = &protocol.SeqRange{From: from, To: r.retainedFrom - 1}
			from = r.retainedFrom
		}
		from = min(from, last+1)
		to := min(last, from+int64(limit)-1)
		page.Messages = append(page.Messages, r.messages[from-1:to]...)
		if page.HasMore = to < last; page.HasMore {
			page.After = to
		}
		return page
	}
	before := last + 1
	if req.Before != nil {
		before = *req.Before
	}
	from := max(r.retainedFrom, before-int64(limit))
	page.Messages = append(page.Messages, r.messages[from-1:before-1]...)
	if page.HasMore = from > r.retainedFrom; page.HasMore {
		page.Before = from
	}
	return page
}

// leaveAll removes a closed connection from every room.
func (s *testServer) leaveAll(sc *serverConn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.rooms {
		delete(r.members, sc)
	}
}

// direct stores a direct message in the conversation of the sender and req.ToUserID and
// delivers it to every connection of the recipient and the sender's other connections, or
// answers a repeated clientMessageId with the first acknowledgement.
func (s *testServer) direct(sc *serverConn, req clientRequest) {
	refuse := func(code, msg string) {
		e := protocol.NewError(code, msg)
		e.Action, e.ClientMessageID = req.Action, req.ClientMessageID
		sc.send(e)
	}
	conv := protocol.ConversationID(sc.user, req.ToUserID)
	s.mu.Lock()
	known := false
	for _, o := range s.conns {
		known = known || o.user == req.ToUserID
	}
	r := s.room(conv)
	ack, dup := r.acks[req.ClientMessageID]
	s.mu.Unlock()
	switch {
	case !known:
		refuse(protocol.CodeUnknownUser, "no such user")
		return
	case dup:
		ack.Duplicate = true
		sc.send(ack)
		return
	}
	m := s.storeDirect(sc.user, req.ToUserID, req.Text)
	ack = protocol.Ack{Type: protocol.FrameAck, RoomID: m.RoomID, Seq: m.Seq, MessageID: m.MessageID,
		ClientMessageID: req.ClientMessageID, UserID: m.UserID, DisplayName: m.DisplayName, SentAt: m.SentAt, ToUserID: req.ToUserID}
	s.mu.Lock()
	r.acks[req.ClientMessageID] = ack
	s.mu.Unlock()
	ack.Delivered = s.fanOutDirect(m, sc)
	sc.send(ack)
}

// storeDirect appends a direct message to the conversation of from and to; nobody receives
// it: fanOutDirect does.
func (s *testServer) storeDirect(from, to, text string) protocol.Message {
	m, _ := s.store(protocol.ConversationID(from, to), from, text)
	m.ToUserID = to
	s.mu.Lock()
	s.rooms[m.RoomID].messages[m.Seq-1] = m
	s.mu.Unlock()
	return m
}

// fanOutDirect delivers a direct message to every connection of both users but the sender's
// (deliverTo may refuse); it returns how many received it.
func (s *testServer) fanOutDirect(m protocol.Message, sender *serverConn) int {
	s.mu.Lock()
	var to []*serverConn
	for _, o := range s.conns {
		if o != sender && (o.user == m.UserID || o.user == m.ToUserID) {
			to = append(to, o)
		}
	}
	s.mu.Unlock()
	return s.fanOut(m, to, sender)
}

// postDirect stores a direct message from user from to user to and delivers it.
func (s *testServer) postDirect(from, to, text string) protocol.Message {
	m := s.storeDirect(from, to, text)
	s.fanOutDirect(m, nil)
	return m
}

// membersPageSize is the test server's members page, whatever the request's limit, so that
// a few users make several pages.
const membersPageSize = 2

// members answers a members request: the room's users by id, membersPageSize a page, the
// cursor being the index of the next one.
func (s *testServer) members(sc *serverConn, req clientRequest) any {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.room(req.RoomID)
	if !r.members[sc] {
		e := protocol.NewError(protocol.CodeNotMember, "join the room first")
		e.Action, e.RoomID = req.Action, req.RoomID
		return e
	}
	counts := map[string]int{}
	for o := range r.members {
		counts[o.user]++
	}
	var users []string
	for u := range counts {
		users = append(users, u)
	}
	slices.Sort(users)
	from, _ := strconv.Atoi(req.Cursor)
	to := min(len(users), from+membersPageSize)
	list := protocol.MemberList{Type: protocol.FrameMembers, RoomID: req.RoomID, Members: []protocol.Member{}}
	for _, u := range users[from:to] {
		list.Members = append(list.Members, protocol.Member{UserID: u, DisplayName: u, Connections: counts[u]})
	}
	if to < len(users) {
		list.Cursor = strconv.Itoa(to)
	}
	return list
}
