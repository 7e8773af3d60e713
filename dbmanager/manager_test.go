package dbmanager_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/wharf-paas/wharf/contract"
	"github.com/wharf-paas/wharf/dbmanager"
	"github.com/wharf-paas/wharf/internal/pgtest"
)

func TestCreateDatabase(t *testing.T) {
	m := newManager(t)
	app, name := appName(t)
	resp := mustOK(t, m.Do(ctx(t), contract.DBRequest{Action: contract.DBActionCreateDatabase, App: app}))
	if !resp.Changed || resp.Database != name || resp.Role != name {
		t.Fatalf("first create: want changed database=role=%q, got %+v", name, resp)
	}
	snap := snapshot(t, name)
	for _, want := range []string{
		"role: " + name + " login=true super=false createrole=false createdb=false",
		"member: " + name + " in rds_iam admin=false",
		"member: " + pgtest.AdminUser + " in " + name + " admin=false",
		"database: " + name + " owner=" + name + " allowconn=true acl={=T/" + name + "," + name + "=CTc/" + name + "}",
	} {
		if !strings.Contains(snap, want+"\n") {
			t.Errorf("catalog after create lacks %q:\n%s", want, snap)
		}
	}

	// The app's role connects to its database (with IAM auth, as an
	// rds_iam member) and can create objects there.
	conn, err := connectAs(t, name, name)
	if err != nil {
		t.Fatalf("app role cannot connect to its database: %v", err)
	}
	if _, err := conn.Exec(context.Background(), "CREATE TABLE t (id int)"); err != nil {
		t.Errorf("app role cannot create a table in its database: %v", err)
	}

	// A repeat succeeds and changes nothing.
	again := mustOK(t, m.Do(ctx(t), contract.DBRequest{Action: contract.DBActionCreateDatabase, App: app}))
	if again.Changed {
		t.Errorf("repeat create reported changed")
	}
	if after := snapshot(t, name); after != snap {
		t.Errorf("repeat create changed the catalogs:\nbefore:\n%s\nafter:\n%s", snap, after)
	}
	// Database given by name instead of app: the same database.
	byName := mustOK(t, m.Do(ctx(t), contract.DBRequest{Action: contract.DBActionCreateDatabase, Database: name}))
	if byName.Changed {
		t.Errorf("create by database name after create by app reported changed")
	}
}

func TestCreateDatabaseRevokesConnectFromOthers(t *testing.T) {
	m := newManager(t)
	appA, dbA := appName(t)
	appB, dbB := appName(t)
	mustOK(t, m.Do(ctx(t), contract.DBRequest{Action: contract.DBActionCreateDatabase, App: appA}))
	mustOK(t, m.Do(ctx(t), contract.DBRequest{Action: contract.DBActionCreateDatabase, App: appB}))
	_, err := connectAs(t, dbB, dbA)
	if err == nil {
		t.Fatalf("role %s connected to database %s of another app", dbB, dbA)
	}
	if got := sqlState(err); got != "42501" {
		t.Errorf("want insufficient_privilege (42501) connecting to another app's database, got %q: %v", got, err)
	}
}

func TestCreateDatabaseCompletesPartialState(t *testing.T) {
	m := newManager(t)
	_, name := appName(t)
	// As if an earlier run stopped after CREATE ROLE.
	srv.Exec(t, "postgres", "CREATE ROLE "+name+" LOGIN")
	resp := mustOK(t, m.Do(ctx(t), contract.DBRequest{Action: contract.DBActionCreateDatabase, Database: name}))
	if !resp.Changed {
		t.Errorf("create over a partial state reported no change")
	}
	snap := snapshot(t, name)
	if !strings.Contains(snap, "member: "+name+" in rds_iam") || !strings.Contains(snap, "acl={=T/"+name+","+name+"=CTc/"+name+"}") {
		t.Errorf("create did not complete the partial state:\n%s", snap)
	}
	// As if a destroy stopped after blocking connections.
	srv.Exec(t, "postgres", "ALTER DATABASE "+name+" ALLOW_CONNECTIONS false")
	resp = mustOK(t, m.Do(ctx(t), contract.DBRequest{Action: contract.DBActionCreateDatabase, Database: name}))
	if !resp.Changed || !strings.Contains(snapshot(t, name), "allowconn=true") {
		t.Errorf("create did not re-allow connections: %+v\n%s", resp, snapshot(t, name))
	}
}

