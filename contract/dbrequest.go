package contract

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
)

// DBNamePattern is the allow-list for the PostgreSQL database and role
// names the database manager creates: lowercase, a letter first, at most 63
// bytes (PostgreSQL's identifier limit).
const DBNamePattern = `^[a-z][a-z0-9_]{0,62}$`

// DBManagerDatabase is the name of the database manager's own database
// (its idempotency ledger); no app database may take it.
const DBManagerDatabase = "wharf_manager"

// dbNameRE and dbRequestIDRE are compiled on first use: their counted
// repetitions cost about half a millisecond of package init in every binary
// that imports contract, including the control plane's, which never uses them.
var (
	dbNameRE      = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(DBNamePattern) })
	dbRequestIDRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(DBRequestIDPattern) })
)

// dbReservedNames are database or role names that an app database must
// never take: PostgreSQL's own databases and roles, RDS's, the names SQL
// treats specially in role positions, and the manager's own database.
var dbReservedNames = map[string]bool{
	"postgres": true, "template0": true, "template1": true,
	"rdsadmin": true, "rdsrepladmin": true, "rdstopmgr": true,
	"public": true, "none": true, "current_user": true, "session_user": true,
	"current_role": true, "user": true, "all": true,
	DBManagerDatabase: true,
}

// dbFieldErr is a DBError for field breaking rule; the message starts with
// the field.
func dbFieldErr(field, rule, format string, args ...any) *DBError {
	msg := fmt.Sprintf(format, args...)
	if field != "" {
		msg = field + ": " + msg
	}
	return &DBError{Field: field, Rule: rule, Message: msg}
}

// ValidateDBName checks a database or role name against [DBNamePattern]
// and the reserved names. field names the request field in the returned
// *DBError.
func ValidateDBName(field, name string) error {
	if err := validateDBName(field, name); err != nil {
		return err
	}
	return nil
}

func validateDBName(field, name string) *DBError {
	switch {
	case name == "":
		return dbFieldErr(field, DBRuleRequired, "is required")
	case !dbNameRE().MatchString(name):
		return dbFieldErr(field, DBRulePattern, "%q must match %s", name, DBNamePattern)
	case dbReservedNames[name]:
		return dbFieldErr(field, DBRuleReserved, "%q is reserved", name)
	case strings.HasPrefix(name, "pg_") || strings.HasPrefix(name, "rds_") || strings.HasPrefix(name, "aurora_"):
		return dbFieldErr(field, DBRuleReserved, "%q uses a reserved prefix (pg_, rds_, aurora_)", name)
	}
	return nil
}

// ValidateDBApp applies the app-name rule ([ValidateAppName]) to field of
// a database manager request, as a *DBError.
func ValidateDBApp(field, app string) error {
	if err := validateDBApp(field, app); err != nil {
		return err
	}
	return nil
}

func validateDBApp(field, app string) *DBError {
	fe := AsFieldError(ValidateAppName(app))
	if fe == nil {
		return nil
	}
	rule := DBRulePattern
	if fe.Rule == RuleRequired {
		rule = DBRuleRequired
	}
	return dbFieldErr(field, rule, "%s", fe.Msg)
}

// ParseDBRequest decodes a direct invocation of the database manager
// strictly: an unknown field, or a field of the wrong JSON type, is a
// *DBError naming the field.
func ParseDBRequest(payload []byte) (DBRequest, error) {
	var r DBRequest
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		const prefix = "json: unknown field "
		if msg := err.Error(); strings.HasPrefix(msg, prefix) {
			f := strings.Trim(strings.TrimPrefix(msg, prefix), `"`)
			return r, dbFieldErr(f, DBRuleUnknown, "unknown field; allowed: action, app, database, sql, id")
		}
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field != "" {
			return r, dbFieldErr(typeErr.Field, DBRuleInvalidJSON, "must be a JSON %s", typeErr.Type.Kind())
		}
		return r, dbFieldErr("", DBRuleInvalidJSON, "request is not a JSON object: %v", err)
	}
	return r, nil
}

// Validate checks the request's fields for its action and returns the
// target database name ("" for enable-iam-auth). The error is a *DBError
// naming the field and the rule. The database manager validates every
// request with it; the CLI may too, before invoking the manager.
func (r DBRequest) Validate() (string, error) {
	name, err := r.validate()
	if err != nil {
		return "", err
	}
	return name, nil
}

func (r DBRequest) validate() (string, *DBError) {
	notAllowed := func(fields ...string) *DBError {
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
				return dbFieldErr(f, DBRuleNotAllowed, "is not used by %s", r.Action)
			}
		}
		return nil
	}
	switch r.Action {
	case DBActionCreateDatabase, DBActionDestroyDatabase:
		if err := notAllowed("sql", "id"); err != nil {
			return "", err
		}
		return r.target()
	case DBActionEnableIAMAuth:
		return "", notAllowed("app", "database", "sql", "id")
	case DBActionRunSQL:
		name, err := r.target()
		if err != nil {
			return "", err
		}
		switch {
		case r.ID == "":
			return "", dbFieldErr("id", DBRuleRequired, "is required: an idempotency key, a repeat with the same id does nothing")
		case !dbRequestIDRE().MatchString(r.ID):
			return "", dbFieldErr("id", DBRulePattern, "%q must match %s", r.ID, DBRequestIDPattern)
		}
		if err := checkDBScript(r.SQL); err != nil {
			return "", err
		}
		return name, nil
	case "":
		return "", dbFieldErr("action", DBRuleRequired, "is required: one of %s, %s, %s, %s",
			DBActionCreateDatabase, DBActionDestroyDatabase, DBActionEnableIAMAuth, DBActionRunSQL)
	default:
		return "", dbFieldErr("action", DBRuleUnknown, "%q is not one of %s, %s, %s, %s", r.Action,
			DBActionCreateDatabase, DBActionDestroyDatabase, DBActionEnableIAMAuth, DBActionRunSQL)
	}
}

// target resolves App or Database to the database (and role) name.
func (r DBRequest) target() (string, *DBError) {
	if r.App != "" {
		if err := validateDBApp("app", r.App); err != nil {
			return "", err
		}
		name := AppDatabase(r.App)
		if err := validateDBName("app", name); err != nil {
			return "", err
		}
		if r.Database != "" && r.Database != name {
			return "", dbFieldErr("database", DBRuleMismatch, "%q differs from %q, the database of app %q", r.Database, name, r.App)
		}
		return name, nil
	}
	if r.Database == "" {
		return "", dbFieldErr("app", DBRuleRequired, "app or database is required")
	}
	if err := validateDBName("database", r.Database); err != nil {
		return "", err
	}
	return r.Database, nil
}

// TargetField is the request field that names the target database: "app"
// when App is set, else "database".
func (r DBRequest) TargetField() string {
	if r.App != "" {
		return "app"
	}
	return "database"
}
