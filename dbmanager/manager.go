package dbmanager

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/wharf-paas/wharf/contract"
)

// lockKey serialises the manager's cluster-level actions
// (pg_advisory_lock in the maintenance database).
const lockKey int64 = 0x7768617266646201 // "wharfdb" + 1

// ledgerSchema holds the run-sql ledger in each database run-sql touches.
const ledgerSchema = "wharf_manager"

// Manager performs the actions against one cluster.
type Manager struct {
	cfg       Config
	tokens    TokenSource
	passwords PasswordSource
}

// NewManager checks cfg (filling defaults) and returns a manager. tokens
// signs in the admin with IAM authentication; passwords is used only by
// enable-iam-auth and may be nil if that action is never needed.
func NewManager(cfg Config, tokens TokenSource, passwords PasswordSource) (*Manager, error) {
	if err := cfg.withDefaults(); err != nil {
		return nil, err
	}
	if tokens == nil {
		return nil, fieldErr("", contract.DBRuleConfig, "a token source is required")
	}
	return &Manager{cfg: cfg, tokens: tokens, passwords: passwords}, nil
}

// Do validates req and performs it. Failures are returned in
// contract.DBResponse.Error, never as a Go error.
func (m *Manager) Do(ctx context.Context, req contract.DBRequest) contract.DBResponse {
	name, verr := validateRequest(req)
	if verr != nil {
		return failure(req.Action, verr)
	}
	var (
		resp contract.DBResponse
		err  error
	)
	switch req.Action {
	case contract.DBActionCreateDatabase:
		resp, err = m.CreateDatabase(ctx, name)
	case contract.DBActionDestroyDatabase:
		resp, err = m.DestroyDatabase(ctx, name)
	case contract.DBActionEnableIAMAuth:
		resp, err = m.EnableIAMAuth(ctx)
	case contract.DBActionRunSQL:
		resp, err = m.RunSQL(ctx, name, req.ID, req.SQL)
	}
	if err != nil {
		e := asError("", req.Action, err)
		switch {
		case e.Rule == contract.DBRuleNotFound && e.Field == "":
			e.Field = req.TargetField()
			e.Message = fmt.Sprintf("%s: database %q does not exist", e.Field, name)
		case e.Field == "database" && req.TargetField() == "app":
			e.Field = "app"
			e.Message = "app: " + strings.TrimPrefix(e.Message, "database: ")
		}
		return failure(req.Action, e)
	}
	return resp
}

// connString builds a keyword/value connection string; values are quoted.
func (m *Manager) connString(db, user string) string {
	q := func(v string) string {
		return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + "'"
	}
	parts := []string{
		"host=" + q(m.cfg.Host),
		"port=" + strconv.Itoa(m.cfg.Port),
		"user=" + q(user),
		"dbname=" + q(db),
		"sslmode=" + q(m.cfg.SSLMode),
		"connect_timeout=" + strconv.Itoa(int(m.cfg.ConnectTimeout/time.Second)),
		"application_name='wharf-dbmanager'",
	}
	if m.cfg.SSLRootCert != "" {
		parts = append(parts, "sslrootcert="+q(m.cfg.SSLRootCert))
	}
	return strings.Join(parts, " ")
}

// pinnedSearchPath is the search_path of every admin session, given in the
// startup packet: a client's startup parameter outranks the per-database
// and per-role defaults (ALTER DATABASE ... SET search_path), which the
// owner of an app database may set. pg_catalog comes first and nothing an
// app role can create in is on the path; pg_temp, listed last, holds only
// the session's own temporary objects.
const pinnedSearchPath = "pg_catalog, pg_temp"

// connectWith logs in to db as user with password. The manager's own
// sessions get the pinned search_path (pin); a one-off script's session
// keeps the database's defaults, which are its owner's to choose.
func (m *Manager) connectWith(ctx context.Context, db, user, password string, pin bool) (*pgx.Conn, error) {
	cc, err := pgx.ParseConfig(m.connString(db, user))
	if err != nil {
		return nil, fmt.Errorf("parse connection settings: %w", err)
	}
	cc.Password = password
	if cc.TLSConfig != nil && m.cfg.SSLRootCert == "" && m.cfg.RootCAs != nil {
		// pgx checks verify-full and verify-ca against TLSConfig.RootCAs
		// (verify-ca reads it when the server's certificate arrives).
		cc.TLSConfig.RootCAs = m.cfg.RootCAs
	}
	if pin {
		cc.RuntimeParams["search_path"] = pinnedSearchPath
	}
	conn, err := pgx.ConnectConfig(ctx, cc)
	if err != nil {
		return nil, fmt.Errorf("connect to database %q at %s as %q: %w", db, m.cfg.endpoint(), user, err)
	}
	return conn, nil
}

