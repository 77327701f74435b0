package assembly

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
)

// Env is the account, region and partition a stack is resolved in.
type Env struct {
	// Region is AWS::Region, e.g. us-east-1.
	Region string
	// AccountID is AWS::AccountId, e.g. 000000000000.
	AccountID string
	// Partition is AWS::Partition, e.g. aws.
	Partition string
	// URLSuffix is AWS::URLSuffix, e.g. amazonaws.com.
	URLSuffix string
}

// ARN formats arn:<partition>:<service>:<region>:<account>:<resource>.
func (e Env) ARN(service, region, account, resource string) string {
	return fmt.Sprintf("arn:%s:%s:%s:%s:%s", e.Partition, service, region, account, resource)
}

// TableARN is the ARN of the DynamoDB table name in this account and region.
func (e Env) TableARN(name string) string {
	return e.ARN("dynamodb", e.Region, e.AccountID, "table/"+name)
}

// FunctionARN is the ARN of the Lambda function name in this account and region.
func (e Env) FunctionARN(name string) string {
	return e.ARN("lambda", e.Region, e.AccountID, "function:"+name)
}

// RoleARN is the ARN of the IAM role name under path ("" or "/" for the root path).
func (e Env) RoleARN(path, name string) string {
	if path == "" {
		path = "/"
	}
	return e.ARN("iam", "", e.AccountID, "role"+path+name)
}

// SessionARN is the STS assumed-role ARN a role session is seen as by the services it calls,
// e.g. arn:aws:sts::000000000000:assumed-role/<role name>/<function name> for a Lambda function.
func (e Env) SessionARN(roleName, sessionName string) string {
	return e.ARN("sts", "", e.AccountID, "assumed-role/"+roleName+"/"+sessionName)
}

// ExecuteAPIARN is arn:<partition>:execute-api:<region>:<account>:<apiID>/<rest>.
func (e Env) ExecuteAPIARN(apiID, rest string) string {
	return e.ARN("execute-api", e.Region, e.AccountID, apiID+"/"+rest)
}

// withDefaults fills unset fields: us-east-1, 000000000000, aws, amazonaws.com (amazonaws.com.cn
// in the aws-cn partition).
func (e Env) withDefaults() Env {
	if e.Region == "" {
		e.Region = "us-east-1"
	}
	if e.AccountID == "" {
		e.AccountID = "000000000000"
	}
	if e.Partition == "" {
		e.Partition = "aws"
	}
	if e.URLSuffix == "" {
		e.URLSuffix = "amazonaws.com"
		if e.Partition == "aws-cn" {
			e.URLSuffix = "amazonaws.com.cn"
		}
	}
	return e
}

// Character sets for generated ids.
const (
	lowerAlnum = "abcdefghijklmnopqrstuvwxyz0123456789"
	upperAlnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	mixedAlnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
)

// hashID derives an n-character id over alphabet from seed, deterministically.
func hashID(seed string, n int, alphabet string) string {
	var b strings.Builder
	for block := 0; b.Len() < n; block++ {
		sum := sha256.Sum256([]byte(fmt.Sprintf("%s#%d", seed, block)))
		for i := 0; i+8 <= len(sum) && b.Len() < n; i += 8 {
			v := binary.BigEndian.Uint64(sum[i : i+8])
			for k := 0; k < 6 && b.Len() < n; k++ {
				b.WriteByte(alphabet[v%uint64(len(alphabet))])
				v /= uint64(len(alphabet))
			}
		}
	}
	return b.String()
}

// localVersion is the version number every AWS::Lambda::Version gets locally: the emulator
// runs a function's one code, and a qualified ARN resolves to the function behind it.
const localVersion = "1"

// generatedName is "<stack>-<logicalID>", shortened to max with a hash suffix when too long.
func (r *Resolver) generatedName(lid string, max int) string {
	s := r.stackName + "-" + lid
	if len(s) <= max {
		return s
	}
	return s[:max-9] + "-" + hashID(r.stackName+"/"+lid, 8, upperAlnum)
}

