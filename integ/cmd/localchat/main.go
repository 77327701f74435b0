// Command localchat runs the chat backend on this machine, for people to try: it synthesizes
// the reference stack (or uses an existing cloud assembly), runs it with package local
// (WebSocket API, the real Lambda binaries, DynamoDB Local, a local token issuer), prints the
// ws:// URL and ready tokens, and runs until Ctrl-C.
//
// Usage:
//
//	go run ./integ/cmd/localchat [-assembly cdk.out] [-addr 127.0.0.1:8080] [-users alice,bob,carol] [-v]
//
// More tokens: GET http://127.0.0.1:<port>/token?user=<id>[&name=<display name>] on the token
// address that it prints.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/chatstack/websocketchatapi/integ/internal/local"
	"github.com/chatstack/websocketchatapi/integ/internal/localauth"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "localchat:", err)
		os.Exit(1)
	}
}

// config holds the command's flags.
type config struct {
	assembly    string
	stack       string
	addr        string
	tokenAddr   string
	users       string
	idleTimeout time.Duration
	verbose     bool
}

func parseFlags() config {
	var c config
	flag.StringVar(&c.assembly, "assembly", "", "cloud assembly to run (default: synthesize the reference app into a temporary directory)")
	flag.StringVar(&c.stack, "stack", "", "stack name in the assembly (default: its only stack)")
	flag.StringVar(&c.addr, "addr", "127.0.0.1:0", "loopback address of the WebSocket and @connections endpoint")
	flag.StringVar(&c.tokenAddr, "token-addr", "127.0.0.1:0", "loopback address of the token service (GET /token?user=...)")
	flag.StringVar(&c.users, "users", "alice,bob,carol", "comma-separated users to print tokens for")
	flag.DurationVar(&c.idleTimeout, "idle-timeout", 0, "close idle connections after this long (default: API Gateway's 10m)")
	flag.BoolVar(&c.verbose, "v", false, "print every function's output and the gateway's logs")
	flag.Parse()
	return c
}

