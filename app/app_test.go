package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/chatstack/websocketchatapi/app/chatstack"
	"github.com/chatstack/websocketchatapi/constructs/chatapi"
)

var update = flag.Bool("update", false, "rewrite testdata/reference-stack.template.json from the current synth")

const golden = "testdata/reference-stack.template.json"

func TestMain(m *testing.M) {
	// In-process synths skip the built-in validator (seconds each); TestSynthWithValidation
	// runs the real app with it on.
	os.Setenv("CDK_VALIDATION", "false")
	code := m.Run()
	jsii.Close()
	os.Exit(code)
}

func cdkContext(t *testing.T) *map[string]any {
	t.Helper()
	raw, err := os.ReadFile("../cdk.json")
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

// assetKey matches the S3 keys of code assets: the hash of the handler's sources.
var assetKey = regexp.MustCompile(`"[0-9a-f]{64}\.zip"`)

// normalize renders a template as indented JSON with asset hashes masked: the snapshot pins
// the infrastructure, while the bundler's own tests pin the hashes (stable across machines and
// checkout paths, changed by any source change of a handler).
func normalize(t *testing.T, tpl any) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(tpl); err != nil {
		t.Fatal(err)
	}
	out := assetKey.ReplaceAll(buf.Bytes(), []byte(`"<asset-hash>.zip"`))
	// A function's CurrentVersion id ends with a hash of its code: a new version for new code
	// is how Lambda versions work, not a change of the template's shape.
	return versionHash.ReplaceAll(out, []byte(`${1}<code-hash>`))
}

// versionHash matches the code hash at the end of a Lambda version's logical id.
var versionHash = regexp.MustCompile(`(CurrentVersion[0-9A-F]{8})[0-9a-f]{32}`)

func referenceTemplate(t *testing.T) []byte {
	t.Helper()
	app := awscdk.NewApp(&awscdk.AppProps{Context: cdkContext(t), AnalyticsReporting: jsii.Bool(false)})
	stack := chatstack.New(app, "WebSocketChatApi", nil)
	return normalize(t, assertions.Template_FromStack(stack.Stack, nil).ToJSON())
}

// TestSnapshot pins the reference stack's template. After an intended change:
// go test ./app -run TestSnapshot -update
func TestSnapshot(t *testing.T) {
	got := referenceTemplate(t)
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", golden)
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (create it with: go test ./app -run TestSnapshot -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("the reference stack's template changed; if intended, run: go test ./app -run TestSnapshot -update\n%s", firstDiff(want, got))
	}
}

// firstDiff shows the first differing lines of two texts, with a little context.
func firstDiff(want, got []byte) string {
	w, g := strings.Split(string(want), "\n"), strings.Split(string(got), "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		if i < len(w) && i < len(g) && w[i] == g[i] {
			continue
		}
		var b strings.Builder
		for j := max(0, i-3); j < min(i+8, max(len(w), len(g))); j++ {
			wl, gl := "", ""
			if j < len(w) {
				wl = w[j]
			}
			if j < len(g) {
				gl = g[j]
			}
			mark := " "
			if wl != gl {
				mark = "!"
			}
			fmt.Fprintf(&b, "%s %4d golden: %s\n%s %4d synth:  %s\n", mark, j+1, wl, mark, j+1, gl)
		}
		return b.String()
	}
	return "(same lines, different bytes)"
}

func TestOutputs(t *testing.T) {
	app := awscdk.NewApp(&awscdk.AppProps{Context: cdkContext(t)})
	stack := chatstack.New(app, "Outputs", nil)
	outputs := assertions.Template_FromStack(stack.Stack, nil).FindOutputs(jsii.String("*"), nil)
	for _, name := range []string{"WebSocketUrl", "CallbackUrl", "TableName", "PublishQueueUrl", "UserPoolId", "UserPoolClientId"} {
		if _, ok := (*outputs)[name]; !ok {
			t.Errorf("output %s missing", name)
		}
	}
}

// TestSynthWithValidation runs the app as `cdk synth` does (a separate process, no AWS
// credentials) with aws-cdk-lib's built-in CloudFormation validation on, and checks that it
// reports nothing and writes the same template as the snapshot.
func TestSynthWithValidation(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "app")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./app: %v\n%s", err, out)
	}
	out := filepath.Join(dir, "cdk.out")
	ctx, _ := json.Marshal(*cdkContext(t))
	cmd := exec.Command(bin)
	cmd.Env = append(filterEnv(os.Environ(), "CDK_VALIDATION", "CDK_DEFAULT_ACCOUNT", "CDK_DEFAULT_REGION"),
		"CDK_OUTDIR="+out, "CDK_CONTEXT_JSON="+string(ctx))
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Run(); err != nil {
		t.Fatalf("synth with validation failed: %v\n%s", err, logs.String())
	}
	if s := logs.String(); strings.Contains(s, "Validation failed") || strings.Contains(s, "violation") {
		t.Fatalf("built-in validation reported:\n%s", s)
	}
	if s := logs.String(); strings.Contains(strings.ToLower(s), "deprecated") {
		t.Fatalf("the synth uses a deprecated API:\n%s", s)
	}
	raw, err := os.ReadFile(filepath.Join(out, "WebSocketChatApi.template.json"))
	if err != nil {
		t.Fatal(err)
	}
	var tpl any
	if err := json.Unmarshal(raw, &tpl); err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got := normalize(t, tpl); !bytes.Equal(got, want) {
		t.Fatalf("cdk synth's template differs from the snapshot:\n%s", firstDiff(want, got))
	}
}

