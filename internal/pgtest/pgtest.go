// Package pgtest starts a real, throw-away PostgreSQL server for tests and
// sets it up to behave like an Aurora PostgreSQL cluster as far as the
// database manager is concerned.
//
// One server per test binary:
//
//	var srv *pgtest.Server
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Run(m, &srv)) }
//
// then, in a test, srv.NewDatabase(t) for a fresh database and
// srv.UniqueName(t) for names that no other test uses.
//
// What it sets up:
//   - initdb in a temporary directory (as the "postgres" OS user when the
//     tests run as root), a random free port on 127.0.0.1, the unix socket in
//     the same directory; fsync off. The server is a child of the test
//     binary and gets SIGQUIT if the binary dies.
//   - the role rds_iam (NOLOGIN), standing in for RDS's;
//   - an admin role [AdminUser] with LOGIN CREATEDB CREATEROLE and a random
//     password, not a superuser: like the RDS master user;
//   - pg_hba.conf that mimics RDS IAM authentication: over TCP, members of
//     rds_iam are trusted (standing in for a valid IAM token, which is never
//     checked) and everyone else must give their password (scram-sha-256).
//     Over the unix socket, everyone is trusted; tests use it as the
//     bootstrap superuser "postgres" to inspect catalogs and set up state.
//
// When initdb or pg_ctl cannot be found, Start fails with a message saying
// to run `make postgres` (scripts/ensure-postgres.sh).
package pgtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// AdminUser is the name of the RDS-master-like admin role.
const AdminUser = "wharf_admin"

// Superuser is the bootstrap superuser, reachable over the unix socket.
const Superuser = "postgres"

// Server is a running PostgreSQL server.
type Server struct {
	// Host is 127.0.0.1; Port the TCP port.
	Host string
	Port int
	// SocketDir holds the unix socket (host for socket connections).
	SocketDir string
	// AdminPassword is the password of AdminUser.
	AdminPassword string
	// Version is the server's major version, for example 15.
	Version int

	dir     string
	binDir  string
	cmd     *exec.Cmd
	exited  chan struct{}
	logPath string
	cred    *syscall.Credential
	seq     atomic.Int64
}

// Run starts a server, stores it in *srv, runs the tests and stops the
// server. It returns the exit code for os.Exit. If the server cannot start,
// it prints why and returns 1: tests never skip for a missing PostgreSQL.
func Run(m *testing.M, srv **Server) int {
	s, err := Start()
	if err != nil {
		fmt.Fprintf(os.Stderr, "pgtest: %v\n", err)
		return 1
	}
	*srv = s
	code := m.Run()
	if err := s.Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "pgtest: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// FindBinDir returns the directory holding initdb, pg_ctl and postgres: the
// newest /usr/lib/postgresql/<version>/bin, else the one on PATH.
func FindBinDir() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) > versionOf(dirs[j]) })
	for _, d := range dirs {
		if isExec(filepath.Join(d, "initdb")) && isExec(filepath.Join(d, "postgres")) {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		d := filepath.Dir(p)
		if isExec(filepath.Join(d, "postgres")) {
			return d, nil
		}
	}
	return "", errors.New("postgresql server binaries (initdb, postgres) not found in /usr/lib/postgresql/*/bin or on PATH: run `make postgres` (scripts/ensure-postgres.sh) to install them")
}

