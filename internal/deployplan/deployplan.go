// Package deployplan orders the stacks of an estate for deployment: which
// stacks a change touches, in which order, in waves of at most N stacks.
// `estatectl deploy-plan`, the review plan's "Stacks to deploy" section and
// the CDK Pipelines stack all use this one rule.
//
// The rule, phase by phase (a phase ends a wave):
//
//  1. bootstrap: the CDK bootstrap StackSet (management or delegated-admin account);
//  2. tooling: the pipeline stacks (tooling account);
//  3. model accounts that add roles (new, renamed), change them, or add and
//     remove them: the gateway must never route to a role that does not exist;
//  4. central: the gateway's routing parameters change with every added,
//     renamed or removed use case;
//  5. model accounts that only remove roles: the gateway stops routing to a
//     role before the role goes;
//  6. everything else (the RAG stacks), by their dependencies.
//
// A stack deploys atomically, so a stack that adds and removes roles (a use
// case renamed within one shard) cannot satisfy both orders: it goes before
// central, and its removed roles disappear up to one wave before the gateway
// stops routing to them. The plan says so in a note; splitting the change in
// two (add the new name, deploy, then remove the old) avoids the gap.
//
// Within a phase a stack comes after the stacks it depends on (the account's
// first shard, which owns its OIDC provider; the RAG base stack); a new stack
// that a stack of an earlier phase needs moves up to that phase.
package deployplan

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Kinds of stack.
const (
	Bootstrap    = "bootstrap"
	Pipeline     = "pipeline"
	ModelAccount = "modelAccount"
	Central      = "central"
	Other        = "other" // RAG stacks and anything not recognised
)

// Phases, in deployment order.
const (
	PhaseBootstrap     = "bootstrap"
	PhaseTooling       = "tooling"
	PhaseBeforeCentral = "model accounts before central"
	PhaseCentral       = "central"
	PhaseAfterCentral  = "model accounts after central"
	PhaseOther         = "other stacks"
)

var phases = []string{PhaseBootstrap, PhaseTooling, PhaseBeforeCentral, PhaseCentral, PhaseAfterCentral, PhaseOther}

// DefaultWaveSize is the default number of stacks per wave.
const DefaultWaveSize = 50

// Stack is one stack of an estate as the ordering rule sees it.
type Stack struct {
	Name    string
	Account string
	Region  string
	Kind    string
	// Group names stacks that deploy together in one CDK Pipelines stage
	// (an account's shards, the RAG stacks); empty means the stack alone.
	Group string
	// Roles are the IAM role names the stack holds.
	Roles []string
	// DependsOn names the stacks this one needs to exist first.
	DependsOn []string
	// Fingerprint changes whenever what the stack deploys does (a template
	// hash, or a hash of the planned roles and policies).
	Fingerprint string
}

// Step is one stack to deploy, and why.
type Step struct {
	Stack   string   `json:"stack"`
	Account string   `json:"account"`
	Region  string   `json:"region"`
	Kind    string   `json:"kind"`
	Change  string   `json:"change"`
	Added   []string `json:"addedRoles,omitempty"`
	Removed []string `json:"removedRoles,omitempty"`
	group   string
	deps    []string
	phase   int
	new     bool
}

// Changes of a step.
const (
	ChangeNew     = "new stack"
	ChangeAdds    = "adds roles"
	ChangeRemoves = "removes roles"
	ChangeBoth    = "adds and removes roles"
	ChangeUpdate  = "changed"
	ChangeAll     = "deploy" // no base: every stack is deployed
	ChangeDelete  = "stack removed"
)

// Wave is a set of stacks that deploy in parallel; waves run in order. Include
// and Stacks make it usable as a GitHub Actions matrix or a `cdk deploy` list.
type Wave struct {
	Wave    int    `json:"wave"`
	Phase   string `json:"phase"`
	Stacks  string `json:"stacks"` // space-separated, for `cdk deploy`
	Include []Step `json:"include"`
}

// Plan is the ordered deployment.
type Plan struct {
	WaveSize int    `json:"waveSize"`
	Waves    []Wave `json:"waves"`
	// Delete lists stacks the head no longer has: `cdk deploy` leaves them,
	// so they are destroyed by hand, after every wave.
	Delete []Step `json:"delete"`
	// Unchanged counts stacks left out because they do not change.
	Unchanged int      `json:"unchanged"`
	Notes     []string `json:"notes"`
}

// Steps lists every stack to deploy, in order.
func (p *Plan) Steps() []Step {
	var out []Step
	for _, w := range p.Waves {
		out = append(out, w.Include...)
	}
	return out
}

