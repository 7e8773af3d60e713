package dbmanager_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/wharf-paas/wharf/contract"
	"github.com/wharf-paas/wharf/dbmanager"
	"github.com/wharf-paas/wharf/internal/pgtest"
)

var srv *pgtest.Server

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m, &srv)) }

var enableOnce sync.Once

// staticTokens builds real IAM tokens from fixed credentials; the pgtest
// server trusts rds_iam members over TCP, so any token works for them.
var staticTokens = dbmanager.IAMTokens{
	Region:      "eu-west-1",
	Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""),
}

// newManager returns a manager for the pgtest admin, whose IAM
// authentication is enabled (a member of rds_iam).
func newManager(t testing.TB) *dbmanager.Manager {
	t.Helper()
	enableOnce.Do(func() { srv.EnableAdminIAM(t) })
	m, err := dbmanager.NewManager(dbmanager.Config{
		Host: srv.Host, Port: srv.Port, AdminUser: pgtest.AdminUser, SSLMode: "disable",
	}, staticTokens, nil)
	if err != nil {
		t.Fatalf("new manager: %v", err)
	}
	return m
}

// appName returns an app name (hyphens, at most 30 characters) unique to
// this test and the database name the manager maps it to.
func appName(t testing.TB) (app, db string) {
	n := srv.UniqueName(t)
	if len(n) > 30 {
		n = n[:22] + n[len(n)-8:]
	}
	n = strings.Trim(n, "_")
	return strings.ReplaceAll(n, "_", "-"), n
}

func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return c
}

func mustOK(t testing.TB, resp contract.DBResponse) contract.DBResponse {
	t.Helper()
	if !resp.OK || resp.Error != nil {
		t.Fatalf("%s failed: %+v", resp.Action, resp.Error)
	}
	return resp
}

func wantErr(t testing.TB, resp contract.DBResponse, field, rule string) {
	t.Helper()
	if resp.OK || resp.Error == nil {
		t.Fatalf("%s: want error field=%q rule=%q, got success %+v", resp.Action, field, rule, resp)
	}
	if resp.Error.Field != field || resp.Error.Rule != rule {
		t.Fatalf("%s: want error field=%q rule=%q, got field=%q rule=%q: %s", resp.Action, field, rule,
			resp.Error.Field, resp.Error.Rule, resp.Error.Message)
	}
	if field != "" && !strings.HasPrefix(resp.Error.Message, field+": ") {
		t.Errorf("message %q does not start with the field name %q", resp.Error.Message, field)
	}
}

// snapshot describes everything the manager may change about name, from
// the catalogs, as one string.
func snapshot(t testing.TB, name string) string {
	t.Helper()
	conn := srv.SuperConn(t, "postgres")
	var b strings.Builder
	rows, err := conn.Query(context.Background(), `
		SELECT 'role', rolname || ' login=' || rolcanlogin || ' super=' || rolsuper || ' createrole=' || rolcreaterole || ' createdb=' || rolcreatedb
		  FROM pg_roles WHERE rolname = $1
		UNION ALL
		SELECT 'member', u.rolname || ' in ' || r.rolname || ' admin=' || m.admin_option
		  FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid JOIN pg_roles u ON u.oid = m.member
		 WHERE r.rolname = $1 OR u.rolname = $1
		UNION ALL
		SELECT 'database', datname || ' owner=' || pg_get_userbyid(datdba) || ' allowconn=' || datallowconn || ' acl=' || coalesce(datacl::text, 'default')
		  FROM pg_database WHERE datname = $1
		ORDER BY 1, 2`, name)
	if err != nil {
		t.Fatalf("snapshot %s: %v", name, err)
	}
	for rows.Next() {
		var kind, desc string
		if err := rows.Scan(&kind, &desc); err != nil {
			t.Fatalf("snapshot %s: %v", name, err)
		}
		fmt.Fprintf(&b, "%s: %s\n", kind, desc)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("snapshot %s: %v", name, err)
	}
	return b.String()
}

func exists(t testing.TB, kind, name string) bool {
	t.Helper()
	q := map[string]string{
		"role":     "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)",
		"database": "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)",
	}[kind]
	var ok bool
	if err := srv.SuperConn(t, "postgres").QueryRow(context.Background(), q, name).Scan(&ok); err != nil {
		t.Fatalf("exists %s %s: %v", kind, name, err)
	}
	return ok
}

// connectAs opens a TCP connection as user (an rds_iam member, so no
// password is checked, as with a valid IAM token).
func connectAs(t testing.TB, user, db string) (*pgx.Conn, error) {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(c, srv.TCPDSN(user, "", db))
	if err == nil {
		t.Cleanup(func() { _ = conn.Close(context.Background()) })
	}
	return conn, err
}

func sqlState(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code
	}
	return ""
}
