package deploy

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/chatstack/websocketchatapi/integ/internal/assembly"
)

// Dependency is one resource another one needs before it is created.
type Dependency struct {
	// ID is the logical id of the resource needed.
	ID string
	// Via says what makes the dependency: DependsOn, Ref, Fn::GetAtt or Fn::Sub.
	Via string
}

// Graph is the dependency graph CloudFormation orders a stack's creation by.
type Graph struct {
	ids  []string                // every resource, in logical id order
	deps map[string][]Dependency // by logical id, in logical id order of the dependency
}

// NewGraph builds the graph of resources (a stack's created resources, by logical id): each
// resource depends on the resources its DependsOn names and on those its properties refer to
// with Ref, Fn::GetAtt or Fn::Sub. A reference to anything else (a parameter, a pseudo
// parameter, a resource whose Condition is false, inside Fn::If) orders nothing. A DependsOn
// naming no resource and a dependency cycle are errors with CloudFormation's wording.
func NewGraph(resources map[string]*assembly.Resource) (*Graph, error) {
	g := &Graph{ids: slices.Sorted(maps.Keys(resources)), deps: map[string][]Dependency{}}
	var unresolved []string
	for _, id := range g.ids {
		res := resources[id]
		found := map[string]string{}
		for _, d := range res.DependsOn {
			if _, ok := resources[d]; !ok {
				unresolved = append(unresolved, d)
				continue
			}
			found[d] = "DependsOn"
		}
		walkRefs(res.Properties, func(name, via string) {
			if _, ok := resources[name]; ok && name != id && found[name] == "" {
				found[name] = via
			}
		})
		for _, d := range slices.Sorted(maps.Keys(found)) {
			g.deps[id] = append(g.deps[id], Dependency{ID: d, Via: found[d]})
		}
	}
	if len(unresolved) > 0 {
		slices.Sort(unresolved)
		return nil, fmt.Errorf("Template format error: Unresolved resource dependencies [%s] in the Resources block of the template", strings.Join(slices.Compact(unresolved), ", "))
	}
	if cyclic := g.cyclic(); len(cyclic) > 0 {
		return nil, fmt.Errorf("Circular dependency between resources: [%s]", strings.Join(cyclic, ", "))
	}
	return g, nil
}

// IDs returns every resource of the graph in logical id order.
func (g *Graph) IDs() []string { return slices.Clone(g.ids) }

// Dependencies returns what resource id needs before it is created, in logical id order.
func (g *Graph) Dependencies(id string) []Dependency { return slices.Clone(g.deps[id]) }

// DependsOn reports whether resource id needs resource dep, directly or through others.
func (g *Graph) DependsOn(id, dep string) bool {
	seen := map[string]bool{}
	var visit func(string) bool
	visit = func(n string) bool {
		for _, d := range g.deps[n] {
			if d.ID == dep {
				return true
			}
			if !seen[d.ID] {
				seen[d.ID] = true
				if visit(d.ID) {
					return true
				}
			}
		}
		return false
	}
	return visit(id)
}

// dependents returns, for each resource, the resources that depend on it directly.
func (g *Graph) dependents() map[string][]string {
	out := map[string][]string{}
	for _, id := range g.ids {
		for _, d := range g.deps[id] {
			out[d.ID] = append(out[d.ID], id)
		}
	}
	return out
}

// cyclic returns the resources that cannot be created because they sit on, or wait for, a
// dependency cycle (empty when the graph has none), in logical id order.
func (g *Graph) cyclic() []string {
	waiting := map[string]int{}
	for _, id := range g.ids {
		waiting[id] = len(g.deps[id])
	}
	dependents := g.dependents()
	var ready []string
	for _, id := range g.ids {
		if waiting[id] == 0 {
			ready = append(ready, id)
		}
	}
	for len(ready) > 0 {
		id := ready[len(ready)-1]
		ready = ready[:len(ready)-1]
		delete(waiting, id)
		for _, d := range dependents[id] {
			if waiting[d]--; waiting[d] == 0 {
				ready = append(ready, d)
			}
		}
	}
	return slices.Sorted(maps.Keys(waiting))
}

// walkRefs calls found with every resource-like name that v refers to: {"Ref": name},
// {"Fn::GetAtt": [name, attr]} or {"Fn::GetAtt": "name.attr"}, and ${name} or ${name.attr} in
// an Fn::Sub template (not ${!literal}, nor a name the Fn::Sub's variable map defines).
func walkRefs(v any, found func(name, via string)) {
	switch x := v.(type) {
	case map[string]any:
		if name, ok := x["Ref"].(string); ok {
			found(name, "Ref")
		}
		switch a := x["Fn::GetAtt"].(type) {
		case string:
			name, _, _ := strings.Cut(a, ".")
			found(name, "Fn::GetAtt")
		case []any:
			if len(a) > 0 {
				if name, ok := a[0].(string); ok {
					found(name, "Fn::GetAtt")
				}
			}
		}
		switch s := x["Fn::Sub"].(type) {
		case string:
			subRefs(s, nil, found)
		case []any:
			if len(s) == 2 {
				tmpl, _ := s[0].(string)
				vars, _ := s[1].(map[string]any)
				subRefs(tmpl, vars, found)
			}
		}
		for _, k := range slices.Sorted(maps.Keys(x)) {
			walkRefs(x[k], found)
		}
	case []any:
		for _, e := range x {
			walkRefs(e, found)
		}
	}
}

// subRefs reports the names an Fn::Sub template refers to outside its variable map vars.
func subRefs(tmpl string, vars map[string]any, found func(name, via string)) {
	for {
		i := strings.Index(tmpl, "${")
		if i < 0 {
			return
		}
		rest := tmpl[i+2:]
		j := strings.IndexByte(rest, '}')
		if j < 0 {
			return
		}
		name := strings.TrimSpace(rest[:j])
		tmpl = rest[j+1:]
		if strings.HasPrefix(name, "!") {
			continue
		}
		if _, local := vars[name]; local {
			continue
		}
		name, _, _ = strings.Cut(name, ".")
		found(name, "Fn::Sub")
	}
}