// connectIAM logs in as the admin with an IAM authentication token.
func (m *Manager) connectIAM(ctx context.Context, db string) (*pgx.Conn, error) {
	return m.connectIAMAs(ctx, db, m.cfg.AdminUser, true)
}

// connectIAMAs logs in as user with an IAM authentication token.
func (m *Manager) connectIAMAs(ctx context.Context, db, user string, pin bool) (*pgx.Conn, error) {
	tok, err := m.tokens.AuthToken(ctx, m.cfg.endpoint(), user)
	if err != nil {
		return nil, &Error{DBError: contract.DBError{Rule: contract.DBRuleCredentials, Message: err.Error()}, err: err}
	}
	conn, err := m.connectWith(ctx, db, user, tok, pin)
	if err != nil && isAuthError(err) {
		e := asError("", "iam authentication", err)
		if user == m.cfg.AdminUser {
			e.Message += "; if the cluster is new, run enable-iam-auth first"
		}
		return nil, e
	}
	return conn, err
}

func closeConn(conn *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = conn.Close(ctx)
}

func quote(name string) string { return pgx.Identifier{name}.Sanitize() }

// exec runs one statement in autocommit mode.
func exec(ctx context.Context, conn *pgx.Conn, what, sql string, args ...any) error {
	if _, err := conn.Exec(ctx, sql, args...); err != nil {
		return asError("", what, err)
	}
	return nil
}

// lock takes the manager's session advisory lock, waiting at most
// timeout: PostgreSQL's lock_timeout applies to advisory locks too. A
// lock that stays held fails with rule busy, naming the holder's pid.
func lock(ctx context.Context, conn *pgx.Conn, timeout time.Duration) error {
	ms := timeout.Milliseconds()
	if ms < 1 {
		ms = 1
	}
	if _, err := conn.Exec(ctx, "SELECT pg_catalog.set_config('lock_timeout', $1, false)", strconv.FormatInt(ms, 10)); err != nil {
		return asError("", "set lock_timeout", err)
	}
	_, err := conn.Exec(ctx, "SELECT pg_catalog.pg_advisory_lock($1)", lockKey)
	if err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "55P03" {
			return &Error{DBError: contract.DBError{Rule: contract.DBRuleBusy, Message: fmt.Sprintf(
				"another session has held the manager's lock for more than %s (another invocation still running, or a stuck one: see pg_locks where locktype = 'advisory'); try again later", timeout)}, err: err}
		}
		return asError("", "take the manager's advisory lock", err)
	}
	if _, err := conn.Exec(ctx, "SELECT pg_catalog.set_config('lock_timeout', '0', false)"); err != nil {
		return asError("", "reset lock_timeout", err)
	}
	return nil
}

// roleState describes an existing role; ok is false when it does not exist.
type roleState struct {
	ok         bool
	canLogin   bool
	privileged bool // superuser, createrole, createdb, replication or bypassrls
}

func getRole(ctx context.Context, conn *pgx.Conn, name string) (roleState, error) {
	var s roleState
	err := conn.QueryRow(ctx, `SELECT rolcanlogin, rolsuper OR rolcreaterole OR rolcreatedb OR rolreplication OR rolbypassrls
		FROM pg_roles WHERE rolname = $1`, name).Scan(&s.canLogin, &s.privileged)
	if errors.Is(err, pgx.ErrNoRows) {
		return s, nil
	}
	if err != nil {
		return s, asError("", fmt.Sprintf("look up role %q", name), err)
	}
	s.ok = true
	return s, nil
}

