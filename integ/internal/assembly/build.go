package assembly

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"slices"
	"sort"
	"strings"
	"time"
)

// Defaults CloudFormation and the services apply when a property is unset.
const (
	defaultIntegrationTimeout = 29 * time.Second
	defaultFunctionTimeout    = 3 * time.Second
	defaultFunctionMemoryMB   = 128
)

// builder turns a parsed template into a Stack.
type builder struct {
	st     *Stack
	tpl    *template
	r      *Resolver
	assets map[string]*Asset // by S3 object key; nil when loading a lone template
}

// buildStack fills st from tpl. assets maps S3 object keys to assets; when it is nil (a lone
// template) Lambda code is not looked up.
func buildStack(st *Stack, tpl *template, r *Resolver, assets map[string]*Asset) error {
	b := &builder{st: st, tpl: tpl, r: r, assets: assets}
	st.Resolver = r
	st.Env = r.Env()
	st.Resources = map[string]*Resource{}
	st.Functions = map[string]*Function{}
	st.Tables = map[string]*Table{}
	st.Roles = map[string]*Role{}
	st.Outputs = map[string]Output{}
	for _, id := range sortedKeys(tpl.Resources) {
		res := tpl.Resources[id]
		if res.Condition != "" {
			ok, err := r.Condition(res.Condition)
			if err != nil {
				return fmt.Errorf("resource %s: %w", id, err)
			}
			if !ok {
				continue
			}
		}
		st.Resources[id] = res
	}
	steps := []func() error{b.roles, b.policies, b.functions, b.permissions, b.tables, b.queues, b.apis, b.apiKeys, b.outputs}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

// ofType lists the created resources of type typ in logical id order.
func (b *builder) ofType(typ string) []*Resource {
	var out []*Resource
	for _, id := range sortedKeys(b.st.Resources) {
		if res := b.st.Resources[id]; res.Type == typ {
			out = append(out, res)
		}
	}
	return out
}

// props resolves res's properties and decodes them into dst.
func (b *builder) props(res *Resource, dst any) error {
	v, err := b.r.Resolve("Resources."+res.LogicalID+".Properties", res.Properties)
	if err != nil {
		return err
	}
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("%s (%s): encode resolved properties: %w", res.LogicalID, res.Type, err)
	}
	if err := json.Unmarshal(data, dst); err != nil {
		return fmt.Errorf("%s (%s): decode properties: %w", res.LogicalID, res.Type, err)
	}
	return nil
}

// decode resolves res's properties into a P.
func decode[P any](b *builder, res *Resource) (P, error) {
	var p P
	err := b.props(res, &p)
	return p, err
}

// decodeNamed resolves res's properties into a P and returns them with res's physical id.
func decodeNamed[P any](b *builder, res *Resource) (P, string, error) {
	p, err := decode[P](b, res)
	if err != nil {
		return p, "", err
	}
	id, err := b.r.PhysicalID(res.LogicalID)
	return p, id, err
}

// rawProp resolves one property of res (nil when unset).
func (b *builder) rawProp(res *Resource, name string) (any, error) {
	v, ok := res.Properties[name]
	if !ok {
		return nil, nil
	}
	return b.r.Resolve("Resources."+res.LogicalID+".Properties."+name, v)
}

// roles builds the IAM roles and their inline policies.
func (b *builder) roles() error {
	for _, res := range b.ofType("AWS::IAM::Role") {
		p, name, err := decodeNamed[roleProps](b, res)
		if err != nil {
			return err
		}
		arn, err := b.r.GetAtt(res.LogicalID, "Arn")
		if err != nil {
			return err
		}
		role := &Role{
			LogicalID:           res.LogicalID,
			Name:                name,
			Path:                string(p.Path),
			ARN:                 arn,
			ManagedPolicyARNs:   flexStrings(p.ManagedPolicyArns),
			PermissionsBoundary: string(p.PermissionsBoundary),
		}
		if role.Path == "" {
			role.Path = "/"
		}
		if p.AssumeRolePolicyDocument != nil {
			if role.AssumeRolePolicy, err = ParsePolicyDocument(p.AssumeRolePolicyDocument); err != nil {
				return fmt.Errorf("%s (AWS::IAM::Role): AssumeRolePolicyDocument: %w", res.LogicalID, err)
			}
		}
		for i, ip := range p.Policies {
			doc, err := ParsePolicyDocument(ip.PolicyDocument)
			if err != nil {
				return fmt.Errorf("%s (AWS::IAM::Role): Policies[%d]: %w", res.LogicalID, i, err)
			}
			role.Policies = append(role.Policies, AttachedPolicy{Name: string(ip.PolicyName), Document: doc})
		}
		b.st.Roles[res.LogicalID] = role
	}
	return nil
}

