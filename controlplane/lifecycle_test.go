package controlplane

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	cbtypes "github.com/aws/aws-sdk-go-v2/service/codebuild/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/wharf-paas/wharf/contract"
)

func newJSONLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func TestHappyPathWithRelease(t *testing.T) {
	h := newHarness(t, nil, nil)
	h.w.putConfig("api", "DATABASE_URL", "postgres://secret-value")
	h.w.putConfig("api", "API_KEY", "also-secret")
	h.w.putConfig("api", "ZED", "z")
	meta := twMeta("api", 1, "bin/migrate", "web", "worker")
	meta.Schedules = []contract.Schedule{{Name: "nightly", Schedule: "cron(0 3 * * ? *)", Command: "bin/nightly"}}

	h.w.startBuild("api", 1)
	h.handle(h.ev.build("api", 1, "IN_PROGRESS"))
	h.wantPhase(PhaseBuilding, 1, "")
	if n := len(h.w.Calls(writeOps...)); n != 0 {
		t.Fatalf("build start made %d write calls", n)
	}

	h.w.finishBuild("api", 1, cbtypes.StatusTypeSucceeded, meta)
	h.handle(h.ev.build("api", 1, "SUCCEEDED"))
	h.wantPhase(PhaseReleasing, 1, "")

	// Task definitions: web, worker and release, with the contract's shape.
	regs := h.w.Calls("RegisterTaskDefinition")
	if len(regs) != 3 {
		t.Fatalf("registered %d task definitions, want 3", len(regs))
	}
	var families []string
	for _, c := range regs {
		in := c.Input.(*ecs.RegisterTaskDefinitionInput)
		families = append(families, aws.ToString(in.Family))
		cd := in.ContainerDefinitions[0]
		if aws.ToString(cd.Image) != meta.Image {
			t.Errorf("%s image = %s", aws.ToString(in.Family), aws.ToString(cd.Image))
		}
		if cd.Command[0] != "/bin/sh" || cd.Command[1] != "-c" {
			t.Errorf("%s command = %v, want /bin/sh -c", aws.ToString(in.Family), cd.Command)
		}
		if cd.LogConfiguration.Options["awslogs-group"] != "/wharf/apps/api" {
			t.Errorf("%s log group = %v", aws.ToString(in.Family), cd.LogConfiguration.Options)
		}
		var secrets []string
		for _, s := range cd.Secrets {
			secrets = append(secrets, aws.ToString(s.Name)+"="+aws.ToString(s.ValueFrom))
		}
		want := []string{
			"API_KEY=arn:aws:ssm:eu-west-1:111122223333:parameter/wharf/apps/api/config/API_KEY",
			"DATABASE_URL=arn:aws:ssm:eu-west-1:111122223333:parameter/wharf/apps/api/config/DATABASE_URL",
			"ZED=arn:aws:ssm:eu-west-1:111122223333:parameter/wharf/apps/api/config/ZED",
		}
		if !slices.Equal(secrets, want) {
			t.Errorf("%s secrets = %v, want %v", aws.ToString(in.Family), secrets, want)
		}
		if envOf(in, "WHARF_CONFIG_VERSION") == "" {
			t.Errorf("%s has no WHARF_CONFIG_VERSION", aws.ToString(in.Family))
		}
		b, _ := json.Marshal(in)
		if bytes.Contains(b, []byte("secret-value")) {
			t.Errorf("a secret value leaked into a task definition")
		}
	}
	slices.Sort(families)
	if !slices.Equal(families, []string{"wharf-api_release", "wharf-api_web", "wharf-api_worker"}) {
		t.Errorf("families = %v", families)
	}
	web := h.w.taskDef("arn:aws:ecs:eu-west-1:111122223333:task-definition/wharf-api_web:1")
	if web == nil || len(web.ContainerDefinitions[0].PortMappings) != 1 || aws.ToInt32(web.ContainerDefinitions[0].PortMappings[0].ContainerPort) != 8080 {
		t.Errorf("web task definition has no port 8080 mapping")
	}
	// Never GetParameter on config, never decryption.
	for _, c := range h.w.Calls("GetParameter") {
		in := c.Input.(*ssm.GetParameterInput)
		switch name := aws.ToString(in.Name); {
		case aws.ToBool(in.WithDecryption):
		case name == "/wharf/apps/api/settings":
			continue
		case slices.Contains((contract.Names{Prefix: "wharf"}).RuntimeRequestParameters("api"), name):
			continue
		}
		{
			t.Errorf("GetParameter(%s, decrypt=%v): only the settings may be read", aws.ToString(in.Name), aws.ToBool(in.WithDecryption))
		}
	}

	// The release task.
	runs := h.w.Calls("RunTask")
	if len(runs) != 1 {
		t.Fatalf("RunTask called %d times", len(runs))
	}
	rt := runs[0].Input.(*ecs.RunTaskInput)
	if aws.ToString(rt.StartedBy) != "wharf-release-1" || aws.ToString(rt.ClientToken) == "" ||
		!strings.Contains(aws.ToString(rt.TaskDefinition), "wharf-api_release:1") {
		t.Errorf("RunTask = startedBy %q token %q def %q", aws.ToString(rt.StartedBy), aws.ToString(rt.ClientToken), aws.ToString(rt.TaskDefinition))
	}
	if n := len(h.w.Calls("CreateService", "UpdateService")); n != 0 {
		t.Fatalf("services touched before the release finished (%d calls)", n)
	}

	// A RUNNING event changes nothing.
	task := h.releaseTask()
	h.w.resetCalls()
	h.handle(h.ev.task(task))
	if n := len(h.w.Calls(writeOps...)); n != 0 {
		t.Fatalf("running release event made %d write calls", n)
	}

	h.w.stopTask(aws.ToString(task.TaskArn), ecstypes.TaskStopCodeEssentialContainerExited, aws.Int32(0), "Essential container in task exited")
	h.handle(h.ev.task(task))
	h.wantPhase(PhaseDeploying, 1, "")
	creates := h.w.Calls("CreateService")
	if len(creates) != 2 {
		t.Fatalf("created %d services, want 2", len(creates))
	}
	for _, c := range creates {
		in := c.Input.(*ecs.CreateServiceInput)
		dc := in.DeploymentConfiguration
		if dc == nil || dc.DeploymentCircuitBreaker == nil || !dc.DeploymentCircuitBreaker.Enable || !dc.DeploymentCircuitBreaker.Rollback {
			t.Errorf("%s: circuit breaker with rollback not enabled", aws.ToString(in.ServiceName))
		}
		if aws.ToString(in.ClientToken) == "" || len(aws.ToString(in.ClientToken)) > 36 {
			t.Errorf("%s: client token %q", aws.ToString(in.ServiceName), aws.ToString(in.ClientToken))
		}
		isWeb := aws.ToString(in.ServiceName) == "wharf-api_web"
		if isWeb != (len(in.LoadBalancers) == 1) {
			t.Errorf("%s: load balancers = %d", aws.ToString(in.ServiceName), len(in.LoadBalancers))
		}
		if isWeb && aws.ToInt32(in.LoadBalancers[0].ContainerPort) != 8080 {
			t.Errorf("web attached on port %d", aws.ToInt32(in.LoadBalancers[0].ContainerPort))
		}
	}
	if n := len(h.w.Calls("PutRule")); n != 0 {
		t.Fatalf("schedules changed before the rollout completed")
	}

	h.w.completeRollouts()
	h.handle(h.ev.deployment("api", "web", "SERVICE_DEPLOYMENT_COMPLETED"))
	h.wantPhase(PhaseDeployed, 1, "")

	// Schedules: one rule targeting the release family with the command.
	puts := h.w.Calls("PutRule", "PutTargets")
	if len(puts) != 2 {
		t.Fatalf("schedule calls = %d, want PutRule and PutTargets", len(puts))
	}
	pt := puts[1].Input.(*eventbridge.PutTargetsInput)
	if aws.ToString(pt.Rule) != "wharf-api_schedule-nightly" || aws.ToString(pt.Targets[0].RoleArn) != "arn:aws:iam::111122223333:role/events" ||
		!strings.Contains(aws.ToString(pt.Targets[0].Input), "bin/nightly") ||
		!strings.Contains(aws.ToString(pt.Targets[0].EcsParameters.TaskDefinitionArn), "wharf-api_release:1") {
		t.Errorf("schedule target = %+v", pt.Targets[0])
	}

	// History.
	hist, err := h.store.History(context.Background(), twAccount, "api", 10)
	if err != nil || len(hist) != 1 {
		t.Fatalf("history = %v, %v", hist, err)
	}
	rec := hist[0]
	var phases []string
	for _, p := range rec.Phases {
		phases = append(phases, p.Name)
		if p.End.IsZero() {
			t.Errorf("phase %s has no end", p.Name)
		}
	}
	if rec.Outcome != OutcomeDeployed || rec.ReleaseTask != aws.ToString(task.TaskArn) ||
		!slices.Equal(phases, []string{"register", "release", "services", "rollout"}) || rec.Commit != "c0000001" {
		t.Errorf("record = %+v", rec)
	}
	if strings.Contains(h.logs.String(), "secret-value") {
		t.Errorf("a secret value was logged")
	}
	for _, line := range strings.Split(strings.TrimSpace(h.logs.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		if m["msg"] == "deploy started" && (m["app"] != "api" || m["build"] != float64(1) || m["event_id"] == nil) {
			t.Errorf("log line lacks app, build or event ID: %s", line)
		}
	}
}

func TestNoReleaseCommandGoesStraightToServices(t *testing.T) {
	h := newHarness(t, nil, nil)
	h.w.finishBuild("api", 1, cbtypes.StatusTypeSucceeded, twMeta("api", 1, "", "web"))
	h.handle(h.ev.build("api", 1, "SUCCEEDED"))
	h.wantPhase(PhaseDeploying, 1, "")
	if n := len(h.w.Calls("RunTask")); n != 0 {
		t.Fatalf("RunTask called without a release command")
	}
	if n := len(h.w.Calls("RegisterTaskDefinition")); n != 1 {
		t.Fatalf("registered %d task definitions, want 1 (no release family)", n)
	}
	h.w.completeRollouts()
	h.handle(h.ev.deployment("api", "web", "SERVICE_DEPLOYMENT_COMPLETED"))
	h.wantPhase(PhaseDeployed, 1, "")
}

// TestFailures covers every failure a user can see, each from a deployed
// build 1 (so "services untouched" can be checked) to build 2.
func TestFailures(t *testing.T) {
	type tc struct {
		name   string
		meta   func() *contract.BuildMetadata
		status cbtypes.StatusType
		setup  func(h *harness)
		// act drives build 2 after its SUCCEEDED event.
		act            func(h *harness)
		reason         Reason
		servicesMoved  bool // services were updated to build 2 before failing
		wantDeployedAt int64
		// runTaskFailures makes RunTask answer with failures, no error.
		runTaskFailures bool
	}
	stopRelease := func(code ecstypes.TaskStopCode, exit *int32, why string) func(h *harness) {
		return func(h *harness) {
			task := h.releaseTask()
			h.w.stopTask(aws.ToString(task.TaskArn), code, exit, why)
			h.handle(h.ev.task(task))
		}
	}
	cases := []tc{
		{name: "build failed", status: cbtypes.StatusTypeFailed, reason: ReasonBuildFailed},
		{name: "build fault", status: cbtypes.StatusTypeFault, reason: ReasonBuildFailed},
		{name: "build timed out", status: cbtypes.StatusTypeTimedOut, reason: ReasonBuildFailed},
		{name: "build stopped", status: cbtypes.StatusTypeStopped, reason: ReasonBuildStopped},
		{name: "metadata missing", meta: func() *contract.BuildMetadata { return nil }, reason: ReasonMetadataInvalid},
		{name: "metadata for another app", meta: func() *contract.BuildMetadata { return twMeta("other", 2, "", "web") }, reason: ReasonMetadataInvalid},
		{name: "metadata with reserved process", meta: func() *contract.BuildMetadata { return twMeta("api", 2, "", "web", "release") }, reason: ReasonMetadataInvalid},
		{name: "settings missing", setup: func(h *harness) {
			h.w.mu.Lock()
			delete(h.w.params, "/wharf/apps/api/settings")
			h.w.mu.Unlock()
		}, reason: ReasonSettingsInvalid},
		{name: "task definition rejected", setup: func(h *harness) {
			h.w.fail["RegisterTaskDefinition"] = []error{&ecstypes.ClientException{Message: aws.String("Invalid cpu")}}
		}, reason: ReasonTaskDefinitionRejected},
		{name: "release exits non-zero", act: stopRelease(ecstypes.TaskStopCodeEssentialContainerExited, aws.Int32(3), "Essential container in task exited"),
			reason: ReasonReleaseFailed},
		{name: "release fails to start", act: stopRelease(ecstypes.TaskStopCodeTaskFailedToStart, nil, "CannotPullContainerError"),
			reason: ReasonReleaseFailedToStart},
		{name: "release stopped by user", act: stopRelease(ecstypes.TaskStopCodeUserInitiated, aws.Int32(137), "stopped by user"),
			reason: ReasonReleaseFailed},
		{name: "release container never exited", act: stopRelease(ecstypes.TaskStopCodeEssentialContainerExited, nil, "x"),
			reason: ReasonReleaseFailed},
		{name: "RunTask failures", runTaskFailures: true, reason: ReasonReleaseFailedToStart},
		{name: "release task lost", act: func(h *harness) {
			h.w.mu.Lock()
			h.w.tasks = map[string]*ecstypes.Task{}
			h.w.mu.Unlock()
			h.handle(h.ev.sweep())
			h.clock.Advance(10 * time.Minute)
			h.handle(h.ev.sweep())
		}, reason: ReasonReleaseLost},
		{name: "release timed out", act: func(h *harness) {
			h.clock.Advance(31 * time.Minute)
			h.handle(h.ev.sweep())
			if len(h.w.Calls("StopTask")) != 1 {
				h.t.Errorf("the timed-out release task was not stopped")
			}
		}, reason: ReasonReleaseTimedOut},
		{name: "deployment failed without rollback", act: func(h *harness) {
			stopRelease(ecstypes.TaskStopCodeEssentialContainerExited, aws.Int32(0), "ok")(h)
			h.w.failRollout("wharf-api_web", false)
			h.handle(h.ev.deployment("api", "web", "SERVICE_DEPLOYMENT_FAILED"))
		}, reason: ReasonDeploymentFailed, servicesMoved: true},
		{name: "circuit breaker rollback", act: func(h *harness) {
			stopRelease(ecstypes.TaskStopCodeEssentialContainerExited, aws.Int32(0), "ok")(h)
			h.w.failRollout("wharf-api_web", true)
			h.handle(h.ev.deployment("api", "web", "SERVICE_DEPLOYMENT_IN_PROGRESS"))
		}, reason: ReasonDeploymentRolledBack, servicesMoved: true},
		{name: "rollout timed out", act: func(h *harness) {
			stopRelease(ecstypes.TaskStopCodeEssentialContainerExited, aws.Int32(0), "ok")(h)
			h.clock.Advance(46 * time.Minute)
			h.handle(h.ev.sweep())
		}, reason: ReasonDeploymentTimedOut, servicesMoved: true},
		{name: "service update rejected", setup: func(h *harness) {
			h.w.fail["UpdateService"] = []error{&ecstypes.InvalidParameterException{Message: aws.String("bad")}}
		}, act: stopRelease(ecstypes.TaskStopCodeEssentialContainerExited, aws.Int32(0), "ok"), reason: ReasonServiceRejected, servicesMoved: true},
		{name: "schedule rejected", meta: func() *contract.BuildMetadata {
			m := twMeta("api", 2, "bin/migrate", "web", "worker")
			m.Schedules = []contract.Schedule{{Name: "n", Schedule: "rate(1 day)", Command: "x"}}
			return m
		}, setup: func(h *harness) {
			h.w.fail["PutRule"] = []error{apiErr("ValidationException", "bad schedule")}
		}, act: func(h *harness) {
			stopRelease(ecstypes.TaskStopCodeEssentialContainerExited, aws.Int32(0), "ok")(h)
			h.w.completeRollouts()
			h.handle(h.ev.deployment("api", "web", "SERVICE_DEPLOYMENT_COMPLETED"))
		}, reason: ReasonScheduleRejected, servicesMoved: true, wantDeployedAt: 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, nil, nil)
			h.deployBuild(1, twMeta("api", 1, "bin/migrate", "web", "worker"))
			before := map[string]string{"web": h.w.serviceTaskDef("wharf-api_web"), "worker": h.w.serviceTaskDef("wharf-api_worker")}
			if c.setup != nil {
				c.setup(h)
			}
			if c.runTaskFailures {
				h.cp.opts.Clients = &failingRunProvider{inner: h.prov}
			}
			h.w.resetCalls()
			status := c.status
			if status == "" {
				status = cbtypes.StatusTypeSucceeded
			}
			meta := twMeta("api", 2, "bin/migrate", "web", "worker")
			if c.meta != nil {
				meta = c.meta()
			}
			h.w.startBuild("api", 2)
			h.w.finishBuild("api", 2, status, meta)
			h.handle(h.ev.build("api", 2, string(status)))
			if c.act != nil {
				c.act(h)
			}
			h.wantPhase(PhaseFailed, 2, c.reason)
			st := h.state()
			if st.Detail == "" {
				t.Errorf("failure has no detail")
			}
			want := int64(1)
			if c.wantDeployedAt != 0 {
				want = c.wantDeployedAt
			}
			if st.Deployed == nil || st.Deployed.Build != want {
				t.Errorf("deployed = %+v, want build %d", st.Deployed, want)
			}
			if !c.servicesMoved {
				if n := len(h.w.Calls("CreateService", "UpdateService", "DeleteService")); n != 0 {
					t.Errorf("failure before the services step made %d service calls", n)
				}
				for p, td := range before {
					if got := h.w.serviceTaskDef("wharf-api_" + p); got != td {
						t.Errorf("service %s moved from %s to %s", p, td, got)
					}
				}
			}
			if c.servicesMoved && c.reason != ReasonScheduleRejected {
				// A failed rollout puts every service back on build 1.
				for p, td := range before {
					if got := h.w.serviceTaskDef("wharf-api_" + p); got != td {
						t.Errorf("service %s left on %s after the failure, want %s", p, got, td)
					}
				}
				if st.Op != nil {
					t.Errorf("operation still open: %+v", st.Op)
				}
			}
			hist, _ := h.store.History(context.Background(), twAccount, "api", 1)
			if len(hist) != 1 || hist[0].Build != 2 || hist[0].Reason != c.reason {
				t.Errorf("history head = %+v", hist)
			}
			if c.reason == ReasonScheduleRejected {
				if hist[0].Outcome != OutcomeDeployed {
					t.Errorf("outcome = %s, want deployed", hist[0].Outcome)
				}
			} else if hist[0].Outcome != OutcomeFailed {
				t.Errorf("outcome = %s, want failed", hist[0].Outcome)
			}
			// A failed build is never retried: another event changes nothing.
			h.w.resetCalls()
			h.handle(h.ev.build("api", 2, string(status)))
			if n := len(h.w.Calls(writeOps...)); n != 0 {
				t.Errorf("a repeated event after the failure made %d write calls", n)
			}
			// The next build deploys normally.
			h.w.fail = map[string][]error{}
			h.w.putSettings("api", nil)
			h.cp.opts.Clients = &twProvider{w: map[string]*twWorld{twAccount: h.w}}
			h.deployBuild(3, twMeta("api", 3, "bin/migrate", "web", "worker"))
		})
	}
}