// directMember reports whether member is a direct member of role.
func directMember(ctx context.Context, conn *pgx.Conn, member, role string) (bool, error) {
	var ok bool
	err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_auth_members m
		JOIN pg_roles r ON r.oid = m.roleid JOIN pg_roles u ON u.oid = m.member
		WHERE r.rolname = $1 AND u.rolname = $2)`, role, member).Scan(&ok)
	if err != nil {
		return false, asError("", fmt.Sprintf("check whether %q is a member of %q", member, role), err)
	}
	return ok, nil
}

type dbState struct {
	ok         bool
	owner      string
	allowConns bool
}

func getDatabase(ctx context.Context, conn *pgx.Conn, name string) (dbState, error) {
	var s dbState
	err := conn.QueryRow(ctx, `SELECT pg_get_userbyid(datdba), datallowconn FROM pg_database WHERE datname = $1`, name).
		Scan(&s.owner, &s.allowConns)
	if errors.Is(err, pgx.ErrNoRows) {
		return s, nil
	}
	if err != nil {
		return s, asError("", fmt.Sprintf("look up database %q", name), err)
	}
	s.ok = true
	return s, nil
}

// lockedAdminConn refuses the admin user's name as an app database, then
// connects to the manager's own database with an IAM token (creating it
// first if needed) and takes the manager's lock; the caller closes the
// connection.
func (m *Manager) lockedAdminConn(ctx context.Context, name string) (*pgx.Conn, error) {
	if name == m.cfg.AdminUser || name == m.cfg.ManagerDatabase {
		return nil, fieldErr("database", contract.DBRuleReserved, "%q is the cluster's admin user or the manager's own database", name)
	}
	conn, err := m.connectHome(ctx)
	if err != nil {
		return nil, err
	}
	if err := lock(ctx, conn, m.cfg.LockTimeout); err != nil {
		closeConn(conn)
		return nil, err
	}
	if err := m.hardenShared(ctx, conn); err != nil {
		closeConn(conn)
		return nil, err
	}
	return conn, nil
}

// connectHome connects to the manager's own database, creating it from
// the maintenance database if it does not exist yet. Advisory locks belong
// to one database, and only the admin may connect to this one, so no app
// role can take, or wait on, the manager's lock.
func (m *Manager) connectHome(ctx context.Context) (*pgx.Conn, error) {
	home := m.cfg.ManagerDatabase
	conn, err := m.connectIAM(ctx, home)
	if err != nil {
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "3D000" { // invalid_catalog_name
			return nil, err
		}
		boot, err := m.connectIAM(ctx, m.cfg.MaintenanceDatabase)
		if err != nil {
			return nil, err
		}
		// template0: nothing anyone put into template1 comes along.
		_, err = boot.Exec(ctx, "CREATE DATABASE "+quote(home)+" TEMPLATE template0")
		closeConn(boot)
		var dup *pgconn.PgError
		if err != nil && !(errors.As(err, &dup) && (dup.Code == "42P04" || dup.Code == "23505")) {
			return nil, asError("", "create the manager's database "+quote(home), err)
		}
		if conn, err = m.connectIAM(ctx, home); err != nil {
			return nil, err
		}
	}
	var owner string
	var public bool
	if err := conn.QueryRow(ctx, `SELECT pg_catalog.pg_get_userbyid(d.datdba), pg_catalog.has_database_privilege('public', d.oid, 'CONNECT')
		FROM pg_catalog.pg_database d WHERE d.datname OPERATOR(pg_catalog.=) pg_catalog.current_database()`).Scan(&owner, &public); err != nil {
		closeConn(conn)
		return nil, asError("", "look up the manager's database", err)
	}
	if owner != m.cfg.AdminUser {
		closeConn(conn)
		return nil, fieldErr("", contract.DBRuleConfig, "the manager's database %q is owned by %q, not by the admin %q; refusing to use it", home, owner, m.cfg.AdminUser)
	}
	if public {
		if err := exec(ctx, conn, "revoke access to the manager's database", "REVOKE ALL ON DATABASE "+quote(home)+" FROM PUBLIC"); err != nil {
			closeConn(conn)
			return nil, err
		}
	}
	return conn, nil
}

// sharedDatabases are the databases every role may connect to by default
// and no app needs.
var sharedDatabases = []string{"postgres", "template1"}

// hardenShared revokes CONNECT and TEMPORARY from PUBLIC on postgres and
// template1 where the admin owns them (the owner keeps its own access).
// Where it does not, PostgreSQL only warns and nothing changes; the
// manager's lock does not depend on it (docs/dbmanager.md).
func (m *Manager) hardenShared(ctx context.Context, conn *pgx.Conn) error {
	rows, err := conn.Query(ctx, `SELECT d.datname FROM pg_catalog.pg_database d
		WHERE d.datname OPERATOR(pg_catalog.=) ANY ($1) AND d.datdba OPERATOR(pg_catalog.=) (SELECT r.oid FROM pg_catalog.pg_roles r WHERE r.rolname OPERATOR(pg_catalog.=) $2)
		  AND (pg_catalog.has_database_privilege('public', d.oid, 'CONNECT') OR pg_catalog.has_database_privilege('public', d.oid, 'TEMPORARY'))`,
		sharedDatabases, m.cfg.AdminUser)
	if err != nil {
		return asError("", "read privileges of the shared databases", err)
	}
	dbs, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return asError("", "read privileges of the shared databases", err)
	}
	for _, db := range dbs {
		if err := exec(ctx, conn, "revoke connect on "+db+" from public", "REVOKE CONNECT, TEMPORARY ON DATABASE "+quote(db)+" FROM PUBLIC"); err != nil {
			return err
		}
	}
	return nil
}

// checkTemplate refuses to go on while PUBLIC may create objects in a
// schema of template1 (the public schema on engines before PostgreSQL 15)
// after trying to revoke it: every database created from template1 would
// start with whatever an app put there. Wharf's own databases are created
// from template0 regardless; the check protects every other database of
// the cluster.
func (m *Manager) checkTemplate(ctx context.Context) error {
	conn, err := m.connectIAM(ctx, "template1")
	if err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "42501" {
			return nil // nobody but its owner can connect: nothing to plant
		}
		return err
	}
	defer closeConn(conn)
	open := func() ([]string, error) {
		rows, err := conn.Query(ctx, `SELECT n.nspname FROM pg_catalog.pg_namespace n
			WHERE pg_catalog.has_schema_privilege('public', n.oid, 'CREATE') ORDER BY 1`)
		if err != nil {
			return nil, asError("", "read schema privileges in template1", err)
		}
		return pgx.CollectRows(rows, pgx.RowTo[string])
	}
	schemas, err := open()
	if err != nil || len(schemas) == 0 {
		return err
	}
	for _, sch := range schemas {
		// Only the schema's owner can revoke; otherwise PostgreSQL warns.
		if err := exec(ctx, conn, "revoke create on template1."+sch, "REVOKE CREATE ON SCHEMA "+quote(sch)+" FROM PUBLIC"); err != nil {
			return err
		}
	}
	if schemas, err = open(); err != nil || len(schemas) == 0 {
		return err
	}
	return fieldErr("", contract.DBRuleConfig,
		"every role may create objects in template1 (schemas %s; PostgreSQL before 15 allows it in public) and the admin cannot revoke it; use PostgreSQL 15 or later, or revoke it as the schema's owner", strings.Join(schemas, ", "))
}

// CreateDatabase makes sure the login role name (a member of rds_iam) and
// the database name owned by it exist, with CONNECT revoked from PUBLIC and
// granted to the role. Steps already in place are skipped, so a repeat
// changes nothing; an existing role or database that does not look like one
// the manager made is refused rather than taken over.
func (m *Manager) CreateDatabase(ctx context.Context, name string) (contract.DBResponse, error) {
	resp := contract.DBResponse{OK: true, Action: contract.DBActionCreateDatabase, Database: name, Role: name}
	conn, err := m.lockedAdminConn(ctx, name)
	if err != nil {
		return resp, err
	}
	defer closeConn(conn)
	q := quote(name)

	// Refuse foreign objects before changing anything.
	db, err := getDatabase(ctx, conn, name)
	if err != nil {
		return resp, err
	}
	if db.ok && db.owner != name {
		return resp, fieldErr("database", contract.DBRuleConflict,
			"database %q already exists and is owned by %q, not by role %q; refusing to take it over", name, db.owner, name)
	}
	if !db.ok {
		if err := m.checkTemplate(ctx); err != nil {
			return resp, err
		}
	}
	role, err := getRole(ctx, conn, name)
	if err != nil {
		return resp, err
	}
	switch {
	case !role.ok:
		if err := exec(ctx, conn, "create role "+q, "CREATE ROLE "+q+" LOGIN"); err != nil {
			return resp, err
		}
		resp.Changed = true
	case !role.canLogin || role.privileged:
		return resp, fieldErr("database", contract.DBRuleConflict,
			"role %q already exists and is not a plain login role, so the manager did not create it; refusing to use it", name)
	}
	if ok, err := directMember(ctx, conn, name, "rds_iam"); err != nil {
		return resp, err
	} else if !ok {
		if err := exec(ctx, conn, "grant rds_iam to "+q, "GRANT rds_iam TO "+q); err != nil {
			return resp, err
		}
		resp.Changed = true
	}
	// CREATE DATABASE ... OWNER r needs the admin to be a member of r; the
	// membership also lets the admin terminate the app's sessions and drop
	// its database later. USAGE (membership with inheritance), not MEMBER:
	// from PostgreSQL 16 the creator of a role gets an automatic membership
	// without INHERIT and SET, which is not enough for either.
	var member bool
	if err := conn.QueryRow(ctx, "SELECT pg_has_role(current_user, $1, 'USAGE')", name).Scan(&member); err != nil {
		return resp, asError("", "check admin membership in "+q, err)
	}
	if !member {
		if err := exec(ctx, conn, "grant "+q+" to the admin", "GRANT "+q+" TO CURRENT_USER"); err != nil {
			return resp, err
		}
		resp.Changed = true
	}

	switch {
	case !db.ok:
		// Autocommit: CREATE DATABASE cannot run inside a transaction.
		// From template0, which nobody can connect to: nothing an app put
		// into template1 comes along.
		if err := exec(ctx, conn, "create database "+q, "CREATE DATABASE "+q+" OWNER "+q+" TEMPLATE template0"); err != nil {
			return resp, err
		}
		resp.Changed = true
	case !db.allowConns:
		// Left behind by an interrupted destroy-database.
		if err := exec(ctx, conn, "allow connections to "+q, "ALTER DATABASE "+q+" ALLOW_CONNECTIONS true"); err != nil {
			return resp, err
		}
		resp.Changed = true
	}

	var publicConnect, roleConnect bool
	if err := conn.QueryRow(ctx, `SELECT has_database_privilege('public', d.oid, 'CONNECT'),
			EXISTS (SELECT 1 FROM aclexplode(d.datacl) a JOIN pg_roles r ON r.oid = a.grantee
				WHERE r.rolname = $1 AND a.privilege_type = 'CONNECT')
		FROM pg_database d WHERE d.datname = $1`, name).Scan(&publicConnect, &roleConnect); err != nil {
		return resp, asError("", "read privileges of database "+q, err)
	}
	if publicConnect {
		if err := exec(ctx, conn, "revoke connect from public", "REVOKE CONNECT ON DATABASE "+q+" FROM PUBLIC"); err != nil {
			return resp, err
		}
		resp.Changed = true
		// The revoke turned the owner's implicit privileges into explicit
		// ones; read again.
		if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database d, aclexplode(d.datacl) a
				JOIN pg_roles r ON r.oid = a.grantee
				WHERE d.datname = $1 AND r.rolname = $1 AND a.privilege_type = 'CONNECT')`, name).Scan(&roleConnect); err != nil {
			return resp, asError("", "read privileges of database "+q, err)
		}
	}
	if !roleConnect {
		if err := exec(ctx, conn, "grant connect to "+q, "GRANT CONNECT ON DATABASE "+q+" TO "+q); err != nil {
			return resp, err
		}
		resp.Changed = true
	}
	return resp, nil
}