// nameProp returns the resolved string property prop of res, or generatedName when unset.
func (r *Resolver) nameProp(res *Resource, prop string, max int) (string, error) {
	v, ok := res.Properties[prop]
	if !ok {
		return r.generatedName(res.LogicalID, max), nil
	}
	return r.resolveString("Resources."+res.LogicalID+".Properties."+prop, v)
}

// stringProp returns the resolved string property prop of res ("" when unset).
func (r *Resolver) stringProp(res *Resource, prop string) (string, error) {
	v, ok := res.Properties[prop]
	if !ok {
		return "", nil
	}
	return r.resolveString("Resources."+res.LogicalID+".Properties."+prop, v)
}

// resource looks lid up and checks that it is created.
func (r *Resolver) resource(path, lid string) (*Resource, error) {
	res, ok := r.tpl.Resources[lid]
	if !ok {
		return nil, newResolveError(path, fmt.Errorf("no resource with logical id %q", lid))
	}
	if err := r.requireCreated(path, res); err != nil {
		return nil, err
	}
	return res, nil
}

// wrapFrom wraps an error raised while resolving another resource so both places are named
// (unless the error already names path).
func wrapFrom(path string, err error) error {
	var re *ResolveError
	if errors.As(err, &re) && re.Path == path {
		return err
	}
	return newResolveError(path, err)
}

// physicalID implements PhysicalID without the lock.
func (r *Resolver) physicalID(path, lid string) (string, error) {
	if v, ok := r.overrides[lid]; ok {
		return v, nil
	}
	if v, ok := r.ids[lid]; ok {
		return v, nil
	}
	res, err := r.resource(path, lid)
	if err != nil {
		return "", err
	}
	if r.busy[lid] {
		return "", newResolveError(path, fmt.Errorf("the name of %s depends on itself", lid))
	}
	r.busy[lid] = true
	defer delete(r.busy, lid)
	id, err := r.computeID(res)
	if err != nil {
		if path != "Resources."+lid {
			err = wrapFrom(path, err)
		}
		return "", err
	}
	r.ids[lid] = id
	return id, nil
}

