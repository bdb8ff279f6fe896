package deployplan

import (
	"fmt"
	"io"
	"strings"

	"github.com/acme/genai-estate/internal/review/md"
)

// Summary is the plan in one line.
func (p *Plan) Summary() string {
	n := len(p.Steps())
	s := fmt.Sprintf("%d %s to deploy in %d %s of at most %d", n, md.Plural(n, "stack"), len(p.Waves), md.Plural(len(p.Waves), "wave"), p.WaveSize)
	if p.Unchanged > 0 {
		s += fmt.Sprintf(", %d unchanged", p.Unchanged)
	}
	if len(p.Delete) > 0 {
		s += fmt.Sprintf(", %d to delete", len(p.Delete))
	}
	return s
}

// Markdown writes the deploy plan as a document.
func (p *Plan) Markdown(w io.Writer) {
	fmt.Fprintf(w, "## Deploy plan\n\n**%s.**\n\n", p.Summary())
	p.Table(w)
}

// Table writes the notes, the waves as one table and the stacks to delete.
func (p *Plan) Table(w io.Writer) {
	for _, n := range p.Notes {
		fmt.Fprintf(w, "> [!WARNING]\n> %s\n\n", escape(n))
	}
	if len(p.Waves) == 0 {
		fmt.Fprint(w, "No stack to deploy.\n\n")
	} else {
		fmt.Fprint(w, "| wave | phase | stack | account | region | change |\n|---|---|---|---|---|---|\n")
		for _, wv := range p.Waves {
			for _, s := range wv.Include {
				fmt.Fprintf(w, "| %d | %s | `%s` | %s | %s | %s |\n", wv.Wave, wv.Phase, escape(s.Stack), s.Account, s.Region, change(s))
			}
		}
		fmt.Fprintln(w)
	}
	if len(p.Delete) > 0 {
		fmt.Fprint(w, "Stacks the head no longer has; `cdk deploy` leaves them, so delete them after the last wave (`npx cdk destroy` from the base, or CloudFormation):\n\n")
		for _, s := range p.Delete {
			fmt.Fprintf(w, "- `%s` (%s, %s)\n", escape(s.Stack), s.Account, s.Region)
		}
		fmt.Fprintln(w)
	}
}

func change(s Step) string {
	out := s.Change
	if len(s.Added) > 0 {
		out += ": +" + strings.Join(code(s.Added), ", +")
	}
	if len(s.Removed) > 0 {
		sep := ": "
		if len(s.Added) > 0 {
			sep = "; "
		}
		out += sep + "−" + strings.Join(code(s.Removed), ", −")
	}
	return out
}

// code quotes the first few names; a new stack's roles can be hundreds.
func code(names []string) []string {
	const show = 5
	var out []string
	for i, n := range names {
		if i == show {
			out[show-1] += fmt.Sprintf(" and %d more", len(names)-show)
			break
		}
		out = append(out, "`"+escape(n)+"`")
	}
	return out
}

// escape keeps a value inside its table cell.
func escape(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ", "`", "'").Replace(s)
}
