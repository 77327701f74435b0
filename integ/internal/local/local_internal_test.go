package local

import (
	"regexp"
	"testing"
)

func TestRewriteURL(t *testing.T) {
	const from = "https://abc.execute-api.us-east-1.amazonaws.com/prod"
	const to = "http://127.0.0.1:8080/prod"
	for _, c := range []struct{ in, want string }{
		{from, to},
		{from + "/@connections", to + "/@connections"},
		{from + "?x=1", to + "?x=1"},
		{from + "uction", from + "uction"}, // another stage, not a continuation
		{"prefix " + from, "prefix " + from},
		{"", ""},
	} {
		if got := rewriteURL(c.in, from, to); got != c.want {
			t.Errorf("rewriteURL(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	if got := rewriteURL("anything", "", to); got != "anything" {
		t.Errorf("rewriteURL with an empty prefix = %q, want the value unchanged", got)
	}
}

func TestAccessKeyID(t *testing.T) {
	a, b := accessKeyID("ChatChatFunction21D1B252"), accessKeyID("ChatConnectFunctionFC713592")
	valid := regexp.MustCompile(`^AKIALOCAL[A-Z2-7]{11}$`)
	if !valid.MatchString(a) || !valid.MatchString(b) {
		t.Errorf("access keys %q, %q: want AKIALOCAL + 11 upper-case letters and digits", a, b)
	}
	if a == b {
		t.Errorf("two functions share the access key %s", a)
	}
	if a != accessKeyID("ChatChatFunction21D1B252") {
		t.Error("the access key of a function changes between calls")
	}
}

func TestSplitList(t *testing.T) {
	got := splitList(" a, b,,c ")
	if len(got) != 3 || got[0] != "a" || got[1] != "b" || got[2] != "c" {
		t.Errorf("splitList = %q, want [a b c]", got)
	}
	if splitList("") != nil {
		t.Error("splitList of an empty string is not empty")
	}
}