// roleByName finds a role of the stack by its local name.
func (b *builder) roleByName(name string) *Role {
	return find(maps.Values(b.st.Roles), func(r *Role) bool { return r.Name == name })
}

// policies attaches AWS::IAM::Policy and AWS::IAM::ManagedPolicy documents to the stack's roles.
// Roles outside the stack are not modeled and are skipped.
func (b *builder) policies() error {
	for _, res := range b.ofType("AWS::IAM::Policy") {
		p, err := decode[policyProps](b, res)
		if err != nil {
			return err
		}
		doc, err := ParsePolicyDocument(p.PolicyDocument)
		if err != nil {
			return fmt.Errorf("%s (AWS::IAM::Policy): PolicyDocument: %w", res.LogicalID, err)
		}
		for _, rn := range p.Roles {
			if role := b.roleByName(string(rn)); role != nil {
				role.Policies = append(role.Policies, AttachedPolicy{Name: string(p.PolicyName), Source: res.LogicalID, Document: doc})
			}
		}
	}
	for _, res := range b.ofType("AWS::IAM::ManagedPolicy") {
		p, err := decode[managedPolicyProps](b, res)
		if err != nil {
			return err
		}
		doc, err := ParsePolicyDocument(p.PolicyDocument)
		if err != nil {
			return fmt.Errorf("%s (AWS::IAM::ManagedPolicy): PolicyDocument: %w", res.LogicalID, err)
		}
		arn, err := b.r.GetAtt(res.LogicalID, "PolicyArn")
		if err != nil {
			return err
		}
		attached := map[string]bool{}
		for _, rn := range p.Roles {
			if role := b.roleByName(string(rn)); role != nil {
				attached[role.LogicalID] = true
			}
		}
		for _, role := range b.st.Roles {
			for _, m := range role.ManagedPolicyARNs {
				if m == arn {
					attached[role.LogicalID] = true
				}
			}
		}
		for _, id := range sortedKeys(attached) {
			role := b.st.Roles[id]
			role.Policies = append(role.Policies, AttachedPolicy{Name: arn, Source: res.LogicalID, Document: doc})
		}
	}
	return nil
}

