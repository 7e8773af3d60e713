package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestLoginAndApps: a device-code login verified end to end; tokens in
// the cache directory with private modes; `apps` probes STS, whose
// decision comes from the synthesized trust policies.
func TestLoginAndApps(t *testing.T) {
	w := getWorld(t)
	h := w.newHome(t)
	// Only this test's STS calls: earlier tests of the shared world ask
	// for other durations (exec and shell ask for an hour).
	stsBefore := len(w.sts.Calls())

	if r := h.run(t, "", "whoami"); r.code != ExitLogin {
		t.Errorf("whoami before login: exit %d, want %d\n%s", r.code, ExitLogin, r.stderr)
	}
	r := h.login(t, "alice-0001")
	if r.code != 0 || !strings.Contains(r.stderr, "Logged in as alice@example.com") {
		t.Fatalf("login: exit %d\n%s", r.code, r.stderr)
	}
	// Files: 0700 directories, 0600 session.
	sessionFile := filepath.Join(h.dir, ".cache", "wharf", "session.json")
	st, err := os.Stat(sessionFile)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("session.json mode %v, want 0600", st.Mode().Perm())
	}
	if st, _ := os.Stat(filepath.Dir(sessionFile)); st.Mode().Perm() != 0o700 {
		t.Errorf("cache dir mode %v, want 0700", st.Mode().Perm())
	}
	if _, err := os.Stat(filepath.Join(h.dir, ".config", "wharf", "platform.json")); err != nil {
		t.Errorf("platform descriptor not remembered: %v", err)
	}

	r = h.run(t, "", "whoami", "--json")
	var who map[string]string
	if err := json.Unmarshal([]byte(r.stdout), &who); err != nil || who["email"] != "alice@example.com" || who["sub"] != "alice-0001" {
		t.Errorf("whoami --json = %q (%v)", r.stdout, err)
	}

	r = h.run(t, "", "apps", "--json")
	var apps []appAccess
	if err := json.Unmarshal([]byte(r.stdout), &apps); err != nil || r.code != 0 {
		t.Fatalf("apps --json: exit %d %v\n%s\n%s", r.code, err, r.stdout, r.stderr)
	}
	access := map[string]string{}
	for _, a := range apps {
		access[a.Name] = a.Access
	}
	if access["api"] != "yes" || access["web"] != "no" {
		t.Errorf("apps access = %v, want api yes (email in allowedUsers, case-insensitively) and web no", access)
	}
	// STS saw the sanitized email as session name and a 15-minute session.
	var sawAPI bool
	for _, c := range w.sts.Calls()[stsBefore:] {
		if strings.HasSuffix(c.RoleARN, "wharf-app-api-user") && c.ErrorCode == "" {
			sawAPI = true
			if c.SessionName != "alice@example.com" || c.Duration != 900 {
				t.Errorf("AssumeRoleWithWebIdentity session %q duration %d", c.SessionName, c.Duration)
			}
		}
	}
	if !sawAPI {
		t.Error("no successful AssumeRoleWithWebIdentity for api")
	}
	// Piped output is plain tab-separated text.
	r = h.run(t, "", "apps")
	if !strings.HasPrefix(r.stdout, "APP\tACCESS\tURL") || strings.Contains(r.stdout, "\x1b[") || strings.Contains(r.stdout, "│") {
		t.Errorf("piped apps output is not plain:\n%s", r.stdout)
	}

	// Working on an app the trust policy refuses: exit 4 with the reason.
	r = h.run(t, "", "info", "-a", "web")
	if r.code != ExitNotAllowed || !strings.Contains(r.stderr, "not allowed on app web") {
		t.Errorf("info -a web: exit %d\n%s", r.code, r.stderr)
	}

	// Logout deletes the tokens and revokes the refresh token.
	before := len(w.oidc.Revocations())
	if r := h.run(t, "", "logout"); r.code != 0 {
		t.Fatalf("logout: %d %s", r.code, r.stderr)
	}
	if _, err := os.Stat(sessionFile); !os.IsNotExist(err) {
		t.Errorf("session.json still there after logout: %v", err)
	}
	if len(w.oidc.Revocations()) != before+1 {
		t.Errorf("revocations %d -> %d, want one more", before, len(w.oidc.Revocations()))
	}
	if r := h.run(t, "", "info", "-a", "api"); r.code != ExitLogin {
		t.Errorf("info after logout: exit %d, want %d", r.code, ExitLogin)
	}
}

// TestLoginBySubject: sam's email is on no list; the trust policy's
// allowedSubjects statement admits him by his stable ID.
func TestLoginBySubject(t *testing.T) {
	w := getWorld(t)
	h := w.newHome(t)
	h.mustLogin(t, "sam-0002")
	r := h.run(t, "", "apps", "--json")
	var apps []appAccess
	if err := json.Unmarshal([]byte(r.stdout), &apps); err != nil || len(apps) != 2 {
		t.Fatalf("apps --json: %v\n%s\n%s", err, r.stdout, r.stderr)
	}
	for _, a := range apps {
		if (a.Name == "api") != (a.Access == "yes") {
			t.Errorf("sam on %s: %s (%s)", a.Name, a.Access, a.Detail)
		}
	}
}

