package dbmanager

import (
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/wharf-paas/wharf/contract"
)

// Error is the manager's error value: the structured error of the
// response document ([contract.DBError]: Field, Rule, Message, SQLState)
// and the underlying cause, if any, which is not sent.
type Error struct {
	contract.DBError
	err error
}

// Error implements the error interface.
func (e *Error) Error() string { return e.Message }

// Unwrap returns the underlying cause, if any.
func (e *Error) Unwrap() error { return e.err }

// doc is the error as the response document carries it; nil for nil.
func (e *Error) doc() *contract.DBError {
	if e == nil {
		return nil
	}
	d := e.DBError
	return &d
}

func fieldErr(field, rule, format string, args ...any) *Error {
	msg := fmt.Sprintf(format, args...)
	if field != "" {
		msg = field + ": " + msg
	}
	return &Error{DBError: contract.DBError{Field: field, Rule: rule, Message: msg}}
}

// asError turns any error into an *Error. what says what was being done, for
// example `create role "api"`.
func asError(field, what string, err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	var d *contract.DBError
	if errors.As(err, &d) { // a contract validation error, already for the caller
		return &Error{DBError: *d, err: err}
	}
	msg := what + ": " + err.Error()
	if field != "" {
		msg = field + ": " + msg
	}
	out := &Error{DBError: contract.DBError{Field: field, Rule: contract.DBRuleDatabaseError, Message: msg}, err: err}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		out.SQLState = pgErr.Code
		switch pgErr.Code {
		case "28P01", "28000":
			out.Rule = contract.DBRuleAuthFailed
		case "3D000":
			out.Rule = contract.DBRuleNotFound
		case "2BP01":
			out.Rule = contract.DBRuleDependentsPresent
		}
		if pgErr.Detail != "" {
			out.Message += " (" + pgErr.Detail + ")"
		}
	}
	return out
}

// isAuthError reports whether err is PostgreSQL refusing the credentials.
func isAuthError(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "28P01" || pgErr.Code == "28000"
	}
	return false
}
