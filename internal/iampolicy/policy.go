package iampolicy

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Policy is a parsed IAM policy document.
type Policy struct {
	// Name labels the policy in decisions (e.g. "ManagementRole/wharf-management").
	Name       string
	Version    string
	Statements []Statement
}

// Statement is one statement of a policy. Single strings in the JSON
// become one-element lists.
type Statement struct {
	Sid    string
	Effect string // "Allow" or "Deny"
	// Principal and NotPrincipal map a principal type ("AWS", "Federated",
	// "Service", "CanonicalUser") to its values; "Principal": "*" is
	// {"*": ["*"]}. Nil when the element is absent (identity policies).
	Principal, NotPrincipal map[string][]string
	Action, NotAction       []string
	Resource, NotResource   []string
	// Condition maps an operator (with its qualifiers, e.g.
	// "ForAnyValue:StringLikeIfExists") to its keys and their values.
	Condition map[string]map[string][]string
	// index is the statement's position in its policy, for decisions about
	// statements without a Sid.
	index int
}

// Label names the statement: its Sid, or "#<index>" when it has none.
func (s Statement) Label() string {
	if s.Sid != "" {
		return s.Sid
	}
	return fmt.Sprintf("#%d", s.index)
}

// Parse parses a policy document from JSON.
func Parse(name string, doc []byte) (*Policy, error) {
	var v interface{}
	if err := json.Unmarshal(doc, &v); err != nil {
		return nil, fmt.Errorf("iampolicy: policy %s: %w", name, err)
	}
	return FromValue(name, v)
}

// FromValue builds a policy from a decoded JSON value (maps, slices,
// strings, numbers, booleans), e.g. a template's PolicyDocument after its
// intrinsics are resolved.
func FromValue(name string, v interface{}) (*Policy, error) {
	doc, ok := v.(map[string]interface{})
	if !ok {
		return nil, fmt.Errorf("iampolicy: policy %s: document is %T, want an object", name, v)
	}
	p := &Policy{Name: name}
	if ver, ok := doc["Version"].(string); ok {
		p.Version = ver
	}
	var raw []interface{}
	switch s := doc["Statement"].(type) {
	case []interface{}:
		raw = s
	case map[string]interface{}:
		raw = []interface{}{s}
	case nil:
		return nil, fmt.Errorf("iampolicy: policy %s: no Statement", name)
	default:
		return nil, fmt.Errorf("iampolicy: policy %s: Statement is %T", name, s)
	}
	for i, r := range raw {
		sm, ok := r.(map[string]interface{})
		if !ok {
			return nil, fmt.Errorf("iampolicy: policy %s: statement %d is %T", name, i, r)
		}
		st, err := parseStatement(sm)
		if err != nil {
			return nil, fmt.Errorf("iampolicy: policy %s: statement %d: %w", name, i, err)
		}
		st.index = i
		p.Statements = append(p.Statements, st)
	}
	return p, nil
}

