package protocol

import (
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestSchemasAreDraft04AndMatchLimits(t *testing.T) {
	for _, a := range Actions() {
		raw, err := Schema(a)
		if err != nil {
			t.Fatal(err)
		}
		var doc map[string]any
		if err := json.Unmarshal(raw, &doc); err != nil {
			t.Fatalf("%s: %v", a, err)
		}
		if doc["$schema"] != "http://json-schema.org/draft-04/schema#" {
			t.Errorf("%s: $schema = %v, want draft-04 (API Gateway models)", a, doc["$schema"])
		}
		props := doc["properties"].(map[string]any)
		if a == ActionDirect {
			to := props["toUserId"].(map[string]any)
			if to["maxLength"] != float64(MaxUserIDLength) {
				t.Errorf("direct: toUserId maxLength %v, want %d", to["maxLength"], MaxUserIDLength)
			}
			continue
		}
		room := props["roomId"].(map[string]any)
		if room["pattern"] != RoomIDPattern {
			t.Errorf("%s: roomId pattern %v, want %v", a, room["pattern"], RoomIDPattern)
		}
	}
	for _, a := range []string{ActionSendMessage, ActionDirect} {
		raw, _ := Schema(a)
		var doc struct {
			Properties map[string]struct {
				MaxLength int `json:"maxLength"`
				Maximum   int `json:"maximum"`
			} `json:"properties"`
		}
		_ = json.Unmarshal(raw, &doc)
		if doc.Properties["text"].MaxLength != MaxTextLength {
			t.Errorf("%s: text maxLength %d, want %d", a, doc.Properties["text"].MaxLength, MaxTextLength)
		}
		if doc.Properties["clientMessageId"].MaxLength != MaxClientMessageIDLength {
			t.Errorf("%s: clientMessageId maxLength %d, want %d", a, doc.Properties["clientMessageId"].MaxLength, MaxClientMessageIDLength)
		}
	}
	raw, _ := Schema(ActionMembers)
	var members struct {
		Properties map[string]struct {
			Maximum int `json:"maximum"`
		} `json:"properties"`
	}
	_ = json.Unmarshal(raw, &members)
	if members.Properties["limit"].Maximum != MaxMembersLimit {
		t.Errorf("members: limit maximum %d, want %d", members.Properties["limit"].Maximum, MaxMembersLimit)
	}
	seqs := map[string]map[string]float64{ // action -> field -> minimum
		ActionHistory:  {"before": 1, "after": 0},
		ActionJoinRoom: {"since": 0},
	}
	for action, fields := range seqs {
		raw, _ := Schema(action)
		var seq struct {
			Properties map[string]struct {
				Type    string  `json:"type"`
				Minimum float64 `json:"minimum"`
				Maximum float64 `json:"maximum"`
			} `json:"properties"`
		}
		_ = json.Unmarshal(raw, &seq)
		for field, minimum := range fields {
			p := seq.Properties[field]
			if p.Type != "integer" || p.Minimum != minimum || p.Maximum != MaxSeq {
				t.Errorf("%s %s: %+v, want an integer from %v to MaxSeq", action, field, p, minimum)
			}
		}
	}
}

// TestTimesSortAsStrings: one fixed width, so string order is time order (a trimmed format
// writes .2Z after .15Z).
func TestTimesSortAsStrings(t *testing.T) {
	base := time.Date(2026, 12, 6, 11, 39, 41, 0, time.FixedZone("CET", 3600))
	var prev string
	for _, ms := range []int{0, 1, 10, 100, 150, 200, 999} {
		b, err := json.Marshal(NewTime(base.Add(time.Duration(ms) * time.Millisecond)))
		if err != nil {
			t.Fatal(err)
		}
		s := string(b)
		if len(s) != len(`"2026-12-06T10:39:41.000Z"`) || s[len(s)-2] != 'Z' {
			t.Errorf("%d ms: %s is not fixed-width UTC with milliseconds", ms, s)
		}
		if prev != "" && s <= prev {
			t.Errorf("%s sorts before %s", s, prev)
		}
		prev = s
	}
	var back Time
	if err := json.Unmarshal([]byte(`"2026-12-06T10:39:41.150Z"`), &back); err != nil || back.UnixMilli() != base.Add(150*time.Millisecond).UnixMilli() {
		t.Errorf("read back %v, %v", back, err)
	}
}

func TestValidate(t *testing.T) {
	v, err := NewValidator()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		action, body string
		wantErr      string // substring; "" means valid
		notJSON      bool
	}{
		{ActionJoinRoom, `{"action":"joinroom","roomId":"general"}`, "", false},
		{ActionJoinRoom, `{"action":"joinroom"}`, "roomId", false},
		{ActionJoinRoom, `{"roomId":"-bad"}`, "/roomId", false},
		{ActionJoinRoom, `{"roomId":"` + strings.Repeat("a", 65) + `"}`, "/roomId", false},
		{ActionJoinRoom, `{"roomId":42}`, "/roomId", false},
		{ActionJoinRoom, `not json`, "not valid JSON", true},
		{ActionSendMessage, `{"roomId":"r1","text":"hi","clientMessageId":"c-1"}`, "", false},
		{ActionSendMessage, `{"roomId":"r1","text":""}`, "/text", false},
		{ActionSendMessage, `{"roomId":"r1","text":"` + strings.Repeat("é", MaxTextLength) + `"}`, "", false},
		{ActionSendMessage, `{"roomId":"r1","text":"` + strings.Repeat("é", MaxTextLength+1) + `"}`, "/text", false},
		{ActionSendMessage, `{"roomId":"r1"}`, "text", false},
		{ActionHistory, `{"roomId":"r1","limit":100}`, "", false},
		{ActionHistory, `{"roomId":"r1","limit":101}`, "/limit", false},
		{ActionHistory, `{"roomId":"r1","limit":1.5}`, "/limit", false},
		{ActionHistory, `{"roomId":"r1","limit":0}`, "/limit", false},
		// Draft-04: an integer has no fraction or exponent, whatever its value.
		{ActionHistory, `{"roomId":"r1","limit":2.0}`, "/limit: got number 2.0, want integer", false},
		{ActionHistory, `{"roomId":"r1","limit":2e0}`, "/limit: got number 2e0, want integer", false},
		{ActionHistory, `{"roomId":"r1","limit":20e-1}`, "/limit: got number 20e-1, want integer", false},
		{ActionHistory, `{"roomId":"r1","limit":2E1}`, "/limit", false},
		{ActionHistory, `{"roomId":"r1","limit":-0}`, "/limit", false},
		{ActionLeaveRoom, `["r1"]`, "object", false},
		// Sequence numbers: non-negative integers a JSON number holds exactly.
		{ActionJoinRoom, `{"roomId":"r1","since":0}`, "", false},
		{ActionJoinRoom, `{"roomId":"r1","since":9007199254740991}`, "", false},
		{ActionJoinRoom, `{"roomId":"r1","since":9007199254740992}`, "/since", false},
		{ActionJoinRoom, `{"roomId":"r1","since":-1}`, "/since", false},
		{ActionJoinRoom, `{"roomId":"r1","since":1.5}`, "/since", false},
		{ActionJoinRoom, `{"roomId":"r1","since":"4"}`, "/since", false},
		{ActionJoinRoom, `{"roomId":"r1","since":4.0}`, "/since: got number 4.0, want integer", false},
		{ActionHistory, `{"roomId":"r1","before":1}`, "", false},
		{ActionHistory, `{"roomId":"r1","before":0}`, "/before", false},
		{ActionHistory, `{"roomId":"r1","after":0,"limit":5}`, "", false},
		{ActionHistory, `{"roomId":"r1","after":-3}`, "/after", false},
		{ActionHistory, `{"roomId":"r1","after":null}`, "/after", false},
		{ActionHistory, `{"roomId":"r1","before":9,"after":3}`, "before and after", false},
		// encoding/json would decode these keys into the fields, past the schema's limits.
		{ActionJoinRoom, `{"roomId":"ok","ROOMID":"#bad room!"}`, "/ROOMID: property names are case-sensitive", false},
		{ActionSendMessage, `{"roomId":"r1","text":"x","Text":"` + strings.Repeat("x", MaxTextLength+1) + `"}`, "/Text", false},
		{ActionSendMessage, `{"roomId":"r1","text":"x","clientMe\u017f\u017fageId":""}`, "clientMeſſageId", false},
		{ActionHistory, `{"roomId":"r1","LIMIT":1000}`, "/LIMIT", false},
		{ActionHistory, `{"roomId":"r1","ACTION":"history","limitless":true}`, "", false},
	}
	for _, tt := range tests {
		err := v.Validate(tt.action, []byte(tt.body), requestOf(t, tt.action))
		if tt.wantErr == "" {
			if err != nil {
				t.Errorf("%s %s: unexpected error %v", tt.action, tt.body, err)
			}
			continue
		}
		var inv *InvalidError
		if !errors.As(err, &inv) {
			t.Errorf("%s %.40s: got %v, want InvalidError containing %q", tt.action, tt.body, err, tt.wantErr)
			continue
		}
		if !strings.Contains(inv.Error(), tt.wantErr) || inv.JSON != tt.notJSON {
			t.Errorf("%s %.40s: got %q (JSON=%v), want %q (JSON=%v)", tt.action, tt.body, inv.Error(), inv.JSON, tt.wantErr, tt.notJSON)
		}
	}
}

