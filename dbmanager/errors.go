package dbmanager

import (
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"
)

// Rules reported in [Error.Rule].
const (
	RuleRequired          = "required"            // a field that the action needs is empty
	RuleNotAllowed        = "not-allowed"         // a field that the action does not take is set
	RulePattern           = "pattern"             // a name does not match the allow-list
	RuleReserved          = "reserved"            // a name is reserved by PostgreSQL, RDS or Wharf
	RuleUnknown           = "unknown"             // unknown action or unknown request field
	RuleMismatch          = "mismatch"            // two fields name different databases
	RuleTooLong           = "too-long"            // a value exceeds its size limit
	RuleInvalidJSON       = "invalid-json"        // the request is not valid JSON
	RuleConflict          = "conflict"            // an existing object is not one this manager manages
	RuleNotFound          = "not-found"           // the named database does not exist
	RuleTransaction       = "transaction-control" // one-off SQL tries to end the manager's transaction
	RuleIDReused          = "id-reused"           // a one-off SQL id was already used for other SQL
	RuleStatementFailed   = "statement-failed"    // one-off SQL failed and was rolled back
	RuleAuthFailed        = "auth-failed"         // the database rejected the manager's credentials
	RuleDatabaseError     = "database-error"      // any other error from PostgreSQL or the connection
	RuleConfig            = "config"              // the Lambda's environment is incomplete
	RuleCredentials       = "credentials"         // AWS credentials or the admin secret could not be read
	RuleInternal          = "internal"            // a bug: panics and unexpected states
	RuleDependentsPresent = "dependents-present"  // the role still owns objects or holds privileges elsewhere
	RuleBusy              = "busy"                // another invocation held the manager's lock for longer than the lock timeout
)

// Error is the structured error the manager returns. Field names the request
// field at fault ("" when the failure is not about one field), Rule is one of
// the Rule constants, Message is a lowercase human-readable sentence, and
// SQLState carries the PostgreSQL error code when there is one.
type Error struct {
	Field    string `json:"field,omitempty"`
	Rule     string `json:"rule"`
	Message  string `json:"message"`
	SQLState string `json:"sqlstate,omitempty"`
	err      error
}

// Error implements the error interface.
func (e *Error) Error() string { return e.Message }

// Unwrap returns the underlying cause, if any.
func (e *Error) Unwrap() error { return e.err }

func fieldErr(field, rule, format string, args ...any) *Error {
	msg := fmt.Sprintf(format, args...)
	if field != "" {
		msg = field + ": " + msg
	}
	return &Error{Field: field, Rule: rule, Message: msg}
}

// asError turns any error into an *Error. what says what was being done, for
// example `create role "api"`.
func asError(field, what string, err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	msg := what + ": " + err.Error()
	if field != "" {
		msg = field + ": " + msg
	}
	out := &Error{Field: field, Rule: RuleDatabaseError, Message: msg, err: err}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		out.SQLState = pgErr.Code
		switch pgErr.Code {
		case "28P01", "28000":
			out.Rule = RuleAuthFailed
		case "3D000":
			out.Rule = RuleNotFound
		case "2BP01":
			out.Rule = RuleDependentsPresent
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
