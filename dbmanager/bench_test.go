package dbmanager_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/wharf-paas/wharf/contract"
	"github.com/wharf-paas/wharf/dbmanager"
	"github.com/wharf-paas/wharf/internal/pgtest"
)

// Per-action latency against the local pgtest server. Every action opens
// its own connection (IAM token built locally, no TLS here), as the Lambda
// does. Run: go test -run '^$' -bench . -benchtime 20x ./dbmanager/

func benchDo(b *testing.B, m *dbmanager.Manager, req contract.DBRequest) {
	b.Helper()
	if resp := m.Do(context.Background(), req); !resp.OK {
		b.Fatalf("%s: %+v", req.Action, resp.Error)
	}
}

func BenchmarkCreateDatabase(b *testing.B) {
	m := newManager(b)
	base := srv.UniqueName(b)
	for i := 0; b.Loop(); i++ {
		benchDo(b, m, contract.DBRequest{Action: contract.DBActionCreateDatabase, Database: fmt.Sprintf("%s_%d", base, i)})
		b.StopTimer()
		benchDo(b, m, contract.DBRequest{Action: contract.DBActionDestroyDatabase, Database: fmt.Sprintf("%s_%d", base, i)})
		b.StartTimer()
	}
}

func BenchmarkCreateDatabaseRepeat(b *testing.B) {
	m := newManager(b)
	name := srv.UniqueName(b)
	benchDo(b, m, contract.DBRequest{Action: contract.DBActionCreateDatabase, Database: name})
	b.Cleanup(func() {
		m.Do(context.Background(), contract.DBRequest{Action: contract.DBActionDestroyDatabase, Database: name})
	})
	for b.Loop() {
		benchDo(b, m, contract.DBRequest{Action: contract.DBActionCreateDatabase, Database: name})
	}
}

func BenchmarkDestroyDatabase(b *testing.B) {
	m := newManager(b)
	base := srv.UniqueName(b)
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		benchDo(b, m, contract.DBRequest{Action: contract.DBActionCreateDatabase, Database: fmt.Sprintf("%s_%d", base, i)})
		b.StartTimer()
		benchDo(b, m, contract.DBRequest{Action: contract.DBActionDestroyDatabase, Database: fmt.Sprintf("%s_%d", base, i)})
	}
}

func BenchmarkDestroyDatabaseRepeat(b *testing.B) {
	m := newManager(b)
	name := srv.UniqueName(b)
	for b.Loop() {
		benchDo(b, m, contract.DBRequest{Action: contract.DBActionDestroyDatabase, Database: name})
	}
}

func BenchmarkEnableIAMAuthRepeat(b *testing.B) {
	m := newManager(b)
	for b.Loop() {
		benchDo(b, m, contract.DBRequest{Action: contract.DBActionEnableIAMAuth})
	}
}

func BenchmarkRunSQL(b *testing.B) {
	m := newManager(b)
	db := srv.NewDatabase(b)
	benchDo(b, m, contract.DBRequest{Action: contract.DBActionRunSQL, Database: db, ID: "setup", SQL: "CREATE TABLE t (id int)"})
	for i := 0; b.Loop(); i++ {
		benchDo(b, m, contract.DBRequest{Action: contract.DBActionRunSQL, Database: db, ID: fmt.Sprintf("run-%d", i),
			SQL: "INSERT INTO t VALUES (1); SELECT count(*) FROM t"})
	}
}

func BenchmarkRunSQLRepeat(b *testing.B) {
	m := newManager(b)
	db := srv.NewDatabase(b)
	req := contract.DBRequest{Action: contract.DBActionRunSQL, Database: db, ID: "once", SQL: "CREATE TABLE t (id int)"}
	benchDo(b, m, req)
	for b.Loop() {
		benchDo(b, m, req)
	}
}

// BenchmarkConnectBaseline is one plain connection and close as the admin,
// for reading the figures above: every action pays it once.
func BenchmarkConnectBaseline(b *testing.B) {
	newManager(b)
	for b.Loop() {
		c, err := pgx.Connect(context.Background(), srv.TCPDSN(pgtest.AdminUser, "", "postgres"))
		if err != nil {
			b.Fatal(err)
		}
		_ = c.Close(context.Background())
	}
}