func parseStatement(m map[string]interface{}) (Statement, error) {
	var st Statement
	var err error
	for k := range m {
		switch k {
		case "Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource", "Condition":
		default:
			return st, fmt.Errorf("unknown element %q", k)
		}
	}
	if s, ok := m["Sid"]; ok {
		if st.Sid, ok = s.(string); !ok {
			return st, fmt.Errorf("element Sid is %T", s)
		}
	}
	st.Effect, _ = m["Effect"].(string)
	if st.Effect != "Allow" && st.Effect != "Deny" {
		return st, fmt.Errorf("Effect %v: want Allow or Deny", m["Effect"])
	}
	if st.Action, err = stringList(m, "Action"); err != nil {
		return st, err
	}
	if st.NotAction, err = stringList(m, "NotAction"); err != nil {
		return st, err
	}
	if (st.Action == nil) == (st.NotAction == nil) {
		return st, fmt.Errorf("exactly one of Action and NotAction is required")
	}
	if st.Resource, err = stringList(m, "Resource"); err != nil {
		return st, err
	}
	if st.NotResource, err = stringList(m, "NotResource"); err != nil {
		return st, err
	}
	if st.Resource != nil && st.NotResource != nil {
		return st, fmt.Errorf("both Resource and NotResource")
	}
	if st.Principal, err = principalOf(m["Principal"]); err != nil {
		return st, fmt.Errorf("Principal: %w", err)
	}
	if st.NotPrincipal, err = principalOf(m["NotPrincipal"]); err != nil {
		return st, fmt.Errorf("NotPrincipal: %w", err)
	}
	if c, ok := m["Condition"]; ok {
		cm, ok := c.(map[string]interface{})
		if !ok {
			return st, fmt.Errorf("element Condition is %T", c)
		}
		st.Condition = map[string]map[string][]string{}
		for op, keys := range cm {
			km, ok := keys.(map[string]interface{})
			if !ok {
				return st, fmt.Errorf("element Condition %s is %T", op, keys)
			}
			st.Condition[op] = map[string][]string{}
			for key := range km {
				vals, err := stringList(km, key)
				if err != nil {
					return st, fmt.Errorf("element Condition %s: %w", op, err)
				}
				st.Condition[op][key] = vals
			}
		}
	}
	return st, nil
}

// stringList reads m[key] as a string or list of strings (numbers and
// booleans, which condition values may be, become their JSON text). A
// missing key gives nil; an empty list gives an empty non-nil slice.
func stringList(m map[string]interface{}, key string) ([]string, error) {
	v, ok := m[key]
	if !ok {
		return nil, nil
	}
	switch x := v.(type) {
	case []interface{}:
		out := make([]string, 0, len(x))
		for _, e := range x {
			s, err := scalar(e)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", key, err)
			}
			out = append(out, s)
		}
		return out, nil
	default:
		s, err := scalar(x)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
		return []string{s}, nil
	}
}

func scalar(v interface{}) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case bool, float64, json.Number, int:
		return fmt.Sprint(x), nil
	}
	return "", fmt.Errorf("value %v (%T) is not a string (an unresolved intrinsic?)", v, v)
}

func principalOf(v interface{}) (map[string][]string, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case string:
		if x != "*" {
			return nil, fmt.Errorf("%q: a string principal must be \"*\"", x)
		}
		return map[string][]string{"*": {"*"}}, nil
	case map[string]interface{}:
		out := map[string][]string{}
		for typ := range x {
			switch typ {
			case "AWS", "Federated", "Service", "CanonicalUser":
			default:
				return nil, fmt.Errorf("unknown principal type %q", typ)
			}
			vals, err := stringList(x, typ)
			if err != nil {
				return nil, err
			}
			out[typ] = vals
		}
		return out, nil
	}
	return nil, fmt.Errorf("is %T", v)
}

// Actions returns every action the policy's Allow statements name
// (NotAction statements are not expanded), sorted and deduplicated, for
// "granted but never called" checks.
func (p *Policy) Actions() []string {
	seen := map[string]bool{}
	for _, st := range p.Statements {
		if st.Effect != "Allow" {
			continue
		}
		for _, a := range st.Action {
			seen[a] = true
		}
	}
	out := make([]string, 0, len(seen))
	for a := range seen {
		out = append(out, a)
	}
	sort.Strings(out)
	return out
}

// Without returns a copy of the policy with action removed from every
// statement (statements left with no action are dropped): the deliberately
// wrong policy a test uses to show that a check catches a missing grant.
func (p *Policy) Without(action string) *Policy {
	q := &Policy{Name: p.Name, Version: p.Version}
	for _, st := range p.Statements {
		if st.Action == nil {
			q.Statements = append(q.Statements, st)
			continue
		}
		var keep []string
		for _, a := range st.Action {
			if !strings.EqualFold(a, action) {
				keep = append(keep, a)
			}
		}
		if len(keep) == 0 {
			continue
		}
		st.Action = keep
		q.Statements = append(q.Statements, st)
	}
	return q
}