// computeID applies the naming rules documented on PhysicalID.
func (r *Resolver) computeID(res *Resource) (string, error) {
	seed := r.stackName + "/" + res.LogicalID
	switch res.Type {
	case "AWS::DynamoDB::Table":
		return r.nameProp(res, "TableName", 255)
	case "AWS::Lambda::Function":
		return r.nameProp(res, "FunctionName", 64)
	case "AWS::IAM::Role":
		return r.nameProp(res, "RoleName", 64)
	case "AWS::IAM::ManagedPolicy":
		return r.nameProp(res, "ManagedPolicyName", 128)
	case "AWS::Logs::LogGroup":
		return r.nameProp(res, "LogGroupName", 512)
	case "AWS::IAM::Policy", "AWS::Lambda::Permission":
		return r.generatedName(res.LogicalID, 100), nil
	case "AWS::ApiGatewayV2::Api":
		return r.apiIDs[res.LogicalID], nil
	case "AWS::ApiGatewayV2::Stage":
		name, err := r.stringProp(res, "StageName")
		if err == nil && name == "" {
			err = newResolveError("Resources."+res.LogicalID+".Properties", fmt.Errorf("stage has no StageName"))
		}
		return name, err
	case "AWS::ApiGatewayV2::Route", "AWS::ApiGatewayV2::Integration", "AWS::ApiGatewayV2::Authorizer",
		"AWS::ApiGatewayV2::Model", "AWS::ApiGatewayV2::RouteResponse", "AWS::ApiGatewayV2::IntegrationResponse",
		"AWS::ApiGatewayV2::Deployment":
		return hashID(seed, 7, lowerAlnum), nil
	case "AWS::ApiGateway::ApiKey", "AWS::ApiGateway::UsagePlanKey":
		return hashID(seed, 10, lowerAlnum), nil
	case "AWS::ApiGateway::UsagePlan":
		return hashID(seed, 6, lowerAlnum), nil
	case "AWS::Cognito::UserPool":
		return r.env.Region + "_" + hashID(seed, 9, mixedAlnum), nil
	case "AWS::Cognito::UserPoolClient":
		return hashID(seed, 26, lowerAlnum), nil
	case "AWS::SNS::Topic":
		// Ref of a topic is its ARN.
		name, err := r.nameProp(res, "TopicName", 256)
		return r.env.ARN("sns", r.env.Region, r.env.AccountID, name), err
	case "AWS::SNS::TopicPolicy":
		return r.generatedName(res.LogicalID, 256), nil
	case "AWS::Lambda::Version", "AWS::Lambda::Alias":
		// Ref of a version or an alias is its qualified ARN: the function's ARN, then the
		// version (the first one published, locally) or the alias name.
		fn, err := r.stringProp(res, "FunctionName")
		if err == nil && fn == "" {
			err = newResolveError("Resources."+res.LogicalID+".Properties", fmt.Errorf("%s has no FunctionName", res.Type))
		}
		qualifier := localVersion
		if res.Type == "AWS::Lambda::Alias" && err == nil {
			qualifier, err = r.stringProp(res, "Name")
		}
		return r.env.FunctionARN(functionNameOf(fn)) + ":" + qualifier, err
	case "AWS::SQS::Queue":
		// Ref of a queue is its URL; CloudFormation names an unnamed queue
		// <stack>-<logical id>-<12 characters>, plus .fifo for a FIFO queue.
		name, err := r.queueName(res)
		return fmt.Sprintf("https://sqs.%s.%s/%s/%s", r.env.Region, r.env.URLSuffix, r.env.AccountID, name), err
	case "AWS::SQS::QueuePolicy":
		return r.generatedName(res.LogicalID, 256), nil
	case "AWS::Lambda::EventSourceMapping":
		h := hashID(seed, 32, "0123456789abcdef")
		return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32], nil
	case "AWS::SNS::Subscription":
		topic, err := r.stringProp(res, "TopicArn")
		return topic + ":" + hashID(seed, 36, lowerAlnum), err
	}
	return "", newResolveError("Resources."+res.LogicalID,
		fmt.Errorf("no local physical id rule for resource type %s (set Options.PhysicalIDs[%q])", res.Type, res.LogicalID))
}

// queueName returns a queue's QueueName, or the name CloudFormation generates:
// <stack>-<logical id>-<12 characters> (the first part shortened to fit SQS's 80 characters),
// with .fifo appended for a FIFO queue.
func (r *Resolver) queueName(res *Resource) (string, error) {
	if _, ok := res.Properties["QueueName"]; ok {
		return r.stringProp(res, "QueueName")
	}
	fifo, err := r.stringProp(res, "FifoQueue")
	if err != nil {
		return "", err
	}
	suffix := "-" + hashID(r.stackName+"/"+res.LogicalID, 12, upperAlnum)
	if fifo == "true" {
		suffix += ".fifo"
	}
	prefix := r.stackName + "-" + res.LogicalID
	if len(prefix)+len(suffix) > 80 {
		prefix = prefix[:80-len(suffix)]
	}
	return prefix + suffix, nil
}

// messagingAtt returns an attribute of a queue, an event source mapping or a topic, from its
// physical id (a queue's URL, a topic's ARN).
func messagingAtt(e Env, typeAttr, id string) string {
	switch typeAttr {
	case "AWS::SQS::Queue.Arn":
		return e.ARN("sqs", e.Region, e.AccountID, id[strings.LastIndex(id, "/")+1:])
	case "AWS::SQS::Queue.QueueName":
		return id[strings.LastIndex(id, "/")+1:]
	case "AWS::SNS::Topic.TopicName":
		return id[strings.LastIndex(id, ":")+1:]
	}
	return id // QueueUrl, the mapping's Id, TopicArn
}

