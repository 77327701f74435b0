package lambdamain

import (
	"bytes"
	"errors"
	"testing"
)

func TestInitialize(t *testing.T) {
	in := Init{Getenv: func(k string) string { return map[string]string{"NAME": "chat"}[k] }, Stdout: &bytes.Buffer{}}
	load := func(getenv func(string) string) (string, error) {
		if v := getenv("NAME"); v != "" {
			return v, nil
		}
		return "", errors.New("NAME is required")
	}
	build := func(got Init, cfg string) (any, error) {
		if got.Stdout != in.Stdout {
			t.Error("build did not get the Init")
		}
		return func() string { return cfg }, nil
	}
	h, err := initialize(in, load, build)
	if err != nil {
		t.Fatal(err)
	}
	if f, ok := h.(func() string); !ok || f() != "chat" {
		t.Errorf("handler %v, want the one build made from the loaded configuration", h)
	}

	in.Getenv = func(string) string { return "" }
	if _, err := initialize(in, load, build); err == nil || err.Error() != "NAME is required" {
		t.Errorf("load failure: %v", err)
	}
	fail := errors.New("no table")
	if _, err := initialize(Init{Getenv: func(string) string { return "x" }}, load, func(Init, string) (any, error) { return nil, fail }); !errors.Is(err, fail) {
		t.Errorf("build failure: %v", err)
	}
}
