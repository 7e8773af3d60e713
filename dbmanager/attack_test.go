package dbmanager_test

// Attacks a hostile tenant (an app whose code, or whose database role, is
// in an attacker's hands) can make against the database manager. Each test
// plants something as the app's role in the app's own database, lets an
// operator run a harmless one-off script there, and asserts that the app's
// role gained nothing: no membership in another app's role or the admin's,
// no new role attributes.

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wharf-paas/wharf/contract"
	"github.com/wharf-paas/wharf/dbmanager"
	"github.com/wharf-paas/wharf/internal/pgtest"
)

// tenants creates two apps, the attacker's and a victim's, and removes both
// when the test ends.
func tenants(t *testing.T, m *dbmanager.Manager) (attacker, victim string) {
	t.Helper()
	appA, dbA := appName(t)
	appB, dbB := appName(t)
	for _, app := range []string{appA, appB} {
		app := app
		mustOK(t, m.Do(ctx(t), contract.DBRequest{Action: contract.DBActionCreateDatabase, App: app}))
		t.Cleanup(func() {
			// Planted objects owned by the attacker live only in its own
			// database, which the destroy drops.
			m.Do(context.Background(), contract.DBRequest{Action: contract.DBActionDestroyDatabase, App: app})
		})
	}
	return dbA, dbB
}

// privileges describes what role can do beyond itself: every role it is a
// member of (directly or not) and its role attributes.
func privileges(t *testing.T, role string) string {
	t.Helper()
	var s string
	err := srv.SuperConn(t, "postgres").QueryRow(context.Background(), `
		SELECT 'super=' || r.rolsuper || ' createrole=' || r.rolcreaterole || ' createdb=' || r.rolcreatedb ||
		       ' bypassrls=' || r.rolbypassrls || ' member of: ' ||
		       coalesce((SELECT string_agg(o.rolname, ',' ORDER BY o.rolname) FROM pg_roles o
		                  WHERE o.oid <> r.oid AND pg_has_role(r.oid, o.oid, 'MEMBER')), '')
		  FROM pg_roles r WHERE r.rolname = $1`, role).Scan(&s)
	if err != nil {
		t.Fatalf("privileges of %s: %v", role, err)
	}
	return s
}

// plant runs stmts as the attacker's role in its own database, the way an
// app with its DATABASE_URL can.
func plant(t *testing.T, attacker string, stmts ...string) {
	t.Helper()
	conn, err := connectAs(t, attacker, attacker)
	if err != nil {
		t.Fatalf("attacker connects to its own database: %v", err)
	}
	for _, q := range stmts {
		if _, err := conn.Exec(context.Background(), q); err != nil {
			t.Fatalf("planting %q: %v", q, err)
		}
	}
}

// escalation is the body of a planted plpgsql function: it leaves any
// SET ROLE the manager may have made (RESET ROLE works in a trigger: only
// SECURITY DEFINER functions and security-restricted operations refuse it),
// then grants the victim's role and the admin's to the attacker. Failures
// are swallowed so that the operator's script succeeds and nobody notices.
func escalation(attacker, victim string) string {
	return fmt.Sprintf(`BEGIN
		BEGIN EXECUTE 'RESET ROLE'; EXCEPTION WHEN OTHERS THEN NULL; END;
		BEGIN EXECUTE 'GRANT %[2]s TO %[1]s'; EXCEPTION WHEN OTHERS THEN NULL; END;
		BEGIN EXECUTE 'GRANT %[3]s TO %[1]s'; EXCEPTION WHEN OTHERS THEN NULL; END;
		BEGIN EXECUTE 'ALTER ROLE %[1]s CREATEROLE'; EXCEPTION WHEN OTHERS THEN NULL; END;
	END`, attacker, victim, pgtest.AdminUser)
}

func assertGainedNothing(t *testing.T, attacker, before string, resp contract.DBResponse) {
	t.Helper()
	t.Logf("response: %+v", resp)
	if after := privileges(t, attacker); after != before {
		t.Errorf("the attacker's role gained privileges through the operator's script (response ok=%v err=%+v):\nbefore: %s\nafter:  %s",
			resp.OK, resp.Error, before, after)
	}
}

