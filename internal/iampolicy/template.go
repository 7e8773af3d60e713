package iampolicy

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Resolver supplies the values a template's intrinsic functions refer
// to. Whatever it does not supply and has no deterministic default is an
// error when used.
type Resolver struct {
	// Pseudo parameters. Partition defaults to "aws" and URLSuffix to
	// "amazonaws.com"; AccountID and Region have no default.
	AccountID, Region, Partition, URLSuffix, StackName string
	// Refs overrides { "Ref": X } for a resource or template parameter X.
	Refs map[string]string
	// Attrs gives { "Fn::GetAtt": [X, A] } as "X.A".
	Attrs map[string]string
	// SSM gives the value of an SSM parameter by name, for
	// {{resolve:ssm:name}} and for template parameters of type
	// AWS::SSM::Parameter::Value<...> (whose Default is the name).
	SSM map[string]string
	// Imports gives Fn::ImportValue by export name.
	Imports map[string]string
}

// Template is a synthesized CloudFormation template with a resolver.
type Template struct {
	resources  map[string]map[string]interface{}
	parameters map[string]map[string]interface{}
	conditions map[string]interface{}
	outputs    map[string]interface{}
	r          Resolver
}

// ParseTemplate parses a template (JSON) for resolution with r.
func ParseTemplate(data []byte, r Resolver) (*Template, error) {
	var raw map[string]interface{}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("iampolicy: template: %w", err)
	}
	return NewTemplate(raw, r)
}

// NewTemplate wraps a decoded template.
func NewTemplate(raw map[string]interface{}, r Resolver) (*Template, error) {
	if r.Partition == "" {
		r.Partition = "aws"
	}
	if r.URLSuffix == "" {
		r.URLSuffix = "amazonaws.com"
	}
	t := &Template{resources: map[string]map[string]interface{}{}, parameters: map[string]map[string]interface{}{}, r: r}
	res, _ := raw["Resources"].(map[string]interface{})
	if res == nil {
		return nil, fmt.Errorf("iampolicy: template has no Resources")
	}
	for id, v := range res {
		m, ok := v.(map[string]interface{})
		if !ok {
			return nil, fmt.Errorf("iampolicy: resource %s is %T", id, v)
		}
		t.resources[id] = m
	}
	params, _ := raw["Parameters"].(map[string]interface{})
	for id, v := range params {
		if m, ok := v.(map[string]interface{}); ok {
			t.parameters[id] = m
		}
	}
	t.conditions, _ = raw["Conditions"].(map[string]interface{})
	t.outputs, _ = raw["Outputs"].(map[string]interface{})
	return t, nil
}

// Exports resolves the template's exported outputs (Export.Name → Value),
// to resolve another stack's Fn::ImportValue (Resolver.Imports). Exports
// whose value does not resolve are listed in unresolved (with the reason)
// and left out: importing one is then an error in the importing template.
func (t *Template) Exports() (exports map[string]string, unresolved []string) {
	exports = map[string]string{}
	for id, o := range t.outputs {
		om, _ := o.(map[string]interface{})
		exp, _ := om["Export"].(map[string]interface{})
		if exp == nil {
			continue
		}
		name, err := t.str(exp["Name"])
		if err != nil {
			unresolved = append(unresolved, fmt.Sprintf("output %s export name: %v", id, err))
			continue
		}
		v, err := t.str(om["Value"])
		if err != nil {
			unresolved = append(unresolved, fmt.Sprintf("export %s: %v", name, err))
			continue
		}
		exports[name] = v
	}
	sort.Strings(unresolved)
	return exports, unresolved
}

// Role is one IAM role of a template with its policies resolved.
type Role struct {
	LogicalID, Name, ARN string
	// Policies are its identity policies: inline Policies,
	// AWS::IAM::Policy, AWS::IAM::RolePolicy and AWS::IAM::ManagedPolicy
	// resources attached to it (through their Roles or RoleName, or the
	// role's ManagedPolicyArns).
	Policies []*Policy
	// ExternalManagedPolicies are ManagedPolicyArns not defined in the
	// template (e.g. AWS managed policies), whose content is unknown here.
	ExternalManagedPolicies []string
	// Trust is the AssumeRolePolicyDocument.
	Trust *Policy
}

