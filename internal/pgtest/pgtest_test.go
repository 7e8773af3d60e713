package pgtest_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/wharf-paas/wharf/internal/pgtest"
)

var srv *pgtest.Server

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m, &srv)) }

func TestServerIsRDSLike(t *testing.T) {
	conn := srv.SuperConn(t, "postgres")
	var super, createdb, createrole, login bool
	if err := conn.QueryRow(context.Background(), "SELECT rolsuper, rolcreatedb, rolcreaterole, rolcanlogin FROM pg_roles WHERE rolname = $1",
		pgtest.AdminUser).Scan(&super, &createdb, &createrole, &login); err != nil {
		t.Fatal(err)
	}
	if super || !createdb || !createrole || !login {
		t.Errorf("admin: super=%v createdb=%v createrole=%v login=%v; want a non-superuser with CREATEDB CREATEROLE LOGIN", super, createdb, createrole, login)
	}
	var iamLogin bool
	if err := conn.QueryRow(context.Background(), "SELECT rolcanlogin FROM pg_roles WHERE rolname = 'rds_iam'").Scan(&iamLogin); err != nil || iamLogin {
		t.Errorf("rds_iam: login=%v err=%v; want an existing NOLOGIN role", iamLogin, err)
	}
}

func TestAuthenticationMimicsRDS(t *testing.T) {
	ctx := context.Background()
	// Not an rds_iam member: the password is checked over TCP.
	user, password := srv.NewAdmin(t)
	if _, err := pgx.Connect(ctx, srv.TCPDSN(user, "wrong", "postgres")); err == nil || !strings.Contains(err.Error(), "28P01") {
		t.Errorf("wrong password: want 28P01, got %v", err)
	}
	c, err := pgx.Connect(ctx, srv.TCPDSN(user, password, "postgres"))
	if err != nil {
		t.Fatalf("right password: %v", err)
	}
	_ = c.Close(ctx)
	// An rds_iam member gets in with anything (standing in for a token).
	srv.Exec(t, "postgres", "GRANT rds_iam TO "+user)
	c, err = pgx.Connect(ctx, srv.TCPDSN(user, "any-iam-token", "postgres"))
	if err != nil {
		t.Fatalf("rds_iam member: %v", err)
	}
	_ = c.Close(ctx)
}

func TestNewDatabaseAndUniqueName(t *testing.T) {
	a, b := srv.NewDatabase(t), srv.NewDatabase(t)
	if a == b || !strings.HasPrefix(a, "t_newdatabaseanduniquename_") {
		t.Errorf("names %q %q", a, b)
	}
	var owner string
	if err := srv.SuperConn(t, "postgres").QueryRow(context.Background(),
		"SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = $1", a).Scan(&owner); err != nil || owner != pgtest.AdminUser {
		t.Errorf("owner of %s = %q (%v)", a, owner, err)
	}
	t.Run("sub", func(t *testing.T) {
		if n := srv.UniqueName(t); len(n) > 40 || strings.ContainsAny(n, "/-") {
			t.Errorf("unique name %q", n)
		}
	})
}

func TestFindBinDir(t *testing.T) {
	dir, err := pgtest.FindBinDir()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir + "/initdb"); err != nil {
		t.Errorf("%s has no initdb: %v", dir, err)
	}
	t.Setenv("PATH", "")
	// With PATH empty the Debian location is still found; the message for a
	// machine without PostgreSQL must point at `make postgres`.
	if _, err := pgtest.FindBinDir(); err != nil && !strings.Contains(err.Error(), "make postgres") {
		t.Errorf("error does not say how to install: %v", err)
	}
}

// BenchmarkStart is the cost of one server (initdb + start + stop), paid
// once per test binary.
func BenchmarkStart(b *testing.B) {
	for b.Loop() {
		s, err := pgtest.Start()
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Stop(); err != nil {
			b.Fatal(err)
		}
	}
}
