package chat

import (
	"context"
	"fmt"

	"github.com/chatstack/websocketchatapi/protocol"
)

// history serves a history request: a page read backwards (the newest messages below Before,
// or the room's newest) or forwards (the oldest above After).
func (s *Service) history(ctx context.Context, req Request, c Connection) (any, *FanoutStats, error) {
	var in protocol.History
	if err := s.decodeMember(ctx, req, c, &in, &in.RoomID); err != nil {
		return nil, nil, err
	}
	last, err := s.store.LastSeq(ctx, in.RoomID)
	if err != nil {
		return nil, nil, fmt.Errorf("last sequence number of %s: %w", in.RoomID, err)
	}
	if err := checkSeq("before", in.Before, last+1, "the room's last sequence number + 1"); err != nil {
		return nil, nil, err
	}
	if err := checkSeq("after", in.After, last, "the room's last sequence number"); err != nil {
		return nil, nil, err
	}
	limit := in.Limit
	if limit <= 0 {
		limit = protocol.DefaultHistoryLimit
	}
	limit = min(limit, protocol.MaxHistoryLimit)
	if in.After != nil {
		return s.forwardPage(ctx, in.RoomID, *in.After, last, limit)
	}
	before := last + 1
	if in.Before != nil {
		before = *in.Before
	}
	// One more than asked tells whether older messages exist.
	stored, err := s.store.Messages(ctx, in.RoomID, MessageRange{Before: before, Limit: limit + 1, Newest: true})
	if err != nil {
		return nil, nil, fmt.Errorf("messages of %s: %w", in.RoomID, err)
	}
	page := backwardPage(in.RoomID, stored, limit)
	page.LastSeq = last
	return page, nil, nil
}

// checkSeq refuses a sequence number of a request (field) above max, which the message names.
func checkSeq(field string, seq *int64, max int64, what string) error {
	if seq == nil || *seq <= max {
		return nil
	}
	return &clientError{protocol.CodeInvalidRequest, fmt.Sprintf("/%s: %d is beyond %s (%d)", field, *seq, what, max)}
}

// pageEnvelope is the encoded size of a page frame without its messages, at its largest:
// every optional field set to the widest value it can take.
func pageEnvelope(roomID string) int {
	widest := int64(protocol.MaxSeq)
	return len(protocol.Encode(protocol.HistoryPage{
		Type: protocol.FrameHistory, RoomID: roomID, Messages: []protocol.Message{}, HasMore: true,
		Before: widest, After: widest, LastSeq: widest, Lost: &protocol.SeqRange{From: widest, To: widest},
	}))
}

// encodedSize is the size a message adds to a page: its encoding and a comma.
func encodedSize(m StoredMessage) int { return len(protocol.Encode(messageFrame(m))) + 1 }

// backwardPage builds a page read backwards from stored, the room's messages below the
// request's Before (in sequence order, up to limit+1 of them): the newest limit that fit in
// protocol.MaxMessageBytes once encoded, with HasMore and Before when older ones remain.
func backwardPage(roomID string, stored []StoredMessage, limit int) protocol.HistoryPage {
	page := protocol.HistoryPage{Type: protocol.FrameHistory, RoomID: roomID, Messages: []protocol.Message{}}
	first := max(len(stored)-limit, 0) // index of the oldest message the page may hold
	size := pageEnvelope(roomID)
	keep := len(stored)
	for i := len(stored) - 1; i >= first; i-- {
		n := encodedSize(stored[i])
		if size+n > protocol.MaxMessageBytes {
			break
		}
		size += n
		keep = i
	}
	for _, m := range stored[keep:] {
		page.Messages = append(page.Messages, messageFrame(m))
	}
	if keep > 0 && keep < len(stored) {
		page.HasMore = true
		page.Before = stored[keep].Seq
	}
	return page
}

// forwardPage reads the page after seq after, up to last: the oldest messages, contiguous in
// number, that the limit and protocol.MaxMessageBytes allow. Numbers missing at its start
// are past retention (Lost); a page ends before any later missing number, which the next
// page then reports.
func (s *Service) forwardPage(ctx context.Context, roomID string, after, last int64, limit int) (any, *FanoutStats, error) {
	page := protocol.HistoryPage{Type: protocol.FrameHistory, RoomID: roomID, Messages: []protocol.Message{}, LastSeq: last}
	stored, err := s.store.Messages(ctx, roomID, MessageRange{After: after, Before: last + 1, Limit: limit})
	if err != nil {
		return nil, nil, fmt.Errorf("messages of %s: %w", roomID, err)
	}
	next := after + 1
	if len(stored) == 0 && next <= last {
		page.Lost = &protocol.SeqRange{From: next, To: last}
		return page, nil, nil
	}
	if len(stored) > 0 && stored[0].Seq > next {
		page.Lost = &protocol.SeqRange{From: next, To: stored[0].Seq - 1}
		next = stored[0].Seq
	}
	size := pageEnvelope(roomID)
	for _, m := range stored {
		n := encodedSize(m)
		if m.Seq != next || size+n > protocol.MaxMessageBytes {
			break
		}
		size += n
		page.Messages = append(page.Messages, messageFrame(m))
		next++
	}
	if next <= last {
		page.HasMore = true
		page.After = next - 1
	}
	return page, nil, nil
}
