// Package envconfig reads a handler's configuration from its environment variables, in one
// style for every handler: a Reader reads each variable, falls back to the default of one that
// is unset, and records what is wrong with any of them instead of stopping at the first, so
// that one error names every variable to fix.
package envconfig

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// maxSeconds bounds a duration in seconds: a hundred years.
const maxSeconds = int64(100 * 365 * 24 * 3600)

// Reader reads environment variables and collects the errors of those it reads. Its methods
// return the variable's value, or a default when the variable is unset or wrong; Err then says
// what was wrong.
type Reader struct {
	getenv func(string) string
	errs   []error
}

// NewReader returns a Reader that looks variables up with getenv (os.Getenv in production).
func NewReader(getenv func(key string) string) *Reader {
	return &Reader{getenv: getenv}
}

// Fail records that key is wrong: the error reads "<key>: <message>".
func (r *Reader) Fail(key, format string, args ...any) {
	r.errs = append(r.errs, fmt.Errorf("%s: "+format, append([]any{key}, args...)...))
}

// Err returns nil when every variable read was right, otherwise an error that lists each
// recorded failure on a line of its own.
func (r *Reader) Err() error {
	if len(r.errs) == 0 {
		return nil
	}
	return fmt.Errorf("invalid environment: %w", errors.Join(r.errs...))
}

// Optional returns the value of key without surrounding spaces, "" when unset.
func (r *Reader) Optional(key string) string {
	return strings.TrimSpace(r.getenv(key))
}

// Required returns the value of key without surrounding spaces and records "<key> is
// required" when it is unset or blank.
func (r *Reader) Required(key string) string {
	v := r.Optional(key)
	if v == "" {
		r.errs = append(r.errs, fmt.Errorf("%s is required", key))
	}
	return v
}

// Int returns key as an integer from lo to hi, or def when key is unset.
func (r *Reader) Int(key string, def, lo, hi int) int {
	s := r.Optional(key)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		r.Fail(key, "%q is not an integer from %d to %d", s, lo, hi)
		return def
	}
	return n
}

// Number returns key as a finite decimal number from lo to hi, or def when key is unset.
func (r *Reader) Number(key string, def, lo, hi float64) float64 {
	s := r.Optional(key)
	if s == "" {
		return def
	}
	n, err := strconv.ParseFloat(s, 64)
	if err != nil || !(n >= lo && n <= hi) {
		r.Fail(key, "%q is not a number from %g to %g", s, lo, hi)
		return def
	}
	return n
}

// Seconds returns key, a whole number of seconds of at least lo (and at most a hundred
// years), as a duration, or def when key is unset.
func (r *Reader) Seconds(key string, def, lo time.Duration) time.Duration {
	s := r.Optional(key)
	if s == "" {
		return def
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < int64(lo/time.Second) || n > maxSeconds {
		r.Fail(key, "%q is not a whole number of seconds from %d to %d", s, int64(lo/time.Second), maxSeconds)
		return def
	}
	return time.Duration(n) * time.Second
}

// Checked returns the value of key when check accepts it, or def when key is unset or check
// refuses it.
func (r *Reader) Checked(key, def string, check func(string) error) string {
	v := r.Optional(key)
	if v == "" {
		return def
	}
	if err := check(v); err != nil {
		r.Fail(key, "%v", err)
		return def
	}
	return v
}

// List returns the comma-separated entries of key without surrounding spaces, nil when key is
// unset or blank. An empty entry ("a,,b") is an error, and the list is then nil.
func (r *Reader) List(key string) []string {
	v := r.Optional(key)
	if v == "" {
		return nil
	}
	parts := strings.Split(v, ",")
	out := make([]string, 0, len(parts))
	for _, p := range parts {
		p = strings.TrimSpace(p)
		if p == "" {
			r.Fail(key, "%q has an empty entry", v)
			return nil
		}
		out = append(out, p)
	}
	return out
}

// Parse returns key parsed by parse, which gets the value as it is ("" when unset) and
// returns its result whether or not it fails; a failure is recorded naming key.
func Parse[T any](r *Reader, key string, parse func(string) (T, error)) T {
	v, err := parse(r.getenv(key))
	if err != nil {
		r.Fail(key, "%v", err)
	}
	return v
}