// functions builds the Lambda functions and finds their code in the assets.
func (b *builder) functions() error {
	for _, res := range b.ofType("AWS::Lambda::Function") {
		p, name, err := decodeNamed[functionProps](b, res)
		if err != nil {
			return err
		}
		fn := &Function{
			LogicalID:    res.LogicalID,
			Name:         name,
			ARN:          b.st.Env.FunctionARN(name),
			Description:  string(p.Description),
			Runtime:      string(p.Runtime),
			Architecture: "x86_64",
			Handler:      string(p.Handler),
			MemoryMB:     defaultFunctionMemoryMB,
			Timeout:      defaultFunctionTimeout,
			Environment:  map[string]string{},
			RoleARN:      string(p.Role),
			LogFormat:    "Text",
			LogGroup:     "/aws/lambda/" + name,
		}
		if len(p.Architectures) > 0 {
			fn.Architecture = string(p.Architectures[0])
		}
		if p.MemorySize != nil {
			fn.MemoryMB = int(*p.MemorySize)
		}
		if p.Timeout != nil {
			fn.Timeout = time.Duration(*p.Timeout) * time.Second
		}
		if p.Environment != nil {
			for k, v := range p.Environment.Variables {
				fn.Environment[k] = string(v)
			}
		}
		if lc := p.LoggingConfig; lc != nil {
			if lc.LogFormat != "" {
				fn.LogFormat = string(lc.LogFormat)
			}
			if lc.LogGroup != "" {
				fn.LogGroup = string(lc.LogGroup)
			}
			fn.ApplicationLogLevel = string(lc.ApplicationLogLevel)
			fn.SystemLogLevel = string(lc.SystemLogLevel)
		}
		if p.ReservedConcurrentExecutions != nil {
			n := int(*p.ReservedConcurrentExecutions)
			fn.ReservedConcurrency = &n
		}
		roleName := fn.RoleARN[strings.LastIndex(fn.RoleARN, "/")+1:]
		for _, role := range b.st.Roles {
			if role.ARN == fn.RoleARN {
				fn.Role, fn.RoleLogicalID, roleName = role, role.LogicalID, role.Name
			}
		}
		fn.SessionARN = b.st.Env.SessionARN(roleName, fn.Name)
		if p.Code == nil {
			return fmt.Errorf("%s (AWS::Lambda::Function): no Code", res.LogicalID)
		}
		fn.Code = Code{
			S3Bucket: string(p.Code.S3Bucket),
			S3Key:    string(p.Code.S3Key),
			ZipFile:  string(p.Code.ZipFile),
			ImageURI: string(p.Code.ImageUri),
		}
		if err := b.locateCode(fn); err != nil {
			return err
		}
		b.st.Functions[res.LogicalID] = fn
	}
	return nil
}

// locateCode maps fn's S3Key to the local asset published there.
func (b *builder) locateCode(fn *Function) error {
	if b.assets == nil || fn.Code.S3Key == "" {
		return nil
	}
	a, ok := b.assets[fn.Code.S3Key]
	if !ok {
		return fmt.Errorf("%s (AWS::Lambda::Function): Code.S3Key %q is not published by any asset of the assembly", fn.LogicalID, fn.Code.S3Key)
	}
	fi, err := os.Stat(a.Path)
	if err != nil {
		return fmt.Errorf("%s (AWS::Lambda::Function): asset %s: %w", fn.LogicalID, a.ID, err)
	}
	if fi.IsDir() {
		fn.Code.AssetDir = a.Path
	} else {
		fn.Code.AssetFile = a.Path
	}
	return nil
}

// permissions builds the Lambda permissions.
func (b *builder) permissions() error {
	for _, res := range b.ofType("AWS::Lambda::Permission") {
		p, err := decode[permissionProps](b, res)
		if err != nil {
			return err
		}
		perm := &Permission{
			LogicalID:     res.LogicalID,
			Action:        string(p.Action),
			FunctionName:  string(p.FunctionName),
			Principal:     string(p.Principal),
			SourceARN:     string(p.SourceArn),
			SourceAccount: string(p.SourceAccount),
		}
		if fn := b.st.FunctionByARN(perm.FunctionName); fn != nil {
			perm.FunctionLogicalID = fn.LogicalID
		}
		b.st.Permissions = append(b.st.Permissions, perm)
	}
	return nil
}

