package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go"

	"github.com/wharf-paas/wharf/contract"
)

// param reads a parameter from kumo ("" when it does not exist).
func (w *world) param(t testing.TB, name string) string {
	t.Helper()
	out, err := w.ssm().GetParameter(context.Background(), &ssm.GetParameterInput{Name: aws.String(name), WithDecryption: aws.Bool(true)})
	var nf *ssmtypes.ParameterNotFound
	if errors.As(err, &nf) {
		return ""
	}
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.Parameter.Value)
}

func (w *world) putStatusOf(t testing.TB, app string, st map[string]any) {
	t.Helper()
	b, _ := json.Marshal(st)
	if _, err := w.ssm().PutParameter(context.Background(), &ssm.PutParameterInput{Name: aws.String("/wharf/apps/" + app + "/status"),
		Value: aws.String(string(b)), Type: "String", Overwrite: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
}

// startRun runs wharf in the background.
func (h *home) startRun(t *testing.T, args ...string) <-chan result {
	ch := make(chan result, 1)
	go func() { ch <- h.run(t, "", args...) }()
	return ch
}

// awaitParam waits until the parameter's value differs from old (the CLI
// wrote it); the CLI's own timeout bounds the wait.
func (w *world) awaitParam(t *testing.T, name, old string, running <-chan result) string {
	t.Helper()
	for {
		if v := w.param(t, name); v != "" && v != old {
			return v
		}
		select {
		case r := <-running:
			t.Fatalf("wharf exited before writing %s: %d\n%s", name, r.code, r.stderr)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// TestScale: show, set counts, ranges and sizes, reset one process and
// all; bad arguments are refused before anything is written, naming the
// argument; every call is authorized by the api user role.
func TestScale(t *testing.T) {
	h := alice(t)
	w := h.w
	const param = "/wharf/apps/api/scale"
	w.putStatus(t, map[string]any{"version": 1, "app": "api", "phase": "deployed", "build": 3,
		"processes": map[string]any{"web": map[string]int{"desired": 2}, "worker": map[string]int{"desired": 1}}, "updatedAt": "2026-12-06T01:00:00Z"})

	r := h.run(t, "", "scale", "-a", "api", "--json")
	var show scaleOutput
	if err := json.Unmarshal([]byte(r.stdout), &show); err != nil || r.code != 0 {
		t.Fatalf("scale --json: %d %v\n%s\n%s", r.code, err, r.stdout, r.stderr)
	}
	if show.Setting != nil || len(show.Processes) != 2 || show.Processes[0].Source != "build" || *show.Processes[0].Desired != 2 {
		t.Errorf("scale with no setting: %+v", show)
	}

	r = h.run(t, "", "scale", "-a", "api", "web=3", "worker=0", "--cpu", "512", "--memory", "1024")
	if r.code != 0 || !strings.Contains(r.stderr, "next reconcile") || !strings.Contains(r.stderr, "wharf status") {
		t.Fatalf("scale web=3 worker=0: %d\n%s", r.code, r.stderr)
	}
	s, err := contract.ParseScaleSetting([]byte(w.param(t, param)))
	if err != nil {
		t.Fatalf("stored setting: %v", err)
	}
	if web := s.Processes["web"]; web.Count == nil || *web.Count != 3 || web.CPU != 512 || web.Memory != 1024 || s.UpdatedBy != "alice@example.com" {
		t.Errorf("stored web: %+v by %q", web, s.UpdatedBy)
	}
	if wk := s.Processes["worker"]; wk.Count == nil || *wk.Count != 0 {
		t.Errorf("stored worker: %+v", wk)
	}
	w.sawAllowed(t, "ssm:PutParameter "+ssmArn(param))

	// A range with a target; worker and the size stay.
	if r := h.run(t, "", "scale", "-a", "api", "web=2-10", "--cpu-target", "70"); r.code != 0 {
		t.Fatalf("scale web=2-10: %d %s", r.code, r.stderr)
	}
	s, _ = contract.ParseScaleSetting([]byte(w.param(t, param)))
	if web := s.Processes["web"]; web.Count != nil || web.Min != 2 || web.Max != 10 || web.CPUTarget != 70 || web.CPU != 512 || s.Processes["worker"].Count == nil {
		t.Errorf("after web=2-10: %+v", s.Processes)
	}
	r = h.run(t, "", "scale", "-a", "api", "--json")
	show = scaleOutput{}
	_ = json.Unmarshal([]byte(r.stdout), &show)
	if show.Setting == nil || len(show.Processes) != 2 || show.Processes[0].Name != "web" || show.Processes[0].Source != "scale" || show.Processes[0].Setting.Max != 10 {
		t.Errorf("scale --json after a change: %s", r.stdout)
	}
	r = h.run(t, "", "scale", "-a", "api")
	if !strings.Contains(r.stdout, "web\tscale\t2-10 cpu 70% 512/1024\t2") {
		t.Errorf("scale table (not a terminal: tab-separated):\n%s", r.stdout)
	}

	// Bad input: a usage error naming the argument, nothing written.
	before := w.param(t, param)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"web=lots"}, `"web=lots"`},
		{[]string{"web=2", "Worker=1"}, `"Worker=1"`},
		{[]string{"web=1-3", "--cpu", "256", "--memory", "4096"}, "--memory 4096"},
		{[]string{"worker=1-3", "--requests-per-target", "100"}, `"worker=1-3"`},
		{[]string{"--reset", "web=2"}, `"web=2"`},
	} {
		r := h.run(t, "", append([]string{"scale", "-a", "api"}, c.args...)...)
		if r.code != ExitUsage || !strings.Contains(r.stderr, c.want) {
			t.Errorf("scale %v: exit %d, want 2 naming %s:\n%s", c.args, r.code, c.want, r.stderr)
		}
	}
	if w.param(t, param) != before {
		t.Error("a refused scale command changed the setting")
	}

	// Reset one process, then all.
	if r := h.run(t, "", "scale", "-a", "api", "--reset", "worker"); r.code != 0 {
		t.Fatalf("reset worker: %d %s", r.code, r.stderr)
	}
	s, _ = contract.ParseScaleSetting([]byte(w.param(t, param)))
	if _, ok := s.Processes["worker"]; ok || s.Processes["web"].Max != 10 {
		t.Errorf("after --reset worker: %+v", s.Processes)
	}
	if r := h.run(t, "", "scale", "-a", "api", "--reset"); r.code != 0 || !strings.Contains(r.stderr, "returns to the build") {
		t.Fatalf("reset: %d %s", r.code, r.stderr)
	}
	if v := w.param(t, param); v != "" {
		t.Errorf("after --reset the parameter is still there: %s", v)
	}
	w.sawAllowed(t, "ssm:DeleteParameter "+ssmArn(param))
	if r := h.run(t, "", "scale", "-a", "api", "--reset"); r.code != 0 || !strings.Contains(r.stderr, "no scale setting") {
		t.Errorf("reset with nothing set: %d %s", r.code, r.stderr)
	}
}

// TestScaleWait: --wait follows the status document until the published
// desired count is the one asked for.
func TestScaleWait(t *testing.T) {
	h := alice(t)
	w := h.w
	const param = "/wharf/apps/api/scale"
	w.putStatus(t, map[string]any{"version": 1, "app": "api", "phase": "deployed", "build": 3,
		"processes": map[string]any{"web": map[string]int{"desired": 2}}, "updatedAt": "2026-12-06T01:10:00Z"})
	old := w.param(t, param)
	running := h.startRun(t, "scale", "-a", "api", "web=4", "--wait", "--timeout", "30s")
	w.awaitParam(t, param, old, running)
	// An unrelated status (still 2) does not end the wait ...
	w.putStatus(t, map[string]any{"version": 1, "app": "api", "phase": "deploying", "build": 3, "op": map[string]any{"kind": "scale", "step": "services"},
		"processes": map[string]any{"web": map[string]int{"desired": 2}}, "updatedAt": "2026-12-06T01:11:00Z"})
	// ... the applied one does.
	w.putStatus(t, map[string]any{"version": 1, "app": "api", "phase": "deployed", "build": 3,
		"processes": map[string]any{"web": map[string]int{"desired": 4}}, "updatedAt": "2026-12-06T01:12:00Z"})
	r := <-running
	if r.code != 0 || !strings.Contains(r.stderr, "Waiting for the control plane to apply the scale setting") || !strings.Contains(r.stderr, "deployed, build #3") {
		t.Errorf("scale --wait: %d\n%s", r.code, r.stderr)
	}

	// A refusal published after the write ends the wait with exit 6.
	old = w.param(t, param)
	running = h.startRun(t, "scale", "-a", "api", "web=900", "--wait", "--timeout", "30s")
	w.awaitParam(t, param, old, running)
	w.putStatus(t, map[string]any{"version": 1, "app": "api", "phase": "deployed", "build": 3,
		"processes": map[string]any{"web": map[string]int{"desired": 4}}, "updatedAt": "2026-12-06T01:13:00Z",
		"refusals": []map[string]any{{"request": "scale", "reason": "scale_refused", "detail": "web: 900 is over the cap of 50"}}})
	if r := <-running; r.code != ExitFailed || !strings.Contains(r.stderr, "refused the scale setting of api: scale_refused: web: 900 is over the cap of 50") {
		t.Errorf("scale --wait, refused: %d\n%s", r.code, r.stderr)
	}
	if r := h.run(t, "", "scale", "-a", "api"); !strings.Contains(r.stderr, "The control plane refused the scale setting: scale_refused") {
		t.Errorf("scale shows no refusal:\n%s", r.stderr)
	}
	_ = h.run(t, "", "scale", "-a", "api", "--reset")
}

// TestRestart: a fresh request each time, a bad --process refused.
func TestRestart(t *testing.T) {
	h := alice(t)
	w := h.w
	const param = "/wharf/apps/api/restart"
	w.putStatus(t, map[string]any{"version": 1, "app": "api", "phase": "deployed", "build": 3,
		"processes": map[string]any{"web": map[string]int{"desired": 2}, "worker": map[string]int{"desired": 1}}, "updatedAt": "2026-12-06T01:20:00Z"})
	r := h.run(t, "", "restart", "-a", "api", "--process", "web", "--json")
	if r.code != 0 {
		t.Fatalf("restart: %d %s", r.code, r.stderr)
	}
	first, err := contract.ParseRestartRequest([]byte(w.param(t, param)))
	if err != nil || first.Process != "web" || first.RequestedBy != "alice@example.com" {
		t.Fatalf("stored restart: %+v %v", first, err)
	}
	var printed contract.RestartRequest
	if json.Unmarshal([]byte(r.stdout), &printed) != nil || printed.ID != first.ID {
		t.Errorf("--json printed %s, stored %s", r.stdout, first.ID)
	}
	if r := h.run(t, "", "restart", "-a", "api"); r.code != 0 {
		t.Fatalf("restart all: %d %s", r.code, r.stderr)
	}
	second, _ := contract.ParseRestartRequest([]byte(w.param(t, param)))
	if second.ID == first.ID || second.Process != "" {
		t.Errorf("second restart: %+v (first %s)", second, first.ID)
	}
	w.sawAllowed(t, "ssm:PutParameter "+ssmArn(param))
	for _, bad := range []string{"nope", "Web"} {
		if r := h.run(t, "", "restart", "-a", "api", "--process", bad); r.code != ExitUsage || !strings.Contains(r.stderr, "--process "+bad) {
			t.Errorf("--process %s: %d %s", bad, r.code, r.stderr)
		}
	}

	// --wait: a restart that fails exits 6 with the reason.
	old := w.param(t, param)
	running := h.startRun(t, "restart", "-a", "api", "--wait", "--timeout", "30s")
	w.awaitParam(t, param, old, running)
	w.putStatus(t, map[string]any{"version": 1, "app": "api", "phase": "deploying", "build": 3, "op": map[string]any{"kind": "restart", "build": 3, "step": "rollout"},
		"updatedAt": "2026-12-06T01:21:00Z"})
	w.putStatus(t, map[string]any{"version": 1, "app": "api", "phase": "failed", "build": 3, "reason": "ServicesUnhealthy", "detail": "web never became healthy",
		"updatedAt": "2026-12-06T01:22:00Z"})
	if r := <-running; r.code != ExitFailed || !strings.Contains(r.stderr, "ServicesUnhealthy") || !strings.Contains(r.stderr, "Waiting for the restart") {
		t.Errorf("restart --wait of a failing restart: %d\n%s", r.code, r.stderr)
	}
	// A refusal of this request (its ID) ends the wait with exit 6.
	old = w.param(t, param)
	running = h.startRun(t, "restart", "-a", "api", "--wait", "--timeout", "30s")
	req, _ := contract.ParseRestartRequest([]byte(w.awaitParam(t, param, old, running)))
	w.putStatus(t, map[string]any{"version": 1, "app": "api", "phase": "failed", "build": 3, "updatedAt": "2026-12-06T01:23:00Z",
		"refusals": []map[string]any{{"request": "restart", "id": req.ID, "reason": "restart_refused", "detail": "nothing is deployed yet"}}})
	if r := <-running; r.code != ExitFailed || !strings.Contains(r.stderr, "refused the restart of api: restart_refused: nothing is deployed yet") {
		t.Errorf("restart --wait, refused: %d\n%s", r.code, r.stderr)
	}
}

// mallory is the web app's user; the rollback tests use web so that api's
// deploy history (TestLogsAndDeploys) stays as it is.
func mallory(t *testing.T) *home {
	w := getWorld(t)
	h := w.newHome(t)
	h.mustLogin(t, "mallory-0003")
	return h
}

// TestRollback: the previous successful build from the history, an
// explicit build, refusals, confirmation off a terminal, --wait.
func TestRollback(t *testing.T) {
	h := mallory(t)
	w := h.w
	const param = "/wharf/apps/web/rollback"
	for _, ev := range []map[string]any{
		{"time": "2026-12-06T00:05:00Z", "app": "web", "build": 5, "kind": "build", "event": "deploy", "outcome": "deployed"},
		{"time": "2026-12-06T00:06:00Z", "app": "web", "build": 6, "kind": "build", "event": "deploy", "outcome": "failed", "reason": "ReleaseFailed"},
		{"time": "2026-12-06T00:07:00Z", "app": "web", "build": 7, "kind": "build", "event": "deploy", "outcome": "deployed"},
	} {
		b, _ := json.Marshal(ev)
		w.putLogs(t, "/wharf/apps/web/activity", fmt.Sprintf("build-%d", ev["build"]), string(b))
	}
	w.putStatusOf(t, "web", map[string]any{"version": 1, "app": "web", "phase": "deployed", "build": 7, "deployed": map[string]any{"build": 7},
		"updatedAt": "2026-12-06T00:07:00Z"})

	// Off a terminal without --yes: refused, nothing written.
	if r := h.run(t, "y\n", "rollback", "-a", "web"); r.code != ExitUsage || !strings.Contains(r.stderr, "--yes") {
		t.Errorf("rollback without --yes off a terminal: %d %s", r.code, r.stderr)
	}
	if v := w.param(t, param); v != "" {
		t.Fatalf("a refused rollback wrote %s", v)
	}
	r := h.run(t, "", "rollback", "-a", "web", "--yes", "--json")
	if r.code != 0 || !strings.Contains(r.stderr, "build #5") {
		t.Fatalf("rollback: %d %s", r.code, r.stderr)
	}
	rb, err := contract.ParseRollbackRequest([]byte(w.param(t, param)))
	if err != nil || rb.Build != 5 || rb.RequestedBy != "mallory@example.com" {
		t.Errorf("stored rollback: %+v %v", rb, err)
	}
	w.sawAllowed(t, "ssm:PutParameter "+ssmArn(param))
	for _, c := range []struct{ arg, want string }{{"6", "never deployed successfully"}, {"x", `BUILD "x"`}, {"0", `BUILD "0"`}} {
		if r := h.run(t, "", "rollback", "-a", "web", c.arg, "--yes"); r.code != ExitUsage || !strings.Contains(r.stderr, c.want) {
			t.Errorf("rollback %s: %d %s", c.arg, r.code, r.stderr)
		}
	}
	// --wait until build 5 is deployed.
	old := w.param(t, param)
	running := h.startRun(t, "rollback", "-a", "web", "5", "--yes", "--wait", "--timeout", "30s")
	w.awaitParam(t, param, old, running)
	w.putStatusOf(t, "web", map[string]any{"version": 1, "app": "web", "phase": "deploying", "build": 5, "op": map[string]any{"kind": "rollback", "build": 5, "step": "services"},
		"deployed": map[string]any{"build": 7}, "updatedAt": "2026-12-06T00:08:00Z"})
	w.putStatusOf(t, "web", map[string]any{"version": 1, "app": "web", "phase": "deployed", "build": 5, "deployed": map[string]any{"build": 5},
		"updatedAt": "2026-12-06T00:09:00Z"})
	if r := <-running; r.code != 0 || !strings.Contains(r.stderr, "Waiting for the rollback to build #5") || !strings.Contains(r.stderr, "web: deployed, build #5") {
		t.Errorf("rollback --wait: %d\n%s", r.code, r.stderr)
	}
}

// TestTerminalRollbackConfirm: on a terminal wharf asks; "n" writes
// nothing, "y" writes the request.
func TestTerminalRollbackConfirm(t *testing.T) {
	h := mallory(t)
	w := h.w
	const param = "/wharf/apps/web/rollback"
	b, _ := json.Marshal(map[string]any{"time": "2026-12-06T00:05:00Z", "app": "web", "build": 5, "kind": "build", "event": "deploy", "outcome": "deployed"})
	w.putLogs(t, "/wharf/apps/web/activity", "build-5", string(b))
	w.putStatusOf(t, "web", map[string]any{"version": 1, "app": "web", "phase": "deployed", "build": 7, "deployed": map[string]any{"build": 7}, "updatedAt": "2026-12-06T00:10:00Z"})
	old := w.param(t, param)
	for _, answer := range []string{"n", "y"} {
		p := h.startPTY(t, []string{"NO_COLOR=1"}, "rollback", "-a", "web", "5")
		p.waitFor(t, "Roll back web to build #5 (deployed now: #7)? [y/N]")
		_, _ = p.tty.Write([]byte(answer + "\n"))
		code := p.wait(t)
		switch answer {
		case "n":
			if code != ExitError || !strings.Contains(p.output(), "cancelled") || w.param(t, param) != old {
				t.Errorf("answer n: exit %d, parameter changed: %v\n%q", code, w.param(t, param) != old, p.output())
			}
		case "y":
			if code != 0 || w.param(t, param) == old {
				t.Errorf("answer y: exit %d, parameter unchanged: %v\n%q", code, w.param(t, param) == old, p.output())
			}
			if strings.Contains(p.output(), "\x1b[3") {
				t.Errorf("colour with NO_COLOR: %q", p.output())
			}
		}
	}
}

// TestTerminalScaleTable: a bordered table on a terminal, no escape codes
// with NO_COLOR.
func TestTerminalScaleTable(t *testing.T) {
	h := alice(t)
	w := h.w
	w.putStatus(t, map[string]any{"version": 1, "app": "api", "phase": "deployed", "build": 3,
		"processes": map[string]any{"web": map[string]int{"desired": 2}}, "updatedAt": "2026-12-06T01:30:00Z"})
	p := h.startPTY(t, []string{"NO_COLOR=1"}, "scale", "-a", "api")
	if c := p.wait(t); c != 0 {
		t.Fatalf("scale: %d %q", c, p.output())
	}
	if out := p.output(); !strings.Contains(out, "│") || !strings.Contains(out, "PROCESS") || strings.Contains(out, "\x1b[") {
		t.Errorf("scale on a terminal with NO_COLOR: want a table without escape codes:\n%q", out)
	}
}

// TestAttackRuntimeRequestsOfAnotherApp: mallory, a user of web only,
// takes her web credentials (as a modified CLI or the AWS CLI would) and
// writes api's scale, restart and rollback requests, and web's own
// settings and status. The guard evaluates each against web's synthesized
// user role: all denied, nothing written.
func TestAttackRuntimeRequestsOfAnotherApp(t *testing.T) {
	h := mallory(t)
	w := h.w
	if r := h.run(t, "", "scale", "-a", "web"); r.code != 0 {
		t.Fatalf("scale -a web: %d %s", r.code, r.stderr)
	}
	var cc cachedCredentials
	if ok, err := readJSON(filepath.Join(h.dir, ".cache", "wharf", "credentials", "web.json"), &cc); !ok || err != nil {
		t.Fatalf("no cached web credentials: %v", err)
	}
	client := ssm.NewFromConfig(aws.Config{Region: testRegion, RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(cc.AccessKeyID, cc.SecretAccessKey, cc.SessionToken)},
		func(o *ssm.Options) { o.BaseEndpoint = aws.String(w.guard.URL) })
	ctx := context.Background()
	for _, name := range []string{"/wharf/apps/api/scale", "/wharf/apps/api/restart", "/wharf/apps/api/rollback", "/wharf/apps/web/settings", "/wharf/apps/web/status"} {
		before := w.param(t, name)
		_, err := client.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String(name), Value: aws.String(`{"version":1,"id":"x","build":1,"processes":{"web":{"count":100}}}`),
			Type: "String", Overwrite: aws.Bool(true)})
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDeniedException" {
			t.Errorf("PutParameter %s with web's credentials: %v, want AccessDenied", name, err)
		}
		w.expectDenied(t, "ssm:PutParameter on resource: "+ssmArn(name))
		if w.param(t, name) != before {
			t.Errorf("%s changed", name)
		}
		if _, err := client.DeleteParameter(ctx, &ssm.DeleteParameterInput{Name: aws.String(name)}); err == nil {
			t.Errorf("DeleteParameter %s with web's credentials succeeded", name)
		}
		w.expectDenied(t, "ssm:DeleteParameter on resource: "+ssmArn(name))
	}
	// Her own app's requests are hers to write.
	if _, err := client.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/wharf/apps/web/restart"), Value: aws.String(`{"version":1,"id":"own"}`),
		Type: "String", Overwrite: aws.Bool(true)}); err != nil {
		t.Errorf("web's own restart: %v", err)
	}
}

