package apptest

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Statement is one IAM policy statement found in a template, with where it
// was found.
type Statement struct {
	// Where is "<logical id>" plus the policy name for inline role policies.
	Where string
	// Sid is the statement's Sid, if any.
	Sid string
	// Effect is Allow or Deny.
	Effect string
	// Actions are the statement's actions (a single action becomes a
	// one-element list).
	Actions []string
	// Resources are the statement's resources as in the template (strings
	// or intrinsic functions).
	Resources []interface{}
	// Condition is the statement's condition block, or nil.
	Condition map[string]interface{}
}

// Statements walks every permissions policy of a synthesized template:
// AWS::IAM::Policy, AWS::IAM::ManagedPolicy and the inline Policies of
// AWS::IAM::Role (trust policies are not permissions and are skipped).
func Statements(template map[string]interface{}) []Statement {
	resources, _ := template["Resources"].(map[string]interface{})
	ids := make([]string, 0, len(resources))
	for id := range resources {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var out []Statement
	for _, id := range ids {
		res, _ := resources[id].(map[string]interface{})
		props, _ := res["Properties"].(map[string]interface{})
		switch res["Type"] {
		case "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy":
			out = append(out, statementsOf(id, props["PolicyDocument"])...)
		case "AWS::IAM::Role":
			policies, _ := props["Policies"].([]interface{})
			for _, p := range policies {
				pm, _ := p.(map[string]interface{})
				out = append(out, statementsOf(fmt.Sprintf("%s/%v", id, pm["PolicyName"]), pm["PolicyDocument"])...)
			}
		}
	}
	return out
}

func statementsOf(where string, doc interface{}) []Statement {
	d, _ := doc.(map[string]interface{})
	raw, _ := d["Statement"].([]interface{})
	var out []Statement
	for _, s := range raw {
		sm, _ := s.(map[string]interface{})
		st := Statement{Where: where, Effect: fmt.Sprint(sm["Effect"])}
		if sid, ok := sm["Sid"].(string); ok {
			st.Sid = sid
		}
		st.Actions = stringsOf(sm["Action"])
		switch r := sm["Resource"].(type) {
		case []interface{}:
			st.Resources = r
		case nil:
		default:
			st.Resources = []interface{}{r}
		}
		st.Condition, _ = sm["Condition"].(map[string]interface{})
		out = append(out, st)
	}
	return out
}

func stringsOf(v interface{}) []string {
	switch a := v.(type) {
	case string:
		return []string{a}
	case []interface{}:
		out := make([]string, 0, len(a))
		for _, x := range a {
			out = append(out, fmt.Sprint(x))
		}
		return out
	}
	return nil
}

// Policy rules for Check.
type Policy struct {
	// StarResourceActions are the actions allowed on Resource "*", each
	// with the reason AWS requires it (no resource type, or a documented
	// limitation).
	StarResourceActions map[string]string
	// WildcardActions are actions with a partial wildcard (s3:GetObject*)
	// that are accepted, each with its reason. "*" and "<service>:*" are
	// never accepted.
	WildcardActions map[string]string
}

// Check returns one problem per statement that grants all actions of a
// service, uses an unlisted partial action wildcard, grants an unlisted
// action on Resource "*", uses NotAction/NotResource, or is a Deny-less
// policy with no resource.
func Check(template map[string]interface{}, p Policy) []string {
	var problems []string
	for _, st := range Statements(template) {
		tag := st.Where
		if st.Sid != "" {
			tag += "[" + st.Sid + "]"
		}
		if st.Effect != "Allow" {
			continue
		}
		if len(st.Actions) == 0 {
			problems = append(problems, tag+": no Action (NotAction is not allowed)")
		}
		if len(st.Resources) == 0 {
			problems = append(problems, tag+": no Resource (NotResource is not allowed)")
		}
		for _, a := range st.Actions {
			switch {
			case a == "*" || strings.HasSuffix(a, ":*"):
				problems = append(problems, fmt.Sprintf("%s: action %q grants every action", tag, a))
			case strings.Contains(a, "*"):
				if _, ok := p.WildcardActions[a]; !ok {
					problems = append(problems, fmt.Sprintf("%s: wildcard action %q is not in the accepted list", tag, a))
				}
			}
		}
		star := false
		for _, r := range st.Resources {
			if s, ok := r.(string); ok && s == "*" {
				star = true
			}
		}
		if star {
			for _, a := range st.Actions {
				if _, ok := p.StarResourceActions[a]; !ok {
					problems = append(problems, fmt.Sprintf("%s: action %q on Resource \"*\" but AWS allows a narrower resource", tag, a))
				}
			}
		}
	}
	return problems
}

// BySid indexes statements by their Sid (statements without one are
// keyed by Where plus their first action).
func BySid(sts []Statement) map[string][]Statement {
	out := map[string][]Statement{}
	for _, st := range sts {
		key := st.Sid
		if key == "" && len(st.Actions) > 0 {
			key = st.Where + ":" + st.Actions[0]
		}
		out[key] = append(out[key], st)
	}
	return out
}

// JSON renders v compactly for matching in tests (without HTML escaping,
// so <placeholders> stay readable).
func JSON(v interface{}) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprint(v)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// Render turns a template value into a plain string for matching:
// {"Ref": X} becomes <X>, {"Fn::GetAtt": [X, A]} becomes <X.A>,
// {"Fn::ImportValue": ...} becomes <import>, Fn::Join is joined, and other
// values are rendered as JSON.
func Render(v interface{}) string {
	switch x := v.(type) {
	case string:
		return x
	case map[string]interface{}:
		if r, ok := x["Ref"]; ok {
			return "<" + fmt.Sprint(r) + ">"
		}
		if g, ok := x["Fn::GetAtt"].([]interface{}); ok && len(g) == 2 {
			return fmt.Sprintf("<%v.%v>", g[0], g[1])
		}
		if _, ok := x["Fn::ImportValue"]; ok {
			return "<import>"
		}
		if j, ok := x["Fn::Join"].([]interface{}); ok && len(j) == 2 {
			parts, _ := j[1].([]interface{})
			var b strings.Builder
			for i, p := range parts {
				if i > 0 {
					b.WriteString(fmt.Sprint(j[0]))
				}
				b.WriteString(Render(p))
			}
			return b.String()
		}
	}
	return JSON(v)
}

// FindStatement returns the statements with the given Sid in the policies
// attached to or inlined in the role with logical ID roleID.
func FindStatement(template map[string]interface{}, roleID, sid string) []Statement {
	var out []Statement
	for _, st := range Statements(template) {
		if st.Sid == sid && (st.Where == roleID || strings.HasPrefix(st.Where, roleID+"/")) {
			out = append(out, st)
		}
	}
	return out
}

// ResourcesOf renders a statement's resources.
func ResourcesOf(st Statement) []string {
	out := make([]string, 0, len(st.Resources))
	for _, r := range st.Resources {
		out = append(out, Render(r))
	}
	return out
}
