package lambdas_test

import (
	"encoding/json"
	"maps"
	"slices"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/jsii-runtime-go"

	"github.com/chatstack/websocketchatapi/constructs/chatapi"
	"github.com/chatstack/websocketchatapi/internal/contract"
	"github.com/chatstack/websocketchatapi/lambdas/internal/auth"
	"github.com/chatstack/websocketchatapi/lambdas/internal/wsevent"
)

// operatorOnly are the variables a handler reads that the construct never sets: overrides for
// whoever operates the functions.
var operatorOnly = []string{contract.EnvLogLevel}

// handler is one function of the construct and the loader of its handler's configuration.
type handler struct {
	fn   func(chatapi.WebSocketChatApi) awslambda.Function
	load func(getenv func(string) string) error
}

// loader drops the configuration a loader returns: the test needs only what it reads.
func loader[C any](load func(func(string) string) (C, error)) func(func(string) string) error {
	return func(getenv func(string) string) error {
		_, err := load(getenv)
		return err
	}
}

// handlers are the construct's functions by accessor name, each with its handler's loader.
var handlers = map[string]handler{
	"ConnectFunction":    {chatapi.WebSocketChatApi.ConnectFunction, loader(wsevent.LoadConnectConfig)},
	"DisconnectFunction": {chatapi.WebSocketChatApi.DisconnectFunction, loader(wsevent.LoadDisconnectConfig)},
	"ChatFunction":       {chatapi.WebSocketChatApi.ChatFunction, loader(wsevent.LoadChatConfig)},
	"PublishFunction":    {chatapi.WebSocketChatApi.PublishFunction, loader(wsevent.LoadPublishConfig)},
	"DefaultFunction":    {chatapi.WebSocketChatApi.DefaultFunction, loader(wsevent.LoadDefaultConfig)},
	"AuthorizerFunction": {chatapi.WebSocketChatApi.AuthorizerFunction, loader(auth.ConfigFromEnv)},
}

// TestConstructSetsWhatHandlersRead synthesizes the construct and checks, for every function,
// that the environment the template gives it is exactly what its handler's configuration
// loader reads: no variable the handler ignores, none it reads left out, but the operator's
// overrides (operatorOnly) and, per run, the optional variables those props leave unset.
// Every variable a loader reads but the operator's is set by one run or the other.
//
// It is the package's one user of the jsii runtime, whose process it ends (no t.Parallel).
func TestConstructSetsWhatHandlersRead(t *testing.T) {
	// aws-cdk-lib's template validator costs seconds per synth; app/ keeps one synth of the
	// reference stack with it on.
	t.Setenv("CDK_VALIDATION", "false")
	t.Cleanup(jsii.Close)
	runs := []struct {
		name  string
		props *chatapi.WebSocketChatApiProps
		// unset are the optional variables, by function, that the run's props leave unset.
		unset map[string][]string
	}{{
		name:  "nil props",
		props: nil,
		unset: map[string][]string{
			"ConnectFunction":    {contract.EnvAllowedOrigins},                           // any origin
			"AuthorizerFunction": {contract.EnvAuthJWKSURL, contract.EnvAuthAPIKeyClaim}, // Cognito's issuer has the default JWKS URL; no API keys
		},
	}, {
		name: "every optional variable",
		props: &chatapi.WebSocketChatApiProps{
			AllowedOrigins: jsii.Strings("https://chat.example.com"),
			Authentication: chatapi.OidcAuthentication(&chatapi.OidcAuthenticationProps{
				IssuerUrl: jsii.String("https://login.example.com"),
				Audiences: jsii.Strings("web"),
				JwksUrl:   jsii.String("https://login.example.com/jwks.json"),
			}),
			ApiKeys: &chatapi.ApiKeysProps{
				Source: chatapi.ApiKeySourceAuthorizer, KeyClaim: jsii.String("custom:api_key"),
				Plans: &map[string]*chatapi.UsagePlanOptions{"free": {}},
			},
		},
		unset: map[string][]string{
			// An OIDC issuer has no token_use claim to restrict; the nil-props run (Cognito) sets it.
			"AuthorizerFunction": {contract.EnvAuthTokenUse},
		},
	}}
	setOnce := map[string]map[string]bool{} // function -> variables some run set
	for _, run := range runs {
		t.Run(run.name, func(t *testing.T) {
			envs := synthEnvironments(t, run.props)
			for name, h := range handlers {
				set, ok := envs[name]
				if !ok {
					t.Fatalf("%s: not in the template", name)
				}
				t.Logf("%s sets %v", name, sortedKeys(set))
				read := readKeys(t, name, h, set)
				allowed := append(slices.Clone(operatorOnly), run.unset[name]...)
				for _, k := range sortedKeys(set) {
					if !read[k] {
						t.Errorf("%s: the construct sets %s, which the handler never reads", name, k)
					}
					if setOnce[name] == nil {
						setOnce[name] = map[string]bool{}
					}
					setOnce[name][k] = true
				}
				for _, k := range sortedKeys(read) {
					if _, ok := set[k]; !ok && !slices.Contains(allowed, k) {
						t.Errorf("%s: the handler reads %s, which the construct does not set", name, k)
					}
				}
			}
		})
	}
	if t.Failed() {
		return
	}
	for name, h := range handlers {
		for _, k := range sortedKeys(readKeys(t, name, h, nil)) {
			if !setOnce[name][k] && !slices.Contains(operatorOnly, k) {
				t.Errorf("%s: the handler reads %s, which no run of the construct sets", name, k)
			}
		}
	}
}

