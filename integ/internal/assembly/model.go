package assembly

import (
	"encoding/json"
	"iter"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"
)

// Stack is one CloudFormation stack of the assembly, resolved against local values.
type Stack struct {
	// Name is the stack name (AWS::StackName).
	Name string
	// ArtifactID is the stack's artifact id in manifest.json ("" for LoadTemplate).
	ArtifactID string
	// TemplateFile is the path of the template that was read.
	TemplateFile string
	// Env holds the region, account and partition the values were resolved in.
	Env Env
	// Resources lists every created resource (Condition true) as written, by logical id.
	Resources map[string]*Resource
	// APIs lists the WebSocket APIs, by logical id order.
	APIs []*WebSocketAPI
	// Functions holds the Lambda functions by logical id.
	Functions map[string]*Function
	// Permissions lists the Lambda permissions (resource policy statements), by logical id order.
	Permissions []*Permission
	// Tables holds the DynamoDB tables by logical id.
	Tables map[string]*Table
	// Roles holds the IAM roles by logical id.
	Roles map[string]*Role
	// Queues holds the SQS queues by logical id.
	Queues map[string]*Queue
	// EventSourceMappings lists the Lambda event source mappings of SQS queues, by logical id
	// order.
	EventSourceMappings []*EventSourceMapping
	// Outputs holds the resolved stack outputs by name.
	Outputs map[string]Output
	// APIKeys holds the API keys (AWS::ApiGateway::ApiKey) by logical id.
	APIKeys map[string]*APIKey
	// UsagePlans lists the usage plans (AWS::ApiGateway::UsagePlan), by logical id order.
	UsagePlans []*UsagePlan
	// Assets lists the file assets published for this stack (empty for LoadTemplate).
	Assets []*Asset
	// Resolver resolves further template values with the same local names.
	Resolver *Resolver
}

// Output is one resolved stack output.
type Output struct {
	// Value is the output's value.
	Value string
	// Description is the output's description.
	Description string
	// ExportName is the export name ("" if not exported).
	ExportName string
}

// WebSocketAPI is an AWS::ApiGatewayV2::Api with ProtocolType WEBSOCKET and what belongs to it.
type WebSocketAPI struct {
	// LogicalID is the API's logical id.
	LogicalID string
	// ID is the local API id (Ref), e.g. localapi01.
	ID string
	// Name is the API's Name property.
	Name string
	// Description is the API's Description property.
	Description string
	// RouteSelectionExpression chooses the route of each message, e.g. $request.body.action.
	RouteSelectionExpression string
	// APIKeySelectionExpression is the ApiKeySelectionExpression ("" if unset; AWS defaults it to
	// $request.header.x-api-key).
	APIKeySelectionExpression string
	// DisableExecuteAPIEndpoint mirrors DisableExecuteApiEndpoint.
	DisableExecuteAPIEndpoint bool
	// Endpoint is the ApiEndpoint attribute: wss://<id>.execute-api.<region>.<suffix>.
	Endpoint string
	// Stages lists the API's stages by name.
	Stages []*Stage
	// Routes lists the API's routes by route key.
	Routes []*Route
	// Integrations holds the API's integrations by logical id.
	Integrations map[string]*Integration
	// Models holds the API's models by model name.
	Models map[string]*Model
	// Authorizers holds the API's authorizers by logical id.
	Authorizers map[string]*Authorizer
}

// Route returns the route with the given key, or nil.
func (a *WebSocketAPI) Route(key string) *Route {
	return find(slices.Values(a.Routes), func(r *Route) bool { return r.Key == key })
}

// Stage returns the stage with the given name, or nil.
func (a *WebSocketAPI) Stage(name string) *Stage {
	return find(slices.Values(a.Stages), func(s *Stage) bool { return s.Name == name })
}

// Stage is an AWS::ApiGatewayV2::Stage.
type Stage struct {
	// LogicalID is the stage's logical id.
	LogicalID string
	// Name is the stage name, e.g. prod.
	Name string
	// Description is the stage's description.
	Description string
	// AutoDeploy reports whether every API change is deployed to the stage.
	AutoDeploy bool
	// DefaultRouteSettings apply to every route without its own settings.
	DefaultRouteSettings RouteSettings
	// RouteSettings holds per-route overrides by route key.
	RouteSettings map[string]RouteSettings
	// Variables holds the stage variables.
	Variables map[string]string
	// AccessLogDestination is the access log destination ARN ("" if none).
	AccessLogDestination string
	// AccessLogFormat is the access log format.
	AccessLogFormat string
	// CallbackURL is the @connections base URL of the stage:
	// https://<api id>.execute-api.<region>.<suffix>/<stage>.
	CallbackURL string
	// URL is the URL clients connect to: wss://<api id>.execute-api.<region>.<suffix>/<stage>.
	URL string
}

