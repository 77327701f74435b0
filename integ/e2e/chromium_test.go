package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/chatstack/websocketchatapi/integ/internal/chatpage"
	"github.com/chatstack/websocketchatapi/integ/internal/local"
)

// Timeouts of the browser tests.
const (
	// browserStepTimeout bounds one step in a tab (a click, a read).
	browserStepTimeout = 20 * time.Second
	// browserWaitTimeout bounds a wait for the page to show something: a reconnect after the
	// network comes back waits out the client's backoff (up to 16 s at that point).
	browserWaitTimeout = 60 * time.Second
)

// artifactsDir is where the browser tests write screenshots: <module>/.artifacts/browser
// (gitignored), made anew for each run.
func artifactsDir(t *testing.T) string {
	t.Helper()
	root, err := local.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, ".artifacts", "browser")
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots: %s", dir)
	return dir
}

// servePage serves the chat page of clients/js for env, with /token minting tokens of the local
// issuer (as integ/cmd/localchat does), and returns the page's URL.
func servePage(t *testing.T, env *local.Env) string {
	t.Helper()
	page, err := chatpage.Handler(env.URL)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /", page)
	mux.HandleFunc("GET "+chatpage.TokenPath, func(w http.ResponseWriter, r *http.Request) {
		user := strings.TrimSpace(r.URL.Query().Get("user"))
		if user == "" {
			http.Error(w, "want ?user=<id>[&name=<display name>]", http.StatusBadRequest)
			return
		}
		tok, err := env.Token(user, r.URL.Query().Get("name"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprintln(w, tok)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL + "/"
}

// startChromium starts Debian's headless chromium with a fresh profile and returns the
// browser's context; tabs are made from it with newTab.
func startChromium(t *testing.T) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium is not on the PATH: `make deps` installs Debian's chromium")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox, // as root
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1100, 800),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	browser, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc()
	})
	if err := chromedp.Do(browser); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return browser
}

// tab is a page in a browser context of its own (its own cookies, storage and network
// conditions), with the page's uncaught exceptions collected.
type tab struct {
	t    *testing.T
	name string
	ctx  context.Context

	mu         sync.Mutex
	exceptions []string
}

// newTab opens a tab in a new browser context of browser.
func newTab(t *testing.T, browser context.Context, name string) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("%s: open a tab: %v", name, err)
	}
	tb := &tab{t: t, name: name, ctx: ctx}
	go func() {
		for m, err := range chromedp.Console(ctx) {
			if err != nil {
				return
			}
			if m.IsException() {
				tb.mu.Lock()
				tb.exceptions = append(tb.exceptions, m.String())
				tb.mu.Unlock()
			}
		}
	}()
	return tb
}

// do runs steps in the tab, failing the test with what was asked.
func (tb *tab) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, browserStepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		tb.t.Fatalf("%s: %s: %v", tb.name, what, err)
	}
}

// eval evaluates a JavaScript expression in the page and decodes its value into T.
func eval[T any](tb *tab, expr string) T {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, browserStepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		tb.t.Fatalf("%s: evaluate %s: %v", tb.name, expr, err)
	}
	return v
}

// waitFor waits until the JavaScript expression is true in the page.
func (tb *tab) waitFor(what, expr string) {
	tb.t.Helper()
	deadline := time.Now().Add(browserWaitTimeout)
	for {
		if eval[bool](tb, expr) {
			return
		}
		if time.Now().After(deadline) {
			tb.t.Fatalf("%s: waited %v for %s (%s); the page shows:\n%s", tb.name, browserWaitTimeout, what, expr, eval[string](tb, "document.body.innerText"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// screenshot writes the page as dir/<name>.png.
func (tb *tab) screenshot(dir, name string) string {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, browserStepTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		tb.t.Fatalf("%s: screenshot: %v", tb.name, err)
	}
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		tb.t.Fatal(err)
	}
	return path
}

// checkNoRawErrors fails the test when the page shows an object's default string, undefined or
// NaN, or threw an uncaught exception.
func (tb *tab) checkNoRawErrors() {
	tb.t.Helper()
	text := eval[string](tb, "document.body.innerText")
	for _, bad := range []string{"[object", "undefined", "NaN", "TypeError", "at http"} {
		if strings.Contains(text, bad) {
			tb.t.Errorf("%s: the page shows %q:\n%s", tb.name, bad, text)
		}
	}
	tb.mu.Lock()
	defer tb.mu.Unlock()
	if len(tb.exceptions) > 0 {
		tb.t.Errorf("%s: uncaught exceptions in the page: %q", tb.name, tb.exceptions)
	}
}
