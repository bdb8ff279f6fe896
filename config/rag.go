package config

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/acme/genai-estate/config/field"
	"github.com/acme/genai-estate/internal/arn"
)

// RAG configures the RAG agent's base stack (documents, vectors, metadata,
// roles) and its Lambda/API stack.
type RAG struct {
	Name                     string  `yaml:"name" doc:"Prefix of the RAG stacks' names, e.g. RagAgent." required:"true" pattern:"^[A-Za-z][A-Za-z0-9]*$"`
	Account                  string  `yaml:"account" doc:"12-digit account id, quoted." required:"true" pattern:"^[0-9]{12}$"`
	Region                   string  `yaml:"region" doc:"Region of the RAG stacks." required:"true" schema:"region"`
	LLMModel                 string  `yaml:"llmModel" doc:"Model or inference profile id used for generation." required:"true"`
	EmbeddingModel           string  `yaml:"embeddingModel" doc:"Embedding model id; its catalog entry lists the dimensions it produces." required:"true"`
	VectorDimension          int     `yaml:"vectorDimension" doc:"Index dimension; must be one the embedding model produces." required:"true"`
	DistanceMetric           string  `yaml:"distanceMetric,omitempty" doc:"cosine or euclidean." enum:"cosine,euclidean" default:"cosine"`
	DocumentsPrefix          string  `yaml:"documentsPrefix,omitempty" doc:"Key prefix of documents in the bucket, ending in /." default:"documents/"`
	NoncurrentVersionDays    int     `yaml:"noncurrentVersionDays,omitempty" doc:"Days before noncurrent document versions expire." default:"30" minimum:"1"`
	ConversationTTLAttribute string  `yaml:"conversationTtlAttribute,omitempty" doc:"DynamoDB TTL attribute for conversation items; unset means no TTL."`
	KnowledgeBase            bool    `yaml:"knowledgeBase,omitempty" doc:"Create the role a Bedrock knowledge base assumes."`
	TopK                     int     `yaml:"topK,omitempty" doc:"VECTOR_TOP_K." default:"5" minimum:"1" maximum:"100"`
	SimilarityThreshold      float64 `yaml:"similarityThreshold,omitempty" doc:"SIMILARITY_THRESHOLD." default:"0.7" minimum:"0" maximum:"1"`
	KnowledgeBaseID          string  `yaml:"knowledgeBaseId,omitempty" doc:"BEDROCK_KNOWLEDGE_BASE_ID, when the agent searches an existing knowledge base (up to 10 letters and digits); the app role may Retrieve and RetrieveAndGenerate on it."`
	// The index stores these keys as non-filterable metadata: chunk text and
	// a knowledge base's keys would overflow the 2 KB filterable budget.
	NonFilterableMetadataKeys []string  `yaml:"nonFilterableMetadataKeys,omitempty" doc:"Vector metadata keys stored but not filterable (1-10 keys, 1-63 characters each). Changing them replaces the index. Default content, AMAZON_BEDROCK_TEXT, AMAZON_BEDROCK_METADATA."`
	KMSKeyArn                 string    `yaml:"kmsKeyArn,omitempty" doc:"Customer-managed KMS key (ARN, in rag.region) for the documents bucket, the table, the vector bucket and the RAG log groups; its key policy must admit CloudWatch Logs and S3 Vectors (see the README). Default: AWS-managed encryption."`
	CreateKMSKey              bool      `yaml:"createKmsKey,omitempty" doc:"Create that key in the base stack (rotation on, retained). Not with kmsKeyArn."`
	Image                     RAGImage  `yaml:"image" doc:"The agent's container image." required:"true"`
	Lambda                    RAGLambda `yaml:"lambda,omitempty" doc:"Function settings."`
	API                       RAGAPI    `yaml:"api,omitempty" doc:"API Gateway settings."`
}