// getAtt implements GetAtt without the lock.
func (r *Resolver) getAtt(path, lid, attr string) (string, error) {
	res, err := r.resource(path, lid)
	if err != nil {
		return "", err
	}
	id, err := r.physicalID(path, lid)
	if err != nil {
		return "", err
	}
	e := r.env
	switch res.Type + "." + attr {
	case "AWS::DynamoDB::Table.Arn":
		return e.TableARN(id), nil
	case "AWS::DynamoDB::Table.StreamArn":
		if _, ok := res.Properties["StreamSpecification"]; !ok {
			return "", newResolveError(path, fmt.Errorf("table %s has no StreamSpecification, so no StreamArn", lid))
		}
		return e.TableARN(id) + "/stream/1970-01-01T00:00:00.000", nil
	case "AWS::Lambda::Function.Arn":
		return e.FunctionARN(id), nil
	case "AWS::Lambda::Version.Version":
		return localVersion, nil
	case "AWS::Lambda::Version.FunctionArn", "AWS::Lambda::Alias.AliasArn":
		return id, nil
	case "AWS::IAM::Role.Arn":
		p, err := r.stringProp(res, "Path")
		if err != nil {
			return "", wrapFrom(path, err)
		}
		return e.RoleARN(p, id), nil
	case "AWS::IAM::Role.RoleId":
		return "AROA" + hashID(r.stackName+"/"+lid, 17, upperAlnum), nil
	case "AWS::IAM::ManagedPolicy.PolicyArn":
		p, err := r.stringProp(res, "Path")
		if err != nil {
			return "", wrapFrom(path, err)
		}
		if p == "" {
			p = "/"
		}
		return e.ARN("iam", "", e.AccountID, "policy"+p+id), nil
	case "AWS::SQS::Queue.Arn", "AWS::SQS::Queue.QueueName", "AWS::SQS::Queue.QueueUrl",
		"AWS::Lambda::EventSourceMapping.Id", "AWS::SNS::Topic.TopicArn", "AWS::SNS::Topic.TopicName":
		return messagingAtt(e, res.Type+"."+attr, id), nil
	case "AWS::Logs::LogGroup.Arn":
		return e.ARN("logs", e.Region, e.AccountID, "log-group:"+id+":*"), nil
	case "AWS::ApiGatewayV2::Api.ApiEndpoint":
		proto, err := r.stringProp(res, "ProtocolType")
		if err != nil {
			return "", wrapFrom(path, err)
		}
		scheme := "https"
		if proto == "WEBSOCKET" {
			scheme = "wss"
		}
		return fmt.Sprintf("%s://%s.execute-api.%s.%s", scheme, id, e.Region, e.URLSuffix), nil
	case "AWS::ApiGatewayV2::Api.ApiId",
		"AWS::ApiGatewayV2::Authorizer.AuthorizerId",
		"AWS::ApiGatewayV2::Route.RouteId",
		"AWS::ApiGatewayV2::Integration.IntegrationId",
		"AWS::ApiGatewayV2::Model.ModelId",
		"AWS::ApiGatewayV2::RouteResponse.RouteResponseId",
		"AWS::ApiGatewayV2::Deployment.DeploymentId",
		"AWS::Cognito::UserPool.UserPoolId",
		"AWS::Cognito::UserPoolClient.ClientId":
		return id, nil
	case "AWS::Cognito::UserPool.Arn":
		return e.ARN("cognito-idp", e.Region, e.AccountID, "userpool/"+id), nil
	case "AWS::Cognito::UserPool.ProviderName":
		return "cognito-idp." + e.Region + "." + e.URLSuffix + "/" + id, nil
	case "AWS::Cognito::UserPool.ProviderURL":
		return "https://cognito-idp." + e.Region + "." + e.URLSuffix + "/" + id, nil
	}
	return "", newResolveError(path, fmt.Errorf("Fn::GetAtt %s.%s: attribute %q of %s is not supported locally", lid, attr, attr, res.Type))
}
