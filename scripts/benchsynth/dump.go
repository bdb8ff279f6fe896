package main

import (
	"encoding/json"
	"os"

	"github.com/acme/genai-estate/config"
	"github.com/acme/genai-estate/internal/estate"
)

// The planned estate as plain data, for ts-app.js: what an idiomatic
// TypeScript app would read to create the same model-account stacks with one
// L1 per resource. It holds values (names, documents, tags), not a rendered
// template, so the JavaScript app builds its own construct tree and CDK
// gives it logical ids from construct paths.

type dumpEstate struct {
	Tags   []estate.Tag `json:"tags"` // app-level tags, in order
	Stacks []dumpStack  `json:"stacks"`
}

type dumpStack struct {
	Name        string        `json:"name"`
	Account     string        `json:"account"`
	Region      string        `json:"region"`
	Description string        `json:"description"`
	DependsOn   string        `json:"dependsOn,omitempty"` // the account's first stack
	Provider    *dumpProvider `json:"provider,omitempty"`
	Roles       []dumpRole    `json:"roles"`
}

type dumpProvider struct {
	ID             string       `json:"id"` // construct id: the provider's name
	URL            string       `json:"url"`
	ClientIDList   []string     `json:"clientIdList"`
	ThumbprintList []string     `json:"thumbprintList,omitempty"`
	Tags           []estate.Tag `json:"tags"`
}

type dumpRole struct {
	Subject     string         `json:"subject"`
	RoleName    string         `json:"roleName"`
	Description string         `json:"description"`
	Trust       map[string]any `json:"trust"`
	Tags        []estate.Tag   `json:"tags"`
	Policies    []dumpPolicy   `json:"policies"`
}

type dumpPolicy struct {
	ID          string         `json:"id"` // construct id below the role's: <Provider>[<part>]Policy
	Name        string         `json:"name"`
	Description string         `json:"description"`
	Document    map[string]any `json:"document"`
}

// writeDump plans the config at path and writes its model-account stacks as
// the app builds them (same stack names, shards, descriptions and order).
func writeDump(path, out string) error {
	c, err := config.Load(path)
	if err != nil {
		return err
	}
	e, err := estate.Build(c)
	if err != nil {
		return err
	}
	d := dumpEstate{Tags: e.Tags}
	for _, a := range e.Accounts {
		first := ""
		for _, shard := range a.UsedShards() {
			s := dumpStack{
				Name: a.Stack(c.Org, c.Layer, shard), Account: a.Account, Region: a.Region(),
				Description: a.StackDescription(),
				DependsOn:   first, Roles: []dumpRole{},
			}
			if first == "" {
				first = s.Name
			}
			if a.CreateProvider && shard == 0 {
				idp := c.IdentityProvider
				s.Provider = &dumpProvider{ID: a.IdPName.String(), URL: idp.IssuerURL, ClientIDList: idp.Audiences, ThumbprintList: idp.Thumbprints, Tags: a.ProviderTags()}
			}
			for _, r := range a.ShardRoles(shard) {
				dr := dumpRole{
					Subject: r.Name.Subject, RoleName: r.Name.String(), Description: r.Description, Trust: r.Trust.Value(),
					Tags: r.OwnTags(),
				}
				for _, p := range r.Policies {
					dr.Policies = append(dr.Policies, dumpPolicy{
						ID:   p.ConstructID(),
						Name: p.Name.String(), Description: r.PolicyDescription(p),
						Document: p.Document.Value(),
					})
				}
				s.Roles = append(s.Roles, dr)
			}
			d.Stacks = append(d.Stacks, s)
		}
	}
	b, err := json.Marshal(d)
	if err != nil {
		return err
	}
	return os.WriteFile(out, b, 0o644)
}
