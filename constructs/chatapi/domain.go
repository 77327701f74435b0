package chatapi

import (
	"regexp"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscertificatemanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsroute53"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsroute53targets"
	"github.com/aws/jsii-runtime-go"
)

// CustomDomainProps serves the chat on a custom domain name. Give DomainName with
// Certificate (the construct makes the API Gateway domain name), or Domain (an existing one).
//
// What AWS allows, and so what this checks at synth: a WebSocket API's custom domain name is
// regional only (no edge-optimized endpoint) with the TLS_1_2 security policy only, and a
// domain name mapped to a WebSocket API cannot also serve REST or HTTP APIs
// (https://docs.aws.amazon.com/apigateway/latest/developerguide/websocket-api-custom-domain-names.html).
//
// Clients connect to wss://<domain>[/<MappingKey>] (WebSocketUrl). The callback URL that the
// handlers post to (CALLBACK_URL, CallbackUrl, the @connections grants) stays on
// https://{apiId}.execute-api.{region}.amazonaws.com/{stage}: @connections through a custom
// domain needs the mapping's path instead of the stage and is signed for that host, and
// handlers that build the endpoint from requestContext.domainName break behind a custom
// domain (aws-cdk issue 23805 asks for WebSocket domain mapping; serverless-websockets-plugin
// issue 6 shows the 403s). execute-api works whatever the domain setup.
//
// Cost: the domain name and its mapping are free; an ACM public certificate is free; a Route
// 53 hosted zone is $0.50 a month, and alias queries to API Gateway are charged as standard
// queries (Route 53 pricing).
type CustomDomainProps struct {
	// DomainName is the host name clients connect to, e.g. "chat.example.com": lower-case
	// letters, digits, hyphens and dots (API Gateway refuses upper case), no scheme, port,
	// path or wildcard. Required unless Domain is given.
	DomainName *string
	// Certificate is an ACM certificate for DomainName in the stack's region: a regional
	// domain name cannot use a certificate of another region (such as the us-east-1 ones
	// CloudFront needs). Required with DomainName.
	Certificate awscertificatemanager.ICertificate
	// Domain is an existing API Gateway domain name to map the stage to, instead of
	// DomainName and Certificate. It must be regional with the TLS_1_2 policy; when it is a
	// DomainName construct of this app, that is checked at synth.
	// Default: a new domain name made from DomainName and Certificate.
	Domain awsapigatewayv2.IDomainName
	// MappingKey is the path under the domain that the stage is mapped to, e.g. "chat" for
	// wss://example.com/chat: up to 300 letters, digits and $-_.+!*'(), with / between
	// levels. Default: none (the stage is the domain's root: wss://chat.example.com).
	MappingKey *string
	// HostedZone is the Route 53 hosted zone that holds the domain name: the construct adds
	// an alias A record to the domain's regional endpoint (IPv4, API Gateway's default
	// address type for a domain name). Default: no DNS record; point a CNAME or alias at the
	// domain name's RegionalDomainName yourself.
	HostedZone awsroute53.IHostedZone
}

// customDomain is CustomDomainProps checked.
type customDomain struct {
	name       *string // DomainName, or nil with Domain
	cert       awscertificatemanager.ICertificate
	domain     awsapigatewayv2.IDomainName
	mappingKey *string
	zone       awsroute53.IHostedZone
}

var (
	hostNamePattern   = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
	mappingKeyPattern = regexp.MustCompile(`^[A-Za-z0-9$\-_.+!*'()]+(/[A-Za-z0-9$\-_.+!*'()]+)*$`)
)

// customDomain checks the CustomDomain prop.
func (v validator) customDomain(p CustomDomainProps) *customDomain {
	switch {
	case p.Domain != nil && (p.DomainName != nil || p.Certificate != nil):
		v.fail("CustomDomain", "give either Domain or DomainName with Certificate, not both")
	case p.Domain == nil && p.DomainName == nil:
		v.fail("CustomDomain.DomainName", "is required (or give an existing Domain)")
	case p.DomainName != nil && p.Certificate == nil:
		v.fail("CustomDomain.Certificate", "is required with DomainName: an ACM certificate for %q in the stack's region", *p.DomainName)
	}
	if resolved(p.DomainName) {
		v.hostName(*p.DomainName)
	}
	if p.MappingKey != nil && resolved(p.MappingKey) {
		if k := *p.MappingKey; len(k) > 300 || !mappingKeyPattern.MatchString(k) {
			v.fail("CustomDomain.MappingKey", "%q must be 1 to 300 letters, digits and $-_.+!*'(), with / between levels (API Gateway's rule); omit it to map the stage to the domain's root", k)
		}
	}
	if p.HostedZone != nil && resolved(p.DomainName) {
		zone := p.HostedZone.ZoneName()
		if resolved(zone) {
			z := strings.TrimSuffix(*zone, ".")
			if name := *p.DomainName; name != z && !strings.HasSuffix(name, "."+z) {
				v.fail("CustomDomain.HostedZone", "zone %q cannot hold a record for %q (Route 53 refuses names outside the zone)", z, name)
			}
		}
	}
	return &customDomain{name: p.DomainName, cert: p.Certificate, domain: p.Domain, mappingKey: p.MappingKey, zone: p.HostedZone}
}