// readKeys calls h's loader with a getenv over env that records the variables it reads, and
// checks that the loader accepts env when it is a template's (not nil).
func readKeys(t *testing.T, name string, h handler, env map[string]any) map[string]bool {
	t.Helper()
	read := map[string]bool{}
	err := h.load(func(key string) string {
		read[key] = true
		return plausible(key, env[key])
	})
	if err != nil && env != nil {
		t.Errorf("%s: the handler refuses the construct's environment: %v", name, err)
	}
	return read
}

// plausible returns the value a function gets for key when the template gives v: v itself
// when it is a string; for a CloudFormation token ({"Ref": ...}, {"Fn::Join": ...}), a value
// of the kind it resolves to at deploy time.
func plausible(key string, v any) string {
	if s, ok := v.(string); ok || v == nil {
		return s
	}
	switch key {
	case contract.EnvCallbackURL:
		return "https://abc123.execute-api.us-east-1.amazonaws.com/prod"
	case contract.EnvAuthIssuer:
		return "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbCdEf"
	}
	return "resolved-" + key
}

// synthEnvironments synthesizes the construct with props in a stack of its own and returns
// each function's Environment.Variables, keyed by the accessor of the function. The app has
// none of cdk.json's feature flags: the construct sets its functions' variables whatever they
// are.
func synthEnvironments(t *testing.T, props *chatapi.WebSocketChatApiProps) map[string]map[string]any {
	t.Helper()
	app := awscdk.NewApp(&awscdk.AppProps{AnalyticsReporting: jsii.Bool(false)})
	stack := awscdk.NewStack(app, jsii.String("EnvTest"), nil)
	chat := chatapi.NewWebSocketChatApi(stack, jsii.String("Chat"), props)
	raw, err := json.Marshal(assertions.Template_FromStack(stack, nil).ToJSON())
	if err != nil {
		t.Fatal(err)
	}
	var tpl struct {
		Resources map[string]struct {
			Properties struct {
				Environment struct {
					Variables map[string]any
				}
			}
		}
	}
	if err := json.Unmarshal(raw, &tpl); err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]any{}
	for name, h := range handlers {
		fn := h.fn(chat)
		if fn == nil {
			continue
		}
		id := *stack.GetLogicalId(fn.Node().DefaultChild().(awscdk.CfnElement))
		r, ok := tpl.Resources[id]
		if !ok {
			t.Fatalf("%s: no resource %s in the template", name, id)
		}
		out[name] = r.Properties.Environment.Variables
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