func versionOf(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

func isExec(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir() && st.Mode()&0o111 != 0
}

// Start initialises and starts a server. Call Stop when done.
func Start() (*Server, error) {
	binDir, err := FindBinDir()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "wharf-pg-")
	if err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	s := &Server{Host: "127.0.0.1", SocketDir: dir, dir: dir, binDir: binDir, logPath: filepath.Join(dir, "server.log")}
	if os.Geteuid() == 0 {
		// PostgreSQL refuses to run as root.
		u, err := user.Lookup("postgres")
		if err != nil {
			_ = os.RemoveAll(dir)
			return nil, fmt.Errorf("running as root needs the OS user postgres (created by the Debian package; run `make postgres`): %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		s.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(dir, uid, gid); err != nil {
			_ = os.RemoveAll(dir)
			return nil, fmt.Errorf("chown data directory to postgres: %w", err)
		}
	}
	if err := s.start(); err != nil {
		_ = s.Stop()
		return nil, err
	}
	return s, nil
}

func (s *Server) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(s.binDir, name), args...)
	cmd.Dir = s.dir
	cmd.Env = append(os.Environ(), "LC_ALL=C", "TZ=UTC")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred, Setpgid: true}
	return cmd
}

func (s *Server) start() error {
	data := filepath.Join(s.dir, "data")
	pwFile := filepath.Join(s.dir, "pw")
	if err := os.WriteFile(pwFile, []byte(randomHex(16)+"\n"), 0o600); err != nil {
		return fmt.Errorf("write password file: %w", err)
	}
	if s.cred != nil {
		_ = os.Chown(pwFile, int(s.cred.Uid), int(s.cred.Gid))
	}
	init := s.command("initdb", "-D", data, "-U", Superuser, "--pwfile", pwFile, "-A", "trust",
		"-E", "UTF8", "--locale=C", "--no-sync")
	if out, err := init.CombinedOutput(); err != nil {
		return fmt.Errorf("initdb: %w\n%s", err, out)
	}
	_ = os.Remove(pwFile)
	hba := "# written by internal/pgtest: RDS-like authentication\n" +
		"local all all trust\n" +
		"host all +rds_iam 127.0.0.1/32 trust\n" +
		"host all all 127.0.0.1/32 scram-sha-256\n"
	if err := os.WriteFile(filepath.Join(data, "pg_hba.conf"), []byte(hba), 0o600); err != nil {
		return fmt.Errorf("write pg_hba.conf: %w", err)
	}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		port, err := freePort()
		if err != nil {
			return err
		}
		if lastErr = s.launch(data, port); lastErr == nil {
			break
		}
	}
	if lastErr != nil {
		return lastErr
	}
	return s.bootstrap()
}

// launch starts postgres in the foreground as a child and waits until it
// accepts connections.
func (s *Server) launch(data string, port int) error {
	logf, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("open server log: %w", err)
	}
	defer logf.Close()
	cmd := s.command("postgres", "-D", data,
		"-c", "listen_addresses=127.0.0.1",
		"-c", "port="+strconv.Itoa(port),
		"-c", "unix_socket_directories="+s.dir,
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "max_connections=60", "-c", "shared_buffers=32MB",
		"-c", "password_encryption=scram-sha-256")
	cmd.Stdout, cmd.Stderr = logf, logf
	// If the test binary dies, take the server down with it.
	cmd.SysProcAttr.Pdeathsig = syscall.SIGQUIT
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	s.Port, s.cmd, s.exited = port, cmd, exited
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		conn, err := pgx.Connect(ctx, s.superDSN("postgres"))
		cancel()
		if err == nil {
			_ = conn.Close(context.Background())
			return nil
		}
		select {
		case <-exited:
			s.cmd = nil
			return fmt.Errorf("postgres exited during start-up; log %s:\n%s", s.logPath, s.tailLog())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("postgres did not accept connections within 30s: %v; log:\n%s", err, s.tailLog())
		}
	}
}