// tables builds the DynamoDB tables.
func (b *builder) tables() error {
	for _, res := range b.ofType("AWS::DynamoDB::Table") {
		p, name, err := decodeNamed[tableProps](b, res)
		if err != nil {
			return err
		}
		t := &Table{
			LogicalID:          res.LogicalID,
			Name:               name,
			ARN:                b.st.Env.TableARN(name),
			KeySchema:          keys(p.KeySchema),
			BillingMode:        string(p.BillingMode),
			DeletionProtection: bool(p.DeletionProtectionEnabled),
		}
		if t.BillingMode == "" {
			t.BillingMode = "PROVISIONED"
		}
		if len(t.KeySchema) == 0 {
			return fmt.Errorf("%s (AWS::DynamoDB::Table): no KeySchema", res.LogicalID)
		}
		for _, a := range p.AttributeDefinitions {
			t.Attributes = append(t.Attributes, AttributeDefinition{Name: string(a.AttributeName), Type: string(a.AttributeType)})
		}
		if tp := p.ProvisionedThroughput; tp != nil {
			t.ReadCapacity, t.WriteCapacity = int64(tp.ReadCapacityUnits), int64(tp.WriteCapacityUnits)
		}
		t.GlobalIndexes = indexes(p.GlobalSecondaryIndexes)
		t.LocalIndexes = indexes(p.LocalSecondaryIndexes)
		if ttl := p.TimeToLiveSpecification; ttl != nil && bool(ttl.Enabled) {
			t.TTLAttribute = string(ttl.AttributeName)
		}
		if s := p.StreamSpecification; s != nil {
			t.StreamViewType = string(s.StreamViewType)
		}
		if pitr := p.PointInTimeRecoverySpecification; pitr != nil {
			t.PointInTimeRecovery = bool(pitr.PointInTimeRecoveryEnabled)
		}
		b.st.Tables[res.LogicalID] = t
	}
	return nil
}

// keys converts a key schema, HASH first.
func keys(in []keyProps) []KeyElement {
	out := make([]KeyElement, 0, len(in))
	for _, k := range in {
		out = append(out, KeyElement{Name: string(k.AttributeName), Type: string(k.KeyType)})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Type == "HASH" && out[j].Type != "HASH" })
	return out
}

// indexes converts secondary index definitions.
func indexes(in []indexProps) []Index {
	var out []Index
	for _, ix := range in {
		i := Index{
			Name:             string(ix.IndexName),
			KeySchema:        keys(ix.KeySchema),
			ProjectionType:   string(ix.Projection.ProjectionType),
			NonKeyAttributes: flexStrings(ix.Projection.NonKeyAttributes),
		}
		if tp := ix.ProvisionedThroughput; tp != nil {
			i.ReadCapacity, i.WriteCapacity = int64(tp.ReadCapacityUnits), int64(tp.WriteCapacityUnits)
		}
		out = append(out, i)
	}
	return out
}

// apis builds the WebSocket APIs and everything that belongs to them.
func (b *builder) apis() error {
	byID := map[string]*WebSocketAPI{}
	for _, res := range b.ofType("AWS::ApiGatewayV2::Api") {
		p, err := decode[apiProps](b, res)
		if err != nil {
			return err
		}
		if p.ProtocolType != "WEBSOCKET" {
			continue
		}
		if p.Body != nil || p.BodyS3Location != nil {
			return fmt.Errorf("%s (AWS::ApiGatewayV2::Api): importing an API definition (Body, BodyS3Location) is not supported", res.LogicalID)
		}
		id, err := b.r.PhysicalID(res.LogicalID)
		if err != nil {
			return err
		}
		endpoint, err := b.r.GetAtt(res.LogicalID, "ApiEndpoint")
		if err != nil {
			return err
		}
		api := &WebSocketAPI{
			LogicalID:                 res.LogicalID,
			ID:                        id,
			Name:                      string(p.Name),
			Description:               string(p.Description),
			RouteSelectionExpression:  string(p.RouteSelectionExpression),
			APIKeySelectionExpression: string(p.ApiKeySelectionExpression),
			DisableExecuteAPIEndpoint: bool(p.DisableExecuteApiEndpoint),
			Endpoint:                  endpoint,
			Integrations:              map[string]*Integration{},
			Models:                    map[string]*Model{},
			Authorizers:               map[string]*Authorizer{},
		}
		byID[id] = api
		b.st.APIs = append(b.st.APIs, api)
	}
	if len(b.st.APIs) == 0 {
		return nil
	}
	// Children in dependency order: integrations, models and authorizers before the routes that
	// name them, routes before their responses.
	steps := []struct {
		typ   string
		build func(*Resource, *WebSocketAPI) error
	}{
		{"AWS::ApiGatewayV2::Integration", b.integration},
		{"AWS::ApiGatewayV2::IntegrationResponse", b.integrationResponse},
		{"AWS::ApiGatewayV2::Model", b.model},
		{"AWS::ApiGatewayV2::Authorizer", b.authorizer},
		{"AWS::ApiGatewayV2::Route", b.route},
		{"AWS::ApiGatewayV2::RouteResponse", b.routeResponse},
		{"AWS::ApiGatewayV2::Stage", b.stage},
	}
	for _, s := range steps {
		for _, res := range b.ofType(s.typ) {
			apiID, err := b.rawProp(res, "ApiId")
			if err != nil {
				return err
			}
			id, _ := apiID.(string)
			api, ok := byID[id]
			if !ok {
				continue // belongs to an HTTP API or to one outside the stack
			}
			if err := s.build(res, api); err != nil {
				return err
			}
		}
	}
	for _, api := range b.st.APIs {
		if err := buildMocks(api); err != nil {
			return err
		}
		sortRoutes(api.Routes)
		sort.Slice(api.Stages, func(i, j int) bool { return api.Stages[i].Name < api.Stages[j].Name })
	}
	return nil
}