func TestCreateDatabaseRefusesForeignObjects(t *testing.T) {
	m := newManager(t)
	app, name := appName(t)
	srv.Exec(t, "postgres", "CREATE DATABASE "+name+" OWNER "+pgtest.AdminUser)
	before := snapshot(t, name)
	resp := m.Do(ctx(t), contract.DBRequest{Action: contract.DBActionCreateDatabase, App: app})
	wantErr(t, resp, "app", contract.DBRuleConflict)

	_, other := appName(t)
	srv.Exec(t, "postgres", "CREATE ROLE "+other+" NOLOGIN CREATEROLE")
	resp = m.Do(ctx(t), contract.DBRequest{Action: contract.DBActionCreateDatabase, Database: other})
	wantErr(t, resp, "database", contract.DBRuleConflict)
	if exists(t, "database", other) {
		t.Errorf("database %s created although its role is foreign", other)
	}
	if got := snapshot(t, name); got != before {
		t.Errorf("refused create changed the foreign database:\nbefore:\n%s\nafter:\n%s", before, got)
	}
	srv.Exec(t, "postgres", "DROP DATABASE "+name, "DROP ROLE IF EXISTS "+name, "DROP ROLE "+other)

	resp = m.Do(ctx(t), contract.DBRequest{Action: contract.DBActionCreateDatabase, Database: pgtest.AdminUser})
	wantErr(t, resp, "database", contract.DBRuleReserved)
}

func TestDestroyDatabaseWithSessionConnected(t *testing.T) {
	m := newManager(t)
	app, name := appName(t)
	mustOK(t, m.Do(ctx(t), contract.DBRequest{Action: contract.DBActionCreateDatabase, App: app}))
	conn, err := connectAs(t, name, name)
	if err != nil {
		t.Fatalf("connect as app: %v", err)
	}
	if _, err := conn.Exec(context.Background(), "CREATE TABLE kept (id int)"); err != nil {
		t.Fatalf("create table: %v", err)
	}

	resp := mustOK(t, m.Do(ctx(t), contract.DBRequest{Action: contract.DBActionDestroyDatabase, App: app}))
	if !resp.Changed || resp.TerminatedSessions < 1 {
		t.Errorf("destroy: want changed and at least one terminated session, got %+v", resp)
	}
	if exists(t, "database", name) || exists(t, "role", name) {
		t.Errorf("destroy left objects behind:\n%s", snapshot(t, name))
	}
	if err := conn.Ping(context.Background()); err == nil {
		t.Errorf("the app's session survived destroy")
	}
	if _, err := connectAs(t, name, name); err == nil {
		t.Errorf("app can still connect after destroy")
	}

	// A repeat on a missing database succeeds and changes nothing.
	again := mustOK(t, m.Do(ctx(t), contract.DBRequest{Action: contract.DBActionDestroyDatabase, App: app}))
	if again.Changed || again.TerminatedSessions != 0 {
		t.Errorf("repeat destroy: want no change, got %+v", again)
	}
	if snapshot(t, name) != "" {
		t.Errorf("repeat destroy left objects: %s", snapshot(t, name))
	}
}

func TestDestroyDatabaseNeverCreated(t *testing.T) {
	m := newManager(t)
	_, name := appName(t)
	resp := mustOK(t, m.Do(ctx(t), contract.DBRequest{Action: contract.DBActionDestroyDatabase, Database: name}))
	if resp.Changed {
		t.Errorf("destroy of a database that never existed reported changed")
	}
}

func TestDestroyDatabaseCompletesPartialState(t *testing.T) {
	m := newManager(t)
	_, name := appName(t)
	mustOK(t, m.Do(ctx(t), contract.DBRequest{Action: contract.DBActionCreateDatabase, Database: name}))
	// As if an earlier destroy stopped after DROP DATABASE.
	srv.Exec(t, "postgres", "DROP DATABASE "+name)
	resp := mustOK(t, m.Do(ctx(t), contract.DBRequest{Action: contract.DBActionDestroyDatabase, Database: name}))
	if !resp.Changed || exists(t, "role", name) {
		t.Errorf("destroy did not drop the leftover role: %+v", resp)
	}
}

