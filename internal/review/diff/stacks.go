package diff

import (
	"fmt"
	"io"

	"github.com/acme/genai-estate/internal/deployplan"
)

// deployOrder is the stacks a change touches, in the order to deploy them,
// by the rule `estatectl deploy-plan` uses; nil when a side's stacks are unknown.
func deployOrder(base, head Side) *deployplan.Plan {
	if base.Stacks == nil || head.Stacks == nil {
		return nil
	}
	return deployplan.Order(base.Stacks, head.Stacks, deployplan.DefaultWaveSize)
}

// stacksMarkdown writes the "Stacks to deploy, in order" section.
func (p *Plan) stacksMarkdown(w io.Writer) {
	if p.Deploy == nil {
		return
	}
	fmt.Fprintf(w, "### Stacks to deploy, in order\n\n%s. Model accounts that add or rename roles go before the central stack, whose routing parameters change with every added, renamed or removed use case; model accounts that only remove roles go after it. `estatectl deploy-plan` prints the same order as waves.\n\n", p.Deploy.Summary())
	p.Deploy.Table(w)
}
