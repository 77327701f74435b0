package local_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	"github.com/coder/websocket"

	"github.com/chatstack/websocketchatapi/integ/internal/assembly"
	"github.com/chatstack/websocketchatapi/integ/internal/local"
	"github.com/chatstack/websocketchatapi/internal/contract"
	"github.com/chatstack/websocketchatapi/protocol"
)

// envAssembly names the environment variable that, when set, gives a cloud assembly to run
// instead of synthesizing one (for quick iterations on the emulator).
const envAssembly = "LOCAL_TEST_ASSEMBLY"

// envLogs names the environment variable that, when set, copies the functions' output to
// standard error as it comes (it is printed anyway when a test fails).
const envLogs = "LOCAL_TEST_LOGS"

// env is the stack that TestMain synthesizes and starts, shared by the tests.
var env *local.Env

// assemblyDir is the cloud assembly that TestMain synthesizes.
var assemblyDir string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	t0 := time.Now()
	dir := os.Getenv(envAssembly)
	if dir == "" {
		tmp, err := os.MkdirTemp("", "local-test-cdk.out-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(tmp)
		if err := local.Synth(ctx, tmp); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		dir = tmp
	}
	assemblyDir = dir
	t1 := time.Now()
	var err error
	var sink io.Writer
	if os.Getenv(envLogs) != "" {
		sink = os.Stderr
	}
	env, err = local.Start(ctx, local.Options{AssemblyDir: dir, LogSink: sink})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Fprintf(os.Stderr, "local_test: Synth %v, Start %v\n", t1.Sub(t0).Round(time.Millisecond), time.Since(t1).Round(time.Millisecond))
	code := m.Run()
	if err := env.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	if code != 0 {
		for _, fn := range env.Stack.SortedFunctions() {
			fmt.Fprintf(os.Stderr, "output of %s:\n%s\n", fn.Name, strings.Join(env.Logs(fn.Name), "\n"))
		}
	}
	return code
}

// client is a connected WebSocket client.
type client struct {
	t    *testing.T
	name string
	conn *websocket.Conn
}

// connect dials the stage as user with a fresh token.
func connect(t *testing.T, user string) *client {
	t.Helper()
	tok, err := env.Token(user, strings.ToUpper(user[:1])+user[1:])
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, resp, err := websocket.Dial(ctx, env.URL+"?token="+tok, nil)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("%s: dial: %v (status %d)", user, err, status)
	}
	t.Cleanup(func() { _ = conn.Close(websocket.StatusNormalClosure, "") })
	return &client{t: t, name: user, conn: conn}
}

// send writes v as a JSON text message.
func (c *client) send(v any) {
	c.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		c.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.conn.Write(ctx, websocket.MessageText, b); err != nil {
		c.t.Fatalf("%s: write %s: %v", c.name, b, err)
	}
}

// expect reads frames until one of type typ (others, such as presence, are skipped), decodes
// it into v (a frame type of package protocol) and returns it as received; it fails the test
// after 20 s.
func (c *client) expect(typ string, v any) string {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var seen []string
	for {
		mt, data, err := c.conn.Read(ctx)
		if err != nil {
			c.t.Fatalf("%s: waiting for a %q frame (seen %q): %v", c.name, typ, seen, err)
		}
		var f struct {
			Type string `json:"type"`
		}
		if mt != websocket.MessageText || json.Unmarshal(data, &f) != nil {
			c.t.Fatalf("%s: not a JSON text frame: %v %q", c.name, mt, data)
		}
		if f.Type == typ {
			if err := json.Unmarshal(data, v); err != nil {
				c.t.Fatalf("%s: %s frame %s: %v", c.name, typ, data, err)
			}
			return string(data)
		}
		seen = append(seen, string(data))
	}
}

// TestChatRoundTrip joins two users to a room and sends a message from one to the other,
// through the real authorizer, connect and chat binaries, DynamoDB Local and @connections.
func TestChatRoundTrip(t *testing.T) {
	room := fmt.Sprintf("smoke-%d", time.Now().UnixNano())

	start := time.Now()
	alice := connect(t, "alice")
	alice.send(map[string]any{"action": "joinroom", "roomId": room})
	var joined protocol.Joined
	raw := alice.expect(protocol.FrameJoined, &joined)
	t.Logf("first connect + joinroom → joined: %v", time.Since(start))
	if joined.RoomID != room {
		t.Errorf("alice joined %q, want %q: %s", joined.RoomID, room, raw)
	}

	bob := connect(t, "bob")
	bob.send(map[string]any{"action": "joinroom", "roomId": room})
	if raw := bob.expect(protocol.FrameJoined, &joined); joined.RoomID != room {
		t.Errorf("bob joined %q, want %q: %s", joined.RoomID, room, raw)
	}

	sent := time.Now()
	bob.send(map[string]any{"action": "sendmessage", "roomId": room, "text": "hello alice", "clientMessageId": "c-1"})
	var msg protocol.Message
	raw = alice.expect(protocol.FrameMessage, &msg)
	t.Logf("first sendmessage → message at the other client: %v", time.Since(sent))
	if msg.RoomID != room || msg.Text != "hello alice" || msg.UserID != "bob" || msg.DisplayName != "Bob" || msg.MessageID == "" {
		t.Errorf("alice got %s, want bob's message in %s", raw, room)
	}
	var ack protocol.Ack
	raw = bob.expect(protocol.FrameAck, &ack)
	if ack.ClientMessageID != "c-1" || ack.MessageID != msg.MessageID || ack.Delivered != 1 {
		t.Errorf("bob's ack %s, want clientMessageId c-1, messageId %s, delivered 1", raw, msg.MessageID)
	}
	if d := env.Denials(); len(d) != 0 {
		t.Errorf("IAM denied %d calls of the stack's own functions: %v", len(d), d)
	}
}