// failingRunProvider hands out ECS clients whose RunTask answers with
// failures and no error, as ECS does when it cannot place a task.
type failingRunProvider struct {
	inner *twProvider
}

func (p *failingRunProvider) ForApp(ctx context.Context, a contract.AppRegistration) (*AppClients, error) {
	cl, err := p.inner.ForApp(ctx, a)
	if err != nil {
		return nil, err
	}
	cl.ECS = &failingRunECS{ECSAPI: cl.ECS}
	return cl, nil
}

func (p *failingRunProvider) ForObserver(ctx context.Context, a contract.AccountRegistration) (*ObserverClients, error) {
	return p.inner.ForObserver(ctx, a)
}

type failingRunECS struct{ ECSAPI }

func (e *failingRunECS) RunTask(context.Context, *ecs.RunTaskInput, ...func(*ecs.Options)) (*ecs.RunTaskOutput, error) {
	return &ecs.RunTaskOutput{Failures: []ecstypes.Failure{{Reason: aws.String("RESOURCE:ENI"), Detail: aws.String("no ENI")}}}, nil
}

func TestRedeployUpdatesRemovesAndScales(t *testing.T) {
	h := newHarness(t, nil, nil)
	m1 := twMeta("api", 1, "", "web", "worker", "clock")
	m1.Schedules = []contract.Schedule{{Name: "nightly", Schedule: "cron(0 3 * * ? *)", Command: "bin/nightly"}, {Name: "hourly", Schedule: "rate(1 hour)", Command: "bin/h"}}
	h.deployBuild(1, m1)
	h.w.resetCalls()

	m2 := twMeta("api", 2, "", "web", "worker")
	m2.Processes["web"] = contract.Process{Command: "bin/web", Count: aws.Int32(3)}
	m2.Schedules = []contract.Schedule{{Name: "nightly", Schedule: "cron(0 4 * * ? *)", Command: "bin/nightly"}}
	h.w.finishBuild("api", 2, cbtypes.StatusTypeSucceeded, m2)
	h.handle(h.ev.build("api", 2, "SUCCEEDED"))
	ups := h.w.Calls("UpdateService")
	if len(ups) != 2 {
		t.Fatalf("UpdateService calls = %d, want 2", len(ups))
	}
	for _, c := range ups {
		in := c.Input.(*ecs.UpdateServiceInput)
		switch aws.ToString(in.Service) {
		case "wharf-api_web":
			if aws.ToInt32(in.DesiredCount) != 3 {
				t.Errorf("web desired count = %v, want 3", in.DesiredCount)
			}
		case "wharf-api_worker":
			// The count did not change: only what differs is sent.
			if in.DesiredCount != nil && aws.ToInt32(in.DesiredCount) != 1 {
				t.Errorf("worker desired count = %v, want the declared 1 or none", in.DesiredCount)
			}
		}
	}
	if n := len(h.w.Calls("DeleteService")); n != 0 {
		t.Fatalf("service deleted before the rollout completed")
	}
	h.w.completeRollouts()
	h.handle(h.ev.deployment("api", "web", "SERVICE_DEPLOYMENT_COMPLETED"))
	h.wantPhase(PhaseDeployed, 2, "")
	dels := h.w.Calls("DeleteService")
	if len(dels) != 1 || aws.ToString(dels[0].Input.(*ecs.DeleteServiceInput).Service) != "wharf-api_clock" {
		t.Fatalf("DeleteService calls = %v", dels)
	}
	if got := h.state().Services; !slices.Equal(got, []string{"web", "worker"}) {
		t.Errorf("managed services = %v", got)
	}
	h.w.mu.Lock()
	rules := sortedKeys(h.w.rules)
	expr := aws.ToString(h.w.rules["wharf-api_schedule-nightly"].ScheduleExpression)
	h.w.mu.Unlock()
	if !slices.Equal(rules, []string{"wharf-api_schedule-nightly"}) || expr != "cron(0 4 * * ? *)" {
		t.Errorf("rules = %v (%s)", rules, expr)
	}

	// A service deleted behind Wharf's back is re-created at the next deploy.
	h.w.mu.Lock()
	h.w.services["wharf-api_worker"].Status = aws.String("INACTIVE")
	h.w.mu.Unlock()
	h.w.resetCalls()
	m3 := twMeta("api", 3, "", "web", "worker")
	m3.Schedules = m2.Schedules
	h.w.finishBuild("api", 3, cbtypes.StatusTypeSucceeded, m3)
	h.handle(h.ev.build("api", 3, "SUCCEEDED"))
	if c := h.w.Calls("CreateService"); len(c) != 1 || aws.ToString(c[0].Input.(*ecs.CreateServiceInput).ServiceName) != "wharf-api_worker" {
		t.Fatalf("INACTIVE service not re-created: %v", c)
	}
	h.w.completeRollouts()
	h.handle(h.ev.deployment("api", "web", "SERVICE_DEPLOYMENT_COMPLETED"))
	h.wantPhase(PhaseDeployed, 3, "")
	// Schedules unchanged since build 2 except the task definition.
	puts := h.w.Calls("PutRule")
	if len(puts) != 0 {
		t.Errorf("unchanged schedule rule was put again")
	}
	if n := len(h.w.Calls("PutTargets")); n != 1 {
		t.Errorf("PutTargets calls = %d, want 1 (new task definition)", n)
	}
}

