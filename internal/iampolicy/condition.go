package iampolicy

import (
	"fmt"
	"strconv"
	"strings"
)

// Context holds the request's condition keys and their values. Key names
// are matched case-insensitively ("Condition key names are not
// case-sensitive", IAM User Guide, reference_policies_elements_condition.html);
// values are compared as each operator says.
type Context map[string][]string

// Get returns the values of key and whether the key is present.
func (c Context) Get(key string) ([]string, bool) {
	if v, ok := c[key]; ok {
		return v, true
	}
	for k, v := range c {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return nil, false
}

// operator is a parsed condition operator.
type operator struct {
	set      string // "", "ForAnyValue", "ForAllValues"
	base     string // positive base operator, e.g. "StringLike"
	negated  bool   // StringNotLike etc.: the base operator, negated
	ifExists bool
}

// negatedOps maps each negated operator to the positive operator it
// negates ("Condition operators": StringNotEquals "Negated matching",
// StringNotLike "Negated case-sensitive matching", ArnNotEquals/ArnNotLike
// "Negated matching for ARN", NumericNotEquals "Negated matching").
var negatedOps = map[string]string{
	"StringNotEquals":           "StringEquals",
	"StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
	"StringNotLike":             "StringLike",
	"ArnNotEquals":              "ArnEquals",
	"ArnNotLike":                "ArnLike",
	"NumericNotEquals":          "NumericEquals",
}

var positiveOps = map[string]bool{
	"StringEquals": true, "StringEqualsIgnoreCase": true, "StringLike": true,
	"ArnEquals": true, "ArnLike": true, "Bool": true, "Null": true,
	"NumericEquals": true, "NumericLessThan": true, "NumericLessThanEquals": true,
	"NumericGreaterThan": true, "NumericGreaterThanEquals": true,
}

func parseOperator(s string) (operator, error) {
	var op operator
	rest := s
	if set, r, ok := strings.Cut(s, ":"); ok {
		if set != "ForAnyValue" && set != "ForAllValues" {
			return op, fmt.Errorf("condition operator %q: unknown set qualifier %q", s, set)
		}
		op.set, rest = set, r
	}
	if b, ok := strings.CutSuffix(rest, "IfExists"); ok {
		if b == "Null" {
			return op, fmt.Errorf("condition operator %q: Null has no IfExists form", s)
		}
		op.ifExists, rest = true, b
	}
	if pos, ok := negatedOps[rest]; ok {
		op.base, op.negated = pos, true
		return op, nil
	}
	if !positiveOps[rest] {
		return op, fmt.Errorf("condition operator %q is not supported by this evaluator", s)
	}
	op.base = rest
	return op, nil
}

// evalCondition evaluates one operator on one key. Values in the policy
// for one key are ORed; the caller ANDs keys and operators ("Creating a
// condition with multiple keys or values", reference_policies_condition-logic-multiple-context-keys-or-values.html:
// "If your policy has multiple condition operators or multiple context
// keys, the conditions are evaluated using a logical AND" and "If a single
// condition operator includes multiple values for a context key, those
// values are evaluated using a logical OR").
func evalCondition(opName, key string, want []string, ctx Context) (bool, error) {
	op, err := parseOperator(opName)
	if err != nil {
		return false, err
	}
	got, present := ctx.Get(key)
	if op.base == "Null" {
		// "Null check": "Use a Null condition operator to check if a
		// condition key is absent at the time of authorization. In the
		// policy statement, use either true (the key doesn't exist — it is
		// null) or false (the key exists and its value is not null)."
		absent := !present || len(got) == 0
		for _, w := range want {
			switch strings.ToLower(w) {
			case "true":
				if absent {
					return true, nil
				}
			case "false":
				if !absent {
					return true, nil
				}
			default:
				return false, fmt.Errorf("operator Null, key %s: value %q is neither true nor false", key, w)
			}
		}
		return false, nil
	}
	if !present || len(got) == 0 {
		switch {
		case op.ifExists:
			// "...IfExists": "If the policy key is present in the context
			// of the request, process the key as specified in the policy.
			// If the key is not present, evaluate the condition element as
			// true."
			return true, nil
		case op.set == "ForAllValues":
			// Multivalued context key examples: "The ForAllValues set
			// operator also returns true if there are no context keys in
			// the request."
			return true, nil
		case op.set == "ForAnyValue":
			return false, nil
		case op.negated:
			// "If the policy condition requires that the key is not
			// matched, such as StringNotLike or ArnNotLike, and the right
			// key is not present, the condition is true."
			return true, nil
		}
		// "If the key that you specify in a policy condition is not
		// present in the request context, the values do not match and the
		// condition is false."
		return false, nil
	}
	valueOK := func(v string) (bool, error) {
		for _, w := range want {
			m, err := match(op.base, w, v)
			if err != nil {
				return false, fmt.Errorf("%s %s: %w", opName, key, err)
			}
			if m {
				return !op.negated, nil
			}
		}
		return op.negated, nil
	}
	switch op.set {
	case "ForAllValues":
		// "ForAllValues – Tests whether the value of every member of the
		// request set is a subset of the condition context key set."
		for _, v := range got {
			ok, err := valueOK(v)
			if err != nil || !ok {
				return false, err
			}
		}
		return true, nil
	case "ForAnyValue":
		// "ForAnyValue – Tests whether at least one member of the set of
		// request values matches at least one member of the set of
		// condition context key values."
		for _, v := range got {
			ok, err := valueOK(v)
			if err != nil || ok {
				return ok, err
			}
		}
		return false, nil
	}
	// A single-valued key ("Do not use a condition set operator with a
	// single-valued context key"). Should a request carry several values
	// without a set operator, this evaluator is strict: every value must
	// pass, so a positive operator cannot be satisfied by one value only.
	for _, v := range got {
		ok, err := valueOK(v)
		if err != nil || !ok {
			return false, err
		}
	}
	return true, nil
}

// match applies a positive base operator to a policy value w and a
// request value v.
func match(base, w, v string) (bool, error) {
	switch base {
	case "StringEquals":
		// "Exact matching, case sensitive"; no wildcards: a * in the policy
		// value is a literal asterisk.
		return w == v, nil
	case "StringEqualsIgnoreCase":
		return strings.EqualFold(w, v), nil
	case "StringLike":
		// "Case-sensitive matching. The values can include multi-character
		// match wildcards (*) and single-character match wildcards (?)
		// anywhere in the string."
		return glob(w, v, false), nil
	case "ArnEquals", "ArnLike":
		// ArnEquals and ArnLike share one description: each of the six
		// components is matched separately, wildcards allowed.
		return arnMatches(w, v), nil
	case "Bool":
		// "Boolean matching"; "true"/"false" (policy values are strings).
		wb, err := strconv.ParseBool(strings.ToLower(w))
		if err != nil {
			return false, fmt.Errorf("operator Bool: value %q: %w", w, err)
		}
		vb, err := strconv.ParseBool(strings.ToLower(v))
		if err != nil {
			return false, nil
		}
		return wb == vb, nil
	case "NumericEquals", "NumericLessThan", "NumericLessThanEquals", "NumericGreaterThan", "NumericGreaterThanEquals":
		wn, err := strconv.ParseFloat(w, 64)
		if err != nil {
			return false, fmt.Errorf("%s value %q is not a number", base, w)
		}
		vn, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return false, nil
		}
		switch base {
		case "NumericEquals":
			return vn == wn, nil
		case "NumericLessThan":
			return vn < wn, nil
		case "NumericLessThanEquals":
			return vn <= wn, nil
		case "NumericGreaterThan":
			return vn > wn, nil
		default:
			return vn >= wn, nil
		}
	}
	return false, fmt.Errorf("operator %s not supported", base)
}
