package assembly

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/chatstack/websocketchatapi/protocol/selection"
)

// Mock is what a MOCK integration does, read from its templates when the template is loaded.
// The emulator understands static templates only: text that API Gateway's Velocity engine
// renders as it is (no $reference, no #directive, no \ escape of either). A request template
// must be a JSON object with an integer statusCode; a response template is sent as it is. Any
// other template is refused when the stack is loaded, with the resource's logical id.
//
// The answer to a message, as API Gateway computes it:
//   - the integration's template selection expression picks a request template by key
//     (unset, it picks "$default"); a key without a template falls back to the "$default"
//     template, and with neither the integration fails as AWS's does ("statusCode should be
//     an integer which defined in request template");
//   - the statusCode the template yields picks the integration response whose key, a regular
//     expression written /re/, matches the whole status code; none matching, the "$default"
//     response; with neither the integration fails ("No match for output mapping and no
//     default output mapping configured");
//   - that response's template selection expression picks its template the same way; a
//     response without a matching template answers an empty body.
type Mock struct {
	// LogicalID is the integration's logical id.
	LogicalID string
	// Selection picks the request template.
	Selection TemplateSelection
	// StatusCodes maps request template keys to the statusCode each yields.
	StatusCodes map[string]int
	// Responses are the integration responses, in the order their keys are tried: regular
	// expressions sorted by key, then $default.
	Responses []*MockResponse
}

// MockResponse is an integration response of a MOCK integration.
type MockResponse struct {
	// LogicalID is the integration response's logical id.
	LogicalID string
	// Key is the IntegrationResponseKey: $default or /re/.
	Key string
	// Selection picks the response template.
	Selection TemplateSelection
	// Templates maps template keys to static bodies.
	Templates map[string]string
	pattern   *regexp.Regexp // nil for $default
}

// TemplateSelection is a template selection expression: a static key ("\$default" is
// "$default") or one that reads the message body (${request.body.x}).
type TemplateSelection struct {
	static string
	expr   *selection.Expression
}

// MockAnswer is what a MOCK integration answers a message.
type MockAnswer struct {
	// StatusCode is the statusCode of the request template.
	StatusCode int
	// Response is the integration response chosen by StatusCode.
	Response *MockResponse
	// Body is the rendered response template ("" when none matches).
	Body string
}

// Answer computes what the integration answers body. Its error is API Gateway's
// configuration error, as the execution log words it.
func (m *Mock) Answer(body []byte) (MockAnswer, error) {
	status, ok := m.StatusCodes[m.Selection.key(body)]
	if !ok {
		status, ok = m.StatusCodes["$default"]
	}
	if !ok {
		return MockAnswer{}, fmt.Errorf("%s: Execution failed due to configuration error: statusCode should be an integer which defined in request template", m.LogicalID)
	}
	code := fmt.Sprint(status)
	for _, r := range m.Responses {
		if r.pattern != nil && !r.pattern.MatchString(code) {
			continue
		}
		out, ok := r.Templates[r.Selection.key(body)]
		if !ok {
			out = r.Templates["$default"]
		}
		return MockAnswer{StatusCode: status, Response: r, Body: out}, nil
	}
	return MockAnswer{}, fmt.Errorf("%s: Execution failed due to configuration error: No match for output mapping and no default output mapping configured. Endpoint Response Status Code: %d", m.LogicalID, status)
}

// key evaluates the selection for body; a body the expression cannot read selects "".
func (s TemplateSelection) key(body []byte) string {
	if s.expr == nil {
		return s.static
	}
	k, _ := s.expr.Evaluate(body)
	return k
}

// String returns the expression as written, or the key it always selects.
func (s TemplateSelection) String() string {
	if s.expr != nil {
		return s.expr.String()
	}
	return s.static
}

// vtlMarkup matches what Velocity would not render as plain text: a reference ($name, ${,
// $!), a directive or comment (#name, #{, ##, #*, #@), or a \ escaping either.
var vtlMarkup = regexp.MustCompile(`\$!?[A-Za-z_{]|#[A-Za-z_{#*@]|\\[$#]`)

// staticTemplate refuses a template that holds Velocity markup.
func staticTemplate(where, tpl string) error {
	if loc := vtlMarkup.FindStringIndex(tpl); loc != nil {
		end := min(len(tpl), loc[1]+12)
		return fmt.Errorf("%s: Velocity markup %q at offset %d is not supported by the emulator: only static templates (no $reference, #directive or \\ escape) are understood", where, tpl[loc[0]:end], loc[0])
	}
	return nil
}

