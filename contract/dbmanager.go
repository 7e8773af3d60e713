package contract

import "time"

// The database manager's direct-invocation documents (docs/dbmanager.md,
// "Invoking it"). The writers are the wharf CLI (wharf db create, destroy,
// sql), operators with `aws lambda invoke`, and the manager's own custom
// resource handler; the reader of a DBRequest and the writer of a
// DBResponse is the database manager Lambda (package dbmanager). The JSON
// field names are the wire format: do not rename them.

// The actions the database manager performs, as they appear in
// [DBRequest.Action].
const (
	DBActionCreateDatabase  = "create-database"
	DBActionDestroyDatabase = "destroy-database"
	DBActionEnableIAMAuth   = "enable-iam-auth"
	DBActionRunSQL          = "run-sql"
)

// DBMaxSQLBytes is the largest one-off SQL script the database manager
// accepts (DBRequest.SQL); the CLI refuses a larger one before invoking it.
const DBMaxSQLBytes = 256 << 10

// DBRequestIDPattern is the allow-list for a run-sql idempotency key
// (DBRequest.ID).
const DBRequestIDPattern = `^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$`

// DBMaxRows is the number of rows per statement a run-sql response carries.
const DBMaxRows = 100

// Rules the database manager reports in [DBError.Rule].
const (
	DBRuleRequired          = "required"            // a field that the action needs is empty
	DBRuleNotAllowed        = "not-allowed"         // a field that the action does not take is set
	DBRulePattern           = "pattern"             // a name does not match the allow-list
	DBRuleReserved          = "reserved"            // a name is reserved by PostgreSQL, RDS or Wharf
	DBRuleUnknown           = "unknown"             // unknown action or unknown request field
	DBRuleMismatch          = "mismatch"            // two fields name different databases
	DBRuleTooLong           = "too-long"            // a value exceeds its size limit
	DBRuleInvalidJSON       = "invalid-json"        // the request is not valid JSON
	DBRuleConflict          = "conflict"            // an existing object is not one this manager manages
	DBRuleNotFound          = "not-found"           // the named database does not exist
	DBRuleTransaction       = "transaction-control" // one-off SQL tries to end the manager's transaction
	DBRuleIDReused          = "id-reused"           // a one-off SQL id was already used for other SQL
	DBRuleStatementFailed   = "statement-failed"    // one-off SQL failed and was rolled back
	DBRuleAuthFailed        = "auth-failed"         // the database rejected the manager's credentials
	DBRuleDatabaseError     = "database-error"      // any other error from PostgreSQL or the connection
	DBRuleConfig            = "config"              // the Lambda's environment is incomplete
	DBRuleCredentials       = "credentials"         // AWS credentials or the admin secret could not be read
	DBRuleInternal          = "internal"            // a bug: panics and unexpected states
	DBRuleDependentsPresent = "dependents-present"  // the role still owns objects or holds privileges elsewhere
	DBRuleBusy              = "busy"                // another invocation held the manager's lock for longer than the lock timeout
)

// DBRequest is a direct invocation of the database manager. The wharf CLI
// (and an operator) writes it; the manager reads it strictly (an unknown
// field is an error naming the field).
//
// create-database and destroy-database take App (mapped to a database and
// role name by [AppDatabase]) or Database (used as is); when both are given
// they must name the same database. enable-iam-auth takes no fields.
// run-sql takes App or Database, SQL and ID; ID is the idempotency key: a
// repeat with the same ID and SQL does nothing.
type DBRequest struct {
	Action   string `json:"action"`
	App      string `json:"app,omitempty"`
	Database string `json:"database,omitempty"`
	SQL      string `json:"sql,omitempty"`
	ID       string `json:"id,omitempty"`
}

// DBResponse is the database manager's answer to a [DBRequest]: the manager
// writes it, the wharf CLI reads it. OK is false exactly when Error is set.
// Changed says whether the action changed anything; a repeated request
// reports false.
type DBResponse struct {
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
	Results []DBStatementResult `json:"results,omitempty"`
	Error   *DBError            `json:"error,omitempty"`
}

// DBStatementResult is the outcome of one statement of a run-sql script
// (in [DBResponse.Results]): its command tag and, for statements that
// return rows, the column names and at most [DBMaxRows] rows as text (nil
// for NULL).
type DBStatementResult struct {
	Command   string      `json:"command"`
	Columns   []string    `json:"columns,omitempty"`
	Rows      [][]*string `json:"rows,omitempty"`
	Truncated bool        `json:"truncated,omitempty"`
}

// DBError is the structured error in [DBResponse.Error]. Field names the
// request field at fault ("" when the failure is not about one field), Rule
// is one of the DBRule constants, Message is a lowercase human-readable
// sentence (starting with the field when there is one), and SQLState
// carries the PostgreSQL error code when there is one.
type DBError struct {
	Field    string `json:"field,omitempty"`
	Rule     string `json:"rule"`
	Message  string `json:"message"`
	SQLState string `json:"sqlstate,omitempty"`
}

// Error returns the message.
func (e *DBError) Error() string { return e.Message }

// DatabaseURLConfigVar is the config var that holds an app's database
// connection URL (postgres://<role>@<host>:<port>/<database>?sslmode=...,
// no password with IAM database authentication). The App construct writes
// it for an app with a database; the app reads it from its environment and
// the wharf CLI (db url, db shell) reads its parameter.
const DatabaseURLConfigVar = "DATABASE_URL"

// Environment variables of the database manager Lambda: the Database
// construct sets them, the manager (dbmanager.ConfigFromEnv) reads them.
const (
	// DBManagerEnvHost is the writer (cluster) endpoint host name (required).
	DBManagerEnvHost = "WHARF_DB_HOST"
	// DBManagerEnvPort is the PostgreSQL port, in decimal (default 5432).
	DBManagerEnvPort = "WHARF_DB_PORT"
	// DBManagerEnvAdminUser is the cluster's admin (master) user name
	// (required).
	DBManagerEnvAdminUser = "WHARF_DB_ADMIN_USER"
	// DBManagerEnvAdminSecretARN is the ARN of the Secrets Manager secret
	// holding the generated admin password (JSON with "username" and
	// "password"); only enable-iam-auth needs it.
	DBManagerEnvAdminSecretARN = "WHARF_DB_ADMIN_SECRET_ARN"
	// DBManagerEnvSSLMode is the libpq sslmode (default "verify-full").
	DBManagerEnvSSLMode = "WHARF_DB_SSLMODE"
	// DBManagerEnvSSLRootCert is a CA bundle file for verify-ca and
	// verify-full (default: the embedded RDS bundle).
	DBManagerEnvSSLRootCert = "WHARF_DB_SSLROOTCERT"
)
