package access

import (
	"fmt"
	"io"
	"strings"

	"github.com/acme/genai-estate/internal/estate"
)

// Markdown writes the matrix for a pull-request comment.
func (m *Matrix) Markdown(w io.Writer) {
	fmt.Fprintf(w, "## Who can call which model where\n\nRead from `%s`", m.Source)
	if m.Config != "" {
		fmt.Fprintf(w, ", compared with `%s`", m.Config)
	}
	fmt.Fprint(w, ".")
	principals, roles := map[string]bool{}, map[string]bool{}
	grants := 0
	for _, e := range m.Entries {
		principals[e.Principal.Key()] = true
		roles[e.Account+e.Role] = true
		if e.Model != "" {
			grants++
		}
	}
	fmt.Fprintf(w, " %d principals, %d roles, %d grants; %d beyond the config, %d missing.\n\n", len(principals), len(roles), grants, len(m.Excess), len(m.Missing))
	if len(m.NotRead) > 0 {
		fmt.Fprintf(w, "Not compared, as no stack of theirs was read: %s.\n\n", strings.Join(m.NotRead, ", "))
	}
	sections := []struct {
		kind, title string
		head        []string
		cells       func(Entry) []string
	}{
		{Token, "Token subjects", []string{"subject", "audience", "use case"}, func(e Entry) []string {
			return []string{code(e.Principal.Subject), code(e.Principal.Audience), e.Principal.Name}
		}},
		{Vendor, "Vendors", []string{"vendor", "principal", "external id"}, func(e Entry) []string {
			return []string{e.Principal.Name, code(e.Principal.AWS), code(e.Principal.ExternalID)}
		}},
		{Service, "Service roles that reach Bedrock", []string{"service", "for"}, func(e Entry) []string {
			return []string{code(e.Principal.Service), e.Principal.Name}
		}},
	}
	for _, s := range sections {
		var rows [][]string
		for _, e := range m.Entries {
			if e.Principal.Kind == s.kind {
				rows = append(rows, append(s.cells(e), account(e), code(e.Role), e.Region, model(e), strings.Join(e.Policies, "<br>")))
			}
		}
		if len(rows) == 0 {
			continue
		}
		fmt.Fprintf(w, "### %s\n\n", s.title)
		table(w, append(s.head, "account", "role", "region", "model", "through policy"), rows)
	}
	findings(w, "Grants beyond the config", "Nothing grants more than the config asks for.", m.Excess)
	findings(w, "Granted by the config but not by the estate", "Everything the config asks for is granted.", m.Missing)
}

func findings(w io.Writer, title, none string, fs []Finding) {
	fmt.Fprintf(w, "### %s\n\n", title)
	if len(fs) == 0 {
		fmt.Fprintf(w, "%s\n\n", none)
		return
	}
	for _, f := range fs {
		fmt.Fprintf(w, "- %s `%s`: %s\n", f.Account, f.Role, f.Problem)
	}
	fmt.Fprintln(w)
}

func account(e Entry) string {
	if e.AccountName != "" {
		return e.AccountName + " (" + e.Account + ")"
	}
	return e.Account
}

func model(e Entry) string {
	if e.Model == "" {
		return "none"
	}
	s := code(e.Model)
	if e.Kind != FoundationModel {
		s += " (" + e.Kind + ")"
	}
	if len(e.Actions) < len(estate.InvokeActions) {
		s += " " + strings.Join(e.Actions, ", ") + " only"
	}
	return s
}

func code(s string) string {
	if s == "" {
		return ""
	}
	return "`" + s + "`"
}

// table writes a Markdown table; a cell equal to the one above it is left
// blank, so a principal's rows read as one block.
func table(w io.Writer, head []string, rows [][]string) {
	fmt.Fprintf(w, "| %s |\n|%s\n", strings.Join(head, " | "), strings.Repeat("---|", len(head)))
	var prev []string
	for _, r := range rows {
		out := make([]string, len(r))
		same := prev != nil
		for i, c := range r {
			same = same && i < len(prev) && prev[i] == c
			if !same {
				out[i] = strings.ReplaceAll(c, "|", "\\|")
			}
		}
		prev = r
		fmt.Fprintf(w, "| %s |\n", strings.Join(out, " | "))
	}
	fmt.Fprintln(w)
}
