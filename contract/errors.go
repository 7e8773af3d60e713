package contract

import (
	"errors"
	"fmt"
	"strings"
)

// Rules a FieldError can name.
const (
	RuleRequired = "required" // the field is empty
	RulePattern  = "pattern"  // the value has characters or a shape the rule does not allow
	RuleLength   = "length"   // the value is too short or too long
	RuleReserved = "reserved" // the value is reserved
	RuleMismatch = "mismatch" // the value disagrees with another field or with the naming contract
	RuleRange    = "range"    // a number is out of its range
	RuleEnum     = "enum"     // the value is not one of the allowed values
	RuleUnique   = "unique"   // the value repeats another entry
	RuleSyntax   = "syntax"   // the document is not valid JSON of the expected shape
)

// FieldError is one problem with one input: the field it is in (a path
// such as "apps[1].name" or "prefix"), the rule it breaks (one of the Rule
// constants) and a message that says what is wrong and what is allowed.
type FieldError struct {
	// Field is the path of the field, e.g. "apps[1].name".
	Field string `json:"field,omitempty"`
	// Rule is the broken rule, one of the Rule constants.
	Rule string `json:"rule"`
	// Msg says what is wrong and what is allowed, without the field.
	Msg string `json:"message"`
}

// Error returns "<field>: <message>".
func (e *FieldError) Error() string {
	if e.Field == "" {
		return e.Msg
	}
	return e.Field + ": " + e.Msg
}

// At returns a copy of e with its field placed under path: At("apps[2]")
// turns "name" into "apps[2].name" (and an empty field into "apps[2]").
func (e *FieldError) At(path string) *FieldError {
	c := *e
	switch {
	case path == "":
	case c.Field == "":
		c.Field = path
	case strings.HasPrefix(c.Field, "["):
		c.Field = path + c.Field
	default:
		c.Field = path + "." + c.Field
	}
	return &c
}

// Errorf returns a FieldError for field breaking rule.
func Errorf(field, rule, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Rule: rule, Msg: fmt.Sprintf(format, args...)}
}

// AsFieldError returns the first FieldError in err's chain (including
// errors.Join lists), or nil.
func AsFieldError(err error) *FieldError {
	var fe *FieldError
	if errors.As(err, &fe) {
		return fe
	}
	return nil
}

// Errors collects FieldErrors; its Err joins them in order.
type Errors []*FieldError

// Add appends a FieldError.
func (es *Errors) Add(field, rule, format string, args ...any) {
	*es = append(*es, Errorf(field, rule, format, args...))
}

// AddErr appends err placed under path when err is a *FieldError, or
// wrapped as a FieldError at path otherwise; a nil err is ignored.
func (es *Errors) AddErr(path string, err error) {
	if err == nil {
		return
	}
	if fe := AsFieldError(err); fe != nil {
		*es = append(*es, fe.At(path))
		return
	}
	*es = append(*es, &FieldError{Field: path, Rule: RulePattern, Msg: err.Error()})
}

// Err returns nil without errors, or every error joined (errors.Join).
func (es Errors) Err() error {
	if len(es) == 0 {
		return nil
	}
	errs := make([]error, len(es))
	for i, e := range es {
		errs[i] = e
	}
	return errors.Join(errs...)
}
