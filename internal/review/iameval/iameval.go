// Package iameval evaluates IAM policy documents the way IAM does: an
// explicit Deny wins, otherwise an Allow is needed; `*` and `?` wildcards in
// actions (case-insensitive) and resources; Principal and NotPrincipal; every
// condition operator of IAM's reference (String*, Numeric*, Date*, Bool,
// BinaryEquals, IpAddress/NotIpAddress, Arn*, Null), the IfExists suffix and
// the ForAnyValue:/ForAllValues: prefixes, with keys ANDed and values ORed;
// condition key names compared case-insensitively; and policy variables
// (${key}, ${key, 'default'}, ${*}, ${?}, ${$}) in resources and condition
// values.
//
// What it cannot decide (an operator it does not know, a value it cannot
// parse, a placeholder the assembly could not resolve, a policy variable the
// request does not carry) is Indeterminate, never a silent deny.
package iameval

import (
	"encoding/json"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/acme/genai-estate/internal/iampolicy"
)

// Request is one API call to authorise.
type Request struct {
	Action   string
	Resource string
	// Principal is the caller, by kind: "AWS", "Federated" or "Service".
	Principal map[string]string
	// Context holds condition keys; a key may carry several values. Names
	// are matched case-insensitively, as IAM does.
	Context map[string][]string
}

// Decision is the outcome of evaluating one document.
type Decision int

// Outcomes: no statement applied, allowed, explicitly denied, or it depends
// on something that cannot be evaluated here (an Allow that may apply, or an
// Allow that applies with a Deny that may).
const (
	ImplicitDeny Decision = iota
	Allow
	ExplicitDeny
	Indeterminate
)

func (d Decision) String() string {
	return [...]string{"implicit deny", "allow", "explicit deny", "indeterminate"}[d]
}

// tri is a three-valued truth: a statement or condition applies, does not,
// or cannot be decided.
type tri int8

const (
	no tri = iota
	yes
	unknown
)

func of(b bool) tri {
	if b {
		return yes
	}
	return no
}

func (t tri) not() tri {
	switch t {
	case yes:
		return no
	case no:
		return yes
	}
	return unknown
}

// and of two: no beats unknown beats yes.
func and(a, b tri) tri {
	if a == no || b == no {
		return no
	}
	if a == unknown || b == unknown {
		return unknown
	}
	return yes
}

// or of two: yes beats unknown beats no.
func or(a, b tri) tri {
	if a == yes || b == yes {
		return yes
	}
	if a == unknown || b == unknown {
		return unknown
	}
	return no
}

// Evaluate decides a request against a policy document (as generic JSON) and
// returns the Sids of the statements that allowed it (or may have).
func Evaluate(doc any, r Request) (Decision, []string) {
	var by []string
	d, _ := EvaluateAll([]any{doc}, r, func(_ int, sid string) { by = append(by, sid) })
	if d == ImplicitDeny || d == ExplicitDeny {
		return d, nil
	}
	return d, by
}

// EvaluateAll decides a request against several documents of one kind
// evaluated together, as IAM does a principal's identity policies: a Deny
// in any wins. allowing is told of each statement (document index and Sid)
// that allows the request or may; the indexes of those documents are returned.
func EvaluateAll(docs []any, r Request, allowing func(doc int, sid string)) (Decision, []int) {
	var allowed, may []int
	type hit struct {
		doc int
		sid string
	}
	var hits []hit
	mayDeny := false
	for i, doc := range docs {
		for _, st := range iampolicy.Statements(doc) {
			t := applies(st, r)
			if t == no {
				continue
			}
			switch st["Effect"] {
			case "Deny":
				if t == yes {
					return ExplicitDeny, nil
				}
				mayDeny = true
			case "Allow":
				if allowing != nil {
					sid, _ := st["Sid"].(string)
					hits = append(hits, hit{i, sid})
				}
				if t == yes {
					allowed = appendOnce(allowed, i)
				} else {
					may = appendOnce(may, i)
				}
			}
		}
	}
	if allowing != nil {
		for _, h := range hits {
			allowing(h.doc, h.sid)
		}
	}
	switch {
	case len(allowed) > 0 && !mayDeny:
		return Allow, allowed
	case len(allowed)+len(may) > 0:
		for _, i := range may {
			allowed = appendOnce(allowed, i)
		}
		return Indeterminate, allowed
	}
	return ImplicitDeny, nil
}

func appendOnce(s []int, i int) []int {
	if len(s) > 0 && s[len(s)-1] == i {
		return s
	}
	for _, x := range s {
		if x == i {
			return s
		}
	}
	return append(s, i)
}