func (s *Server) tailLog() string {
	b, _ := os.ReadFile(s.logPath)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

func (s *Server) bootstrap() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.superDSN("postgres"))
	if err != nil {
		return fmt.Errorf("connect as superuser: %w", err)
	}
	defer conn.Close(ctx)
	if err := conn.QueryRow(ctx, "SELECT current_setting('server_version_num')::int / 10000").Scan(&s.Version); err != nil {
		return fmt.Errorf("read server version: %w", err)
	}
	s.AdminPassword = randomHex(16)
	stmts := []string{
		"CREATE ROLE rds_iam NOLOGIN",
		"CREATE ROLE " + AdminUser + " LOGIN CREATEDB CREATEROLE PASSWORD '" + s.AdminPassword + "'",
	}
	if s.Version >= 16 {
		// From PostgreSQL 16, CREATEROLE alone no longer lets a role grant
		// membership in roles it did not create.
		stmts = append(stmts, "GRANT rds_iam TO "+AdminUser+" WITH ADMIN OPTION, INHERIT FALSE, SET FALSE")
	}
	for _, q := range stmts {
		if _, err := conn.Exec(ctx, q); err != nil {
			return fmt.Errorf("set up roles (%s): %w", strings.Fields(q)[0]+" "+strings.Fields(q)[1], err)
		}
	}
	return nil
}

// Stop shuts the server down (fast shutdown, then SIGKILL after 10 s) and
// removes its directory.
func (s *Server) Stop() error {
	var err error
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-s.exited:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
			<-s.exited
			err = errors.New("postgres did not stop within 10s and was killed")
		}
		s.cmd = nil
	}
	if rmErr := os.RemoveAll(s.dir); rmErr != nil && err == nil {
		err = fmt.Errorf("remove %s: %w", s.dir, rmErr)
	}
	return err
}

// superDSN connects over the unix socket as the bootstrap superuser.
func (s *Server) superDSN(db string) string {
	return fmt.Sprintf("host=%s port=%d user=%s dbname=%s sslmode=disable", s.SocketDir, s.Port, Superuser, db)
}

// SocketDSN returns a connection string over the unix socket (trusted: no
// password checked) for user and database db.
func (s *Server) SocketDSN(user, db string) string {
	return fmt.Sprintf("host=%s port=%d user=%s dbname=%s sslmode=disable", s.SocketDir, s.Port, user, db)
}

// TCPDSN returns a connection string over TCP for user and database db with
// the given password ("" for none).
func (s *Server) TCPDSN(user, password, db string) string {
	dsn := fmt.Sprintf("host=%s port=%d user=%s dbname=%s sslmode=disable", s.Host, s.Port, user, db)
	if password != "" {
		dsn += " password=" + password
	}
	return dsn
}

// SuperConn opens a superuser connection to db over the unix socket and
// closes it when the test ends.
func (s *Server) SuperConn(tb testing.TB, db string) *pgx.Conn {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.superDSN(db))
	if err != nil {
		tb.Fatalf("pgtest: connect as superuser to %q: %v", db, err)
	}
	tb.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

// Exec runs statements as the superuser in db, failing the test on error.
func (s *Server) Exec(tb testing.TB, db string, stmts ...string) {
	tb.Helper()
	conn := s.SuperConn(tb, db)
	for _, q := range stmts {
		if _, err := conn.Exec(context.Background(), q); err != nil {
			tb.Fatalf("pgtest: %s: %v", q, err)
		}
	}
}

var nonName = regexp.MustCompile(`[^a-z0-9]+`)

// UniqueName returns a lowercase name, unique within this server, derived
// from the test name: it starts with a letter, uses [a-z0-9_] and is at
// most 40 characters long.
func (s *Server) UniqueName(tb testing.TB) string {
	name := strings.TrimPrefix(strings.TrimPrefix(tb.Name(), "Test"), "Benchmark")
	base := strings.Trim(nonName.ReplaceAllString(strings.ToLower(name), "_"), "_")
	if len(base) > 30 {
		base = base[:30]
	}
	return fmt.Sprintf("t_%s_%d", strings.Trim(base, "_"), s.seq.Add(1))
}

