package dbmanager

import (
	"bytes"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"time"

	"github.com/wharf-paas/wharf/contract"
)

// The actions the manager performs, as they appear in [Request.Action].
const (
	ActionCreateDatabase  = "create-database"
	ActionDestroyDatabase = "destroy-database"
	ActionEnableIAMAuth   = "enable-iam-auth"
	ActionRunSQL          = "run-sql"
)

// MaxSQLBytes is the largest one-off SQL script the manager accepts.
const MaxSQLBytes = 256 << 10

// IDPattern is the allow-list for a run-sql idempotency key.
const IDPattern = `^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$`

var idRE = regexp.MustCompile(IDPattern)

// Request is a direct invocation of the manager.
//
// create-database and destroy-database take App (mapped to a database and
// role name by [DatabaseNameForApp]) or Database (used as is); when both are
// given they must name the same database. enable-iam-auth takes no fields.
// run-sql takes App or Database, SQL and ID; ID is the idempotency key: a
// repeat with the same ID and SQL does nothing.
type Request struct {
	Action   string `json:"action"`
	App      string `json:"app,omitempty"`
	Database string `json:"database,omitempty"`
	SQL      string `json:"sql,omitempty"`
	ID       string `json:"id,omitempty"`
}

// Response is the manager's answer. OK is false exactly when Error is set.
// Changed says whether the action changed anything; a repeated request
// reports false.
type Response struct {
	OK       bool   `json:"ok"`
	Action   string `json:"action,omitempty"`
	Database string `json:"database,omitempty"`
	Role     string `json:"role,omitempty"`
	Changed  bool   `json:"changed"`
	// TerminatedSessions counts the sessions destroy-database ended.
	TerminatedSessions int `json:"terminatedSessions,omitempty"`
	// AppliedAt is when run-sql first applied the script with this ID.
	AppliedAt *time.Time `json:"appliedAt,omitempty"`
	// Results holds one entry per statement of a run-sql script.
	Results []StatementResult `json:"results,omitempty"`
	Error   *Error            `json:"error,omitempty"`
}

// StatementResult is the outcome of one statement of a run-sql script:
// its command tag and, for statements that return rows, the column names and
// at most [MaxRows] rows as text (nil for NULL).
type StatementResult struct {
	Command   string      `json:"command"`
	Columns   []string    `json:"columns,omitempty"`
	Rows      [][]*string `json:"rows,omitempty"`
	Truncated bool        `json:"truncated,omitempty"`
}

// MaxRows is the number of rows per statement a run-sql response carries.
const MaxRows = 100

// failure builds an error response for action.
func failure(action string, err *Error) Response {
	return Response{OK: false, Action: action, Error: err}
}

// ParseRequest decodes a direct invocation strictly: unknown fields are an
// error naming the field.
func ParseRequest(payload []byte) (Request, error) {
	var r Request
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		const prefix = "json: unknown field "
		if msg := err.Error(); strings.HasPrefix(msg, prefix) {
			f := strings.Trim(strings.TrimPrefix(msg, prefix), `"`)
			return r, fieldErr(f, RuleUnknown, "unknown field; allowed: action, app, database, sql, id")
		}
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field != "" {
			return r, fieldErr(typeErr.Field, RuleInvalidJSON, "must be a JSON %s", typeErr.Type.Kind())
		}
		return r, fieldErr("", RuleInvalidJSON, "request is not a JSON object: %v", err)
	}
	return r, nil
}

// Validate checks the request's fields for its action and returns the target
// database name ("" for enable-iam-auth).
func (r Request) Validate() (string, error) {
	name, err := r.validate()
	if err != nil {
		return "", err
	}
	return name, nil
}

func (r Request) validate() (string, *Error) {
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
				return fieldErr(f, RuleNotAllowed, "is not used by %s", r.Action)
			}
		}
		return nil
	}
	switch r.Action {
	case ActionCreateDatabase, ActionDestroyDatabase:
		if err := notAllowed("sql", "id"); err != nil {
			return "", err
		}
		return r.target()
	case ActionEnableIAMAuth:
		return "", notAllowed("app", "database", "sql", "id")
	case ActionRunSQL:
		name, err := r.target()
		if err != nil {
			return "", err
		}
		switch {
		case r.ID == "":
			return "", fieldErr("id", RuleRequired, "is required: an idempotency key, a repeat with the same id does nothing")
		case !idRE.MatchString(r.ID):
			return "", fieldErr("id", RulePattern, "%q must match %s", r.ID, IDPattern)
		}
		if err := checkScript(r.SQL); err != nil {
			return "", err
		}
		return name, nil
	case "":
		return "", fieldErr("action", RuleRequired, "is required: one of %s, %s, %s, %s",
			ActionCreateDatabase, ActionDestroyDatabase, ActionEnableIAMAuth, ActionRunSQL)
	default:
		return "", fieldErr("action", RuleUnknown, "%q is not one of %s, %s, %s, %s", r.Action,
			ActionCreateDatabase, ActionDestroyDatabase, ActionEnableIAMAuth, ActionRunSQL)
	}
}

// target resolves App or Database to the database (and role) name.
func (r Request) target() (string, *Error) {
	if r.App != "" {
		if err := validateApp("app", r.App); err != nil {
			return "", err
		}
		name := contract.AppDatabase(r.App)
		if err := validateName("app", name); err != nil {
			return "", err
		}
		if r.Database != "" && r.Database != name {
			return "", fieldErr("database", RuleMismatch, "%q differs from %q, the database of app %q", r.Database, name, r.App)
		}
		return name, nil
	}
	if r.Database == "" {
		return "", fieldErr("app", RuleRequired, "app or database is required")
	}
	if err := validateName("database", r.Database); err != nil {
		return "", err
	}
	return r.Database, nil
}

// targetField is the request field that named the target database.
func (r Request) targetField() string {
	if r.App != "" {
		return "app"
	}
	return "database"
}
