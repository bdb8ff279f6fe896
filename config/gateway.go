package config

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/acme/genai-estate/config/field"
)

var (
	ecrImageRE   = regexp.MustCompile(`^([0-9]{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?/([a-z0-9._/-]+)(:[\w][\w.-]{0,127}|@sha256:[0-9a-f]{64})$`)
	acmARNRE     = regexp.MustCompile(`^arn:aws(-cn|-us-gov)?:acm:[a-z0-9-]+:[0-9]{12}:certificate/[0-9a-f-]+$`)
	kmsKeyARNRE  = regexp.MustCompile(`^arn:aws(-cn|-us-gov)?:kms:([a-z0-9-]+):[0-9]{12}:key/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$`)
	routeTableRE = regexp.MustCompile(`^rtb-[0-9a-f]{8,17}$`)
	vpcIDRE      = regexp.MustCompile(`^vpc-[0-9a-f]{8,17}$`)
	subnetIDRE   = regexp.MustCompile(`^subnet-[0-9a-f]{8,17}$`)
	cacheNodeRE  = regexp.MustCompile(`^cache\.[a-z0-9]+\.[a-z0-9]+$`)
	fargateSizes = map[int][]int{256: {512, 1024, 2048}, 512: {1024, 2048, 3072, 4096}, 1024: {2048, 3072, 4096, 5120, 6144, 7168, 8192}, 2048: {4096, 5120, 6144, 7168, 8192, 9216, 10240, 11264, 12288, 13312, 14336, 15360, 16384}, 4096: {8192, 9216, 10240, 11264, 12288, 13312, 14336, 15360, 16384, 17408, 18432, 19456, 20480, 21504, 22528, 23552, 24576, 25600, 26624, 27648, 28672, 29696, 30720}}
)

// removedFields are keys that older configs carry and this version no longer
// reads: validation explains the change instead of "unknown field".
var removedFields = map[string]struct{ why, fix string }{
	"central.gateway.clientSecretArns": {
		why: "clientSecretArns is no longer read: callers now authenticate with their own IdP tokens (Authorization: Bearer <JWT>), and the gateway holds no IdP client secret, so its task role has no Secrets Manager access",
		fix: "delete the key; give each use case its own IdP client (client-credentials grant) whose tokens carry its subject and the configured audience",
	},
	"central.oidcProviderArn": {
		why: "oidcProviderArn is no longer read: the central stack registers no IAM OIDC provider, because STS checks a web identity token against the provider in the account of the role being assumed, and no role in the central account trusts it",
		fix: "delete the key; model accounts keep their own modelAccounts[].oidcProviderArn",
	},
}

// Gateway facts stated once, for validation, defaults and the stack.
const (
	// ALBIdleMarginSeconds lets the gateway time a request out, and answer,
	// before the ALB drops an idle connection.
	ALBIdleMarginSeconds = 15
	// DefaultVPCCidr is the new VPC's range.
	DefaultVPCCidr = "10.0.0.0/16"
	// jwtClaimMax: the ALB's JWT action takes at most 10 values of at most
	// 256 characters per claim, and an issuer and JWKS URL of 256 characters.
	jwtClaimValues, jwtClaimChars = 10, 256
)

var privateRanges = []*net.IPNet{mustCIDR("10.0.0.0/8"), mustCIDR("172.16.0.0/12"), mustCIDR("192.168.0.0/16")}

func mustCIDR(s string) *net.IPNet { _, n, _ := net.ParseCIDR(s); return n }

// JWKS is the issuer's JWKS endpoint: the configured one, or the one an IdP
// publishes at a fixed place, known without a network call. Okta custom
// authorization servers (https://<org>.okta.com/oauth2/<id>) serve
// <issuer>/v1/keys; Cognito user pools serve <issuer>/.well-known/jwks.json.
// Other IdPs: "" (the config must name it).
func (p IdentityProvider) JWKS() string {
	if p.JWKSURL != "" {
		return p.JWKSURL
	}
	u, err := url.Parse(p.IssuerURL)
	if err != nil || u.Scheme != "https" {
		return ""
	}
	okta := strings.HasSuffix(u.Host, ".okta.com") || strings.HasSuffix(u.Host, ".oktapreview.com") || strings.HasSuffix(u.Host, ".okta-emea.com")
	switch {
	case okta && oktaCustomServerRE.MatchString(u.Path):
		return strings.TrimSuffix(p.IssuerURL, "/") + "/v1/keys"
	case cognitoHostRE.MatchString(u.Host) && cognitoPoolRE.MatchString(u.Path):
		return p.IssuerURL + "/.well-known/jwks.json"
	}
	return ""
}