// lambdaTarget returns the function a Lambda integration or authorizer URI invokes, if it is one
// of the stack's: arn:<p>:apigateway:<region>:lambda:path/2015-03-31/functions/<fn arn>/invocations,
// or a bare function ARN.
func (b *builder) lambdaTarget(uri string) *Function {
	fnRef := uri
	if _, after, ok := strings.Cut(uri, ":lambda:path/"); ok {
		_, after, ok = strings.Cut(after, "/functions/")
		if !ok {
			return nil
		}
		fnRef = strings.TrimSuffix(after, "/invocations")
	} else if !strings.Contains(uri, ":lambda:") {
		return nil
	}
	return b.st.FunctionByARN(fnRef)
}

// integration builds one AWS::ApiGatewayV2::Integration.
func (b *builder) integration(res *Resource, api *WebSocketAPI) error {
	p, id, err := decodeNamed[integrationProps](b, res)
	if err != nil {
		return err
	}
	in := &Integration{
		LogicalID:                   res.LogicalID,
		ID:                          id,
		Type:                        string(p.IntegrationType),
		URI:                         string(p.IntegrationUri),
		Method:                      string(p.IntegrationMethod),
		Timeout:                     defaultIntegrationTimeout,
		ContentHandlingStrategy:     string(p.ContentHandlingStrategy),
		PassthroughBehavior:         string(p.PassthroughBehavior),
		TemplateSelectionExpression: string(p.TemplateSelectionExpression),
		RequestTemplates:            flexMap(p.RequestTemplates),
		RequestParameters:           flexMap(p.RequestParameters),
		CredentialsARN:              string(p.CredentialsArn),
	}
	if p.TimeoutInMillis != nil {
		in.Timeout = time.Duration(*p.TimeoutInMillis) * time.Millisecond
	}
	if fn := b.lambdaTarget(in.URI); fn != nil {
		in.Function, in.FunctionLogicalID = fn, fn.LogicalID
	}
	api.Integrations[res.LogicalID] = in
	return nil
}

// integrationResponse attaches one AWS::ApiGatewayV2::IntegrationResponse to its integration.
func (b *builder) integrationResponse(res *Resource, api *WebSocketAPI) error {
	p, err := decode[integrationResponseProps](b, res)
	if err != nil {
		return err
	}
	in := find(maps.Values(api.Integrations), func(in *Integration) bool { return in.ID == string(p.IntegrationId) })
	if in == nil {
		return fmt.Errorf("%s (AWS::ApiGatewayV2::IntegrationResponse): IntegrationId %q is no integration of API %s", res.LogicalID, p.IntegrationId, api.LogicalID)
	}
	in.Responses = append(in.Responses, &IntegrationResponse{
		LogicalID:                   res.LogicalID,
		Key:                         string(p.IntegrationResponseKey),
		TemplateSelectionExpression: string(p.TemplateSelectionExpression),
		ResponseTemplates:           flexMap(p.ResponseTemplates),
		ContentHandlingStrategy:     string(p.ContentHandlingStrategy),
	})
	return nil
}

