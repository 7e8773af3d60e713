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
		mustOK(t, m.Do(ctx(t), dbmanager.Request{Action: dbmanager.ActionCreateDatabase, App: app}))
		t.Cleanup(func() {
			// Planted objects owned by the attacker live only in its own
			// database, which the destroy drops.
			m.Do(context.Background(), dbmanager.Request{Action: dbmanager.ActionDestroyDatabase, App: app})
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

func assertGainedNothing(t *testing.T, attacker, before string, resp dbmanager.Response) {
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
	resp := m.Do(ctx(t), dbmanager.Request{Action: dbmanager.ActionRunSQL, Database: attacker, ID: "harmless-1", SQL: "SELECT 1"})
	assertGainedNothing(t, attacker, before, resp)
	// The manager refuses the ledger it did not make, naming it.
	wantErr(t, resp, "database", dbmanager.RuleConflict)
	if !strings.Contains(resp.Error.Message, "schema wharf_manager") {
		t.Errorf("refusal does not name the planted schema: %s", resp.Error.Message)
	}
	// Once the app drops it, one-off SQL works again, with a ledger the
	// admin owns.
	plant(t, attacker, `DROP SCHEMA wharf_manager CASCADE`)
	mustOK(t, m.Do(ctx(t), dbmanager.Request{Action: dbmanager.ActionRunSQL, Database: attacker, ID: "harmless-1", SQL: "SELECT 1"}))
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
	resp := m.Do(ctx(t), dbmanager.Request{Action: dbmanager.ActionRunSQL, Database: attacker, ID: "fix-email",
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
	resp := m.Do(ctx(t), dbmanager.Request{Action: dbmanager.ActionRunSQL, Database: attacker, ID: "count-orders",
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
	resp := m.Do(ctx(t), dbmanager.Request{Action: dbmanager.ActionRunSQL, Database: attacker, ID: "harmless-2", SQL: "SELECT 1"})
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
	resp := m.Do(ctx(t), dbmanager.Request{Action: dbmanager.ActionRunSQL, Database: attacker, ID: "beta-on",
		SQL: "SET LOCAL ROLE " + attacker + "; UPDATE flags SET on_ = true WHERE name = 'beta'"})
	assertGainedNothing(t, attacker, before, resp)
}

// The script's session is the app's own: it cannot become the admin.
func TestRunSQLRunsAsTheAppRole(t *testing.T) {
	m := newManager(t)
	attacker, _ := tenants(t, m)
	resp := mustOK(t, m.Do(ctx(t), dbmanager.Request{Action: dbmanager.ActionRunSQL, Database: attacker, ID: "who",
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
