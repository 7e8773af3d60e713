package dbmanager

import (
	"errors"
	"fmt"

	"github.com/wharf-paas/wharf/contract"
)

// failure builds an error response for action.
func failure(action string, err *Error) contract.DBResponse {
	return contract.DBResponse{OK: false, Action: action, Error: err.doc()}
}

// fromDoc turns an error of the contract's request validation (a
// *contract.DBError) into an *Error; nil stays nil.
func fromDoc(err error) *Error {
	if err == nil {
		return nil
	}
	var d *contract.DBError
	if errors.As(err, &d) {
		return &Error{DBError: *d}
	}
	return &Error{DBError: contract.DBError{Rule: contract.DBRuleInternal, Message: fmt.Sprintf("internal error: %v", err)}, err: err}
}

// ParseRequest decodes a direct invocation strictly
// ([contract.ParseDBRequest]): unknown fields are an *Error naming the
// field.
func ParseRequest(payload []byte) (contract.DBRequest, error) {
	r, err := contract.ParseDBRequest(payload)
	if err != nil {
		return r, fromDoc(err)
	}
	return r, nil
}

// validateRequest checks the request's fields for its action
// ([contract.DBRequest.Validate]) and returns the target database name
// ("" for enable-iam-auth).
func validateRequest(r contract.DBRequest) (string, *Error) {
	name, err := r.Validate()
	if err != nil {
		return "", fromDoc(err)
	}
	return name, nil
}