// RouteSettings are a stage's settings for a route (or its defaults).
type RouteSettings struct {
	// DataTraceEnabled turns on full request/response logging.
	DataTraceEnabled bool
	// DetailedMetricsEnabled turns on per-route metrics.
	DetailedMetricsEnabled bool
	// LoggingLevel is OFF, ERROR or INFO ("" if unset).
	LoggingLevel string
	// ThrottlingBurstLimit is the burst limit (0 if unset).
	ThrottlingBurstLimit int
	// ThrottlingRateLimit is the steady-state requests per second (0 if unset).
	ThrottlingRateLimit float64
}

// Route is an AWS::ApiGatewayV2::Route.
type Route struct {
	// LogicalID is the route's logical id.
	LogicalID string
	// ID is the route's local id.
	ID string
	// Key is the route key: $connect, $disconnect, $default or a custom key.
	Key string
	// Target is the Target property as resolved, e.g. integrations/abc1234 ("" if none).
	Target string
	// Integration is the integration Target points to (nil if none).
	Integration *Integration
	// AuthorizationType is NONE, AWS_IAM or CUSTOM.
	AuthorizationType string
	// Authorizer is the route's authorizer (nil if none).
	Authorizer *Authorizer
	// APIKeyRequired mirrors ApiKeyRequired.
	APIKeyRequired bool
	// ModelSelectionExpression chooses the request model ("" if unset).
	ModelSelectionExpression string
	// RequestModels maps model selection keys (e.g. $default) to models.
	RequestModels map[string]*Model
	// RequestParameters maps parameter expressions (route.request.header.X, ...) to whether
	// they are required.
	RequestParameters map[string]bool
	// RouteResponseSelectionExpression chooses the route response ("" if unset).
	RouteResponseSelectionExpression string
	// OperationName mirrors OperationName.
	OperationName string
	// Responses lists the route's AWS::ApiGatewayV2::RouteResponse resources.
	Responses []*RouteResponse
}

// HasRouteResponse reports whether the route has a route response, that is whether the
// integration's answer is sent back to the client (two-way route).
func (r *Route) HasRouteResponse() bool { return len(r.Responses) > 0 }

// RouteResponse is an AWS::ApiGatewayV2::RouteResponse.
type RouteResponse struct {
	// LogicalID is the route response's logical id.
	LogicalID string
	// Key is the RouteResponseKey; $default is the only key AWS accepts for WebSocket APIs.
	Key string
	// ModelSelectionExpression chooses the response model ("" if unset).
	ModelSelectionExpression string
	// ResponseModels maps selection keys to model names.
	ResponseModels map[string]string
}

// Integration is an AWS::ApiGatewayV2::Integration.
type Integration struct {
	// LogicalID is the integration's logical id.
	LogicalID string
	// ID is the integration's local id (what route targets name).
	ID string
	// Type is AWS_PROXY, AWS, HTTP_PROXY, HTTP or MOCK.
	Type string
	// URI is the resolved IntegrationUri.
	URI string
	// Method is IntegrationMethod ("" if unset).
	Method string
	// FunctionLogicalID is the Lambda function the URI invokes ("" if it invokes none of this
	// stack's functions).
	FunctionLogicalID string
	// Function is that function (nil if none).
	Function *Function
	// Timeout is TimeoutInMillis (29 s when unset, the WebSocket maximum).
	Timeout time.Duration
	// ContentHandlingStrategy is CONVERT_TO_BINARY, CONVERT_TO_TEXT or "".
	ContentHandlingStrategy string
	// PassthroughBehavior mirrors PassthroughBehavior.
	PassthroughBehavior string
	// TemplateSelectionExpression mirrors TemplateSelectionExpression.
	TemplateSelectionExpression string
	// RequestTemplates maps template keys to mapping templates.
	RequestTemplates map[string]string
	// RequestParameters maps integration request parameters to their source expressions.
	RequestParameters map[string]string
	// CredentialsARN is the role API Gateway assumes to call the integration ("" if none).
	CredentialsARN string
	// Responses lists the AWS::ApiGatewayV2::IntegrationResponse resources of the integration.
	Responses []*IntegrationResponse
	// Mock is what a MOCK integration answers (nil for other types); loading refuses a MOCK
	// integration whose templates the emulator does not understand (see Mock).
	Mock *Mock
}

