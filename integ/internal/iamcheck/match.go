package iamcheck

import "strings"

// Match reports whether s matches pattern, where * matches any run of characters (including
// none) and ? matches exactly one character. The match is case-sensitive.
func Match(pattern, s string) bool {
	p, t := []rune(pattern), []rune(s)
	pi, ti := 0, 0
	star, mark := -1, 0
	for ti < len(t) {
		switch {
		case pi < len(p) && (p[pi] == '?' || p[pi] == t[ti]):
			pi++
			ti++
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, ti
			pi++
		case star >= 0:
			mark++
			pi, ti = star+1, mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

// ActionMatches reports whether an IAM action pattern (e.g. dynamodb:Get*) matches action,
// case-insensitively.
func ActionMatches(pattern, action string) bool {
	return Match(strings.ToLower(pattern), strings.ToLower(action))
}

// ResourceMatches reports whether an IAM resource pattern matches resource: "*" matches all; an
// ARN pattern matches segment by segment (partition, service, region, account, then the rest),
// as the ArnLike operator does, so a * in the region cannot swallow the account; anything else
// is a plain wildcard match. Matching is case-sensitive.
func ResourceMatches(pattern, resource string) bool {
	if pattern == "*" {
		return true
	}
	if !strings.HasPrefix(pattern, "arn:") {
		return Match(pattern, resource)
	}
	pp := strings.SplitN(pattern, ":", 6)
	rp := strings.SplitN(resource, ":", 6)
	if len(pp) != 6 || len(rp) != 6 {
		return Match(pattern, resource)
	}
	for i := range pp {
		if !Match(pp[i], rp[i]) {
			return false
		}
	}
	return true
}