// TestHandshakeWithoutValidTokenIsRefused: no token is 401 (the authorizer says Unauthorized),
// a token from another issuer 403 (Deny).
func TestHandshakeWithoutValidTokenIsRefused(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, c := range []struct {
		name, query string
		want        int
	}{
		{"no token", "", http.StatusUnauthorized},
		{"not a token", "?token=not-a-jwt", http.StatusForbidden},
	} {
		conn, resp, err := websocket.Dial(ctx, env.URL+c.query, nil)
		if err == nil {
			conn.Close(websocket.StatusNormalClosure, "")
			t.Errorf("%s: handshake succeeded, want %d", c.name, c.want)
			continue
		}
		if resp == nil || resp.StatusCode != c.want {
			status := 0
			if resp != nil {
				status = resp.StatusCode
			}
			t.Errorf("%s: %v (status %d), want status %d", c.name, err, status, c.want)
		}
	}
}

// TestUnknownActionGetsDefaultRouteFrame: an action without a route goes to $default, whose
// function answers with an unknown_action error frame through the route response.
func TestUnknownActionGetsDefaultRouteFrame(t *testing.T) {
	carol := connect(t, "carol")
	carol.send(map[string]any{"action": "dance"})
	var f protocol.Error
	if raw := carol.expect(protocol.FrameError, &f); f.Code != protocol.CodeUnknownAction || f.Action != "dance" {
		t.Errorf("frame %s, want an unknown_action error for dance", raw)
	}
	// The connection stays open and routes the next message.
	carol.send(map[string]any{"action": "sing", "roomId": "x"})
	f = protocol.Error{}
	if raw := carol.expect(protocol.FrameError, &f); f.Code != protocol.CodeUnknownAction || f.Action != "sing" {
		t.Errorf("second frame %s, want an unknown_action error for sing", raw)
	}
}

// TestFunctionLogs: the functions' logs are kept per function.
func TestFunctionLogs(t *testing.T) {
	var auth string
	for _, a := range env.API.Authorizers {
		if a.Function != nil {
			auth = a.Function.Name
		}
	}
	if auth == "" {
		t.Fatal("the reference stack's API has no authorizer function")
	}
	connect(t, "dave")
	if lines := env.Logs(auth); !containsLine(lines, "token accepted") {
		t.Errorf("authorizer logs lack its 'token accepted' line:\n%s", strings.Join(lines, "\n"))
	}
	if env.Logs("NoSuchFunction") != nil {
		t.Error("Logs of an unknown function is not nil")
	}
}

func containsLine(lines []string, s string) bool {
	for _, l := range lines {
		if strings.Contains(l, s) {
			return true
		}
	}
	return false
}

// TestCloseStopsEverything starts a second copy of the stack, uses it, closes it, and checks
// that every process it started (DynamoDB Local's JVM, the functions) is gone and its
// endpoints refuse connections.
func TestCloseStopsEverything(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	starting := time.Now()
	e, err := local.Start(ctx, local.Options{AssemblyDir: assemblyDir})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("second Start took %v", time.Since(starting))
	tok, err := e.Token("erin", "Erin")
	if err != nil {
		t.Fatal(err)
	}
	conn, _, err := websocket.Dial(ctx, e.URL+"?token="+tok, nil)
	if err != nil {
		e.Close()
		t.Fatalf("dial the second stack: %v", err)
	}
	defer conn.CloseNow()
	// A client that reads answers the server's close at once.
	conn.CloseRead(context.Background())
	// The JVM, the authorizer and the connect function at least.
	if procs := processesOf(t, e); len(procs) < 3 {
		t.Errorf("the second stack runs %d processes (%v), want at least 3", len(procs), procs)
	}
	closing := time.Now()
	if err := e.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	t.Logf("Close took %v", time.Since(closing))
	deadline := time.Now().Add(5 * time.Second)
	for len(processesOf(t, e)) > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if left := processesOf(t, e); len(left) > 0 {
		t.Errorf("processes left after Close: %v", left)
	}
	for _, u := range []string{e.DynamoDBEndpoint, e.DynamoDBProxyURL, strings.Replace(e.URL, "ws://", "http://", 1)} {
		if resp, err := http.Get(u); err == nil {
			resp.Body.Close()
			t.Errorf("%s still answers after Close (%s)", u, resp.Status)
		}
	}
}