// NewDatabase creates a fresh database owned by AdminUser and drops it when
// the test ends.
func (s *Server) NewDatabase(tb testing.TB) string {
	tb.Helper()
	name := s.UniqueName(tb)
	s.Exec(tb, "postgres", "CREATE DATABASE "+name+" OWNER "+AdminUser)
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, s.superDSN("postgres"))
		if err != nil {
			tb.Errorf("pgtest: drop database %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			tb.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	return name
}

// NewAdmin creates another RDS-master-like role (LOGIN CREATEDB CREATEROLE,
// not a member of rds_iam) with a random password, for tests that need an
// admin whose IAM authentication is not enabled yet. The role is dropped
// when the test ends.
func (s *Server) NewAdmin(tb testing.TB) (user, password string) {
	tb.Helper()
	user, password = s.UniqueName(tb), randomHex(16)
	stmts := []string{"CREATE ROLE " + user + " LOGIN CREATEDB CREATEROLE PASSWORD '" + password + "'"}
	if s.Version >= 16 {
		stmts = append(stmts, "GRANT rds_iam TO "+user+" WITH ADMIN OPTION, INHERIT FALSE, SET FALSE")
	}
	s.Exec(tb, "postgres", stmts...)
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, s.superDSN("postgres"))
		if err != nil {
			return
		}
		defer conn.Close(ctx)
		_, _ = conn.Exec(ctx, "DROP OWNED BY "+user)
		_, _ = conn.Exec(ctx, "DROP ROLE IF EXISTS "+user)
	})
	return user, password
}

// EnableAdminIAM makes AdminUser a member of rds_iam, as the manager's
// enable-iam-auth does on a new cluster; from then on the admin logs in over
// TCP without a password check (standing in for an IAM token).
func (s *Server) EnableAdminIAM(tb testing.TB) {
	tb.Helper()
	s.Exec(tb, "postgres", "GRANT rds_iam TO "+AdminUser)
}

// EnableTLS turns TLS on for TCP connections with the given server
// certificate chain and key (PEM), replacing any earlier ones. Clients
// without TLS (sslmode=disable, as most tests use) still connect: the
// pg_hba.conf lines are "host", which match both. The server reloads its
// configuration; EnableTLS returns once a new TCP connection negotiates
// TLS.
func (s *Server) EnableTLS(tb testing.TB, certPEM, keyPEM []byte) {
	tb.Helper()
	data := filepath.Join(s.dir, "data")
	files := map[string][]byte{"server.crt": certPEM, "server.key": keyPEM}
	for name, b := range files {
		p := filepath.Join(data, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			tb.Fatalf("pgtest: write %s: %v", name, err)
		}
		if s.cred != nil {
			if err := os.Chown(p, int(s.cred.Uid), int(s.cred.Gid)); err != nil {
				tb.Fatalf("pgtest: chown %s: %v", name, err)
			}
		}
	}
	s.Exec(tb, "postgres",
		"ALTER SYSTEM SET ssl = on",
		"ALTER SYSTEM SET ssl_cert_file = 'server.crt'",
		"ALTER SYSTEM SET ssl_key_file = 'server.key'",
		"SELECT pg_reload_conf()")
	// The postmaster applies the reload asynchronously: wait until a new
	// backend reports TLS with these files.
	deadline := time.Now().Add(20 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		var on bool
		conn, err := pgx.Connect(ctx, fmt.Sprintf("host=%s port=%d user=%s dbname=postgres sslmode=disable", s.SocketDir, s.Port, Superuser))
		if err == nil {
			err = conn.QueryRow(ctx, "SELECT current_setting('ssl') = 'on' AND pg_catalog.pg_read_file(current_setting('ssl_cert_file')) = $1", string(certPEM)).Scan(&on)
			_ = conn.Close(ctx)
		}
		cancel()
		if err == nil && on {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("pgtest: TLS not on after reload (%v); log:\n%s", err, s.tailLog())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Log returns the server log so far (for failure messages).
func (s *Server) Log() string {
	b, _ := os.ReadFile(s.logPath)
	return string(bytes.TrimSpace(b))
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