// model builds one AWS::ApiGatewayV2::Model.
func (b *builder) model(res *Resource, api *WebSocketAPI) error {
	p, id, err := decodeNamed[modelProps](b, res)
	if err != nil {
		return err
	}
	var schema json.RawMessage
	switch s := p.Schema.(type) {
	case nil:
	case string:
		if !json.Valid([]byte(s)) {
			return fmt.Errorf("%s (AWS::ApiGatewayV2::Model): Schema is a string that is not JSON", res.LogicalID)
		}
		schema = json.RawMessage(s)
	default:
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(s); err != nil {
			return fmt.Errorf("%s (AWS::ApiGatewayV2::Model): encode Schema: %w", res.LogicalID, err)
		}
		schema = json.RawMessage(bytes.TrimSpace(buf.Bytes()))
	}
	m := &Model{
		LogicalID:   res.LogicalID,
		ID:          id,
		Name:        string(p.Name),
		ContentType: string(p.ContentType),
		Description: string(p.Description),
		Schema:      schema,
	}
	if _, dup := api.Models[m.Name]; dup {
		return fmt.Errorf("%s (AWS::ApiGatewayV2::Model): API %s already has a model named %q", res.LogicalID, api.LogicalID, m.Name)
	}
	api.Models[m.Name] = m
	return nil
}

// authorizer builds one AWS::ApiGatewayV2::Authorizer.
func (b *builder) authorizer(res *Resource, api *WebSocketAPI) error {
	p, id, err := decodeNamed[authorizerProps](b, res)
	if err != nil {
		return err
	}
	a := &Authorizer{
		LogicalID:      res.LogicalID,
		ID:             id,
		Name:           string(p.Name),
		Type:           string(p.AuthorizerType),
		URI:            string(p.AuthorizerUri),
		IdentitySource: flexStrings(p.IdentitySource),
		CredentialsARN: string(p.AuthorizerCredentialsArn),
	}
	if fn := b.lambdaTarget(a.URI); fn != nil {
		a.Function, a.FunctionLogicalID = fn, fn.LogicalID
	}
	api.Authorizers[res.LogicalID] = a
	return nil
}

// route builds one AWS::ApiGatewayV2::Route and links its integration, authorizer and models.
func (b *builder) route(res *Resource, api *WebSocketAPI) error {
	p, id, err := decodeNamed[routeProps](b, res)
	if err != nil {
		return err
	}
	where := res.LogicalID + " (AWS::ApiGatewayV2::Route)"
	rt := &Route{
		LogicalID:                        res.LogicalID,
		ID:                               id,
		Key:                              string(p.RouteKey),
		Target:                           string(p.Target),
		AuthorizationType:                string(p.AuthorizationType),
		APIKeyRequired:                   bool(p.ApiKeyRequired),
		ModelSelectionExpression:         string(p.ModelSelectionExpression),
		RouteResponseSelectionExpression: string(p.RouteResponseSelectionExpression),
		OperationName:                    string(p.OperationName),
	}
	if rt.AuthorizationType == "" {
		rt.AuthorizationType = "NONE"
	}
	if rt.Target != "" {
		intID, ok := strings.CutPrefix(rt.Target, "integrations/")
		if !ok {
			return fmt.Errorf("%s: Target %q does not start with integrations/", where, rt.Target)
		}
		rt.Integration = find(maps.Values(api.Integrations), func(in *Integration) bool { return in.ID == intID })
		if rt.Integration == nil {
			return fmt.Errorf("%s: Target %q names no integration of API %s", where, rt.Target, api.LogicalID)
		}
	}
	if p.AuthorizerId != "" {
		rt.Authorizer = find(maps.Values(api.Authorizers), func(a *Authorizer) bool { return a.ID == string(p.AuthorizerId) })
		if rt.Authorizer == nil {
			return fmt.Errorf("%s: AuthorizerId %q names no authorizer of API %s", where, p.AuthorizerId, api.LogicalID)
		}
	}
	if len(p.RequestModels) > 0 {
		rt.RequestModels = map[string]*Model{}
		for key, name := range p.RequestModels {
			m, ok := api.Models[string(name)]
			if !ok {
				return fmt.Errorf("%s: RequestModels[%q] names model %q, which API %s does not have", where, key, name, api.LogicalID)
			}
			rt.RequestModels[key] = m
		}
	}
	if len(p.RequestParameters) > 0 {
		rt.RequestParameters = map[string]bool{}
		for k, v := range p.RequestParameters {
			rt.RequestParameters[k] = bool(v.Required)
		}
	}
	if api.Route(rt.Key) != nil {
		return fmt.Errorf("%s: API %s already has a route %q", where, api.LogicalID, rt.Key)
	}
	api.Routes = append(api.Routes, rt)
	return nil
}

