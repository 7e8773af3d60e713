// Package e2e runs the dashboard end to end: the built site (web/dist) in
// Debian's headless Chromium, driven by playwright-core (run.mjs), against
// the local world of internal/dashfake (OIDC with PKCE, test STS, kumo,
// awsfake, a CORS gateway). `make test` builds the site and sets
// WHARF_E2E=1, which turns a missing browser or build into a failure
// instead of a skip.
package e2e

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wharf-paas/wharf/internal/dashfake"
)

func prerequisites(t *testing.T) (web string) {
	t.Helper()
	web, _ = filepath.Abs("..")
	missing := ""
	switch {
	case !exists("/usr/bin/chromium"):
		missing = "/usr/bin/chromium (bash scripts/ensure-chromium.sh)"
	case !exists(filepath.Join(web, "node_modules", "playwright-core")):
		missing = "web/node_modules (npm ci in web/)"
	case !exists(filepath.Join(web, "dist", "index.html")):
		missing = "web/dist (npm run build in web/)"
	}
	if missing != "" {
		if os.Getenv("WHARF_E2E") == "1" {
			t.Fatalf("missing %s", missing)
		}
		t.Skipf("missing %s; make test installs it", missing)
	}
	return web
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

func world(t *testing.T, web string) *dashfake.World {
	t.Helper()
	w, err := dashfake.New(filepath.Join(web, "dist"), []dashfake.App{
		{Name: "api", Users: []string{"alice@example.com"}},
		{Name: "billing", Users: []string{"bob@example.com"}},
		{Name: "shop", Users: []string{"alice@example.com", "bob@example.com"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)
	if err := w.SetConfig(context.Background(), "billing", "STRIPE_KEY", "sk_live_billing_secret"); err != nil {
		t.Fatal(err)
	}
	return w
}

func runNode(t *testing.T, web string, w *dashfake.World, extra ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "e2e/run.mjs")
	cmd.Dir = web
	cmd.Env = append(append(os.Environ(), w.Env()...), append([]string{"WHARF_OUT=" + filepath.Join(web, "e2e", "out")}, extra...)...)
	out, err := cmd.CombinedOutput()
	t.Logf("browser run:\n%s", out)
	if err != nil {
		t.Fatalf("browser run failed: %v", err)
	}
	return string(out)
}

func TestDashboardInChromium(t *testing.T) {
	web := prerequisites(t)
	w := world(t, web)
	out := runNode(t, web, w)
	if !strings.Contains(out, "e2e: all steps passed") {
		t.Fatal("the browser run did not finish")
	}
	// What the browser did, seen from the AWS side.
	var sawPut, sawDelete bool
	for _, c := range w.Gateway.Calls() {
		if c.App == "billing" || strings.Contains(c.Resource, "/billing/") {
			t.Errorf("a call reached billing's resources: %+v", c)
		}
		if c.Denied {
			t.Errorf("the dashboard made a call its role does not allow: %+v", c)
		}
		if !dashfake.BrowserOperations[c.Service+"."+c.Op] {
			t.Errorf("%s.%s is not in dashfake.BrowserOperations, so the user role is not checked for it (constructs/app TestUserRoleAllowsTheDashboard)", c.Service, c.Op)
		}
		if c.Email != "alice@example.com" {
			t.Errorf("call not made as alice: %+v", c)
		}
		sawPut = sawPut || c.Op == "PutParameter"
		sawDelete = sawDelete || c.Op == "DeleteParameter"
	}
	if !sawPut || !sawDelete {
		t.Errorf("config writes did not reach SSM: put=%v delete=%v", sawPut, sawDelete)
	}
	if w.Denied()[dashfake.RoleARN("billing")] == 0 {
		t.Error("STS never refused alice on billing")
	}
}

// BenchmarkAppsPage measures the time from navigation to an apps page whose
// every row shows its status, against the local fakes (make bench-dashboard).
func BenchmarkAppsPage(b *testing.B) {
	web, _ := filepath.Abs("..")
	if !exists("/usr/bin/chromium") || !exists(filepath.Join(web, "dist", "index.html")) {
		b.Skip("needs chromium and web/dist")
	}
	w, err := dashfake.New(filepath.Join(web, "dist"), []dashfake.App{
		{Name: "api", Users: []string{"alice@example.com"}},
		{Name: "billing", Users: []string{"bob@example.com"}},
		{Name: "shop", Users: []string{"alice@example.com"}},
	})
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	cmd := exec.Command("node", "e2e/run.mjs")
	cmd.Dir = web
	cmd.Env = append(append(os.Environ(), w.Env()...), "WHARF_OUT="+filepath.Join(web, "e2e", "out"), "WHARF_BENCH="+strconv.Itoa(max(b.N, 5)))
	out, err := cmd.CombinedOutput()
	if err != nil {
		b.Fatalf("%v\n%s", err, out)
	}
	var res struct {
		MedianMs float64 `json:"medianMs"`
		AwsCalls float64 `json:"awsCalls"`
	}
	var line string
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "{") {
			line = l
		}
	}
	if err := json.Unmarshal([]byte(line), &res); err != nil {
		b.Fatalf("%v\n%s", err, out)
	}
	b.ReportMetric(res.MedianMs, "ms/apps-page")
	b.ReportMetric(res.AwsCalls, "aws-calls/apps-page")
}
