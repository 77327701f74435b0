package assembly

import (
	"fmt"
	"slices"
)

// APIKey is an AWS::ApiGateway::ApiKey.
type APIKey struct {
	// LogicalID is the key's logical id.
	LogicalID string
	// ID is the key's local id (Ref), 10 lowercase letters and digits as AWS's.
	ID string
	// Name is the Name property ("" when CloudFormation would generate one).
	Name string
	// Value is the Value property: "" when CloudFormation generates the value at deploy time,
	// which a local runner must then generate (see package local).
	Value string
	// Enabled mirrors Enabled; CloudFormation's default is false: a disabled key is refused.
	Enabled bool
	// Plans lists the usage plans the key belongs to (AWS::ApiGateway::UsagePlanKey).
	Plans []*UsagePlan
}

// UsagePlan is an AWS::ApiGateway::UsagePlan.
type UsagePlan struct {
	// LogicalID is the plan's logical id.
	LogicalID string
	// ID is the plan's local id (Ref).
	ID string
	// Name is the UsagePlanName property.
	Name string
	// Stages are the API stages the plan applies to (ApiStages).
	Stages []UsagePlanStage
	// Throttle is the per-key throttle (nil: none). RateLimit 0 or BurstLimit 0 in it means
	// that limit is unset.
	Throttle *UsagePlanThrottle
	// Quota is the per-key quota (nil: none).
	Quota *UsagePlanQuota
	// Keys lists the plan's API keys, by logical id order.
	Keys []*APIKey
}

// UsagePlanStage is one of a usage plan's ApiStages.
type UsagePlanStage struct {
	// APIID is the API's id (Ref of the AWS::ApiGatewayV2::Api).
	APIID string
	// Stage is the stage name.
	Stage string
}

// UsagePlanThrottle is a usage plan's Throttle.
type UsagePlanThrottle struct {
	// RateLimit is the steady-state requests per second (0 if unset).
	RateLimit float64
	// BurstLimit is the token bucket size (0 if unset).
	BurstLimit int
}

// UsagePlanQuota is a usage plan's Quota.
type UsagePlanQuota struct {
	// Limit is the number of requests per Period.
	Limit int
	// Offset is how many requests the first period starts with already counted.
	Offset int
	// Period is DAY, WEEK or MONTH.
	Period string
}

// AppliesTo reports whether the plan names the API's stage.
func (p *UsagePlan) AppliesTo(apiID, stage string) bool {
	return slices.Contains(p.Stages, UsagePlanStage{APIID: apiID, Stage: stage})
}

type apiKeyProps struct {
	Name      flexString
	Value     flexString
	Enabled   flexBool
	StageKeys []any
}

type usagePlanProps struct {
	UsagePlanName flexString
	ApiStages     []struct {
		ApiId    flexString
		Stage    flexString
		Throttle map[string]any
	}
	Throttle *struct {
		RateLimit  flexFloat
		BurstLimit flexInt
	}
	Quota *struct {
		Limit  flexInt
		Offset flexInt
		Period flexString
	}
}

type usagePlanKeyProps struct {
	KeyId       flexString
	KeyType     flexString
	UsagePlanId flexString
}

// apiKeys builds the API keys, the usage plans and the keys' membership in them.
func (b *builder) apiKeys() error {
	b.st.APIKeys = map[string]*APIKey{}
	byID := map[string]*APIKey{}
	for _, res := range b.ofType("AWS::ApiGateway::ApiKey") {
		p, id, err := decodeNamed[apiKeyProps](b, res)
		if err != nil {
			return err
		}
		if len(p.StageKeys) > 0 {
			return fmt.Errorf("%s (AWS::ApiGateway::ApiKey): StageKeys (REST API stages) are not supported", res.LogicalID)
		}
		k := &APIKey{LogicalID: res.LogicalID, ID: id, Name: string(p.Name), Value: string(p.Value), Enabled: bool(p.Enabled)}
		b.st.APIKeys[res.LogicalID], byID[id] = k, k
	}
	plans := map[string]*UsagePlan{}
	for _, res := range b.ofType("AWS::ApiGateway::UsagePlan") {
		plan, err := b.usagePlan(res)
		if err != nil {
			return err
		}
		plans[plan.ID] = plan
		b.st.UsagePlans = append(b.st.UsagePlans, plan)
	}
	for _, res := range b.ofType("AWS::ApiGateway::UsagePlanKey") {
		p, err := decode[usagePlanKeyProps](b, res)
		if err != nil {
			return err
		}
		key, plan := byID[string(p.KeyId)], plans[string(p.UsagePlanId)]
		if p.KeyType != "API_KEY" || key == nil || plan == nil {
			return fmt.Errorf("%s (AWS::ApiGateway::UsagePlanKey): want KeyType API_KEY, a key and a usage plan of the stack, got %q, key %q, plan %q",
				res.LogicalID, p.KeyType, p.KeyId, p.UsagePlanId)
		}
		plan.Keys = append(plan.Keys, key)
		key.Plans = append(key.Plans, plan)
	}
	return nil
}

// usagePlan builds one AWS::ApiGateway::UsagePlan (without its keys).
func (b *builder) usagePlan(res *Resource) (*UsagePlan, error) {
	p, id, err := decodeNamed[usagePlanProps](b, res)
	if err != nil {
		return nil, err
	}
	plan := &UsagePlan{LogicalID: res.LogicalID, ID: id, Name: string(p.UsagePlanName)}
	for _, s := range p.ApiStages {
		if len(s.Throttle) > 0 {
			return nil, fmt.Errorf("%s (AWS::ApiGateway::UsagePlan): ApiStages[].Throttle (per REST method) is not supported", res.LogicalID)
		}
		plan.Stages = append(plan.Stages, UsagePlanStage{APIID: string(s.ApiId), Stage: string(s.Stage)})
	}
	if t := p.Throttle; t != nil {
		plan.Throttle = &UsagePlanThrottle{RateLimit: float64(t.RateLimit), BurstLimit: int(t.BurstLimit)}
	}
	if q := p.Quota; q != nil {
		plan.Quota = &UsagePlanQuota{Limit: int(q.Limit), Offset: int(q.Offset), Period: string(q.Period)}
	}
	return plan, nil
}
