package chatapi_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
)

func TestMain(m *testing.M) {
	// The built-in CloudFormation validator costs seconds per synth; app/ keeps one synth
	// of the reference stack with it on.
	os.Setenv("CDK_VALIDATION", "false")
	code := m.Run()
	jsii.Close()
	os.Exit(code)
}

// newStack returns a stack in an app with the feature flags of cdk.json.
func newStack(t *testing.T) awscdk.Stack {
	t.Helper()
	app := awscdk.NewApp(&awscdk.AppProps{Context: recommendedContext(t), AnalyticsReporting: jsii.Bool(false)})
	return awscdk.NewStack(app, jsii.String("Test"), nil)
}

func recommendedContext(t *testing.T) *map[string]any {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "cdk.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Context map[string]any `json:"context"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	return &doc.Context
}

// template is a synthesized CloudFormation template.
type template struct {
	Resources map[string]resource `json:"Resources"`
	Outputs   map[string]any      `json:"Outputs"`
}

type resource struct {
	Type           string         `json:"Type"`
	Properties     map[string]any `json:"Properties"`
	DependsOn      any            `json:"DependsOn"`
	DeletionPolicy string         `json:"DeletionPolicy"`
	UpdateReplace  string         `json:"UpdateReplacePolicy"`
}

func synth(t *testing.T, stack awscdk.Stack) template {
	t.Helper()
	var tpl template
	raw, err := json.Marshal(assertions.Template_FromStack(stack, nil).ToJSON())
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &tpl); err != nil {
		t.Fatal(err)
	}
	return tpl
}

// ofType returns the logical ids of the resources of a type, sorted.
func (tpl template) ofType(typ string) []string {
	var ids []string
	for id, r := range tpl.Resources {
		if r.Type == typ {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

// one returns the only resource of a type whose properties satisfy match.
func (tpl template) one(t *testing.T, typ string, match func(map[string]any) bool) (string, resource) {
	t.Helper()
	var found []string
	for _, id := range tpl.ofType(typ) {
		if match == nil || match(tpl.Resources[id].Properties) {
			found = append(found, id)
		}
	}
	if len(found) != 1 {
		t.Fatalf("want exactly one %s matching, found %d: %v", typ, len(found), found)
	}
	return found[0], tpl.Resources[found[0]]
}

// routes maps route keys to route resources.
func (tpl template) routes() map[string]resource {
	out := map[string]resource{}
	for _, id := range tpl.ofType("AWS::ApiGatewayV2::Route") {
		r := tpl.Resources[id]
		out[r.Properties["RouteKey"].(string)] = r
	}
	return out
}

// ref returns the logical id a {"Ref": id} value points to, or "".
func ref(v any) string {
	if m, ok := v.(map[string]any); ok {
		if s, ok := m["Ref"].(string); ok {
			return s
		}
	}
	return ""
}

// integrationOf returns the logical id of the integration a route targets
// ("integrations/<id>" is a Fn::Join of "integrations/" and a Ref).
func integrationOf(r resource) string {
	return strings.TrimPrefix(compact(r.Properties["Target"]), "integrations/")
}

// compact renders an intrinsic-laden value as text: Fn::Join flattened, Refs as their id,
// Fn::GetAtt as id.attr, so assertions can read ARNs and URLs.
func compact(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case map[string]any:
		if id, ok := v["Ref"].(string); ok {
			return id
		}
		if j, ok := v["Fn::Join"].([]any); ok {
			var b strings.Builder
			for i, p := range j[1].([]any) {
				if i > 0 {
					b.WriteString(j[0].(string))
				}
				b.WriteString(compact(p))
			}
			return b.String()
		}
		if g, ok := v["Fn::GetAtt"].([]any); ok {
			return fmt.Sprintf("%v.%v", g[0], g[1])
		}
	}
	raw, _ := json.Marshal(v)
	return string(raw)
}

// mustPanic runs f and returns the panic message, failing the test if f does not panic.
func mustPanic(t *testing.T, f func()) (msg string) {
	t.Helper()
	defer func() {
		r := recover()
		if r == nil {
			t.Fatalf("no panic")
		}
		msg = fmt.Sprint(r)
	}()
	f()
	return ""
}

// functionsByID returns the Lambda functions keyed by logical id.
func (tpl template) functions() map[string]resource {
	out := map[string]resource{}
	for _, id := range tpl.ofType("AWS::Lambda::Function") {
		out[id] = tpl.Resources[id]
	}
	return out
}

// functionID returns the logical id of the function whose id starts with prefix (e.g.
// "ChatChatFunction").
func (tpl template) functionID(t *testing.T, prefix string) string {
	t.Helper()
	var found []string
	for id := range tpl.functions() {
		if strings.HasPrefix(id, prefix) {
			found = append(found, id)
		}
	}
	if len(found) != 1 {
		t.Fatalf("functions with prefix %s: %v", prefix, found)
	}
	return found[0]
}
