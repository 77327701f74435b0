// Command routesapp synthesizes the reference chat with its chat function behind ROUTES routes
// in all (the 7 built-in routes included; the added ones one-way: a route response is one more
// resource per route, and 300 two-way routes would pass CloudFormation's 500), for bench/synth.
package main

import (
	"fmt"
	"os"
	"strconv"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/chatstack/websocketchatapi/app/chatstack"
	"github.com/chatstack/websocketchatapi/constructs/chatapi"
)

func main() {
	defer jsii.Close()
	n, err := strconv.Atoi(os.Getenv("ROUTES"))
	if err != nil || n < 7 || n > chatapi.MaxRoutes {
		fmt.Fprintln(os.Stderr, "routesapp: set ROUTES to a number from 7 to 300")
		os.Exit(2)
	}
	app := awscdk.NewApp(nil)
	s := chatstack.New(app, "Routes", nil)
	for i := len(*s.Chat.RouteKeys()); i < n; i++ {
		s.Chat.AddRoute(jsii.String(fmt.Sprintf("action%03d", i)), &chatapi.AddRouteOptions{Handler: s.Chat.ChatFunction()})
	}
	app.Synth(nil)
}