// IntegrationResponse is an AWS::ApiGatewayV2::IntegrationResponse.
type IntegrationResponse struct {
	// LogicalID is the integration response's logical id.
	LogicalID string
	// Key is the IntegrationResponseKey, e.g. $default or /4\d\d/.
	Key string
	// TemplateSelectionExpression mirrors TemplateSelectionExpression.
	TemplateSelectionExpression string
	// ResponseTemplates maps template keys to mapping templates.
	ResponseTemplates map[string]string
	// ContentHandlingStrategy mirrors ContentHandlingStrategy.
	ContentHandlingStrategy string
}

// Model is an AWS::ApiGatewayV2::Model: a JSON Schema (draft-04) for request validation.
type Model struct {
	// LogicalID is the model's logical id.
	LogicalID string
	// ID is the model's local id.
	ID string
	// Name is the model name routes refer to in RequestModels.
	Name string
	// ContentType is the content type, e.g. application/json.
	ContentType string
	// Description is the model's description.
	Description string
	// Schema is the resolved JSON Schema document.
	Schema json.RawMessage
}

// Authorizer is an AWS::ApiGatewayV2::Authorizer.
type Authorizer struct {
	// LogicalID is the authorizer's logical id.
	LogicalID string
	// ID is the authorizer's local id.
	ID string
	// Name is the authorizer's name.
	Name string
	// Type is REQUEST for WebSocket APIs.
	Type string
	// URI is the resolved AuthorizerUri.
	URI string
	// FunctionLogicalID is the Lambda function the URI invokes ("" if none of this stack's).
	FunctionLogicalID string
	// Function is that function (nil if none).
	Function *Function
	// IdentitySource lists the identity sources, e.g. route.request.querystring.token. Empty
	// means the authorizer is invoked on every connect, whatever the request carries.
	IdentitySource []string
	// CredentialsARN is the role API Gateway assumes to invoke the authorizer ("" if none).
	CredentialsARN string
}

// Function is an AWS::Lambda::Function.
type Function struct {
	// LogicalID is the function's logical id.
	LogicalID string
	// Name is the local function name (FunctionName or <StackName>-<LogicalID>).
	Name string
	// ARN is the function's ARN.
	ARN string
	// Description is the function's description.
	Description string
	// Runtime is e.g. provided.al2023.
	Runtime string
	// Architecture is arm64 or x86_64 (the default).
	Architecture string
	// Handler is e.g. bootstrap.
	Handler string
	// MemoryMB is MemorySize (128 when unset).
	MemoryMB int
	// Timeout is the function timeout (3 s when unset).
	Timeout time.Duration
	// Environment holds the resolved environment variables.
	Environment map[string]string
	// Code says where the function's code is.
	Code Code
	// RoleARN is the execution role's ARN.
	RoleARN string
	// RoleLogicalID is the execution role's logical id ("" if the role is not in the stack).
	RoleLogicalID string
	// Role is the execution role (nil if not in the stack).
	Role *Role
	// SessionARN is the assumed-role ARN the function's calls are made as:
	// arn:<partition>:sts::<account>:assumed-role/<role name>/<function name>.
	SessionARN string
	// LogFormat is Text (the default) or JSON.
	LogFormat string
	// LogGroup is the log group name (/aws/lambda/<name> when unset).
	LogGroup string
	// ApplicationLogLevel is the JSON-format application log level ("" if unset).
	ApplicationLogLevel string
	// SystemLogLevel is the JSON-format system log level ("" if unset).
	SystemLogLevel string
	// ReservedConcurrency is ReservedConcurrentExecutions (nil if unset).
	ReservedConcurrency *int
}

