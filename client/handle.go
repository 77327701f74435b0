package client

import (
	"encoding/json"

	"github.com/chatstack/websocketchatapi/protocol"
)

// handle acts on one frame received on cn.
func (c *Client) handle(cn *conn, data []byte) {
	var h header
	if err := json.Unmarshal(data, &h); err != nil {
		c.opts.Logger.Warn("chat frame unreadable", "err", err)
		return
	}
	var err error
	switch h.Type {
	case "":
		// API Gateway's own error frame: it names no request, which is sent again after
		// Options.RequestTimeout.
		c.opts.Logger.Warn("chat gateway error", "message", h.Message, "requestId", h.RequestID)
	case protocol.FrameMessage, protocol.FrameResume, protocol.FrameLost, protocol.FramePresence:
		err = c.handleRoomFrame(h, data)
	case protocol.FrameJoined:
		err = c.handleJoined(cn, data)
	case protocol.FrameAck:
		err = c.handleAck(cn, data)
	case protocol.FrameLeft, protocol.FrameHistory:
		cn.answer(waitKey{typ: h.Type, room: h.RoomID}, answer{raw: data})
	case protocol.FramePong:
		cn.gotPong()
	case protocol.FrameError:
		var e protocol.Error
		if err = json.Unmarshal(data, &e); err == nil {
			key := waitKey{typ: answerTypes[e.Action], room: e.RoomID, cmid: e.ClientMessageID}
			if !cn.answer(key, answer{err: &e}) {
				c.opts.Logger.Warn("chat error frame for no request", "code", e.Code, "message", e.Message, "action", e.Action)
			}
		}
	default:
		c.opts.Logger.Debug("chat frame of unknown type ignored", "type", h.Type)
	}
	if err != nil {
		c.opts.Logger.Warn("chat frame unreadable", "type", h.Type, "err", err)
	}
}

// handleRoomFrame delivers a message, a resume page, a lost range or a presence event of a
// joined room; frames of other rooms are ignored.
func (c *Client) handleRoomFrame(h header, data []byte) error {
	r, ok := c.joinedRoom(h.RoomID)
	if !ok {
		return nil
	}
	var step func(*sequencer) []Event
	switch h.Type {
	case protocol.FrameMessage:
		var m protocol.Message
		if err := json.Unmarshal(data, &m); err != nil {
			return err
		}
		step = func(s *sequencer) []Event { return s.add(m) }
	case protocol.FrameResume:
		var p protocol.Resume
		if err := json.Unmarshal(data, &p); err != nil {
			return err
		}
		step = func(s *sequencer) []Event { return pageEvents(s, protocol.HistoryPage{Messages: p.Messages}) }
	case protocol.FrameLost:
		var l protocol.Lost
		if err := json.Unmarshal(data, &l); err != nil {
			return err
		}
		step = func(s *sequencer) []Event { return s.lost(l.SeqRange, l.Message) }
	case protocol.FramePresence:
		var p protocol.Presence
		if err := json.Unmarshal(data, &p); err != nil {
			return err
		}
		step = func(*sequencer) []Event { return []Event{&PresenceEvent{Presence: p}} }
	}
	c.deliver(r, false, step)
	return nil
}

// handleJoined sets or extends the room's sequence, fills what the replay missed, then
// answers the joinroom.
func (c *Client) handleJoined(cn *conn, data []byte) error {
	var j protocol.Joined
	if err := json.Unmarshal(data, &j); err != nil {
		return err
	}
	if r, ok := c.joinedRoom(j.RoomID); ok {
		c.deliver(r, true, func(s *sequencer) []Event { return s.base(j.LastSeq) })
	}
	cn.answer(waitKey{typ: protocol.FrameJoined, room: j.RoomID}, answer{raw: data})
	return nil
}

// handleAck places the client's own message in its room's order, then answers the send.
func (c *Client) handleAck(cn *conn, data []byte) error {
	var ack protocol.Ack
	if err := json.Unmarshal(data, &ack); err != nil {
		return err
	}
	if r, ok := c.joinedRoom(ack.RoomID); ok {
		m, own := c.ownMessage(ack)
		c.deliver(r, false, func(s *sequencer) []Event {
			if !own {
				s.saw(ack.Seq)
				return nil
			}
			return s.add(m)
		})
	}
	cn.answer(waitKey{typ: protocol.FrameAck, room: ack.RoomID, cmid: ack.ClientMessageID}, answer{raw: data})
	return nil
}