func TestUpdateOfVanishedServiceCreatesIt(t *testing.T) {
	h := newHarness(t, nil, nil)
	h.deployBuild(1, twMeta("api", 1, "", "web"))
	h.w.fail["UpdateService"] = []error{&ecstypes.ServiceNotActiveException{Message: aws.String("inactive")}}
	h.w.resetCalls()
	h.w.finishBuild("api", 2, cbtypes.StatusTypeSucceeded, twMeta("api", 2, "", "web"))
	// The service looks ACTIVE to DescribeServices but is gone by the time
	// of the update (a race with a delete).
	h.w.after["UpdateService"] = nil
	h.w.mu.Lock()
	h.w.services["wharf-api_web"].Status = aws.String("INACTIVE")
	h.w.mu.Unlock()
	h.handle(h.ev.build("api", 2, "SUCCEEDED"))
	if n := len(h.w.Calls("CreateService")); n != 1 {
		t.Fatalf("CreateService calls = %d, want 1", n)
	}
}

func TestConfigChangeRestartsAndCoalesces(t *testing.T) {
	h := newHarness(t, nil, nil)
	h.w.putConfig("api", "A", "1")
	h.deployBuild(1, twMeta("api", 1, "bin/migrate", "web", "worker"))
	v1 := h.state().Deployed.ConfigVersion
	h.w.resetCalls()

	// An event for a parameter whose version did not change costs nothing.
	h.handle(h.ev.config("api", "A"))
	if n := len(h.w.Calls(writeOps...)); n != 0 {
		t.Fatalf("unchanged config made %d write calls", n)
	}
	if len(h.w.Calls("RunTask")) != 0 {
		t.Fatalf("config restart ran the release")
	}

	h.w.putConfig("api", "A", "2")
	h.handle(h.ev.config("api", "A"))
	h.wantPhase(PhaseDeploying, 1, "")
	if n := len(h.w.Calls("RegisterTaskDefinition")); n != 3 {
		t.Fatalf("config restart registered %d task definitions, want 3", n)
	}
	if n := len(h.w.Calls("UpdateService")); n != 2 {
		t.Fatalf("config restart updated %d services, want 2", n)
	}
	if len(h.w.Calls("RunTask")) != 0 {
		t.Fatalf("config restart ran the release")
	}
	// A burst while the rollout runs: no second restart.
	h.w.putConfig("api", "B", "1")
	h.handle(h.ev.config("api", "B"))
	h.w.putConfig("api", "B", "2")
	h.handle(h.ev.config("api", "B"))
	if n := len(h.w.Calls("UpdateService")); n != 2 {
		t.Fatalf("a config burst during a rollout started another restart (%d updates)", n)
	}
	// When it settles, the config is checked once more: B changed, so one
	// more restart picks both up.
	h.w.completeRollouts()
	h.handle(h.ev.deployment("api", "web", "SERVICE_DEPLOYMENT_COMPLETED"))
	h.wantPhase(PhaseDeploying, 1, "")
	if n := len(h.w.Calls("UpdateService")); n != 4 {
		t.Fatalf("after settling: %d updates, want 4", n)
	}
	h.w.completeRollouts()
	h.handle(h.ev.deployment("api", "web", "SERVICE_DEPLOYMENT_COMPLETED"))
	h.wantPhase(PhaseDeployed, 1, "")
	st := h.state()
	if st.Deployed.ConfigVersion == v1 || st.Deployed.Seq != 2 {
		t.Fatalf("deployed config %s seq %d", st.Deployed.ConfigVersion, st.Deployed.Seq)
	}
	td := h.w.taskDef(st.Deployed.TaskDefs["web"])
	if envOf(td, "WHARF_CONFIG_VERSION") != st.Deployed.ConfigVersion || len(td.ContainerDefinitions[0].Secrets) != 2 {
		t.Errorf("web task definition does not carry the new config")
	}
	hist, _ := h.store.History(context.Background(), twAccount, "api", 0)
	var kinds []string
	for _, r := range hist {
		kinds = append(kinds, fmt.Sprintf("%d/%s/%d/%s", r.Build, r.Kind, r.Seq, r.Outcome))
	}
	if !slices.Equal(kinds, []string{"1/config/2/deployed", "1/config/1/deployed", "1/build/0/deployed"}) {
		t.Errorf("history = %v", kinds)
	}
	// A lost config event is made up for by the sweep.
	h.w.putConfig("api", "C", "1")
	h.handle(h.ev.sweep())
	h.wantPhase(PhaseDeploying, 1, "")
}