var (
	oktaCustomServerRE = regexp.MustCompile(`^/oauth2/[A-Za-z0-9]+$`)
	cognitoHostRE      = regexp.MustCompile(`^cognito-idp\.[a-z0-9-]+\.amazonaws\.com$`)
	cognitoPoolRE      = regexp.MustCompile(`^/[a-z0-9-]+_[A-Za-z0-9]+$`)
)

// ImageParts splits an ECR image URI into account, region, repository and
// the tag or digest (with its leading : or @).
func ImageParts(uri string) (account, region, repo, ref string) {
	m := ecrImageRE.FindStringSubmatch(uri)
	if m == nil {
		return "", "", "", ""
	}
	return m[1], m[2], m[4], m[5]
}

// Defaults fills the documented defaults.
func (g *Gateway) Defaults() {
	set := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	set(&g.CPU, 1024)
	set(&g.MemoryMB, 2048)
	set(&g.Port, 8080)
	set(&g.DesiredCount, 2)
	set(&g.MinCount, 2)
	set(&g.MaxCount, 10)
	set(&g.TargetCPUPercent, 60)
	set(&g.RequestsPerTarget, 1000)
	set(&g.LogRetentionDays, 30)
	set(&g.CredentialTTLSeconds, 900)
	// Not a default tag: it applies only when the VPC is new.
	if g.VPC == nil && g.VPCCidr == "" {
		g.VPCCidr = DefaultVPCCidr
	}
	if g.HealthCheckPath == "" {
		g.HealthCheckPath = "/health"
	}
	if g.CacheNodeType == "" {
		g.CacheNodeType = "cache.t4g.small"
	}
}

