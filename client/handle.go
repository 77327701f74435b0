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
	case protocol.FrameLeft, protocol.FrameHistory, protocol.FrameMembers:
		cn.answer(waitKey{typ: h.Type, room: h.RoomID}, answer{raw: data})
	case protocol.FramePong:
		cn.gotPong()
	case protocol.FrameEvent:
		var e protocol.Event
		if err = json.Unmarshal(data, &e); err == nil {
			c.emit(&AppEvent{Event: e})
		}
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
// joined room, or a message of a direct conversation (tracked from its first message on);
// frames of other rooms are ignored.
func (c *Client) handleRoomFrame(h header, data []byte) error {
	r, ok := c.joinedRoom(h.RoomID)
	if !ok && (h.Type != protocol.FrameMessage || !protocol.IsConversation(h.RoomID)) {
		return nil
	}
	var step func(*sequencer) []Event
	switch h.Type {
	case protocol.FrameMessage:
		var m protocol.Message
		if err := json.Unmarshal(data, &m); err != nil {
			return err
		}
		if !ok {
			r = c.conversation(m.RoomID, m.Seq)
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

// handleAck places the client's own message in its room's order (a direct message in its
// conversation, tracked from then on), then answers the send.
func (c *Client) handleAck(cn *conn, data []byte) error {
	var ack protocol.Ack
	if err := json.Unmarshal(data, &ack); err != nil {
		return err
	}
	direct := ack.ToUserID != "" || protocol.IsConversation(ack.RoomID)
	m, own := c.ownMessage(ack)
	r, ok := c.joinedRoom(ack.RoomID)
	if !ok && direct && own {
		r, ok = c.conversation(ack.RoomID, ack.Seq), true
	}
	if ok {
		c.deliver(r, false, func(s *sequencer) []Event {
			if !own {
				s.saw(ack.Seq)
				return nil
			}
			return s.add(m)
		})
	}
	key := waitKey{typ: protocol.FrameAck, room: ack.RoomID, cmid: ack.ClientMessageID}
	if direct {
		key.room = "" // see directRequest
	}
	cn.answer(key, answer{raw: data})
	return nil
}