func TestDestroyDatabaseRefusesForeignObjects(t *testing.T) {
	m := newManager(t)
	_, name := appName(t)
	srv.Exec(t, "postgres", "CREATE DATABASE "+name+" OWNER "+pgtest.AdminUser)
	t.Cleanup(func() { srv.Exec(t, "postgres", "DROP DATABASE IF EXISTS "+name) })
	resp := m.Do(ctx(t), contract.DBRequest{Action: contract.DBActionDestroyDatabase, Database: name})
	wantErr(t, resp, "database", contract.DBRuleConflict)
	if !exists(t, "database", name) {
		t.Fatalf("destroy dropped a database it did not create")
	}

	_, role := appName(t)
	srv.Exec(t, "postgres", "CREATE ROLE "+role+" NOLOGIN")
	t.Cleanup(func() { srv.Exec(t, "postgres", "DROP ROLE IF EXISTS "+role) })
	resp = m.Do(ctx(t), contract.DBRequest{Action: contract.DBActionDestroyDatabase, Database: role})
	wantErr(t, resp, "database", contract.DBRuleConflict)
	if !exists(t, "role", role) {
		t.Fatalf("destroy dropped a NOLOGIN role it did not create")
	}
}

func TestEnableIAMAuth(t *testing.T) {
	admin, password := srv.NewAdmin(t)
	// A second admin on the shared test server: its own manager database
	// (each cluster has one admin, which owns "wharf_manager").
	home := admin + "_home"
	cfg := dbmanager.Config{Host: srv.Host, Port: srv.Port, AdminUser: admin, SSLMode: "disable", ManagerDatabase: home}
	t.Cleanup(func() { srv.Exec(t, "postgres", "DROP DATABASE IF EXISTS "+home+" WITH (FORCE)") })

	// Without a password source the manager cannot get in.
	noPw, err := dbmanager.NewManager(cfg, staticTokens, nil)
	if err != nil {
		t.Fatal(err)
	}
	wantErr(t, noPw.Do(ctx(t), contract.DBRequest{Action: contract.DBActionEnableIAMAuth}), "", contract.DBRuleConfig)
	// A wrong password is an authentication error.
	bad, _ := dbmanager.NewManager(cfg, staticTokens, dbmanager.StaticPassword("wrong"))
	wantErr(t, bad.Do(ctx(t), contract.DBRequest{Action: contract.DBActionEnableIAMAuth}), "", contract.DBRuleAuthFailed)
	// Before enabling, IAM login fails, so other actions fail too.
	_, dbName := appName(t)
	wantErr(t, noPw.Do(ctx(t), contract.DBRequest{Action: contract.DBActionCreateDatabase, Database: dbName}), "", contract.DBRuleAuthFailed)

	m, _ := dbmanager.NewManager(cfg, staticTokens, dbmanager.StaticPassword(password))
	resp := mustOK(t, m.Do(ctx(t), contract.DBRequest{Action: contract.DBActionEnableIAMAuth}))
	if !resp.Changed || resp.Role != admin {
		t.Errorf("enable: want changed for %s, got %+v", admin, resp)
	}
	snap := snapshot(t, admin)
	if !strings.Contains(snap, "member: "+admin+" in rds_iam admin=false\n") {
		t.Fatalf("admin is not a member of rds_iam after enable:\n%s", snap)
	}

	// A repeat logs in with IAM (the password source is not even asked)
	// and changes nothing.
	iamOnly, _ := dbmanager.NewManager(cfg, staticTokens, nil)
	again := mustOK(t, iamOnly.Do(ctx(t), contract.DBRequest{Action: contract.DBActionEnableIAMAuth}))
	if again.Changed {
		t.Errorf("repeat enable reported changed")
	}
	if after := snapshot(t, admin); after != snap {
		t.Errorf("repeat enable changed the catalogs:\n%s\n%s", snap, after)
	}
	// And now the admin can work with IAM tokens.
	mustOK(t, iamOnly.Do(ctx(t), contract.DBRequest{Action: contract.DBActionCreateDatabase, Database: dbName}))
	mustOK(t, iamOnly.Do(ctx(t), contract.DBRequest{Action: contract.DBActionDestroyDatabase, Database: dbName}))
}

func TestConcurrentCreatesAreSerialised(t *testing.T) {
	m := newManager(t)
	app, name := appName(t)
	var wg sync.WaitGroup
	resps := make([]contract.DBResponse, 3)
	for i := range resps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resps[i] = m.Do(ctx(t), contract.DBRequest{Action: contract.DBActionCreateDatabase, App: app})
		}()
	}
	wg.Wait()
	changed := 0
	for _, r := range resps {
		mustOK(t, r)
		if r.Changed {
			changed++
		}
	}
	if changed != 1 {
		t.Errorf("%d of 3 concurrent creates reported a change, want exactly 1", changed)
	}
	if !strings.Contains(snapshot(t, name), "acl={=T/"+name+","+name+"=CTc/"+name+"}") {
		t.Errorf("after concurrent creates:\n%s", snapshot(t, name))
	}
}
