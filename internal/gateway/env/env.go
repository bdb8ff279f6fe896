// Package env is the gateway's environment contract: the variable names the
// central stack sets on the task definition, their defaults and their parsing.
// The stack code and the service both use these constants, so a name lives in
// one place.
package env

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Variable names. AWS_REGION and the SDK's AWS_ENDPOINT_URL_<SERVICE>
// overrides (STS, SSM, BEDROCK_RUNTIME) are read by the AWS SDK itself.
const (
	Port                    = "PORT"
	RoutingParameterPath    = "ROUTING_PARAMETER_PATH"
	RoutingRefreshSeconds   = "ROUTING_REFRESH_SECONDS"
	IdPIssuerURL            = "IDP_ISSUER_URL"
	IdPAudience             = "IDP_AUDIENCE" // comma-separated accepted audiences
	IdPJWKSURL              = "IDP_JWKS_URL" // optional: else OIDC discovery from the issuer
	CacheEndpoint           = "CACHE_ENDPOINT"
	CachePort               = "CACHE_PORT"
	CacheUser               = "CACHE_USER"
	CacheReplicationGroupID = "CACHE_REPLICATION_GROUP_ID"
	CacheTLS                = "CACHE_TLS"
	CacheIAMAuth            = "CACHE_IAM_AUTH"
	CredentialTTLSeconds    = "CREDENTIAL_TTL_SECONDS"
	RequestTimeoutSeconds   = "REQUEST_TIMEOUT_SECONDS"
	MaxBodyBytes            = "MAX_BODY_BYTES"
	AWSRegion               = "AWS_REGION"
)

// Defaults of the optional variables.
const (
	DefaultPort                  = 8080
	DefaultRoutingRefreshSeconds = 60
	DefaultCachePort             = 6379
	DefaultCredentialTTLSeconds  = 900
	DefaultRequestTimeoutSeconds = 300
	DefaultMaxBodyBytes          = 10 << 20
)

// STS DurationSeconds bounds for a web-identity session of a role with the
// default one-hour maximum.
const (
	MinCredentialTTLSeconds = 900
	MaxCredentialTTLSeconds = 3600
)

// Config is the gateway's parsed environment.
type Config struct {
	Port                 int
	RoutingParameterPath string
	RoutingRefresh       time.Duration
	IssuerURL            string
	Audiences            []string
	JWKSURL              string
	// CacheEndpoint empty means an in-process cache only (local runs).
	CacheEndpoint           string
	CachePort               int
	CacheUser               string
	CacheReplicationGroupID string
	CacheTLS                bool
	CacheIAMAuth            bool
	CredentialTTL           time.Duration
	RequestTimeout          time.Duration
	MaxBodyBytes            int64
	Region                  string
}

// Load reads the environment through lookup (os.LookupEnv in main) and
// reports every wrong or missing variable at once.
func Load(lookup func(string) (string, bool)) (Config, error) {
	var errs []error
	get := func(k string) string { v, _ := lookup(k); return strings.TrimSpace(v) }
	num := func(k string, def, lo, hi int) int {
		s := get(k)
		if s == "" {
			return def
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < lo || n > hi {
			errs = append(errs, fmt.Errorf("%s=%q: want an integer in %d..%d", k, s, lo, hi))
			return def
		}
		return n
	}
	flag := func(k string, def bool) bool {
		s := get(k)
		if s == "" {
			return def
		}
		b, err := strconv.ParseBool(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s=%q: want true or false", k, s))
			return def
		}
		return b
	}
	c := Config{
		Port:                    num(Port, DefaultPort, 1, 65535),
		RoutingParameterPath:    get(RoutingParameterPath),
		RoutingRefresh:          time.Duration(num(RoutingRefreshSeconds, DefaultRoutingRefreshSeconds, 1, 86400)) * time.Second,
		IssuerURL:               get(IdPIssuerURL), // exact: compared with the iss claim as is
		JWKSURL:                 get(IdPJWKSURL),
		CacheEndpoint:           get(CacheEndpoint),
		CachePort:               num(CachePort, DefaultCachePort, 1, 65535),
		CacheUser:               get(CacheUser),
		CacheReplicationGroupID: get(CacheReplicationGroupID),
		CacheTLS:                flag(CacheTLS, true),
		CacheIAMAuth:            flag(CacheIAMAuth, true),
		CredentialTTL:           time.Duration(num(CredentialTTLSeconds, DefaultCredentialTTLSeconds, MinCredentialTTLSeconds, MaxCredentialTTLSeconds)) * time.Second,
		RequestTimeout:          time.Duration(num(RequestTimeoutSeconds, DefaultRequestTimeoutSeconds, 1, 3600)) * time.Second,
		MaxBodyBytes:            int64(num(MaxBodyBytes, DefaultMaxBodyBytes, 1, 1<<30)),
		Region:                  get(AWSRegion),
	}
	for _, a := range strings.Split(get(IdPAudience), ",") {
		if a = strings.TrimSpace(a); a != "" {
			c.Audiences = append(c.Audiences, a)
		}
	}
	required := []struct{ name, val string }{
		{RoutingParameterPath, c.RoutingParameterPath},
		{IdPIssuerURL, c.IssuerURL},
		{IdPAudience, strings.Join(c.Audiences, ",")},
		{AWSRegion, c.Region},
	}
	if c.CacheEndpoint != "" && c.CacheIAMAuth {
		required = append(required,
			struct{ name, val string }{CacheUser, c.CacheUser},
			struct{ name, val string }{CacheReplicationGroupID, c.CacheReplicationGroupID})
	}
	for _, r := range required {
		if r.val == "" {
			errs = append(errs, fmt.Errorf("%s is not set", r.name))
		}
	}
	if c.CacheIAMAuth && c.CacheEndpoint != "" && !c.CacheTLS {
		errs = append(errs, fmt.Errorf("%s=true needs %s=true: ElastiCache accepts IAM auth only over TLS", CacheIAMAuth, CacheTLS))
	}
	return c, errors.Join(errs...)
}
