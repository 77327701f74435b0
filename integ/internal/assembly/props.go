package assembly

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// CloudFormation accepts "5" for 5 and "true" for true; these types accept both forms when
// resolved properties are decoded into the structs below.

// flexString accepts a JSON string, number or boolean.
type flexString string

// UnmarshalJSON implements json.Unmarshaler.
func (f *flexString) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return err
	}
	if v == nil {
		*f = ""
		return nil
	}
	s, err := scalarString(v)
	if err != nil {
		return err
	}
	*f = flexString(s)
	return nil
}

// flexInt accepts a JSON number or a numeric string.
type flexInt int64

// UnmarshalJSON implements json.Unmarshaler.
func (f *flexInt) UnmarshalJSON(b []byte) error {
	return unquoted(b, (*int64)(f), "an integer", func(s string) (int64, error) { return strconv.ParseInt(s, 10, 64) })
}

// flexFloat accepts a JSON number or a numeric string.
type flexFloat float64

// UnmarshalJSON implements json.Unmarshaler.
func (f *flexFloat) UnmarshalJSON(b []byte) error {
	return unquoted(b, (*float64)(f), "a number", func(s string) (float64, error) { return strconv.ParseFloat(s, 64) })
}

// flexBool accepts a JSON boolean or "true"/"false".
type flexBool bool

// UnmarshalJSON implements json.Unmarshaler.
func (f *flexBool) UnmarshalJSON(b []byte) error {
	return unquoted(b, (*bool)(f), "a boolean", strconv.ParseBool)
}

// unquoted sets *dst to parse of b, a JSON scalar or a string that holds one; what names the
// kind expected, for the error. *dst is unchanged on error.
func unquoted[V any](b []byte, dst *V, what string, parse func(string) (V, error)) error {
	v, err := parse(strings.Trim(string(b), `"`))
	if err != nil {
		return fmt.Errorf("expected %s, got %s", what, b)
	}
	*dst = v
	return nil
}

// The property structs below list the properties the model uses; others are ignored.

type apiProps struct {
	Name                      flexString
	Description               flexString
	ProtocolType              flexString
	RouteSelectionExpression  flexString
	ApiKeySelectionExpression flexString
	DisableExecuteApiEndpoint flexBool
	Body                      any
	BodyS3Location            any
}

type routeSettingsProps struct {
	DataTraceEnabled       flexBool
	DetailedMetricsEnabled flexBool
	LoggingLevel           flexString
	ThrottlingBurstLimit   flexInt
	ThrottlingRateLimit    flexFloat
}

func (p *routeSettingsProps) model() RouteSettings {
	if p == nil {
		return RouteSettings{}
	}
	return RouteSettings{
		DataTraceEnabled:       bool(p.DataTraceEnabled),
		DetailedMetricsEnabled: bool(p.DetailedMetricsEnabled),
		LoggingLevel:           string(p.LoggingLevel),
		ThrottlingBurstLimit:   int(p.ThrottlingBurstLimit),
		ThrottlingRateLimit:    float64(p.ThrottlingRateLimit),
	}
}

type stageProps struct {
	ApiId                flexString
	StageName            flexString
	Description          flexString
	AutoDeploy           flexBool
	DefaultRouteSettings *routeSettingsProps
	RouteSettings        map[string]*routeSettingsProps
	StageVariables       map[string]flexString
	AccessLogSettings    *struct {
		DestinationArn flexString
		Format         flexString
	}
}

type routeProps struct {
	ApiId                            flexString
	RouteKey                         flexString
	Target                           flexString
	AuthorizationType                flexString
	AuthorizerId                     flexString
	ApiKeyRequired                   flexBool
	ModelSelectionExpression         flexString
	RequestModels                    map[string]flexString
	RequestParameters                map[string]struct{ Required flexBool }
	RouteResponseSelectionExpression flexString
	OperationName                    flexString
}