// The app pre-creates the manager's ledger table with a trigger before the
// first one-off script; the manager trusts an existing ledger and inserts
// into it.
func TestAttackPlantedLedgerTrigger(t *testing.T) {
	m := newManager(t)
	attacker, victim := tenants(t, m)
	before := privileges(t, attacker)
	plant(t, attacker,
		`CREATE SCHEMA wharf_manager`,
		`CREATE TABLE wharf_manager.sql_runs (id text PRIMARY KEY, sql_sha256 text NOT NULL,
			applied_at timestamptz NOT NULL DEFAULT now(), applied_by text NOT NULL DEFAULT current_user)`,
		`CREATE FUNCTION public.ledger_hook() RETURNS trigger LANGUAGE plpgsql AS $f$`+
			strings.TrimSuffix(escalation(attacker, victim), "END")+` RETURN NULL; END; $f$`,
		`CREATE TRIGGER hook BEFORE INSERT ON wharf_manager.sql_runs FOR EACH STATEMENT EXECUTE FUNCTION public.ledger_hook()`,
	)
	resp := m.Do(ctx(t), contract.DBRequest{Action: contract.DBActionRunSQL, Database: attacker, ID: "harmless-1", SQL: "SELECT 1"})
	assertGainedNothing(t, attacker, before, resp)
	// The manager refuses the ledger it did not make, naming it.
	wantErr(t, resp, "database", contract.DBRuleConflict)
	if !strings.Contains(resp.Error.Message, "schema wharf_manager") {
		t.Errorf("refusal does not name the planted schema: %s", resp.Error.Message)
	}
	// Once the app drops it, one-off SQL works again, with a ledger the
	// admin owns.
	plant(t, attacker, `DROP SCHEMA wharf_manager CASCADE`)
	mustOK(t, m.Do(ctx(t), contract.DBRequest{Action: contract.DBActionRunSQL, Database: attacker, ID: "harmless-1", SQL: "SELECT 1"}))
	if n := count(t, attacker, "SELECT count(*) FROM pg_namespace n WHERE nspname = 'wharf_manager' AND pg_get_userbyid(nspowner) = '"+pgtest.AdminUser+"'"); n != 1 {
		t.Errorf("the new ledger schema is not the admin's")
	}
	assertGainedNothing(t, attacker, before, resp)
}

// The operator's script touches an app table that carries a trigger.
func TestAttackTriggerOnAppTable(t *testing.T) {
	m := newManager(t)
	attacker, victim := tenants(t, m)
	before := privileges(t, attacker)
	plant(t, attacker,
		`CREATE TABLE public.users (id int PRIMARY KEY, email text)`,
		`INSERT INTO public.users VALUES (1, 'a@example.com')`,
		`CREATE FUNCTION public.users_audit() RETURNS trigger LANGUAGE plpgsql AS $f$`+
			strings.TrimSuffix(escalation(attacker, victim), "END")+` RETURN NULL; END; $f$`,
		`CREATE TRIGGER audit AFTER UPDATE ON public.users FOR EACH STATEMENT EXECUTE FUNCTION public.users_audit()`,
	)
	resp := m.Do(ctx(t), contract.DBRequest{Action: contract.DBActionRunSQL, Database: attacker, ID: "fix-email",
		SQL: "UPDATE users SET email = lower(email) WHERE id = 1"})
	assertGainedNothing(t, attacker, before, resp)
}

// A schema named like the admin user comes first in the default
// search_path ("$user", public) and shadows the table the operator means.
func TestAttackSearchPathShadowsTable(t *testing.T) {
	m := newManager(t)
	attacker, victim := tenants(t, m)
	before := privileges(t, attacker)
	plant(t, attacker,
		`CREATE TABLE public.orders (id int)`,
		`CREATE FUNCTION public.order_count() RETURNS bigint LANGUAGE plpgsql AS $f$`+
			strings.TrimSuffix(escalation(attacker, victim), "END")+` RETURN 0; END; $f$`,
		`CREATE SCHEMA `+pgtest.AdminUser,
		`CREATE VIEW `+pgtest.AdminUser+`.orders AS SELECT public.order_count() AS id`,
	)
	resp := m.Do(ctx(t), contract.DBRequest{Action: contract.DBActionRunSQL, Database: attacker, ID: "count-orders",
		SQL: "SELECT count(*) FROM orders"})
	assertGainedNothing(t, attacker, before, resp)
}

// The app sets its database's default search_path (a database owner may)
// so that a function of its own shadows the pg_catalog function the
// manager's bookkeeping calls before the operator's script even runs.
func TestAttackDatabaseSearchPathShadowsFunction(t *testing.T) {
	m := newManager(t)
	attacker, victim := tenants(t, m)
	before := privileges(t, attacker)
	plant(t, attacker,
		`CREATE SCHEMA evil`,
		`CREATE FUNCTION evil.to_regclass(text) RETURNS regclass LANGUAGE plpgsql AS $f$`+
			strings.TrimSuffix(escalation(attacker, victim), "END")+` RETURN pg_catalog.to_regclass($1); END; $f$`,
		`CREATE FUNCTION evil.pg_has_role(name, text, text) RETURNS boolean LANGUAGE plpgsql AS $f$`+
			strings.TrimSuffix(escalation(attacker, victim), "END")+` RETURN pg_catalog.pg_has_role($1, $2, $3); END; $f$`,
		`ALTER DATABASE `+attacker+` SET search_path = evil, pg_catalog, public`,
	)
	resp := m.Do(ctx(t), contract.DBRequest{Action: contract.DBActionRunSQL, Database: attacker, ID: "harmless-2", SQL: "SELECT 1"})
	assertGainedNothing(t, attacker, before, resp)
}

