package local

import (
	"fmt"
	"sort"

	"github.com/chatstack/websocketchatapi/integ/internal/assembly"
)

// ignoredTypes are the resource types of a template that have no local meaning, with why:
// the local stack is reached at its own ws:// URL.
var ignoredTypes = map[string]string{
	"AWS::ApiGatewayV2::DomainName": "custom domain: connect to the local URL instead",
	"AWS::ApiGatewayV2::ApiMapping": "custom domain mapping: connect to the local URL instead",
	"AWS::Route53::RecordSet":       "DNS record: connect to the local URL instead",
}

// Ignored says, one line per resource, what of the template the local stack does not run
// because it has no local meaning (a custom domain, its mapping and DNS records), so that a
// runner can say so instead of failing or pretending.
func (e *Env) Ignored() []string { return ignoredResources(e.Stack) }

// ignoredResources lists st's resources of ignoredTypes, sorted by logical id.
func ignoredResources(st *assembly.Stack) []string {
	var out []string
	for id, res := range st.Resources {
		why, ok := ignoredTypes[res.Type]
		if !ok {
			continue
		}
		name := ""
		if s, ok := res.Properties["DomainName"].(string); ok {
			name = " " + s
		}
		out = append(out, fmt.Sprintf("%s (%s%s) is ignored locally: %s", id, res.Type, name, why))
	}
	sort.Strings(out)
	return out
}