// routeResponse attaches one AWS::ApiGatewayV2::RouteResponse to its route.
func (b *builder) routeResponse(res *Resource, api *WebSocketAPI) error {
	p, err := decode[routeResponseProps](b, res)
	if err != nil {
		return err
	}
	rt := find(slices.Values(api.Routes), func(rt *Route) bool { return rt.ID == string(p.RouteId) })
	if rt == nil {
		return fmt.Errorf("%s (AWS::ApiGatewayV2::RouteResponse): RouteId %q names no route of API %s", res.LogicalID, p.RouteId, api.LogicalID)
	}
	rt.Responses = append(rt.Responses, &RouteResponse{
		LogicalID:                res.LogicalID,
		Key:                      string(p.RouteResponseKey),
		ModelSelectionExpression: string(p.ModelSelectionExpression),
		ResponseModels:           flexMap(p.ResponseModels),
	})
	return nil
}

// stage builds one AWS::ApiGatewayV2::Stage.
func (b *builder) stage(res *Resource, api *WebSocketAPI) error {
	p, err := decode[stageProps](b, res)
	if err != nil {
		return err
	}
	if p.StageName == "" {
		return fmt.Errorf("%s (AWS::ApiGatewayV2::Stage): no StageName", res.LogicalID)
	}
	e := b.st.Env
	host := fmt.Sprintf("%s.execute-api.%s.%s", api.ID, e.Region, e.URLSuffix)
	s := &Stage{
		LogicalID:            res.LogicalID,
		Name:                 string(p.StageName),
		Description:          string(p.Description),
		AutoDeploy:           bool(p.AutoDeploy),
		DefaultRouteSettings: p.DefaultRouteSettings.model(),
		Variables:            flexMap(p.StageVariables),
		CallbackURL:          "https://" + host + "/" + string(p.StageName),
		URL:                  "wss://" + host + "/" + string(p.StageName),
	}
	if len(p.RouteSettings) > 0 {
		s.RouteSettings = map[string]RouteSettings{}
		for k, v := range p.RouteSettings {
			s.RouteSettings[k] = v.model()
		}
	}
	if al := p.AccessLogSettings; al != nil {
		s.AccessLogDestination, s.AccessLogFormat = string(al.DestinationArn), string(al.Format)
	}
	api.Stages = append(api.Stages, s)
	return nil
}

// outputs resolves the stack outputs whose condition holds.
func (b *builder) outputs() error {
	for _, name := range sortedKeys(b.tpl.Outputs) {
		od := b.tpl.Outputs[name]
		if od.Condition != "" {
			ok, err := b.r.Condition(od.Condition)
			if err != nil {
				return fmt.Errorf("output %s: %w", name, err)
			}
			if !ok {
				continue
			}
		}
		var o Output
		for _, f := range []struct {
			field string
			v     any
			dst   *string
		}{
			{"Value", od.Value, &o.Value},
			{"Description", od.Description, &o.Description},
			{"Export.Name", od.ExportName, &o.ExportName},
		} {
			if f.v == nil {
				continue
			}
			path := "Outputs." + name + "." + f.field
			v, err := b.r.Resolve(path, f.v)
			if err != nil {
				return err
			}
			s, err := scalarString(v)
			if err != nil {
				return newResolveError(path, err)
			}
			*f.dst = s
		}
		b.st.Outputs[name] = o
	}
	return nil
}