func TestFailedConfigRestartIsNotRetriedUntilConfigChanges(t *testing.T) {
	h := newHarness(t, nil, nil)
	h.deployBuild(1, twMeta("api", 1, "", "web"))
	h.w.putConfig("api", "A", "1")
	h.handle(h.ev.config("api", "A"))
	h.w.failRollout("wharf-api_web", true)
	h.handle(h.ev.deployment("api", "web", "SERVICE_DEPLOYMENT_FAILED"))
	h.wantPhase(PhaseFailed, 1, ReasonDeploymentRolledBack)
	h.w.resetCalls()
	h.handle(h.ev.sweep())
	h.handle(h.ev.config("api", "A"))
	if n := len(h.w.Calls(writeOps...)); n != 0 {
		t.Fatalf("failed config restart retried (%d write calls)", n)
	}
	h.w.putConfig("api", "A", "2")
	h.handle(h.ev.config("api", "A"))
	h.wantPhase(PhaseDeploying, 1, "")
}

func TestTwoBuildsRacing(t *testing.T) {
	h := newHarness(t, nil, nil)
	h.deployBuild(1, twMeta("api", 1, "bin/migrate", "web"))
	// Builds 2, 3, 4 start; 2 succeeds and releases; 3 and 4 succeed while
	// 2's release runs; 4 goes next, 3 is skipped.
	for n := int64(2); n <= 4; n++ {
		h.w.startBuild("api", n)
		h.handle(h.ev.build("api", n, "IN_PROGRESS"))
	}
	h.w.finishBuild("api", 2, cbtypes.StatusTypeSucceeded, twMeta("api", 2, "bin/migrate", "web"))
	h.handle(h.ev.build("api", 2, "SUCCEEDED"))
	h.wantPhase(PhaseReleasing, 2, "")
	h.w.finishBuild("api", 4, cbtypes.StatusTypeSucceeded, twMeta("api", 4, "bin/migrate", "web"))
	h.handle(h.ev.build("api", 4, "SUCCEEDED"))
	h.w.finishBuild("api", 3, cbtypes.StatusTypeSucceeded, twMeta("api", 3, "bin/migrate", "web"))
	h.handle(h.ev.build("api", 3, "SUCCEEDED"))
	if n := len(h.w.Calls("RunTask")); n != 2 { // build 1 and build 2
		t.Fatalf("RunTask calls = %d: a newer build did not wait for the release", n)
	}
	task2 := h.releaseTask()
	h.w.stopTask(aws.ToString(task2.TaskArn), ecstypes.TaskStopCodeEssentialContainerExited, aws.Int32(0), "ok")
	h.handle(h.ev.task(task2))
	h.wantPhase(PhaseDeploying, 2, "")
	h.w.completeRollouts()
	h.handle(h.ev.deployment("api", "web", "SERVICE_DEPLOYMENT_COMPLETED"))
	h.wantPhase(PhaseReleasing, 4, "")
	task4 := h.releaseTask()
	if aws.ToString(task4.StartedBy) != "wharf-release-4" {
		t.Fatalf("next release = %s, want build 4", aws.ToString(task4.StartedBy))
	}
	h.w.stopTask(aws.ToString(task4.TaskArn), ecstypes.TaskStopCodeEssentialContainerExited, aws.Int32(0), "ok")
	h.handle(h.ev.task(task4))
	h.w.completeRollouts()
	h.handle(h.ev.deployment("api", "web", "SERVICE_DEPLOYMENT_COMPLETED"))
	h.wantPhase(PhaseDeployed, 4, "")
	for _, tk := range h.w.releaseTasks() {
		if aws.ToString(tk.StartedBy) == "wharf-release-3" {
			t.Fatalf("skipped build 3 ran a release")
		}
	}
	hist, _ := h.store.History(context.Background(), twAccount, "api", 0)
	got := map[int64]Outcome{}
	for _, r := range hist {
		got[r.Build] = r.Outcome
	}
	if got[3] != OutcomeSkipped || got[4] != OutcomeDeployed || got[2] != OutcomeDeployed {
		t.Errorf("outcomes = %v", got)
	}

	// An older build finishing late never replaces a newer one.
	h.w.resetCalls()
	h.w.finishBuild("api", 3, cbtypes.StatusTypeSucceeded, twMeta("api", 3, "bin/migrate", "web"))
	h.handle(h.ev.build("api", 3, "SUCCEEDED"))
	h.w.startBuild("api", 5)
	h.w.finishBuild("api", 5, cbtypes.StatusTypeFailed, nil)
	h.w.finishBuild("api", 6, cbtypes.StatusTypeSucceeded, twMeta("api", 6, "", "web"))
	h.w.startBuild("api", 7)
	h.handle(h.ev.build("api", 7, "IN_PROGRESS"))
	if n := len(h.w.Calls(writeOps...)); n != 0 {
		t.Fatalf("a late older build made %d write calls", n)
	}
	if h.w.serviceTaskDef("wharf-api_web") != h.state().Deployed.TaskDefs["web"] || h.state().Deployed.Build != 4 {
		t.Fatalf("services moved off build 4")
	}
	h.wantPhase(PhaseBuilding, 7, "")
}

func TestNewerBuildWaitsForTimedOutRelease(t *testing.T) {
	h := newHarness(t, nil, nil)
	h.w.finishBuild("api", 1, cbtypes.StatusTypeSucceeded, twMeta("api", 1, "bin/migrate", "web"))
	h.handle(h.ev.build("api", 1, "SUCCEEDED"))
	hung := h.releaseTask()
	h.w.stopIgnored = true
	h.clock.Advance(31 * time.Minute)
	h.handle(h.ev.sweep())
	h.wantPhase(PhaseFailed, 1, ReasonReleaseTimedOut)
	// The hung task ignores StopTask for a while; build 2 must wait.
	h.w.finishBuild("api", 2, cbtypes.StatusTypeSucceeded, twMeta("api", 2, "bin/migrate", "web"))
	h.handle(h.ev.build("api", 2, "SUCCEEDED"))
	if n := len(h.w.Calls("RunTask")); n != 1 {
		t.Fatalf("a second release started while the first still runs (%d RunTask)", n)
	}
	h.wantPhase(PhaseReleasing, 2, "")
	h.w.stopTask(aws.ToString(hung.TaskArn), ecstypes.TaskStopCodeUserInitiated, aws.Int32(137), "stopped")
	h.handle(h.ev.task(hung))
	if n := len(h.w.Calls("RunTask")); n != 2 {
		t.Fatalf("build 2's release did not start after the first stopped")
	}
}

func TestDuplicatesReorderingLateAndLostEvents(t *testing.T) {
	h := newHarness(t, nil, func(o *Options) { o.StuckAfter = 5 * time.Minute })
	meta := twMeta("api", 1, "bin/migrate", "web")
	h.w.startBuild("api", 1)
	h.w.finishBuild("api", 1, cbtypes.StatusTypeSucceeded, meta)
	succeeded := h.ev.build("api", 1, "SUCCEEDED")
	inProgress := h.ev.build("api", 1, "IN_PROGRESS")
	// Reordered: SUCCEEDED first, then the late IN_PROGRESS.
	h.handle(succeeded)
	h.wantPhase(PhaseReleasing, 1, "")
	h.w.resetCalls()
	h.handle(inProgress)
	if n := len(h.w.Calls(writeOps...)); n != 0 {
		t.Fatalf("late IN_PROGRESS made %d write calls", n)
	}
	if n := len(h.w.Calls("BatchGetBuilds")); n != 0 {
		t.Fatalf("late IN_PROGRESS of a resolved build asked CodeBuild")
	}
	h.w.resetCalls()
	// Duplicate (same event ID): skipped before any AWS call.
	h.handle(succeeded)
	if n := len(h.w.Calls()); n != 0 {
		t.Fatalf("duplicate event made %d AWS calls", n)
	}
	if h.cp.Stats()[CountDuplicate] != 1 {
		t.Fatalf("duplicate not counted: %v", h.cp.Stats())
	}
	// Lost: the release's STOPPED event never arrives; the sweep finds it.
	task := h.releaseTask()
	h.w.stopTask(aws.ToString(task.TaskArn), ecstypes.TaskStopCodeEssentialContainerExited, aws.Int32(0), "ok")
	h.handle(h.ev.sweep())
	h.wantPhase(PhaseReleasing, 1, "") // not stuck long enough yet
	h.clock.Advance(6 * time.Minute)
	h.handle(h.ev.sweep())
	h.wantPhase(PhaseDeploying, 1, "")
	// The deployment COMPLETED event is lost too.
	h.w.completeRollouts()
	h.clock.Advance(6 * time.Minute)
	h.handle(h.ev.sweep())
	h.wantPhase(PhaseDeployed, 1, "")
	// A stale task event (older version) after the deploy changes nothing.
	h.w.resetCalls()
	h.handle(h.ev.task(task))
	if n := len(h.w.Calls()); n != 0 {
		t.Fatalf("stale event after deploy made %d AWS calls", n)
	}
	// SERVICE_STEADY_STATE repeats: no calls at all when idle.
	h.handle(h.ev.envelope("aws.ecs", "ECS Service Action", []string{"arn:aws:ecs:eu-west-1:111122223333:service/wharf-main/wharf-api_web"},
		map[string]any{"eventType": "INFO", "eventName": "SERVICE_STEADY_STATE"}))
	if n := len(h.w.Calls()); n != 0 {
		t.Fatalf("steady-state event made %d AWS calls", n)
	}

	// A build whose every event is lost but IN_PROGRESS: the sweep finds
	// its success through BatchGetBuilds.
	h.w.startBuild("api", 2)
	h.handle(h.ev.build("api", 2, "IN_PROGRESS"))
	h.w.finishBuild("api", 2, cbtypes.StatusTypeSucceeded, twMeta("api", 2, "", "web"))
	h.clock.Advance(6 * time.Minute)
	h.handle(h.ev.sweep())
	h.wantPhase(PhaseDeploying, 2, "")
}

