package dbmanager

import (
	"bytes"
	"encoding/json"
	"errors"
	"regexp"
	"strings"

	"github.com/wharf-paas/wharf/contract"
)

var idRE = regexp.MustCompile(contract.DBRequestIDPattern)

// failure builds an error response for action.
func failure(action string, err *Error) contract.DBResponse {
	return contract.DBResponse{OK: false, Action: action, Error: err.doc()}
}

// ParseRequest decodes a direct invocation strictly: unknown fields are an
// error naming the field.
func ParseRequest(payload []byte) (contract.DBRequest, error) {
	var r contract.DBRequest
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		const prefix = "json: unknown field "
		if msg := err.Error(); strings.HasPrefix(msg, prefix) {
			f := strings.Trim(strings.TrimPrefix(msg, prefix), `"`)
			return r, fieldErr(f, contract.DBRuleUnknown, "unknown field; allowed: action, app, database, sql, id")
		}
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field != "" {
			return r, fieldErr(typeErr.Field, contract.DBRuleInvalidJSON, "must be a JSON %s", typeErr.Type.Kind())
		}
		return r, fieldErr("", contract.DBRuleInvalidJSON, "request is not a JSON object: %v", err)
	}
	return r, nil
}

// ValidateRequest checks the request's fields for its action and returns
// the target database name ("" for enable-iam-auth).
func ValidateRequest(r contract.DBRequest) (string, error) {
	name, err := validateRequest(r)
	if err != nil {
		return "", err
	}
	return name, nil
}

func validateRequest(r contract.DBRequest) (string, *Error) {
	notAllowed := func(fields ...string) *Error {
		for _, f := range fields {
			var v string
			switch f {
			case "app":
				v = r.App
			case "database":
				v = r.Database
			case "sql":
				v = r.SQL
			case "id":
				v = r.ID
			}
			if v != "" {
				return fieldErr(f, contract.DBRuleNotAllowed, "is not used by %s", r.Action)
			}
		}
		return nil
	}
	switch r.Action {
	case contract.DBActionCreateDatabase, contract.DBActionDestroyDatabase:
		if err := notAllowed("sql", "id"); err != nil {
			return "", err
		}
		return target(r)
	case contract.DBActionEnableIAMAuth:
		return "", notAllowed("app", "database", "sql", "id")
	case contract.DBActionRunSQL:
		name, err := target(r)
		if err != nil {
			return "", err
		}
		switch {
		case r.ID == "":
			return "", fieldErr("id", contract.DBRuleRequired, "is required: an idempotency key, a repeat with the same id does nothing")
		case !idRE.MatchString(r.ID):
			return "", fieldErr("id", contract.DBRulePattern, "%q must match %s", r.ID, contract.DBRequestIDPattern)
		}
		if err := checkScript(r.SQL); err != nil {
			return "", err
		}
		return name, nil
	case "":
		return "", fieldErr("action", contract.DBRuleRequired, "is required: one of %s, %s, %s, %s",
			contract.DBActionCreateDatabase, contract.DBActionDestroyDatabase, contract.DBActionEnableIAMAuth, contract.DBActionRunSQL)
	default:
		return "", fieldErr("action", contract.DBRuleUnknown, "%q is not one of %s, %s, %s, %s", r.Action,
			contract.DBActionCreateDatabase, contract.DBActionDestroyDatabase, contract.DBActionEnableIAMAuth, contract.DBActionRunSQL)
	}
}

// target resolves App or Database to the database (and role) name.
func target(r contract.DBRequest) (string, *Error) {
	if r.App != "" {
		if err := validateApp("app", r.App); err != nil {
			return "", err
		}
		name := contract.AppDatabase(r.App)
		if err := validateName("app", name); err != nil {
			return "", err
		}
		if r.Database != "" && r.Database != name {
			return "", fieldErr("database", contract.DBRuleMismatch, "%q differs from %q, the database of app %q", r.Database, name, r.App)
		}
		return name, nil
	}
	if r.Database == "" {
		return "", fieldErr("app", contract.DBRuleRequired, "app or database is required")
	}
	if err := validateName("database", r.Database); err != nil {
		return "", err
	}
	return r.Database, nil
}

// targetField is the request field that named the target database.
func targetField(r contract.DBRequest) string {
	if r.App != "" {
		return "app"
	}
	return "database"
}
