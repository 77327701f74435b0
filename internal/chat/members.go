package chat

import (
	"context"
	"fmt"

	"github.com/chatstack/websocketchatapi/protocol"
)

// members answers a page of the users present in a room the caller's connection has joined,
// each with their display name and how many connections they have there. A page holds at most
// the request's limit and stays under protocol.MaxMessageBytes; its cursor continues it.
func (s *Service) members(ctx context.Context, req Request, c Connection) (any, *FanoutStats, error) {
	var in protocol.Members
	if err := s.decodeMember(ctx, req, c, &in, &in.RoomID); err != nil {
		return nil, nil, err
	}
	limit := in.Limit
	if limit == 0 {
		limit = protocol.DefaultMembersLimit
	}
	page := protocol.MemberList{Type: protocol.FrameMembers, RoomID: in.RoomID, Members: []protocol.Member{}}
	size := len(protocol.Encode(page)) + len(`,"cursor":""`) + protocol.MaxUserIDLength*4
	cursor := in.Cursor
	for len(page.Members) < limit {
		users, next, err := s.store.RoomUsers(ctx, in.RoomID, cursor, limit-len(page.Members))
		if err != nil {
			return nil, nil, fmt.Errorf("users of room %s: %w", in.RoomID, err)
		}
		for _, u := range users {
			m := protocol.Member{UserID: u.UserID, DisplayName: u.DisplayName, Connections: u.Connections}
			n := len(protocol.Encode(m)) + 1
			if size+n > protocol.MaxMessageBytes {
				page.Cursor = page.Members[len(page.Members)-1].UserID
				return page, nil, nil
			}
			size += n
			page.Members = append(page.Members, m)
		}
		if cursor = next; cursor == "" {
			break
		}
	}
	page.Cursor = cursor
	return page, nil, nil
}
