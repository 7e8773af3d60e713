package iampolicy

import (
	"fmt"
	"sort"
	"strings"
)

// Principal is who makes a request, as a trust or resource policy sees
// it.
type Principal struct {
	// Type is "AWS" (an IAM role, user, assumed-role session or account
	// root), "Federated" (an OIDC or SAML provider ARN) or "Service" (a
	// service principal such as "ecs-tasks.amazonaws.com").
	Type string
	// ID is the principal's ARN, provider ARN or service name.
	ID string
}

// Request is one authorization request: an action on a resource, with
// the request context.
type Request struct {
	// Action is "<service>:<Action>", e.g. "ecs:RunTask".
	Action string
	// Resource is the ARN the action is authorized on; empty or "*" for an
	// action without a resource type (only Resource "*" then matches).
	Resource string
	// Principal is set when evaluating trust and resource policies, whose
	// statements name a Principal; nil for identity policies.
	Principal *Principal
	// Context holds the condition keys of the request.
	Context Context
}

func (r Request) resource() string {
	if r.Resource == "" {
		return "*"
	}
	return r.Resource
}

// Effect is the outcome of an evaluation.
type Effect string

// The three outcomes of "Policy evaluation logic".
const (
	Allow        Effect = "Allow"
	ExplicitDeny Effect = "ExplicitDeny"
	ImplicitDeny Effect = "ImplicitDeny"
)

// Decision is the result of Evaluate.
type Decision struct {
	Effect Effect
	// Policy and Statement name the statement that allowed or explicitly
	// denied the request (Statement is its Sid, or "#<index>"); empty for
	// an implicit deny.
	Policy, Statement string
	Action, Resource  string
	// NearMisses lists, for an implicit deny, the Allow statements whose
	// action matched and why each did not apply ("RunOwnTasks: condition
	// ArnEquals ecs:cluster not met"), to name the statement that is
	// missing or too narrow.
	NearMisses []string
}

// Allowed reports whether the request is allowed.
func (d Decision) Allowed() bool { return d.Effect == Allow }

// String renders the decision for test failures.
func (d Decision) String() string {
	switch d.Effect {
	case Allow:
		return fmt.Sprintf("allowed: %s on %s by %s/%s", d.Action, d.Resource, d.Policy, d.Statement)
	case ExplicitDeny:
		return fmt.Sprintf("explicit deny: %s on %s by %s/%s", d.Action, d.Resource, d.Policy, d.Statement)
	}
	s := fmt.Sprintf("implicit deny: no statement allows %s on %s", d.Action, d.Resource)
	if len(d.NearMisses) > 0 {
		s += " (" + strings.Join(d.NearMisses, "; ") + ")"
	}
	return s
}

// Evaluate decides req against policies, which together form the policy
// set of one principal (identity policies) or of one resource (a trust
// policy): "an explicit deny in any policy overrides any allows", an
// applicable Allow allows, otherwise the request is implicitly denied
// (IAM User Guide, "Policy evaluation logic" and "The difference between
// explicit and implicit denies"). An error means a policy uses something
// this evaluator does not support; it is never turned into a match.
func Evaluate(req Request, policies ...*Policy) (Decision, error) {
	d := Decision{Effect: ImplicitDeny, Action: req.Action, Resource: req.resource()}
	var allow *Decision
	for _, p := range policies {
		if p == nil {
			continue
		}
		for _, st := range p.Statements {
			ok, why, err := st.applies(req)
			if err != nil {
				return d, fmt.Errorf("iampolicy: %s/%s: %w", p.Name, st.Label(), err)
			}
			if !ok {
				if why != "" && st.Effect == "Allow" {
					d.NearMisses = append(d.NearMisses, p.Name+"/"+st.Label()+": "+why)
				}
				continue
			}
			if st.Effect == "Deny" {
				return Decision{Effect: ExplicitDeny, Policy: p.Name, Statement: st.Label(), Action: d.Action, Resource: d.Resource}, nil
			}
			if allow == nil {
				allow = &Decision{Effect: Allow, Policy: p.Name, Statement: st.Label(), Action: d.Action, Resource: d.Resource}
			}
		}
	}
	if allow != nil {
		return *allow, nil
	}
	sort.Strings(d.NearMisses)
	return d, nil
}

