package redis_test

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wharf-paas/wharf/internal/cdktest"
)

// The hostile-tenant test: the access strings of the synthesized template,
// applied with ACL SETUSER to a real redis-server (Debian's redis-server
// package, `make redis`), keep app "api" (a compromised tenant) away from
// app "worker"'s keys and channels and from every server-wide command,
// while "api" can still use its own keys. Passwords stand in for IAM
// authentication here (in AWS only the app's task role may sign a token for
// its user, which the IAM tests check).

// resp is a minimal RESP2 client: enough for ACL SETUSER, AUTH and the
// commands below.
type resp struct {
	c net.Conn
	r *bufio.Reader
}

func dial(t *testing.T, addr string) *resp {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(30 * time.Second))
	return &resp{c: c, r: bufio.NewReader(c)}
}

// do sends one command and returns its reply; a RESP error reply is
// returned as an error.
func (r *resp) do(args ...string) (interface{}, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := r.c.Write([]byte(b.String())); err != nil {
		return nil, err
	}
	return r.read()
}

func (r *resp) read() (interface{}, error) {
	line, err := r.r.ReadString('\n')
	if err != nil {
		return nil, err
	}
	line = strings.TrimSuffix(line, "\r\n")
	if line == "" {
		return nil, errors.New("empty reply")
	}
	switch line[0] {
	case '+':
		return line[1:], nil
	case '-':
		return nil, errors.New(line[1:])
	case ':':
		return strconv.ParseInt(line[1:], 10, 64)
	case '$':
		n, _ := strconv.Atoi(line[1:])
		if n < 0 {
			return nil, nil
		}
		buf := make([]byte, n+2)
		if _, err := ioReadFull(r.r, buf); err != nil {
			return nil, err
		}
		return string(buf[:n]), nil
	case '*':
		n, _ := strconv.Atoi(line[1:])
		out := make([]interface{}, 0, max(n, 0))
		for i := 0; i < n; i++ {
			v, err := r.read()
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	}
	return nil, fmt.Errorf("unexpected reply %q", line)
}

func ioReadFull(r *bufio.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := r.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// startRedis starts a throw-away redis-server on a free local port with
// no persistence and returns its address.
func startRedis(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("WHARF_E2E") != "" {
			t.Fatal("redis-server not found (run make redis, which installs Debian's redis-server)")
		}
		t.Skip("redis-server not found; make redis installs it (WHARF_E2E=1 makes this a failure)")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	dir := t.TempDir()
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", dir, "--daemonize", "no", "--protected-mode", "yes")
	cmd.Stdout, cmd.Stderr = nil, nil
	if err := cmd.Start(); err != nil {
		t.Fatalf("start redis-server: %v", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addr := "127.0.0.1:" + strconv.Itoa(port)
	for i := 0; ; i++ {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return addr
		}
		if i > 100 {
			t.Fatalf("redis-server did not listen on %s: %v", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// templateUsers returns user name -> access string of the synthesized
// users of the fixture's Redis "main".
func templateUsers(t *testing.T) map[string]string {
	f := getFixture(t)
	out := map[string]string{}
	for _, u := range cdktest.ResourcesOfType(f.tpl, "AWS::ElastiCache::User") {
		p := cdktest.Properties(u)
		out[p["UserName"].(string)] = p["AccessString"].(string)
	}
	return out
}

func TestHostileTenantACL(t *testing.T) {
	users := templateUsers(t)
	api, worker, def := users["wharf-app-api"], users["wharf-app-worker"], users["default"]
	if api == "" || worker == "" || def == "" {
		t.Fatalf("users %v", users)
	}
	addr := startRedis(t)
	admin := dial(t, addr)
	// Set the apps' users up as ElastiCache would (rules applied to a fresh
	// user), with a password standing in for IAM authentication, and an
	// admin for the setup; the default user last.
	setuser := func(name, access, password string) {
		t.Helper()
		args := append([]string{"ACL", "SETUSER", name, "reset"}, strings.Fields(access)...)
		if password != "" {
			args = append(args, ">"+password)
		}
		if _, err := admin.do(args...); err != nil {
			t.Fatalf("ACL SETUSER %s %s: %v", name, access, err)
		}
	}
	setuser("wharf-app-api", api, "api-token")
	setuser("wharf-app-worker", worker, "worker-token")
	setuser("setup", "on ~* &* +@all", "setup-token")
	if _, err := admin.do("AUTH", "setup", "setup-token"); err != nil {
		t.Fatal(err)
	}
	setuser("default", def, "")

	w := dial(t, addr)
	if _, err := w.do("AUTH", "wharf-app-worker", "worker-token"); err != nil {
		t.Fatalf("worker AUTH: %v", err)
	}
	for _, cmd := range [][]string{
		{"SET", "worker:secret", "s3cr3t"}, {"RPUSH", "worker:queue", "job1"}, {"HSET", "worker:h", "f", "v"},
		{"SET", "worker:session:8f1c", "user-7"}, {"SCRIPT", "LOAD", "return 1"},
	} {
		if _, err := w.do(cmd...); err != nil {
			t.Fatalf("worker %v: %v", cmd, err)
		}
	}

	a := dial(t, addr)
	if _, err := a.do("AUTH", "wharf-app-api", "api-token"); err != nil {
		t.Fatalf("api AUTH: %v", err)
	}
	// The tenant can use its own keys and channels (the test can fail).
	for _, cmd := range [][]string{
		{"SET", "api:x", "1"}, {"GET", "api:x"}, {"INCR", "api:n"}, {"EXPIRE", "api:x", "60"},
		{"PUBLISH", "api:events", "hi"}, {"EVAL", "return redis.call('GET', KEYS[1])", "1", "api:x"},
		{"MULTI"}, {"INCR", "api:n"}, {"EXEC"}, {"INFO", "server"}, {"PING"}, {"CLIENT", "SETNAME", "api-web"},
		{"RENAME", "api:n", "api:m"}, {"COPY", "api:m", "api:o"},
	} {
		if _, err := a.do(cmd...); err != nil {
			t.Errorf("api cannot %v on its own keys: %v", cmd, err)
		}
	}
	// And nothing of the other tenant's, nor anything server-wide.
	hostile := [][]string{
		{"GET", "worker:secret"}, {"SET", "worker:secret", "pwned"}, {"DEL", "worker:secret"},
		{"LPOP", "worker:queue"}, {"HGETALL", "worker:h"}, {"EXISTS", "worker:secret"}, {"TYPE", "worker:secret"},
		{"DUMP", "worker:secret"}, {"OBJECT", "ENCODING", "worker:secret"}, {"MEMORY", "USAGE", "worker:secret"},
		{"RENAME", "worker:secret", "api:stolen"}, {"COPY", "worker:secret", "api:stolen"},
		{"EVAL", "return redis.call('GET', 'worker:secret')", "0"},
		{"EVAL", "return redis.call('GET', KEYS[1])", "1", "worker:secret"},
		{"SORT", "api:list", "BY", "worker:*", "GET", "worker:*"},
		{"KEYS", "*"}, {"SCAN", "0"}, {"RANDOMKEY"},
		{"FLUSHALL"}, {"FLUSHDB"}, {"SWAPDB", "0", "1"},
		{"PUBLISH", "worker:events", "x"}, {"SUBSCRIBE", "worker:events"}, {"PSUBSCRIBE", "*"},
		{"SUBSCRIBE", "__keyspace@0__:worker:secret"}, {"PUBSUB", "CHANNELS"},
		{"CONFIG", "GET", "*"}, {"CONFIG", "SET", "maxmemory", "1"}, {"MONITOR"}, {"CLIENT", "LIST"},
		{"CLIENT", "KILL", "USER", "wharf-app-worker"}, {"ACL", "LIST"}, {"ACL", "SETUSER", "wharf-app-api", "~*"},
		{"ACL", "GETUSER", "wharf-app-worker"}, {"SLOWLOG", "GET"},
		{"FUNCTION", "FLUSH"}, {"FUNCTION", "LIST"}, {"MIGRATE", "127.0.0.1", "1", "worker:secret", "0", "10"},
		{"RESTORE", "worker:secret", "0", "x", "REPLACE"}, {"SHUTDOWN", "NOSAVE"}, {"BGSAVE"}, {"LATENCY", "DOCTOR"},
		{"AUTH", "wharf-app-worker", "guess"},
	}
	for _, cmd := range hostile {
		v, err := a.do(cmd...)
		if err == nil {
			t.Errorf("api ran %v against the other tenant or the server: %v", cmd, v)
			continue
		}
		if !strings.HasPrefix(err.Error(), "NOPERM") && !strings.HasPrefix(err.Error(), "WRONGPASS") &&
			!strings.HasPrefix(err.Error(), "ERR The user executing the script can't access") {
			t.Errorf("%v failed with %q, want a permission error (NOPERM)", cmd, err)
		}
	}
	// A connection that has not authenticated is the default user, off.
	anon := dial(t, addr)
	for _, cmd := range [][]string{{"GET", "worker:secret"}, {"KEYS", "*"}, {"SET", "api:x", "2"}} {
		if v, err := anon.do(cmd...); err == nil || !strings.HasPrefix(err.Error(), "NOAUTH") {
			t.Errorf("unauthenticated %v: %v %v, want NOAUTH", cmd, v, err)
		}
	}
	// The other tenant's data is intact.
	if v, err := w.do("GET", "worker:secret"); err != nil || v != "s3cr3t" {
		t.Errorf("worker:secret = %v, %v after the attack", v, err)
	}
	if v, err := w.do("LLEN", "worker:queue"); err != nil || v != int64(1) {
		t.Errorf("worker:queue length %v, %v after the attack", v, err)
	}
	// The rules match what ACL GETUSER reports for the user (the server
	// parsed every rule of the synthesized string).
	if v, err := admin.do("ACL", "DRYRUN", "wharf-app-api", "GET", "worker:x"); err != nil || !strings.Contains(fmt.Sprint(v), "no permissions") {
		t.Errorf("ACL DRYRUN api GET worker:x = %v, %v", v, err)
	}
}
