package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cbtypes "github.com/aws/aws-sdk-go-v2/service/codebuild/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/wharf-paas/wharf/controlplane/awsfake"
)

func alice(t *testing.T) *home {
	w := getWorld(t)
	h := w.newHome(t)
	h.mustLogin(t, "alice-0001")
	return h
}

// TestConfig: set (args and stdin), get, list, export, import, unset, all
// through the user role, values stored as SecureStrings.
func TestConfig(t *testing.T) {
	h := alice(t)
	w := h.w
	if r := h.run(t, "", "config", "set", "-a", "api", "LOG_LEVEL=debug", "WORKERS=4"); r.code != 0 {
		t.Fatalf("set: %d %s", r.code, r.stderr)
	}
	if r := h.run(t, "s3cr3t with spaces\n", "config", "set", "-a", "api", "API_TOKEN", "-"); r.code != 0 {
		t.Fatalf("set from stdin: %d %s", r.code, r.stderr)
	}
	out, err := w.ssm().GetParameter(context.Background(), &ssm.GetParameterInput{Name: aws.String("/wharf/apps/api/config/API_TOKEN"), WithDecryption: aws.Bool(true)})
	if err != nil || aws.ToString(out.Parameter.Value) != "s3cr3t with spaces" || out.Parameter.Type != "SecureString" {
		t.Fatalf("stored API_TOKEN = %+v, %v", out, err)
	}
	if r := h.run(t, "", "config", "get", "-a", "api", "WORKERS"); r.stdout != "4\n" {
		t.Errorf("get WORKERS = %q (%s)", r.stdout, r.stderr)
	}
	r := h.run(t, "", "config", "list", "-a", "api", "--json")
	var vars map[string]string
	if err := json.Unmarshal([]byte(r.stdout), &vars); err != nil || vars["LOG_LEVEL"] != "debug" || vars["API_TOKEN"] != "s3cr3t with spaces" {
		t.Errorf("list --json = %q %v", r.stdout, err)
	}
	if _, ok := vars["SECRET"]; ok {
		t.Error("list shows another app's var")
	}
	r = h.run(t, "", "config", "export", "-a", "api")
	if !strings.Contains(r.stdout, "API_TOKEN=\"s3cr3t with spaces\"\n") || !strings.Contains(r.stdout, "WORKERS=4\n") {
		t.Errorf("export:\n%s", r.stdout)
	}
	// Round trip: export, unset everything, import.
	file := filepath.Join(t.TempDir(), "api.env")
	_ = os.WriteFile(file, []byte(r.stdout), 0o600)
	if r := h.run(t, "", "config", "unset", "-a", "api", "LOG_LEVEL", "WORKERS", "API_TOKEN"); r.code != 0 {
		t.Fatalf("unset: %d %s", r.code, r.stderr)
	}
	if r := h.run(t, "", "config", "list", "-a", "api", "--json"); strings.TrimSpace(r.stdout) != "{}" {
		t.Errorf("after unset: %s", r.stdout)
	}
	if r := h.run(t, "", "config", "import", "-a", "api", file); r.code != 0 {
		t.Fatalf("import: %d %s", r.code, r.stderr)
	}
	r = h.run(t, "", "config", "list", "-a", "api", "--json")
	vars = nil
	_ = json.Unmarshal([]byte(r.stdout), &vars)
	if vars["API_TOKEN"] != "s3cr3t with spaces" || len(vars) != 3 {
		t.Errorf("after import: %v", vars)
	}
	// Bad input is refused before anything is written.
	r = h.run(t, "", "config", "set", "-a", "api", "GOOD=1", "bad-key=2")
	if r.code != ExitUsage || !strings.Contains(r.stderr, `"bad-key"`) {
		t.Errorf("bad key: exit %d %s", r.code, r.stderr)
	}
	if r := h.run(t, "", "config", "get", "-a", "api", "GOOD"); r.code == 0 {
		t.Error("GOOD was written although the same command had a bad key")
	}
	if r := h.run(t, "", "config", "unset", "-a", "api", "NEVER_SET"); r.code != ExitError || !strings.Contains(r.stderr, "NEVER_SET") {
		t.Errorf("unset of a missing var: exit %d %s", r.code, r.stderr)
	}
}

