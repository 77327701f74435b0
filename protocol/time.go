package protocol

import (
	"fmt"
	"time"
)

// TimeLayout is how every time in a frame is written: UTC, milliseconds, fixed width
// ("2026-12-06T11:39:41.200Z"), so that times sort as strings in the order they happened.
const TimeLayout = "2006-01-02T15:04:05.000Z"

// Time is a time in a frame, written in TimeLayout. It reads any RFC 3339 time.
type Time struct{ time.Time }

// NewTime returns t as a frame time, truncated to the millisecond.
func NewTime(t time.Time) Time { return Time{t.UTC().Truncate(time.Millisecond)} }

// MarshalJSON writes t in TimeLayout.
func (t Time) MarshalJSON() ([]byte, error) {
	if y := t.UTC().Year(); y < 0 || y > 9999 {
		return nil, fmt.Errorf("protocol: time %v is outside years 0000-9999", t.Time)
	}
	return []byte(`"` + t.UTC().Format(TimeLayout) + `"`), nil
}

// UnmarshalJSON reads an RFC 3339 time (TimeLayout is one).
func (t *Time) UnmarshalJSON(b []byte) error {
	return t.Time.UnmarshalJSON(b)
}
