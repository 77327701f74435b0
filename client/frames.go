package client

import (
	"encoding/json"

	"github.com/chatstack/websocketchatapi/protocol"
)

// request is one client → server message and the key its answer comes back with.
type request struct {
	body []byte
	key  waitKey
}

// waitKey matches an answer (or an error frame) to its request: answers may arrive in any
// order, so each in-flight request on a connection has a distinct key.
type waitKey struct {
	typ  string // the answer's frame type
	room string
	cmid string // sendmessage and direct only
}

// answerTypes maps an action to the type of the frame that answers it.
var answerTypes = map[string]string{
	protocol.ActionJoinRoom:    protocol.FrameJoined,
	protocol.ActionLeaveRoom:   protocol.FrameLeft,
	protocol.ActionHistory:     protocol.FrameHistory,
	protocol.ActionSendMessage: protocol.FrameAck,
	protocol.ActionDirect:      protocol.FrameAck,
	protocol.ActionMembers:     protocol.FrameMembers,
}

// encodeAction writes body's fields after "action":"<action>".
func encodeAction(action string, body any) []byte {
	b := protocol.Encode(body) // an object: {...}
	head := protocol.Encode(struct {
		Action string `json:"action"`
	}{action})
	if len(b) == 2 { // {}
		return head
	}
	return append(head[:len(head)-1:len(head)-1], append([]byte{','}, b[1:]...)...)
}

func joinRequest(room string, since *int64) request {
	return request{
		body: encodeAction(protocol.ActionJoinRoom, protocol.JoinRoom{RoomID: room, Since: since}),
		key:  waitKey{typ: protocol.FrameJoined, room: room},
	}
}

func leaveRequest(room string) request {
	return request{
		body: encodeAction(protocol.ActionLeaveRoom, protocol.LeaveRoom{RoomID: room}),
		key:  waitKey{typ: protocol.FrameLeft, room: room},
	}
}

func historyRequest(h protocol.History) request {
	return request{
		body: encodeAction(protocol.ActionHistory, h),
		key:  waitKey{typ: protocol.FrameHistory, room: h.RoomID},
	}
}

func sendRequest(m protocol.SendMessage) request {
	return request{
		body: encodeAction(protocol.ActionSendMessage, m),
		key:  waitKey{typ: protocol.FrameAck, room: m.RoomID, cmid: m.ClientMessageID},
	}
}

// directRequest's answer is keyed by clientMessageId alone: the conversation id, which the
// ack names, is not known before (the client does not know its own user id).
func directRequest(d protocol.Direct) request {
	return request{
		body: encodeAction(protocol.ActionDirect, d),
		key:  waitKey{typ: protocol.FrameAck, cmid: d.ClientMessageID},
	}
}

func membersRequest(m protocol.Members) request {
	return request{
		body: encodeAction(protocol.ActionMembers, m),
		key:  waitKey{typ: protocol.FrameMembers, room: m.RoomID},
	}
}

// pingBody is the heartbeat, answered {"type":"pong"} by API Gateway itself.
var pingBody = protocol.Encode(struct {
	Action string `json:"action"`
}{protocol.RoutePing})

// header holds the fields every frame is first read for. API Gateway's own error frames
// ({"message":"Internal server error","connectionId":...,"requestId":...}) have no type.
type header struct {
	Type            string `json:"type"`
	RoomID          string `json:"roomId"`
	ClientMessageID string `json:"clientMessageId"`
	Message         string `json:"message"`
	RequestID       string `json:"requestId"`
}

// answer is what a waiting request receives: its answer frame, or the error frame naming it.
type answer struct {
	raw []byte
	err *protocol.Error
}

// decode reads a's frame into v.
func (a answer) decode(v any) error {
	return json.Unmarshal(a.raw, v)
}
