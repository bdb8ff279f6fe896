package assembly

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/acme/genai-estate/internal/arn"
)

// noValue is what Ref AWS::NoValue resolves to; it is dropped from its parent.
type noValue struct{}

// resolver resolves intrinsics in one template. What cannot be known before
// deployment (a bucket's generated name, an import) becomes a readable
// placeholder such as {{Bucket.Arn}}, which matches no IAM pattern but `*`.
type resolver struct {
	s     *Stack
	t     *template
	depth int
}

func (r *resolver) resolve(v any) any {
	r.depth++
	defer func() { r.depth-- }()
	if r.depth > 64 {
		return "{{cycle}}"
	}
	switch v := v.(type) {
	case []any:
		out := make([]any, 0, len(v))
		for _, x := range v {
			if x = r.resolve(x); x != (noValue{}) {
				out = append(out, x)
			}
		}
		return out
	case map[string]any:
		if len(v) == 1 {
			for fn, arg := range v {
				if res, ok := r.intrinsic(fn, arg); ok {
					return res
				}
			}
		}
		out := make(map[string]any, len(v))
		for k, x := range v {
			if x = r.resolve(x); x != (noValue{}) {
				out[k] = x
			}
		}
		return out
	}
	return v
}

func (r *resolver) intrinsic(fn string, arg any) (any, bool) {
	switch fn {
	case "Ref":
		name, _ := arg.(string)
		return r.ref(name), true
	case "Fn::GetAtt":
		var id, attr string
		switch a := r.resolve(arg).(type) {
		case []any:
			if len(a) == 2 {
				id, _ = a[0].(string)
				attr, _ = a[1].(string)
			}
		case string:
			id, attr, _ = strings.Cut(a, ".")
		}
		return r.getAtt(id, attr), true
	case "Fn::Join":
		a, _ := r.resolve(arg).([]any)
		if len(a) != 2 {
			return "{{Fn::Join}}", true
		}
		sep, _ := a[0].(string)
		parts, _ := a[1].([]any)
		var ss []string
		for _, p := range parts {
			ss = append(ss, fmt.Sprint(p))
		}
		return strings.Join(ss, sep), true
	case "Fn::Sub":
		return r.sub(arg), true
	case "Fn::Select":
		a, _ := r.resolve(arg).([]any)
		if len(a) == 2 {
			i, err := strconv.Atoi(fmt.Sprint(a[0]))
			if list, ok := a[1].([]any); ok && err == nil && i >= 0 && i < len(list) {
				return list[i], true
			}
		}
		return "{{Fn::Select}}", true
	case "Fn::Split":
		a, _ := r.resolve(arg).([]any)
		if len(a) == 2 {
			sep, _ := a[0].(string)
			s, _ := a[1].(string)
			var out []any
			for _, p := range strings.Split(s, sep) {
				out = append(out, p)
			}
			return out, true
		}
		return "{{Fn::Split}}", true
	case "Fn::If", "Fn::ImportValue", "Fn::GetAZs", "Fn::FindInMap", "Fn::Base64", "Fn::Cidr":
		return "{{" + fn + "}}", true
	}
	return nil, false
}

func (r *resolver) ref(name string) any {
	s := r.s
	switch name {
	case "AWS::AccountId":
		return s.Account
	case "AWS::Region":
		return s.Region
	case "AWS::Partition":
		return s.Partition
	case "AWS::URLSuffix":
		if s.Partition == "aws-cn" {
			return "amazonaws.com.cn"
		}
		return "amazonaws.com"
	case "AWS::StackName":
		return s.Name
	case "AWS::StackId":
		return arn.Regional(s.Partition, "cloudformation", s.Region, s.Account, "stack/"+s.Name+"/{{StackId}}")
	case "AWS::NoValue":
		return noValue{}
	case "AWS::NotificationARNs":
		return []any{}
	}
	if p, ok := r.t.Parameters[name]; ok {
		if p.Default != nil {
			return p.Default
		}
		return "{{" + name + "}}"
	}
	res, ok := r.t.Resources[name]
	if !ok {
		return "{{" + name + "}}"
	}
	switch res.Type {
	case "AWS::IAM::Role", "AWS::IAM::Policy":
		return r.physicalName(name, "RoleName", "PolicyName")
	case "AWS::IAM::ManagedPolicy", "AWS::IAM::OIDCProvider":
		return r.getAtt(name, "Arn")
	}
	return "{{" + name + "}}"
}

// physicalName is the name property, or the stack-prefixed name CloudFormation generates.
func (r *resolver) physicalName(id string, props ...string) string {
	p := r.t.Resources[id].Properties
	for _, k := range props {
		if n, ok := r.resolve(p[k]).(string); ok && n != "" {
			return n
		}
	}
	return r.s.Name + "-" + id
}

func (r *resolver) getAtt(id, attr string) any {
	res, ok := r.t.Resources[id]
	s := r.s
	if ok {
		path := "/"
		if p, ok := r.resolve(res.Properties["Path"]).(string); ok && p != "" {
			path = p
		}
		switch {
		case res.Type == "AWS::IAM::Role" && attr == "Arn":
			return arn.Role(s.Partition, s.Account, path, r.physicalName(id, "RoleName"))
		case res.Type == "AWS::IAM::ManagedPolicy" && (attr == "Arn" || attr == "PolicyArn"):
			return arn.ManagedPolicy(s.Partition, s.Account, path, r.physicalName(id, "ManagedPolicyName"))
		case res.Type == "AWS::Bedrock::ApplicationInferenceProfile" && (attr == "InferenceProfileArn" || attr == "InferenceProfileIdentifier"):
			return s.AppProfileArn(id)
		case res.Type == "AWS::IAM::OIDCProvider" && attr == "Arn":
			url, _ := r.resolve(res.Properties["Url"]).(string)
			return arn.OIDCProvider(s.Partition, s.Account, url)
		}
	}
	return "{{" + id + "." + attr + "}}"
}

var subVar = regexp.MustCompile(`\$\{([^}]*)\}`)

func (r *resolver) sub(arg any) any {
	var text string
	vars := map[string]any{}
	switch a := arg.(type) {
	case string:
		text = a
	case []any:
		if len(a) > 0 {
			text, _ = a[0].(string)
		}
		if len(a) > 1 {
			m, _ := a[1].(map[string]any)
			for k, v := range m {
				vars[k] = r.resolve(v)
			}
		}
	}
	return subVar.ReplaceAllStringFunc(text, func(m string) string {
		name := m[2 : len(m)-1]
		if strings.HasPrefix(name, "!") {
			return "${" + name[1:] + "}"
		}
		if v, ok := vars[name]; ok {
			return fmt.Sprint(v)
		}
		if id, attr, ok := strings.Cut(name, "."); ok {
			return fmt.Sprint(r.getAtt(id, attr))
		}
		return fmt.Sprint(r.ref(name))
	})
}