// Code is where a Lambda function's code comes from.
type Code struct {
	// S3Bucket is the resolved Code.S3Bucket.
	S3Bucket string
	// S3Key is Code.S3Key, e.g. <asset hash>.zip.
	S3Key string
	// AssetDir is the local folder holding the code (with its bootstrap), when the asset
	// published to S3Key is a directory.
	AssetDir string
	// AssetFile is the local file published to S3Key when the asset is a file (e.g. a .zip).
	AssetFile string
	// ZipFile is inline code ("" if none).
	ZipFile string
	// ImageURI is a container image URI ("" if none).
	ImageURI string
}

// Permission is an AWS::Lambda::Permission: one statement of a function's resource policy.
type Permission struct {
	// LogicalID is the permission's logical id.
	LogicalID string
	// Action is e.g. lambda:InvokeFunction.
	Action string
	// FunctionName is the resolved FunctionName (a name or an ARN).
	FunctionName string
	// FunctionLogicalID is the function it applies to ("" if not in the stack).
	FunctionLogicalID string
	// Principal is e.g. apigateway.amazonaws.com.
	Principal string
	// SourceARN limits the caller's source, with * and ? wildcards ("" if none).
	SourceARN string
	// SourceAccount limits the caller's account ("" if none).
	SourceAccount string
}

// Table is an AWS::DynamoDB::Table.
type Table struct {
	// LogicalID is the table's logical id.
	LogicalID string
	// Name is the local table name (TableName or <StackName>-<LogicalID>).
	Name string
	// ARN is the table's ARN.
	ARN string
	// KeySchema is the primary key: HASH first, then RANGE if any.
	KeySchema []KeyElement
	// Attributes lists the attribute definitions.
	Attributes []AttributeDefinition
	// GlobalIndexes lists the global secondary indexes.
	GlobalIndexes []Index
	// LocalIndexes lists the local secondary indexes.
	LocalIndexes []Index
	// TTLAttribute is the enabled time-to-live attribute ("" if TTL is off).
	TTLAttribute string
	// BillingMode is PAY_PER_REQUEST or PROVISIONED (CloudFormation's default).
	BillingMode string
	// ReadCapacity and WriteCapacity are the provisioned throughput (0 on demand).
	ReadCapacity, WriteCapacity int64
	// StreamViewType is the stream's view type ("" if no stream).
	StreamViewType string
	// PointInTimeRecovery reports whether point-in-time recovery is on.
	PointInTimeRecovery bool
	// DeletionProtection reports whether deletion protection is on.
	DeletionProtection bool
}

// Index returns the global or local secondary index with the given name, or nil.
func (t *Table) Index(name string) *Index {
	for i := range t.GlobalIndexes {
		if t.GlobalIndexes[i].Name == name {
			return &t.GlobalIndexes[i]
		}
	}
	for i := range t.LocalIndexes {
		if t.LocalIndexes[i].Name == name {
			return &t.LocalIndexes[i]
		}
	}
	return nil
}

// KeyElement is one attribute of a key schema.
type KeyElement struct {
	// Name is the attribute name.
	Name string
	// Type is HASH or RANGE.
	Type string
}

// AttributeDefinition declares a key attribute's type.
type AttributeDefinition struct {
	// Name is the attribute name.
	Name string
	// Type is S, N or B.
	Type string
}

// Index is a secondary index.
type Index struct {
	// Name is the index name.
	Name string
	// KeySchema is the index key.
	KeySchema []KeyElement
	// ProjectionType is ALL, KEYS_ONLY or INCLUDE.
	ProjectionType string
	// NonKeyAttributes lists the projected attributes for INCLUDE.
	NonKeyAttributes []string
	// ReadCapacity and WriteCapacity are the index's provisioned throughput (0 on demand).
	ReadCapacity, WriteCapacity int64
}

// Role is an AWS::IAM::Role with every identity policy attached to it in the stack.
type Role struct {
	// LogicalID is the role's logical id.
	LogicalID string
	// Name is the local role name (RoleName or <StackName>-<LogicalID>).
	Name string
	// Path is the role's path ("/" by default).
	Path string
	// ARN is the role's ARN.
	ARN string
	// AssumeRolePolicy is the trust policy.
	AssumeRolePolicy PolicyDocument
	// ManagedPolicyARNs lists the managed policies attached by ARN (AWS managed ones included).
	ManagedPolicyARNs []string
	// Policies lists the policy documents attached to the role: inline Policies, AWS::IAM::Policy
	// resources naming the role, and customer managed policies of the stack attached to it.
	Policies []AttachedPolicy
	// PermissionsBoundary is the boundary policy ARN ("" if none).
	PermissionsBoundary string
}

