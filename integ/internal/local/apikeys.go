package local

import (
	"crypto/rand"
	"sort"

	"github.com/chatstack/websocketchatapi/integ/internal/assembly"
)

// APIKey is one API key of the running stack, with the value clients send.
type APIKey struct {
	// LogicalID is the key's logical id in the template.
	LogicalID string
	// ID is the key's local id.
	ID string
	// Value is what a client sends (x-api-key, or what the authorizer returns): the
	// template's Value, or one this Env generated for a key CloudFormation would generate.
	Value string
	// Generated reports whether Value was generated here.
	Generated bool
	// Enabled mirrors the key's Enabled (a disabled key is refused).
	Enabled bool
	// Plans are the names (UsagePlanName, else logical id) of the key's usage plans.
	Plans []string
}

// keyAlphabet is that of the values API Gateway generates: letters and digits.
const keyAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// generateKeyValues gives every key of st without a Value a random 40-character one, as API
// Gateway generates, and returns the values by key id.
func generateKeyValues(st *assembly.Stack) map[string]string {
	values := map[string]string{}
	for _, k := range st.APIKeys {
		if k.Value != "" {
			continue
		}
		b := make([]byte, 40)
		_, _ = rand.Read(b)
		for i := range b {
			b[i] = keyAlphabet[int(b[i])%len(keyAlphabet)]
		}
		values[k.ID] = string(b)
	}
	return values
}

// APIKeys lists the stack's API keys with their values, by logical id.
func (e *Env) APIKeys() []APIKey {
	var out []APIKey
	for _, k := range e.Stack.APIKeys {
		key := APIKey{LogicalID: k.LogicalID, ID: k.ID, Value: k.Value, Enabled: k.Enabled}
		if key.Value == "" {
			key.Value, key.Generated = e.keyValues[k.ID], true
		}
		for _, p := range k.Plans {
			name := p.Name
			if name == "" {
				name = p.LogicalID
			}
			key.Plans = append(key.Plans, name)
		}
		out = append(out, key)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].LogicalID < out[j].LogicalID })
	return out
}
