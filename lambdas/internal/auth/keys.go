package auth

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"
)

// maxJWKSBytes bounds the JWKS response body.
const maxJWKSBytes = 1 << 20

// keyCache holds the issuer's JWKS. It fetches on first use, when the cached set is
// older than maxAge, and when a kid is not in it; fetches after the first successful
// one are at least minInterval apart, so a flood of tokens with made-up kids costs
// the issuer at most one request per interval. Concurrent callers share one fetch.
type keyCache struct {
	url         string
	client      *http.Client
	timeout     time.Duration
	minInterval time.Duration
	maxAge      time.Duration
	now         func() time.Time

	mu          sync.Mutex
	set         jwk.Set       // nil until a fetch succeeds
	fetchedAt   time.Time     // when set was fetched
	lastAttempt time.Time     // when the last fetch started, successful or not
	lastErr     error         // result of the last fetch
	inflight    chan struct{} // closed when the running fetch ends; nil if none runs
}

// lookup returns the key with id kid, refetching the JWKS if it is missing, stale or
// does not hold kid (subject to the rate limit).
func (c *keyCache) lookup(ctx context.Context, kid string) (jwk.Key, error) {
	c.mu.Lock()
	set, fresh := c.set, c.set != nil && c.now().Sub(c.fetchedAt) < c.maxAge
	c.mu.Unlock()
	if fresh {
		if key, ok := set.LookupKeyID(kid); ok {
			return key, nil
		}
	}

	set, err := c.refresh(ctx)
	if set == nil {
		return nil, fmt.Errorf("%w: %w", ErrKeysUnavailable, err)
	}
	// A failed refresh of a set we already have is not fatal: keep using the old keys.
	if key, ok := set.LookupKeyID(kid); ok {
		return key, nil
	}
	return nil, fmt.Errorf("%w: kid %.64q is not in the issuer's JWKS", ErrUnknownKey, kid)
}

// ensure fetches the JWKS unless a set is already cached.
func (c *keyCache) ensure(ctx context.Context) error {
	c.mu.Lock()
	have := c.set != nil
	c.mu.Unlock()
	if have {
		return nil
	}
	_, err := c.refresh(ctx)
	return err
}

// refresh fetches the JWKS unless a fetch is running (then it waits for that one) or
// the rate limit forbids it. It returns the cached set afterwards (possibly nil) and
// the error of the fetch it ran or waited for.
func (c *keyCache) refresh(ctx context.Context) (jwk.Set, error) {
	c.mu.Lock()
	if ch := c.inflight; ch != nil {
		c.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			c.mu.Lock()
			defer c.mu.Unlock()
			return c.set, fmt.Errorf("waiting for JWKS fetch: %w", ctx.Err())
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.set, c.lastErr
	}
	now := c.now()
	if c.set != nil && now.Sub(c.lastAttempt) < c.minInterval {
		set := c.set
		c.mu.Unlock()
		return set, nil
	}
	ch := make(chan struct{})
	c.inflight = ch
	c.lastAttempt = now
	c.mu.Unlock()

	set, err := c.fetch(ctx)

	c.mu.Lock()
	defer c.mu.Unlock()
	if err == nil {
		c.set = set
		c.fetchedAt = c.now()
	}
	c.lastErr = err
	c.inflight = nil
	close(ch)
	return c.set, err
}

// fetch downloads and parses the JWKS within c.timeout.
func (c *keyCache) fetch(ctx context.Context) (jwk.Set, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url, nil)
	if err != nil {
		return nil, fmt.Errorf("build JWKS request for %s: %w", c.url, err)
	}
	req.Header.Set("Accept", "application/json")
	res, err := c.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch JWKS: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch JWKS from %s: status %d", c.url, res.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(res.Body, maxJWKSBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read JWKS from %s: %w", c.url, err)
	}
	if len(body) > maxJWKSBytes {
		return nil, fmt.Errorf("JWKS from %s is larger than %d bytes", c.url, maxJWKSBytes)
	}
	set, err := jwk.Parse(body)
	if err != nil {
		return nil, fmt.Errorf("parse JWKS from %s: %w", c.url, err)
	}
	if set.Len() == 0 {
		return nil, fmt.Errorf("JWKS from %s has no keys", c.url)
	}
	return set, nil
}