// Roles returns the logical IDs of the template's roles, sorted.
func (t *Template) Roles() []string {
	var out []string
	for id, r := range t.resources {
		if r["Type"] == "AWS::IAM::Role" {
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out
}

// Role returns the role with logical ID or RoleName ref.
func (t *Template) Role(ref string) (*Role, error) {
	id := ""
	if r, ok := t.resources[ref]; ok && r["Type"] == "AWS::IAM::Role" {
		id = ref
	} else {
		for _, rid := range t.Roles() {
			props, _ := t.resources[rid]["Properties"].(map[string]interface{})
			if props["RoleName"] == nil {
				continue
			}
			n, err := t.Resolve(props["RoleName"])
			if err != nil {
				return nil, fmt.Errorf("iampolicy: role %s RoleName: %w", rid, err)
			}
			if n == ref {
				id = rid
				break
			}
		}
	}
	if id == "" {
		return nil, fmt.Errorf("iampolicy: no role with logical ID or RoleName %q", ref)
	}
	name, err := t.ref(id)
	if err != nil {
		return nil, err
	}
	arn, err := t.getAtt(id, "Arn")
	if err != nil {
		return nil, err
	}
	role := &Role{LogicalID: id, Name: name, ARN: arn}
	props, _ := t.resources[id]["Properties"].(map[string]interface{})
	if doc, ok := props["AssumeRolePolicyDocument"]; ok {
		if role.Trust, err = t.policy(id+"/trust", doc); err != nil {
			return nil, err
		}
	}
	inline, _ := props["Policies"].([]interface{})
	for _, p := range inline {
		pm, _ := p.(map[string]interface{})
		pn, err := t.Resolve(pm["PolicyName"])
		if err != nil {
			return nil, fmt.Errorf("iampolicy: role %s inline policy name: %w", id, err)
		}
		pol, err := t.policy(fmt.Sprintf("%s/%v", id, pn), pm["PolicyDocument"])
		if err != nil {
			return nil, err
		}
		role.Policies = append(role.Policies, pol)
	}
	attachedArns := map[string]bool{}
	if mp, ok := props["ManagedPolicyArns"]; ok {
		v, err := t.Resolve(mp)
		if err != nil {
			return nil, fmt.Errorf("iampolicy: role %s ManagedPolicyArns: %w", id, err)
		}
		list, _ := v.([]interface{})
		for _, a := range list {
			attachedArns[fmt.Sprint(a)] = true
		}
	}
	ids := make([]string, 0, len(t.resources))
	for rid := range t.resources {
		ids = append(ids, rid)
	}
	sort.Strings(ids)
	for _, rid := range ids {
		res := t.resources[rid]
		rp, _ := res["Properties"].(map[string]interface{})
		typ, _ := res["Type"].(string)
		switch typ {
		case "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy":
			attached := false
			if typ == "AWS::IAM::ManagedPolicy" {
				a, err := t.ref(rid)
				if err != nil {
					return nil, err
				}
				if attachedArns[a] {
					attached = true
					delete(attachedArns, a)
				}
			}
			if rs, ok := rp["Roles"]; ok && !attached {
				v, err := t.Resolve(rs)
				if err != nil {
					return nil, fmt.Errorf("iampolicy: %s Roles: %w", rid, err)
				}
				list, _ := v.([]interface{})
				for _, n := range list {
					if n == name {
						attached = true
					}
				}
			}
			if !attached {
				continue
			}
			pol, err := t.policy(rid, rp["PolicyDocument"])
			if err != nil {
				return nil, err
			}
			role.Policies = append(role.Policies, pol)
		case "AWS::IAM::RolePolicy":
			n, err := t.Resolve(rp["RoleName"])
			if err != nil {
				return nil, fmt.Errorf("iampolicy: %s RoleName: %w", rid, err)
			}
			if n != name {
				continue
			}
			pol, err := t.policy(rid, rp["PolicyDocument"])
			if err != nil {
				return nil, err
			}
			role.Policies = append(role.Policies, pol)
		}
	}
	for a := range attachedArns {
		role.ExternalManagedPolicies = append(role.ExternalManagedPolicies, a)
	}
	sort.Strings(role.ExternalManagedPolicies)
	return role, nil
}

func (t *Template) policy(name string, doc interface{}) (*Policy, error) {
	v, err := t.Resolve(doc)
	if err != nil {
		return nil, fmt.Errorf("iampolicy: policy %s: %w", name, err)
	}
	return FromValue(name, v)
}

// noValue stands for { "Ref": "AWS::NoValue" }, which removes the property
// or list element it is in.
type noValueT struct{}

var noValue = noValueT{}

// Resolve returns v with every intrinsic function replaced by its value:
// Ref, Fn::GetAtt, Fn::Join, Fn::Sub, Fn::Select, Fn::Split, Fn::If (with
// the template's Conditions), Fn::ImportValue, pseudo parameters, template
// parameters (SSM-typed ones through Resolver.SSM) and
// {{resolve:ssm:...}} references in strings.
func (t *Template) Resolve(v interface{}) (interface{}, error) {
	switch x := v.(type) {
	case string:
		return t.dynamicRefs(x)
	case []interface{}:
		out := make([]interface{}, 0, len(x))
		for _, e := range x {
			r, err := t.Resolve(e)
			if err != nil {
				return nil, err
			}
			if r == noValue {
				continue
			}
			out = append(out, r)
		}
		return out, nil
	case map[string]interface{}:
		if len(x) == 1 {
			for k, arg := range x {
				if k == "Ref" || k == "Condition" || strings.HasPrefix(k, "Fn::") {
					return t.intrinsic(k, arg)
				}
			}
		}
		out := make(map[string]interface{}, len(x))
		for k, e := range x {
			r, err := t.Resolve(e)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			if r == noValue {
				continue
			}
			out[k] = r
		}
		return out, nil
	}
	return v, nil
}

var ssmRef = regexp.MustCompile(`\{\{resolve:([a-z-]+):([^}]*)\}\}`)

func (t *Template) dynamicRefs(s string) (interface{}, error) {
	var err error
	out := ssmRef.ReplaceAllStringFunc(s, func(m string) string {
		sub := ssmRef.FindStringSubmatch(m)
		if sub[1] != "ssm" {
			err = fmt.Errorf("dynamic reference %s is not supported", m)
			return m
		}
		name := sub[2]
		// {{resolve:ssm:name:version}}: a version suffix is numeric.
		if i := strings.LastIndex(name, ":"); i > 0 {
			if _, e := strconv.Atoi(name[i+1:]); e == nil {
				name = name[:i]
			}
		}
		v, ok := t.r.SSM[name]
		if !ok {
			err = fmt.Errorf("unresolvable %s: no value for SSM parameter %q in Resolver.SSM", m, name)
			return m
		}
		return v
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (t *Template) str(v interface{}) (string, error) {
	r, err := t.Resolve(v)
	if err != nil {
		return "", err
	}
	switch x := r.(type) {
	case string:
		return x, nil
	case float64, bool:
		return fmt.Sprint(x), nil
	}
	return "", fmt.Errorf("expected a string, got %T", r)
}

func (t *Template) intrinsic(fn string, arg interface{}) (interface{}, error) {
	switch fn {
	case "Ref":
		name, ok := arg.(string)
		if !ok {
			return nil, fmt.Errorf("argument of Ref is %T", arg)
		}
		if name == "AWS::NoValue" {
			return noValue, nil
		}
		return t.ref(name)
	case "Fn::GetAtt":
		var id, attr string
		switch a := arg.(type) {
		case []interface{}:
			if len(a) != 2 {
				return nil, fmt.Errorf("Fn::GetAtt wants [resource, attribute]")
			}
			id, _ = a[0].(string)
			s, err := t.str(a[1])
			if err != nil {
				return nil, fmt.Errorf("Fn::GetAtt attribute: %w", err)
			}
			attr = s
		case string:
			id, attr, _ = strings.Cut(a, ".")
		}
		return t.getAtt(id, attr)
	case "Fn::Join":
		a, ok := arg.([]interface{})
		if !ok || len(a) != 2 {
			return nil, fmt.Errorf("Fn::Join wants [delimiter, list]")
		}
		sep, _ := a[0].(string)
		list, err := t.Resolve(a[1])
		if err != nil {
			return nil, fmt.Errorf("Fn::Join: %w", err)
		}
		items, ok := list.([]interface{})
		if !ok {
			return nil, fmt.Errorf("Fn::Join list is %T", list)
		}
		parts := make([]string, 0, len(items))
		for _, it := range items {
			s, err := t.str(it)
			if err != nil {
				return nil, fmt.Errorf("Fn::Join element: %w", err)
			}
			parts = append(parts, s)
		}
		return strings.Join(parts, sep), nil
	case "Fn::Sub":
		return t.sub(arg)
	case "Fn::Select":
		a, ok := arg.([]interface{})
		if !ok || len(a) != 2 {
			return nil, fmt.Errorf("Fn::Select wants [index, list]")
		}
		is, err := t.str(a[0])
		if err != nil {
			return nil, err
		}
		i, err := strconv.Atoi(is)
		if err != nil {
			return nil, fmt.Errorf("Fn::Select index %q", is)
		}
		list, err := t.Resolve(a[1])
		if err != nil {
			return nil, err
		}
		items, ok := list.([]interface{})
		if !ok || i < 0 || i >= len(items) {
			return nil, fmt.Errorf("Fn::Select index %d out of range", i)
		}
		return items[i], nil
	case "Fn::Split":
		a, ok := arg.([]interface{})
		if !ok || len(a) != 2 {
			return nil, fmt.Errorf("Fn::Split wants [delimiter, string]")
		}
		sep, _ := a[0].(string)
		s, err := t.str(a[1])
		if err != nil {
			return nil, err
		}
		var out []interface{}
		for _, p := range strings.Split(s, sep) {
			out = append(out, p)
		}
		return out, nil
	case "Fn::ImportValue":
		name, err := t.str(arg)
		if err != nil {
			return nil, err
		}
		v, ok := t.r.Imports[name]
		if !ok {
			return nil, fmt.Errorf("unresolvable Fn::ImportValue %q: not in Resolver.Imports", name)
		}
		return v, nil
	case "Fn::If":
		a, ok := arg.([]interface{})
		if !ok || len(a) != 3 {
			return nil, fmt.Errorf("Fn::If wants [condition, then, else]")
		}
		name, _ := a[0].(string)
		c, err := t.condition(name)
		if err != nil {
			return nil, err
		}
		if c {
			return t.Resolve(a[1])
		}
		return t.Resolve(a[2])
	case "Fn::Equals":
		a, ok := arg.([]interface{})
		if !ok || len(a) != 2 {
			return nil, fmt.Errorf("Fn::Equals wants two values")
		}
		l, err := t.Resolve(a[0])
		if err != nil {
			return nil, err
		}
		r, err := t.Resolve(a[1])
		if err != nil {
			return nil, err
		}
		return fmt.Sprint(l) == fmt.Sprint(r), nil
	case "Fn::Not", "Fn::And", "Fn::Or":
		a, ok := arg.([]interface{})
		if !ok || len(a) == 0 {
			return nil, fmt.Errorf("%s wants a list of conditions", fn)
		}
		vals := make([]bool, 0, len(a))
		for _, c := range a {
			r, err := t.Resolve(c)
			if err != nil {
				return nil, err
			}
			b, ok := r.(bool)
			if !ok {
				return nil, fmt.Errorf("%s operand is %T, want a condition", fn, r)
			}
			vals = append(vals, b)
		}
		switch fn {
		case "Fn::Not":
			return !vals[0], nil
		case "Fn::And":
			for _, b := range vals {
				if !b {
					return false, nil
				}
			}
			return true, nil
		default:
			for _, b := range vals {
				if b {
					return true, nil
				}
			}
			return false, nil
		}
	case "Condition":
		name, _ := arg.(string)
		return t.condition(name)
	}
	return nil, fmt.Errorf("unsupported intrinsic %s", fn)
}

func (t *Template) condition(name string) (bool, error) {
	c, ok := t.conditions[name]
	if !ok {
		return false, fmt.Errorf("unknown condition %q", name)
	}
	v, err := t.Resolve(c)
	if err != nil {
		return false, fmt.Errorf("condition %s: %w", name, err)
	}
	b, ok := v.(bool)
	if !ok {
		return false, fmt.Errorf("condition %s is %T", name, v)
	}
	return b, nil
}

var subVar = regexp.MustCompile(`\$\{([^}]*)\}`)

func (t *Template) sub(arg interface{}) (interface{}, error) {
	var tmpl string
	vars := map[string]interface{}{}
	switch a := arg.(type) {
	case string:
		tmpl = a
	case []interface{}:
		if len(a) != 2 {
			return nil, fmt.Errorf("Fn::Sub wants a string or [string, variables]")
		}
		tmpl, _ = a[0].(string)
		m, _ := a[1].(map[string]interface{})
		for k, v := range m {
			vars[k] = v
		}
	default:
		return nil, fmt.Errorf("Fn::Sub argument is %T", arg)
	}
	var err error
	out := subVar.ReplaceAllStringFunc(tmpl, func(m string) string {
		name := m[2 : len(m)-1]
		if strings.HasPrefix(name, "!") {
			return "${" + name[1:] + "}" // ${!Literal}
		}
		var v interface{}
		var e error
		if x, ok := vars[name]; ok {
			v, e = t.str(x)
		} else if id, attr, ok := strings.Cut(name, "."); ok && !strings.HasPrefix(name, "AWS::") {
			v, e = t.getAtt(id, attr)
		} else {
			v, e = t.ref(name)
		}
		if e != nil && err == nil {
			err = fmt.Errorf("Fn::Sub ${%s}: %w", name, e)
		}
		return fmt.Sprint(v)
	})
	if err != nil {
		return nil, err
	}
	return t.dynamicRefs(out)
}

func (t *Template) pseudo(name string) (string, error) {
	var v string
	switch name {
	case "AWS::AccountId":
		v = t.r.AccountID
	case "AWS::Region":
		v = t.r.Region
	case "AWS::Partition":
		v = t.r.Partition
	case "AWS::URLSuffix":
		v = t.r.URLSuffix
	case "AWS::StackName":
		v = t.r.StackName
	default:
		return "", fmt.Errorf("unresolvable pseudo parameter %s", name)
	}
	if v == "" {
		return "", fmt.Errorf("unresolvable %s: not set in the Resolver", name)
	}
	return v, nil
}

// ref resolves { "Ref": name }.
func (t *Template) ref(name string) (string, error) {
	if v, ok := t.r.Refs[name]; ok {
		return v, nil
	}
	if strings.HasPrefix(name, "AWS::") {
		return t.pseudo(name)
	}
	if p, ok := t.parameters[name]; ok {
		typ, _ := p["Type"].(string)
		def, hasDef := p["Default"]
		if strings.HasPrefix(typ, "AWS::SSM::Parameter::Value<") {
			n := fmt.Sprint(def)
			if v, ok := t.r.SSM[n]; ok {
				return v, nil
			}
			return "", fmt.Errorf("unresolvable parameter %s: SSM parameter %q not in Resolver.SSM", name, n)
		}
		if hasDef {
			return fmt.Sprint(def), nil
		}
		return "", fmt.Errorf("unresolvable parameter %s: no default and not in Resolver.Refs", name)
	}
	res, ok := t.resources[name]
	if !ok {
		return "", fmt.Errorf("unresolvable Ref %q: no such resource or parameter", name)
	}
	typ, _ := res["Type"].(string)
	phys, err := t.physicalName(name)
	if err != nil {
		return "", err
	}
	switch typ {
	case "AWS::IAM::ManagedPolicy", "AWS::IAM::OIDCProvider", "AWS::ElasticLoadBalancingV2::TargetGroup",
		"AWS::ElasticLoadBalancingV2::LoadBalancer", "AWS::ElasticLoadBalancingV2::Listener":
		// These types' Ref is their ARN.
		return t.getAtt(name, "Arn")
	}
	return phys, nil
}

// nameProps are the properties that set a resource's physical name.
var nameProps = map[string]string{
	"AWS::IAM::Role": "RoleName", "AWS::IAM::ManagedPolicy": "ManagedPolicyName", "AWS::IAM::Policy": "PolicyName",
	"AWS::Logs::LogGroup": "LogGroupName", "AWS::S3::Bucket": "BucketName", "AWS::ECR::Repository": "RepositoryName",
	"AWS::CodeBuild::Project": "Name", "AWS::ECS::Cluster": "ClusterName", "AWS::SSM::Parameter": "Name",
	"AWS::Events::Rule": "Name", "AWS::Events::EventBus": "Name", "AWS::Lambda::Function": "FunctionName",
	"AWS::DynamoDB::Table": "TableName", "AWS::SQS::Queue": "QueueName", "AWS::SNS::Topic": "TopicName",
	"AWS::ECS::TaskDefinition": "Family", "AWS::ECS::Service": "ServiceName",
}

// physicalName is the name given in Resolver.Refs, else the name property
// if set, else the logical ID (the deterministic stand-in for a
// CloudFormation-generated name).
func (t *Template) physicalName(id string) (string, error) {
	res := t.resources[id]
	if v, ok := t.r.Refs[id]; ok && !strings.HasPrefix(v, "arn:") {
		// A Ref override that is a name names the physical resource, so
		// its ARN (Fn::GetAtt Arn) follows it.
		return v, nil
	}
	typ, _ := res["Type"].(string)
	props, _ := res["Properties"].(map[string]interface{})
	if p, ok := nameProps[typ]; ok && props[p] != nil {
		s, err := t.str(props[p])
		if err != nil {
			return "", fmt.Errorf("resource %s %s: %w", id, p, err)
		}
		return s, nil
	}
	return id, nil
}

func (t *Template) getAtt(id, attr string) (string, error) {
	if v, ok := t.r.Attrs[id+"."+attr]; ok {
		return v, nil
	}
	res, ok := t.resources[id]
	if !ok {
		return "", fmt.Errorf("unresolvable Fn::GetAtt %s.%s: no such resource", id, attr)
	}
	typ, _ := res["Type"].(string)
	props, _ := res["Properties"].(map[string]interface{})
	name, err := t.physicalName(id)
	if err != nil {
		return "", err
	}
	arn := func(service, region, resource string) (string, error) {
		p, err := t.pseudo("AWS::Partition")
		if err != nil {
			return "", err
		}
		acct := ""
		if service != "s3" {
			if acct, err = t.pseudo("AWS::AccountId"); err != nil {
				return "", err
			}
		}
		reg := ""
		if region == "r" {
			if reg, err = t.pseudo("AWS::Region"); err != nil {
				return "", err
			}
		}
		return fmt.Sprintf("arn:%s:%s:%s:%s:%s", p, service, reg, acct, resource), nil
	}
	if attr == "Arn" {
		switch typ {
		case "AWS::IAM::Role", "AWS::IAM::ManagedPolicy":
			path := "/"
			if props["Path"] != nil {
				if path, err = t.str(props["Path"]); err != nil {
					return "", err
				}
			}
			kind := "role"
			if typ == "AWS::IAM::ManagedPolicy" {
				kind = "policy"
			}
			return arn("iam", "", kind+path+name)
		case "AWS::IAM::OIDCProvider":
			u, err := t.str(props["Url"])
			if err != nil {
				return "", fmt.Errorf("OIDC provider %s Url: %w", id, err)
			}
			return arn("iam", "", "oidc-provider/"+strings.TrimPrefix(u, "https://"))
		case "AWS::Logs::LogGroup":
			return arn("logs", "r", "log-group:"+name+":*")
		case "AWS::S3::Bucket":
			return arn("s3", "", name)
		case "AWS::ECR::Repository":
			return arn("ecr", "r", "repository/"+name)
		case "AWS::CodeBuild::Project":
			return arn("codebuild", "r", "project/"+name)
		case "AWS::ECS::Cluster":
			return arn("ecs", "r", "cluster/"+name)
		case "AWS::SSM::Parameter":
			return arn("ssm", "r", "parameter/"+strings.TrimPrefix(name, "/"))
		case "AWS::Events::Rule":
			return arn("events", "r", "rule/"+name)
		case "AWS::Events::EventBus":
			return arn("events", "r", "event-bus/"+name)
		case "AWS::Lambda::Function":
			return arn("lambda", "r", "function:"+name)
		case "AWS::DynamoDB::Table":
			return arn("dynamodb", "r", "table/"+name)
		case "AWS::SQS::Queue":
			return arn("sqs", "r", name)
		case "AWS::SNS::Topic":
			return arn("sns", "r", name)
		case "AWS::KMS::Key":
			return arn("kms", "r", "key/"+id)
		}
	}
	if typ == "AWS::EC2::SecurityGroup" && attr == "GroupId" {
		return "sg-" + strings.ToLower(id), nil
	}
	if typ == "AWS::IAM::OIDCProvider" && attr == "Arn" {
		return t.getAtt(id, "Arn")
	}
	return "", fmt.Errorf("unresolvable Fn::GetAtt %s.%s (%s): no default, supply Resolver.Attrs[%q]", id, attr, typ, id+"."+attr)
}
