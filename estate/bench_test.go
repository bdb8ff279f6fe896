package estate

import (
	"fmt"
	"strings"
	"testing"

	"github.com/acme/genai-estate/config"
)

// A large estate: 20 accounts in two regions, 400 use cases each granted
// three models in five accounts, 40 groups of ten members.
func largeConfig(b *testing.B) *config.Config {
	var s strings.Builder
	s.WriteString("org: ACME\nlayer: GenAI\nidentityProvider: {name: Okta, issuerUrl: \"https://acme.okta.com/oauth2/default\", audiences: [genai-gateway]}\ncentral: {account: \"111111111111\", region: us-east-1}\nlimits: {rolesPerAccount: 5000}\nmodelAccounts:\n")
	for a := range 20 {
		fmt.Fprintf(&s, "  - {name: Acct%02d, account: \"%012d\", regions: [us-east-1, us-west-2], stackShards: 4}\n", a, 200000000000+a)
	}
	s.WriteString("useCases:\n")
	for u := range 400 {
		fmt.Fprintf(&s, "  - name: UseCase%03d\n    subjects: [uc-%03d]\n    access:\n", u, u)
		for k := range 5 {
			fmt.Fprintf(&s, "      - {account: Acct%02d, models: [anthropic.claude-3-haiku-20240307-v1:0, meta.llama3-8b-instruct-v1:0, us.anthropic.claude-3-5-sonnet-20241022-v2:0]}\n", (u+k*3)%20)
		}
	}
	s.WriteString("groups:\n")
	for g := range 40 {
		var members []string
		for m := range 10 {
			members = append(members, fmt.Sprintf("UseCase%03d", g*10+m))
		}
		fmt.Fprintf(&s, "  - {name: Domain%02d, members: [%s], access: [{account: Acct%02d, models: [amazon.titan-text-express-v1]}]}\n", g, strings.Join(members, ", "), g%20)
	}
	c, err := config.Parse("large.yaml", []byte(s.String()))
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// go test ./estate -bench . -benchmem : the whole plan of a large estate, no node process.
func BenchmarkBuildLargeEstate(b *testing.B) {
	c := largeConfig(b)
	b.ResetTimer()
	for b.Loop() {
		if _, err := Build(c); err != nil {
			b.Fatal(err)
		}
	}
}
