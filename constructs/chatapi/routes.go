package chatapi

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/chatstack/websocketchatapi/protocol"
)

// AddRouteOptions configures a route added with AddRoute. Exactly one of Handler and
// GoPackage is required.
type AddRouteOptions struct {
	// Handler is an existing function that serves the route. It gets one invoke permission
	// for all the routes it serves.
	Handler awslambda.IFunction
	// GoPackage is the folder of a Go main package (relative to the working directory of
	// the synth, or absolute) that the construct builds for provided.al2023 like its own
	// handlers. The function gets TABLE_NAME and CALLBACK_URL in its environment and may post
	// to this stage's connections.
	GoPackage *string
	// MemorySize of the function built from GoPackage, in MB. Default: 128.
	MemorySize *float64
	// Environment adds variables to the function built from GoPackage.
	Environment *map[string]*string
	// ReturnResponse sends the function's returned body back to the client (a $default route
	// response). Default: false (one-way route). A route response is one more resource: with
	// CloudFormation's 500-resource limit, about 210 two-way routes fit in one stack.
	ReturnResponse *bool
	// RequestSchema is a JSON Schema (draft-04) that API Gateway checks message bodies of
	// this route against before calling the function ("Bad request body" otherwise).
	// Default: no validation.
	RequestSchema *string
	// Authorizer is not allowed: WebSocket APIs authorize on $connect only, and the construct
	// owns $connect. It is here so that a mistaken attempt fails at synth with that reason.
	Authorizer awsapigatewayv2.IWebSocketRouteAuthorizer
}

var idUnsafe = regexp.MustCompile(`[^A-Za-z0-9]`)

func (c *webSocketChatApi) AddRoute(routeKey *string, options *AddRouteOptions) awsapigatewayv2.WebSocketRoute {
	if routeKey == nil {
		invalid("AddRoute", "route key is required")
	}
	key := *routeKey
	checkRouteKey(key, c.routes)
	if options == nil {
		invalid("AddRoute", "route %q: options with Handler or GoPackage are required", key)
	}
	if options.Authorizer != nil {
		invalid("AddRoute.Authorizer", "route %q: WebSocket APIs run authorizers on $connect only; authenticated identity reaches every route as requestContext.authorizer", key)
	}
	if (options.Handler == nil) == (options.GoPackage == nil) {
		invalid("AddRoute", "route %q: exactly one of Handler and GoPackage is required", key)
	}
	var schema map[string]any
	if options.RequestSchema != nil {
		schema = parseSchema(key, *options.RequestSchema)
	}
	fn := options.Handler
	if options.GoPackage != nil {
		mem := float64(DefaultHandlerMemorySize)
		if options.MemorySize != nil {
			mem = memory("AddRoute.MemorySize", *options.MemorySize)
		}
		env := map[string]string{
			"TABLE_NAME":   *c.table.TableName(),
			"CALLBACK_URL": *c.stage.CallbackUrl(),
		}
		if options.Environment != nil {
			for k, v := range *options.Environment {
				env[k] = *v
			}
		}
		id := "Route" + strings.ToUpper(idUnsafe.ReplaceAllString(key, "")[:1]) + idUnsafe.ReplaceAllString(key, "")[1:] + "Function"
		f := c.newFunction(id, "Serves the "+key+" route", c.bundler.goPackage(*options.GoPackage), mem, 28, env)
		c.grantPost(f)
		fn = f
	}
	route := c.addRoute(key, c.integrationFor(fn, key+"Integration"), options.ReturnResponse != nil && *options.ReturnResponse, schema)
	c.updateDefaultEnvironment()
	return route
}

// parseSchema checks that a route's request schema is a JSON object that compiles as JSON
// Schema draft-04, the dialect of API Gateway models.
func parseSchema(key, raw string) map[string]any {
	var doc map[string]any
	if err := json.Unmarshal([]byte(raw), &doc); err != nil {
		invalid("AddRoute.RequestSchema", "route %q: not a JSON object: %v", key, err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader([]byte(raw)))
	if err != nil {
		invalid("AddRoute.RequestSchema", "route %q: %v", key, err)
	}
	comp := jsonschema.NewCompiler()
	comp.DefaultDraft(jsonschema.Draft4)
	if err := comp.AddResource("mem:///route.json", inst); err == nil {
		_, err = comp.Compile("mem:///route.json")
		if err != nil {
			invalid("AddRoute.RequestSchema", "route %q: not a valid JSON Schema draft-04: %v", key, err)
		}
	}
	return doc
}

// schemaOf returns the request model of a built-in chat action.
func schemaOf(action string) map[string]any {
	raw, err := protocol.Schema(action)
	if err != nil {
		panic("chatapi: " + err.Error())
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		panic("chatapi: schema of " + action + ": " + err.Error())
	}
	return doc
}
