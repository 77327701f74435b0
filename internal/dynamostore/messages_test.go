package dynamostore

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/chatstack/websocketchatapi/internal/chat"
)

func message(room, id string, at time.Time) chat.StoredMessage {
	return chat.StoredMessage{RoomID: room, MessageID: id, UserID: "u1", DisplayName: "Ada", Text: "text of " + id, SentAt: at, ExpiresAt: now.Add(24 * time.Hour)}
}

func seqs(ms []chat.StoredMessage) []int64 {
	var out []int64
	for _, m := range ms {
		out = append(out, m.Seq)
	}
	return out
}

// TestAppendNumbersEachRoom: each room counts from 1 on its own, a room whose id extends
// another's included, and what is read back is what was appended.
func TestAppendNumbersEachRoom(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var appended []chat.StoredMessage
	for i := range 5 {
		appended = append(appended, putMessage(t, e.store, message("r", fmt.Sprintf("m%d", i), now.Add(time.Duration(i)*time.Millisecond))))
		if got := putMessage(t, e.store, message("r2", fmt.Sprintf("x%d", i), now)); got.Seq != int64(i+1) {
			t.Errorf("room r2's message %d got seq %d", i+1, got.Seq)
		}
	}
	if want := []int64{1, 2, 3, 4, 5}; !slices.Equal(seqs(appended), want) {
		t.Fatalf("room r numbers %v, want %v", seqs(appended), want)
	}
	if last, err := e.store.LastSeq(ctx, "r"); err != nil || last != 5 {
		t.Errorf("LastSeq(r) = %d, %v; want 5", last, err)
	}
	if last, err := e.store.LastSeq(ctx, "empty"); err != nil || last != 0 {
		t.Errorf("LastSeq(empty) = %d, %v; want 0", last, err)
	}
	got, err := e.store.Messages(ctx, "r", chat.MessageRange{Limit: 100})
	if err != nil || len(got) != 5 {
		t.Fatalf("Messages(r) = %v, %v", seqs(got), err)
	}
	for i := range got {
		assertMessage(t, got[i], appended[i])
	}
}