func TestBuildEventWithoutNumberAndPhaseChange(t *testing.T) {
	h := newHarness(t, nil, nil)
	h.w.startBuild("api", 1)
	ev := h.ev.envelope("aws.codebuild", "CodeBuild Build Phase Change",
		[]string{"arn:aws:codebuild:eu-west-1:111122223333:build/wharf-api:b1"},
		map[string]any{"completed-phase": "SUBMITTED", "project-name": "wharf-api",
			"build-id": "arn:aws:codebuild:eu-west-1:111122223333:build/wharf-api:b1"})
	h.handle(ev)
	h.wantPhase(PhaseBuilding, 1, "")
	// Unknown to CodeBuild: forgotten.
	h.handle(h.ev.envelope("aws.codebuild", "CodeBuild Build State Change", nil,
		map[string]any{"build-status": "IN_PROGRESS", "project-name": "wharf-api", "build-id": "wharf-api:nope"}))
	if st := h.state(); len(st.Builds) != 1 {
		t.Fatalf("tracked builds = %+v", st.Builds)
	}
}

// conflictStore bumps the stored version behind the caller's back before
// chosen saves, as a concurrent invocation would.
type conflictStore struct {
	*MemoryStore
	mu        sync.Mutex
	saves     int
	conflicts map[int]bool
}

func (s *conflictStore) SaveApp(ctx context.Context, st *AppState, recs ...*DeployRecord) error {
	s.mu.Lock()
	s.saves++
	n := s.saves
	s.mu.Unlock()
	if s.conflicts[n] {
		cur, err := s.MemoryStore.LoadApp(ctx, st.Account, st.App)
		if err != nil {
			return err
		}
		if err := s.MemoryStore.SaveApp(ctx, cur); err != nil {
			return err
		}
	}
	return s.MemoryStore.SaveApp(ctx, st, recs...)
}

func TestConditionalWriteConflicts(t *testing.T) {
	for _, conflictAt := range []int{1, 2, 3, 4} {
		t.Run(fmt.Sprint(conflictAt), func(t *testing.T) {
			cs := &conflictStore{MemoryStore: NewMemoryStore(), conflicts: map[int]bool{conflictAt: true}}
			h := newHarness(t, cs, nil)
			h.deployBuild(1, twMeta("api", 1, "bin/migrate", "web"))
			if n := len(h.w.releaseTasks()); n != 1 {
				t.Fatalf("%d release tasks after a conflict, want 1", n)
			}
			if h.cp.Stats()[CountConflict] == 0 {
				t.Fatalf("no conflict happened")
			}
		})
	}
	t.Run("gives up", func(t *testing.T) {
		all := map[int]bool{}
		for i := 1; i < 100; i++ {
			all[i] = true
		}
		cs := &conflictStore{MemoryStore: NewMemoryStore(), conflicts: all}
		h := newHarness(t, cs, nil)
		h.w.finishBuild("api", 1, cbtypes.StatusTypeSucceeded, twMeta("api", 1, "", "web"))
		err := h.cp.Handle(context.Background(), h.ev.build("api", 1, "SUCCEEDED"))
		if !errors.Is(err, ErrConflict) {
			t.Fatalf("err = %v, want ErrConflict", err)
		}
		if n := len(h.w.Calls(writeOps...)); n != 0 {
			t.Fatalf("%d write calls although no intent was ever saved", n)
		}
	})
}

// crashStore fails the save that follows a chosen AWS write, as a Lambda
// crashing between the call and its state write.
type crashStore struct {
	*MemoryStore
	armed *bool
}

func (s *crashStore) SaveApp(ctx context.Context, st *AppState, recs ...*DeployRecord) error {
	if *s.armed {
		*s.armed = false
		return errors.New("crash: invocation died")
	}
	return s.MemoryStore.SaveApp(ctx, st, recs...)
}

func TestCrashBetweenAWSCallAndStateWrite(t *testing.T) {
	for _, op := range []string{"RegisterTaskDefinition", "RunTask", "CreateService", "UpdateService"} {
		t.Run(op, func(t *testing.T) {
			armed := false
			h := newHarness(t, &crashStore{MemoryStore: NewMemoryStore(), armed: &armed}, nil)
			if op == "UpdateService" {
				h.deployBuild(1, twMeta("api", 1, "bin/migrate", "web"))
			}
			h.w.after[op] = func() { armed = true }
			n := int64(2)
			if op != "UpdateService" {
				n = 1
			}
			h.w.finishBuild("api", n, cbtypes.StatusTypeSucceeded, twMeta("api", n, "bin/migrate", "web"))
			ev := h.ev.build("api", n, "SUCCEEDED")
			if op == "CreateService" || op == "UpdateService" {
				h.handle(ev)
				task := h.releaseTask()
				h.w.stopTask(aws.ToString(task.TaskArn), ecstypes.TaskStopCodeEssentialContainerExited, aws.Int32(0), "ok")
				ev = h.ev.task(task)
			}
			if err := h.cp.Handle(context.Background(), ev); err == nil {
				t.Fatalf("the crash was not reported")
			}
			h.w.after = map[string]func(){}
			before := len(h.w.Calls(op))
			// EventBridge retries the same event.
			h.handle(ev)
			switch op {
			case "RunTask":
				if n := len(h.w.releaseTasks()); n != 1 {
					t.Fatalf("%d release tasks after the retry", n)
				}
				if len(h.w.Calls(op)) != before {
					t.Fatalf("RunTask repeated although ListTasks finds the task")
				}
			case "CreateService", "UpdateService":
				if len(h.w.Calls(op)) != before {
					t.Fatalf("%s repeated after the crash", op)
				}
			case "RegisterTaskDefinition":
				h.w.mu.Lock()
				revs := len(h.w.taskDefs["wharf-api_web"])
				h.w.mu.Unlock()
				if revs != 1 {
					t.Fatalf("%d web revisions after the retry, want 1 (found by spec hash)", revs)
				}
			}
			task := h.releaseTask()
			if aws.ToString(task.LastStatus) != "STOPPED" {
				h.w.stopTask(aws.ToString(task.TaskArn), ecstypes.TaskStopCodeEssentialContainerExited, aws.Int32(0), "ok")
				h.handle(h.ev.task(task))
			}
			h.w.completeRollouts()
			h.handle(h.ev.deployment("api", "web", "SERVICE_DEPLOYMENT_COMPLETED"))
			h.wantPhase(PhaseDeployed, n, "")
		})
	}
}

func TestTransientErrorsAreRetried(t *testing.T) {
	h := newHarness(t, nil, nil)
	h.w.finishBuild("api", 1, cbtypes.StatusTypeSucceeded, twMeta("api", 1, "bin/migrate", "web"))
	ev := h.ev.build("api", 1, "SUCCEEDED")
	h.w.fail["RunTask"] = []error{apiErr("ThrottlingException", "Rate exceeded")}
	if err := h.cp.Handle(context.Background(), ev); err == nil || !strings.Contains(err.Error(), "ThrottlingException") {
		t.Fatalf("err = %v, want the throttling error", err)
	}
	h.wantPhase(PhaseReleasing, 1, "")
	h.handle(ev) // EventBridge's retry: not a duplicate, because it failed
	if n := len(h.w.releaseTasks()); n != 1 {
		t.Fatalf("%d release tasks", n)
	}
	// A throttled BatchGetBuilds keeps the heard-of build.
	h2 := newHarness(t, nil, nil)
	h2.w.startBuild("api", 1)
	h2.w.fail["BatchGetBuilds"] = []error{apiErr("ThrottlingException", "slow down")}
	if err := h2.cp.Handle(context.Background(), h2.ev.build("api", 1, "IN_PROGRESS")); err == nil {
		t.Fatalf("throttling not reported")
	}
	if st := h2.state(); len(st.Builds) != 1 {
		t.Fatalf("the heard-of build was lost: %+v", st.Builds)
	}
}

