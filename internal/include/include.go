// Package include adds a CloudFormation template rendered in Go to a CDK
// construct tree in one jsii call, as cloudformation-include would, for
// stacks of many resources (the model-account shards).
//
// Every Go→jsii call is a round trip to node, so the toolkit renders a
// shard's resources in Go and hands them over at once. CfnInclude did that
// at the cost of reading its template from a file with a YAML parser,
// decoding every parameter value in the jsii kernel and resolving each
// resource's L1 module anew: at 50 accounts × 400 use cases those were most
// of the 3 s the constructs took, against 0.6 s for the same stacks written
// in JavaScript. The node side here (js/index.js, a jsii package of one
// static method, loaded into the kernel next to aws-cdk-lib) takes the
// template as one JSON string and makes the same constructs CfnInclude
// would, by its rules (its type-to-class table, parser and attribute
// handling), so tags, aspects and cdk-nag see real CfnRole,
// CfnManagedPolicy and CfnOIDCProvider constructs and the templates are
// byte-identical (TestMatchesCfnInclude, the golden tests).
package include

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"embed"
	"sync"
	"time"

	awscdkinit "github.com/aws/aws-cdk-go/awscdk/v2/jsii"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/aws/jsii-runtime-go/runtime"
)

// The package's files: the jsii assembly (.jsii, the type information the
// kernel reads) is written by hand, as it declares a single static method.
//
//go:embed js/package.json js/index.js js/.jsii
var files embed.FS

const (
	name    = "genai-estate-include"
	version = "1.0.0"
)

var tarball = sync.OnceValue(func() []byte {
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	// A fixed time and order: the same bytes each run, so the kernel's
	// package cache (keyed by the tarball's digest) is hit.
	for _, f := range []string{"package.json", "index.js", ".jsii"} {
		b, err := files.ReadFile("js/" + f)
		if err != nil {
			panic(err)
		}
		hdr := &tar.Header{Name: "package/" + f, Mode: 0o644, Size: int64(len(b)), ModTime: time.Unix(0, 0), Format: tar.FormatPAX}
		if err := tw.WriteHeader(hdr); err != nil {
			panic(err)
		}
		if _, err := tw.Write(b); err != nil {
			panic(err)
		}
	}
	if err := tw.Close(); err != nil {
		panic(err)
	}
	if err := gz.Close(); err != nil {
		panic(err)
	}
	return buf.Bytes()
})

// load puts the package into the kernel after aws-cdk-lib, which its
// module requires. jsii's runtime makes Load idempotent per kernel process.
func load() {
	awscdkinit.Initialize()
	runtime.Load(name, version, tarball())
}

// New adds a construct id to scope holding template's resources and
// outputs (its only sections) and returns it. Each resource is the L1
// construct of its type with the template's logical id, a child of the
// returned construct named by that id; outputs are under its child
// "$Outputs". template is JSON.
func New(scope constructs.Construct, id string, template []byte) constructs.Construct {
	load()
	var c constructs.Construct
	runtime.StaticInvoke(name+".Include", "resources", []any{scope, jsii.String(id), jsii.String(string(template))}, &c)
	return c
}