// hostName checks DomainName against what API Gateway accepts for a domain name.
func (v validator) hostName(name string) {
	const prop = "CustomDomain.DomainName"
	switch {
	case strings.Contains(name, "://") || strings.ContainsAny(name, "/:"):
		v.fail(prop, "%q must be a host name only (no scheme, port or path), e.g. chat.example.com", name)
	case strings.Contains(name, "*"):
		v.fail(prop, "%q: a wildcard domain name gives no single URL for clients; name one host", name)
	case strings.ToLower(name) != name:
		v.fail(prop, "%q must be lower case (API Gateway refuses upper-case domain names)", name)
	case len(name) > 253 || !hostNamePattern.MatchString(name):
		v.fail(prop, "%q is not a host name: dot-separated labels of letters, digits and inner hyphens, at most 253 characters", name)
	}
}

// addCustomDomain makes (or takes) the domain name, maps the stage to it and adds the alias
// record. The certificate's and the domain's rules that need the stack are checked here.
func (c *webSocketChatApi) addCustomDomain() {
	d := c.cfg.domain
	if d.domain == nil {
		c.checkCertificateRegion(d.cert)
		d.domain = awsapigatewayv2.NewDomainName(c.Construct, jsii.String("Domain"), &awsapigatewayv2.DomainNameProps{
			DomainName:     d.name,
			Certificate:    d.cert,
			EndpointType:   awsapigatewayv2.EndpointType_REGIONAL,
			SecurityPolicy: awsapigatewayv2.SecurityPolicy_TLS_1_2,
		})
	} else {
		c.checkDomainEndpoint(d.domain)
	}
	awsapigatewayv2.NewApiMapping(c.Construct, jsii.String("DomainMapping"), &awsapigatewayv2.ApiMappingProps{
		Api:           c.api,
		DomainName:    d.domain,
		Stage:         c.stage,
		ApiMappingKey: d.mappingKey,
	})
	if d.zone != nil {
		awsroute53.NewARecord(c.Construct, jsii.String("DomainRecord"), &awsroute53.ARecordProps{
			Zone:       d.zone,
			RecordName: d.hostName(),
			Target: awsroute53.RecordTarget_FromAlias(awsroute53targets.NewApiGatewayv2DomainProperties(
				d.domain.RegionalDomainName(), d.domain.RegionalHostedZoneId())),
			Comment: jsii.String("WebSocketChatApi custom domain"),
		})
	}
}

// checkCertificateRegion refuses a certificate of another region than the stack's, when both
// are known at synth.
func (c *webSocketChatApi) checkCertificateRegion(cert awscertificatemanager.ICertificate) {
	arn, region := cert.CertificateArn(), awscdk.Stack_Of(c.Construct).Region()
	if !resolved(arn) || !resolved(region) {
		return
	}
	parts := strings.Split(*arn, ":")
	if len(parts) < 6 || parts[2] != "acm" {
		c.v.fail("CustomDomain.Certificate", "%q is not an ACM certificate ARN", *arn)
	}
	if parts[3] != *region {
		c.v.fail("CustomDomain.Certificate", "the certificate is in %s but the stack in %s: a regional domain name needs a certificate of its own region", parts[3], *region)
	}
}

// checkDomainEndpoint refuses a DomainName construct of this app with an edge-optimized
// endpoint or the TLS_1_0 policy, which API Gateway refuses for WebSocket APIs. An imported
// domain name cannot be checked.
func (c *webSocketChatApi) checkDomainEndpoint(domain awsapigatewayv2.IDomainName) {
	cfn, ok := domain.Node().DefaultChild().(awsapigatewayv2.CfnDomainName)
	if !ok {
		return
	}
	configs, _ := awscdk.Stack_Of(domain).Resolve(cfn.DomainNameConfigurations()).([]any)
	for _, raw := range configs {
		conf, _ := raw.(map[string]any)
		if t, _ := conf["endpointType"].(string); t != "" && t != "REGIONAL" {
			c.v.fail("CustomDomain.Domain", "endpoint type %s: WebSocket APIs accept regional custom domain names only", t)
		}
		if p, _ := conf["securityPolicy"].(string); p != "" && p != "TLS_1_2" {
			c.v.fail("CustomDomain.Domain", "security policy %s: WebSocket APIs accept TLS_1_2 only", p)
		}
	}
}

// hostName is the domain's host name: DomainName as given (so outputs read as text), or the
// existing Domain's name.
func (d *customDomain) hostName() *string {
	if d.name != nil {
		return d.name
	}
	return d.domain.Name()
}

// webSocketURL is the URL clients connect to: the custom domain's when there is one.
func (c *webSocketChatApi) webSocketURL() *string {
	d := c.cfg.domain
	if d == nil {
		return c.stage.Url()
	}
	url := "wss://" + *d.hostName()
	if d.mappingKey != nil {
		url += "/" + *d.mappingKey
	}
	return jsii.String(url)
}