func TestConcurrentInvocationsStartOneRelease(t *testing.T) {
	for i := 0; i < 20; i++ {
		h := newHarness(t, nil, nil)
		h.w.finishBuild("api", 1, cbtypes.StatusTypeSucceeded, twMeta("api", 1, "bin/migrate", "web"))
		var wg sync.WaitGroup
		for j := 0; j < 2; j++ {
			e := h.ev.build("api", 1, "SUCCEEDED")
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := h.cp.Handle(context.Background(), e); err != nil && !errors.Is(err, ErrConflict) {
					t.Errorf("Handle: %v", err)
				}
			}()
		}
		wg.Wait()
		if n := len(h.w.releaseTasks()); n != 1 {
			t.Fatalf("%d release tasks from concurrent invocations", n)
		}
		h.wantPhase(PhaseReleasing, 1, "")
	}
}

func TestDeclaredCountIsRestoredAfterRollback(t *testing.T) {
	h := newHarness(t, nil, nil)
	h.deployBuild(1, twMeta("api", 1, "", "web"))
	m2 := twMeta("api", 2, "", "web")
	m2.Processes["web"] = contract.Process{Command: "bin/web", Count: aws.Int32(2)}
	h.w.finishBuild("api", 2, cbtypes.StatusTypeSucceeded, m2)
	h.handle(h.ev.build("api", 2, "SUCCEEDED"))
	h.w.failRollout("wharf-api_web", true)
	h.handle(h.ev.deployment("api", "web", "SERVICE_DEPLOYMENT_FAILED"))
	h.wantPhase(PhaseFailed, 2, ReasonDeploymentRolledBack)
	h.w.completeRollouts()
	// Scaled by hand meanwhile: the declared count is the only source.
	h.w.mu.Lock()
	h.w.services["wharf-api_web"].DesiredCount = 5
	h.w.mu.Unlock()
	h.w.resetCalls()
	h.deployBuild(3, twMeta("api", 3, "", "web"))
	ups := h.w.Calls("UpdateService")
	if len(ups) != 1 || aws.ToInt32(ups[0].Input.(*ecs.UpdateServiceInput).DesiredCount) != 1 {
		t.Fatalf("the rolled-back deploy's count was not restored: %+v", ups)
	}
}

func TestFailedRolloutRollsBackAndRemovesNewServices(t *testing.T) {
	h := newHarness(t, nil, nil)
	h.deployBuild(1, twMeta("api", 1, "", "web"))
	before := h.w.serviceTaskDef("wharf-api_web")
	h.w.finishBuild("api", 2, cbtypes.StatusTypeSucceeded, twMeta("api", 2, "", "web", "worker"))
	h.handle(h.ev.build("api", 2, "SUCCEEDED"))
	h.w.completeRollouts() // web completes...
	h.w.mu.Lock()
	p := primary(h.w.services["wharf-api_worker"])
	p.RolloutState = ecstypes.DeploymentRolloutStateFailed // ...the new worker fails
	h.w.mu.Unlock()
	h.handle(h.ev.deployment("api", "worker", "SERVICE_DEPLOYMENT_FAILED"))
	h.wantPhase(PhaseFailed, 2, ReasonDeploymentFailed)
	if got := h.w.serviceTaskDef("wharf-api_web"); got != before {
		t.Errorf("web left on %s, want %s", got, before)
	}
	if got := h.w.serviceTaskDef("wharf-api_worker"); got != "" {
		t.Errorf("worker of the failed build still runs %s", got)
	}
	if st := h.state(); !slices.Equal(st.Services, []string{"web"}) {
		t.Errorf("managed services = %v", st.Services)
	}
	hist, _ := h.store.History(context.Background(), twAccount, "api", 1)
	var phases []string
	for _, ph := range hist[0].Phases {
		phases = append(phases, ph.Name)
	}
	if !slices.Equal(phases, []string{"register", "services", "rollout", "rollback"}) {
		t.Errorf("phases = %v", phases)
	}
}

// failedFirstDeploy is an app whose first deploy (build 1: web and
// worker) failed on web's rollout with nothing to roll back to, while the
// worker's rollout completed.
func failedFirstDeploy(t *testing.T) *harness {
	h := newHarness(t, nil, nil)
	h.w.finishBuild("api", 1, cbtypes.StatusTypeSucceeded, twMeta("api", 1, "", "web", "worker"))
	h.handle(h.ev.build("api", 1, "SUCCEEDED"))
	h.w.failRollout("wharf-api_web", true) // nothing to roll back to
	h.handle(h.ev.deployment("api", "web", "SERVICE_DEPLOYMENT_FAILED"))
	h.wantPhase(PhaseFailed, 1, ReasonDeploymentFailed)
	return h
}

func TestFailedFirstDeploysLeaveOneBuild(t *testing.T) {
	h := failedFirstDeploy(t)
	if h.w.serviceTaskDef("wharf-api_worker") == "" || len(h.w.Calls("DeleteService")) != 0 {
		t.Fatalf("a failed first deploy deleted its own services")
	}
	h.w.finishBuild("api", 2, cbtypes.StatusTypeSucceeded, twMeta("api", 2, "", "web"))
	h.handle(h.ev.build("api", 2, "SUCCEEDED"))
	h.w.failRollout("wharf-api_web", false)
	h.handle(h.ev.deployment("api", "web", "SERVICE_DEPLOYMENT_FAILED"))
	h.wantPhase(PhaseFailed, 2, ReasonDeploymentFailed)
	if got := h.w.serviceTaskDef("wharf-api_worker"); got != "" {
		t.Fatalf("build 1's worker, which build 2 drops, still runs %s", got)
	}
	if st := h.state(); st.Deployed != nil || !slices.Equal(st.Services, []string{"web"}) {
		t.Fatalf("state = deployed %+v services %v", st.Deployed, st.Services)
	}
}

// Defect 3 of issue 8: the release task of a build is looked up with a
// ListTasks that ECS accepts. The fake refuses startedBy combined with any
// other filter, as ECS does ("When you specify startedBy as the filter, it
// must be the only filter that you use"), so a lookup that sends
// family + startedBy + desiredStatus fails before RunTask. The crash after
// RunTask, with the task stopped before the retry, checks that the lookup
// still finds a task ECS lists only as STOPPED, so it is not started again.
func TestReleaseTaskLookupIsOneECSAccepts(t *testing.T) {
	armed := false
	h := newHarness(t, &crashStore{MemoryStore: NewMemoryStore(), armed: &armed}, nil)
	h.w.finishBuild("api", 1, cbtypes.StatusTypeSucceeded, twMeta("api", 1, "bin/migrate", "web"))
	ev := h.ev.build("api", 1, "SUCCEEDED")
	h.w.after["RunTask"] = func() { armed = true }
	if err := h.cp.Handle(context.Background(), ev); err == nil {
		t.Fatalf("the crash was not reported")
	}
	h.w.after = map[string]func(){}
	task := h.releaseTask()
	h.w.stopTask(aws.ToString(task.TaskArn), ecstypes.TaskStopCodeEssentialContainerExited, aws.Int32(0), "Essential container in task exited")
	h.handle(ev) // EventBridge's retry
	if n := len(h.w.Calls("RunTask")); n != 1 {
		t.Fatalf("RunTask called %d times; the stopped release task was not found", n)
	}
	for _, c := range h.w.Calls("ListTasks") {
		in := c.Input.(*ecs.ListTasksInput)
		if in.StartedBy != nil && (in.Family != nil || in.DesiredStatus != "" || in.ServiceName != nil) {
			t.Errorf("ListTasks combines startedBy with another filter: %+v", in)
		}
	}
	h.wantPhase(PhaseDeploying, 1, "")
	h.w.completeRollouts()
	h.handle(h.ev.deployment("api", "web", "SERVICE_DEPLOYMENT_COMPLETED"))
	h.wantPhase(PhaseDeployed, 1, "")
	if rec, _ := h.store.History(context.Background(), twAccount, "api", 1); len(rec) != 1 || rec[0].ReleaseTask != aws.ToString(task.TaskArn) {
		t.Fatalf("history = %+v", rec)
	}
}

// Defect 4 of issue 8: a DescribeServices right after UpdateService may
// still show the previous deployment as PRIMARY (ECS is eventually
// consistent). That is "not visible yet", not a circuit-breaker rollback:
// the deploy goes on and completes, and no service is put back on the
// previous build. A real rollback (the circuit breaker's new deployment
// replaced ours, even once ours is gone from the list) is still one.
func TestStaleReadAfterUpdateIsNotARollback(t *testing.T) {
	t.Run("stale read", func(t *testing.T) {
		h := newHarness(t, nil, nil)
		h.deployBuild(1, twMeta("api", 1, "", "web"))
		before := h.w.serviceTaskDef("wharf-api_web")
		h.w.staleReads = 2
		h.w.resetCalls()
		h.w.finishBuild("api", 2, cbtypes.StatusTypeSucceeded, twMeta("api", 2, "", "web"))
		h.handle(h.ev.build("api", 2, "SUCCEEDED"))
		h.wantPhase(PhaseDeploying, 2, "")
		h.handle(h.ev.deployment("api", "web", "SERVICE_DEPLOYMENT_IN_PROGRESS"))
		h.wantPhase(PhaseDeploying, 2, "")
		if h.w.staleReads != 0 {
			t.Fatalf("the stale reads were not served (%d left)", h.w.staleReads)
		}
		ups := h.w.Calls("UpdateService")
		if len(ups) != 1 {
			t.Fatalf("UpdateService called %d times, want 1 (no rollback)", len(ups))
		}
		h.w.completeRollouts()
		h.handle(h.ev.deployment("api", "web", "SERVICE_DEPLOYMENT_COMPLETED"))
		h.wantPhase(PhaseDeployed, 2, "")
		if got := h.w.serviceTaskDef("wharf-api_web"); got == before {
			t.Fatalf("web is back on build 1's %s", got)
		}
	})
	t.Run("rollback whose failed deployment is gone", func(t *testing.T) {
		h := newHarness(t, nil, nil)
		h.deployBuild(1, twMeta("api", 1, "", "web"))
		before := h.w.serviceTaskDef("wharf-api_web")
		h.w.finishBuild("api", 2, cbtypes.StatusTypeSucceeded, twMeta("api", 2, "", "web"))
		h.handle(h.ev.build("api", 2, "SUCCEEDED"))
		h.w.failRollout("wharf-api_web", true)
		h.w.completeRollouts() // the rollback completes; build 2's deployment is dropped
		h.handle(h.ev.deployment("api", "web", "SERVICE_DEPLOYMENT_FAILED"))
		h.wantPhase(PhaseFailed, 2, ReasonDeploymentRolledBack)
		if got := h.w.serviceTaskDef("wharf-api_web"); got != before {
			t.Fatalf("web runs %s, want build 1's %s", got, before)
		}
	})
}