// TestDB: db url for a user; create, sql and destroy for an administrator
// through the real database manager handler; refusals.
func TestDB(t *testing.T) {
	h := alice(t)
	w := h.w
	ctx := context.Background()
	url := "postgres://api@wharf-main.cluster-abc.eu-west-1.rds.amazonaws.com:5432/api?sslmode=require"
	if _, err := w.ssm().PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/wharf/apps/api/config/DATABASE_URL"), Value: aws.String(url),
		Type: "String", Overwrite: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	r := h.run(t, "", "db", "url", "-a", "api")
	if r.code != 0 || strings.TrimSpace(r.stdout) != url || !strings.Contains(r.stderr, "IAM auth token") {
		t.Errorf("db url: %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	r = h.run(t, "", "db", "url", "-a", "api", "--json")
	var u dbURL
	if json.Unmarshal([]byte(r.stdout), &u) != nil || u.Auth != "iam" || u.Host != "wharf-main.cluster-abc.eu-west-1.rds.amazonaws.com" || u.User != "api" {
		t.Errorf("db url --json: %s", r.stdout)
	}
	// A URL with a password: the password is never printed.
	if _, err := w.ssm().PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/wharf/apps/api/config/DATABASE_URL"), Value: aws.String("postgres://api:hunter2@db.internal/api"),
		Type: "SecureString", Overwrite: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"db", "url", "-a", "api"}, {"db", "url", "-a", "api", "--json"}} {
		r := h.run(t, "", args...)
		if r.code != 0 || strings.Contains(r.stdout+r.stderr, "hunter2") || !strings.Contains(r.stdout, "password hidden") {
			t.Errorf("%v with a password: %d\n%s\n%s", args, r.code, r.stdout, r.stderr)
		}
	}
	_, _ = w.ssm().DeleteParameter(ctx, &ssm.DeleteParameterInput{Name: aws.String("/wharf/apps/api/config/DATABASE_URL")})
	if r := h.run(t, "", "db", "url", "-a", "api"); r.code != ExitError || !strings.Contains(r.stderr, "no DATABASE_URL") {
		t.Errorf("db url without a database: %d %s", r.code, r.stderr)
	}

	// alice is not an administrator.
	if r := h.run(t, "", "db", "create", "-a", "api"); r.code != ExitNotAllowed || !strings.Contains(r.stderr, "alice@example.com is not an administrator") {
		t.Errorf("db create as alice: %d %s", r.code, r.stderr)
	}

	ada := w.newHome(t)
	ada.mustLogin(t, "ada-0005")
	r = ada.run(t, "", "db", "create", "-a", "api", "--json")
	var resp contract.DBResponse
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &resp) != nil || !resp.OK || !resp.Changed || resp.Database != "api" {
		t.Fatalf("db create: %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if last := w.rt.db.last(); last.Action != contract.DBActionCreateDatabase || last.App != "api" {
		t.Errorf("the manager got %+v", last)
	}
	w.sawAllowed(t, "lambda:InvokeFunction "+arn("lambda", "function:"+managerFunction))
	if r := ada.run(t, "", "db", "create", "-a", "api"); r.code != 0 || !strings.Contains(r.stderr, "already exists; nothing changed") {
		t.Errorf("db create again: %d %s", r.code, r.stderr)
	}

	// sql from stdin and from a file; a repeated id runs once.
	r = ada.run(t, "SELECT 1 AS answer;\n", "db", "sql", "-a", "api", "--id", "t-1")
	if r.code != 0 || !strings.Contains(r.stdout, "answer\n1\n") || !strings.Contains(r.stderr, "SELECT 1") {
		t.Errorf("db sql: %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if last := w.rt.db.last(); last.Action != contract.DBActionRunSQL || last.SQL != "SELECT 1 AS answer;\n" || last.ID != "t-1" {
		t.Errorf("the manager got %+v", last)
	}
	file := filepath.Join(t.TempDir(), "q.sql")
	_ = os.WriteFile(file, []byte("SELECT 1 AS answer;\n"), 0o600)
	if r := ada.run(t, "", "db", "sql", "-a", "api", "--id", "t-1", file); r.code != 0 || !strings.Contains(r.stderr, "already ran") {
		t.Errorf("db sql again: %d %s", r.code, r.stderr)
	}
	if r := ada.run(t, "SELECT 2;", "db", "sql", "-a", "api", "--id", "t-1"); r.code != ExitError || !strings.Contains(r.stderr, "rule id-reused") {
		t.Errorf("db sql, id reused: %d %s", r.code, r.stderr)
	}
	// The manager's own validation reaches the user with field and rule.
	if r := ada.run(t, "BEGIN; SELECT 1; COMMIT;", "db", "sql", "-a", "api"); r.code != ExitError || !strings.Contains(r.stderr, "transaction-control") {
		t.Errorf("db sql with BEGIN: %d %s", r.code, r.stderr)
	}
	if r := ada.run(t, "  \n", "db", "sql", "-a", "api"); r.code != ExitUsage || !strings.Contains(r.stderr, "empty") {
		t.Errorf("db sql empty: %d %s", r.code, r.stderr)
	}
	// web has no database in the descriptor; an unknown database has no
	// manager.
	if r := ada.run(t, "", "db", "create", "-a", "web"); r.code != ExitUsage || !strings.Contains(r.stderr, "--database") {
		t.Errorf("db create -a web: %d %s", r.code, r.stderr)
	}
	if r := ada.run(t, "", "db", "create", "-a", "web", "--database", "other"); r.code != ExitError || !strings.Contains(r.stderr, "no database manager wharf-database-other-manager") {
		t.Errorf("db create --database other: %d %s", r.code, r.stderr)
	}

	// destroy: --yes off a terminal.
	if r := ada.run(t, "api\n", "db", "destroy", "-a", "api"); r.code != ExitUsage {
		t.Errorf("db destroy without --yes: %d %s", r.code, r.stderr)
	}
	if r := ada.run(t, "", "db", "destroy", "-a", "api", "--yes"); r.code != 0 || !strings.Contains(r.stderr, "Dropped database api") {
		t.Errorf("db destroy: %d %s", r.code, r.stderr)
	}
	if last := w.rt.db.last(); last.Action != contract.DBActionDestroyDatabase || last.App != "api" {
		t.Errorf("the manager got %+v", last)
	}
}

// TestAccess: the allowed users from the synthesized trust policy; add
// and remove print the steps.
func TestAccess(t *testing.T) {
	h := alice(t)
	w := h.w
	r := h.run(t, "", "access", "-a", "api", "--json")
	var list accessList
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &list) != nil {
		t.Fatalf("access --json: %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if strings.Join(list.Users, ",") != "alice@example.com" || strings.Join(list.Subjects, ",") != "sam-0002" {
		t.Errorf("access: %+v", list)
	}
	w.sawAllowed(t, "iam:GetRole arn:aws:iam::"+testAccount+":role/wharf-app-api-user")
	r = h.run(t, "", "access", "add", "-a", "api", "Carol@Example.com")
	if r.code != 0 || !strings.Contains(r.stdout, `add "carol@example.com" to`) || !strings.Contains(r.stdout, "npx cdk deploy wharf-app-api") {
		t.Errorf("access add: %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if r := h.run(t, "", "access", "remove", "-a", "api", "not-an-email"); r.code != ExitUsage {
		t.Errorf("access remove not-an-email: %d", r.code)
	}
}
