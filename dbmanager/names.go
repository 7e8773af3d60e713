package dbmanager

import (
	"regexp"

	"github.com/wharf-paas/wharf/contract"
)

// nameRE is the allow-list for database and role names
// ([contract.DBNamePattern]), applied here to the admin user and the
// manager's own database of the Lambda's configuration.
var nameRE = regexp.MustCompile(contract.DBNamePattern)

// DatabaseNameForApp maps an app name (docs/conventions.md: lowercase
// letters, digits and single hyphens) to the name of its database and login
// role ([contract.AppDatabase]: each hyphen becomes an underscore). App
// names contain no underscore, so two valid app names never map to the
// same database name.
func DatabaseNameForApp(app string) (string, error) {
	if err := contract.ValidateDBApp("app", app); err != nil {
		return "", fromDoc(err)
	}
	return contract.AppDatabase(app), nil
}