// Starting the script with SET LOCAL ROLE (what docs/dbmanager.md told
// operators to do) is no boundary: the planted trigger resets the role to
// the session's user, the admin.
func TestAttackTriggerDefeatsSetLocalRole(t *testing.T) {
	m := newManager(t)
	attacker, victim := tenants(t, m)
	before := privileges(t, attacker)
	plant(t, attacker,
		`CREATE TABLE public.flags (name text PRIMARY KEY, on_ boolean)`,
		`INSERT INTO public.flags VALUES ('beta', false)`,
		`CREATE FUNCTION public.flags_audit() RETURNS trigger LANGUAGE plpgsql AS $f$`+
			strings.TrimSuffix(escalation(attacker, victim), "END")+` RETURN NULL; END; $f$`,
		`CREATE TRIGGER audit AFTER UPDATE ON public.flags FOR EACH ROW EXECUTE FUNCTION public.flags_audit()`,
	)
	resp := m.Do(ctx(t), contract.DBRequest{Action: contract.DBActionRunSQL, Database: attacker, ID: "beta-on",
		SQL: "SET LOCAL ROLE " + attacker + "; UPDATE flags SET on_ = true WHERE name = 'beta'"})
	assertGainedNothing(t, attacker, before, resp)
}

// The script's session is the app's own: it cannot become the admin.
func TestRunSQLRunsAsTheAppRole(t *testing.T) {
	m := newManager(t)
	attacker, _ := tenants(t, m)
	resp := mustOK(t, m.Do(ctx(t), contract.DBRequest{Action: contract.DBActionRunSQL, Database: attacker, ID: "who",
		SQL: "RESET ROLE; SELECT session_user::text || ',' || current_user::text"}))
	if resp.Role != attacker {
		t.Errorf("response role = %q, want the app's role %q", resp.Role, attacker)
	}
	if got := *resp.Results[1].Rows[0][0]; got != attacker+","+attacker {
		t.Errorf("session_user,current_user = %s, want the app's role", got)
	}
	// Rows of the ledger are the app's to add but not to change.
	conn, err := connectAs(t, attacker, attacker)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		"UPDATE wharf_manager.sql_runs SET sql_sha256 = 'x'",
		"DELETE FROM wharf_manager.sql_runs",
		"CREATE TRIGGER t BEFORE INSERT ON wharf_manager.sql_runs EXECUTE FUNCTION suppress_redundant_updates_trigger()",
		"CREATE TABLE wharf_manager.other (id int)",
	} {
		if _, err := conn.Exec(context.Background(), q); sqlState(err) != "42501" {
			t.Errorf("%s as the app: want insufficient_privilege, got %v", q, err)
		}
	}
}

// managerLockKey is the manager's advisory-lock key: an attacker reads it in
// the (public) source.
const managerLockKey int64 = 0x7768617266646201

// holdLockEverywhere connects as user to every database in dbs that it can
// reach and takes the manager's lock there; it returns the databases where
// it holds the lock and a function that releases them.
func holdLockEverywhere(t *testing.T, connect func(db string) (*pgx.Conn, error), dbs ...string) ([]string, func()) {
	t.Helper()
	var (
		held  []string
		conns []*pgx.Conn
	)
	release := func() {
		for _, c := range conns {
			_ = c.Close(context.Background())
		}
	}
	for _, db := range dbs {
		conn, err := connect(db)
		if err != nil {
			continue
		}
		conns = append(conns, conn)
		var ok bool
		if err := conn.QueryRow(context.Background(), "SELECT pg_try_advisory_lock($1)", managerLockKey).Scan(&ok); err == nil && ok {
			held = append(held, db)
		}
	}
	return held, release
}

// An app role connects to the databases every role may connect to by
// default and takes the manager's lock, stalling every create and destroy.
func TestAttackAppHoldsManagerLock(t *testing.T) {
	m := newManager(t)
	attacker, _ := tenants(t, m)
	held, release := holdLockEverywhere(t, func(db string) (*pgx.Conn, error) { return connectAs(t, attacker, db) },
		"postgres", "template1", "wharf_manager")
	t.Logf("the attacker holds the manager's lock in %v", held)
	app, _ := appName(t)
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp := m.Do(c, contract.DBRequest{Action: contract.DBActionCreateDatabase, App: app})
	release()
	t.Cleanup(func() {
		m.Do(context.Background(), contract.DBRequest{Action: contract.DBActionDestroyDatabase, App: app})
	})
	if !resp.OK {
		t.Fatalf("an app holding the lock in %v stalled create-database: %+v", held, resp.Error)
	}
}

