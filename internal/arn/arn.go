// Package arn is the one place that knows the shape of an ARN and which
// partition a region belongs to. Every package that writes or reads an ARN
// goes through it, so a shape is stated once.
package arn

import (
	"fmt"
	"strings"

	"github.com/acme/genai-estate/internal/catalog"
)

// ARN is arn:<Partition>:<Service>:<Region>:<Account>:<Resource>.
type ARN struct {
	Partition, Service, Region, Account, Resource string
}

func (a ARN) String() string {
	return "arn:" + a.Partition + ":" + a.Service + ":" + a.Region + ":" + a.Account + ":" + a.Resource
}

// Parse splits an ARN into its six parts; the resource keeps any colons.
func Parse(s string) (ARN, error) {
	p := strings.SplitN(s, ":", 6)
	if len(p) != 6 || p[0] != "arn" || p[1] == "" || p[2] == "" {
		return ARN{}, fmt.Errorf("%q is not an ARN (arn:partition:service:region:account:resource)", s)
	}
	return ARN{Partition: p[1], Service: p[2], Region: p[3], Account: p[4], Resource: p[5]}, nil
}

// PartitionOf returns the partition of a region, from the catalog's one
// region table; a region it does not list is taken to be in "aws".
func PartitionOf(region string) string {
	if p, ok := catalog.Partition(region); ok {
		return p
	}
	return "aws"
}

// PartitionOfARN returns the partition an ARN names, or "aws" when s is not an ARN.
func PartitionOfARN(s string) string {
	if a, err := Parse(s); err == nil {
		return a.Partition
	}
	return "aws"
}

// IAM resources are global: no region.

// Role is the ARN of an IAM role; path is "/" or "/a/b/".
func Role(partition, account, path, name string) string {
	return ARN{partition, "iam", "", account, "role" + normPath(path) + name}.String()
}

// ManagedPolicy is the ARN of a customer managed policy.
func ManagedPolicy(partition, account, path, name string) string {
	return ARN{partition, "iam", "", account, "policy" + normPath(path) + name}.String()
}

// OIDCProvider is the ARN of an IAM OIDC provider; issuer is the URL without https://.
func OIDCProvider(partition, account, issuer string) string {
	return ARN{partition, "iam", "", account, "oidc-provider/" + strings.TrimPrefix(issuer, "https://")}.String()
}

// AccountRoot is the ARN IAM uses for an account as a principal.
func AccountRoot(partition, account string) string {
	return ARN{partition, "iam", "", account, "root"}.String()
}

// Bedrock is a Bedrock resource: kind is foundation-model, inference-profile,
// application-inference-profile, guardrail, knowledge-base...; foundation
// models have no account, and global ones no region either.
func Bedrock(partition, region, account, kind, id string) string {
	return ARN{partition, "bedrock", region, account, kind + "/" + id}.String()
}

// GuardrailProfile is a system-defined guardrail profile (e.g.
// us.guardrail.v1:0) as IAM names it in one region of an account: the
// account is the caller's, and the region one of the profile's destinations.
func GuardrailProfile(partition, region, account, id string) string {
	return Bedrock(partition, region, account, "guardrail-profile", id)
}

// Regional is any other regional resource: service, region, account and the
// resource part as the service writes it (e.g. "parameter/a/b", "repository/x").
func Regional(partition, service, region, account, resource string) string {
	return ARN{partition, service, region, account, resource}.String()
}

func normPath(p string) string {
	if p == "" {
		return "/"
	}
	return p
}