// settingsEvent is the Parameter Store Change of the app's settings.
func (e *twEvents) settings(app string) events.CloudWatchEvent {
	return e.envelope("aws.ssm", "Parameter Store Change",
		[]string{"arn:aws:ssm:eu-west-1:111122223333:parameter/wharf/apps/" + app + "/settings"},
		map[string]any{"operation": "Update", "name": "/wharf/apps/" + app + "/settings", "type": "String"})
}

// Defect 1 of issue 8: a change of the app's settings reaches the running
// services and the schedule targets without a new build: subnets,
// security groups, public IP, target group and container port reach
// ECS with an UpdateService of what differs, and the schedule rule's
// target gets the new network configuration. Fields that did not change
// are not sent.
func TestSettingsChangeReachesServicesAndSchedules(t *testing.T) {
	h := newHarness(t, nil, nil)
	meta := twMeta("api", 1, "", "web", "worker")
	meta.Schedules = []contract.Schedule{{Name: "nightly", Schedule: "cron(0 3 * * ? *)", Command: "bin/nightly"}}
	h.deployBuild(1, meta)
	h.w.resetCalls()

	const tg2 = "arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/wharf-api-2/def"
	h.w.putSettings("api", func(s *contract.Settings) {
		s.Subnets = []string{"subnet-3", "subnet-4"}
		s.SecurityGroups = []string{"sg-2"}
		s.AssignPublicIP = false
		s.TargetGroupARN = tg2
		s.ContainerPort = 9090
	})
	h.handle(h.ev.settings("api"))
	ups := map[string]*ecs.UpdateServiceInput{}
	for _, c := range h.w.Calls("UpdateService") {
		in := c.Input.(*ecs.UpdateServiceInput)
		ups[aws.ToString(in.Service)] = in
	}
	if len(ups) != 2 {
		t.Fatalf("UpdateService for %d services, want web and worker", len(ups))
	}
	for name, in := range ups {
		nc := in.NetworkConfiguration
		if nc == nil || nc.AwsvpcConfiguration == nil || !slices.Equal(nc.AwsvpcConfiguration.Subnets, []string{"subnet-3", "subnet-4"}) ||
			!slices.Equal(nc.AwsvpcConfiguration.SecurityGroups, []string{"sg-2"}) || nc.AwsvpcConfiguration.AssignPublicIp != ecstypes.AssignPublicIpDisabled {
			t.Errorf("%s: network configuration = %+v", name, nc)
		}
		if in.DesiredCount != nil {
			t.Errorf("%s: desired count sent although it did not change", name)
		}
	}
	web := ups["wharf-api_web"]
	if web == nil || len(web.LoadBalancers) != 1 || aws.ToString(web.LoadBalancers[0].TargetGroupArn) != tg2 ||
		aws.ToInt32(web.LoadBalancers[0].ContainerPort) != 9090 || aws.ToString(web.LoadBalancers[0].ContainerName) != contract.ContainerName {
		t.Fatalf("web load balancers = %+v", web)
	}
	if web.TaskDefinition == nil {
		t.Errorf("web: the container port changed, so its task definition must (port mapping)")
	}
	if w := ups["wharf-api_worker"]; w != nil && w.LoadBalancers != nil {
		t.Errorf("worker got load balancers %+v", w.LoadBalancers)
	}
	h.w.completeRollouts()
	h.handle(h.ev.deployment("api", "web", "SERVICE_DEPLOYMENT_COMPLETED"))
	h.wantPhase(PhaseDeployed, 1, "")
	pts := h.w.Calls("PutTargets")
	if len(pts) != 1 {
		t.Fatalf("PutTargets called %d times, want 1 (the schedule's network changed)", len(pts))
	}
	tgt := pts[0].Input.(*eventbridge.PutTargetsInput).Targets[0]
	if vpc := tgt.EcsParameters.NetworkConfiguration.AwsvpcConfiguration; !slices.Equal(vpc.Subnets, []string{"subnet-3", "subnet-4"}) ||
		!slices.Equal(vpc.SecurityGroups, []string{"sg-2"}) || vpc.AssignPublicIp != "DISABLED" {
		t.Errorf("schedule target network = %+v", vpc)
	}

	// Settled: another settings event (nothing changed) writes nothing.
	h.w.resetCalls()
	h.handle(h.ev.settings("api"))
	if n := len(h.w.Calls(writeOps...)); n != 0 {
		t.Fatalf("an unchanged setting made %d write calls: %v", n, h.w.Calls(writeOps...))
	}
}

// A launch type cannot change in place (UpdateService has no launchType
// and the reference lists no launch type to launch type transition): the
// service is deleted, and created again with the new one once ECS lets
// the name go.
func TestLaunchTypeChangeRecreatesTheService(t *testing.T) {
	h := newHarness(t, nil, nil)
	h.deployBuild(1, twMeta("api", 1, "", "web"))
	h.w.resetCalls()
	h.w.putSettings("api", func(s *contract.Settings) { s.LaunchType = "EC2" })
	h.handle(h.ev.settings("api"))
	if dels := h.w.Calls("DeleteService"); len(dels) != 1 {
		t.Fatalf("DeleteService calls = %d, want 1", len(dels))
	}
	if n := len(h.w.Calls("UpdateService", "CreateService")); n != 0 {
		t.Fatalf("%d service calls before the old service is gone", n)
	}
	h.wantPhase(PhaseDeploying, 1, "")
	h.w.mu.Lock()
	h.w.services["wharf-api_web"].Status = aws.String("DRAINING")
	h.w.mu.Unlock()
	h.handle(h.ev.deployment("api", "web", "SERVICE_DEPLOYMENT_IN_PROGRESS"))
	if n := len(h.w.Calls("CreateService")); n != 0 {
		t.Fatalf("created while the old service drains")
	}
	h.w.mu.Lock()
	h.w.services["wharf-api_web"].Status = aws.String("INACTIVE")
	h.w.mu.Unlock()
	h.clock.Advance(DefaultStuckAfter) // no event says the name is free: the sweep looks
	h.handle(h.ev.sweep())
	cs := h.w.Calls("CreateService")
	if len(cs) != 1 || cs[0].Input.(*ecs.CreateServiceInput).LaunchType != ecstypes.LaunchTypeEc2 {
		t.Fatalf("CreateService = %+v, want one with launch type EC2", cs)
	}
	h.w.completeRollouts()
	h.handle(h.ev.deployment("api", "web", "SERVICE_DEPLOYMENT_COMPLETED"))
	h.wantPhase(PhaseDeployed, 1, "")
}

// TestLostRunTaskAnswerWithLaggingListStartsOneRelease: RunTask starts the
// release task but its answer is lost, and ListTasks and DescribeTasks lag
// behind (the task is not listed yet). The retry must not start a second
// release: it sends the same client token, and ECS answers a retry "with
// the same client token and the same parameters" with the original
// request's result (ECS API reference, Ensuring idempotency).
func TestLostRunTaskAnswerWithLaggingListStartsOneRelease(t *testing.T) {
	h := newHarness(t, nil, nil)
	h.w.startBuild("api", 1)
	h.w.finishBuild("api", 1, cbtypes.StatusTypeSucceeded, twMeta("api", 1, "bin/migrate", "web"))
	h.w.mu.Lock()
	h.w.loseRunTask, h.w.hideTasks = 1, true
	h.w.mu.Unlock()
	if err := h.cp.Handle(context.Background(), h.ev.build("api", 1, "SUCCEEDED")); err == nil {
		t.Fatal("the invocation whose RunTask answer was lost succeeded")
	}
	h.clock.Advance(time.Second)
	h.handle(h.ev.build("api", 1, "SUCCEEDED"))
	h.w.mu.Lock()
	h.w.hideTasks = false
	h.w.mu.Unlock()
	if n := len(h.w.releaseTasks()); n != 1 {
		t.Fatalf("%d release tasks, want 1", n)
	}
	var tokens []string
	for _, c := range h.w.Calls("RunTask") {
		tokens = append(tokens, aws.ToString(c.Input.(*ecs.RunTaskInput).ClientToken))
	}
	if len(tokens) != 2 || tokens[0] != tokens[1] {
		t.Fatalf("RunTask client tokens %v, want the same token twice (the lost call and its retry)", tokens)
	}
	rt := h.releaseTask()
	if st := h.state(); st.Op == nil || st.Op.ReleaseTask != aws.ToString(rt.TaskArn) {
		t.Fatalf("the operation waits for %v, want the one release task %s", st.Op, aws.ToString(rt.TaskArn))
	}
}

