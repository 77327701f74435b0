// Package managementapitest runs a recording stand-in for API Gateway's @connections API on
// loopback, for tests of code that posts to WebSocket connections through the real SDK client.
package managementapitest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// Behaviour returns the HTTP status to answer a connection's attempt-th request with
// (attempt counts from 1, over every method). 200 means success; 410 answers GoneException,
// 429 LimitExceededException, 403 ForbiddenException, anything else a bare error.
type Behaviour func(attempt int) int

// Always answers every request with status.
func Always(status int) Behaviour { return func(int) int { return status } }

// FailFirst answers the first n requests with status and the rest with 200.
func FailFirst(n, status int) Behaviour {
	return func(attempt int) int {
		if attempt <= n {
			return status
		}
		return http.StatusOK
	}
}

// Request is one request the server received.
type Request struct {
	// Method is the HTTP method: POST, GET or DELETE.
	Method string
	// Path is the URL path as sent (escaped).
	Path string
	// ConnectionID is the decoded id from the path.
	ConnectionID string
	// Signed reports whether the request carried a SigV4 Authorization header.
	Signed bool
	// Status is the status the server answered with.
	Status int
}

// Server is the stand-in. Its zero value is not usable; call New.
type Server struct {
	// URL is the callback URL to give the client: the server's root plus the stage.
	URL string
	// Stage is the stage path segment that every request must start with.
	Stage string

	srv *httptest.Server

	mu          sync.Mutex
	behaviour   map[string]Behaviour
	posts       map[string][][]byte
	attempts    map[string]int
	requests    []Request
	latency     time.Duration
	inFlight    int
	maxInFlight int
}

// New starts a server for stage on 127.0.0.1 and stops it when the test ends.
func New(t testing.TB, stage string) *Server {
	t.Helper()
	s := &Server{
		Stage:     stage,
		behaviour: map[string]Behaviour{},
		posts:     map[string][][]byte{},
		attempts:  map[string]int{},
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	s.URL = s.srv.URL + "/" + stage
	return s
}

// Close stops the server, so that later requests fail to connect.
func (s *Server) Close() { s.srv.Close() }

// Set configures how requests for connectionID are answered (default: always 200).
func (s *Server) Set(connectionID string, b Behaviour) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.behaviour[connectionID] = b
}

// SetLatency makes every request take at least d, so that concurrent posts overlap.
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
}

// Posts returns the bodies of the successful POSTs to connectionID, in arrival order.
func (s *Server) Posts(connectionID string) [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]byte(nil), s.posts[connectionID]...)
}

// Delivered returns, per connection id, how many POSTs succeeded.
func (s *Server) Delivered() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.posts))
	for id, p := range s.posts {
		out[id] = len(p)
	}
	return out
}

// Attempts returns how many requests (any method, any answer) targeted connectionID.
func (s *Server) Attempts(connectionID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attempts[connectionID]
}

// Requests returns every request received, in arrival order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// MaxInFlight returns the largest number of requests that were being served at once.
func (s *Server) MaxInFlight() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxInFlight
}

// Reset forgets the recorded requests and posts, keeping behaviours and latency.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.posts = map[string][][]byte{}
	s.attempts = map[string]int{}
	s.requests = nil
	s.maxInFlight = 0
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rec := Request{Method: r.Method, Path: r.URL.EscapedPath(), Signed: strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ")}

	prefix := "/" + s.Stage + "/@connections/"
	rawID, ok := strings.CutPrefix(rec.Path, prefix)
	id, err := url.PathUnescape(rawID)
	if !ok || err != nil || id == "" || strings.Contains(rawID, "/") {
		rec.Status = http.StatusNotFound
		s.mu.Lock()
		s.requests = append(s.requests, rec)
		s.mu.Unlock()
		writeError(w, http.StatusNotFound, "NotFoundException", "no route for "+rec.Path)
		return
	}
	rec.ConnectionID = id

	s.mu.Lock()
	s.inFlight++
	s.maxInFlight = max(s.maxInFlight, s.inFlight)
	s.attempts[id]++
	attempt := s.attempts[id]
	b := s.behaviour[id]
	latency := s.latency
	s.mu.Unlock()

	if latency > 0 {
		time.Sleep(latency)
	}
	status := http.StatusOK
	if b != nil {
		status = b(attempt)
	}
	rec.Status = status

	s.mu.Lock()
	s.inFlight--
	s.requests = append(s.requests, rec)
	if status == http.StatusOK && r.Method == http.MethodPost {
		s.posts[id] = append(s.posts[id], body)
	}
	s.mu.Unlock()

	switch {
	case status == http.StatusOK && r.Method == http.MethodGet:
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"connectedAt":  "2026-11-21T10:00:00Z",
			"lastActiveAt": "2026-11-21T10:05:00Z",
			"identity":     map[string]string{"sourceIp": "192.0.2.1", "userAgent": "managementapitest"},
		})
	case status == http.StatusOK:
		w.WriteHeader(http.StatusOK)
	case status == http.StatusGone:
		writeError(w, status, "GoneException", "connection "+id+" is gone")
	case status == http.StatusTooManyRequests:
		writeError(w, status, "LimitExceededException", "too many requests")
	case status == http.StatusForbidden:
		writeError(w, status, "ForbiddenException", "forbidden")
	default:
		writeError(w, status, "InternalServerErrorException", "failure")
	}
}

// writeError answers as API Gateway does: the error type in a header, a JSON message body.
func writeError(w http.ResponseWriter, status int, errType, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", errType)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"message": message})
}
