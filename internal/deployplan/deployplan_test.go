package deployplan

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// estateOf builds a small estate: model stacks with their roles, the
// central stack (whose fingerprint is its routing data: the role list), and
// the RAG stacks.
func estateOf(accounts map[string][]string) []Stack {
	var out []Stack
	var all []string
	for _, name := range sortedKeys(accounts) {
		roles := accounts[name]
		s := Stack{Name: name, Account: "2000000000" + name[len(name)-2:], Region: "us-east-1", Kind: ModelAccount, Group: strings.TrimSuffix(name, "-2"), Roles: roles, Fingerprint: strings.Join(roles, ",")}
		if strings.HasSuffix(name, "-2") {
			s.DependsOn = []string{strings.TrimSuffix(name, "-2")}
		}
		out = append(out, s)
		all = append(all, roles...)
	}
	slices.Sort(all)
	out = append(out,
		Stack{Name: "ACME-GenAIGateway-Central", Account: "111111111111", Region: "us-east-1", Kind: Central, Fingerprint: strings.Join(all, ",")},
		Stack{Name: "Rag-Base", Account: "333333333333", Region: "eu-west-1", Kind: Other, Group: "Rag", Fingerprint: "rag"},
		Stack{Name: "Rag-Lambda", Account: "333333333333", Region: "eu-west-1", Kind: Other, Group: "Rag", DependsOn: []string{"Rag-Base"}, Fingerprint: "rag"},
	)
	return out
}