// Both is the decision when two kinds of policy must both allow, as identity
// policies and a permissions boundary must.
func Both(a, b Decision) Decision {
	switch {
	case a == ExplicitDeny || b == ExplicitDeny:
		return ExplicitDeny
	case a == ImplicitDeny || b == ImplicitDeny:
		return ImplicitDeny
	case a == Allow && b == Allow:
		return Allow
	}
	return Indeterminate
}

// Match reports whether an IAM resource pattern (with * and ?) matches s.
func Match(pattern, s string) bool { return glob(pattern, s, false) }

func applies(st map[string]any, r Request) tri {
	t := yes
	if p, ok := st["Principal"]; ok {
		if t = and(t, principalMatches(p, r.Principal)); t == no {
			return no
		}
	}
	if p, ok := st["NotPrincipal"]; ok {
		if t = and(t, principalMatches(p, r.Principal).not()); t == no {
			return no
		}
	}
	if a, ok := st["Action"]; ok && !anyMatch(iampolicy.Strings(a), r.Action, true) {
		return no
	}
	if a, ok := st["NotAction"]; ok && anyMatch(iampolicy.Strings(a), r.Action, true) {
		return no
	}
	if res, ok := st["Resource"]; ok {
		if t = and(t, resourceMatch(iampolicy.Strings(res), r)); t == no {
			return no
		}
	}
	if res, ok := st["NotResource"]; ok {
		if t = and(t, resourceMatch(iampolicy.Strings(res), r).not()); t == no {
			return no
		}
	}
	cond, _ := st["Condition"].(map[string]any)
	for op, kv := range cond {
		keys, ok := kv.(map[string]any)
		if !ok {
			t = and(t, unknown)
			continue
		}
		for key, want := range keys {
			if t = and(t, condition(op, key, values(want), r.Context)); t == no {
				return no
			}
		}
	}
	return t
}

// values reads a condition's values: strings, or JSON booleans and numbers,
// which IAM accepts too ("Bool": {"aws:SecureTransport": false}).
func values(v any) []string {
	one := func(x any) string {
		switch x := x.(type) {
		case string:
			return x
		case bool:
			return strconv.FormatBool(x)
		case float64:
			return strconv.FormatFloat(x, 'f', -1, 64)
		case json.Number:
			return x.String()
		}
		return "{{unreadable}}" // undecidable rather than silently absent
	}
	if list, ok := v.([]any); ok {
		out := make([]string, 0, len(list))
		for _, x := range list {
			out = append(out, one(x))
		}
		return out
	}
	if s, ok := v.(string); ok {
		return []string{s}
	}
	if list, ok := v.([]string); ok {
		return list
	}
	return []string{one(v)}
}

func resourceMatch(patterns []string, r Request) tri {
	t := no
	for _, p := range patterns {
		if t = or(t, valueMatch(p, r.Resource, r.Context, globMatch)); t == yes {
			return yes
		}
	}
	return t
}

func globMatch(w, h string) tri { return of(glob(w, h, false)) }

func principalMatches(p any, caller map[string]string) tri {
	if p == "*" {
		return yes
	}
	pm, _ := p.(map[string]any)
	t := no
	for kind, v := range pm {
		for _, want := range iampolicy.Strings(v) {
			if isPlaceholder(want) {
				t = or(t, unknown)
				continue
			}
			if want == "*" || (caller[kind] != "" && caller[kind] == want) {
				return yes
			}
			// An account principal covers that account's roles and users.
			if kind == "AWS" && strings.HasSuffix(want, ":root") && caller[kind] != "" &&
				accountOf(want) == accountOf(caller[kind]) {
				return yes
			}
			if kind == "AWS" && len(want) == 12 && accountOf(caller[kind]) == want {
				return yes
			}
		}
	}
	return t
}

func accountOf(arn string) string {
	p := strings.Split(arn, ":")
	if len(p) > 4 {
		return p[4]
	}
	return arn
}