// processesOf returns the live processes (pid → command name) of e among this process's
// children: its functions (their environment names e's DynamoDB proxy) and DynamoDB Local (its
// command line names e's port). The tests' other stack may start processes meanwhile.
func processesOf(t *testing.T, e *local.Env) map[int]string {
	t.Helper()
	_, ddbPort, _ := strings.Cut(strings.TrimPrefix(e.DynamoDBEndpoint, "http://"), ":")
	out := make(map[int]string)
	for pid, name := range children(t) {
		environ, _ := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if bytes.Contains(environ, []byte("AWS_ENDPOINT_URL_DYNAMODB="+e.DynamoDBProxyURL+"\x00")) ||
			bytes.Contains(cmdline, []byte("\x00-port\x00"+ddbPort+"\x00")) {
			out[pid] = name
		}
	}
	return out
}

// children returns the pids (with their command names) of this process's live children.
func children(t *testing.T) map[int]string {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	self := os.Getpid()
	out := make(map[int]string)
	for _, ent := range entries {
		var pid int
		if _, err := fmt.Sscanf(ent.Name(), "%d", &pid); err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + ent.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 {
			continue
		}
		var state string
		var ppid int
		if _, err := fmt.Sscanf(string(stat[i+2:]), "%s %d", &state, &ppid); err != nil || ppid != self || state == "Z" {
			continue
		}
		out[pid] = string(stat[bytes.IndexByte(stat, '(')+1 : i])
	}
	return out
}

// TestMissingGrantsAreDenied: a function's calls carry its own access key, and what its role
// does not allow fails as on AWS: the authorizer's role may neither read the table nor post to
// a connection.
func TestMissingGrantsAreDenied(t *testing.T) {
	var auth *assembly.Function
	for _, a := range env.API.Authorizers {
		auth = a.Function
	}
	if auth == nil {
		t.Fatal("the reference stack's API has no authorizer function")
	}
	key := env.AccessKeys[auth.Name]
	if !strings.HasPrefix(key, "AKIALOCAL") || len(key) != 20 {
		t.Fatalf("authorizer access key %q, want AKIALOCAL + 11 characters", key)
	}
	var table string
	for _, tb := range env.Stack.Tables {
		table = tb.Name
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	denied := len(env.Denials())

	ddb := dynamodb.New(dynamodb.Options{
		Region:       env.Stack.Env.Region,
		BaseEndpoint: aws.String(env.DynamoDBProxyURL),
		Credentials:  credentials.NewStaticCredentialsProvider(key, "secret", ""),
	})
	_, err := ddb.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(table),
		Key: map[string]types.AttributeValue{
			contract.AttrPK: &types.AttributeValueMemberS{Value: contract.PrefixConnection + "x"},
			contract.AttrSK: &types.AttributeValueMemberS{Value: contract.SortKeyConnection},
		},
	})
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "AccessDeniedException" {
		t.Errorf("GetItem with the authorizer's key: %v, want AccessDeniedException", err)
	}

	req, err := http.NewRequestWithContext(ctx, http.MethodPost, env.CallbackURL+"/@connections/abc%3D", strings.NewReader(`{"type":"x"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+key+"/20260101/"+env.Stack.Env.Region+
		"/execute-api/aws4_request, SignedHeaders=host;x-amz-date, Signature=0000")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("@connections POST with the authorizer's key: %s, want 403", resp.Status)
	}
	if got := len(env.Denials()) - denied; got != 2 {
		t.Errorf("%d new IAM denials, want 2 (DynamoDB and @connections): %v", got, env.Denials())
	}
}

// TestStartFailureLeavesNothing: a Start that fails after DynamoDB Local began starting (the
// endpoint address is refused) stops what it started.
func TestStartFailureLeavesNothing(t *testing.T) {
	before := children(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	e, err := local.Start(ctx, local.Options{AssemblyDir: assemblyDir, Addr: "0.0.0.0:0"})
	if err == nil {
		e.Close()
		t.Fatal("Start on a non-loopback address succeeded")
	}
	if !strings.Contains(err.Error(), "loopback") {
		t.Errorf("Start: %v, want an error about the loopback address", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	// No function runs before its first invocation; the JVM is what may be left. (The other
	// stack may start function processes meanwhile: they are not counted.)
	for len(newJVMs(before, children(t))) > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if left := newJVMs(before, children(t)); len(left) > 0 {
		t.Errorf("DynamoDB Local processes left after a failed Start: %v", left)
	}
	if _, err := local.Start(ctx, local.Options{AssemblyDir: t.TempDir()}); err == nil || !strings.Contains(err.Error(), "manifest.json") {
		t.Errorf("Start on an empty folder: %v, want an error naming manifest.json", err)
	}
}

// newJVMs returns the java processes of now that are not in before.
func newJVMs(before, now map[int]string) map[int]string {
	out := make(map[int]string)
	for pid, name := range now {
		if _, ok := before[pid]; !ok && name == "java" {
			out[pid] = name
		}
	}
	return out
}
