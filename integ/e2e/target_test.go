package e2e

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/coder/websocket"

	"github.com/chatstack/websocketchatapi/integ/internal/assembly"
	"github.com/chatstack/websocketchatapi/integ/internal/local"
	"github.com/chatstack/websocketchatapi/internal/contract"
	"github.com/chatstack/websocketchatapi/protocol"
)

// Timeouts of the scenarios. Generous: under qemu-user a function's first invocation (a cold
// start) takes about a second, and TestConcurrentRooms starts many at once.
const (
	// dialTimeout bounds a handshake (it runs the authorizer and the connect function).
	dialTimeout = 30 * time.Second
	// frameTimeout bounds the wait for one expected frame or close.
	frameTimeout = 20 * time.Second
	// quietWindow is how long a client must stay silent after a marker frame proved its stream
	// live. Every frame that could leak was posted before the marker's reply and so arrived
	// before it; the window only catches a late duplicate, so it is kept short.
	quietWindow = 300 * time.Millisecond
)

// Subprotocols of the browser token source: the client offers chat.v1 and its token as
// bearer.<jwt>, and $connect answers with chat.v1.
const (
	subprotocolChat   = contract.Subprotocol
	subprotocolBearer = "bearer."
)

// target is where the scenarios run: a local stack (env set) or a deployed one (tokens set).
type target struct {
	// name is "local" or "deployed".
	name string
	// url is the stage's ws:// or wss:// URL.
	url string
	// env is the local stack; nil on the deployed target.
	env *local.Env
	// tokens are the deployed target's users, distinct users first.
	tokens []user
}

// user is who a client connects as.
type user struct {
	token   string
	subject string // the sub claim: the userId that the chat reports
}

func newTarget(name, url string, env *local.Env) *target {
	return &target{name: name, url: url, env: env}
}

// local returns the local stack, or skips the test on the deployed target with the reason.
func (tg *target) local(t *testing.T, what string) *local.Env {
	t.Helper()
	if tg.env == nil {
		t.Skip("needs the local target: " + what)
	}
	return tg.env
}

// user returns the i-th user of the test: on the local target a fresh subject named after the
// test (its own, so that the table can be searched for it), on the deployed one the i-th token
// (cycling when the test needs more users than there are tokens).
func (tg *target) user(t *testing.T, i int) user {
	t.Helper()
	if tg.env == nil {
		return tg.tokens[i%len(tg.tokens)]
	}
	sub := fmt.Sprintf("%s-u%d", strings.NewReplacer("/", "-", " ", "_").Replace(t.Name()), i)
	tok, err := tg.env.Token(sub, fmt.Sprintf("User %d", i))
	if err != nil {
		t.Fatal(err)
	}
	return user{token: tok, subject: sub}
}

// chatFunction returns the local stack's chat function: the one behind the sendmessage route.
func chatFunction(t *testing.T, env *local.Env) *assembly.Function {
	t.Helper()
	rt := env.API.Route(protocol.ActionSendMessage)
	if rt == nil || rt.Integration == nil || rt.Integration.Function == nil {
		t.Fatalf("the stack's %s route has no Lambda integration", protocol.ActionSendMessage)
	}
	return rt.Integration.Function
}

// tableName returns the name of the local stack's only table.
func tableName(t *testing.T, env *local.Env) string {
	t.Helper()
	if len(env.Stack.Tables) != 1 {
		t.Fatalf("the stack has %d tables, want 1", len(env.Stack.Tables))
	}
	for _, tb := range env.Stack.Tables {
		return tb.Name
	}
	panic("unreachable")
}

// dialOptions says how a client presents its token.
type dialOptions struct {
	// subprotocol sends the token as Sec-WebSocket-Protocol: chat.v1, bearer.<jwt> instead of
	// ?token=<jwt>.
	subprotocol bool
}

// handshake dials with the token as opts say and returns the connection, or the HTTP status of
// the refusal (0 when there was no HTTP answer) with the error.
func (tg *target) handshake(ctx context.Context, token string, opts dialOptions) (*websocket.Conn, int, error) {
	u := tg.url
	var do websocket.DialOptions
	switch {
	case token == "":
	case opts.subprotocol:
		do.Subprotocols = []string{subprotocolChat, subprotocolBearer + token}
	default:
		u += "?token=" + url.QueryEscape(token)
	}
	conn, resp, err := websocket.Dial(ctx, u, &do)
	status := 0
	if resp != nil {
		status = resp.StatusCode
	}
	if err != nil {
		return nil, status, fmt.Errorf("dial %s: %w", tg.name, err)
	}
	return conn, status, nil
}