// RAGLambda sizes the function.
type RAGLambda struct {
	MemoryMB         int `yaml:"memoryMb,omitempty" doc:"Memory in MB." default:"1024" minimum:"128" maximum:"10240"`
	TimeoutSeconds   int `yaml:"timeoutSeconds,omitempty" doc:"Timeout in seconds." default:"60" minimum:"1" maximum:"900"`
	LogRetentionDays int `yaml:"logRetentionDays,omitempty" doc:"Days to keep the function's and the API's logs (a CloudWatch Logs retention)." default:"30"`
}

// RAGAPI configures the REST API in front of the function.
type RAGAPI struct {
	Auth        string   `yaml:"auth,omitempty" doc:"iam or cognito." enum:"iam,cognito" default:"iam"`
	UserPoolArn string   `yaml:"userPoolArn,omitempty" doc:"Cognito user pool ARN, for auth: cognito."`
	CorsOrigins []string `yaml:"corsOrigins,omitempty" doc:"Origins allowed by CORS; none means no CORS."`
	RateLimit   float64  `yaml:"rateLimit,omitempty" doc:"Stage throttling, requests per second." default:"50" minimum:"1"`
	BurstLimit  int      `yaml:"burstLimit,omitempty" doc:"Stage throttling burst." default:"100" minimum:"1"`
	// Every route streams, so the integration may wait up to 15 minutes
	// without a quota increase.
	TimeoutSeconds int `yaml:"timeoutSeconds,omitempty" doc:"Integration timeout of every route, at most lambda.timeoutSeconds. Default lambda.timeoutSeconds." minimum:"1" maximum:"900"`
	MaxBodyKB      int `yaml:"maxBodyKb,omitempty" doc:"Largest request body the web ACL lets through, in KB (WAF's inspection limits for API Gateway). Documents go to S3 by presigned URL instead." enum:"16,32,48,64" default:"64"`
}

// RAGImage is the container image: an ECR image, or a directory built as an asset.
type RAGImage struct {
	Repository string `yaml:"repository,omitempty" doc:"ECR repository ARN."`
	Tag        string `yaml:"tag,omitempty" doc:"Image tag or sha256 digest in the repository."`
	Directory  string `yaml:"directory,omitempty" doc:"Directory with a Dockerfile, relative to the config file."`
}

// DefaultNonFilterableMetadataKeys are the app's chunk text key and the two
// keys a Bedrock knowledge base writes into an S3 Vectors index.
var DefaultNonFilterableMetadataKeys = []string{"content", "AMAZON_BEDROCK_TEXT", "AMAZON_BEDROCK_METADATA"}

var knowledgeBaseIDRE = regexp.MustCompile(`^[0-9a-zA-Z]{1,10}$`)

var logRetentionDays = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

var ecrRepoARN = regexp.MustCompile(`^arn:aws(-cn|-us-gov)?:ecr:[a-z0-9-]+:[0-9]{12}:repository/[a-z0-9._/-]+$`)

// Defaults fills the defaults a struct tag cannot state: a list, and a
// value that follows another field. SetDefaults has filled the tagged ones.
func (r *RAG) Defaults() {
	if r.NonFilterableMetadataKeys == nil {
		r.NonFilterableMetadataKeys = slices.Clone(DefaultNonFilterableMetadataKeys)
	}
	if r.API.TimeoutSeconds == 0 {
		r.API.TimeoutSeconds = r.Lambda.TimeoutSeconds
	}
}

