package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chatstack/websocketchatapi/integ/internal/iamcheck"
	"github.com/chatstack/websocketchatapi/integ/internal/local"
	"github.com/chatstack/websocketchatapi/protocol"
)

// brokenApp is the variant of the reference app whose chat function lacks its table grant.
const brokenApp = "./integ/e2e/testdata/brokenapp"

// startVariant synthesizes the variant app (a package path from the module root) and runs it
// locally until the test ends, its functions' output going to logs.
func startVariant(ctx context.Context, t *testing.T, app string, logs *logSink) *local.Env {
	t.Helper()
	dir := t.TempDir()
	if err := local.SynthApp(ctx, dir, app); err != nil {
		t.Fatal(err)
	}
	env, err := local.Start(ctx, local.Options{AssemblyDir: dir, LogSink: logs})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := env.Close(); err != nil {
			t.Errorf("close the stack of %s: %v", app, err)
		}
	})
	return env
}

// TestMissingGrantFailsAsOnAWS (scenario 9): a template that is broken fails locally as it
// would on AWS. The variant (testdata/brokenapp) is the reference stack with the DynamoDB
// statements removed from the chat function's role through the CDK escape hatch: connecting
// still works (the connect function keeps its grant), but every chat action's first DynamoDB
// call is refused with AccessDeniedException, so joinroom answers internal_error, and the
// emulator records the denial in AWS's words, naming the chat role's session and the action.
func TestMissingGrantFailsAsOnAWS(t *testing.T) {
	tg.local(t, "synthesizes and runs a broken variant of the stack")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	began := time.Now()
	brokenLogs := newLogSink()
	env := startVariant(ctx, t, brokenApp, brokenLogs)
	t.Logf("broken variant: synthesized and started in %v", time.Since(began).Round(time.Millisecond))

	chat := chatFunction(t, env)
	if chat.Role == nil {
		t.Fatalf("the chat function %s has no role in the stack", chat.LogicalID)
	}
	for _, p := range chat.Role.Policies {
		for _, s := range p.Document.Statements {
			for _, a := range s.Action {
				if strings.HasPrefix(strings.ToLower(a), "dynamodb:") {
					t.Fatalf("the variant's chat role still allows %s (policy %s): brokenapp did not remove its grant", a, p.Name)
				}
			}
		}
	}

	broken := newTarget("local (broken variant)", env.URL, env)
	u := broken.user(t, 0)
	c := broken.connect(t, "client", u, dialOptions{})
	c.send(map[string]any{"action": protocol.ActionJoinRoom, "roomId": room("broken")})
	if f := c.expectError(protocol.CodeInternal); f.Action != protocol.ActionJoinRoom {
		t.Errorf("internal_error frame %s, want action joinroom", f.raw)
	}

	var found *iamcheck.Decision
	denials := env.Denials()
	for i, d := range denials {
		if d.Principal == chat.SessionARN && strings.HasPrefix(d.Action, "dynamodb:") {
			found = &denials[i]
			break
		}
	}
	if found == nil {
		t.Fatalf("no DynamoDB denial of the chat role's session %s among %d denials: %v", chat.SessionARN, len(denials), denials)
	}
	t.Logf("denied: %s", found.Reason)
	// AWS's wording, e.g. "User: arn:aws:sts::<account>:assumed-role/<role>/<function> is not
	// authorized to perform: dynamodb:GetItem on resource: arn:aws:dynamodb:...:table/<name>
	// because no identity-based policy allows the dynamodb:GetItem action".
	want := "User: " + chat.SessionARN + " is not authorized to perform: " + found.Action + " on resource: " + found.Resource +
		" because no identity-based policy allows the " + found.Action + " action"
	if found.Reason != want {
		t.Errorf("denial reason\n%s\nwant\n%s", found.Reason, want)
	}
	if !strings.Contains(chat.SessionARN, ":assumed-role/"+chat.Role.Name+"/") || !strings.Contains(found.Resource, ":table/") {
		t.Errorf("denial of %s on %s: want the chat role %s's session and the table", found.Principal, found.Resource, chat.Role.Name)
	}
	// The function saw the error as the SDK reports AWS's: an AccessDeniedException.
	if logs := brokenLogs.String(); !strings.Contains(logs, "AccessDeniedException") {
		t.Errorf("the chat function's output does not mention AccessDeniedException:\n%s", logs)
	}
}
