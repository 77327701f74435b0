package examples

import (
	"regexp/syntax"
	"strings"
	"unicode/utf8"
)

// fromPattern returns a short string that matches the regular expression pattern, at least
// minLen and at most maxLen characters long (maxLen < 0: no upper bound), and false when the
// pattern does not parse or its repetitions cannot reach those lengths. It takes the first alternative of every choice, a preferred
// character of every class (a lowercase letter, then a digit, then the class's first), and
// the fewest repetitions, adding more (leftmost first) until minLen is reached. The caller
// checks the result against the pattern: anchors in the middle of a pattern are not honoured.
func fromPattern(pattern string, minLen, maxLen int) (string, bool) {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return "", false
	}
	re = re.Simplify()
	var b strings.Builder
	gen(&b, re, 0)
	need := minLen - utf8.RuneCountInString(b.String())
	if need <= 0 {
		return b.String(), true
	}
	b.Reset()
	gen(&b, re, need)
	out := b.String()
	if n := utf8.RuneCountInString(out); n < minLen || (maxLen >= 0 && n > maxLen) {
		return "", false
	}
	return out, true
}

// gen writes a match of re to b, with up to extra more repetitions than the minimum; it
// returns how many of extra are left.
func gen(b *strings.Builder, re *syntax.Regexp, extra int) int {
	switch re.Op {
	case syntax.OpLiteral:
		for _, r := range re.Rune {
			b.WriteRune(r)
		}
	case syntax.OpCharClass:
		b.WriteRune(pick(re.Rune))
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		b.WriteRune('a')
	case syntax.OpCapture:
		return gen(b, re.Sub[0], extra)
	case syntax.OpConcat:
		for _, sub := range re.Sub {
			extra = gen(b, sub, extra)
		}
	case syntax.OpAlternate:
		return gen(b, re.Sub[0], extra)
	case syntax.OpStar, syntax.OpPlus, syntax.OpQuest, syntax.OpRepeat:
		lo, hi := bounds(re)
		n := lo
		for n < hi || hi < 0 {
			if extra <= 0 {
				break
			}
			n++
			extra--
		}
		for range n {
			extra = gen(b, re.Sub[0], extra)
		}
	}
	// Anchors, word boundaries and empty matches write nothing.
	return extra
}

// bounds returns the repetition counts of a repetition operator (hi < 0: unbounded).
func bounds(re *syntax.Regexp) (lo, hi int) {
	switch re.Op {
	case syntax.OpStar:
		return 0, -1
	case syntax.OpPlus:
		return 1, -1
	case syntax.OpQuest:
		return 0, 1
	}
	return re.Min, re.Max
}

// pick returns a character of a class given as ranges lo, hi, lo, hi, ...: a lowercase letter
// if it has one, else a digit, else an uppercase letter, else its first.
func pick(ranges []rune) rune {
	for _, want := range [][2]rune{{'a', 'z'}, {'0', '9'}, {'A', 'Z'}} {
		for i := 0; i+1 < len(ranges); i += 2 {
			lo, hi := ranges[i], ranges[i+1]
			if lo <= want[1] && hi >= want[0] {
				return max(lo, want[0])
			}
		}
	}
	if len(ranges) == 0 {
		return 'a'
	}
	return ranges[0]
}
