package access

import (
	"fmt"
	"io"
	"strings"

	"github.com/acme/genai-estate/internal/estate"
	"github.com/acme/genai-estate/internal/review/md"
)

// Markdown writes the matrix for a pull-request comment.
func (m *Matrix) Markdown(w io.Writer) {
	fmt.Fprintf(w, "## Who can call which model where\n\nRead from %s", md.Code(m.Source))
	if m.Config != "" {
		fmt.Fprintf(w, ", compared with %s", md.Code(m.Config))
	}
	fmt.Fprint(w, ".")
	fmt.Fprintf(w, " %s\n\n", m.Summary())
	if len(m.NotRead) > 0 {
		fmt.Fprintf(w, "Not compared, as no stack of theirs was read: %s.\n\n", md.Text(strings.Join(m.NotRead, ", ")))
	}
	sections := []struct {
		kind, title string
		head        []string
		cells       func(Entry) []string
	}{
		{Token, "Token subjects", []string{"subject", "audience", "use case"}, func(e Entry) []string {
			return []string{md.Code(e.Principal.Subject), md.Code(e.Principal.Audience), md.Text(e.Principal.Name)}
		}},
		{Vendor, "Vendors", []string{"vendor", "principal", "external id"}, func(e Entry) []string {
			return []string{md.Text(e.Principal.Name), md.Code(e.Principal.AWS), md.Code(e.Principal.ExternalID)}
		}},
		{Service, "Service roles that reach Bedrock", []string{"service", "for"}, func(e Entry) []string {
			return []string{md.Code(e.Principal.Service), md.Text(e.Principal.Name)}
		}},
	}
	for _, s := range sections {
		var rows [][]string
		for _, e := range m.Entries {
			if e.Principal.Kind == s.kind {
				rows = append(rows, append(s.cells(e), md.Text(account(e)), md.Code(e.Role), md.Text(e.Region), model(e), policies(e.Policies)))
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
		fmt.Fprintf(w, "- %s %s: %s\n", md.Text(f.Account), md.Code(f.Role), md.Text(f.Problem))
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
	s := md.Code(e.Model)
	if e.Kind != FoundationModel {
		s += " (" + md.Text(e.Kind) + ")"
	}
	if len(e.Actions) < len(estate.InvokeActions) {
		s += " " + md.Text(strings.Join(e.Actions, ", ")) + " only"
	}
	if e.Indeterminate {
		s += " ⚠️ indeterminate"
	}
	return s
}

func policies(ps []string) string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = md.Text(p)
	}
	return strings.Join(out, "<br>")
}

// Summary is the matrix in one line.
func (m *Matrix) Summary() string {
	principals, roles := map[string]bool{}, map[string]bool{}
	grants, unsure := 0, 0
	for _, e := range m.Entries {
		principals[e.Principal.Key()] = true
		roles[e.Account+e.Role] = true
		if e.Model != "" {
			grants++
		}
		if e.Indeterminate {
			unsure++
		}
	}
	s := fmt.Sprintf("%d principals, %d roles, %d grants; %d beyond the config, %d missing.", len(principals), len(roles), grants, len(m.Excess), len(m.Missing))
	if unsure > 0 {
		s = strings.TrimSuffix(s, ".") + fmt.Sprintf("; %d indeterminate.", unsure)
	}
	return s
}

// table writes a Markdown table of cells already escaped; a cell equal to
// the one above it is left blank, so a principal's rows read as one block.
func table(w io.Writer, head []string, rows [][]string) {
	fmt.Fprint(w, md.Head(head...))
	var prev []string
	for _, r := range rows {
		out := make([]string, len(r))
		same := prev != nil
		for i, c := range r {
			same = same && i < len(prev) && prev[i] == c
			if !same {
				out[i] = c
			}
		}
		prev = r
		fmt.Fprint(w, md.Row(out...))
	}
	fmt.Fprintln(w)
}