// TestConfigWait: --wait follows the restart the control plane makes,
// read from the status document.
func TestConfigWait(t *testing.T) {
	h := alice(t)
	w := h.w
	w.putStatus(t, map[string]any{"version": 1, "app": "api", "phase": "deployed", "build": 7, "updatedAt": "2026-12-05T10:00:00Z"})
	reads := w.statusReads()
	go func() {
		// Each change waits for the CLI to have read the one before.
		reads = w.awaitStatusRead(w.awaitStatusRead(reads))
		w.putStatus(t, map[string]any{"version": 1, "app": "api", "phase": "deploying", "build": 7,
			"op": map[string]any{"kind": "config", "build": 7, "step": "rollout"}, "updatedAt": "2026-12-05T10:01:00Z"})
		w.awaitStatusRead(reads)
		w.putStatus(t, map[string]any{"version": 1, "app": "api", "phase": "deployed", "build": 7, "updatedAt": "2026-12-05T10:02:00Z"})
	}()
	r := h.run(t, "", "config", "set", "-a", "api", "FEATURE=on", "--wait")
	if r.code != 0 || !strings.Contains(r.stderr, "config of build #7: deploying (rollout)") || !strings.Contains(r.stderr, "deployed, build #7") {
		t.Errorf("config set --wait: exit %d\n%s", r.code, r.stderr)
	}
}

// TestInfoAndStatus: info combines the status document and ECS; status
// --wait follows a deploy to its failure and exits 6 with the reason.
func TestInfoAndStatus(t *testing.T) {
	h := alice(t)
	w := h.w
	ctx := context.Background()
	for _, proc := range []string{"web", "worker"} {
		family := "wharf-api_" + proc
		td, err := w.ecs().RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String(family),
			ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String(proc), Image: aws.String("img"), Essential: aws.Bool(true)}}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.ecs().CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String("wharf-main"), ServiceName: aws.String(family),
			TaskDefinition: td.TaskDefinition.TaskDefinitionArn, DesiredCount: aws.Int32(map[string]int32{"web": 2, "worker": 1}[proc])}); err != nil {
			t.Fatal(err)
		}
	}
	w.putStatus(t, map[string]any{"version": 1, "app": "api", "phase": "deployed", "build": 12, "commit": "0123abcd9999",
		"deployed":  map[string]any{"build": 12, "commit": "0123abcd9999", "at": time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)},
		"processes": map[string]any{"web": map[string]int{"desired": 2}, "worker": map[string]int{"desired": 1}}, "updatedAt": time.Now().UTC().Format(time.RFC3339)})
	r := h.run(t, "", "info", "-a", "api", "--json")
	var info infoOutput
	if err := json.Unmarshal([]byte(r.stdout), &info); err != nil {
		t.Fatalf("info --json: %v\n%s\n%s", err, r.stdout, r.stderr)
	}
	svc, _ := w.ecs().DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("wharf-main"), Services: []string{"wharf-api_web"}})
	if info.Phase != "deployed" || info.Build != 12 || info.URL != "https://api.apps.example.com" || len(info.Processes) != 2 ||
		info.Processes[0].Name != "web" || info.Processes[0].Desired != 2 || info.Processes[0].Running != int(svc.Services[0].RunningCount) {
		t.Errorf("info = %+v (ECS web running %d)", info, svc.Services[0].RunningCount)
	}
	w.sawAllowed(t, "ecs:DescribeServices arn:aws:ecs:eu-west-1:111122223333:service/wharf-main/wharf-api_web")
	w.sawAllowed(t, "ssm:GetParameter arn:aws:ssm:eu-west-1:111122223333:parameter/wharf/apps/api/status")
	r = h.run(t, "", "info", "-a", "api")
	if !strings.Contains(r.stdout, "PROCESS\tDESIRED\tRUNNING") || !strings.Contains(r.stdout, "Deployed\t#12 (0123abcd) 1h ago") {
		t.Errorf("info:\n%s", r.stdout)
	}

	w.putStatus(t, map[string]any{"version": 1, "app": "api", "phase": "building", "build": 13, "op": map[string]any{"kind": "build", "build": 13, "step": "register"}, "updatedAt": "2026-12-05T11:00:00Z"})
	reads := w.statusReads()
	go func() {
		reads = w.awaitStatusRead(reads)
		// A step shorter than a poll: only the activity log shows it.
		b, _ := json.Marshal(map[string]any{"time": time.Now().UTC().Format(time.RFC3339), "app": "api", "build": 13, "kind": "build", "event": "step", "step": "register"})
		w.putLogs(t, "/wharf/apps/api/activity", "build-13", string(b))
		w.putStatus(t, map[string]any{"version": 1, "app": "api", "phase": "releasing", "build": 13, "op": map[string]any{"kind": "build", "build": 13, "step": "release"}, "updatedAt": "2026-12-05T11:01:00Z"})
		w.awaitStatusRead(reads)
		w.putStatus(t, map[string]any{"version": 1, "app": "api", "phase": "failed", "build": 13, "reason": "ReleaseFailed", "detail": "release task exited 1", "updatedAt": "2026-12-05T11:02:00Z"})
	}()
	r = h.run(t, "", "status", "-a", "api", "--wait")
	if r.code != ExitFailed || !strings.Contains(r.stderr, "releasing (release)") || !strings.Contains(r.stderr, "ReleaseFailed: release task exited 1") ||
		!strings.Contains(r.stderr, "build #13: step register") {
		t.Errorf("status --wait: exit %d\n%s", r.code, r.stderr)
	}
	r = h.run(t, "", "status", "-a", "api", "--json")
	var st appStatus
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil || st.Reason != "ReleaseFailed" {
		t.Errorf("status --json = %s (%v)", r.stdout, err)
	}
}