type routeResponseProps struct {
	ApiId                    flexString
	RouteId                  flexString
	RouteResponseKey         flexString
	ModelSelectionExpression flexString
	ResponseModels           map[string]flexString
}

type integrationProps struct {
	ApiId                       flexString
	IntegrationType             flexString
	IntegrationUri              flexString
	IntegrationMethod           flexString
	TimeoutInMillis             *flexInt
	ContentHandlingStrategy     flexString
	PassthroughBehavior         flexString
	TemplateSelectionExpression flexString
	RequestTemplates            map[string]flexString
	RequestParameters           map[string]flexString
	CredentialsArn              flexString
}

type integrationResponseProps struct {
	ApiId                       flexString
	IntegrationId               flexString
	IntegrationResponseKey      flexString
	TemplateSelectionExpression flexString
	ResponseTemplates           map[string]flexString
	ContentHandlingStrategy     flexString
}

type modelProps struct {
	ApiId       flexString
	Name        flexString
	ContentType flexString
	Description flexString
	Schema      any
}

type authorizerProps struct {
	ApiId                    flexString
	Name                     flexString
	AuthorizerType           flexString
	AuthorizerUri            flexString
	AuthorizerCredentialsArn flexString
	IdentitySource           []flexString
}

type functionProps struct {
	Description   flexString
	Runtime       flexString
	Architectures []flexString
	Handler       flexString
	MemorySize    *flexInt
	Timeout       *flexInt
	Environment   *struct {
		Variables map[string]flexString
	}
	Code *struct {
		S3Bucket flexString
		S3Key    flexString
		ZipFile  flexString
		ImageUri flexString
	}
	Role          flexString
	LoggingConfig *struct {
		LogFormat           flexString
		LogGroup            flexString
		ApplicationLogLevel flexString
		SystemLogLevel      flexString
	}
	ReservedConcurrentExecutions *flexInt
}

type permissionProps struct {
	Action        flexString
	FunctionName  flexString
	Principal     flexString
	SourceArn     flexString
	SourceAccount flexString
}

type keyProps struct {
	AttributeName flexString
	KeyType       flexString
}

type throughputProps struct {
	ReadCapacityUnits  flexInt
	WriteCapacityUnits flexInt
}

type indexProps struct {
	IndexName  flexString
	KeySchema  []keyProps
	Projection struct {
		ProjectionType   flexString
		NonKeyAttributes []flexString
	}
	ProvisionedThroughput *throughputProps
}

type tableProps struct {
	AttributeDefinitions []struct {
		AttributeName flexString
		AttributeType flexString
	}
	KeySchema               []keyProps
	BillingMode             flexString
	ProvisionedThroughput   *throughputProps
	GlobalSecondaryIndexes  []indexProps
	LocalSecondaryIndexes   []indexProps
	TimeToLiveSpecification *struct {
		AttributeName flexString
		Enabled       flexBool
	}
	StreamSpecification *struct {
		StreamViewType flexString
	}
	PointInTimeRecoverySpecification *struct {
		PointInTimeRecoveryEnabled flexBool
	}
	DeletionProtectionEnabled flexBool
}

type roleProps struct {
	Path                     flexString
	AssumeRolePolicyDocument any
	ManagedPolicyArns        []flexString
	Policies                 []struct {
		PolicyName     flexString
		PolicyDocument any
	}
	PermissionsBoundary flexString
}

type policyProps struct {
	PolicyName     flexString
	PolicyDocument any
	Roles          []flexString
}

type managedPolicyProps struct {
	PolicyDocument any
	Roles          []flexString
}

// strings converts a []flexString.
func flexStrings(in []flexString) []string {
	if in == nil {
		return nil
	}
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = string(s)
	}
	return out
}

// flexMap converts a map[string]flexString.
func flexMap(in map[string]flexString) map[string]string {
	if in == nil {
		return nil
	}
	out := make(map[string]string, len(in))
	for k, v := range in {
		out[k] = string(v)
	}
	return out
}