// TestConcurrentAppendsAreGapless: senders racing in one room take every number once, and
// every number holds one of their messages.
func TestConcurrentAppendsAreGapless(t *testing.T) {
	e := newEnv(t)
	const senders, each = 12, 8
	var wg sync.WaitGroup
	errs := make(chan error, senders*each)
	for s := range senders {
		wg.Go(func() {
			for i := range each {
				if _, err := e.store.AppendMessage(context.Background(), message("busy", fmt.Sprintf("s%d-%d", s, i), now)); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	got, err := e.store.Messages(context.Background(), "busy", chat.MessageRange{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for i, m := range got {
		if m.Seq != int64(i+1) {
			t.Fatalf("message %d has seq %d: numbers %v", i, m.Seq, seqs(got))
		}
		ids[m.MessageID] = true
	}
	if len(got) != senders*each || len(ids) != senders*each {
		t.Fatalf("%d messages with %d distinct ids, want %d", len(got), len(ids), senders*each)
	}
}

// TestMessagesRange: the bounds are exclusive, Newest takes the last ones, expired messages
// leave holes, and a limit of 0 reads nothing.
func TestMessagesRange(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for i := 1; i <= 10; i++ {
		m := message("r", fmt.Sprintf("m%d", i), now)
		if i == 4 || i == 5 {
			m.ExpiresAt = now.Add(-time.Second)
		}
		putMessage(t, e.store, m)
	}
	tests := []struct {
		r    chat.MessageRange
		want []int64
	}{
		{chat.MessageRange{Limit: 3}, []int64{1, 2, 3}},
		{chat.MessageRange{Limit: 3, Newest: true}, []int64{8, 9, 10}},
		{chat.MessageRange{After: 2, Limit: 3}, []int64{3, 6, 7}},
		{chat.MessageRange{After: 2, Before: 7, Limit: 10}, []int64{3, 6}},
		{chat.MessageRange{Before: 7, Limit: 2, Newest: true}, []int64{3, 6}},
		{chat.MessageRange{After: 10, Limit: 5}, nil},
		{chat.MessageRange{After: 6, Before: 7, Limit: 5}, nil},
		{chat.MessageRange{Before: 1, Limit: 5, Newest: true}, nil},
		{chat.MessageRange{Limit: 0}, nil},
	}
	for _, tt := range tests {
		got, err := e.store.Messages(ctx, "r", tt.r)
		if err != nil || !slices.Equal(seqs(got), tt.want) {
			t.Errorf("Messages(%+v) = %v, %v; want %v", tt.r, seqs(got), err, tt.want)
		}
	}
}

// TestAppendMessageOnceWindow: a client message id is taken once per room and sender until its
// record expires; a repeat stores nothing and takes no number.
func TestAppendMessageOnceWindow(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	msg := func(id string, at time.Time) chat.StoredMessage {
		return chat.StoredMessage{RoomID: "r", MessageID: id, UserID: "u#1", Text: id, SentAt: at, ExpiresAt: at.Add(time.Hour)}
	}
	if m, prior, err := e.store.AppendMessageOnce(ctx, msg("M1", now), "c", now.Add(time.Hour)); err != nil || prior != nil || m.Seq != 1 {
		t.Fatalf("first send: seq %d, %+v, %v", m.Seq, prior, err)
	}
	if err := e.store.RecordDelivery(ctx, "r", "u#1", "c", chat.Delivery{Delivered: 3, Gone: 1}); err != nil {
		t.Fatal(err)
	}
	_, prior, err := e.store.AppendMessageOnce(ctx, msg("M2", now.Add(time.Second)), "c", now.Add(time.Hour))
	if err != nil || prior == nil || prior.MessageID != "M1" || prior.Seq != 1 || !prior.SentAt.Equal(now) || !prior.Recorded || prior.Delivered != 3 || prior.Gone != 1 {
		t.Fatalf("retry: %+v, %v; want M1's record (seq 1) with its delivery", prior, err)
	}
	// "u" + "#1#c" and "u#1" + "#c" must not share a record.
	if m, prior, err := e.store.AppendMessageOnce(ctx, chat.StoredMessage{RoomID: "r", MessageID: "M3", UserID: "u", Text: "x", SentAt: now}, "1#c", now.Add(time.Hour)); err != nil || prior != nil || m.Seq != 2 {
		t.Fatalf("another sender whose ids concatenate alike: seq %d, %+v, %v; want seq 2", m.Seq, prior, err)
	}
	// An expired record frees the id.
	if _, _, err := e.store.AppendMessageOnce(ctx, msg("M4", now), "late", now.Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	if m, prior, err := e.store.AppendMessageOnce(ctx, msg("M5", now), "late", now.Add(time.Hour)); err != nil || prior != nil || m.Seq != 4 {
		t.Fatalf("after the window: seq %d, %+v, %v; want a new message, seq 4", m.Seq, prior, err)
	}
	msgs, err := e.store.Messages(ctx, "r", chat.MessageRange{Limit: 10})
	if err != nil || !slices.Equal(seqs(msgs), []int64{1, 2, 3, 4}) {
		t.Fatalf("stored %v (%v), want M1, M3, M4, M5 as 1 to 4", seqs(msgs), err)
	}
}

// TestAppendCost: what an append costs in capacity units, as DynamoDB reports it: the
// figure the cost model in BENCHMARKS.md uses.
func TestAppendCost(t *testing.T) {
	e := newEnv(t)
	s := e.newStore()
	putMessage(t, s, message("cost", "m1", now))
	read, write := s.ConsumedRead(), s.ConsumedWrite()
	if read != 1 || write != 4 {
		t.Errorf("an append read %v and wrote %v units, want 1 (the head, strongly consistent) and 4 (two items in a transaction)", read, write)
	}
	if _, _, err := s.AppendMessageOnce(context.Background(), message("cost", "m2", now), "c1", now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	// AWS charges 2 units per item of up to 1 KB in a transaction, 6 here; DynamoDB Local
	// reports a flat 4 per transaction whatever its items (measured), so only the floor holds.
	if w := s.ConsumedWrite() - write; w < 4 {
		t.Errorf("an append with a clientMessageId wrote %v units, want at least 4", w)
	}
}