func (v *validator) gateway() {
	g := v.c.Central.Gateway
	removed := func(p *field.Path, set bool) {
		if set {
			r := removedFields[p.String()]
			v.err(p, KindUnknown, r.fix, "%s", r.why)
		}
	}
	central := field.NewPath("central")
	removed(central.Child("oidcProviderArn"), v.c.Central.OidcProviderArn != "")
	if g == nil {
		return
	}
	p := central.Child("gateway")
	removed(p.Child("clientSecretArns"), g.ClientSecretArns != nil)
	v.gatewayIdP()
	if g.Image != "" && !ecrImageRE.MatchString(g.Image) {
		v.err(p.Child("image"), KindPattern, "use <account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag> or @sha256:<digest>; never an unpinned image", "%q is not a pinned ECR image URI", g.Image)
	}
	if v.required(p.Child("certificateArn"), g.CertificateArn == "", "the ACM certificate ARN of the HTTPS listener") && !acmARNRE.MatchString(g.CertificateArn) {
		v.err(p.Child("certificateArn"), KindPattern, "use arn:aws:acm:<region>:<account>:certificate/<id>", "%q is not an ACM certificate ARN", g.CertificateArn)
	}
	if g.CPU != 0 {
		if mems, ok := fargateSizes[g.CPU]; !ok {
			v.err(p.Child("cpu"), KindEnum, "use 256, 512, 1024, 2048 or 4096", "%d is not a Fargate CPU size", g.CPU)
		} else if g.MemoryMB != 0 && !slices.Contains(mems, g.MemoryMB) {
			v.err(p.Child("memoryMb"), KindEnum, fmt.Sprintf("with cpu %d use one of %v", g.CPU, mems), "%d MB is not a Fargate memory size for %d CPU units", g.MemoryMB, g.CPU)
		}
	}
	if g.Port < 0 || g.Port > 65535 {
		v.err(p.Child("port"), KindRange, "use a port from 1 to 65535", "%d is not a port", g.Port)
	}
	if g.HealthCheckPath != "" && !strings.HasPrefix(g.HealthCheckPath, "/") {
		v.err(p.Child("healthCheckPath"), KindPattern, "start the path with /", "%q is not a path", g.HealthCheckPath)
	}
	if g.MinCount > 0 && g.MaxCount > 0 && g.MinCount > g.MaxCount {
		v.err(p.Child("minCount"), KindRange, "keep minCount at or below maxCount", "minCount %d is above maxCount %d", g.MinCount, g.MaxCount)
	}
	if g.DesiredCount > 0 && ((g.MinCount > 0 && g.DesiredCount < g.MinCount) || (g.MaxCount > 0 && g.DesiredCount > g.MaxCount)) {
		v.err(p.Child("desiredCount"), KindRange, "keep desiredCount between minCount and maxCount", "desiredCount %d is outside the autoscaling range", g.DesiredCount)
	}
	if t := g.CredentialTTLSeconds; t != 0 && (t < 900 || t > 3600) {
		v.err(p.Child("credentialTtlSeconds"), KindRange, "use 900 to 3600: STS sessions last at least 15 minutes and the roles at most 1 hour", "%d s is outside the credentials' lifetime", t)
	}
	if d := g.LogRetentionDays; d != 0 && !slices.Contains(logRetentionDays, d) {
		v.err(p.Child("logRetentionDays"), KindEnum, fmt.Sprintf("use one of %v", logRetentionDays), "CloudWatch Logs does not offer %d days", d)
	}
	if g.KMSKeyArn != "" {
		if m := kmsKeyARNRE.FindStringSubmatch(g.KMSKeyArn); m == nil {
			v.err(p.Child("kmsKeyArn"), KindPattern, "use arn:aws:kms:<region>:<account>:key/<key-id> (a key ARN, not an alias)", "%q is not a KMS key ARN", g.KMSKeyArn)
		} else if m[2] != v.c.Central.Region {
			v.err(p.Child("kmsKeyArn"), KindInvalid, fmt.Sprintf("use a key in %s: ElastiCache and CloudWatch Logs take keys of their own region only", v.c.Central.Region), "the key is in %s, the gateway in %s", m[2], v.c.Central.Region)
		}
		if g.CreateKMSKey {
			v.err(p.Child("createKmsKey"), KindInvalid, "keep kmsKeyArn (import a key) or createKmsKey (create one), not both", "both kmsKeyArn and createKmsKey are set")
		}
	}
	for i, c := range g.IngressCidrs {
		if _, _, err := net.ParseCIDR(c); err != nil {
			v.err(p.Child("ingressCidrs").Index(i), KindPattern, "use a CIDR such as 10.0.0.0/8", "%q is not a CIDR", c)
		}
	}
	if g.CacheNodeType != "" && !cacheNodeRE.MatchString(g.CacheNodeType) {
		v.err(p.Child("cacheNodeType"), KindPattern, "use an ElastiCache node type such as cache.t4g.small", "%q is not a node type", g.CacheNodeType)
	}
	if g.VPCCidr != "" {
		v.vpcCIDR(p.Child("vpcCidr"), g.VPCCidr, g.VPC != nil)
	}
	if n := g.VPC; n != nil {
		vp := p.Child("vpc")
		if !vpcIDRE.MatchString(n.ID) {
			v.err(vp.Child("id"), KindPattern, "use the vpc-... id", "%q is not a VPC id", n.ID)
		}
		if _, _, err := net.ParseCIDR(n.CIDR); err != nil {
			v.err(vp.Child("cidr"), KindPattern, "give the VPC's IPv4 CIDR, e.g. 10.0.0.0/16", "%q is not a CIDR", n.CIDR)
		}
		if len(n.AvailabilityZones) < 2 {
			v.err(vp.Child("availabilityZones"), KindInvalid, "list at least two AZs: an ALB and a Multi-AZ cache need them", "%d availability zones", len(n.AvailabilityZones))
		}
		for name, ids := range map[string][]string{"privateSubnetIds": n.PrivateSubnetIDs, "publicSubnetIds": n.PublicSubnetIDs} {
			if len(ids) == 0 && (name == "privateSubnetIds" || g.InternetFacing) {
				v.err(vp.Child(name), KindRequired, "list one subnet per AZ", "no %s", name)
				continue
			}
			if len(ids) > 0 && len(ids) != len(n.AvailabilityZones) {
				v.err(vp.Child(name), KindInvalid, "list one subnet per AZ, in the order of availabilityZones", "%d subnets for %d AZs", len(ids), len(n.AvailabilityZones))
			}
			for i, id := range ids {
				if !subnetIDRE.MatchString(id) {
					v.err(vp.Child(name).Index(i), KindPattern, "use the subnet-... id", "%q is not a subnet id", id)
				}
			}
		}
		if rt := n.PrivateRouteTableIDs; len(rt) > 0 || n.CreateEndpoints {
			if len(rt) != len(n.PrivateSubnetIDs) {
				v.err(vp.Child("privateRouteTableIds"), KindInvalid, "list the route table of each private subnet, in the same order: the S3 gateway endpoint of createEndpoints is added to them", "%d route tables for %d private subnets", len(rt), len(n.PrivateSubnetIDs))
			}
			for i, id := range rt {
				if !routeTableRE.MatchString(id) {
					v.err(vp.Child("privateRouteTableIds").Index(i), KindPattern, "use the rtb-... id", "%q is not a route table id", id)
				}
			}
		}
	}
}