// parseTemplateSelection reads a template selection expression: unset selects "$default".
func parseTemplateSelection(where, raw string) (TemplateSelection, error) {
	if raw == "" {
		return TemplateSelection{static: "$default"}, nil
	}
	if !strings.Contains(strings.ReplaceAll(raw, `\$`, ""), "$") {
		return TemplateSelection{static: strings.ReplaceAll(raw, `\$`, "$")}, nil
	}
	e, err := selection.Parse(raw)
	if err != nil {
		return TemplateSelection{}, fmt.Errorf("%s: TemplateSelectionExpression %q is not supported by the emulator (a static key or ${request.body.<field>} only): %w", where, raw, err)
	}
	return TemplateSelection{expr: e}, nil
}

// buildMocks reads every MOCK integration of api, once its integration responses are attached.
func buildMocks(api *WebSocketAPI) error {
	for _, id := range sortedKeys(api.Integrations) {
		in := api.Integrations[id]
		if in.Type != "MOCK" {
			continue
		}
		m, err := buildMock(in)
		if err != nil {
			return err
		}
		in.Mock = m
	}
	return nil
}

// buildMock reads a MOCK integration's templates and integration responses, refusing what
// the emulator does not understand.
func buildMock(in *Integration) (*Mock, error) {
	where := in.LogicalID + " (AWS::ApiGatewayV2::Integration)"
	sel, err := parseTemplateSelection(where, in.TemplateSelectionExpression)
	if err != nil {
		return nil, err
	}
	m := &Mock{LogicalID: in.LogicalID, Selection: sel, StatusCodes: map[string]int{}}
	for key, tpl := range in.RequestTemplates {
		at := fmt.Sprintf("%s: RequestTemplates[%q]", where, key)
		if err := staticTemplate(at, tpl); err != nil {
			return nil, err
		}
		status, err := mockStatusCode(tpl)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", at, err)
		}
		m.StatusCodes[key] = status
	}
	for _, r := range in.Responses {
		mr, err := buildMockResponse(r)
		if err != nil {
			return nil, err
		}
		m.Responses = append(m.Responses, mr)
	}
	sort.SliceStable(m.Responses, func(i, j int) bool {
		a, b := m.Responses[i], m.Responses[j]
		if (a.pattern == nil) != (b.pattern == nil) {
			return a.pattern != nil
		}
		return a.Key < b.Key
	})
	return m, nil
}

// mockStatusCode reads the statusCode of a static request template.
func mockStatusCode(tpl string) (int, error) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal([]byte(tpl), &doc); err != nil {
		return 0, fmt.Errorf("not a JSON object (the emulator understands static JSON templates with a statusCode only): %v", err)
	}
	raw, ok := doc["statusCode"]
	var status int
	if !ok || json.Unmarshal(bytes.TrimSpace(raw), &status) != nil || status < 100 || status > 599 {
		return 0, fmt.Errorf("statusCode should be an integer which defined in request template (got %s)", raw)
	}
	return status, nil
}

// buildMockResponse reads one integration response of a MOCK integration.
func buildMockResponse(r *IntegrationResponse) (*MockResponse, error) {
	where := r.LogicalID + " (AWS::ApiGatewayV2::IntegrationResponse)"
	sel, err := parseTemplateSelection(where, r.TemplateSelectionExpression)
	if err != nil {
		return nil, err
	}
	mr := &MockResponse{LogicalID: r.LogicalID, Key: r.Key, Selection: sel, Templates: map[string]string{}}
	switch {
	case r.Key == "$default":
	case len(r.Key) >= 2 && strings.HasPrefix(r.Key, "/") && strings.HasSuffix(r.Key, "/"):
		re, err := regexp.Compile(`^(?:` + r.Key[1:len(r.Key)-1] + `)$`)
		if err != nil {
			return nil, fmt.Errorf("%s: IntegrationResponseKey %q: %w", where, r.Key, err)
		}
		mr.pattern = re
	default:
		return nil, fmt.Errorf("%s: IntegrationResponseKey %q must be $default or a regular expression written /expression/", where, r.Key)
	}
	for key, tpl := range r.ResponseTemplates {
		if err := staticTemplate(fmt.Sprintf("%s: ResponseTemplates[%q]", where, key), tpl); err != nil {
			return nil, err
		}
		mr.Templates[key] = tpl
	}
	return mr, nil
}
