package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chatstack/websocketchatapi/integ/internal/local"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// TestBannerLayout pins the banner's layout (testdata/banner.golden; -update rewrites it after
// an intended change).
func TestBannerLayout(t *testing.T) {
	b := banner{
		Stack: "UserChat", Stage: "live", Startup: 4920 * time.Millisecond,
		URL: "ws://127.0.0.1:4000/live", Callback: "http://127.0.0.1:4000/live", DynamoDB: "http://127.0.0.1:4001",
		Issuer: "https://issuer.example", JWKS: "http://127.0.0.1:4002/.well-known/jwks.json",
		TokenURL: "http://127.0.0.1:4003/token", TokenTTL: time.Hour,
		Notes:     []string{"AWS::ApiGatewayV2::DomainName ChatDomain chat.example.com: no custom domains locally"},
		Tokens:    []userToken{{User: "alice", URL: "ws://127.0.0.1:4000/live?token=A"}},
		APIKeys:   []local.APIKey{{LogicalID: "ChatKey", Value: "k1", Plans: []string{"free"}}},
		Selection: "$request.body.type",
		Routes: []routeLine{
			{Key: "$connect", About: "the handshake (the tokens above)"},
			{Key: "joinroom", Example: `{"type":"joinroom","roomId":"general"}`},
			{Key: "typing", Example: `{"type":"typing","roomId":"general","state":"started"}`},
		},
	}
	compareGolden(t, "banner.golden", b.String())
	b.Selection, b.GoClient = actionSelection, true
	if s := b.String(); !strings.Contains(s, clientCommand+" -url ws://127.0.0.1:4000/live -token-url http://127.0.0.1:4003/token -user alice") {
		t.Errorf("with %s the banner lacks the Go client's command:\n%s", actionSelection, s)
	}
}

// TestUsageListsOverrides checks that -h documents every environment variable that changes
// what the runner uses.
func TestUsageListsOverrides(t *testing.T) {
	var buf bytes.Buffer
	flag.CommandLine.SetOutput(&buf)
	defer flag.CommandLine.SetOutput(os.Stderr)
	usage()
	for _, v := range []string{"DYNAMODB_LOCAL_JAR", "DYNAMODB_LOCAL_JAVA_OPTS", "JAVA_HOME", "XDG_CACHE_HOME",
		"WEBSOCKETCHATAPI_BUNDLE_CACHE", "WEBSOCKETCHATAPI_SOURCE_DIR", "qemu-user-static"} {
		if !strings.Contains(buf.String(), v) {
			t.Errorf("usage lacks %s:\n%s", v, buf.String())
		}
	}
}

// compareGolden compares got with testdata/name, or rewrites it with -update.
func compareGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to write it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (-update rewrites it); got:\n%s", path, got)
	}
}