// gatewayIdP checks what the ALB's JWT verification needs from the IdP.
func (v *validator) gatewayIdP() {
	p, at := v.c.IdentityProvider, field.NewPath("identityProvider")
	if p.JWKSURL != "" {
		u, err := url.Parse(p.JWKSURL)
		if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || len(p.JWKSURL) > jwtClaimChars {
			v.err(at.Child("jwksUrl"), KindPattern, fmt.Sprintf("use the https URL of the issuer's keys (the jwks_uri of its /.well-known/openid-configuration), at most %d characters", jwtClaimChars), "%q is not an https JWKS URL", p.JWKSURL)
		}
	} else if p.IssuerURL != "" && p.JWKS() == "" && !v.r.Has(at.Child("issuerUrl")) {
		v.err(at.Child("jwksUrl"), KindRequired, "add jwksUrl: the jwks_uri of "+strings.TrimSuffix(p.IssuerURL, "/")+"/.well-known/openid-configuration (it is derived only for Okta custom authorization servers and Cognito user pools)", "the gateway's ALB verifies callers' tokens against the issuer's JWKS, whose URL is not known for this issuer")
	}
	if len(p.IssuerURL) > jwtClaimChars {
		v.err(at.Child("issuerUrl"), KindLimit, fmt.Sprintf("use an issuer of at most %d characters", jwtClaimChars), "the ALB's JWT verification takes issuers of at most %d characters; this one has %d", jwtClaimChars, len(p.IssuerURL))
	}
	if len(p.Audiences) > jwtClaimValues {
		v.err(at.Child("audiences"), KindLimit, fmt.Sprintf("keep at most %d audiences while central.gateway is set", jwtClaimValues), "the ALB checks aud against at most %d values; %d are listed", jwtClaimValues, len(p.Audiences))
	}
	for i, a := range p.Audiences {
		if len(a) > jwtClaimChars {
			v.err(at.Child("audiences").Index(i), KindLimit, fmt.Sprintf("use an audience of at most %d characters", jwtClaimChars), "the ALB's JWT verification takes claim values of at most %d characters", jwtClaimChars)
		}
	}
}

// vpcCIDR: a new VPC's range must be private, canonical and hold two AZs of
// a public and a private subnet.
func (v *validator) vpcCIDR(path *field.Path, cidr string, imported bool) {
	if imported {
		v.err(path, KindInvalid, "remove vpcCidr: an imported VPC's range is vpc.cidr", "vpcCidr applies only to a new VPC, and vpc imports one")
		return
	}
	ip, n, err := net.ParseCIDR(cidr)
	if err != nil || ip.To4() == nil {
		v.err(path, KindPattern, "use an IPv4 CIDR such as 10.0.0.0/16", "%q is not an IPv4 CIDR", cidr)
		return
	}
	if !ip.Equal(n.IP) {
		v.err(path, KindInvalid, fmt.Sprintf("use %s", n), "%q has host bits set", cidr)
		return
	}
	if ones, _ := n.Mask.Size(); ones < 16 || ones > 24 {
		v.err(path, KindRange, "use a prefix from /16 (VPC maximum) to /24 (room for two AZs with a public and a private subnet each)", "/%d is outside /16 to /24", ones)
		return
	}
	if !slices.ContainsFunc(privateRanges, func(r *net.IPNet) bool { return r.Contains(n.IP) }) {
		v.err(path, KindInvalid, "use a range in 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16 (RFC 1918)", "%s is not a private range", cidr)
	}
}
