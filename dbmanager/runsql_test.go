package dbmanager_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/wharf-paas/wharf/contract"
)

func runSQL(db, id, sql string) contract.DBRequest {
	return contract.DBRequest{Action: contract.DBActionRunSQL, Database: db, ID: id, SQL: sql}
}

func count(t *testing.T, db, q string) int {
	t.Helper()
	var n int
	if err := srv.SuperConn(t, db).QueryRow(context.Background(), q).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func TestRunSQL(t *testing.T) {
	m := newManager(t)
	db := srv.NewDatabase(t)
	script := `CREATE TABLE notes (id int PRIMARY KEY, body text);
		INSERT INTO notes VALUES (1, 'one'), (2, NULL);
		SELECT id, body FROM notes ORDER BY id;`
	resp := mustOK(t, m.Do(ctx(t), runSQL(db, "notes-1", script)))
	if !resp.Changed || resp.AppliedAt == nil {
		t.Errorf("first run: want changed with appliedAt, got %+v", resp)
	}
	if len(resp.Results) != 3 {
		t.Fatalf("want 3 statement results, got %+v", resp.Results)
	}
	if got := resp.Results[0].Command + "|" + resp.Results[1].Command + "|" + resp.Results[2].Command; got != "CREATE TABLE|INSERT 0 2|SELECT 2" {
		t.Errorf("command tags = %s", got)
	}
	sel := resp.Results[2]
	if strings.Join(sel.Columns, ",") != "id,body" || len(sel.Rows) != 2 || *sel.Rows[0][1] != "one" || sel.Rows[1][1] != nil {
		t.Errorf("select result = %+v", sel)
	}

	// A repeat with the same id does nothing: still two rows.
	again := mustOK(t, m.Do(ctx(t), runSQL(db, "notes-1", script)))
	if again.Changed || again.AppliedAt == nil || len(again.Results) != 0 {
		t.Errorf("repeat: want unchanged with the first appliedAt, got %+v", again)
	}
	if n := count(t, db, "SELECT count(*) FROM notes"); n != 2 {
		t.Errorf("rows after repeat = %d, want 2", n)
	}
	if n := count(t, db, "SELECT count(*) FROM wharf_manager.sql_runs WHERE id = 'notes-1'"); n != 1 {
		t.Errorf("ledger rows for notes-1 = %d, want 1", n)
	}
	// The same id with another script is refused.
	wantErr(t, m.Do(ctx(t), runSQL(db, "notes-1", "DELETE FROM notes")), "id", contract.DBRuleIDReused)
	if n := count(t, db, "SELECT count(*) FROM notes"); n != 2 {
		t.Errorf("rows after refused reuse = %d, want 2", n)
	}
}

func TestRunSQLRollsBackWholeScript(t *testing.T) {
	m := newManager(t)
	db := srv.NewDatabase(t)
	srv.Exec(t, db, "CREATE TABLE accounts (id int PRIMARY KEY, balance int NOT NULL)", "INSERT INTO accounts VALUES (1, 100)",
		"GRANT ALL ON accounts TO wharf_admin")
	script := `UPDATE accounts SET balance = balance - 50 WHERE id = 1;
		CREATE TABLE audit (id int);
		INSERT INTO audit VALUES (1);
		CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END;
		INSERT INTO accounts VALUES (1, 0); -- duplicate key: fails
		INSERT INTO audit VALUES (2);`
	resp := m.Do(ctx(t), runSQL(db, "move-money", script))
	wantErr(t, resp, "sql", contract.DBRuleStatementFailed)
	if resp.Error.SQLState != "23505" {
		t.Errorf("sqlstate = %q, want 23505 (unique_violation)", resp.Error.SQLState)
	}
	if n := count(t, db, "SELECT balance FROM accounts WHERE id = 1"); n != 100 {
		t.Errorf("balance = %d after a failed script, want 100", n)
	}
	if n := count(t, db, "SELECT count(*) FROM pg_class WHERE relname = 'audit'"); n != 0 {
		t.Errorf("table audit survived the rollback")
	}
	if n := count(t, db, "SELECT count(*) FROM pg_proc WHERE proname = 'f'"); n != 0 {
		t.Errorf("function f survived the rollback")
	}
	// The ledger itself is the admin's and is created before the script
	// runs (in a transaction of its own); the failed run left no row.
	if n := count(t, db, "SELECT count(*) FROM wharf_manager.sql_runs WHERE id = 'move-money'"); n != 0 {
		t.Errorf("the ledger row of a failed run survived the rollback")
	}
	// The id was not used up: the fixed script runs.
	fixed := strings.Replace(script, "INSERT INTO accounts VALUES (1, 0); -- duplicate key: fails", "", 1)
	mustOK(t, m.Do(ctx(t), runSQL(db, "move-money", fixed)))
	if n := count(t, db, "SELECT balance FROM accounts WHERE id = 1"); n != 50 {
		t.Errorf("balance = %d after the fixed script, want 50", n)
	}
}

func TestRunSQLRejectsTransactionControl(t *testing.T) {
	m := newManager(t)
	db := srv.NewDatabase(t)
	for i, script := range []string{
		"CREATE TABLE a (id int); COMMIT; CREATE TABLE b (id int)",
		"begin; create table a (id int)",
		"CREATE TABLE a (id int);\n  ROLLBACK",
		"START TRANSACTION",
		"/* c */ END",
		"PREPARE TRANSACTION 'x'",
		"abort",
	} {
		resp := m.Do(ctx(t), runSQL(db, fmt.Sprintf("tc-%d", i), script))
		wantErr(t, resp, "sql", contract.DBRuleTransaction)
	}
	if n := count(t, db, "SELECT count(*) FROM pg_class WHERE relname IN ('a', 'b')"); n != 0 {
		t.Errorf("a rejected script left %d tables", n)
	}
	// Transaction control inside a DO block is not top-level; PostgreSQL
	// itself refuses it inside the manager's transaction.
	resp := m.Do(ctx(t), runSQL(db, "tc-do", "CREATE TABLE c (id int); DO $$ BEGIN COMMIT; END $$;"))
	wantErr(t, resp, "sql", contract.DBRuleStatementFailed)
	if n := count(t, db, "SELECT count(*) FROM pg_class WHERE relname = 'c'"); n != 0 {
		t.Errorf("table c survived")
	}
}

func TestRunSQLMissingDatabase(t *testing.T) {
	m := newManager(t)
	wantErr(t, m.Do(ctx(t), runSQL("no_such_db", "x", "SELECT 1")), "database", contract.DBRuleNotFound)
	wantErr(t, m.Do(ctx(t), contract.DBRequest{Action: contract.DBActionRunSQL, App: "no-such-app", ID: "x", SQL: "SELECT 1"}), "app", contract.DBRuleNotFound)
}

func TestRunSQLInAppDatabaseWithSetRole(t *testing.T) {
	m := newManager(t)
	app, name := appName(t)
	mustOK(t, m.Do(ctx(t), contract.DBRequest{Action: contract.DBActionCreateDatabase, App: app}))
	t.Cleanup(func() {
		m.Do(context.Background(), contract.DBRequest{Action: contract.DBActionDestroyDatabase, App: app})
	})
	resp := mustOK(t, m.Do(ctx(t), contract.DBRequest{Action: contract.DBActionRunSQL, App: app, ID: "owned",
		SQL: "SET LOCAL ROLE " + name + "; CREATE TABLE owned_by_app (id int); SELECT current_user"}))
	if got := *resp.Results[2].Rows[0][0]; got != name {
		t.Errorf("current_user = %s", got)
	}
	var owner string
	if err := srv.SuperConn(t, name).QueryRow(context.Background(),
		"SELECT tableowner FROM pg_tables WHERE tablename = 'owned_by_app'").Scan(&owner); err != nil || owner != name {
		t.Errorf("owner = %q (%v), want %q", owner, err, name)
	}
	// The app role can read the ledger (pg_dump by the app keeps working).
	conn, err := connectAs(t, name, name)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := conn.QueryRow(context.Background(), "SELECT count(*) FROM wharf_manager.sql_runs").Scan(&n); err != nil || n != 1 {
		t.Errorf("app reading the ledger: n=%d err=%v", n, err)
	}
}
