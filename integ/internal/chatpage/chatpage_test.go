package chatpage

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHandlerServesPageModuleAndConfig(t *testing.T) {
	h, err := Handler("ws://127.0.0.1:4321/prod")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	get := func(path string) (*http.Response, string) {
		t.Helper()
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res, string(b)
	}
	for path, want := range map[string]struct{ typ, contains string }{
		"/":                {"text/html", `<script type="module" src="chat.js">`},
		"/chat.js":         {"text/javascript", `from "../src/index.js"`},
		"/chat.css":        {"text/css", "#status"},
		"/src/index.js":    {"text/javascript", "export { ChatClient"},
		"/src/protocol.js": {"text/javascript", "MAX_TEXT_LENGTH = 4000"},
		"/config.json":     {"application/json", `"url":"ws://127.0.0.1:4321/prod"`},
	} {
		res, body := get(path)
		if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), want.typ) || !strings.Contains(body, want.contains) {
			t.Errorf("GET %s: %d %s, body has %q: %v", path, res.StatusCode, res.Header.Get("Content-Type"), want.contains, strings.Contains(body, want.contains))
		}
		if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "connect-src 'self' ws://127.0.0.1:4321") {
			t.Errorf("GET %s: CSP %q does not allow the chat's WebSocket", path, csp)
		}
	}
	var c Config
	_, body := get("/config.json")
	if err := json.Unmarshal([]byte(body), &c); err != nil || c.TokenURL != TokenPath {
		t.Errorf("config.json = %s (%v), want tokenUrl %s", body, err, TokenPath)
	}
	if res, _ := get("/embed.go"); res.StatusCode != http.StatusNotFound {
		t.Errorf("GET /embed.go: %d, want 404 (only page/ and src/ are served)", res.StatusCode)
	}
}

func TestHandlerRefusesABadURL(t *testing.T) {
	for _, u := range []string{"", "http://127.0.0.1/prod", "ws:///prod", "::"} {
		if _, err := Handler(u); err == nil || !strings.Contains(err.Error(), "must be ws:// or wss://") {
			t.Errorf("Handler(%q) = %v, want an error naming the URL", u, err)
		}
	}
}
