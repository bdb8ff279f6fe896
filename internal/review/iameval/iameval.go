// Package iameval evaluates IAM policy documents the way IAM does, for the
// parts this toolkit generates: an explicit Deny wins, otherwise an Allow is
// needed; `*` and `?` wildcards in actions (case-insensitive) and resources;
// Principal matching; and the condition operators StringEquals, StringLike,
// ArnEquals, ArnLike, their negations and their ForAnyValue:/ForAllValues:
// forms, with keys ANDed and values ORed. A condition on a key the request
// does not carry does not match (except ForAllValues, which IAM treats as
// true on an empty set).
package iameval

import (
	"regexp"
	"strings"
	"sync"

	"github.com/acme/genai-estate/internal/iampolicy"
)

// Request is one API call to authorise.
type Request struct {
	Action   string
	Resource string
	// Principal is the caller, by kind: "AWS", "Federated" or "Service".
	Principal map[string]string
	// Context holds condition keys; a key may carry several values.
	Context map[string][]string
}

// Decision is the outcome of evaluating one document.
type Decision int

// Outcomes: no statement applied, allowed, or explicitly denied.
const (
	ImplicitDeny Decision = iota
	Allow
	ExplicitDeny
)

func (d Decision) String() string {
	return [...]string{"implicit deny", "allow", "explicit deny"}[d]
}

// Evaluate decides a request against a policy document (as generic JSON) and
// returns the Sids of the statements that allowed it.
func Evaluate(doc any, r Request) (Decision, []string) {
	var allowedBy []string
	for _, st := range iampolicy.Statements(doc) {
		if !applies(st, r) {
			continue
		}
		if st["Effect"] == "Deny" {
			return ExplicitDeny, nil
		}
		if st["Effect"] == "Allow" {
			sid, _ := st["Sid"].(string)
			allowedBy = append(allowedBy, sid)
		}
	}
	if len(allowedBy) > 0 {
		return Allow, allowedBy
	}
	return ImplicitDeny, nil
}

func applies(st map[string]any, r Request) bool {
	if _, ok := st["Principal"]; ok && !principalMatches(st["Principal"], r.Principal) {
		return false
	}
	if a, ok := st["Action"]; ok && !anyMatch(iampolicy.Strings(a), r.Action, true) {
		return false
	}
	if a, ok := st["NotAction"]; ok && anyMatch(iampolicy.Strings(a), r.Action, true) {
		return false
	}
	if res, ok := st["Resource"]; ok && !anyMatch(iampolicy.Strings(res), r.Resource, false) {
		return false
	}
	if res, ok := st["NotResource"]; ok && anyMatch(iampolicy.Strings(res), r.Resource, false) {
		return false
	}
	cond, _ := st["Condition"].(map[string]any)
	for op, kv := range cond {
		keys, _ := kv.(map[string]any)
		for key, want := range keys {
			if !condition(op, iampolicy.Strings(want), r.Context[key]) {
				return false
			}
		}
	}
	return true
}

func principalMatches(p any, caller map[string]string) bool {
	if p == "*" {
		return true
	}
	pm, _ := p.(map[string]any)
	for kind, v := range pm {
		for _, want := range iampolicy.Strings(v) {
			if want == "*" || (caller[kind] != "" && caller[kind] == want) {
				return true
			}
			// An account principal covers that account's roles and users.
			if kind == "AWS" && strings.HasSuffix(want, ":root") && caller[kind] != "" &&
				accountOf(want) == accountOf(caller[kind]) {
				return true
			}
			if kind == "AWS" && len(want) == 12 && accountOf(caller[kind]) == want {
				return true
			}
		}
	}
	return false
}

func accountOf(arn string) string {
	p := strings.Split(arn, ":")
	if len(p) > 4 {
		return p[4]
	}
	return arn
}

// condition evaluates one operator on one key: values are ORed.
func condition(op string, want, have []string) bool {
	set := ""
	if i := strings.Index(op, ":"); i > 0 {
		set, op = op[:i], op[i+1:]
	}
	var match func(w, h string) bool
	negate := false
	switch strings.TrimSuffix(op, "IfExists") {
	case "StringEquals", "ArnEquals":
		match = func(w, h string) bool { return w == h }
	case "StringEqualsIgnoreCase":
		match = strings.EqualFold
	case "StringLike", "ArnLike":
		match = func(w, h string) bool { return glob(w, h, false) }
	case "StringNotEquals", "ArnNotEquals":
		match, negate = func(w, h string) bool { return w == h }, true
	case "StringNotLike", "ArnNotLike":
		match, negate = func(w, h string) bool { return glob(w, h, false) }, true
	default:
		return false // an operator we do not model never matches
	}
	if len(have) == 0 {
		if set == "ForAllValues" || strings.HasSuffix(op, "IfExists") {
			return true
		}
		return negate && set == ""
	}
	anyWant := func(h string) bool {
		for _, w := range want {
			if match(w, h) {
				return true
			}
		}
		return false
	}
	switch set {
	case "ForAllValues":
		for _, h := range have {
			if anyWant(h) == negate {
				return false
			}
		}
		return true
	default: // single-valued, and ForAnyValue
		for _, h := range have {
			if anyWant(h) != negate {
				return true
			}
		}
		return false
	}
}

func anyMatch(patterns []string, s string, fold bool) bool {
	for _, p := range patterns {
		if glob(p, s, fold) {
			return true
		}
	}
	return false
}

// glob matches IAM wildcards: * any run of characters, ? exactly one.
// Most patterns have none, and compiled patterns are cached: a review
// evaluates the same documents for every principal.
func glob(pattern, s string, fold bool) bool {
	if !strings.ContainsAny(pattern, "*?") {
		if fold {
			return strings.EqualFold(pattern, s)
		}
		return pattern == s
	}
	key := pattern
	if fold {
		key = "(?i)" + pattern
	}
	re, ok := globs.Load(key)
	if !ok {
		var b strings.Builder
		if fold {
			b.WriteString("(?i)")
		}
		b.WriteString("^")
		for _, r := range pattern {
			switch r {
			case '*':
				b.WriteString("(?s:.*)")
			case '?':
				b.WriteString("(?s:.)")
			default:
				b.WriteString(regexp.QuoteMeta(string(r)))
			}
		}
		b.WriteString("$")
		re, _ = globs.LoadOrStore(key, regexp.MustCompile(b.String()))
	}
	return re.(*regexp.Regexp).MatchString(s)
}

var globs sync.Map // pattern -> *regexp.Regexp
