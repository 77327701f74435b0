package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/coder/websocket"
)

// fixture is a user's module: its own go.mod requiring this one (through a replace, as the
// module proxy would serve it), a cdk.json, a CDK app composing the construct with stage live,
// routes selected by "type" and a Go route "typing" with a request schema.
const fixture = "testdata/usermodule"

// startTimeout bounds the runner's start: a first synth compiles the user's CDK app.
const startTimeout = 10 * time.Minute

// TestUserModule is a user: it builds the runner from the user's module, runs it in that
// module's folder (so it synthesizes the user's app from cdk.json), reads the banner, and
// chats through it with real WebSocket clients: every example frame of the banner is sent
// verbatim and accepted, the user's own route answers, and the user's selection expression and
// model are what the gateway applies.
func TestUserModule(t *testing.T) {
	dir, err := filepath.Abs(fixture)
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "localchat")
	build := exec.Command("go", "build", "-o", bin, "github.com/chatstack/websocketchatapi/integ/cmd/localchat")
	build.Dir = dir
	build.Env = append(os.Environ(), "GOWORK=off")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build of the runner in the user's module: %v\n%s", err, out)
	}

	r := startRunner(t, bin, dir)
	b := r.banner
	t.Logf("banner of the user's stack:\n%s", b.text)

	for _, want := range []string{"stack UserChat, stage live", "route selection expression $request.body.type",
		"/live?token=", `The Go client (client/) sends "action"`} {
		if !strings.Contains(b.text, want) {
			t.Errorf("banner lacks %q", want)
		}
	}
	wantRoutes := []string{"$connect", "$default", "$disconnect", "direct", "history", "joinroom", "leaveroom", "members", "ping", "sendmessage", "typing"}
	var keys []string
	for _, r := range b.routes {
		keys = append(keys, r.key)
	}
	if strings.Join(keys, " ") != strings.Join(wantRoutes, " ") {
		t.Fatalf("banner routes %v, want %v", keys, wantRoutes)
	}
	frames := map[string]string{}
	for _, r := range b.routes {
		if strings.HasPrefix(r.key, "$") {
			continue
		}
		var doc map[string]any
		if err := json.Unmarshal([]byte(r.text), &doc); err != nil {
			t.Fatalf("route %s: banner shows %q, not a frame: %v", r.key, r.text, err)
		}
		if doc["type"] != r.key {
			t.Errorf("route %s: frame %s does not carry the key in \"type\"", r.key, r.text)
		}
		frames[r.key] = r.text
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	alice := dial(ctx, t, b.tokens["alice"])
	bob := dial(ctx, t, b.tokens["bob"])

	// Joining comes first: the other chat actions need the room. Then each frame verbatim.
	for _, step := range []struct {
		c     *websocket.Conn
		route string
		reply string // the type of the frame that answers
	}{
		{alice, "joinroom", "joined"},
		{bob, "joinroom", "joined"},
		{alice, "ping", "pong"},
		{alice, "sendmessage", "ack"},
		{alice, "history", "history"},
		{alice, "members", "members"},
		{alice, "typing", "typing"},
		{alice, "leaveroom", "left"},
	} {
		got := sendAndAwait(ctx, t, step.c, frames[step.route], step.reply)
		if step.route == "typing" && (got["userId"] != "alice" || got["state"] == nil) {
			t.Errorf("typing answered %v, want alice's typing state from the user's function", got)
		}
		if step.route == "members" {
			var users []string
			list, _ := got["members"].([]any)
			for _, m := range list {
				if m, ok := m.(map[string]any); ok {
					users = append(users, fmt.Sprint(m["userId"]))
				}
			}
			slices.Sort(users)
			if strings.Join(users, " ") != "alice bob" {
				t.Errorf("members answered %v, want alice and bob", got)
			}
		}
	}
	// The direct frame passes the gateway's model and reaches the chat function, which
	// refuses it: its example user has never connected.
	if got := sendAndAwait(ctx, t, alice, frames["direct"], "error"); got["code"] != "unknown_user" {
		t.Errorf("direct %s got %v, want the chat function's unknown_user", frames["direct"], got)
	}
	// Bob, in the room, got alice's message.
	if got := await(ctx, t, bob, "message"); got["text"] == nil || got["userId"] != "alice" {
		t.Errorf("bob got %v, want alice's message", got)
	}
	// The banner's shell command publishes to room general through the publish queue: sent as
	// printed (with the SDK in place of the AWS CLI), bob gets it.
	sendPrinted(ctx, t, b.text)
	if got := await(ctx, t, bob, "message"); got["text"] != "hello from the shell" || got["system"] != true {
		t.Errorf("bob got %v, want the message published from the shell", got)
	}
	// The user's model and selection expression are the gateway's: a bad typing state is
	// refused before the function, and "action" selects nothing.
	if got := sendAndAwait(ctx, t, alice, `{"type":"typing","roomId":"general","state":"bogus"}`, ""); got["message"] != "Bad request body" {
		t.Errorf("typing with a state outside the schema got %v, want Bad request body", got)
	}
	if got := sendAndAwait(ctx, t, alice, `{"action":"joinroom","roomId":"general"}`, "error"); got["code"] != "unknown_action" {
		t.Errorf(`{"action":"joinroom"} got %v, want $default's unknown_action`, got)
	}
	alice.Close(websocket.StatusNormalClosure, "")
	bob.Close(websocket.StatusNormalClosure, "")

	// Ctrl-C stops it.
	if err := r.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-r.exited:
		if err != nil {
			t.Errorf("runner exited with %v after Ctrl-C; stderr:\n%s", err, r.stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Errorf("runner still running 30 s after Ctrl-C")
	}
	if !strings.Contains(r.stderr.String(), "stopping...") {
		t.Errorf("stderr lacks stopping...:\n%s", r.stderr.String())
	}
}

// runner is the runner process and what it printed.
type runner struct {
	cmd    *exec.Cmd
	exited chan error
	stderr *syncBuffer
	banner parsedBanner
}

// startRunner runs bin in dir and waits for its banner.
func startRunner(t *testing.T, bin, dir string) *runner {
	t.Helper()
	cmd := exec.Command(bin)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	r := &runner{cmd: cmd, exited: make(chan error, 1), stderr: &syncBuffer{}}
	cmd.Stderr = r.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// A failed test leaves it running: stop it and what it started.
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGINT)
		select {
		case <-r.exited:
		case <-time.After(30 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		}
	})
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		r.exited <- cmd.Wait()
	}()
	var text strings.Builder
	deadline := time.After(startTimeout)
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("runner exited before its banner; stderr:\n%s", r.stderr.String())
			}
			text.WriteString(line + "\n")
			if line == "Ctrl-C stops everything." {
				go func() { // keep draining
					for range lines {
					}
				}()
				r.banner = parseBanner(t, text.String())
				return r
			}
		case <-deadline:
			t.Fatalf("no banner after %v; stderr:\n%s", startTimeout, r.stderr.String())
		}
	}
}

