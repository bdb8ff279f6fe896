package diff

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// An added or changed role shows who can assume it, and a subject with a
// pipe (an Auth0 `sub` such as auth0|abc) stays inside its table cell.
func TestWhoCanAssumeAndPipes(t *testing.T) {
	p := Compare(side(t), side(t, "subjects: [usecase-b]", `subjects: [usecase-b, "auth0|abc"]`))
	role := "ACME-GenAI-UseCaseB-BedrockInvokeRole"
	assert.Equal(t, []string{"sub auth0|abc (aud genai-gateway) — UseCaseB", "sub usecase-b (aud genai-gateway) — UseCaseB"}, p.Assumers["222222222222/"+role])
	var b strings.Builder
	p.Markdown(&b)
	md := b.String()
	assert.Contains(t, md, "| modified | SharedModelsA (222222222222) | role | `"+role+"` | trust policy changed | sub auth0\\|abc (aud genai-gateway) — UseCaseB<br>sub usecase-b (aud genai-gateway) — UseCaseB |")
	assert.Contains(t, md, "| sub auth0\\|abc (aud genai-gateway) | UseCaseB |")
	unescaped := regexp.MustCompile(`(?:^|[^\\])\|`)
	for _, line := range strings.Split(md, "\n") {
		if strings.HasPrefix(line, "| modified") || strings.HasPrefix(line, "| added") {
			assert.Len(t, unescaped.FindAllString(line, -1), 7, "six cells: %s", line)
		}
		if strings.HasPrefix(line, "| sub ") {
			assert.Len(t, unescaped.FindAllString(line, -1), 7, "six cells: %s", line)
		}
	}
}
