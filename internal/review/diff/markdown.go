package diff

import (
	"fmt"
	"io"
	"strings"

	"github.com/acme/genai-estate/internal/review/access"
	"github.com/acme/genai-estate/internal/review/md"
)

// Summary is the plan in one line.
func (p *Plan) Summary() string {
	counts := map[string]int{}
	for _, c := range p.Changes {
		counts[c.Kind+" "+c.Resource]++
	}
	var parts []string
	for _, k := range []string{"added role", "removed role", "replaced role", "modified role", "added policy", "removed policy", "replaced policy", "modified policy"} {
		if n := counts[k]; n > 0 {
			kind, res, _ := strings.Cut(k, " ")
			parts = append(parts, fmt.Sprintf("%d %s %s", n, kind, md.Plural(n, res)))
		}
	}
	roles := "no role or policy changes"
	if len(parts) > 0 {
		roles = strings.Join(parts, ", ")
	}
	return fmt.Sprintf("%d %s gained, %d lost; %s", len(p.Gained), md.Plural(len(p.Gained), "grant"), len(p.Lost), roles)
}

// Markdown writes the plan for a pull-request comment.
func (p *Plan) Markdown(w io.Writer) {
	fmt.Fprintf(w, "## Access plan\n\nFrom %s to %s: **%s**.\n\n", md.Code(p.Base), md.Code(p.Head), p.Summary())
	if p.Replacements() > 0 {
		fmt.Fprintf(w, "> [!WARNING]\n> %d %s: a replaced role is deleted and created again, so sessions on it end and the gateway must use the new ARN.\n\n", p.Replacements(), md.Plural(p.Replacements(), "replacement"))
	}
	grants(w, "Access gained", p.Gained)
	grants(w, "Access lost", p.Lost)
	fmt.Fprint(w, "### Roles and policies\n\n")
	if len(p.Changes) == 0 {
		fmt.Fprint(w, "No role or policy changes.\n\n")
	} else {
		fmt.Fprint(w, md.Head("change", "account", "resource", "name", "note", "who can assume it"))
		for _, c := range p.Changes {
			kind, name := c.Kind, md.Code(c.Name)
			if c.Kind == Replaced {
				kind = "**replaced** ⚠️"
				if c.From != c.Name {
					name = md.Code(c.From) + " → " + md.Code(c.Name)
				}
			}
			var who []string
			for _, x := range p.Assumers[c.Account+"/"+c.Name] {
				who = append(who, md.Text(x))
			}
			if c.Resource == "role" && c.Kind != Removed && len(who) == 0 {
				who = []string{"nobody"}
			}
			fmt.Fprint(w, md.Row(kind, md.Text(p.account(c.Account)), c.Resource, name, md.Text(c.Note), strings.Join(who, "<br>")))
		}
		fmt.Fprintln(w)
	}
	p.stacksMarkdown(w)
	if len(p.NewExcess) > 0 {
		fmt.Fprint(w, "### New grants beyond the config\n\n")
		for _, f := range p.NewExcess {
			fmt.Fprintf(w, "- %s %s: %s\n", md.Text(f.Account), md.Code(f.Role), md.Text(f.Problem))
		}
		fmt.Fprintln(w)
	}
}

func withName(name, account string) string {
	if name == "" {
		return account
	}
	return name + " (" + account + ")"
}

func (p *Plan) account(id string) string { return withName(p.AccountNames[id], id) }

func grants(w io.Writer, title string, es []access.Entry) {
	fmt.Fprintf(w, "### %s\n\n", title)
	if len(es) == 0 {
		fmt.Fprint(w, "None.\n\n")
		return
	}
	fmt.Fprint(w, md.Head("principal", "use case or vendor", "account", "region", "model", "through role"))
	for _, e := range es {
		fmt.Fprint(w, md.Row(md.Text(e.Principal.String()), md.Text(e.Principal.Name), md.Text(withName(e.AccountName, e.Account)), md.Text(e.Region), md.Code(e.Model), md.Code(e.Role)))
	}
	fmt.Fprintln(w)
}
