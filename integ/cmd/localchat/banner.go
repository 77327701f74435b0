package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/chatstack/websocketchatapi/integ/internal/examples"
	"github.com/chatstack/websocketchatapi/integ/internal/local"
	"github.com/chatstack/websocketchatapi/integ/internal/localauth"
)

// clientCommand is the Go client's terminal chat, runnable from this module and from any
// module that requires it.
const clientCommand = "go run github.com/chatstack/websocketchatapi/client/cmd/chat"

// actionSelection is the route selection expression the Go client speaks (it sends "action").
const actionSelection = "$request.body.action"

// banner is everything the startup banner says, gathered from the running stack; String lays
// it out. A new line of the banner is a field here, filled in newBanner, and printed in String.
type banner struct {
	Stack     string
	Stage     string
	Startup   time.Duration
	Page      string // the chat page's URL; "" when the page cannot talk to the stack
	URL       string // the WebSocket URL
	Callback  string // the @connections base URL
	DynamoDB  string
	Issuer    string
	JWKS      string
	TokenURL  string        // GET ?user=<id>[&name=...] mints more tokens
	TokenTTL  time.Duration // how long the printed tokens last
	Notes     []string      // what of the template has no local meaning
	Tokens    []userToken
	APIKeys   []local.APIKey
	Selection string      // the API's route selection expression
	Routes    []routeLine // every route, built-in and the user's
	// Publish is the shell command that publishes to room general through the publish
	// queue; "" when the stack has none.
	Publish string
	// GoClient is true when the Go client can talk to the stack (it selects routes by
	// "action").
	GoClient bool
}

// userToken is a ready connection URL for one user.
type userToken struct {
	User string
	URL  string // the WebSocket URL with ?token=
}

// routeLine is one route of the banner.
type routeLine struct {
	Key     string
	Example string // a frame ready to send; "" when the route takes none
	About   string // what the route is, when it has no example, or why there is none
}

// newBanner gathers the banner of env: tokens for users, the routes with example frames.
func newBanner(env *local.Env, users []string, tokenURL string, startup time.Duration) (banner, error) {
	b := banner{
		Stack:     env.Stack.Name,
		Stage:     env.Stage,
		Startup:   startup,
		URL:       env.URL,
		Callback:  env.CallbackURL,
		DynamoDB:  env.DynamoDBEndpoint,
		Issuer:    env.Issuer.Issuer(),
		JWKS:      env.Issuer.JWKSURL(),
		TokenURL:  tokenURL,
		TokenTTL:  localauth.DefaultTTL,
		Notes:     env.Ignored(),
		APIKeys:   env.APIKeys(),
		Selection: env.API.RouteSelectionExpression,
		GoClient:  env.API.RouteSelectionExpression == actionSelection,
	}
	if b.GoClient { // the page's JavaScript client, like the Go client, sends "action"
		b.Page = pageURL(tokenURL)
	}
	var err error
	if b.Publish, err = publishCommand(env); err != nil {
		return banner{}, err
	}
	for _, user := range users {
		tok, err := env.Token(user, displayName(user))
		if err != nil {
			return banner{}, err
		}
		b.Tokens = append(b.Tokens, userToken{User: user, URL: env.URL + "?token=" + tok})
	}
	b.Routes = routeLines(env)
	return b, nil
}

// routeLines describes every route of the API: the built-in ones by their role, the others
// with an example frame made from their request model.
func routeLines(env *local.Env) []routeLine {
	var lines []routeLine
	for _, r := range env.API.Routes {
		switch r.Key {
		case "$connect":
			lines = append(lines, routeLine{Key: r.Key, About: "the handshake (the tokens above)"})
			continue
		case "$disconnect":
			lines = append(lines, routeLine{Key: r.Key, About: "runs when a connection closes"})
			continue
		case "$default":
			lines = append(lines, routeLine{Key: r.Key, About: "any other message (its answer lists the valid routes)"})
			continue
		}
		frame, err := examples.Frame(env.API, r.Key)
		if err != nil {
			lines = append(lines, routeLine{Key: r.Key, About: "no example: " + err.Error()})
			continue
		}
		lines = append(lines, routeLine{Key: r.Key, Example: string(frame)})
	}
	return lines
}

