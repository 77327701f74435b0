package chatapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/jsii-runtime-go"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/chatstack/websocketchatapi/internal/contract"
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
	// handlers. The function gets the table's name and the stage's callback URL in its
	// environment (TABLE_NAME, CALLBACK_URL) and may post to this stage's connections.
	GoPackage *string
	// MemorySize of the function built from GoPackage, in MB. Default: 128.
	MemorySize *float64
	// Environment adds variables to the function built from GoPackage.
	Environment *map[string]*string
	// ReturnResponse sends the function's returned body back to the client (a $default route
	// response). Default: false (one-way route). A route response is one more resource,
	// which counts against CloudFormation's 500 resources per stack.
	ReturnResponse *bool
	// RequestSchema is a JSON Schema (draft-04) that API Gateway checks message bodies of
	// this route against before calling the function ("Bad request body" otherwise).
	// Default: no validation.
	RequestSchema *string
	// Authorizer is not allowed: WebSocket APIs authorize on $connect only, and the construct
	// owns $connect. It is here so that a mistaken attempt fails at synth with that reason.
	Authorizer awsapigatewayv2.IWebSocketRouteAuthorizer
}

func (c *webSocketChatApi) AddRoute(routeKey *string, options *AddRouteOptions) awsapigatewayv2.WebSocketRoute {
	if routeKey == nil {
		c.v.fail("AddRoute", "route key is required")
	}
	key := *routeKey
	_, exists := c.routes[key]
	c.v.routeKey(key, len(c.routes), exists)
	c.v.routeOptions(key, options)
	var schema map[string]any
	if options.RequestSchema != nil {
		schema = c.v.requestSchema(key, *options.RequestSchema)
	}
	fn := options.Handler
	if options.GoPackage != nil {
		fn = c.newRouteFunction(key, options)
	}
	route := c.addRoute(key, c.integrationFor(fn, key+"Integration"), options.ReturnResponse != nil && *options.ReturnResponse, schema)
	c.updateDefaultEnvironment()
	return route
}

// routeOptions checks AddRoute's options.
func (v validator) routeOptions(key string, options *AddRouteOptions) {
	switch {
	case options == nil:
		v.fail("AddRoute", "route %q: options with Handler or GoPackage are required", key)
	case options.Authorizer != nil:
		v.fail("AddRoute.Authorizer", "route %q: WebSocket APIs run authorizers on $connect only; authenticated identity reaches every route as requestContext.authorizer", key)
	case (options.Handler == nil) == (options.GoPackage == nil):
		v.fail("AddRoute", "route %q: exactly one of Handler and GoPackage is required", key)
	}
}

// newRouteFunction builds the function of a route served by a Go package folder.
func (c *webSocketChatApi) newRouteFunction(key string, options *AddRouteOptions) awslambda.Function {
	mem := float64(DefaultHandlerMemorySize)
	if options.MemorySize != nil {
		mem = c.v.memory("AddRoute.MemorySize", *options.MemorySize)
	}
	env := map[string]string{
		contract.EnvTableName:   *c.table.TableName(),
		contract.EnvCallbackURL: *c.stage.CallbackUrl(),
	}
	if options.Environment != nil {
		for k, v := range *options.Environment {
			env[k] = *v
		}
	}
	fn := c.newFunction(routeFunctionID(key), "Serves the "+key+" route", c.bundler.goPackage(*options.GoPackage), mem, fanoutTimeout, env)
	c.grantPost(fn)
	return fn
}

// plainRouteKey is a route key whose function id is "Route" + the key capitalized +
// "Function", the id AddRoute has always given it.
var plainRouteKey = regexp.MustCompile(`^[a-z][A-Za-z0-9]*$`)

// routeFunctionID is the construct id of the function AddRoute builds for a route key, one
// per key: a key of a lowercase letter and letters and digits keeps its readable id
// ("echo" → "RouteEchoFunction"); any other key ("a-b", "Ab", "_") gets "Route_" + its
// model name (letters and digits plus a hash of the whole key) + "Function", which no plain
// key's id can equal (those have no "_").
func routeFunctionID(key string) string {
	if plainRouteKey.MatchString(key) {
		return "Route" + strings.ToUpper(key[:1]) + key[1:] + "Function"
	}
	return "Route_" + modelName(key) + "Function"
}

