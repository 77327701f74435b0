package chatapi

import (
	"fmt"
	"math"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsapplicationautoscaling"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/jsii-runtime-go"
)

// FunctionConcurrencyProps sets one function's concurrency (WebSocketChatApiProps.Concurrency).
//
// Reserved concurrency costs nothing; it caps the function and sets that many executions
// aside from the account's pool (Lambda keeps at least 100 unreserved per account and region,
// and refuses a reservation that would leave less).
//
// Provisioned concurrency keeps that many execution environments initialized on the
// function's "live" alias (a published version), so $connect and chat actions skip cold
// starts; API Gateway then invokes the alias (integration URI, invoke permission and
// authorizer). It is billed for every second it is configured, used or not, per GB of
// memory: in us-east-1 on arm64, $0.0000033334 per GB-second (about $8.76 a month for one
// 1 GB environment), plus requests and a lower duration rate ($0.0000077778 per GB-second)
// for invocations it serves (https://aws.amazon.com/lambda/pricing/, "Provisioned
// Concurrency Pricing"). Scaling it (MaxProvisioned with UtilizationTarget or Schedules) is
// free; CloudWatch alarms that Application Auto Scaling creates for target tracking are
// billed as alarms.
type FunctionConcurrencyProps struct {
	// Reserved is the function's reserved concurrency: a whole number of at least 0 (0 stops
	// every invocation, an emergency brake). Default: none (the account's unreserved pool).
	Reserved *float64
	// Provisioned is the provisioned concurrency of the live alias: a whole number of at
	// least 1, at most Reserved when both are set. With scaling, it is the minimum.
	// Default: none (no alias; API Gateway invokes the function's $LATEST).
	Provisioned *float64
	// MaxProvisioned turns on Application Auto Scaling of the provisioned concurrency between
	// Provisioned and this (at most Reserved when set). It needs Provisioned and
	// UtilizationTarget or Schedules. Default: no scaling.
	MaxProvisioned *float64
	// UtilizationTarget tracks LambdaProvisionedConcurrencyUtilization at this share, from 0.1
	// to 0.9 (e.g. 0.7). Needs MaxProvisioned. Default: no target tracking.
	UtilizationTarget *float64
	// Schedules change the scaling bounds on a schedule, e.g. a higher MinCapacity in
	// business hours. Each needs MinCapacity or MaxCapacity, whole numbers of at least 1 (at
	// most Reserved); they get the ids Schedule0, Schedule1, ... in this order. Needs
	// MaxProvisioned. Default: none.
	Schedules *[]*awsapplicationautoscaling.ScalingSchedule
}

// concurrency is FunctionConcurrencyProps checked; 0 means unset for the provisioned fields.
type concurrency struct {
	reserved       *float64
	provisioned    float64
	maxProvisioned float64
	utilization    float64
	schedules      []*awsapplicationautoscaling.ScalingSchedule
}

// concurrencyNames are the functions Concurrency may name under the given authentication.
func concurrencyNames(auth Authentication) []string {
	var names []string
	for _, h := range handlerSpecs {
		if h.name != handlerAuthorizer || hasAuthorizerFunction(auth) {
			names = append(names, h.name)
		}
	}
	return names
}

// concurrency checks the Concurrency prop.
func (v validator) concurrency(props map[string]*FunctionConcurrencyProps, auth Authentication) map[string]concurrency {
	valid := concurrencyNames(auth)
	out := map[string]concurrency{}
	for _, name := range sortedKeys(props) {
		known := false
		for _, n := range valid {
			known = known || n == name
		}
		if !known {
			v.fail("Concurrency", "%q is not a function of the construct; valid: %s", name, strings.Join(valid, ", "))
		}
		if props[name] == nil || *props[name] == (FunctionConcurrencyProps{}) {
			v.fail("Concurrency["+name+"]", "is empty: give Reserved or Provisioned")
		}
		out[name] = v.functionConcurrency("Concurrency["+name+"]", *props[name])
	}
	return out
}