// TestLogsAndDeploys: history with process and filter; the deploy
// history from the activity log; follow picks up new lines (polling, as
// kumo has no Live Tail).
func TestLogsAndDeploys(t *testing.T) {
	h := alice(t)
	w := h.w
	w.putLogs(t, "/wharf/apps/api", "web/web/abc", "GET / 200", "GET /health 200 ERROR-free")
	w.putLogs(t, "/wharf/apps/api", "worker/worker/def", "job done", "ERROR job failed")
	r := h.run(t, "", "logs", "-a", "api", "--process", "worker")
	if !strings.Contains(r.stdout, "job done") || strings.Contains(r.stdout, "GET /") || r.code != 0 {
		t.Errorf("logs --process worker: %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	r = h.run(t, "", "logs", "-a", "api", "--since", "10m", "--json")
	if n := strings.Count(r.stdout, `"message"`); n != 4 {
		t.Errorf("logs --json: %d events\n%s", n, r.stdout)
	}

	for i, ev := range []map[string]any{
		{"time": "2026-12-05T09:00:00Z", "app": "api", "build": 10, "commit": "aaaa1111", "kind": "build", "event": "phase", "phase": "releasing"},
		{"time": "2026-12-05T09:05:00Z", "app": "api", "build": 10, "commit": "aaaa1111", "kind": "build", "event": "deploy", "outcome": "deployed"},
		{"time": "2026-12-05T10:00:00Z", "app": "api", "build": 11, "commit": "bbbb2222", "kind": "build", "event": "deploy", "outcome": "failed", "reason": "ServicesUnhealthy", "detail": "web never became healthy"},
	} {
		b, _ := json.Marshal(ev)
		w.putLogs(t, "/wharf/apps/api/activity", fmt.Sprintf("build-%d", ev["build"]), string(b))
		_ = i
	}
	r = h.run(t, "", "deploys", "-a", "api", "--json")
	var deploys []deploy
	if err := json.Unmarshal([]byte(r.stdout), &deploys); err != nil || len(deploys) != 2 {
		t.Fatalf("deploys --json: %v\n%s\n%s", err, r.stdout, r.stderr)
	}
	if deploys[0].Build != 11 || deploys[0].Outcome != "failed" || deploys[0].Reason != "ServicesUnhealthy" || deploys[1].Build != 10 || deploys[1].Outcome != "deployed" {
		t.Errorf("deploys = %+v", deploys)
	}
}

// TestBuilds: list, info, start --wait following the build and then the
// deploy, and the build's log.
func TestBuilds(t *testing.T) {
	h := alice(t)
	w := h.w
	now := time.Now()
	w.fake.PutBuild(awsfake.Build{ID: "wharf-api:00000000-0000-0000-0000-000000000001", Number: 1, Status: cbtypes.StatusTypeSucceeded,
		ResolvedSourceVersion: "1111aaaa2222", Start: now.Add(-2 * time.Hour), End: now.Add(-2*time.Hour + 3*time.Minute)})
	w.fake.PutBuild(awsfake.Build{ID: "wharf-api:00000000-0000-0000-0000-000000000002", Number: 2, Status: cbtypes.StatusTypeFailed,
		ResolvedSourceVersion: "3333bbbb4444", Start: now.Add(-time.Hour), End: now.Add(-time.Hour + time.Minute)})
	w.putLogs(t, "/wharf/apps/api/deploys", "build/00000000-0000-0000-0000-000000000002", "Step 1/3 : FROM golang", "tests failed")

	r := h.run(t, "", "builds", "-a", "api", "--json")
	var builds []buildInfo
	if err := json.Unmarshal([]byte(r.stdout), &builds); err != nil || len(builds) < 2 {
		t.Fatalf("builds --json: %v\n%s\n%s", err, r.stdout, r.stderr)
	}
	r = h.run(t, "", "builds", "info", "-a", "api", "2", "--json")
	var b buildInfo
	if err := json.Unmarshal([]byte(r.stdout), &b); err != nil || b.Number != 2 || b.Status != "FAILED" || b.Commit != "3333bbbb4444" {
		t.Errorf("builds info 2 = %+v %v %s", b, err, r.stderr)
	}
	r = h.run(t, "", "builds", "logs", "-a", "api", "2")
	if r.stdout != "Step 1/3 : FROM golang\ntests failed\n" {
		t.Errorf("builds logs 2 = %q %s", r.stdout, r.stderr)
	}

	w.putStatus(t, map[string]any{"version": 1, "app": "api", "phase": "deployed", "build": 1, "updatedAt": "2026-12-05T12:00:00Z"})
	go func() {
		// CodeBuild finishes the build the CLI started; the control plane
		// then deploys it.
		for len(w.fake.StartedBuilds()) == 0 {
			time.Sleep(50 * time.Millisecond)
		}
		id := w.fake.StartedBuilds()[0]
		time.Sleep(400 * time.Millisecond)
		reads := w.statusReads()
		w.fake.PutBuild(awsfake.Build{ID: id, Number: 3, Status: cbtypes.StatusTypeSucceeded, ResolvedSourceVersion: "5555cccc", Start: now, End: time.Now()})
		// The deploy moves on once the CLI, done with the build, has read
		// the status it waits to change.
		reads = w.awaitStatusRead(reads)
		w.putStatus(t, map[string]any{"version": 1, "app": "api", "phase": "deploying", "build": 3, "op": map[string]any{"kind": "build", "build": 3, "step": "rollout"}, "updatedAt": "2026-12-05T12:01:00Z"})
		w.awaitStatusRead(reads)
		w.putStatus(t, map[string]any{"version": 1, "app": "api", "phase": "deployed", "build": 3, "updatedAt": "2026-12-05T12:02:00Z"})
	}()
	r = h.run(t, "", "builds", "start", "-a", "api", "--wait")
	if r.code != 0 || !strings.Contains(r.stderr, "Started build #3") || !strings.Contains(r.stderr, "Build #3 succeeded") || !strings.Contains(r.stderr, "deployed, build #3") {
		t.Errorf("builds start --wait: exit %d\n%s", r.code, r.stderr)
	}
}

// TestHostileTenant: alice, allowed on api, takes the credentials wharf
// cached for her and calls AWS directly for the web app's secret, its
// project and its logs. The synthesized user role refuses each.
func TestHostileTenant(t *testing.T) {
	h := alice(t)
	w := h.w
	if r := h.run(t, "", "config", "list", "-a", "api"); r.code != 0 {
		t.Fatalf("config list: %s", r.stderr)
	}
	cfg := h.cachedConfig(t, "api")
	ctx := context.Background()
	_, err := ssm.NewFromConfig(cfg, func(o *ssm.Options) { o.BaseEndpoint = aws.String(w.guard.URL) }).GetParameter(ctx,
		&ssm.GetParameterInput{Name: aws.String("/wharf/apps/web/config/SECRET"), WithDecryption: aws.Bool(true)})
	if err == nil || !strings.Contains(err.Error(), "AccessDenied") {
		t.Errorf("reading web's secret with api's credentials: %v", err)
	}
	w.expectDenied(t, "parameter/wharf/apps/web/config/SECRET")
	_, err = ssm.NewFromConfig(cfg, func(o *ssm.Options) { o.BaseEndpoint = aws.String(w.guard.URL) }).PutParameter(ctx,
		&ssm.PutParameterInput{Name: aws.String("/wharf/apps/api/status"), Value: aws.String("{}"), Type: "String", Overwrite: aws.Bool(true)})
	if err == nil {
		t.Error("the user role can overwrite its status document")
	}
	w.expectDenied(t, "ssm:PutParameter on resource: arn:aws:ssm:eu-west-1:111122223333:parameter/wharf/apps/api/status")
	_, err = ecs.NewFromConfig(cfg, func(o *ecs.Options) { o.BaseEndpoint = aws.String(w.guard.URL) }).DescribeServices(ctx,
		&ecs.DescribeServicesInput{Cluster: aws.String("wharf-main"), Services: []string{"wharf-web_web"}})
	if err == nil {
		t.Error("the user role can describe another app's service")
	}
	w.expectDenied(t, "service/wharf-main/wharf-web_web")
}