func TestValidateDecodes(t *testing.T) {
	v, _ := NewValidator()
	var m SendMessage
	if err := v.Validate(ActionSendMessage, []byte(`{"action":"sendmessage","roomId":"r","text":"hello"}`), &m); err != nil {
		t.Fatal(err)
	}
	if m.RoomID != "r" || m.Text != "hello" {
		t.Fatalf("decoded %+v", m)
	}
	if err := v.Validate("nope", []byte(`{}`), nil); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Fatalf("unknown action: %v", err)
	}
}

func TestConversationID(t *testing.T) {
	a, b := ConversationID("alice", "bob"), ConversationID("bob", "alice")
	if a != b {
		t.Fatalf("ConversationID depends on the order: %s, %s", a, b)
	}
	if !IsConversation(a) || !regexp.MustCompile(RoomIDPattern).MatchString(a) {
		t.Errorf("%s is not a conversation id matching RoomIDPattern", a)
	}
	// The two ids are length-prefixed: ("ab","c") and ("a","bc") are different pairs.
	if ConversationID("ab", "c") == ConversationID("a", "bc") {
		t.Error(`("ab","c") and ("a","bc") share a conversation`)
	}
	if ConversationID("alice", "carol") == a {
		t.Error("two pairs share a conversation")
	}
}