// TestNewServiceNotVisibleYetIsWaitedFor: right after CreateService a
// lagging DescribeServices may not show the service (the ECS API
// reference: a command's result "might not be immediately visible to all
// subsequent commands you run"). The rollout waits for it; it does not go
// back to the services step, create it again and write the state each
// time (seed 993's trace showed 70 state writes in one invocation).
func TestNewServiceNotVisibleYetIsWaitedFor(t *testing.T) {
	h := newHarness(t, nil, nil)
	h.w.mu.Lock()
	h.w.newServiceLag = 3
	h.w.mu.Unlock()
	h.w.startBuild("api", 1)
	h.w.finishBuild("api", 1, cbtypes.StatusTypeSucceeded, twMeta("api", 1, "", "web", "worker"))
	h.handle(h.ev.build("api", 1, "SUCCEEDED"))
	if n := len(h.w.Calls("CreateService")); n != 2 {
		t.Errorf("%d CreateService calls, want 2 (one per service; a lagging read is not a vanished service)", n)
	}
	h.wantPhase(PhaseDeploying, 1, "")
	if st := h.state(); st.Op == nil || st.Op.Step != StepRollout {
		t.Fatalf("operation %+v, want it waiting in the rollout step", st.Op)
	}
	for range 3 {
		h.clock.Advance(10 * time.Second)
		h.handle(h.ev.deployment("api", "web", "SERVICE_DEPLOYMENT_IN_PROGRESS"))
	}
	h.w.completeRollouts()
	h.handle(h.ev.deployment("api", "web", "SERVICE_DEPLOYMENT_COMPLETED"))
	h.wantPhase(PhaseDeployed, 1, "")
	if n := len(h.w.Calls("CreateService")); n != 2 {
		t.Errorf("%d CreateService calls in all, want 2", n)
	}
}

// drainAndFree marks the named services INACTIVE, as ECS does once a
// deleted service has drained, so the name can be created again.
func (w *twWorld) drainAndFree(names ...string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, n := range names {
		if s := w.services[n]; s != nil && aws.ToString(s.Status) != "ACTIVE" {
			s.Status = aws.String("INACTIVE")
		}
	}
}

// Seed 1422 of the simulator (issue 8): a first deploy whose web rollout
// fails with nothing to roll back to leaves the worker running the failed
// build (docs/controlplane.md). A later settings change must still reach
// it: the control plane keeps what the leftover services run and retries
// that build with the new settings; when the retry's rollouts complete,
// the build is deployed and becomes a rollback target.
func TestLeftoverServicesOfAFailedFirstDeployFollowSettings(t *testing.T) {
	h := failedFirstDeploy(t)
	if st := h.state(); st.Deployed != nil || st.Leftover == nil || st.Leftover.Build != 1 {
		t.Fatalf("after the failed first deploy: deployed %+v, leftover %+v; want the leftover build 1", st.Deployed, st.Leftover)
	}
	h.w.resetCalls()
	h.w.putSettings("api", func(s *contract.Settings) { s.LaunchType = "EC2" })
	h.handle(h.ev.settings("api"))
	if dels := h.w.Calls("DeleteService"); len(dels) != 2 {
		t.Fatalf("DeleteService calls = %d, want 2 (web and worker cannot change launch type in place)", len(dels))
	}
	h.wantPhase(PhaseDeploying, 1, "")
	h.w.drainAndFree("wharf-api_web", "wharf-api_worker")
	h.clock.Advance(DefaultStuckAfter)
	h.handle(h.ev.sweep())
	cs := h.w.Calls("CreateService")
	if len(cs) != 2 {
		t.Fatalf("CreateService calls = %d, want 2", len(cs))
	}
	for _, c := range cs {
		if in := c.Input.(*ecs.CreateServiceInput); in.LaunchType != ecstypes.LaunchTypeEc2 {
			t.Fatalf("%s created with launch type %q, want EC2", aws.ToString(in.ServiceName), in.LaunchType)
		}
	}
	h.settle()
	h.wantPhase(PhaseDeployed, 1, "")
	st := h.state()
	if st.Deployed == nil || st.Deployed.Build != 1 || st.Leftover != nil {
		t.Fatalf("after the retry: deployed %+v, leftover %+v", st.Deployed, st.Leftover)
	}
	if !slices.ContainsFunc(st.Releases, func(r Release) bool { return r.Build == 1 }) {
		t.Fatalf("build 1 is not a rollback target after it deployed: %+v", st.Releases)
	}
}

// A retry of a failed first deploy that fails again is not retried until
// the settings change again (no loop of restarts), and the leftover then
// is what the retry left running.
func TestFailedRetryOfALeftoverIsNotRepeated(t *testing.T) {
	h := failedFirstDeploy(t)
	before := h.state().Leftover
	h.w.putSettings("api", func(s *contract.Settings) { s.AssignPublicIP = !s.AssignPublicIP })
	h.handle(h.ev.settings("api"))
	h.wantPhase(PhaseDeploying, 1, "")
	if n := len(h.w.Calls("UpdateService")); n == 0 {
		t.Fatalf("the public-IP change made no UpdateService")
	}
	h.w.failRollout("wharf-api_web", false) // still no completed deployment to go back to
	h.handle(h.ev.deployment("api", "web", "SERVICE_DEPLOYMENT_FAILED"))
	h.wantPhase(PhaseFailed, 1, ReasonDeploymentFailed)
	st := h.state()
	if st.Deployed != nil || st.Leftover == nil || st.Leftover.SettingsHash == before.SettingsHash {
		t.Fatalf("after the failed retry: deployed %+v, leftover %+v (before %+v)", st.Deployed, st.Leftover, before)
	}
	h.w.resetCalls()
	h.clock.Advance(DefaultStuckAfter)
	h.handle(h.ev.sweep())
	h.handle(h.ev.settings("api"))
	if n := len(h.w.Calls(writeOps...)); n != 0 {
		t.Fatalf("the failed retry was repeated: %v", h.w.Calls(writeOps...))
	}
}

// Seed 1997 of the simulator: a service deleted between the services
// step's DescribeServices and its UpdateService (another invocation's
// deploy dropped the process) is DRAINING. ECS answers the UpdateService
// with ServiceNotActiveException, as for an INACTIVE service, and refuses
// a CreateService of the name while it drains ("Creation of service was
// not idempotent"). The deploy must read the service again and wait for
// the drain, not fail the build as rejected.
func TestServiceDrainingUnderAnUpdateIsWaitedFor(t *testing.T) {
	h := newHarness(t, nil, nil)
	h.deployBuild(1, twMeta("api", 1, "", "web", "worker"))
	h.w.after["UpdateService"] = func() { // called with the world locked
		if s := h.w.services["wharf-api_worker"]; s != nil && aws.ToString(s.Status) == "ACTIVE" {
			s.Status = aws.String("DRAINING")
		}
	}
	h.w.finishBuild("api", 2, cbtypes.StatusTypeSucceeded, twMeta("api", 2, "", "web", "worker"))
	h.handle(h.ev.build("api", 2, "SUCCEEDED"))
	delete(h.w.after, "UpdateService")
	if st := h.state(); st.Phase == PhaseFailed {
		t.Fatalf("build 2 failed while worker's old service drained: %s %s", st.Reason, st.Detail)
	}
	h.wantPhase(PhaseDeploying, 2, "")
	h.w.drainAndFree("wharf-api_worker")
	h.clock.Advance(DefaultStuckAfter)
	h.handle(h.ev.sweep())
	cs := h.w.Calls("CreateService")
	if len(cs) == 0 || aws.ToString(cs[len(cs)-1].Input.(*ecs.CreateServiceInput).ServiceName) != "wharf-api_worker" {
		t.Fatalf("worker not created again once its old service was gone: %d CreateService", len(cs))
	}
	h.settle()
	h.wantPhase(PhaseDeployed, 2, "")
}

// A restart request while only a failed first deploy's services run
// restarts them (the common fix for a first deploy that failed on a
// dependency that has since come up): one new deployment per service of
// the leftover build; when they complete, the build is deployed.
func TestRestartRetriesTheLeftoverOfAFailedFirstDeploy(t *testing.T) {
	h := failedFirstDeploy(t)
	h.w.resetCalls()
	h.handle(h.putRequest(contract.RestartKey, contract.RestartRequest{Version: 1, ID: "r1"}))
	st := h.state()
	if len(st.Refusals) != 0 {
		t.Fatalf("restart refused: %+v", st.Refusals)
	}
	forced := 0
	for _, c := range h.w.Calls("UpdateService") {
		if c.Input.(*ecs.UpdateServiceInput).ForceNewDeployment {
			forced++
		}
	}
	if forced != 2 {
		t.Fatalf("%d forced new deployments, want 2 (web and worker of build 1)", forced)
	}
	h.settle()
	h.wantPhase(PhaseDeployed, 1, "")
	if st := h.state(); st.Deployed == nil || st.Deployed.Build != 1 || st.Leftover != nil {
		t.Fatalf("after the restart: deployed %+v, leftover %+v", st.Deployed, st.Leftover)
	}
}
