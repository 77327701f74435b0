package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

func TestKeyRotationAndUnknownKidFlood(t *testing.T) {
	oldKey, newKey := newRSAKey(t, "rsa-old"), newECKey(t, "ec-new")
	clock, pool, v := newPool(t, oldKey)
	ctx := context.Background()
	claims := idClaims(pool.issuer)

	mustVerify(t, v, oldKey.sign(t, claims, nil), "old key")
	mustVerify(t, v, oldKey.sign(t, claims, nil), "old key again")
	if got := pool.hits.Load(); got != 1 {
		t.Fatalf("JWKS fetched %d times for two tokens, want 1 (cached)", got)
	}

	// The issuer starts publishing a new key.
	pool.serve(t, oldKey, newKey)
	newToken := newKey.sign(t, claims, nil)

	// Within the minimum interval after the last fetch the new kid is not looked up.
	clock.Advance(DefaultMinRefreshInterval / 2)
	if _, err := v.Verify(ctx, newToken); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("new kid within the rate-limit interval: err = %v, want %v", err, ErrUnknownKey)
	}
	if got := pool.hits.Load(); got != 1 {
		t.Fatalf("JWKS fetched %d times, want still 1 within the interval", got)
	}

	// After the interval, one refresh makes the new kid known.
	clock.Advance(DefaultMinRefreshInterval)
	mustVerify(t, v, newToken, "new kid after the interval")
	if got := pool.hits.Load(); got != 2 {
		t.Fatalf("JWKS fetched %d times, want 2 (one refresh)", got)
	}
	mustVerify(t, v, oldKey.sign(t, claims, nil), "old key after rotation")

	// A flood of random kids right after that refresh fetches nothing more...
	flood := func(n int) {
		t.Helper()
		attacker := newRSAKey(t, "unused")
		tokens := make([]string, n)
		for i := range tokens {
			tokens[i] = attacker.signAs(t, fmt.Sprintf("random-kid-%d-%d", time.Now().UnixNano(), i), claims)
		}
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i, tok := range tokens {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = v.Verify(ctx, tok)
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if !errors.Is(err, ErrUnknownKey) {
				t.Fatalf("flood token %d: err = %v, want %v", i, err, ErrUnknownKey)
			}
		}
	}
	flood(200)
	if got := pool.hits.Load(); got != 2 {
		t.Fatalf("after a flood within the interval JWKS fetched %d times, want 2", got)
	}

	// ...and after the interval a flood causes exactly one more fetch.
	clock.Advance(DefaultMinRefreshInterval + time.Second)
	flood(200)
	if got := pool.hits.Load(); got != 3 {
		t.Fatalf("after a flood past the interval JWKS fetched %d times, want 3 (at most one extra)", got)
	}
	mustVerify(t, v, newKey.sign(t, claims, nil), "good token after the flood")
	if got := pool.hits.Load(); got != 3 {
		t.Fatalf("good token after the flood fetched the JWKS again (%d fetches)", got)
	}
}

func TestRemovedKeyStopsWorkingAfterMaxAge(t *testing.T) {
	keep, revoke := newRSAKey(t, "keep"), newRSAKey(t, "revoke")
	clock, pool, v := newPool(t, keep, revoke)
	ctx := context.Background()
	claims := idClaims(pool.issuer)
	revoked := revoke.sign(t, claims, nil)

	mustVerify(t, v, revoked, "before revocation")
	pool.serve(t, keep)
	clock.Advance(DefaultMaxKeySetAge - time.Minute)
	mustVerify(t, v, revoked, "cached key set younger than the max age must still be used")
	clock.Advance(2 * time.Minute)
	if _, err := v.Verify(ctx, revoked); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("revoked key after max age: err = %v, want %v", err, ErrUnknownKey)
	}
	mustVerify(t, v, keep.sign(t, claims, nil), "kept key")
	pool.wantHits(t, 2, "")
}

