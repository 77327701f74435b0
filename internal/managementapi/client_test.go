package managementapi_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/chatstack/websocketchatapi/internal/chat"
	"github.com/chatstack/websocketchatapi/internal/managementapi"
	"github.com/chatstack/websocketchatapi/internal/managementapi/managementapitest"
)

func testConfig() aws.Config {
	return aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
	}
}

func TestPostPathAndBody(t *testing.T) {
	srv := managementapitest.New(t, "prod")
	c := managementapi.New(testConfig(), srv.URL+"/") // a trailing slash must not double up
	// Real connection ids end in "=", which the SDK escapes in the path.
	id := "L0SM9cOFvHcCIhw="
	if err := c.Post(context.Background(), id, []byte(`{"type":"message"}`)); err != nil {
		t.Fatalf("Post: %v", err)
	}
	reqs := srv.Requests()
	if len(reqs) != 1 {
		t.Fatalf("got %d requests, want 1: %+v", len(reqs), reqs)
	}
	r := reqs[0]
	if r.Method != http.MethodPost || r.ConnectionID != id || !r.Signed {
		t.Errorf("request %+v: want a signed POST for %s", r, id)
	}
	if r.Path != "/prod/@connections/L0SM9cOFvHcCIhw%3D" {
		t.Errorf("path %q, want /prod/@connections/L0SM9cOFvHcCIhw%%3D (stage prefix kept, id escaped)", r.Path)
	}
	if got := srv.Posts(id); len(got) != 1 || string(got[0]) != `{"type":"message"}` {
		t.Errorf("posted bodies %q", got)
	}
}

func TestErrorMapping(t *testing.T) {
	srv := managementapitest.New(t, "prod")
	c := managementapi.New(testConfig(), srv.URL)
	tests := []struct {
		status    int
		gone      bool
		transient bool
	}{
		{http.StatusGone, true, false},
		{http.StatusTooManyRequests, false, true},
		{http.StatusInternalServerError, false, true},
		{http.StatusBadGateway, false, true},
		{http.StatusServiceUnavailable, false, true},
		{http.StatusForbidden, false, false},
		{http.StatusBadRequest, false, false},
	}
	for _, tt := range tests {
		id := "conn-" + http.StatusText(tt.status)
		id = strings.ReplaceAll(id, " ", "")
		srv.Set(id, managementapitest.Always(tt.status))
		err := c.Post(context.Background(), id, []byte("x"))
		if err == nil {
			t.Errorf("%d: no error", tt.status)
			continue
		}
		var te *chat.TransientError
		if got := errors.Is(err, chat.ErrGone); got != tt.gone {
			t.Errorf("%d: errors.Is(ErrGone) = %v, want %v (%v)", tt.status, got, tt.gone, err)
		}
		if got := errors.As(err, &te); got != tt.transient {
			t.Errorf("%d: TransientError = %v, want %v (%v)", tt.status, got, tt.transient, err)
		}
		if !strings.Contains(err.Error(), id) {
			t.Errorf("%d: error %q does not name the connection", tt.status, err)
		}
		// SDK retries are off: exactly one request per call.
		if n := srv.Attempts(id); n != 1 {
			t.Errorf("%d: %d attempts, want 1 (SDK retries must be off)", tt.status, n)
		}
	}
}

func TestUnreachableIsTransient(t *testing.T) {
	srv := managementapitest.New(t, "prod")
	url := srv.URL
	srv.Close()
	c := managementapi.New(testConfig(), url)
	err := c.Post(context.Background(), "c1", []byte("x"))
	var te *chat.TransientError
	if !errors.As(err, &te) {
		t.Fatalf("connection refused: got %v, want *chat.TransientError", err)
	}

	// But a cancelled context is not worth retrying.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err = c.Post(ctx, "c1", []byte("x"))
	if err == nil || errors.As(err, &te) {
		t.Fatalf("cancelled context: got %v, want a non-transient error", err)
	}
}

func TestGetAndDelete(t *testing.T) {
	srv := managementapitest.New(t, "dev")
	c := managementapi.New(testConfig(), srv.URL)
	ctx := context.Background()

	info, err := c.Get(ctx, "c1")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if want := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC); !info.ConnectedAt.Equal(want) || info.SourceIP != "192.0.2.1" {
		t.Errorf("Get = %+v", info)
	}
	if err := c.Delete(ctx, "c1"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	srv.Set("c2", managementapitest.Always(http.StatusGone))
	if _, err := c.Get(ctx, "c2"); !errors.Is(err, chat.ErrGone) {
		t.Errorf("Get gone: %v, want ErrGone", err)
	}
	if err := c.Delete(ctx, "c2"); !errors.Is(err, chat.ErrGone) {
		t.Errorf("Delete gone: %v, want ErrGone", err)
	}
	reqs := srv.Requests()
	want := []string{"GET /dev/@connections/c1", "DELETE /dev/@connections/c1", "GET /dev/@connections/c2", "DELETE /dev/@connections/c2"}
	if len(reqs) != len(want) {
		t.Fatalf("requests %+v", reqs)
	}
	for i, r := range reqs {
		if got := r.Method + " " + r.Path; got != want[i] {
			t.Errorf("request %d = %q, want %q", i, got, want[i])
		}
	}
}