func run() error {
	cfg := parseFlags()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	level := slog.LevelWarn
	var sink io.Writer
	if cfg.verbose {
		level = slog.LevelInfo
		sink = os.Stderr
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	dir := cfg.assembly
	if dir == "" {
		tmp, err := os.MkdirTemp("", "localchat-cdk.out-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		fmt.Fprintln(os.Stderr, "synthesizing the reference stack (go run ./app; the first run compiles the CDK app and takes a few minutes)...")
		start := time.Now()
		if err := local.Synth(ctx, tmp); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "synthesized in %v\n", time.Since(start).Round(100*time.Millisecond))
		dir = tmp
	}

	fmt.Fprintln(os.Stderr, "starting DynamoDB Local, the functions and the WebSocket API...")
	start := time.Now()
	env, err := local.Start(ctx, local.Options{
		AssemblyDir: dir,
		Stack:       cfg.stack,
		IdleTimeout: cfg.idleTimeout,
		Logger:      logger,
		LogSink:     sink,
		Addr:        cfg.addr,
	})
	if err != nil {
		return err
	}
	defer func() {
		fmt.Fprintln(os.Stderr, "stopping...")
		if err := env.Close(); err != nil {
			fmt.Fprintln(os.Stderr, "localchat:", err)
		}
	}()
	startup := time.Since(start)

	tokenURL, closeTokens, err := serveTokens(cfg.tokenAddr, env)
	if err != nil {
		return err
	}
	defer closeTokens()

	if err := printBanner(os.Stdout, env, cfg, tokenURL, startup); err != nil {
		return err
	}
	<-ctx.Done()
	return nil
}

// printBanner tells people where to connect and gives them tokens.
func printBanner(w io.Writer, env *local.Env, cfg config, tokenURL string, startup time.Duration) error {
	var b strings.Builder
	fmt.Fprintf(&b, "\nLocal chat is running (stack %s, stage %s; started in %v).\n\n", env.Stack.Name, env.Stage, startup.Round(10*time.Millisecond))
	fmt.Fprintf(&b, "  Chat page       %s (open it in a browser)\n", pageURL(tokenURL))
	fmt.Fprintf(&b, "  WebSocket URL   %s\n", env.URL)
	fmt.Fprintf(&b, "  @connections    %s/@connections/{connectionId}\n", env.CallbackURL)
	fmt.Fprintf(&b, "  DynamoDB Local  %s\n", env.DynamoDBEndpoint)
	fmt.Fprintf(&b, "  Token issuer    %s (JWKS %s)\n\n", env.Issuer.Issuer(), env.Issuer.JWKSURL())
	for _, line := range env.Ignored() {
		fmt.Fprintf(&b, "  Note: %s\n", line)
	}
	fmt.Fprintf(&b, "Connect as (tokens valid for %.0f minutes):\n", localauth.DefaultTTL.Minutes())
	for _, user := range strings.Split(cfg.users, ",") {
		user = strings.TrimSpace(user)
		if user == "" {
			continue
		}
		tok, err := env.Token(user, displayName(user))
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "  %-8s %s?token=%s\n", user, env.URL, tok)
	}
	fmt.Fprintf(&b, "\nMore tokens:  curl '%s?user=dave&name=Dave'\n\n", tokenURL)
	if keys := env.APIKeys(); len(keys) > 0 {
		fmt.Fprintf(&b, "API keys (send as x-api-key on the handshake, unless the authorizer returns them):\n")
		for _, k := range keys {
			fmt.Fprintf(&b, "  %-24s %s  plans %s\n", k.LogicalID, k.Value, strings.Join(k.Plans, ", "))
		}
		fmt.Fprintln(&b)
	}
	fmt.Fprintf(&b, "Try it: chat from a terminal per user (the Go client: reconnects, resumes, in order):\n")
	for _, user := range []string{"alice", "bob"} {
		fmt.Fprintf(&b, "  go run ./client/cmd/chat -url %s -token-url %s -user %s\n", env.URL, tokenURL, user)
	}
	fmt.Fprintf(&b, "Type a line to send it to room general; /join <room>, /leave <room>, /history [n], /quit.\n")
	fmt.Fprintf(&b, "Or send frames from any WebSocket client to the URLs above, e.g.\n")
	fmt.Fprintf(&b, "  {\"action\":\"joinroom\",\"roomId\":\"general\"}\n")
	fmt.Fprintf(&b, "  {\"action\":\"sendmessage\",\"roomId\":\"general\",\"text\":\"hello\",\"clientMessageId\":\"c1\"}\n\n")
	fmt.Fprintf(&b, "Ctrl-C stops everything.\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// displayName capitalizes a user id: alice → Alice.
func displayName(user string) string {
	if user == "" {
		return user
	}
	return strings.ToUpper(user[:1]) + user[1:]
}

// serveTokens serves GET /token?user=<id>[&name=<display name>] on a loopback address and
// returns its URL and a function that stops it.
func serveTokens(addr string, env *local.Env) (string, func(), error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return "", nil, fmt.Errorf("token service address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return "", nil, fmt.Errorf("token service address %q is not a loopback address", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, fmt.Errorf("token service: %w", err)
	}
	mux := http.NewServeMux()
	if err := mountPage(mux, env.URL); err != nil {
		return "", nil, err
	}
	mux.HandleFunc("GET /token", func(w http.ResponseWriter, r *http.Request) {
		user := strings.TrimSpace(r.URL.Query().Get("user"))
		if user == "" {
			http.Error(w, "want ?user=<id>[&name=<display name>]", http.StatusBadRequest)
			return
		}
		name := r.URL.Query().Get("name")
		if name == "" {
			name = displayName(user)
		}
		tok, err := env.Token(user, name)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, tok)
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintln(os.Stderr, "localchat: token service:", err)
		}
	}()
	return "http://" + ln.Addr().String() + "/token", func() {
		_ = srv.Close()
		<-done
	}, nil
}