func (v *validator) rag() {
	r := v.c.RAG
	if r == nil {
		return
	}
	at := field.NewPath("rag")
	v.field(at.Child("name"), r.Name, true)
	v.account(at.Child("account"), r.Account)
	v.region(at.Child("region"), r.Region, true)
	if v.required(at.Child("llmModel"), r.LLMModel == "", "the generation model, e.g. anthropic.claude-3-haiku-20240307-v1:0") {
		if m, ok := v.c.Catalog.Lookup(r.LLMModel); !ok {
			v.err(at.Child("llmModel"), KindReference, v.modelFix(r.LLMModel), "unknown model %q", r.LLMModel)
		} else if len(m.EmbeddingDimensions) > 0 {
			v.err(at.Child("llmModel"), KindInvalid, "name a text generation model; the embedding model goes in embeddingModel", "%q is an embedding model", r.LLMModel)
		}
	}
	if v.required(at.Child("embeddingModel"), r.EmbeddingModel == "", "the embedding model, e.g. amazon.titan-embed-text-v2:0") {
		m, ok := v.c.Catalog.Lookup(r.EmbeddingModel)
		switch {
		case !ok:
			v.err(at.Child("embeddingModel"), KindReference, v.modelFix(r.EmbeddingModel), "unknown model %q", r.EmbeddingModel)
		case len(m.EmbeddingDimensions) == 0:
			v.err(at.Child("embeddingModel"), KindInvalid, "name an embedding model, or give this one embeddingDimensions under models:", "%q is not an embedding model in the catalog", r.EmbeddingModel)
		case !slices.Contains(m.EmbeddingDimensions, r.VectorDimension):
			dims := fmt.Sprint(m.EmbeddingDimensions)
			v.err(at.Child("vectorDimension"), KindEnum, fmt.Sprintf("use one of %s; the index dimension must match the embeddings", strings.Trim(dims, "[]")), "%s produces %s-dimensional vectors, not %d", r.EmbeddingModel, dims, r.VectorDimension)
		}
	}
	if r.DistanceMetric != "" && r.DistanceMetric != "cosine" && r.DistanceMetric != "euclidean" {
		v.err(at.Child("distanceMetric"), KindEnum, DidYouMean(r.DistanceMetric, []string{"cosine", "euclidean"}, "use cosine or euclidean"), "unknown distance metric %q", r.DistanceMetric)
	}
	if r.DocumentsPrefix != "" && (strings.HasPrefix(r.DocumentsPrefix, "/") || !strings.HasSuffix(r.DocumentsPrefix, "/") || strings.ContainsAny(r.DocumentsPrefix, "*?")) {
		v.err(at.Child("documentsPrefix"), KindPattern, "use a literal key prefix ending in /, e.g. documents/", "%q is not a usable key prefix", r.DocumentsPrefix)
	}
	// Ranges, enums and defaults of single fields are declared in the tags.
	v.ragTimeout(r)
	v.kmsKeyChoice(at, r.KMSKeyArn, r.CreateKMSKey, r.Region)
	v.ragMetadataKeys(at.Child("nonFilterableMetadataKeys"), r.NonFilterableMetadataKeys)
	if id := r.KnowledgeBaseID; id != "" && !knowledgeBaseIDRE.MatchString(id) {
		v.err(at.Child("knowledgeBaseId"), KindPattern, "use the knowledge base id (up to 10 letters and digits, e.g. ABCDE12345), not its name or ARN", "%q is not a knowledge base id", id)
	}
	if d := r.Lambda.LogRetentionDays; !slices.Contains(logRetentionDays, d) {
		v.err(at.Child("lambda", "logRetentionDays"), KindEnum, fmt.Sprintf("use one of %v", logRetentionDays), "CloudWatch Logs does not offer %d days", d)
	}
	switch r.API.Auth {
	case "", "iam":
	case "cognito":
		if !strings.HasPrefix(r.API.UserPoolArn, "arn:") || !strings.Contains(r.API.UserPoolArn, ":userpool/") {
			v.err(at.Child("api", "userPoolArn"), KindInvalid, "give the user pool ARN: arn:aws:cognito-idp:<region>:<account>:userpool/<id>", "auth: cognito needs a user pool ARN")
		}
	default:
		v.err(at.Child("api", "auth"), KindEnum, DidYouMean(r.API.Auth, []string{"iam", "cognito"}, "use iam or cognito"), "unknown auth %q", r.API.Auth)
	}
	for i, o := range r.API.CorsOrigins {
		if o == "*" || !(strings.HasPrefix(o, "https://") || strings.HasPrefix(o, "http://localhost")) {
			v.err(at.Child("api", "corsOrigins").Index(i), KindPattern, "list exact https origins, e.g. https://app.example.com", "%q is not an allowed CORS origin", o)
		}
	}
	img := r.Image
	switch {
	case img.Repository == "" && img.Directory == "":
		v.err(at.Child("image"), KindRequired, "set repository and tag (an ECR image), or directory (a folder with a Dockerfile)", "no container image")
	case img.Repository != "" && img.Directory != "":
		v.err(at.Child("image"), KindInvalid, "keep either repository and tag, or directory", "both an ECR image and a directory are set")
	case img.Repository != "":
		if !ecrRepoARN.MatchString(img.Repository) {
			v.err(at.Child("image", "repository"), KindPattern, "use the repository ARN: arn:aws:ecr:<region>:<account>:repository/<name>", "%q is not an ECR repository ARN", img.Repository)
		}
		if img.Tag == "" {
			v.err(at.Child("image", "tag"), KindRequired, "pin the image with a tag or a sha256: digest", "an ECR image needs a tag")
		}
	default:
		dir := filepath.Join(filepath.Dir(v.c.File), img.Directory)
		if _, err := os.Stat(filepath.Join(dir, "Dockerfile")); err != nil {
			v.err(at.Child("image", "directory"), KindInvalid, "point at a folder that holds the agent's Dockerfile (relative to the config file)", "no Dockerfile in %s", dir)
		}
	}
}