// Order plans the deployment from base to head in waves of at most waveSize
// stacks (DefaultWaveSize when not positive). With a nil base every head
// stack is deployed; otherwise unchanged stacks are left out.
func Order(base, head []Stack, waveSize int) *Plan {
	if waveSize <= 0 {
		waveSize = DefaultWaveSize
	}
	p := &Plan{WaveSize: waveSize, Waves: []Wave{}, Delete: []Step{}, Notes: []string{}}
	steps := changed(base, head, p)
	byName := map[string]*Step{}
	for i := range steps {
		byName[steps[i].Stack] = &steps[i]
	}
	// A stack created here that an earlier phase's stack needs moves up to
	// that phase (the pipeline's cross-region support stacks, say).
	for moved := true; moved; {
		moved = false
		for i := range steps {
			for _, d := range steps[i].deps {
				if dep := byName[d]; dep != nil && dep.new && dep.phase > steps[i].phase {
					dep.phase, moved = steps[i].phase, true
				}
			}
		}
	}
	level := levels(steps, byName)
	sort.SliceStable(steps, func(i, j int) bool {
		a, b := steps[i], steps[j]
		if a.phase != b.phase {
			return a.phase < b.phase
		}
		if level[a.Stack] != level[b.Stack] {
			return level[a.Stack] < level[b.Stack]
		}
		return a.Stack < b.Stack
	})
	for i := 0; i < len(steps); {
		j := i
		for j < len(steps) && j-i < waveSize && steps[j].phase == steps[i].phase && level[steps[j].Stack] == level[steps[i].Stack] {
			j++
		}
		p.Waves = append(p.Waves, newWave(len(p.Waves)+1, phases[steps[i].phase], steps[i:j]))
		i = j
	}
	central := 0
	for _, w := range p.Waves {
		if w.Phase == PhaseCentral {
			central = w.Wave
		}
	}
	for _, w := range p.Waves {
		for _, s := range w.Include {
			if s.Change == ChangeBoth {
				when := "the central stack deploys"
				if central > 0 {
					when = fmt.Sprintf("wave %d (central) deploys", central)
				}
				p.Notes = append(p.Notes, fmt.Sprintf("%s adds and removes roles in one deployment (wave %d): the removed roles (%s) are gone until %s, and the gateway may still route to them. To avoid the gap, add the new roles in one change and remove the old ones in the next.", s.Stack, w.Wave, strings.Join(s.Removed, ", "), when))
			}
		}
	}
	return p
}

func newWave(n int, phase string, steps []Step) Wave {
	w := Wave{Wave: n, Phase: phase, Include: slices.Clone(steps)}
	var names []string
	for _, s := range steps {
		names = append(names, s.Stack)
	}
	w.Stacks = strings.Join(names, " ")
	return w
}

// changed compares base and head: the steps to deploy, with their phase.
func changed(base, head []Stack, p *Plan) []Step {
	var old map[string]Stack
	if base != nil {
		old = map[string]Stack{}
		for _, s := range base {
			old[s.Name] = s
		}
	}
	inHead := map[string]bool{}
	var steps []Step
	for _, h := range head {
		inHead[h.Name] = true
		st := Step{Stack: h.Name, Account: h.Account, Region: h.Region, Kind: h.Kind, group: h.Group, deps: h.DependsOn}
		b, had := old[h.Name]
		switch {
		case old == nil:
			st.Change = ChangeAll
			st.new = true
		case !had:
			st.Change, st.new = ChangeNew, true
			st.Added = slices.Clone(h.Roles)
		default:
			st.Added, st.Removed = minus(h.Roles, b.Roles), minus(b.Roles, h.Roles)
			switch {
			case len(st.Added) > 0 && len(st.Removed) > 0:
				st.Change = ChangeBoth
			case len(st.Added) > 0:
				st.Change = ChangeAdds
			case len(st.Removed) > 0:
				st.Change = ChangeRemoves
			case b.Fingerprint != h.Fingerprint || b.Kind != h.Kind:
				st.Change = ChangeUpdate
			default:
				p.Unchanged++
				continue
			}
		}
		st.phase = phase(h.Kind, st.Change)
		steps = append(steps, st)
	}
	for _, b := range base {
		if !inHead[b.Name] {
			p.Delete = append(p.Delete, Step{Stack: b.Name, Account: b.Account, Region: b.Region, Kind: b.Kind, Change: ChangeDelete, Removed: slices.Clone(b.Roles)})
		}
	}
	sort.Slice(p.Delete, func(i, j int) bool { return p.Delete[i].Stack < p.Delete[j].Stack })
	return steps
}

func phase(kind, change string) int {
	name := PhaseOther
	switch kind {
	case Bootstrap:
		name = PhaseBootstrap
	case Pipeline:
		name = PhaseTooling
	case Central:
		name = PhaseCentral
	case ModelAccount:
		name = PhaseBeforeCentral
		if change == ChangeRemoves {
			name = PhaseAfterCentral
		}
	}
	return slices.Index(phases, name)
}

// levels numbers each step by the length of its longest chain of
// dependencies within its phase.
func levels(steps []Step, byName map[string]*Step) map[string]int {
	level := map[string]int{}
	var visit func(s *Step, seen map[string]bool) int
	visit = func(s *Step, seen map[string]bool) int {
		if l, ok := level[s.Stack]; ok {
			return l
		}
		if seen[s.Stack] { // a cycle: CDK rejects it before this runs
			return 0
		}
		seen[s.Stack] = true
		l := 0
		for _, d := range s.deps {
			if dep := byName[d]; dep != nil && dep.phase == s.phase {
				l = max(l, visit(dep, seen)+1)
			}
		}
		level[s.Stack] = l
		return l
	}
	for i := range steps {
		visit(&steps[i], map[string]bool{})
	}
	return level
}

// minus is a without b; IAM role names compare ignoring case.
func minus(a, b []string) []string {
	in := map[string]bool{}
	for _, s := range b {
		in[strings.ToLower(s)] = true
	}
	var out []string
	for _, s := range a {
		if !in[strings.ToLower(s)] {
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}