// String lays the banner out.
func (b banner) String() string {
	var s strings.Builder
	fmt.Fprintf(&s, "\nLocal chat is running (stack %s, stage %s; started in %v).\n\n", b.Stack, b.Stage, b.Startup.Round(10*time.Millisecond))
	if b.Page != "" {
		fmt.Fprintf(&s, "  Chat page       %s (open it in a browser)\n", b.Page)
	}
	fmt.Fprintf(&s, "  WebSocket URL   %s\n", b.URL)
	fmt.Fprintf(&s, "  @connections    %s/@connections/{connectionId}\n", b.Callback)
	fmt.Fprintf(&s, "  DynamoDB Local  %s\n", b.DynamoDB)
	fmt.Fprintf(&s, "  Token issuer    %s (JWKS %s)\n\n", b.Issuer, b.JWKS)
	for _, line := range b.Notes {
		fmt.Fprintf(&s, "  Note: %s\n", line)
	}
	fmt.Fprintf(&s, "Connect as (tokens valid for %.0f minutes):\n", b.TokenTTL.Minutes())
	for _, t := range b.Tokens {
		fmt.Fprintf(&s, "  %-8s %s\n", t.User, t.URL)
	}
	fmt.Fprintf(&s, "\nMore tokens:  curl '%s?user=dave&name=Dave'\n\n", b.TokenURL)
	if len(b.APIKeys) > 0 {
		fmt.Fprintf(&s, "API keys (send as x-api-key on the handshake, unless the authorizer returns them):\n")
		for _, k := range b.APIKeys {
			fmt.Fprintf(&s, "  %-24s %s  plans %s\n", k.LogicalID, k.Value, strings.Join(k.Plans, ", "))
		}
		fmt.Fprintln(&s)
	}
	fmt.Fprintf(&s, "Routes (route selection expression %s); each frame is ready to send:\n", b.Selection)
	width := 0
	for _, r := range b.Routes {
		width = max(width, len(r.Key))
	}
	for _, r := range b.Routes {
		text := r.Example
		if text == "" {
			text = r.About
		}
		fmt.Fprintf(&s, "  %-*s  %s\n", width, r.Key, text)
	}
	for _, r := range b.Routes {
		if r.Key == "joinroom" {
			fmt.Fprintf(&s, "The chat actions of a room need it joined first (joinroom).\n")
		}
	}
	fmt.Fprintln(&s)
	if b.GoClient {
		fmt.Fprintf(&s, "Try it: chat from a terminal per user (the Go client: reconnects, resumes, in order):\n")
		for _, user := range []string{"alice", "bob"} {
			fmt.Fprintf(&s, "  %s -url %s -token-url %s -user %s\n", clientCommand, b.URL, b.TokenURL, user)
		}
		fmt.Fprintf(&s, "Type a line to send it to room general; /join <room>, /leave <room>, /history [n], /quit.\n")
	} else {
		fmt.Fprintf(&s, "The Go client (client/) sends \"action\" and this API routes on %s: send the frames above\nfrom any WebSocket client instead.\n", b.Selection)
	}
	if b.Publish != "" {
		fmt.Fprintf(&s, "\nPublish to room general from the shell (AWS CLI; a session of the publish function's role,\nwhich may send to the queue; see \"Publishing from your backend\" in the README):\n  %s\n", b.Publish)
	}
	fmt.Fprintf(&s, "\nCtrl-C stops everything.\n")
	return s.String()
}

// write writes the banner to w.
func (b banner) write(w io.Writer) error {
	_, err := io.WriteString(w, b.String())
	return err
}