// TestLoginFailures: a refused code, an ID token without email, and a
// user on no list.
func TestLoginFailures(t *testing.T) {
	w := getWorld(t)
	h := w.newHome(t)
	if r := h.login(t, ""); r.code != ExitLogin || !strings.Contains(r.stderr, "access_denied") {
		t.Errorf("denied login: exit %d\n%s", r.code, r.stderr)
	}
	r := h.login(t, "noemail-0004")
	if r.code != ExitLogin || !strings.Contains(r.stderr, "no email claim") || !strings.Contains(r.stderr, "'email' scope") {
		t.Errorf("login without email: exit %d\n%s", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(h.dir, ".cache", "wharf", "session.json")); !os.IsNotExist(err) {
		t.Error("a login without email left a session behind")
	}
	h.mustLogin(t, "mallory-0003")
	r = h.run(t, "", "config", "list", "-a", "api")
	if r.code != ExitNotAllowed {
		t.Errorf("mallory on api: exit %d\n%s", r.code, r.stderr)
	}
	for _, c := range w.sts.Calls() {
		if c.SessionName == "mallory@example.com" && strings.HasSuffix(c.RoleARN, "api-user") && c.ErrorCode != "AccessDenied" {
			t.Errorf("STS answered %q for mallory on api", c.ErrorCode)
		}
	}
}

// TestRefreshAndCachedCredentials: an ID token near its expiry is
// refreshed with the refresh token; credentials are cached (one STS call
// for two commands) and renewed when they run out.
func TestRefreshAndCachedCredentials(t *testing.T) {
	w := getWorld(t)
	h := w.newHome(t)
	h.mustLogin(t, "alice-0001")
	calls := func() int {
		n := 0
		for _, c := range w.sts.Calls() {
			if c.SessionName == "alice@example.com" && strings.HasSuffix(c.RoleARN, "api-user") {
				n++
			}
		}
		return n
	}
	base := calls()
	for i := 0; i < 2; i++ {
		if r := h.run(t, "", "config", "list", "-a", "api"); r.code != 0 {
			t.Fatalf("config list: %d %s", r.code, r.stderr)
		}
	}
	if got := calls() - base; got != 1 {
		t.Errorf("STS calls for two commands = %d, want 1 (cached credentials)", got)
	}
	credFile := filepath.Join(h.dir, ".cache", "wharf", "credentials", "api.json")
	if st, err := os.Stat(credFile); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("credentials cache %v %v", st, err)
	}

	// Make the ID token look about to expire: the next command refreshes.
	sessionFile := filepath.Join(h.dir, ".cache", "wharf", "session.json")
	var s session
	data, _ := os.ReadFile(sessionFile)
	_ = json.Unmarshal(data, &s)
	oldToken := s.IDToken
	s.Expiry = time.Now().Add(30 * time.Second)
	data, _ = json.Marshal(s)
	_ = os.WriteFile(sessionFile, data, 0o600)
	// And the cached credentials expired at STS.
	w.sts.Expire()
	_ = os.Remove(credFile)
	if r := h.run(t, "", "config", "list", "-a", "api"); r.code != 0 {
		t.Fatalf("config list after expiry: %d %s", r.code, r.stderr)
	}
	data, _ = os.ReadFile(sessionFile)
	_ = json.Unmarshal(data, &s)
	if s.IDToken == oldToken || time.Until(s.Expiry) < 10*time.Minute {
		t.Errorf("ID token not refreshed (expiry %s)", s.Expiry)
	}
	// A refresh token the issuer no longer accepts: "login expired".
	s.Expiry = time.Now().Add(-time.Minute)
	s.RefreshToken = "revoked"
	data, _ = json.Marshal(s)
	_ = os.WriteFile(sessionFile, data, 0o600)
	_ = os.RemoveAll(filepath.Dir(credFile))
	if r := h.run(t, "", "info", "-a", "api"); r.code != ExitLogin || !strings.Contains(r.stderr, "login expired") {
		t.Errorf("with a dead refresh token: exit %d\n%s", r.code, r.stderr)
	}
}

// TestNetworkErrors: an unreachable issuer or STS is exit 5, not a login
// or permission error.
func TestNetworkErrors(t *testing.T) {
	w := getWorld(t)
	h := w.newHome(t)
	h.mustLogin(t, "alice-0001")
	closed := "http://127.0.0.1:1"
	off := w.newHome(t)
	off.dir = h.dir
	off.env = append(append([]string{}, h.env...), "AWS_ENDPOINT_URL_STS="+closed)
	if r := off.run(t, "", "info", "-a", "api"); r.code != ExitNetwork {
		t.Errorf("STS unreachable: exit %d\n%s", r.code, r.stderr)
	}
	noProxy := w.newHome(t)
	noProxy.env = append(append([]string{}, noProxy.env...), "HTTPS_PROXY="+closed)
	if r := noProxy.login(t, "alice-0001"); r.code != ExitNetwork {
		t.Errorf("issuer unreachable: exit %d\n%s", r.code, r.stderr)
	}
}
