package server

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/redis/go-redis/v9"

	"github.com/acme/genai-estate/internal/gateway/auth"
	"github.com/acme/genai-estate/internal/gateway/creds"
	"github.com/acme/genai-estate/internal/gateway/env"
	"github.com/acme/genai-estate/internal/gateway/quota"
	"github.com/acme/genai-estate/internal/gateway/routing"
	"github.com/acme/genai-estate/internal/gateway/store"
)

// BedrockEndpoint is the runtime endpoint of a region, unless the SDK's
// standard override variables name another (AWS_ENDPOINT_URL_BEDROCK_RUNTIME,
// then AWS_ENDPOINT_URL), which are read the way the SDK reads them for STS
// and SSM.
func BedrockEndpoint(getenv func(string) string) func(region string) string {
	override := ""
	if !strings.EqualFold(getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"), "true") {
		override = getenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME")
		if override == "" {
			override = getenv("AWS_ENDPOINT_URL")
		}
	}
	return func(region string) string {
		if override != "" {
			return override
		}
		return "https://bedrock-runtime." + region + ".amazonaws.com"
	}
}

// SSMFetcher reads a parameter in the model account and region with the
// assumed role's credentials (the endpoint override applies as for the
// routing parameters).
func SSMFetcher(client *ssm.Client) ProfileFetcher {
	return func(ctx context.Context, cr creds.Creds, region, name string) (string, error) {
		out, err := client.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(name)}, func(o *ssm.Options) {
			o.Region = region
			o.Credentials = aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) { return cr.AWS(), nil })
		})
		if err != nil {
			return "", err
		}
		if out.Parameter == nil {
			return "", fmt.Errorf("parameter %s has no value", name)
		}
		return aws.ToString(out.Parameter.Value), nil
	}
}

// Transport is tuned for many concurrent calls to a few Bedrock endpoints.
func Transport() *http.Transport {
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          512,
		MaxIdleConnsPerHost:   256,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   5 * time.Second,
		ResponseHeaderTimeout: 0, // a model may think long before its first byte; the request timeout bounds it
	}
}

// FromEnv builds the gateway from its environment: AWS clients (endpoint
// overrides from AWS_ENDPOINT_URL_*), routing loaded once and refreshed until
// ctx ends, the token verifier, and the Valkey client when an endpoint is set.
func FromEnv(ctx context.Context, c env.Config, log *slog.Logger) (*Server, func(), error) {
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion(c.Region))
	if err != nil {
		return nil, nil, fmt.Errorf("aws config: %w", err)
	}
	ssmClient := ssm.NewFromConfig(awsCfg)
	loader := &routing.Loader{Client: ssmClient, Path: c.RoutingParameterPath}
	if err := loader.Load(ctx); err != nil {
		return nil, nil, err
	}
	log.Info("routing loaded", "path", c.RoutingParameterPath, "useCases", loader.Table().UseCases())
	go func() {
		t := time.NewTicker(c.RoutingRefresh)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if err := loader.Load(ctx); err != nil {
					log.Warn("routing refresh failed, keeping the previous table", "error", err.Error())
				}
			}
		}
	}()
	v, err := auth.New(ctx, auth.Options{Issuer: c.IssuerURL, Audiences: c.Audiences, JWKSURL: c.JWKSURL})
	if err != nil {
		return nil, nil, err
	}
	var rdb *redis.Client
	if c.CacheEndpoint != "" {
		rdb = store.New(store.Options{Endpoint: c.CacheEndpoint, Port: c.CachePort, TLS: c.CacheTLS, IAMAuth: c.CacheIAMAuth,
			User: c.CacheUser, ReplicationGroupID: c.CacheReplicationGroupID, Region: c.Region, Credentials: awsCfg.Credentials})
		if err := rdb.Ping(ctx).Err(); err != nil {
			// Not fatal: the gateway serves through STS and local quotas until the cache is back.
			log.Warn("cache unreachable at start", "endpoint", c.CacheEndpoint, "error", err.Error())
		}
	} else {
		log.Warn("no " + env.CacheEndpoint + ": credentials cached in process only, quotas counted per task")
	}
	// STS AssumeRoleWithWebIdentity is unsigned: the token is the credential.
	stsClient := sts.NewFromConfig(awsCfg, func(o *sts.Options) { o.Credentials = aws.AnonymousCredentials{} })
	br := &store.Breaker{}
	s := &Server{
		Verifier:      v,
		Routes:        loader,
		Creds:         &creds.Cache{STS: stsClient, Redis: rdb, Breaker: br, TTL: c.CredentialTTL, Log: log},
		Quota:         &quota.Limiter{Redis: rdb, Breaker: br, Log: log},
		Profiles:      &Profiles{Fetch: SSMFetcher(ssmClient), TTL: DefaultProfileTTL},
		Transport:     Transport(),
		Endpoint:      BedrockEndpoint(os.Getenv),
		DefaultRegion: c.Region,
		MaxBody:       c.MaxBodyBytes,
		Timeout:       c.RequestTimeout,
		Log:           log,
	}
	closeFn := func() {
		if rdb != nil {
			_ = rdb.Close()
		}
	}
	return s, closeFn, nil
}