// DestroyDatabase blocks new connections to the database, terminates its
// sessions, drops it, then drops its role. A database or role that is
// already gone is skipped, so a repeat succeeds and changes nothing.
func (m *Manager) DestroyDatabase(ctx context.Context, name string) (contract.DBResponse, error) {
	resp := contract.DBResponse{OK: true, Action: contract.DBActionDestroyDatabase, Database: name, Role: name}
	conn, err := m.lockedAdminConn(ctx, name)
	if err != nil {
		return resp, err
	}
	defer closeConn(conn)
	q := quote(name)

	db, err := getDatabase(ctx, conn, name)
	if err != nil {
		return resp, err
	}
	if db.ok {
		if db.owner != name {
			return resp, fieldErr("database", contract.DBRuleConflict,
				"database %q is owned by %q, not by role %q; the manager did not create it and will not drop it", name, db.owner, name)
		}
		if db.allowConns {
			if err := exec(ctx, conn, "block new connections to "+q, "ALTER DATABASE "+q+" ALLOW_CONNECTIONS false"); err != nil {
				return resp, err
			}
		}
		if err := conn.QueryRow(ctx, `SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))
			FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, name).Scan(&resp.TerminatedSessions); err != nil {
			return resp, asError("", "terminate sessions of "+q, err)
		}
		// Autocommit, from the maintenance database. FORCE also ends any
		// session that is still exiting.
		if err := exec(ctx, conn, "drop database "+q, "DROP DATABASE IF EXISTS "+q+" WITH (FORCE)"); err != nil {
			return resp, err
		}
		resp.Changed = true
	}

	role, err := getRole(ctx, conn, name)
	if err != nil {
		return resp, err
	}
	if role.ok {
		if !role.canLogin || role.privileged {
			return resp, fieldErr("database", contract.DBRuleConflict,
				"role %q is not a plain login role, so the manager did not create it and will not drop it", name)
		}
		if err := exec(ctx, conn, "drop role "+q, "DROP ROLE "+q); err != nil {
			return resp, err
		}
		resp.Changed = true
	}
	return resp, nil
}

// EnableIAMAuth grants rds_iam to the admin user. It first tries to log in
// with an IAM token: if that works and the admin is already a member, there
// is nothing to do. Otherwise it logs in with the admin password from the
// [PasswordSource]. On RDS, once the grant is made, the admin can no longer
// log in with its password.
func (m *Manager) EnableIAMAuth(ctx context.Context) (contract.DBResponse, error) {
	resp := contract.DBResponse{OK: true, Action: contract.DBActionEnableIAMAuth, Role: m.cfg.AdminUser}
	conn, err := m.connectIAM(ctx, m.cfg.MaintenanceDatabase)
	if err != nil {
		var e *Error
		if !errors.As(err, &e) || e.Rule != contract.DBRuleAuthFailed {
			return resp, err
		}
		if m.passwords == nil {
			return resp, fieldErr("", contract.DBRuleConfig, "iam authentication failed and no admin password source is configured (%s)", contract.DBManagerEnvAdminSecretARN)
		}
		pw, perr := m.passwords.AdminPassword(ctx)
		if perr != nil {
			return resp, &Error{DBError: contract.DBError{Rule: contract.DBRuleCredentials, Message: perr.Error()}, err: perr}
		}
		conn, err = m.connectWith(ctx, m.cfg.MaintenanceDatabase, m.cfg.AdminUser, pw, true)
		if err != nil {
			return resp, asError("", "log in with the admin password", err)
		}
	}
	defer closeConn(conn)
	// No lock: the grant is idempotent (a repeat only draws a notice), and
	// a lock in the maintenance database is one an app role could hold.
	ok, err := directMember(ctx, conn, m.cfg.AdminUser, "rds_iam")
	if err != nil || ok {
		return resp, err
	}
	if err := exec(ctx, conn, "grant rds_iam to the admin", "GRANT rds_iam TO "+quote(m.cfg.AdminUser)); err != nil {
		return resp, err
	}
	resp.Changed = true
	return resp, nil
}

// RunSQL runs script in database db inside one transaction, as the
// database's owner: for an app database that is the app's own role, logged
// in with its own IAM token, so the script (and every trigger, view or
// function of the app's that it reaches) can do no more than the app
// itself. If any statement fails, nothing of the script remains. id is the
// idempotency key: it is recorded in the table wharf_manager.sql_runs of db
// in the same transaction, and a repeat with the same id and script returns
// success without running it again (Changed false, AppliedAt set). Reusing
// an id for a different script is an error.
//
// The admin enters db only to look up its owner and to create or verify
// the ledger: with a pinned search_path, after checking that the session
// runs as the admin and that the ledger's schema and table are the
// admin's, without triggers or rules (see docs/dbmanager.md).
func (m *Manager) RunSQL(ctx context.Context, db, id, script string) (contract.DBResponse, error) {
	resp := contract.DBResponse{OK: true, Action: contract.DBActionRunSQL, Database: db}
	if err := contract.CheckDBScript(script); err != nil {
		return resp, fromDoc(err)
	}
	sum := sha256.Sum256([]byte(script))
	digest := hex.EncodeToString(sum[:])

	runAs, err := m.prepareRun(ctx, db)
	if err != nil {
		return resp, err
	}
	resp.Role = runAs
	conn, err := m.connectIAMAs(ctx, db, runAs, false)
	if err != nil {
		return resp, err
	}
	defer closeConn(conn)
	tx, err := conn.Begin(ctx)
	if err != nil {
		return resp, asError("", "begin transaction", err)
	}
	defer func() { _ = tx.Rollback(context.Background()) }()

	tag, err := tx.Exec(ctx, `INSERT INTO `+ledgerSchema+`.sql_runs (id, sql_sha256) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING`, id, digest)
	if err != nil {
		return resp, asError("", "record run "+id, err)
	}
	if tag.RowsAffected() == 0 {
		var prev string
		var at time.Time
		if err := tx.QueryRow(ctx, `SELECT sql_sha256, applied_at FROM `+ledgerSchema+`.sql_runs WHERE id = $1`, id).Scan(&prev, &at); err != nil {
			return resp, asError("", "read run "+id, err)
		}
		if prev != digest {
			return resp, fieldErr("id", contract.DBRuleIDReused, "%q was already used for a different script on %s; use a new id", id, at.UTC().Format(time.RFC3339))
		}
		resp.AppliedAt = &at
		return resp, nil
	}

	// No arguments: the simple protocol, which runs several statements.
	results, err := tx.Conn().PgConn().Exec(ctx, script).ReadAll()
	if err != nil {
		e := asError("sql", "script failed and was rolled back", err)
		e.Rule = contract.DBRuleStatementFailed
		return resp, e
	}
	if st := tx.Conn().PgConn().TxStatus(); st != 'T' {
		return resp, fieldErr("sql", contract.DBRuleTransaction, "the script ended the manager's transaction (status %q)", string(st))
	}
	for _, r := range results {
		sr := contract.DBStatementResult{Command: r.CommandTag.String()}
		for _, fd := range r.FieldDescriptions {
			sr.Columns = append(sr.Columns, fd.Name)
		}
		for i, row := range r.Rows {
			if i == contract.DBMaxRows {
				sr.Truncated = true
				break
			}
			vals := make([]*string, len(row))
			for j, v := range row {
				if v != nil {
					s := string(v)
					vals[j] = &s
				}
			}
			sr.Rows = append(sr.Rows, vals)
		}
		resp.Results = append(resp.Results, sr)
	}
	if err := tx.Commit(ctx); err != nil {
		e := asError("sql", "commit failed, the script was rolled back", err)
		e.Rule = contract.DBRuleStatementFailed
		return resp, e
	}
	now := time.Now().UTC()
	resp.AppliedAt = &now
	resp.Changed = true
	return resp, nil
}

// prepareRun connects to db as the admin, decides which role a one-off
// script runs as (the database's owner) and makes sure the ledger exists,
// belongs to the admin and lets that role record runs. Nothing here
// resolves a name through a search_path the app controls.
func (m *Manager) prepareRun(ctx context.Context, db string) (string, error) {
	conn, err := m.connectIAM(ctx, db)
	if err != nil {
		return "", err
	}
	defer closeConn(conn)
	// A database default (ALTER DATABASE ... SET role) could make the
	// admin's session act as another role.
	var cur, sess, path string
	if err := conn.QueryRow(ctx, `SELECT CURRENT_USER, SESSION_USER, pg_catalog.current_setting('search_path')`).
		Scan(&cur, &sess, &path); err != nil {
		return "", asError("", "check the admin session", err)
	}
	if cur != m.cfg.AdminUser || sess != m.cfg.AdminUser || path != pinnedSearchPath {
		return "", fieldErr("database", contract.DBRuleConflict,
			"database %q changes the admin's session (current_user %q, search_path %q): a database default set by its owner? refusing to work in it", db, cur, path)
	}
	var owner string
	if err := conn.QueryRow(ctx, `SELECT pg_catalog.pg_get_userbyid(d.datdba) FROM pg_catalog.pg_database d
		WHERE d.datname OPERATOR(pg_catalog.=) pg_catalog.current_database()`).Scan(&owner); err != nil {
		return "", asError("", "look up the database owner", err)
	}
	if owner != m.cfg.AdminUser {
		role, err := getRole(ctx, conn, owner)
		if err != nil {
			return "", err
		}
		if !role.ok || !role.canLogin || role.privileged {
			return "", fieldErr("database", contract.DBRuleConflict,
				"database %q is owned by %q, which is not a plain login role; one-off SQL runs as the database's owner, and the manager will not log in as %q", db, owner, owner)
		}
	}
	if err := m.ensureLedger(ctx, conn, db, owner); err != nil {
		return "", err
	}
	return owner, nil
}

// ensureLedger creates wharf_manager.sql_runs if needed, owned by the admin,
// and lets runAs (the database owner) read it and add rows. The owner of a
// database may create schemas in it, so an existing schema or table of that
// name is trusted only if the admin owns it and it carries no trigger, rule
// or row security: the admin never inserts into anything the app made.
func (m *Manager) ensureLedger(ctx context.Context, conn *pgx.Conn, db, runAs string) error {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return asError("", "begin transaction", err)
	}
	defer func() { _ = tx.Rollback(context.Background()) }()
	// Serialise concurrent first runs in this database.
	if _, err := tx.Exec(ctx, `SELECT pg_catalog.pg_advisory_xact_lock($1)`, lockKey+1); err != nil {
		return asError("", "lock the run ledger", err)
	}
	refuse := func(format string, args ...any) error {
		return fieldErr("database", contract.DBRuleConflict, "%s; the manager did not make it and will not trust it (drop it as the database's owner after checking what it is)",
			fmt.Sprintf(format, args...))
	}
	var schemaOwner *string
	if err := tx.QueryRow(ctx, `SELECT (SELECT pg_catalog.pg_get_userbyid(n.nspowner) FROM pg_catalog.pg_namespace n
		WHERE n.nspname OPERATOR(pg_catalog.=) $1)`, ledgerSchema).Scan(&schemaOwner); err != nil {
		return asError("", "look up the run ledger", err)
	}
	if schemaOwner != nil && *schemaOwner != m.cfg.AdminUser {
		return refuse("schema %s in database %q belongs to %q, not the admin", ledgerSchema, db, *schemaOwner)
	}
	var (
		found            bool
		tableOwner, kind string
		triggers, rules  int64
		rowSecurity      bool
	)
	err = tx.QueryRow(ctx, `SELECT pg_catalog.pg_get_userbyid(c.relowner), c.relkind::text, c.relrowsecurity,
			(SELECT pg_catalog.count(*) FROM pg_catalog.pg_trigger t WHERE t.tgrelid OPERATOR(pg_catalog.=) c.oid),
			(SELECT pg_catalog.count(*) FROM pg_catalog.pg_rewrite r WHERE r.ev_class OPERATOR(pg_catalog.=) c.oid)
		FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
		WHERE n.nspname OPERATOR(pg_catalog.=) $1 AND c.relname OPERATOR(pg_catalog.=) 'sql_runs'`, ledgerSchema).
		Scan(&tableOwner, &kind, &rowSecurity, &triggers, &rules)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
	case err != nil:
		return asError("", "look up the run ledger", err)
	default:
		found = true
	}
	if found && (tableOwner != m.cfg.AdminUser || kind != "r" || rowSecurity || triggers > 0 || rules > 0) {
		return refuse("%s.sql_runs in database %q is not the manager's plain table (owner %q, kind %q, row security %v, %d triggers, %d rules)",
			ledgerSchema, db, tableOwner, kind, rowSecurity, triggers, rules)
	}
	var stmts []string
	if schemaOwner == nil {
		stmts = append(stmts, `CREATE SCHEMA `+ledgerSchema)
	}
	if !found {
		stmts = append(stmts,
			`CREATE TABLE `+ledgerSchema+`.sql_runs (
				id pg_catalog.text PRIMARY KEY,
				sql_sha256 pg_catalog.text NOT NULL,
				applied_at pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now(),
				applied_by pg_catalog.text NOT NULL DEFAULT CURRENT_USER)`,
			`COMMENT ON TABLE `+ledgerSchema+`.sql_runs IS 'one-off SQL applied by the Wharf database manager (run-sql)'`)
	}
	if runAs != m.cfg.AdminUser {
		// The owner reads the ledger (its pg_dump keeps working) and adds
		// rows in the script's own transaction; it cannot change or delete
		// them, nor add triggers to a table it does not own.
		stmts = append(stmts,
			`GRANT USAGE ON SCHEMA `+ledgerSchema+` TO `+quote(runAs),
			`GRANT SELECT, INSERT ON `+ledgerSchema+`.sql_runs TO `+quote(runAs))
	}
	for _, q := range stmts {
		if _, err := tx.Exec(ctx, q); err != nil {
			return asError("", "create the run ledger", err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return asError("", "create the run ledger", err)
	}
	return nil
}
