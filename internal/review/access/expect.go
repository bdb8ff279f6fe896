package access

import (
	"fmt"
	"sort"
	"strings"

	"github.com/acme/genai-estate/internal/estate"
)

// Service principals of the RAG agent's roles: its function's, and its
// knowledge base's (which Bedrock assumes for a knowledge base of the account).
const (
	LambdaService        = "lambda.amazonaws.com"
	KnowledgeBaseService = "bedrock.amazonaws.com"
)

// OptionsFor are the options that make an evaluation complete for a config:
// its catalog, every account's regions, and every subject and vendor, so a
// principal the templates forgot is still tried.
func OptionsFor(e *estate.Estate) Options {
	c := e.Config
	o := Options{Catalog: c.Catalog, Regions: map[string][]string{}}
	for _, a := range c.ModelAccounts {
		o.Regions[a.Account] = append(o.Regions[a.Account], a.Regions...)
	}
	for _, p := range expected(e, false) {
		o.Principals = append(o.Principals, p.Principal)
	}
	return o
}

// Review evaluates an inventory and compares it with the config's plan.
func Review(inv *Inventory, e *estate.Estate) *Matrix {
	m := Evaluate(inv, OptionsFor(e))
	m.Expect(e, inv)
	return m
}

// expected lists every grant the config asks for. A service role's name is
// generated, so it is matched by account alone.
func expected(e *estate.Estate, modelAccountsOnly bool) []Entry {
	c := e.Config
	var out []Entry
	for _, a := range e.Accounts {
		for _, r := range a.Roles {
			var ps []Principal
			if r.Vendor != "" {
				for _, v := range c.Vendors {
					if v.Name == r.Vendor {
						ps = append(ps, Principal{Kind: Vendor, AWS: normalizeAWS(v.Principal), ExternalID: v.ExternalID})
					}
				}
			} else {
				for _, aud := range c.IdentityProvider.Audiences {
					for _, sub := range r.Subjects {
						ps = append(ps, Principal{Kind: Token, Issuer: c.Issuer(), Audience: aud, Subject: sub})
					}
				}
			}
			for _, p := range ps {
				for region, models := range r.Grants {
					for _, model := range models {
						out = append(out, Entry{Principal: p, Account: a.Account, Role: r.Name.String(), Region: region, Model: model})
					}
				}
			}
		}
	}
	if rag := c.RAG; rag != nil && !modelAccountsOnly {
		for _, model := range []string{rag.LLMModel, rag.EmbeddingModel} {
			out = append(out, Entry{Principal: Principal{Kind: Service, Service: LambdaService}, Account: rag.Account, Region: rag.Region, Model: model})
		}
		if rag.KnowledgeBase {
			out = append(out, Entry{Principal: Principal{Kind: Service, Service: KnowledgeBaseService}, Account: rag.Account, Region: rag.Region, Model: rag.EmbeddingModel})
		}
	}
	return out
}

// compareKey is an entry's key for comparison with the config.
func compareKey(e Entry) string {
	if e.Principal.Kind == Service {
		e.Role = ""
	}
	return e.Key()
}

func roleKey(e Entry) string {
	return strings.Join([]string{e.Principal.Key(), e.Account, e.Role}, "|")
}

// Expect names the matrix's principals and accounts from the config and
// reports every grant beyond it (Excess) and every grant it asks for that
// the estate does not give (Missing), in the accounts the inventory holds.
func (m *Matrix) Expect(e *estate.Estate, inv *Inventory) {
	c := e.Config
	m.Config = c.File
	read := map[string]bool{}
	for _, a := range inv.Accounts {
		read[a] = true
	}
	names := map[string]string{}
	for _, u := range c.UseCases {
		for _, aud := range c.IdentityProvider.Audiences {
			for _, s := range u.Subjects {
				names[Principal{Kind: Token, Issuer: c.Issuer(), Audience: aud, Subject: s}.Key()] = u.Name
			}
		}
	}
	for _, v := range c.Vendors {
		names[Principal{Kind: Vendor, AWS: normalizeAWS(v.Principal), ExternalID: v.ExternalID}.Key()] = v.Name
	}
	accounts := map[string]string{c.Central.Account: "central"}
	if c.RAG != nil {
		accounts[c.RAG.Account] = c.RAG.Name
		names[Principal{Kind: Service, Service: LambdaService}.Key()] = c.RAG.Name
		names[Principal{Kind: Service, Service: KnowledgeBaseService}.Key()] = c.RAG.Name + " knowledge base"
	}
	for _, a := range c.ModelAccounts {
		accounts[a.Account] = a.Name
	}

	want := map[string]Entry{}
	wantRole := map[string]bool{}
	for _, x := range expected(e, inv.ModelAccountsOnly) {
		if !read[x.Account] {
			m.NotRead = append(m.NotRead, accounts[x.Account]+" ("+x.Account+")")
			continue
		}
		want[compareKey(x)] = x
		wantRole[roleKey(x)] = true
	}
	got := map[string]bool{}
	for i := range m.Entries {
		x := &m.Entries[i]
		x.Principal.Name = names[x.Principal.Key()]
		x.AccountName = accounts[x.Account]
		got[compareKey(*x)] = true
		switch {
		case x.Indeterminate:
			what := "can assume it"
			if x.Model != "" {
				what = fmt.Sprintf("can invoke %s in %s (%s)", x.Model, x.Region, strings.Join(x.Policies, ", "))
			}
			m.Excess = append(m.Excess, Finding{x.Account, x.Role, fmt.Sprintf("%s may %s: indeterminate, as part of its trust, policies or boundary cannot be evaluated here", x.Principal, strings.TrimPrefix(what, "can "))})
		case x.Model != "" && x.Kind != InferenceProfile && want[compareKey(*x)].Model != "" && len(x.Actions) < len(estate.InvokeActions):
			// (A profile's missing action is reported where its destinations are judged.)
			m.Missing = append(m.Missing, Finding{x.Account, x.Role, fmt.Sprintf("the config grants %s %s in %s, but the estate allows only %s", x.Principal, x.Model, x.Region, strings.Join(x.Actions, ", "))})
		case x.Model == "" && !wantRole[roleKey(*x)] && x.Principal.Kind != Service:
			m.Excess = append(m.Excess, Finding{x.Account, x.Role, fmt.Sprintf("%s can assume it, which the config does not ask for", x.Principal)})
		case x.Model != "" && want[compareKey(*x)].Model == "":
			m.Excess = append(m.Excess, Finding{x.Account, x.Role, fmt.Sprintf("%s can invoke %s in %s (%s), which the config does not ask for", x.Principal, x.Model, x.Region, strings.Join(x.Policies, ", "))})
		}
	}
	for k, x := range want {
		if !got[k] {
			m.Missing = append(m.Missing, Finding{x.Account, x.Role, fmt.Sprintf("the config grants %s %s in %s, but the estate does not", x.Principal, x.Model, x.Region)})
		}
	}
	sortFindings(m.Excess)
	sortFindings(m.Missing)
	m.NotRead = uniq(m.NotRead)
}

func sortFindings(fs []Finding) {
	sort.Slice(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		return a.Account+a.Role+a.Problem < b.Account+b.Role+b.Problem
	})
}
