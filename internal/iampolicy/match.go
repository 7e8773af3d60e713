package iampolicy

import "strings"

// glob reports whether s matches pattern, where * matches any sequence of
// characters (including none) and ? exactly one. With fold, letters
// compare case-insensitively.
func glob(pattern, s string, fold bool) bool {
	if fold {
		pattern, s = strings.ToLower(pattern), strings.ToLower(s)
	}
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]):
			p++
			i++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// actionMatches: "IAM JSON policy elements: Action" (IAM User Guide,
// reference_policies_elements_action.html): "The prefix and the action
// name are case insensitive", and an action may use the * and ? wildcards
// ("s3:Get*").
func actionMatches(pattern, action string) bool {
	return glob(pattern, action, true)
}

// arnMatches matches an ARN against a pattern the way IAM matches the
// Resource element and the ArnLike/ArnEquals operators:
//
//   - "IAM JSON policy elements: Resource" (reference_policies_elements_resource.html):
//     "You can use wildcard characters (* and ?) within any ARN segment (the
//     parts separated by colons)" and "If the * wildcard is the last
//     character of a resource ARN segment, it can expand to match beyond the
//     colon boundaries." A Resource of "*" matches every resource, and is
//     the only pattern that matches a request for an action without a
//     resource type (whose resource is "*").
//   - "Condition operators" (reference_policies_elements_condition_operators.html),
//     ARN operators: "Case-sensitive matching of the ARN. Each of the six
//     colon-delimited components of the ARN is checked separately and each
//     can include multi-character match wildcards (*) or single-character
//     match wildcards (?)."
//
// The sixth component (the resource) is everything after the fifth colon,
// so a trailing * there matches ":3" of a task-definition revision.
func arnMatches(pattern, value string) bool {
	if pattern == "*" {
		return true
	}
	pp := strings.SplitN(pattern, ":", 6)
	vp := strings.SplitN(value, ":", 6)
	if len(vp) < 6 || vp[0] != "arn" {
		// Not an ARN (e.g. "*" for an action without resource types):
		// only a literal, wildcard-free equal pattern matches.
		return pattern == value
	}
	if len(pp) < 6 {
		// A pattern with fewer segments matches only if its last segment
		// ends in *, which then spans the remaining colons.
		last := pp[len(pp)-1]
		if !strings.HasSuffix(last, "*") {
			return false
		}
		for i := 0; i < len(pp)-1; i++ {
			if !glob(pp[i], vp[i], false) {
				return false
			}
		}
		return glob(last, strings.Join(vp[len(pp)-1:], ":"), false)
	}
	for i := 0; i < 6; i++ {
		if !glob(pp[i], vp[i], false) {
			return false
		}
	}
	return true
}
