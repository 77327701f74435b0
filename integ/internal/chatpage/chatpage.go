// Package chatpage serves the chat page of clients/js (page/ and the client module src/) for
// a running stack: `make local` (integ/cmd/localchat) mounts it next to its token service,
// and the browser tests (integ/e2e) serve it the same way.
//
// The page is plain HTML, CSS and an ES module; it reads config.json, which this package
// writes from the stack's WebSocket URL, and gets tokens from /token on its own origin.
package chatpage

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"

	js "github.com/chatstack/websocketchatapi/clients/js"
)

// TokenPath is where the page asks for a token: GET TokenPath?user=<id>[&name=<display name>]
// on the page's origin, answered with the token as text (a 4xx answer is a refusal).
const TokenPath = "/token"

// Config is what the page is told in config.json.
type Config struct {
	// URL is the stage's ws:// or wss:// URL.
	URL string `json:"url"`
	// TokenURL is where the page gets tokens (TokenPath).
	TokenURL string `json:"tokenUrl"`
}

// Handler serves the page at /, its script and style, the client module under /src/, and
// /config.json naming wsURL. The mux that mounts it serves TokenPath itself. A wsURL that is
// not a ws:// or wss:// URL is an error naming it.
func Handler(wsURL string) (http.Handler, error) {
	u, err := url.Parse(wsURL)
	if err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
		return nil, fmt.Errorf("chatpage: WebSocket URL %q must be ws:// or wss:// with a host", wsURL)
	}
	config, err := json.Marshal(Config{URL: wsURL, TokenURL: TokenPath})
	if err != nil {
		return nil, fmt.Errorf("chatpage: encode config: %w", err)
	}
	page, err := fs.Sub(js.Files, "page")
	if err != nil {
		return nil, fmt.Errorf("chatpage: %w", err)
	}
	src, err := fs.Sub(js.Files, "src")
	if err != nil {
		return nil, fmt.Errorf("chatpage: %w", err)
	}
	// The page may load only itself and talk only to its origin and the chat's WebSocket.
	csp := fmt.Sprintf("default-src 'self'; connect-src 'self' %s://%s; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'", u.Scheme, u.Host)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /config.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(config)
	})
	mux.Handle("GET /src/", http.StripPrefix("/src/", http.FileServerFS(src)))
	mux.Handle("GET /", http.FileServerFS(page))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "no-cache")
		mux.ServeHTTP(w, r)
	}), nil
}
