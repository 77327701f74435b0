package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"regexp"
	"strconv"
	"testing"
	"unicode/utf8"
)

// FuzzValidate checks every action's validation on arbitrary bodies: it never panics, a
// refusal is an *InvalidError (JSON set exactly when the body is not JSON), and a body it
// accepts decodes into a request within the protocol's limits whose fields hold the values
// of the body's keys of exactly those names.
//
// Seeds: testdata/fuzz/FuzzValidate. Fuzz with scripts/fuzz.sh or
// go test -run '^$' -fuzz '^FuzzValidate$' ./protocol.
func FuzzValidate(f *testing.F) {
	v, err := NewValidator()
	if err != nil {
		f.Fatal(err)
	}
	roomID := regexp.MustCompile(RoomIDPattern)
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, action := range Actions() {
			out := requestOf(t, action)
			err := v.Validate(action, body, out)
			if err != nil {
				var inv *InvalidError
				if !errors.As(err, &inv) {
					t.Fatalf("%s: %v is not an *InvalidError", action, err)
				}
				if inv.Reason == "" || inv.Action != action {
					t.Fatalf("%s: refusal %+v names no reason or another action", action, inv)
				}
				if goInternals.MatchString(inv.Reason) {
					t.Fatalf("%s: refusal %q shows Go's internals to the client", action, inv.Reason)
				}
				if inv.JSON == json.Valid(body) {
					t.Fatalf("%s: InvalidError.JSON = %v for a body that json.Valid calls %v", action, inv.JSON, json.Valid(body))
				}
				continue
			}
			// Accepted: the body is a JSON object; read its keys exactly as named.
			var exact map[string]any
			dec := json.NewDecoder(bytes.NewReader(body))
			dec.UseNumber() // an extra key may hold a number no float64 holds (1e400)
			if err := dec.Decode(&exact); err != nil || exact == nil {
				t.Fatalf("%s: accepted a body that is not a JSON object: %v", action, err)
			}
			checkAccepted(t, action, out, exact, roomID)
		}
	})
}

// goInternals matches what Go's own errors say and a client must never read: encoding/json's
// prefix, Go type and struct names.
var goInternals = regexp.MustCompile(`json: |Go struct|Go value|struct field|unmarshal|of type (int|string|float|bool)|\bint64\b|\*protocol\.|protocol\.[A-Z]`)

// requestOf returns a pointer to a new request struct of action.
func requestOf(t *testing.T, action string) any {
	switch action {
	case ActionJoinRoom:
		return &JoinRoom{}
	case ActionLeaveRoom:
		return &LeaveRoom{}
	case ActionSendMessage:
		return &SendMessage{}
	case ActionHistory:
		return &History{}
	case ActionDirect:
		return &Direct{}
	case ActionMembers:
		return &Members{}
	}
	t.Fatalf("no request struct for action %q", action)
	return nil
}

// checkAccepted checks a decoded request against the limits and against exact, the body's
// keys as written.
func checkAccepted(t *testing.T, action string, out any, exact map[string]any, roomID *regexp.Regexp) {
	t.Helper()
	var room string
	switch r := out.(type) {
	case *JoinRoom:
		room = r.RoomID
	case *LeaveRoom:
		room = r.RoomID
	case *SendMessage:
		room = r.RoomID
		if n := utf8.RuneCountInString(r.Text); n < 1 || n > MaxTextLength {
			t.Fatalf("%s: accepted text of %d code points, want 1..%d", action, n, MaxTextLength)
		}
		if r.Text != exact["text"] {
			t.Fatalf("%s: decoded text %q, but the body's \"text\" is %v", action, r.Text, exact["text"])
		}
		id, present := exact["clientMessageId"]
		if n := utf8.RuneCountInString(r.ClientMessageID); n > MaxClientMessageIDLength || (present && n == 0) {
			t.Fatalf("%s: accepted clientMessageId of %d code points (present %v)", action, n, present)
		}
		if (present && r.ClientMessageID != id) || (!present && r.ClientMessageID != "") {
			t.Fatalf("%s: decoded clientMessageId %q, but the body's \"clientMessageId\" is %v", action, r.ClientMessageID, id)
		}
	case *History:
		room = r.RoomID
		limit, present := exact["limit"]
		if present && (r.Limit < 1 || r.Limit > MaxHistoryLimit) || !present && r.Limit != 0 {
			t.Fatalf("%s: accepted limit %d (present %v), want 1..%d or absent", action, r.Limit, present, MaxHistoryLimit)
		}
		if present && limit != json.Number(strconv.Itoa(r.Limit)) {
			t.Fatalf("%s: decoded limit %d, but the body's \"limit\" is %v", action, r.Limit, limit)
		}
	case *Members:
		room = r.RoomID
		if _, present := exact["limit"]; present && (r.Limit < 1 || r.Limit > MaxMembersLimit) {
			t.Fatalf("%s: accepted limit %d, want 1..%d", action, r.Limit, MaxMembersLimit)
		}
	case *Direct:
		if n := utf8.RuneCountInString(r.ToUserID); n < 1 || n > MaxUserIDLength || r.ToUserID != exact["toUserId"] {
			t.Fatalf("%s: accepted toUserId %q (%d code points), body has %v", action, r.ToUserID, n, exact["toUserId"])
		}
		if n := utf8.RuneCountInString(r.Text); n < 1 || n > MaxTextLength || r.Text != exact["text"] {
			t.Fatalf("%s: accepted text of %d code points, body has %v", action, n, exact["text"])
		}
		return
	default:
		t.Fatalf("%s: unexpected request type %T", action, out)
	}
	if !roomID.MatchString(room) || !utf8.ValidString(room) {
		t.Fatalf("%s: accepted room id %q, which breaks %s", action, room, RoomIDPattern)
	}
	if room != exact["roomId"] {
		t.Fatalf("%s: decoded room id %q, but the body's \"roomId\" is %v", action, room, exact["roomId"])
	}
}
