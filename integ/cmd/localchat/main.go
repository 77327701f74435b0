// Command localchat runs a stack of the WebSocketChatApi construct on this machine, for people
// to try: the reference stack from this repository, or your own stack from your CDK app's
// folder. It synthesizes the app of the cdk.json in the working directory (or uses an existing
// cloud assembly), runs it with package local (WebSocket API, the real Lambda binaries,
// DynamoDB Local, a local token issuer), prints the ws:// URL, ready tokens and an example frame
// for every route, and runs until Ctrl-C.
//
// Usage, in the folder of cdk.json:
//
//	go run github.com/chatstack/websocketchatapi/integ/cmd/localchat [-assembly cdk.out] [-stack name] [-api id] [-c key=value] [-addr 127.0.0.1:8080] [-users alice,bob,carol] [-v]
//
// -h lists the flags and the environment variables that override what it finds.
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
	"github.com/chatstack/websocketchatapi/internal/ddblocal"
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
	api         string
	context     contextFlag
	addr        string
	tokenAddr   string
	users       string
	idleTimeout time.Duration
	verbose     bool
}

func parseFlags() config {
	var c config
	c.context = contextFlag{}
	flag.StringVar(&c.assembly, "assembly", "", "cloud assembly to run, such as cdk.out (default: synthesize the app of ./cdk.json into a temporary directory)")
	flag.StringVar(&c.stack, "stack", "", "stack name or artifact id in the assembly (default: its only stack)")
	flag.StringVar(&c.api, "api", "", "WebSocket API of the stack to serve, by logical id or name (default: its only one)")
	flag.Var(c.context, "c", "context `key=value` for the synth, as cdk synth -c (repeatable)")
	flag.StringVar(&c.addr, "addr", "127.0.0.1:0", "loopback address of the WebSocket and @connections endpoint")
	flag.StringVar(&c.tokenAddr, "token-addr", "127.0.0.1:0", "loopback address of the token service (GET /token?user=...)")
	flag.StringVar(&c.users, "users", "alice,bob,carol", "comma-separated users to print tokens for")
	flag.DurationVar(&c.idleTimeout, "idle-timeout", 0, "close idle connections after this long (default: API Gateway's 10m)")
	flag.BoolVar(&c.verbose, "v", false, "print the synth's output, every function's output and the gateway's logs")
	flag.Usage = usage
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

	// What the stack needs besides itself, before a synth that may take minutes.
	if _, err := ddblocal.FindJava(ctx); err != nil {
		return err
	}
	if _, err := ddblocal.Fetch(ctx, os.Stderr); err != nil {
		return err
	}
	dir, cleanup, err := assemblyDir(ctx, cfg, sink)
	if err != nil {
		return err
	}
	defer cleanup()
	if err := checkAssembly(dir, cfg); err != nil {
		return err
	}

	fmt.Fprintln(os.Stderr, "starting DynamoDB Local, the functions and the WebSocket API...")
	start := time.Now()
	env, err := local.Start(ctx, local.Options{
		AssemblyDir: dir,
		Stack:       cfg.stack,
		API:         cfg.api,
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

	b, err := newBanner(env, splitUsers(cfg.users), tokenURL, startup)
	if err != nil {
		return err
	}
	if err := b.write(os.Stdout); err != nil {
		return err
	}
	<-ctx.Done()
	return nil
}

// splitUsers splits the -users list, dropping blanks.
func splitUsers(list string) []string {
	var out []string
	for _, u := range strings.Split(list, ",") {
		if u = strings.TrimSpace(u); u != "" {
			out = append(out, u)
		}
	}
	return out
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