// addRoute adds a route to the API through integration i, with a $default route response
// when reply is set and a request model when schema is not nil.
func (c *webSocketChatApi) addRoute(key string, i *lambdaIntegration, reply bool, schema map[string]any) awsapigatewayv2.WebSocketRoute {
	route := c.api.AddRoute(jsii.String(key), &awsapigatewayv2.WebSocketRouteOptions{
		Integration:    i,
		ReturnResponse: jsii.Bool(reply),
	})
	c.routes[key] = route
	c.stageNeedsRoute(key, route)
	c.suppressRouteAuthorization(route.Node().DefaultChild().(awscdk.CfnResource))
	if schema != nil {
		c.addModel(route, key, schema)
	}
	return route
}

// addModel makes route validate its bodies against schema, a draft-04 request model.
func (c *webSocketChatApi) addModel(route awsapigatewayv2.WebSocketRoute, key string, schema map[string]any) {
	model := awsapigatewayv2.NewCfnModel(c.api, jsii.String("Model-"+key), &awsapigatewayv2.CfnModelProps{
		ApiId:       c.api.ApiId(),
		Name:        jsii.String(modelName(key)),
		ContentType: jsii.String("application/json"),
		Schema:      schema,
		Description: jsii.String("Body of the " + key + " message (JSON Schema draft-04)"),
	})
	cfn := route.Node().DefaultChild().(awsapigatewayv2.CfnRoute)
	// The model selection expression evaluates to the route key; "$default" is the
	// fallback every request of this route matches.
	cfn.SetModelSelectionExpression(jsii.String(c.cfg.routeSelection))
	cfn.SetRequestModels(map[string]any{"$default": modelName(key)})
	cfn.AddResourceDependency(model, jsii.String("RequestModels names the model"))
}

// modelName turns a route key into a model name (API Gateway allows only letters and digits),
// with a short hash so that keys differing only in punctuation or case do not collide.
func modelName(key string) string {
	var b strings.Builder
	for _, r := range key {
		if (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		}
	}
	var h uint32 = 2166136261 // FNV-1a
	for i := 0; i < len(key); i++ {
		h ^= uint32(key[i])
		h *= 16777619
	}
	return fmt.Sprintf("%s%08x", b.String(), h)
}

// requestSchema checks that a route's request schema is a JSON object that compiles as JSON
// Schema draft-04, the dialect of API Gateway models.
func (v validator) requestSchema(key, raw string) map[string]any {
	const prop = "AddRoute.RequestSchema"
	var doc map[string]any
	if err := json.Unmarshal([]byte(raw), &doc); err != nil {
		v.fail(prop, "route %q: not a JSON object: %v", key, err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader([]byte(raw)))
	if err != nil {
		v.fail(prop, "route %q: %v", key, err)
	}
	comp := jsonschema.NewCompiler()
	comp.DefaultDraft(jsonschema.Draft4)
	if err := comp.AddResource("mem:///route.json", inst); err != nil {
		v.fail(prop, "route %q: %v", key, err)
	}
	if _, err := comp.Compile("mem:///route.json"); err != nil {
		v.fail(prop, "route %q: not a valid JSON Schema draft-04: %v", key, err)
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

// updateDefaultEnvironment tells the $default function which actions exist, so its error
// frame can list them. AddRoute calls it again.
func (c *webSocketChatApi) updateDefaultEnvironment() {
	c.fns[handlerDefault].AddEnvironment(jsii.String(contract.EnvChatActions), jsii.String(strings.Join(c.clientRouteKeys(), ",")), nil)
}

// clientRouteKeys are the route keys a client may send: all but $connect, $disconnect and
// $default, sorted.
func (c *webSocketChatApi) clientRouteKeys() []string {
	var keys []string
	for _, k := range sortedKeys(c.routes) {
		if !isBuiltInRoute(k) {
			keys = append(keys, k)
		}
	}
	return keys
}