// refusal dials with token and returns the status of the refused handshake; it fails the test
// when the handshake succeeds.
func (tg *target) refusal(t *testing.T, token string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), dialTimeout)
	defer cancel()
	conn, status, err := tg.handshake(ctx, token, dialOptions{})
	if err == nil {
		conn.CloseNow()
		t.Fatalf("the handshake succeeded (status %d), want it refused", status)
	}
	if status == 0 {
		t.Fatalf("no HTTP answer to the handshake: %v", err)
	}
	return status
}

// connect dials as u and starts reading the client's frames; the test's cleanup closes it
// normally (1000), as a browser would.
func (tg *target) connect(t *testing.T, name string, u user, opts dialOptions) *client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), dialTimeout)
	defer cancel()
	conn, status, err := tg.handshake(ctx, u.token, opts)
	if err != nil {
		t.Fatalf("%s: %v (status %d)", name, err, status)
	}
	c := newClient(t, name, u, conn)
	t.Cleanup(c.close)
	return c
}

// connectAll connects n clients (users 0..n-1) concurrently, at most 8 handshakes at a time.
func (tg *target) connectAll(t *testing.T, prefix string, n int) []*client {
	t.Helper()
	users := make([]user, n)
	for i := range users {
		users[i] = tg.user(t, i)
	}
	clients := make([]*client, n)
	errs := make([]error, n)
	sem := make(chan struct{}, 8)
	done := make(chan int)
	for i := range n {
		go func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			ctx, cancel := context.WithTimeout(context.Background(), dialTimeout)
			defer cancel()
			conn, status, err := tg.handshake(ctx, users[i].token, dialOptions{})
			if err != nil {
				errs[i] = fmt.Errorf("%s%d: %w (status %d)", prefix, i, err, status)
			} else {
				clients[i] = newClient(t, fmt.Sprintf("%s%d", prefix, i), users[i], conn)
			}
			done <- i
		}()
	}
	for range n {
		<-done
	}
	for _, c := range clients {
		if c != nil {
			t.Cleanup(c.close)
		}
	}
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	return clients
}

// connectionItems returns the keys (sk values) of the items in the partition CONN#<id>, read
// consistently from DynamoDB Local.
func connectionItems(t *testing.T, env *local.Env, connectionID string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := env.DynamoDB.Query(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(tableName(t, env)),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": contract.AttrPK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: contract.PrefixConnection + connectionID}},
		ConsistentRead:            aws.Bool(true),
	})
	if err != nil {
		t.Fatalf("query the items of connection %s: %v", connectionID, err)
	}
	var sks []string
	for _, item := range out.Items {
		if sk, ok := item[contract.AttrSK].(*types.AttributeValueMemberS); ok {
			sks = append(sks, sk.Value)
		}
	}
	return sks
}

// connectionsOf returns the ids of the connection items of userID (a scan: the table of a test
// stack is small).
func connectionsOf(t *testing.T, env *local.Env, userID string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p := dynamodb.NewScanPaginator(env.DynamoDB, &dynamodb.ScanInput{
		TableName:                aws.String(tableName(t, env)),
		FilterExpression:         aws.String("#sk = :sk AND #u = :u"),
		ExpressionAttributeNames: map[string]string{"#sk": contract.AttrSK, "#u": contract.AttrUserID},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":sk": &types.AttributeValueMemberS{Value: contract.SortKeyConnection},
			":u":  &types.AttributeValueMemberS{Value: userID},
		},
		ConsistentRead: aws.Bool(true),
	})
	var ids []string
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("scan for the connections of %s: %v", userID, err)
		}
		for _, item := range page.Items {
			if pk, ok := item[contract.AttrPK].(*types.AttributeValueMemberS); ok {
				ids = append(ids, strings.TrimPrefix(pk.Value, contract.PrefixConnection))
			}
		}
	}
	return ids
}

// eventually polls cond every 50 ms until it holds or timeout passes, and reports whether it
// held: for effects that AWS makes asynchronously, such as $disconnect's.
func eventually(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// statusText names an HTTP status for messages: "403 Forbidden".
func statusText(code int) string {
	return fmt.Sprintf("%d %s", code, http.StatusText(code))
}