// AttachedPolicy is one policy document attached to a role.
type AttachedPolicy struct {
	// Name is the policy name (PolicyName, or the managed policy's ARN).
	Name string
	// Source is the logical id of the AWS::IAM::Policy or AWS::IAM::ManagedPolicy that attaches
	// it, or "" for an inline policy of the role.
	Source string
	// Document is the resolved policy document.
	Document PolicyDocument
}

// PolicyDocument is a resolved IAM policy document.
type PolicyDocument struct {
	// Version is the policy language version, e.g. 2012-10-17.
	Version string
	// Statements lists the statements in order.
	Statements []Statement
}

// Statement is one statement of a policy document, every field a plain string.
type Statement struct {
	// Sid is the statement id ("" if none).
	Sid string
	// Effect is Allow or Deny.
	Effect string
	// Principal maps principal types (AWS, Service, Federated, *) to values (trust policies).
	Principal map[string][]string
	// NotPrincipal is the NotPrincipal element.
	NotPrincipal map[string][]string
	// Action lists the actions, e.g. dynamodb:PutItem, with * and ? wildcards.
	Action []string
	// NotAction lists the NotAction element.
	NotAction []string
	// Resource lists the resource ARNs, with * and ? wildcards.
	Resource []string
	// NotResource lists the NotResource element.
	NotResource []string
	// Condition maps operators to condition keys to values.
	Condition map[string]map[string][]string
}

// Asset is a file asset of the assembly's asset manifest.
type Asset struct {
	// ID is the asset's id (its content hash).
	ID string
	// DisplayName is e.g. Chat/ChatFunction/Code.
	DisplayName string
	// Path is the absolute local path of the asset's source (a folder or a file).
	Path string
	// Packaging is zip (a folder published as a zip) or file.
	Packaging string
	// ObjectKeys lists the S3 object keys the asset is published to.
	ObjectKeys []string
}

// API returns the stack's only WebSocket API, or nil if it has none or several.
func (s *Stack) API() *WebSocketAPI {
	if len(s.APIs) != 1 {
		return nil
	}
	return s.APIs[0]
}

// FunctionByName returns the function with the given local name, or nil.
func (s *Stack) FunctionByName(name string) *Function {
	return find(maps.Values(s.Functions), func(f *Function) bool { return f.Name == name })
}

// FunctionByARN returns the function a Lambda ARN, partial ARN or name refers to (a version or
// alias qualifier is ignored), or nil.
func (s *Stack) FunctionByARN(arn string) *Function {
	return s.FunctionByName(functionNameOf(arn))
}

// TableByName returns the table with the given local name, or nil.
func (s *Stack) TableByName(name string) *Table {
	return find(maps.Values(s.Tables), func(t *Table) bool { return t.Name == name })
}

// find returns the first element of all that match accepts, or nil.
func find[E any](all iter.Seq[*E], match func(*E) bool) *E {
	for e := range all {
		if match(e) {
			return e
		}
	}
	return nil
}

// PermissionsFor returns the Lambda permissions that apply to fn.
func (s *Stack) PermissionsFor(fn *Function) []*Permission {
	var out []*Permission
	for _, p := range s.Permissions {
		if p.FunctionLogicalID == fn.LogicalID {
			out = append(out, p)
		}
	}
	return out
}

// SortedFunctions returns the functions in logical id order.
func (s *Stack) SortedFunctions() []*Function {
	out := make([]*Function, 0, len(s.Functions))
	for _, k := range sortedKeys(s.Functions) {
		out = append(out, s.Functions[k])
	}
	return out
}

// functionNameOf extracts the function name from a name, ARN or partial ARN, without qualifier.
func functionNameOf(s string) string {
	if strings.HasPrefix(s, "arn:") {
		parts := strings.Split(s, ":")
		if len(parts) >= 7 {
			return parts[6]
		}
		return s
	}
	if _, after, ok := strings.Cut(s, ":function:"); ok {
		name, _, _ := strings.Cut(after, ":")
		return name
	}
	name, _, _ := strings.Cut(s, ":")
	return name
}

// sortRoutes orders routes by key.
func sortRoutes(rs []*Route) {
	sort.Slice(rs, func(i, j int) bool { return rs[i].Key < rs[j].Key })
}
