// Package routing holds the routing documents the central stack publishes
// (estate.Routing, one SSM parameter per use case), looks a caller up by its
// token subject, and picks the role for the model, account and region a
// request names. Nothing in a request can name a role: only a route of the
// subject's own document can be picked.
package routing

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/acme/genai-estate/config"
	"github.com/acme/genai-estate/internal/estate"
)

// Table maps token subjects to their use case's routing document.
type Table struct {
	bySubject map[string]*estate.Routing
	useCases  int
}

// NewTable indexes documents by subject. A subject in two documents would
// make the use case ambiguous, so it is an error (config validation rejects
// shared subjects, so this means the parameters were edited by hand).
func NewTable(docs []estate.Routing) (*Table, error) {
	t := &Table{bySubject: map[string]*estate.Routing{}, useCases: len(docs)}
	for i := range docs {
		d := &docs[i]
		for _, s := range d.Subjects {
			if o, dup := t.bySubject[s]; dup {
				return nil, fmt.Errorf("routing: subject %q is in both %s and %s", s, o.UseCase, d.UseCase)
			}
			t.bySubject[s] = d
		}
	}
	return t, nil
}

// UseCases is the number of documents in the table.
func (t *Table) UseCases() int { return t.useCases }

// Lookup returns the routing document of a token subject.
func (t *Table) Lookup(subject string) (*estate.Routing, bool) {
	d, ok := t.bySubject[subject]
	return d, ok
}

// Target is the role and endpoint one request is served with.
type Target struct {
	UseCase     string
	AccountName string
	Account     string
	RoleArn     string
	Region      string
	Model       string // as the caller named it; forwarded unchanged unless Profile is set
	Quota       config.Quota
	// Guardrail, when set, is put on the call whatever the caller sent: the
	// role's policy denies calls without it.
	Guardrail *estate.RouteGuardrail
	// Profile names the application inference profile the call must go
	// through (the role may invoke the model only through it); its ARN is
	// under GrantedModel in the SSM parameter ProfileArns.
	Profile, ProfileArns, GrantedModel string
}

// Request is what a caller may choose: the model, and optionally the account
// (name or id) and region.
type Request struct {
	Model, Account, Region string
}

// Allowed is one grant a use case holds, for the 403 answer.
type Allowed struct {
	Account string   `json:"account"`
	Region  string   `json:"region"`
	Models  []string `json:"models"`
}

// DeniedError says the model is not granted, and what is.
type DeniedError struct {
	UseCase string
	Req     Request
	Allowed []Allowed
}

func (e *DeniedError) Error() string {
	where := ""
	if e.Req.Account != "" {
		where += " in account " + e.Req.Account
	}
	if e.Req.Region != "" {
		where += " in region " + e.Req.Region
	}
	return fmt.Sprintf("use case %s may not call model %s%s", e.UseCase, e.Req.Model, where)
}

// Resolve picks the route for a request. The region is the request's, else
// defaultRegion when the model is granted there, else the first region (in
// sorted order) that offers it. A model may be named by id or by ARN
// (foundation model or inference profile); an ARN fixes region and account.
func Resolve(d *estate.Routing, req Request, defaultRegion string) (Target, error) {
	model := req.Model
	if strings.HasPrefix(model, "arn:") {
		// arn:aws:bedrock:<region>:<account>:<type>/<id>
		p := strings.SplitN(model, ":", 6)
		if len(p) == 6 {
			if req.Region == "" {
				req.Region = p[3]
			} else if req.Region != p[3] {
				return Target{}, deny(d, req)
			}
			if p[4] != "" {
				if req.Account != "" && req.Account != p[4] && !nameOf(d, req.Account, p[4]) {
					return Target{}, deny(d, req)
				}
				req.Account = p[4]
			}
			if i := strings.Index(p[5], "/"); i >= 0 {
				model = p[5][i+1:]
			}
		}
	}
	type cand struct {
		r             *estate.Route
		region, grant string
	}
	var cands []cand
	for i := range d.Routes {
		r := &d.Routes[i]
		if req.Account != "" && req.Account != r.AccountName && req.Account != r.Account {
			continue
		}
		for _, region := range slices.Sorted(maps.Keys(r.Models)) {
			if req.Region != "" && region != req.Region {
				continue
			}
			switch {
			case slices.Contains(r.Models[region], req.Model):
				cands = append(cands, cand{r, region, req.Model})
			case slices.Contains(r.Models[region], model):
				cands = append(cands, cand{r, region, model})
			}
		}
	}
	if len(cands) == 0 {
		return Target{}, deny(d, req)
	}
	// Prefer the default region (when the caller named none), then the use
	// case's own role over a group's; otherwise the first in sorted order.
	pick, best := cands[0], -1
	for _, c := range cands {
		score := 0
		if req.Region == "" && c.region == defaultRegion {
			score += 2
		}
		if c.r.Via == "useCase" {
			score++
		}
		if score > best {
			pick, best = c, score
		}
	}
	t := Target{UseCase: d.UseCase, AccountName: pick.r.AccountName, Account: pick.r.Account, RoleArn: pick.r.RoleArn,
		Region: pick.region, Model: req.Model, Quota: d.Quota, Guardrail: pick.r.Guardrail, GrantedModel: pick.grant}
	if name := pick.r.Profiles[pick.region][pick.grant]; name != "" {
		t.Profile, t.ProfileArns = name, pick.r.ProfileArns
	}
	return t, nil
}

func nameOf(d *estate.Routing, name, id string) bool {
	for _, r := range d.Routes {
		if r.AccountName == name && r.Account == id {
			return true
		}
	}
	return false
}

func deny(d *estate.Routing, req Request) *DeniedError {
	e := &DeniedError{UseCase: d.UseCase, Req: req, Allowed: []Allowed{}}
	for _, r := range d.Routes {
		for _, region := range slices.Sorted(maps.Keys(r.Models)) {
			e.Allowed = append(e.Allowed, Allowed{Account: r.AccountName, Region: region, Models: r.Models[region]})
		}
	}
	return e
}

// Loader keeps the current table, read from SSM.
type Loader struct {
	Client ssm.GetParametersByPathAPIClient
	Path   string
	cur    atomic.Pointer[Table]
}

// Table returns the current table (nil before the first successful Load).
func (l *Loader) Table() *Table { return l.cur.Load() }

// Load reads every parameter under the path and swaps the table in. On an
// error the previous table stays, so a passing SSM fault does not stop service.
func (l *Loader) Load(ctx context.Context) error {
	var docs []estate.Routing
	p := ssm.NewGetParametersByPathPaginator(l.Client, &ssm.GetParametersByPathInput{Path: aws.String(l.Path), Recursive: aws.Bool(true)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("routing: read %s: %w", l.Path, err)
		}
		for _, prm := range out.Parameters {
			var d estate.Routing
			if err := json.Unmarshal([]byte(aws.ToString(prm.Value)), &d); err != nil {
				return fmt.Errorf("routing: parameter %s: %w", aws.ToString(prm.Name), err)
			}
			docs = append(docs, d)
		}
	}
	sort.Slice(docs, func(i, j int) bool { return docs[i].UseCase < docs[j].UseCase })
	t, err := NewTable(docs)
	if err != nil {
		return err
	}
	l.cur.Store(t)
	return nil
}
