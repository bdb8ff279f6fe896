package naming

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
)

// MaxAppProfileName is Bedrock's limit on inference profile names.
const MaxAppProfileName = 64

// AppProfile names an application inference profile of one role and one
// granted model (a foundation model or a system profile). Model ids hold
// dots and colons, which profile names may not, and can be 50 characters
// long, so the name carries the model's provider and a short hash of its id;
// the full id is in the profile's description and its genai:model tag.
// Profiles are regional, so the name needs no region: it is unique per
// account and region.
type AppProfile struct {
	Org, Layer, Subject, Provider string
	// ModelHash is ModelHash(model id).
	ModelHash string
}

// NewAppProfile names the profile of a role's grant of one model.
func NewAppProfile(org, layer, subject, provider, model string) AppProfile {
	return AppProfile{Org: org, Layer: layer, Subject: subject, Provider: provider, ModelHash: ModelHash(model)}
}

// ModelHash is the first 8 hex digits of the SHA-256 of a model id.
func ModelHash(model string) string {
	h := sha256.Sum256([]byte(model))
	return hex.EncodeToString(h[:4])
}

func (p AppProfile) String() string {
	return p.Org + "-" + p.Layer + "-" + p.Subject + "-" + p.Provider + "_" + p.ModelHash
}

var modelHashRE = regexp.MustCompile(`^[0-9a-f]{8}$`)

// Validate checks every field and Bedrock's length limit.
func (p AppProfile) Validate() error {
	if err := fields("org", p.Org, "layer", p.Layer, "use case or group", p.Subject, "provider", p.Provider); err != nil {
		return err
	}
	if !modelHashRE.MatchString(p.ModelHash) {
		return fmt.Errorf("model hash %q is not 8 hex digits", p.ModelHash)
	}
	return checkLen("application inference profile", p.String(), MaxAppProfileName)
}

// ParseAppProfile parses an application inference profile name.
func ParseAppProfile(s string) (AppProfile, error) {
	bad := fmt.Errorf("%q is not an application inference profile name of the form <Org>-<Layer>-<UseCaseOrGroup>-<Provider>_<ModelHash>", s)
	p := strings.Split(s, "-")
	if len(p) != 4 {
		return AppProfile{}, bad
	}
	provider, hash, ok := strings.Cut(p[3], "_")
	if !ok {
		return AppProfile{}, bad
	}
	a := AppProfile{Org: p[0], Layer: p[1], Subject: p[2], Provider: provider, ModelHash: hash}
	return a, a.Validate()
}