func filterEnv(env []string, drop ...string) []string {
	var out []string
	for _, kv := range env {
		keep := true
		for _, d := range drop {
			if strings.HasPrefix(kv, d+"=") {
				keep = false
			}
		}
		if keep {
			out = append(out, kv)
		}
	}
	return out
}

// TestDeployContext: -c userPasswordAuth=true opts the app client into USER_PASSWORD_AUTH (the
// README's CLI sign-in) and -c alarmEmail=... subscribes that address to the alarm topic.
func TestDeployContext(t *testing.T) {
	ctx := *cdkContext(t)
	ctx[chatstack.UserPasswordAuthContext] = "true"
	ctx[chatstack.AlarmEmailContext] = "oncall@example.com"
	app := awscdk.NewApp(&awscdk.AppProps{Context: &ctx})
	stack := chatstack.New(app, "Deploy", nil)
	raw, err := json.Marshal(assertions.Template_FromStack(stack.Stack, nil).ToJSON())
	if err != nil {
		t.Fatal(err)
	}
	tpl := string(raw)
	if !strings.Contains(tpl, `"ALLOW_USER_PASSWORD_AUTH"`) {
		t.Error("userPasswordAuth=true did not allow USER_PASSWORD_AUTH")
	}
	if !strings.Contains(tpl, `"Endpoint":"oncall@example.com","Protocol":"email"`) {
		t.Error("alarmEmail did not subscribe the address to the alarm topic")
	}
	if golden, _ := os.ReadFile(golden); strings.Contains(string(golden), "ALLOW_USER_PASSWORD_AUTH") || strings.Contains(string(golden), `"Protocol": "email"`) {
		t.Error("the reference stack allows USER_PASSWORD_AUTH or subscribes an email without the context")
	}
}

// domainContext is a context that gives the reference stack a custom domain with its zone.
func domainContext(t *testing.T) *map[string]any {
	ctx := *cdkContext(t)
	ctx[chatstack.DomainNameContext] = "chat.example.com"
	ctx[chatstack.CertificateArnContext] = "arn:aws:acm:eu-west-1:123456789012:certificate/11111111-2222-3333-4444-555555555555"
	ctx[chatstack.HostedZoneIDContext] = "Z0123456789ABC"
	ctx[chatstack.HostedZoneNameContext] = "example.com"
	return &ctx
}

// TestDomainContext: -c domainName=... -c certificateArn=... [-c hostedZoneId=...
// -c hostedZoneName=...] put the chat on a custom domain, with its alias record; the
// WebSocketUrl output is on the domain and the CallbackUrl output stays on execute-api.
func TestDomainContext(t *testing.T) {
	app := awscdk.NewApp(&awscdk.AppProps{Context: domainContext(t)})
	stack := chatstack.New(app, "Domain", nil)
	raw, err := json.Marshal(assertions.Template_FromStack(stack.Stack, nil).ToJSON())
	if err != nil {
		t.Fatal(err)
	}
	tpl := string(raw)
	for _, want := range []string{`"Type":"AWS::ApiGatewayV2::DomainName"`, `"Type":"AWS::ApiGatewayV2::ApiMapping"`, `"Type":"AWS::Route53::RecordSet"`,
		`"WebSocketUrl":{"Description":"Where clients connect: wss://...?token=\u003cjwt\u003e","Value":"wss://chat.example.com"}`} {
		if !strings.Contains(tpl, want) {
			t.Errorf("the domain context's template lacks %s", want)
		}
	}
	if golden, _ := os.ReadFile(golden); strings.Contains(string(golden), "AWS::ApiGatewayV2::DomainName") {
		t.Error("the reference stack has a custom domain without the context")
	}
	bad := *cdkContext(t)
	bad[chatstack.DomainNameContext] = "chat.example.com"
	func() {
		defer func() {
			if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "needs certificateArn") {
				t.Errorf("domainName without certificateArn: %v", r)
			}
		}()
		chatstack.New(awscdk.NewApp(&awscdk.AppProps{Context: &bad}), "Bad", nil)
	}()
}

// provisionedGolden is the reference stack with provisioned concurrency on the chat function
// and the authorizer (their live aliases invoked by API Gateway): the emulator's assembly tests
// load it to check that an alias ARN resolves to the function behind it.
const provisionedGolden = "testdata/provisioned-stack.template.json"

// TestProvisionedSnapshot pins that variant. After an intended change:
// go test ./app -run 'TestSnapshot|TestProvisionedSnapshot' -update
func TestProvisionedSnapshot(t *testing.T) {
	app := awscdk.NewApp(&awscdk.AppProps{Context: cdkContext(t), AnalyticsReporting: jsii.Bool(false)})
	stack := chatstack.New(app, "WebSocketChatApi", &chatstack.Props{Chat: &chatapi.WebSocketChatApiProps{
		Concurrency: &map[string]*chatapi.FunctionConcurrencyProps{
			"chat":       {Reserved: jsii.Number(20), Provisioned: jsii.Number(2)},
			"authorizer": {Provisioned: jsii.Number(1)},
		},
	}})
	got := normalize(t, assertions.Template_FromStack(stack.Stack, nil).ToJSON())
	if *update {
		if err := os.WriteFile(provisionedGolden, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(provisionedGolden)
	if err != nil {
		t.Fatalf("%v (create it with: go test ./app -run TestProvisionedSnapshot -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("the provisioned variant's template changed; if intended, run: go test ./app -run TestProvisionedSnapshot -update\n%s", firstDiff(want, got))
	}
}