func TestStaleKeysUsedWhileIssuerIsDown(t *testing.T) {
	key := newRSAKey(t, "rsa-1")
	clock, pool, v := newPool(t, key)
	token := key.sign(t, with(idClaims(pool.issuer), map[string]any{"exp": base.Add(2 * time.Hour)}), nil)

	mustVerify(t, v, token, "first")
	pool.fail(http.StatusInternalServerError)
	clock.Advance(DefaultMaxKeySetAge + time.Minute)
	mustVerify(t, v, token, "with the issuer down, the cached keys must still verify")
	pool.wantHits(t, 2, "one failed refresh")
}

func TestJWKSUnavailableOnColdStart(t *testing.T) {
	for _, status := range []int{http.StatusInternalServerError, http.StatusNotFound} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			key := newRSAKey(t, "rsa-1")
			_, pool, v := newPool(t, key)
			pool.fail(status)
			if err := v.Prefetch(context.Background()); err == nil {
				t.Errorf("Prefetch succeeded against a failing JWKS")
			}
			_, err := v.Verify(context.Background(), key.sign(t, idClaims(pool.issuer), nil))
			if !errors.Is(err, ErrKeysUnavailable) {
				t.Fatalf("err = %v, want %v", err, ErrKeysUnavailable)
			}
			// Without a cached set there is nothing to fall back on: every call retries.
			pool.wantHits(t, 2, "")
		})
	}
}

func TestPrefetchLoadsKeysOnce(t *testing.T) {
	key := newRSAKey(t, "rsa-1")
	_, pool, v := newPool(t, key)
	for range 3 {
		if err := v.Prefetch(context.Background()); err != nil {
			t.Fatalf("Prefetch: %v", err)
		}
	}
	mustVerify(t, v, key.sign(t, idClaims(pool.issuer), nil), "Verify")
	pool.wantHits(t, 1, "")
}

func TestJWKSFetchIsBounded(t *testing.T) {
	cases := []struct {
		name   string
		client func(*httptest.Server) *http.Client
	}{
		{"default client", func(*httptest.Server) *http.Client { return nil }},
		{"client without timeout", func(*httptest.Server) *http.Client { return &http.Client{} }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			release := make(chan struct{})
			var hits sync.WaitGroup
			hits.Add(1)
			var once sync.Once
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				once.Do(hits.Done)
				select { // hang until the client gives up or the test ends
				case <-r.Context().Done():
				case <-release:
				}
			}))
			t.Cleanup(srv.Close)
			t.Cleanup(func() { close(release) })

			key := newRSAKey(t, "rsa-1")
			v, err := NewVerifier(Config{
				Issuer:     srv.URL + "/pool",
				Audiences:  []string{"client-a"},
				HTTPClient: tc.client(srv),
				Now:        newFakeClock().Now,
			})
			if err != nil {
				t.Fatalf("NewVerifier: %v", err)
			}
			token := key.sign(t, idClaims(srv.URL+"/pool"), nil)

			done := make(chan error, 1)
			go func() {
				_, err := v.Verify(context.Background(), token)
				done <- err
			}()
			select {
			case err := <-done:
				if !errors.Is(err, ErrKeysUnavailable) {
					t.Fatalf("err = %v, want %v", err, ErrKeysUnavailable)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("Verify against a hanging JWKS server did not return within 10 s")
			}
			hits.Wait() // the server was really asked
		})
	}
}

func TestJWKSWaitRespectsCallerContext(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{})
	var once sync.Once
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		once.Do(func() { close(started) })
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })

	key := newRSAKey(t, "rsa-1")
	v, err := NewVerifier(Config{Issuer: srv.URL + "/pool", Audiences: []string{"client-a"}, Now: newFakeClock().Now, FetchTimeout: time.Minute})
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	token := key.sign(t, idClaims(srv.URL+"/pool"), nil)

	// One caller starts the (hanging) fetch; a second one waits for it with a short deadline.
	go func() { _, _ = v.Verify(context.Background(), token) }()
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := v.Verify(ctx, token)
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, ErrKeysUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want %v wrapping %v", err, ErrKeysUnavailable, context.DeadlineExceeded)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("a caller waiting for a running fetch ignored its context")
	}
}
