package env

import (
	"strings"
	"testing"
	"time"
)

func TestLoad(t *testing.T) {
	base := map[string]string{
		RoutingParameterPath: "/ACME/GenAIGateway/routing", IdPIssuerURL: "https://idp.example.com/oauth2/default",
		IdPAudience: " genai-gateway , other ", AWSRegion: "us-east-1",
		CacheEndpoint: "master.cache.example", CacheUser: "genai-gateway", CacheReplicationGroupID: "acme-genai",
	}
	cases := []struct {
		name    string
		set     map[string]string
		wantErr []string
		check   func(Config) bool
	}{
		{"defaults", nil, nil, func(c Config) bool {
			return c.Port == 8080 && c.CachePort == 6379 && c.CacheTLS && c.CacheIAMAuth && c.CredentialTTL == 15*time.Minute &&
				c.RequestTimeout == 300*time.Second && c.MaxBodyBytes == 10485760 && c.RoutingRefresh == time.Minute &&
				len(c.Audiences) == 2 && c.Audiences[1] == "other"
		}},
		{"local cache without TLS or IAM", map[string]string{CacheTLS: "false", CacheIAMAuth: "false", CacheUser: "", CacheReplicationGroupID: ""}, nil,
			func(c Config) bool { return !c.CacheTLS && !c.CacheIAMAuth }},
		{"no cache", map[string]string{CacheEndpoint: "", CacheUser: "", CacheReplicationGroupID: ""}, nil, func(c Config) bool { return c.CacheEndpoint == "" }},
		{"IAM auth needs TLS", map[string]string{CacheTLS: "false"}, []string{"CACHE_IAM_AUTH=true needs CACHE_TLS=true"}, nil},
		{"every error at once", map[string]string{RoutingParameterPath: "", IdPAudience: " , ", CredentialTTLSeconds: "60", Port: "x", CacheUser: ""},
			[]string{"ROUTING_PARAMETER_PATH is not set", "IDP_AUDIENCE is not set", "CREDENTIAL_TTL_SECONDS=\"60\"", "PORT=\"x\"", "CACHE_USER is not set"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := map[string]string{}
			for k, v := range base {
				m[k] = v
			}
			for k, v := range c.set {
				m[k] = v
			}
			cfg, err := Load(func(k string) (string, bool) { v, ok := m[k]; return v, ok })
			for _, w := range c.wantErr {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("error %v lacks %q", err, w)
				}
			}
			if c.wantErr == nil && err != nil {
				t.Fatal(err)
			}
			if c.check != nil && !c.check(cfg) {
				t.Fatalf("config %+v", cfg)
			}
		})
	}
}
