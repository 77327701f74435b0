// Command chat is a terminal chat client built on package client.
//
//	go run ./client/cmd/chat -url ws://127.0.0.1:PORT/prod -user alice -token-url http://127.0.0.1:TPORT/token [-room general]
//
// It joins the room, prints messages as "[seq] user: text", and sends each line typed.
// Commands: /join room, /leave room, /history [n], /quit. Without -token it fetches a token
// for -user from -token-url (the token service `make local` prints) before every connection.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"

	"github.com/chatstack/websocketchatapi/client"
)

func main() {
	if err := run(os.Args[1:], os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "chat:", err)
		os.Exit(1)
	}
}

// config is the command line.
type config struct {
	url, user, name, room, token, tokenURL string
	subprotocol                            bool
}

func parseFlags(args []string) (config, error) {
	var cfg config
	fs := flag.NewFlagSet("chat", flag.ContinueOnError)
	fs.StringVar(&cfg.url, "url", "", "the chat's ws:// or wss:// URL (required)")
	fs.StringVar(&cfg.user, "user", "", "user id to fetch a token for (with -token-url)")
	fs.StringVar(&cfg.name, "name", "", "display name to fetch a token for (default: the token service's)")
	fs.StringVar(&cfg.room, "room", "general", "room to join first")
	fs.StringVar(&cfg.token, "token", "", "token to connect with (instead of -token-url)")
	fs.StringVar(&cfg.tokenURL, "token-url", "", "token service URL, as `make local` prints it (http://127.0.0.1:<port>/token)")
	fs.BoolVar(&cfg.subprotocol, "subprotocol", false, "send the token as a subprotocol (bearer.<token>) rather than in the query string")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	switch {
	case cfg.url == "":
		return cfg, errors.New("-url is required")
	case cfg.token == "" && (cfg.tokenURL == "" || cfg.user == ""):
		return cfg, errors.New("give -token, or -token-url and -user")
	}
	return cfg, nil
}

func run(args []string, in io.Reader, out io.Writer) error {
	cfg, err := parseFlags(args)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	opts := client.Options{Token: tokenSource(cfg)}
	if cfg.subprotocol {
		opts.TokenTransport = client.TokenInSubprotocol
	}
	c, err := client.Dial(ctx, cfg.url, opts)
	if err != nil {
		return err
	}
	defer c.Close()
	s := &session{c: c, out: out, room: cfg.room}
	if err := c.Join(ctx, cfg.room); err != nil {
		return err
	}
	printed := make(chan struct{})
	go func() {
		defer close(printed)
		s.printEvents()
	}()
	s.printf("joined #%s: type to send; /join room, /leave room, /history [n], /quit\n", cfg.room)
	err = s.readCommands(ctx, in)
	c.Close()
	<-printed
	return err
}
