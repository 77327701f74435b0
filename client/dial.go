package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/coder/websocket"
)

// AuthError says that the server refused the handshake's token or AWS credentials (HTTP 401
// or 403; IAM authorization answers 403 to an unsigned, badly signed or not allowed one).
type AuthError struct {
	StatusCode int
}

// Error says what was refused.
func (e *AuthError) Error() string {
	return fmt.Sprintf("client: the server refused the token (HTTP %d %s)", e.StatusCode, http.StatusText(e.StatusCode))
}

// connect gets a token (or signs with AWS credentials) and opens one connection, not yet
// started.
func (c *Client) connect(ctx context.Context) (*conn, error) {
	u, dialOpts, err := c.handshake(ctx)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, c.opts.RequestTimeout)
	defer cancel()
	ws, resp, err := websocket.Dial(ctx, u.String(), dialOpts)
	if err != nil {
		return nil, c.dialError(ctx, resp, err)
	}
	if len(dialOpts.Subprotocols) > 0 && ws.Subprotocol() != c.opts.Subprotocol {
		_ = ws.Close(websocket.StatusProtocolError, "subprotocol")
		return nil, fmt.Errorf("client: connect to %s: the server answered subprotocol %q, want %q", redact(c.url), ws.Subprotocol(), c.opts.Subprotocol)
	}
	return newConn(c, ws), nil
}

// handshake returns the URL and dial options of the next handshake: with Options.Token the
// token in the query string or a subprotocol, with Options.AWSCredentials a SigV4 signature
// (see signHandshake).
func (c *Client) handshake(ctx context.Context) (url.URL, *websocket.DialOptions, error) {
	u := *c.url
	dialOpts := &websocket.DialOptions{HTTPClient: c.opts.HTTPClient}
	if c.opts.AWSCredentials != nil {
		creds, err := c.opts.AWSCredentials(ctx)
		if err != nil {
			return u, nil, fmt.Errorf("client: Options.AWSCredentials: %w", err)
		}
		if err := checkAWSCredentials(creds); err != nil {
			return u, nil, err
		}
		u, dialOpts.HTTPHeader = signHandshake(u, creds, c.opts.AWSRegion, c.opts.clock.Now(), c.opts.AWSSignatureInQuery)
		return u, dialOpts, nil
	}
	token, err := c.opts.Token(ctx)
	if err != nil {
		return u, nil, fmt.Errorf("client: Options.Token: %w", err)
	}
	if token == "" {
		return u, nil, errors.New("client: Options.Token returned an empty token")
	}
	switch c.opts.TokenTransport {
	case TokenInQuery:
		q := u.Query()
		q.Set(tokenQueryParam, token)
		u.RawQuery = q.Encode()
	case TokenInSubprotocol:
		dialOpts.Subprotocols = []string{c.opts.Subprotocol, bearerPrefix + token}
	}
	return u, dialOpts, nil
}

// dialError says why a handshake failed, without the URL's token.
func (c *Client) dialError(ctx context.Context, resp *http.Response, err error) error {
	if resp != nil && (resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden) {
		return &AuthError{StatusCode: resp.StatusCode}
	}
	if ctx.Err() != nil {
		return fmt.Errorf("client: connect to %s: %w", redact(c.url), ctx.Err())
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // its text repeats the URL, token included
	}
	if resp != nil {
		return fmt.Errorf("client: connect to %s: HTTP %d %s", redact(c.url), resp.StatusCode, http.StatusText(resp.StatusCode))
	}
	return fmt.Errorf("client: connect to %s: %v", redact(c.url), err)
}