// lookup finds a condition key's values; key names are case-insensitive.
func lookup(ctx map[string][]string, key string) ([]string, bool) {
	if v, ok := ctx[key]; ok {
		return v, true
	}
	for k, v := range ctx {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return nil, false
}

// operator is one base operator: how a policy value matches a request value,
// and whether the operator is a negation ("Not" forms), which IAM evaluates
// as "matches none of the policy's values".
type operator struct {
	match  func(want, have string) tri
	negate bool
	// vars: policy variables are substituted in the operator's values.
	vars bool
}

var operators = map[string]operator{}

func init() {
	str := func(w, h string) tri { return of(w == h) }
	fold := func(w, h string) tri { return of(strings.EqualFold(w, h)) }
	like := func(w, h string) tri { return of(glob(w, h, false)) }
	add := func(name string, m func(w, h string) tri, negName string, vars bool) {
		operators[name] = operator{m, false, vars}
		if negName != "" {
			operators[negName] = operator{m, true, vars}
		}
	}
	add("StringEquals", str, "StringNotEquals", true)
	add("StringEqualsIgnoreCase", fold, "StringNotEqualsIgnoreCase", true)
	add("StringLike", like, "StringNotLike", true)
	// ArnEquals and ArnLike are the same: each of the six colon-separated
	// parts is matched separately, with wildcards.
	add("ArnEquals", arnMatch, "ArnNotEquals", true)
	add("ArnLike", arnMatch, "ArnNotLike", true)
	add("NumericEquals", numeric(func(c int) bool { return c == 0 }), "NumericNotEquals", false)
	add("NumericLessThan", numeric(func(c int) bool { return c < 0 }), "", false)
	add("NumericLessThanEquals", numeric(func(c int) bool { return c <= 0 }), "", false)
	add("NumericGreaterThan", numeric(func(c int) bool { return c > 0 }), "", false)
	add("NumericGreaterThanEquals", numeric(func(c int) bool { return c >= 0 }), "", false)
	add("DateEquals", date(func(c int) bool { return c == 0 }), "DateNotEquals", false)
	add("DateLessThan", date(func(c int) bool { return c < 0 }), "", false)
	add("DateLessThanEquals", date(func(c int) bool { return c <= 0 }), "", false)
	add("DateGreaterThan", date(func(c int) bool { return c > 0 }), "", false)
	add("DateGreaterThanEquals", date(func(c int) bool { return c >= 0 }), "", false)
	add("Bool", func(w, h string) tri {
		if !strings.EqualFold(w, "true") && !strings.EqualFold(w, "false") {
			return unknown
		}
		return of(strings.EqualFold(w, h))
	}, "", true)
	add("BinaryEquals", str, "", false)
	add("IpAddress", ipMatch, "NotIpAddress", false)
}

// condition evaluates one operator (with its prefix and suffix) on one key
// against a request's context: yes, no or unknown.
func condition(op, key string, want []string, ctx map[string][]string) tri {
	have, present := lookup(ctx, key)
	if len(have) == 0 {
		present = false
	}
	set := ""
	if i := strings.Index(op, ":"); i > 0 {
		set, op = op[:i], op[i+1:]
		if set != "ForAnyValue" && set != "ForAllValues" {
			return unknown
		}
	}
	if op == "Null" {
		// Null tests presence only: "true" means the key is absent.
		if set != "" {
			return unknown
		}
		t := no
		for _, w := range want {
			switch strings.ToLower(w) {
			case "true":
				t = or(t, of(!present))
			case "false":
				t = or(t, of(present))
			default:
				t = or(t, unknown)
			}
		}
		return t
	}
	base, ifExists := strings.CutSuffix(op, "IfExists")
	o, known := operators[base]
	if !known {
		return unknown
	}
	if !present {
		switch {
		case ifExists, set == "ForAllValues":
			return yes // an empty set satisfies ForAllValues; IfExists ignores a missing key
		case set == "ForAnyValue":
			return no
		}
		return of(o.negate) // a negated operator on a missing key matches
	}
	// member: does one request value satisfy the operator (a negated
	// operator: it matches none of the policy's values).
	member := func(h string) tri {
		if o.negate {
			return memberOf(o, want, h, ctx).not()
		}
		return memberOf(o, want, h, ctx)
	}
	switch set {
	case "ForAllValues":
		t := yes
		for _, h := range have {
			if t = and(t, member(h)); t == no {
				return no
			}
		}
		return t
	case "ForAnyValue":
		t := no
		for _, h := range have {
			if t = or(t, member(h)); t == yes {
				return yes
			}
		}
		return t
	}
	// A single-valued operator on a key with several values: a positive
	// operator matches when any value does; a negated one when none does.
	if o.negate {
		t := no
		for _, h := range have {
			t = or(t, memberOf(o, want, h, ctx))
		}
		return t.not()
	}
	t := no
	for _, h := range have {
		if t = or(t, member(h)); t == yes {
			return yes
		}
	}
	return t
}

// memberOf says whether a request value matches any of the policy's values
// under the operator's positive form.
func memberOf(o operator, want []string, h string, ctx map[string][]string) tri {
	t := no
	for _, w := range want {
		var m tri
		if o.vars {
			m = valueMatch(w, h, ctx, o.match)
		} else if isPlaceholder(w) {
			m = unknown
		} else {
			m = o.match(w, h)
		}
		if t = or(t, m); t == yes {
			return yes
		}
	}
	return t
}

// valueMatch matches a policy value (which may hold policy variables or
// assembly placeholders) against a request value with match.
func valueMatch(w, h string, ctx map[string][]string, match func(w, h string) tri) tri {
	t := yes
	if strings.Contains(w, "${") {
		var ok bool
		if w, ok = substitute(w, ctx); !ok {
			t = unknown
		}
	}
	if isPlaceholder(w) {
		// A placeholder stands for a value known only at deployment: if the
		// value cannot match whatever it becomes, no; else undecided.
		if glob(placeholders.ReplaceAllString(w, "*"), h, true) {
			return unknown
		}
		return no
	}
	if t == unknown {
		// The variable is not in the request: what IAM does then depends on
		// the request, which this review does not fully know.
		return unknown
	}
	return match(w, h)
}

// placeholders are what internal/review/assembly writes for values known
// only at deployment, e.g. {{Bucket.Arn}}.
var placeholders = regexp.MustCompile(`\{\{[^{}]*\}\}`)

func isPlaceholder(s string) bool { return strings.Contains(s, "{{") && placeholders.MatchString(s) }

var variable = regexp.MustCompile(`\$\{([^}]*)\}`)

// substitute replaces policy variables with the request's values; it says
// false when a variable names a key the request lacks (or holds several
// values) and has no default.
func substitute(w string, ctx map[string][]string) (string, bool) {
	ok := true
	out := variable.ReplaceAllStringFunc(w, func(m string) string {
		inner := strings.TrimSpace(m[2 : len(m)-1])
		switch inner {
		case "*", "?", "$":
			return literal(inner) // escapes: the character itself, never a wildcard
		}
		key, def, hasDef := strings.Cut(inner, ",")
		key = strings.TrimSpace(key)
		if v, found := lookup(ctx, key); found && len(v) == 1 {
			return v[0]
		}
		if hasDef {
			def = strings.TrimSpace(def)
			if len(def) >= 2 && def[0] == '\'' && def[len(def)-1] == '\'' {
				return strings.ReplaceAll(def[1:len(def)-1], "''", "'")
			}
		}
		ok = false
		return m
	})
	return out, ok
}

// literal returns a character that stands for itself under glob: glob treats
// these private-use runes as the literal * and ?.
func literal(c string) string {
	switch c {
	case "*":
		return string(litStar)
	case "?":
		return string(litQuestion)
	}
	return c
}

const (
	litStar     = '\uE000'
	litQuestion = '\uE001'
	litLead     = 0xEE // the first byte of both in UTF-8
)

// arnMatch matches an ARN pattern part by part: the six colon-separated
// parts (the resource part may itself hold colons), each with wildcards.
func arnMatch(w, h string) tri {
	wp, hp := strings.SplitN(w, ":", 6), strings.SplitN(h, ":", 6)
	if w == "*" {
		return yes
	}
	if len(wp) != 6 {
		// Not an ARN pattern of six parts: what IAM makes of it is not
		// documented, so undecided wherever it could match.
		if glob(w, h, false) {
			return unknown
		}
		return no
	}
	if len(hp) != 6 {
		return no
	}
	for i := range wp {
		if !glob(wp[i], hp[i], false) {
			return no
		}
	}
	return yes
}

func numeric(ok func(int) bool) func(w, h string) tri {
	return func(w, h string) tri {
		a, err := strconv.ParseFloat(w, 64)
		if err != nil {
			return unknown
		}
		b, err := strconv.ParseFloat(h, 64)
		if err != nil {
			return no
		}
		return of(ok(cmp(b, a)))
	}
}

func cmp(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func date(ok func(int) bool) func(w, h string) tri {
	return func(w, h string) tri {
		a, okw := parseDate(w)
		if !okw {
			return unknown
		}
		b, okh := parseDate(h)
		if !okh {
			return no
		}
		return of(ok(b.Compare(a)))
	}
}

// parseDate reads the forms IAM accepts: ISO 8601 dates and times, or epoch seconds.
func parseDate(s string) (time.Time, bool) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(n, 0).UTC(), true
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05Z0700", "2006-01-02T15:04Z07:00", "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// ipMatch: the policy value is a CIDR block or a single address, IPv4 or
// IPv6; the request value an address.
func ipMatch(w, h string) tri {
	var p netip.Prefix
	var err error
	if strings.Contains(w, "/") {
		p, err = netip.ParsePrefix(w)
	} else {
		var a netip.Addr
		if a, err = netip.ParseAddr(w); err == nil {
			p = netip.PrefixFrom(a, a.BitLen())
		}
	}
	if err != nil {
		return unknown
	}
	a, err := netip.ParseAddr(h)
	if err != nil {
		return no
	}
	return of(p.Masked().Contains(a.Unmap()))
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
		if strings.IndexByte(pattern, litLead) >= 0 {
			pattern = strings.NewReplacer(string(litStar), "*", string(litQuestion), "?").Replace(pattern)
		}
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
			case litStar:
				b.WriteString(`\*`)
			case litQuestion:
				b.WriteString(`\?`)
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
