package config

import (
	"fmt"
	"net"
	"regexp"
	"slices"
	"strings"
)

var (
	ecrImageRE   = regexp.MustCompile(`^([0-9]{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?/([a-z0-9._/-]+)(:[\w][\w.-]{0,127}|@sha256:[0-9a-f]{64})$`)
	acmARNRE     = regexp.MustCompile(`^arn:aws(-cn|-us-gov)?:acm:[a-z0-9-]+:[0-9]{12}:certificate/[0-9a-f-]+$`)
	secretARNRE  = regexp.MustCompile(`^arn:aws(-cn|-us-gov)?:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[\w/+=.@-]+$`)
	vpcIDRE      = regexp.MustCompile(`^vpc-[0-9a-f]{8,17}$`)
	subnetIDRE   = regexp.MustCompile(`^subnet-[0-9a-f]{8,17}$`)
	cacheNodeRE  = regexp.MustCompile(`^cache\.[a-z0-9]+\.[a-z0-9]+$`)
	fargateSizes = map[int][]int{256: {512, 1024, 2048}, 512: {1024, 2048, 3072, 4096}, 1024: {2048, 3072, 4096, 5120, 6144, 7168, 8192}, 2048: {4096, 5120, 6144, 7168, 8192, 9216, 10240, 11264, 12288, 13312, 14336, 15360, 16384}, 4096: {8192, 9216, 10240, 11264, 12288, 13312, 14336, 15360, 16384, 17408, 18432, 19456, 20480, 21504, 22528, 23552, 24576, 25600, 26624, 27648, 28672, 29696, 30720}}
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
	if g.HealthCheckPath == "" {
		g.HealthCheckPath = "/health"
	}
	if g.CacheNodeType == "" {
		g.CacheNodeType = "cache.t4g.small"
	}
}

func (v *validator) gateway() {
	g := v.c.Central.Gateway
	if g == nil {
		return
	}
	p := "central.gateway"
	if v.required(p+".image", g.Image == "", "the gateway image, e.g. 111111111111.dkr.ecr.us-east-1.amazonaws.com/genai-gateway:1.0.0") && !ecrImageRE.MatchString(g.Image) {
		v.r.Add(p+".image", "use <account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag> or @sha256:<digest>; never an unpinned image", "%q is not a pinned ECR image URI", g.Image)
	}
	if v.required(p+".certificateArn", g.CertificateArn == "", "the ACM certificate ARN of the HTTPS listener") && !acmARNRE.MatchString(g.CertificateArn) {
		v.r.Add(p+".certificateArn", "use arn:aws:acm:<region>:<account>:certificate/<id>", "%q is not an ACM certificate ARN", g.CertificateArn)
	}
	if g.CPU != 0 {
		if mems, ok := fargateSizes[g.CPU]; !ok {
			v.r.Add(p+".cpu", "use 256, 512, 1024, 2048 or 4096", "%d is not a Fargate CPU size", g.CPU)
		} else if g.MemoryMB != 0 && !slices.Contains(mems, g.MemoryMB) {
			v.r.Add(p+".memoryMb", fmt.Sprintf("with cpu %d use one of %v", g.CPU, mems), "%d MB is not a Fargate memory size for %d CPU units", g.MemoryMB, g.CPU)
		}
	}
	if g.Port < 0 || g.Port > 65535 {
		v.r.Add(p+".port", "use a port from 1 to 65535", "%d is not a port", g.Port)
	}
	if g.HealthCheckPath != "" && !strings.HasPrefix(g.HealthCheckPath, "/") {
		v.r.Add(p+".healthCheckPath", "start the path with /", "%q is not a path", g.HealthCheckPath)
	}
	if g.MinCount > 0 && g.MaxCount > 0 && g.MinCount > g.MaxCount {
		v.r.Add(p+".minCount", "keep minCount at or below maxCount", "minCount %d is above maxCount %d", g.MinCount, g.MaxCount)
	}
	if g.DesiredCount > 0 && ((g.MinCount > 0 && g.DesiredCount < g.MinCount) || (g.MaxCount > 0 && g.DesiredCount > g.MaxCount)) {
		v.r.Add(p+".desiredCount", "keep desiredCount between minCount and maxCount", "desiredCount %d is outside the autoscaling range", g.DesiredCount)
	}
	if t := g.CredentialTTLSeconds; t != 0 && (t < 900 || t > 3600) {
		v.r.Add(p+".credentialTtlSeconds", "use 900 to 3600: STS sessions last at least 15 minutes and the roles at most 1 hour", "%d s is outside the credentials' lifetime", t)
	}
	if d := g.LogRetentionDays; d != 0 && !slices.Contains(logRetentionDays, d) {
		v.r.Add(p+".logRetentionDays", fmt.Sprintf("use one of %v", logRetentionDays), "CloudWatch Logs does not offer %d days", d)
	}
	for i, a := range g.ClientSecretArns {
		if !secretARNRE.MatchString(a) {
			v.r.Add(fmt.Sprintf("%s.clientSecretArns[%d]", p, i), "use the full secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>-<suffix>); never a wildcard", "%q is not a Secrets Manager ARN", a)
		}
	}
	for i, c := range g.IngressCidrs {
		if _, _, err := net.ParseCIDR(c); err != nil {
			v.r.Add(fmt.Sprintf("%s.ingressCidrs[%d]", p, i), "use a CIDR such as 10.0.0.0/8", "%q is not a CIDR", c)
		}
	}
	if g.CacheNodeType != "" && !cacheNodeRE.MatchString(g.CacheNodeType) {
		v.r.Add(p+".cacheNodeType", "use an ElastiCache node type such as cache.t4g.small", "%q is not a node type", g.CacheNodeType)
	}
	if g.CacheReplicas < 0 || g.CacheReplicas > 5 {
		v.r.Add(p+".cacheReplicas", "use 0 to 5", "%d replicas is out of range", g.CacheReplicas)
	}
	if n := g.VPC; n != nil {
		vp := p + ".vpc"
		if !vpcIDRE.MatchString(n.ID) {
			v.r.Add(vp+".id", "use the vpc-... id", "%q is not a VPC id", n.ID)
		}
		if _, _, err := net.ParseCIDR(n.CIDR); err != nil {
			v.r.Add(vp+".cidr", "give the VPC's IPv4 CIDR, e.g. 10.0.0.0/16", "%q is not a CIDR", n.CIDR)
		}
		if len(n.AvailabilityZones) < 2 {
			v.r.Add(vp+".availabilityZones", "list at least two AZs: an ALB and a Multi-AZ cache need them", "%d availability zones", len(n.AvailabilityZones))
		}
		for field, ids := range map[string][]string{"privateSubnetIds": n.PrivateSubnetIDs, "publicSubnetIds": n.PublicSubnetIDs} {
			if len(ids) == 0 && (field == "privateSubnetIds" || g.InternetFacing) {
				v.r.Add(vp+"."+field, "list one subnet per AZ", "no %s", field)
				continue
			}
			if len(ids) > 0 && len(ids) != len(n.AvailabilityZones) {
				v.r.Add(vp+"."+field, "list one subnet per AZ, in the order of availabilityZones", "%d subnets for %d AZs", len(ids), len(n.AvailabilityZones))
			}
			for i, id := range ids {
				if !subnetIDRE.MatchString(id) {
					v.r.Add(fmt.Sprintf("%s.%s[%d]", vp, field, i), "use the subnet-... id", "%q is not a subnet id", id)
				}
			}
		}
	}
}