// functionConcurrency checks one function's FunctionConcurrencyProps.
func (v validator) functionConcurrency(prop string, p FunctionConcurrencyProps) concurrency {
	var c concurrency
	limit := math.Inf(1)
	if p.Reserved != nil {
		c.reserved = jsii.Number(v.whole(prop+".Reserved", *p.Reserved, 0))
		limit = *c.reserved
	}
	if p.Provisioned != nil {
		c.provisioned = v.whole(prop+".Provisioned", *p.Provisioned, 1)
		if c.provisioned > limit {
			v.fail(prop+".Provisioned", "%g is over Reserved (%g): Lambda cannot provision more than the function may run", c.provisioned, limit)
		}
	}
	scaling := p.UtilizationTarget != nil || (p.Schedules != nil && len(*p.Schedules) > 0)
	if p.MaxProvisioned == nil {
		if scaling {
			v.fail(prop+".MaxProvisioned", "is required with UtilizationTarget or Schedules: the scaling's upper bound")
		}
		return c
	}
	if c.provisioned == 0 {
		v.fail(prop+".MaxProvisioned", "needs Provisioned, the scaling's minimum")
	}
	if !scaling {
		v.fail(prop+".MaxProvisioned", "needs UtilizationTarget or Schedules to scale by")
	}
	c.maxProvisioned = v.whole(prop+".MaxProvisioned", *p.MaxProvisioned, c.provisioned)
	if c.maxProvisioned > limit {
		v.fail(prop+".MaxProvisioned", "%g is over Reserved (%g)", c.maxProvisioned, limit)
	}
	if p.UtilizationTarget != nil {
		c.utilization = *p.UtilizationTarget
		if !(c.utilization >= 0.1 && c.utilization <= 0.9) {
			v.fail(prop+".UtilizationTarget", "must be from 0.1 to 0.9, got %g", c.utilization)
		}
	}
	if p.Schedules != nil {
		for i, s := range *p.Schedules {
			v.schedule(fmt.Sprintf("%s.Schedules[%d]", prop, i), s, limit)
			c.schedules = append(c.schedules, s)
		}
	}
	return c
}

// schedule checks one scheduled scaling action.
func (v validator) schedule(prop string, s *awsapplicationautoscaling.ScalingSchedule, limit float64) {
	if s == nil || s.Schedule == nil {
		v.fail(prop, "needs a Schedule")
	}
	if s.MinCapacity == nil && s.MaxCapacity == nil {
		v.fail(prop, "needs MinCapacity or MaxCapacity")
	}
	for _, b := range []struct {
		name string
		n    *float64
	}{{"MinCapacity", s.MinCapacity}, {"MaxCapacity", s.MaxCapacity}} {
		if b.n != nil && v.whole(prop+"."+b.name, *b.n, 1) > limit {
			v.fail(prop+"."+b.name, "%g is over Reserved (%g)", *b.n, limit)
		}
	}
	if s.MinCapacity != nil && s.MaxCapacity != nil && *s.MinCapacity > *s.MaxCapacity {
		v.fail(prop, "MinCapacity %g is over MaxCapacity %g", *s.MinCapacity, *s.MaxCapacity)
	}
}

// whole checks that n is a whole number of at least min.
func (v validator) whole(prop string, n, min float64) float64 {
	if !(n >= min) || n != math.Trunc(n) || math.IsInf(n, 0) {
		v.fail(prop, "must be a whole number of at least %g, got %g", min, n)
	}
	return n
}

// addConcurrency applies the Concurrency prop: reserved concurrency on the functions, and a
// live alias with provisioned concurrency (and its scaling) where asked.
func (c *webSocketChatApi) addConcurrency() {
	for _, name := range sortedKeys(c.cfg.concurrency) {
		cc, fn := c.cfg.concurrency[name], c.fns[name]
		if cc.reserved != nil {
			fn.Node().DefaultChild().(awslambda.CfnFunction).SetReservedConcurrentExecutions(cc.reserved)
		}
		if cc.provisioned == 0 {
			continue
		}
		alias := awslambda.NewAlias(fn, jsii.String("LiveAlias"), &awslambda.AliasProps{
			AliasName:                       jsii.String(LiveAliasName),
			Version:                         fn.CurrentVersion(),
			ProvisionedConcurrentExecutions: jsii.Number(cc.provisioned),
			Description:                     jsii.String("Invoked by API Gateway: holds the provisioned concurrency"),
		})
		c.aliases[name] = alias
		if cc.maxProvisioned == 0 {
			continue
		}
		scaling := alias.AddAutoScaling(&awslambda.AutoScalingOptions{
			MinCapacity: jsii.Number(cc.provisioned),
			MaxCapacity: jsii.Number(cc.maxProvisioned),
		})
		if cc.utilization > 0 {
			scaling.ScaleOnUtilization(&awslambda.UtilizationScalingOptions{UtilizationTarget: jsii.Number(cc.utilization)})
		}
		for i, s := range cc.schedules {
			scaling.ScaleOnSchedule(jsii.String(fmt.Sprintf("Schedule%d", i)), s)
		}
	}
}

// invoked is what API Gateway invokes for a handler: its live alias when it has provisioned
// concurrency, else the function.
func (c *webSocketChatApi) invoked(name string) awslambda.IFunction {
	if a, ok := c.aliases[name]; ok {
		return a
	}
	return c.fns[name]
}