// applies reports whether the statement applies to the request. When the
// action matches but something else does not, why says what.
func (st Statement) applies(req Request) (bool, string, error) {
	// Action / NotAction ("IAM JSON policy elements: NotAction": it
	// "explicitly matches everything except the specified list of
	// actions"; with Allow, every action not listed is allowed on the
	// statement's resources).
	if st.Action != nil {
		if !anyMatch(st.Action, req.Action, actionMatches) {
			return false, "", nil
		}
	} else if anyMatch(st.NotAction, req.Action, actionMatches) {
		return false, "", nil
	}
	res := req.resource()
	// Resource / NotResource ("IAM JSON policy elements: NotResource":
	// it "matches every resource except those specified").
	if st.Resource != nil {
		if !anyMatch(st.Resource, res, arnMatches) {
			return false, fmt.Sprintf("resource %s not in %v", res, st.Resource), nil
		}
	} else if st.NotResource != nil {
		if anyMatch(st.NotResource, res, arnMatches) {
			return false, fmt.Sprintf("resource %s excluded by NotResource %v", res, st.NotResource), nil
		}
	} else if st.Principal == nil && st.NotPrincipal == nil {
		return false, "", fmt.Errorf("identity policy statement has neither Resource nor NotResource")
	}
	if st.Principal != nil || st.NotPrincipal != nil {
		if req.Principal == nil {
			return false, "statement names a Principal but the request has none", nil
		}
		if st.Principal != nil && !principalMatches(st.Principal, *req.Principal) {
			return false, fmt.Sprintf("principal %s %s not in %v", req.Principal.Type, req.Principal.ID, st.Principal), nil
		}
		if st.NotPrincipal != nil && principalMatches(st.NotPrincipal, *req.Principal) {
			return false, fmt.Sprintf("principal %s %s excluded by NotPrincipal", req.Principal.Type, req.Principal.ID), nil
		}
	}
	ops := make([]string, 0, len(st.Condition))
	for op := range st.Condition {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	for _, op := range ops {
		keys := make([]string, 0, len(st.Condition[op]))
		for k := range st.Condition[op] {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			ok, err := evalCondition(op, k, st.Condition[op][k], req.Context)
			if err != nil {
				return false, "", err
			}
			if !ok {
				got, present := req.Context.Get(k)
				if !present {
					return false, fmt.Sprintf("condition %s %s not met (key absent from request)", op, k), nil
				}
				return false, fmt.Sprintf("condition %s %s %v not met by %v", op, k, st.Condition[op][k], got), nil
			}
		}
	}
	return true, "", nil
}

func anyMatch(patterns []string, s string, m func(p, s string) bool) bool {
	for _, p := range patterns {
		if m(p, s) {
			return true
		}
	}
	return false
}

// principalMatches follows "AWS JSON policy elements: Principal"
// (reference_policies_elements_principal.html): "*" matches everyone; an
// AWS account ID or "arn:aws:iam::<account>:root" names the account,
// which delegates to its principals, so any principal of that account
// matches (this evaluator does not then check the caller's own identity
// policy); a role ARN matches the role and its sessions
// (arn:aws:sts::<account>:assumed-role/<name>/<session>); federated and
// service principals match exactly. Principal values take no wildcards
// other than "*".
func principalMatches(stmt map[string][]string, p Principal) bool {
	if _, ok := stmt["*"]; ok {
		return true
	}
	for _, v := range stmt[p.Type] {
		if v == "*" || v == p.ID {
			return true
		}
		if p.Type != "AWS" {
			continue
		}
		acct := accountOf(p.ID)
		if acct != "" && (v == acct || strings.HasSuffix(v, ":iam::"+acct+":root")) {
			return true
		}
		if role := sessionRole(p.ID); role != "" && v == role {
			return true
		}
	}
	return false
}

func accountOf(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 {
		return ""
	}
	return parts[4]
}

// sessionRole turns arn:<p>:sts::<acct>:assumed-role/<name>/<session>
// into arn:<p>:iam::<acct>:role/<name>.
func sessionRole(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 || parts[2] != "sts" || !strings.HasPrefix(parts[5], "assumed-role/") {
		return ""
	}
	rest := strings.Split(strings.TrimPrefix(parts[5], "assumed-role/"), "/")
	if len(rest) < 2 {
		return ""
	}
	return fmt.Sprintf("arn:%s:iam::%s:role/%s", parts[1], parts[4], rest[0])
}