// parsedBanner is what the test reads from the banner.
type parsedBanner struct {
	text   string
	tokens map[string]string // user → WebSocket URL with token
	routes []bannerRoute
}

// bannerRoute is one line of the banner's route list.
type bannerRoute struct{ key, text string }

var (
	tokenLine = regexp.MustCompile(`^  (\w+)\s+(ws://\S+\?token=\S+)$`)
	routeRow  = regexp.MustCompile(`^  (\S+)\s+(.+)$`)
)

// parseBanner reads the tokens and routes of a banner.
func parseBanner(t *testing.T, text string) parsedBanner {
	t.Helper()
	b := parsedBanner{text: text, tokens: map[string]string{}}
	inRoutes := false
	for _, line := range strings.Split(text, "\n") {
		switch {
		case strings.HasPrefix(line, "Routes ("):
			inRoutes = true
		case inRoutes && !strings.HasPrefix(line, "  "):
			inRoutes = false
		case inRoutes:
			m := routeRow.FindStringSubmatch(line)
			if m == nil {
				t.Fatalf("route line %q", line)
			}
			b.routes = append(b.routes, bannerRoute{key: m[1], text: m[2]})
		default:
			if m := tokenLine.FindStringSubmatch(line); m != nil {
				b.tokens[m[1]] = m[2]
			}
		}
	}
	if b.tokens["alice"] == "" || b.tokens["bob"] == "" || len(b.routes) == 0 {
		t.Fatalf("banner without tokens or routes:\n%s", text)
	}
	return b
}

// dial connects to url.
func dial(ctx context.Context, t *testing.T, url string) *websocket.Conn {
	t.Helper()
	c, resp, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		t.Fatalf("dial: %v (%v)", err, resp)
	}
	t.Cleanup(func() { c.CloseNow() })
	return c
}

// sendAndAwait sends frame and returns the first answer of type want ("" for any), failing on
// an error frame or a gateway error first.
func sendAndAwait(ctx context.Context, t *testing.T, c *websocket.Conn, frame, want string) map[string]any {
	t.Helper()
	if err := c.Write(ctx, websocket.MessageText, []byte(frame)); err != nil {
		t.Fatalf("send %s: %v", frame, err)
	}
	if want == "" {
		return read(ctx, t, c)
	}
	for {
		got := read(ctx, t, c)
		if got["type"] == want {
			return got
		}
		if got["type"] == "error" || got["message"] != nil {
			t.Fatalf("%s was refused: %v", frame, got)
		}
		// presence and other room events may come first
	}
}

// await returns the first frame of type want, skipping others.
func await(ctx context.Context, t *testing.T, c *websocket.Conn, want string) map[string]any {
	t.Helper()
	for {
		if got := read(ctx, t, c); got["type"] == want {
			return got
		}
	}
}

// read reads one JSON frame within 30 s.
func read(ctx context.Context, t *testing.T, c *websocket.Conn) map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	_, data, err := c.Read(ctx)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("frame %q is not JSON: %v", data, err)
	}
	return doc
}

// syncBuffer is an io.Writer safe for concurrent use.
type syncBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

// Write implements io.Writer.
func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns what was written.
func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// printedPublish matches the banner's publish command.
var printedPublish = regexp.MustCompile(`AWS_ACCESS_KEY_ID=(\S+) AWS_SECRET_ACCESS_KEY=(\S+) AWS_SESSION_TOKEN=(\S+) \\\n\s+aws sqs send-message --region (\S+) --endpoint-url (\S+) \\\n\s+--queue-url (\S+) \\\n\s+--message-body '([^']+)'`)

// sendPrinted sends the message of the banner's publish command, with its credentials,
// endpoint and queue, as the AWS CLI would.
func sendPrinted(ctx context.Context, t *testing.T, banner string) {
	t.Helper()
	m := printedPublish.FindStringSubmatch(banner)
	if m == nil {
		t.Fatalf("the banner has no publish command:\n%s", banner)
	}
	client := sqs.New(sqs.Options{
		Region:       m[4],
		BaseEndpoint: aws.String(m[5]),
		Credentials:  credentials.NewStaticCredentialsProvider(m[1], m[2], m[3]),
	})
	if _, err := client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(m[6]), MessageBody: aws.String(m[7])}); err != nil {
		t.Fatalf("the banner's publish command: %v", err)
	}
}