// ragTimeout checks the gateway's integration timeout against the function's:
// every route streams, so API Gateway allows up to 15 minutes, and waiting
// longer than the function may run only hides that the function was stopped.
// Both are in range here or already reported (minimum/maximum tags).
func (v *validator) ragTimeout(r *RAG) {
	lambda, ts := r.Lambda.TimeoutSeconds, r.API.TimeoutSeconds
	if lambda >= 1 && lambda <= 900 && ts > lambda {
		v.err(field.NewPath("rag", "api", "timeoutSeconds"), KindRange, fmt.Sprintf("use at most %d (lambda.timeoutSeconds), or raise lambda.timeoutSeconds to %d", lambda, ts), "the gateway would wait %d s for a function that Lambda stops after %d s", ts, lambda)
	}
}

// ragMetadataKeys checks the index's non-filterable keys as S3 Vectors does:
// 1 to 10 keys of 1 to 63 characters; a repeated key is a typo.
func (v *validator) ragMetadataKeys(path *field.Path, keys []string) {
	if keys == nil {
		return
	}
	if len(keys) < 1 || len(keys) > 10 {
		v.err(path, KindRange, "list 1 to 10 keys, or leave the field out for the default", "%d keys; S3 Vectors takes 1 to 10", len(keys))
	}
	seen := map[string]bool{}
	for i, k := range keys {
		p := path.Index(i)
		switch {
		case len(k) < 1 || len(k) > 63:
			v.err(p, KindRange, "use a key of 1 to 63 characters", "%q is not a usable metadata key", k)
		case seen[k]:
			v.err(p, KindDuplicate, "list each key once", "%q is listed twice", k)
		}
		seen[k] = true
	}
}

// kmsKeyChoice checks an imported key ARN (its shape, and that it is in the
// region of the resources it encrypts: S3, DynamoDB and CloudWatch Logs take
// keys of their own region only) and that a key is not also created.
func (v *validator) kmsKeyChoice(p *field.Path, keyArn string, create bool, region string) {
	if keyArn == "" {
		return
	}
	if a, err := arn.Parse(keyArn); err != nil || a.Service != "kms" || !accountRE.MatchString(a.Account) || len(a.Resource) <= len("key/") || !strings.HasPrefix(a.Resource, "key/") {
		v.err(p.Child("kmsKeyArn"), KindPattern, "use arn:aws:kms:<region>:<account>:key/<key-id> (a key ARN, not an alias)", "%q is not a KMS key ARN", keyArn)
	} else if region != "" && a.Region != region {
		v.err(p.Child("kmsKeyArn"), KindInvalid, fmt.Sprintf("use a key in %s: S3, DynamoDB and CloudWatch Logs take keys of their own region only", region), "the key is in %s, the resources in %s", a.Region, region)
	}
	if create {
		v.err(p.Child("createKmsKey"), KindInvalid, "keep kmsKeyArn (import a key) or createKmsKey (create one), not both", "both kmsKeyArn and createKmsKey are set")
	}
}
