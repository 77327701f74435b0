// Command brokenapp synthesizes a deliberately broken variant of the reference stack for the
// end-to-end suite: the chat function's role loses its DynamoDB statements, so every chat
// action fails on AWS with AccessDeniedException, and the local emulator must fail the same way.
//
// It builds chatstack.New exactly as app/ does, then uses the CDK escape hatch: the role's
// DefaultPolicy (an AWS::IAM::Policy) gets its PolicyDocument.Statement overridden with only
// the statements that name no dynamodb action (the log and @connections grants stay).
package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"

	"github.com/chatstack/websocketchatapi/app/chatstack"
)

func main() {
	defer jsii.Close()
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "brokenapp:", err)
		os.Exit(1)
	}
}

func run() error {
	app := awscdk.NewApp(nil)
	st := chatstack.New(app, "WebSocketChatApi", nil)

	role := st.Chat.ChatFunction().Role()
	if role == nil {
		return fmt.Errorf("the chat function has no role")
	}
	child := role.Node().TryFindChild(jsii.String("DefaultPolicy"))
	policy, ok := child.(awsiam.Policy)
	if !ok || policy == nil {
		return fmt.Errorf("the chat function's role has no DefaultPolicy (found %T)", child)
	}
	cfn, ok := policy.Node().DefaultChild().(awsiam.CfnPolicy)
	if !ok {
		return fmt.Errorf("the chat role's DefaultPolicy has no CfnPolicy")
	}
	doc, ok := st.Resolve(policy.Document()).(map[string]any)
	if !ok {
		return fmt.Errorf("the chat role's policy document resolves to %T, want an object", doc)
	}
	statements, _ := doc["Statement"].([]any)
	var kept []any
	removed := 0
	for _, s := range statements {
		if namesDynamoDB(s) {
			removed++
			continue
		}
		kept = append(kept, s)
	}
	if removed == 0 {
		return fmt.Errorf("the chat role's policy has no dynamodb statement to remove: %v", statements)
	}
	cfn.AddPropertyOverride(jsii.String("PolicyDocument.Statement"), kept)
	app.Synth(nil)
	return nil
}

// namesDynamoDB reports whether a resolved policy statement names a dynamodb action.
func namesDynamoDB(statement any) bool {
	s, _ := statement.(map[string]any)
	var actions []any
	switch a := s["Action"].(type) {
	case string:
		actions = []any{a}
	case []any:
		actions = a
	}
	for _, a := range actions {
		if name, _ := a.(string); strings.HasPrefix(strings.ToLower(name), "dynamodb:") {
			return true
		}
	}
	return false
}