// An invocation that holds the lock (stuck, or slow) makes the next one
// fail with a clear "busy" error instead of waiting for its whole run time.
func TestManagerLockWaitIsBounded(t *testing.T) {
	m := newManager(t)
	app, _ := appName(t)
	mustOK(t, m.Do(ctx(t), contract.DBRequest{Action: contract.DBActionCreateDatabase, App: app}))
	t.Cleanup(func() {
		m.Do(context.Background(), contract.DBRequest{Action: contract.DBActionDestroyDatabase, App: app})
	})
	// The superuser stands in for another invocation of the manager.
	held, release := holdLockEverywhere(t, func(db string) (*pgx.Conn, error) {
		c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return pgx.Connect(c, srv.SocketDSN(pgtest.Superuser, db))
	}, "postgres", "wharf_manager")
	defer release()
	if len(held) == 0 {
		t.Fatal("could not take the lock anywhere")
	}
	c, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	defer cancel()
	resp := m.Do(c, contract.DBRequest{Action: contract.DBActionDestroyDatabase, App: app})
	release()
	wantErr(t, resp, "", "busy")
}

// Roles may connect to postgres and template1 by default; an app needs
// neither. Where the admin owns them (RDS's master user can revoke on them;
// pgtest's are the bootstrap superuser's, so the test hands them over),
// create-database revokes CONNECT and TEMPORARY from PUBLIC.
func TestAttackAppConnectsToSharedDatabases(t *testing.T) {
	m := newManager(t)
	srv.Exec(t, "postgres", "ALTER DATABASE postgres OWNER TO "+pgtest.AdminUser, "ALTER DATABASE template1 OWNER TO "+pgtest.AdminUser)
	t.Cleanup(func() {
		srv.Exec(t, "postgres", "ALTER DATABASE postgres OWNER TO postgres", "ALTER DATABASE template1 OWNER TO postgres",
			"GRANT CONNECT, TEMPORARY ON DATABASE postgres TO PUBLIC", "GRANT CONNECT, TEMPORARY ON DATABASE template1 TO PUBLIC")
	})
	attacker, _ := tenants(t, m)
	for _, db := range []string{"postgres", "template1"} {
		if _, err := connectAs(t, attacker, db); err == nil {
			t.Errorf("the app role %s connected to %s", attacker, db)
		} else if sqlState(err) != "42501" {
			t.Errorf("connecting to %s: want insufficient_privilege, got %v", db, err)
		}
	}
}

// On engines before PostgreSQL 15 every role may create objects in
// template1's public schema, and every database created afterwards is a
// copy: an app plants a function there and owns it in every new app's
// database.
func TestAttackTemplate1PublicSchema(t *testing.T) {
	m := newManager(t)
	attacker, _ := tenants(t, m)
	execClosed(t, "template1", "GRANT CREATE ON SCHEMA public TO PUBLIC")
	t.Cleanup(func() {
		execClosed(t, "template1", "DROP FUNCTION IF EXISTS public.planted()", "REVOKE CREATE ON SCHEMA public FROM PUBLIC")
	})
	if conn, err := connectAs(t, attacker, "template1"); err == nil {
		if _, err := conn.Exec(context.Background(), "CREATE FUNCTION public.planted() RETURNS int LANGUAGE sql AS 'SELECT 1'"); err != nil {
			t.Logf("planting in template1: %v", err)
		}
		_ = conn.Close(context.Background())
	}
	app, victim := appName(t)
	resp := m.Do(ctx(t), contract.DBRequest{Action: contract.DBActionCreateDatabase, App: app})
	t.Cleanup(func() {
		m.Do(context.Background(), contract.DBRequest{Action: contract.DBActionDestroyDatabase, App: app})
	})
	if resp.OK {
		if n := count(t, victim, "SELECT count(*) FROM pg_proc WHERE pg_get_userbyid(proowner) = '"+attacker+"'"); n != 0 {
			t.Errorf("the new database %s contains %d functions owned by the app %s", victim, n, attacker)
		}
		t.Errorf("create-database succeeded while every role may create in template1.public")
		return
	}
	wantErr(t, resp, "", contract.DBRuleConfig)
	if !strings.Contains(resp.Error.Message, "template1") {
		t.Errorf("refusal does not name template1: %s", resp.Error.Message)
	}
}

// execClosed runs stmts as the superuser in db on a connection it closes
// at once (CREATE DATABASE refuses a template anyone is connected to).
func execClosed(t *testing.T, db string, stmts ...string) {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(c, srv.SocketDSN(pgtest.Superuser, db))
	if err != nil {
		t.Fatalf("connect to %s: %v", db, err)
	}
	defer conn.Close(context.Background())
	for _, q := range stmts {
		if _, err := conn.Exec(c, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}