func sortedKeys(m map[string][]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// rows renders a plan as "wave phase: stack(change)" lines.
func rows(p *Plan) []string {
	var out []string
	for _, w := range p.Waves {
		var names []string
		for _, s := range w.Include {
			names = append(names, s.Stack+"("+s.Change+")")
		}
		out = append(out, fmt.Sprintf("%d %s: %s", w.Wave, w.Phase, strings.Join(names, " ")))
	}
	for _, s := range p.Delete {
		out = append(out, "delete: "+s.Stack)
	}
	return out
}

func TestOrder(t *testing.T) {
	base := map[string][]string{
		"ACME-GenAI-A01": {"ACME-GenAI-UcOne-BedrockInvokeRole"},
		"ACME-GenAI-B02": {"ACME-GenAI-UcOne-BedrockInvokeRole", "ACME-GenAI-UcTwo-BedrockInvokeRole"},
	}
	with := func(changes map[string][]string) map[string][]string {
		out := map[string][]string{}
		for k, v := range base {
			out[k] = v
		}
		for k, v := range changes {
			if v == nil {
				delete(out, k)
			} else {
				out[k] = v
			}
		}
		return out
	}
	tests := []struct {
		name      string
		head      map[string][]string
		want      []string
		wantNotes int
	}{
		{"no change", base, nil, 0},
		{"add a use case: model account first, then central",
			with(map[string][]string{"ACME-GenAI-A01": {"ACME-GenAI-UcOne-BedrockInvokeRole", "ACME-GenAI-UcThree-BedrockInvokeRole"}}),
			[]string{"1 model accounts before central: ACME-GenAI-A01(adds roles)", "2 central: ACME-GenAIGateway-Central(changed)"}, 0},
		{"remove a use case: central first, then the model accounts",
			with(map[string][]string{"ACME-GenAI-B02": {"ACME-GenAI-UcOne-BedrockInvokeRole"}}),
			[]string{"1 central: ACME-GenAIGateway-Central(changed)", "2 model accounts after central: ACME-GenAI-B02(removes roles)"}, 0},
		{"rename across shards: the new role's shard, central, the old role's shard",
			with(map[string][]string{
				"ACME-GenAI-B02":   {"ACME-GenAI-UcOne-BedrockInvokeRole"},
				"ACME-GenAI-B02-2": {"ACME-GenAI-UcZwei-BedrockInvokeRole"},
			}),
			[]string{"1 model accounts before central: ACME-GenAI-B02-2(new stack)", "2 central: ACME-GenAIGateway-Central(changed)", "3 model accounts after central: ACME-GenAI-B02(removes roles)"}, 0},
		{"rename within one stack: before central, with a note on the gap",
			with(map[string][]string{"ACME-GenAI-B02": {"ACME-GenAI-UcOne-BedrockInvokeRole", "ACME-GenAI-UcZwei-BedrockInvokeRole"}}),
			[]string{"1 model accounts before central: ACME-GenAI-B02(adds and removes roles)", "2 central: ACME-GenAIGateway-Central(changed)"}, 1},
		{"mixed: an add in one account, a removal in another",
			with(map[string][]string{
				"ACME-GenAI-A01": {"ACME-GenAI-UcOne-BedrockInvokeRole", "ACME-GenAI-UcThree-BedrockInvokeRole"},
				"ACME-GenAI-B02": {"ACME-GenAI-UcOne-BedrockInvokeRole"},
			}),
			[]string{"1 model accounts before central: ACME-GenAI-A01(adds roles)", "2 central: ACME-GenAIGateway-Central(changed)", "3 model accounts after central: ACME-GenAI-B02(removes roles)"}, 0},
		{"an account removed: central first, the stack destroyed by hand",
			with(map[string][]string{"ACME-GenAI-A01": nil}),
			[]string{"1 central: ACME-GenAIGateway-Central(changed)", "delete: ACME-GenAI-A01"}, 0},
		{"a new account with two shards: the second after the first",
			with(map[string][]string{"ACME-GenAI-C03": {"ACME-GenAI-UcOne-BedrockInvokeRole"}, "ACME-GenAI-C03-2": {"ACME-GenAI-UcFour-BedrockInvokeRole"}}),
			[]string{"1 model accounts before central: ACME-GenAI-C03(new stack)", "2 model accounts before central: ACME-GenAI-C03-2(new stack)", "3 central: ACME-GenAIGateway-Central(changed)"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Order(estateOf(base), estateOf(tt.head), 0)
			got := rows(p)
			if !slices.Equal(got, tt.want) {
				t.Errorf("order:\n got %q\nwant %q", got, tt.want)
			}
			if len(p.Notes) != tt.wantNotes {
				t.Errorf("notes = %q, want %d", p.Notes, tt.wantNotes)
			}
			if p.Unchanged+len(p.Steps()) != len(estateOf(tt.head)) {
				t.Errorf("%d unchanged + %d steps != %d head stacks", p.Unchanged, len(p.Steps()), len(estateOf(tt.head)))
			}
		})
	}
}

func TestFullDeployOrderAndWaves(t *testing.T) {
	accounts := map[string][]string{}
	for i := range 7 {
		accounts[fmt.Sprintf("ACME-GenAI-X%02d", i)] = []string{"R"}
	}
	accounts["ACME-GenAI-X03-2"] = []string{"S"}
	head := append([]Stack{
		{Name: "ACME-GenAI-Pipeline", Kind: Pipeline},
		{Name: "ACME-GenAI-CDKBootstrap", Kind: Bootstrap},
	}, estateOf(accounts)...)
	p := Order(nil, head, 3)
	want := []string{
		"1 bootstrap: ACME-GenAI-CDKBootstrap(deploy)",
		"2 tooling: ACME-GenAI-Pipeline(deploy)",
		"3 model accounts before central: ACME-GenAI-X00(deploy) ACME-GenAI-X01(deploy) ACME-GenAI-X02(deploy)",
		"4 model accounts before central: ACME-GenAI-X03(deploy) ACME-GenAI-X04(deploy) ACME-GenAI-X05(deploy)",
		"5 model accounts before central: ACME-GenAI-X06(deploy)",
		"6 model accounts before central: ACME-GenAI-X03-2(deploy)",
		"7 central: ACME-GenAIGateway-Central(deploy)",
		"8 other stacks: Rag-Base(deploy)",
		"9 other stacks: Rag-Lambda(deploy)",
	}
	if got := rows(p); !slices.Equal(got, want) {
		t.Errorf("full deploy:\n got %q\nwant %q", got, want)
	}
	for _, w := range p.Waves {
		if len(w.Include) > 3 {
			t.Errorf("wave %d has %d stacks", w.Wave, len(w.Include))
		}
		if w.Stacks != strings.Join(names(w.Include), " ") {
			t.Errorf("wave %d: stacks %q", w.Wave, w.Stacks)
		}
	}
}

func names(steps []Step) []string {
	var out []string
	for _, s := range steps {
		out = append(out, s.Stack)
	}
	return out
}

func TestLayout(t *testing.T) {
	// 200 accounts of 4 shards: 800 stacks, 1,600 actions, more than one pipeline holds.
	var head []Stack
	for a := range 200 {
		for shard := range 4 {
			s := Stack{Name: fmt.Sprintf("ACME-GenAI-Acct%03d", a), Account: fmt.Sprintf("%012d", 200000000000+a), Region: "us-east-1", Kind: ModelAccount, Group: fmt.Sprintf("Acct%03d", a)}
			if shard > 0 {
				s.DependsOn = []string{s.Name}
				s.Name += fmt.Sprintf("-%d", shard+1)
			}
			head = append(head, s)
		}
	}
	head = append(head, Stack{Name: "ACME-GenAIGateway-Central", Kind: Central, Group: "Central"},
		Stack{Name: "Rag-Base", Kind: Other, Group: "Rag"}, Stack{Name: "Rag-Lambda", Kind: Other, Group: "Rag", DependsOn: []string{"Rag-Base"}},
		Stack{Name: "ACME-GenAI-Pipeline", Kind: Pipeline})
	pipelines, err := Layout(head, 25)
	if err != nil {
		t.Fatal(err)
	}
	if len(pipelines) != 2 {
		t.Fatalf("%d pipelines, want 2", len(pipelines))
	}
	seen := map[string]int{}
	var order []string
	for _, waves := range pipelines {
		actions := 0
		for _, w := range waves {
			if w.Actions() > MaxActionsPerStage {
				t.Errorf("%s: %d actions in one stage", w.Name, w.Actions())
			}
			actions += w.Actions()
			for _, s := range w.Stages {
				order = append(order, s.Name)
				for _, st := range s.Stacks {
					seen[st.Stack]++
				}
			}
		}
		if actions+ReservedActions > MaxActionsPerPipeline || len(waves)+ReservedStages > MaxStagesPerPipeline {
			t.Errorf("pipeline of %d actions, %d waves", actions, len(waves))
		}
	}
	for _, s := range head {
		if want := 1; s.Kind == Pipeline {
			want = 0
			if seen[s.Name] != want {
				t.Errorf("%s in %d stages", s.Name, seen[s.Name])
			}
		} else if seen[s.Name] != want {
			t.Errorf("%s in %d stages, want %d", s.Name, seen[s.Name], want)
		}
	}
	if i := slices.Index(order, "Central"); i != len(order)-2 || order[len(order)-1] != "Rag" {
		t.Errorf("central at %d of %d, then %q", i, len(order), order[len(order)-1])
	}
	if _, err := Layout(head, 26); err == nil {
		t.Error("26 stacks per wave (52 actions) accepted")
	}
}

func TestLayoutRejectsAStageLargerThanAWave(t *testing.T) {
	var head []Stack
	for i := range 5 {
		s := Stack{Name: fmt.Sprintf("A-%d", i), Kind: ModelAccount, Group: "A"}
		if i > 0 {
			s.DependsOn = []string{"A-0"}
		}
		head = append(head, s)
	}
	if _, err := Layout(head, 4); err == nil || !strings.Contains(err.Error(), "stage A has 5 stacks") {
		t.Errorf("err = %v", err)
	}
	if p, err := Layout(head, 5); err != nil || len(p) != 1 || len(p[0]) != 1 {
		t.Errorf("5 shards in a wave of 5: %v %v", p, err)
	}
}

func TestNewDependencyMovesUp(t *testing.T) {
	head := []Stack{
		{Name: "Pipeline", Kind: Pipeline, DependsOn: []string{"Pipeline-support-us-west-2"}},
		{Name: "Pipeline-support-us-west-2", Kind: Other},
		{Name: "Models", Kind: ModelAccount},
	}
	want := []string{"1 tooling: Pipeline-support-us-west-2(deploy)", "2 tooling: Pipeline(deploy)", "3 model accounts before central: Models(deploy)"}
	if got := rows(Order(nil, head, 0)); !slices.Equal(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
}
