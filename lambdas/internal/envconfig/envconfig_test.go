package envconfig_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chatstack/websocketchatapi/lambdas/internal/envconfig"
)

func TestReaderDefaultsAndValues(t *testing.T) {
	env := map[string]string{"N": " 7 ", "F": "0.5", "S": "90", "L": " a , b ", "C": "ok"}
	r := envconfig.NewReader(func(k string) string { return env[k] })
	check := func(string) error { return nil }
	if got := r.Int("N", 1, 0, 10); got != 7 {
		t.Errorf("Int = %d", got)
	}
	if got := r.Int("unset", 3, 0, 10); got != 3 {
		t.Errorf("Int default = %d", got)
	}
	if got := r.Number("F", 1, 0, 1); got != 0.5 {
		t.Errorf("Number = %g", got)
	}
	if got := r.Seconds("S", time.Hour, time.Second); got != 90*time.Second {
		t.Errorf("Seconds = %v", got)
	}
	if got := r.List("L"); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("List = %q", got)
	}
	if got := r.Checked("C", "def", check); got != "ok" {
		t.Errorf("Checked = %q", got)
	}
	if got := r.Required("C"); got != "ok" {
		t.Errorf("Required = %q", got)
	}
	if err := r.Err(); err != nil {
		t.Errorf("Err = %v", err)
	}
}

func TestReaderCollectsEveryError(t *testing.T) {
	env := map[string]string{"N": "11", "F": "NaN", "S": "1.5", "L": "a,,b", "P": "x"}
	r := envconfig.NewReader(func(k string) string { return env[k] })
	if got := r.Int("N", 1, 0, 10); got != 1 {
		t.Errorf("Int of a wrong value = %d, want the default", got)
	}
	r.Number("F", 1, 0, 1)
	r.Seconds("S", time.Hour, time.Second)
	if got := r.List("L"); got != nil {
		t.Errorf("List with an empty entry = %q, want nil", got)
	}
	r.Required("R")
	envconfig.Parse(r, "P", func(string) (int, error) { return 0, errors.ErrUnsupported })
	err := r.Err()
	for _, want := range []string{"N:", "F:", "S:", "L:", "R is required", "P:"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not say %q", err, want)
		}
	}
}
