package publishqueue_test

import (
	"testing"

	"github.com/chatstack/websocketchatapi/internal/publishqueue"
)

func TestDecode(t *testing.T) {
	job, pub, err := publishqueue.Decode(`{"shardJob":{"roomId":"r","shard":3,"cursor":"c9","exclude":"A","frame":{"type":"message"}}}`)
	if err != nil || job == nil || pub != nil || job.RoomID != "r" || job.Shard != 3 || job.Cursor != "c9" || string(job.Frame) != `{"type":"message"}` {
		t.Errorf("shard job: %+v, %s, %v", job, pub, err)
	}
	job, pub, err = publishqueue.Decode(`{"roomId":"r","event":{"type":"x"}}`)
	if err != nil || job != nil || string(pub) != `{"roomId":"r","event":{"type":"x"}}` {
		t.Errorf("publication: %+v, %s, %v", job, pub, err)
	}
	for _, body := range []string{``, `{"roomId":`, "\xff"} {
		if _, _, err := publishqueue.Decode(body); err == nil || err.Error() != "the message body is not JSON" {
			t.Errorf("%q: %v, want a not-JSON error", body, err)
		}
	}
	// A body that is JSON but no shard job goes on as a publication, for the schema to judge.
	if job, pub, err := publishqueue.Decode(`[1]`); err != nil || job != nil || string(pub) != `[1]` {
		t.Errorf("[1]: %+v, %s, %v", job, pub, err)
	}
}
