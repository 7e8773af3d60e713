package dbmanager

import (
	"regexp"
	"strings"

	"github.com/wharf-paas/wharf/contract"
)

// NamePattern is the allow-list for database and role names: lowercase, a
// letter first, at most 63 bytes (PostgreSQL's identifier limit).
const NamePattern = `^[a-z][a-z0-9_]{0,62}$`

var (
	nameRE = regexp.MustCompile(NamePattern)
)

// reservedNames are database or role names that an app database must never
// take: PostgreSQL's own databases and roles, RDS's and the names SQL treats
// specially in role positions.
var reservedNames = map[string]bool{
	"postgres": true, "template0": true, "template1": true,
	"rdsadmin": true, "rdsrepladmin": true, "rdstopmgr": true,
	"public": true, "none": true, "current_user": true, "session_user": true,
	"current_role": true, "user": true, "all": true,
	DefaultManagerDatabase: true,
}

// DatabaseNameForApp maps an app name (docs/conventions.md: lowercase
// letters, digits and single hyphens) to the name of its database and login
// role by replacing each hyphen with an underscore. App names contain no
// underscore, so two valid app names never map to the same database name.
func DatabaseNameForApp(app string) (string, error) {
	if err := validateApp("app", app); err != nil {
		return "", err
	}
	return contract.AppDatabase(app), nil
}

// validateApp applies the contract's app-name rule (contract.ValidateAppName).
func validateApp(field, app string) *Error {
	err := contract.ValidateAppName(app)
	if err == nil {
		return nil
	}
	fe := contract.AsFieldError(err)
	rule := contract.DBRulePattern
	if fe.Rule == contract.RuleRequired {
		rule = contract.DBRuleRequired
	}
	return fieldErr(field, rule, "%s", fe.Msg)
}

// ValidateName checks a database or role name against [NamePattern] and the
// reserved names. field names the request field in the returned error.
func ValidateName(field, name string) error {
	if err := validateName(field, name); err != nil {
		return err
	}
	return nil
}

func validateName(field, name string) *Error {
	switch {
	case name == "":
		return fieldErr(field, contract.DBRuleRequired, "is required")
	case !nameRE.MatchString(name):
		return fieldErr(field, contract.DBRulePattern, "%q must match %s", name, NamePattern)
	case reservedNames[name]:
		return fieldErr(field, contract.DBRuleReserved, "%q is reserved", name)
	case strings.HasPrefix(name, "pg_") || strings.HasPrefix(name, "rds_") || strings.HasPrefix(name, "aurora_"):
		return fieldErr(field, contract.DBRuleReserved, "%q uses a reserved prefix (pg_, rds_, aurora_)", name)
	}
	return nil
}
