package integration_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	cbtypes "github.com/aws/aws-sdk-go-v2/service/codebuild/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"

	"github.com/wharf-paas/wharf/controlplane"
	"github.com/wharf-paas/wharf/controlplane/awsfake"
	"github.com/wharf-paas/wharf/controlplane/integration"
)

// worlds numbers the worlds of this process: kumo keeps one global state
// per process, so each world uses its own table and app name.
var worlds atomic.Int64

// world is one control plane with real SDK clients over HTTP: DynamoDB,
// STS, SSM and EventBridge on kumo, ECS, CodeBuild and S3 on awsfake.
type world struct {
	t     testing.TB
	ctx   context.Context
	env   *integration.Env
	app   *integration.App
	cp    *controlplane.ControlPlane
	store controlplane.Store
	drv   *integration.Driver
	table string
}

// name is the ECS name (family and service) of a process type.
func (w *world) name(proc string) string { return "wharf-" + w.app.Name + "_" + proc }

func newWorld(t *testing.T) *world {
	t.Helper()
	return newWorldTB(t)
}

func newWorldTB(t testing.TB, opts ...func(*controlplane.Options)) *world {
	t.Helper()
	ctx := context.Background()
	env, err := integration.NewEnv()
	if err != nil {
		t.Fatalf("integration env: %v", err)
	}
	t.Cleanup(env.Close)
	id := worlds.Add(1)
	table := fmt.Sprintf("wharf-controlplane-%d", id)
	app, err := env.AddApp(ctx, fmt.Sprintf("api%d", id))
	if err != nil {
		t.Fatal(err)
	}
	if err := env.PutConfig(ctx, app, "DATABASE_URL", "postgres://user:do-not-log@db/api"); err != nil {
		t.Fatal(err)
	}
	if err := env.CreateTable(ctx, table); err != nil {
		t.Fatal(err)
	}
	provider, err := env.Provider()
	if err != nil {
		t.Fatal(err)
	}
	store := env.Store(table)
	o := controlplane.Options{
		Registry: env.Registry,
		Store:    store,
		Clients:  provider,
		Now:      time.Now,
		Logger:   slog.New(slog.NewJSONHandler(io.Discard, nil)),
	}
	for _, fn := range opts {
		fn(&o)
	}
	cp, err := controlplane.New(o)
	if err != nil {
		t.Fatalf("new control plane: %v", err)
	}
	w := &world{t: t, ctx: ctx, env: env, app: app, cp: cp, store: store, table: table}
	w.drv = &integration.Driver{Env: env, App: app, Deliver: func(ctx context.Context, ev integration.Event) error {
		return cp.Handle(ctx, ev.CloudWatch())
	}}
	return w
}

func (w *world) state() *controlplane.AppState {
	w.t.Helper()
	st, err := w.store.LoadApp(w.ctx, integration.Account, w.app.Name)
	if err != nil {
		w.t.Fatalf("load state: %v", err)
	}
	return st
}

func (w *world) wantPhase(p controlplane.Phase, build int64) {
	w.t.Helper()
	st := w.state()
	if st.Phase != p || st.Build != build {
		w.t.Fatalf("phase = %q build %d (reason %q: %s), want %q build %d", st.Phase, st.Build, st.Reason, st.Detail, p, build)
	}
}

func (w *world) must(err error) {
	w.t.Helper()
	if err != nil {
		w.t.Fatal(err)
	}
}

func opsOf(calls []awsfake.Call) []string {
	var out []string
	for _, c := range calls {
		out = append(out, c.Op)
	}
	return out
}

func TestBuildReleaseDeploy(t *testing.T) {
	w := newWorld(t)
	m := w.app.Metadata(1, "bin/migrate", "web", "worker")
	m.Schedules = []integration.Schedule{{Name: "nightly", Schedule: "cron(0 3 * * ? *)", Command: "bin/nightly"}}

	w.must(w.drv.StartBuild(w.ctx, m))
	if writes := w.env.Fake.WriteCalls(); len(writes) != 0 {
		t.Fatalf("build started: ECS writes %v, want none", opsOf(writes))
	}

	w.must(w.drv.EndBuild(w.ctx, m, cbtypes.StatusTypeSucceeded))
	w.wantPhase(controlplane.PhaseReleasing, 1)
	for _, fam := range []string{w.name("web"), w.name("worker"), w.name("release")} {
		if tds := w.env.Fake.TaskDefinitions(fam); len(tds) != 1 {
			t.Errorf("family %s has %d revisions, want 1", fam, len(tds))
		}
	}
	web := w.env.Fake.TaskDefinitions(w.name("web"))[0]
	if aws.ToString(web.ContainerDefinitions[0].Image) != m.Image || aws.ToString(web.Cpu) != "512" {
		t.Errorf("web task definition: image %s cpu %s", aws.ToString(web.ContainerDefinitions[0].Image), aws.ToString(web.Cpu))
	}
	// The config parameter reaches the container as a secret, by ARN or
	// name, never by value.
	secrets := web.ContainerDefinitions[0].Secrets
	if len(secrets) != 1 || aws.ToString(secrets[0].Name) != "DATABASE_URL" || strings.Contains(aws.ToString(secrets[0].ValueFrom), "do-not-log") {
		t.Errorf("web secrets = %+v", secrets)
	}
	release := w.drv.ReleaseTasks(1)
	if len(release) != 1 {
		t.Fatalf("release tasks = %d, want 1", len(release))
	}
	if got := w.env.Fake.CallsTo("RunTask"); len(got) != 1 || aws.ToString(got[0].Input.(*ecs.RunTaskInput).ClientToken) == "" {
		t.Errorf("RunTask calls = %d (a deterministic clientToken is required)", len(got))
	}
	if fam := aws.ToString(release[0].TaskDefinitionArn); !strings.Contains(fam, "task-definition/"+w.name("release")+":") {
		t.Errorf("release task definition = %s", fam)
	}
	if n := len(w.env.Fake.CallsTo("CreateService")); n != 0 {
		t.Fatalf("services created before the release finished: %d", n)
	}

	w.env.Fake.ResetCalls()
	w.must(w.drv.FinishRelease(w.ctx, 1, awsfake.TaskOutcome{}))
	w.wantPhase(controlplane.PhaseDeploying, 1)
	creates := w.env.Fake.CallsTo("CreateService")
	if len(creates) != 2 {
		t.Fatalf("CreateService calls = %v, want web and worker", opsOf(creates))
	}
	for _, c := range creates {
		in := c.Input.(*ecs.CreateServiceInput)
		name := aws.ToString(in.ServiceName)
		switch name {
		case w.name("web"):
			if len(in.LoadBalancers) != 1 || aws.ToString(in.LoadBalancers[0].TargetGroupArn) != integration.TargetARN || aws.ToInt32(in.LoadBalancers[0].ContainerPort) != 8080 {
				t.Errorf("web load balancers = %+v", in.LoadBalancers)
			}
			if aws.ToInt32(in.DesiredCount) != 2 {
				t.Errorf("web desired count = %d, want 2", aws.ToInt32(in.DesiredCount))
			}
		case w.name("worker"):
			if len(in.LoadBalancers) != 0 {
				t.Errorf("worker attached to a load balancer: %+v", in.LoadBalancers)
			}
		default:
			t.Errorf("unexpected service %s", name)
		}
		if aws.ToString(in.ClientToken) == "" {
			t.Errorf("CreateService %s without clientToken", name)
		}
	}
	n, err := w.drv.CompleteDeployments(w.ctx)
	w.must(err)
	if n != 2 {
		t.Fatalf("completed deployments = %d, want 2", n)
	}
	w.wantPhase(controlplane.PhaseDeployed, 1)
	// Schedule rules follow the deployed build, once its services settled.
	rules, err := w.env.EventBridge.ListRules(w.ctx, &eventbridge.ListRulesInput{NamePrefix: aws.String(w.name("schedule-"))})
	w.must(err)
	if len(rules.Rules) != 1 || aws.ToString(rules.Rules[0].Name) != w.name("schedule-nightly") || aws.ToString(rules.Rules[0].ScheduleExpression) != "cron(0 3 * * ? *)" {
		t.Errorf("schedule rules = %+v", rules.Rules)
	}

	targets, err := w.env.EventBridge.ListTargetsByRule(w.ctx, &eventbridge.ListTargetsByRuleInput{Rule: aws.String(w.name("schedule-nightly"))})
	w.must(err)
	if len(targets.Targets) != 1 || targets.Targets[0].EcsParameters == nil ||
		!strings.Contains(aws.ToString(targets.Targets[0].EcsParameters.TaskDefinitionArn), w.name("release")) {
		t.Errorf("schedule targets = %+v", targets.Targets)
	}
	hist, err := w.store.History(w.ctx, integration.Account, w.app.Name, 0)
	w.must(err)
	if len(hist) != 1 || hist[0].Outcome != controlplane.OutcomeDeployed || hist[0].ReleaseTask != aws.ToString(release[0].TaskArn) || len(hist[0].Phases) == 0 {
		t.Errorf("history = %+v", hist)
	}

	// Every event delivered again changes nothing and writes nothing.
	w.env.Fake.ResetCalls()
	w.env.Log.Reset()
	for _, ev := range w.drv.Delivered {
		w.must(w.drv.Redeliver(w.ctx, ev))
	}
	if writes := w.env.Log.Writes(); len(writes) != 0 {
		t.Errorf("duplicate events made write calls: %+v", writes)
	}
	w.wantPhase(controlplane.PhaseDeployed, 1)
}

func TestNoReleaseCommandGoesStraightToServices(t *testing.T) {
	w := newWorld(t)
	m := w.app.Metadata(1, "", "web")
	w.must(w.drv.StartBuild(w.ctx, m))
	w.must(w.drv.EndBuild(w.ctx, m, cbtypes.StatusTypeSucceeded))
	w.wantPhase(controlplane.PhaseDeploying, 1)
	if n := len(w.env.Fake.CallsTo("RunTask")); n != 0 {
		t.Errorf("RunTask calls = %d, want 0", n)
	}
	_, err := w.drv.CompleteDeployments(w.ctx)
	w.must(err)
	w.wantPhase(controlplane.PhaseDeployed, 1)
}

func TestThrottlingThenRedeliverySucceeds(t *testing.T) {
	w := newWorld(t)
	m := w.app.Metadata(1, "bin/migrate", "web")
	w.must(w.drv.StartBuild(w.ctx, m))
	w.env.Fake.FailNext("RunTask", 1, awsfake.ThrottlingError())
	err := w.drv.EndBuild(w.ctx, m, cbtypes.StatusTypeSucceeded)
	if err == nil {
		t.Fatal("throttled RunTask (no SDK retries) did not fail the invocation")
	}
	// EventBridge retries the failed invocation with the same event.
	w.must(w.drv.Redeliver(w.ctx, w.drv.Delivered[len(w.drv.Delivered)-1]))
	w.wantPhase(controlplane.PhaseReleasing, 1)
	if n := len(w.drv.ReleaseTasks(1)); n != 1 {
		t.Fatalf("release tasks = %d, want exactly 1", n)
	}
	calls := w.env.Fake.CallsTo("RunTask")
	if len(calls) != 2 || calls[0].ErrorCode != "ThrottlingException" {
		t.Errorf("RunTask calls = %+v", calls)
	}
	// A retried RunTask reuses the client token, so ECS cannot start a
	// second task even if the throttled call had gone through.
	t0 := aws.ToString(calls[0].Input.(*ecs.RunTaskInput).ClientToken)
	t1 := aws.ToString(calls[1].Input.(*ecs.RunTaskInput).ClientToken)
	if t0 == "" || t0 != t1 {
		t.Errorf("client tokens %q and %q differ", t0, t1)
	}
	w.must(w.drv.FinishRelease(w.ctx, 1, awsfake.TaskOutcome{}))
	_, err = w.drv.CompleteDeployments(w.ctx)
	w.must(err)
	w.wantPhase(controlplane.PhaseDeployed, 1)
}

func TestServerErrorOnDescribeIsRetried(t *testing.T) {
	w := newWorld(t)
	m := w.app.Metadata(1, "", "web")
	w.must(w.drv.StartBuild(w.ctx, m))
	w.env.Fake.FailNext("BatchGetBuilds", 1, awsfake.ServerError())
	if err := w.drv.EndBuild(w.ctx, m, cbtypes.StatusTypeSucceeded); err == nil {
		t.Fatal("CodeBuild 500 did not fail the invocation")
	}
	w.must(w.drv.Redeliver(w.ctx, w.drv.Delivered[len(w.drv.Delivered)-1]))
	w.wantPhase(controlplane.PhaseDeploying, 1)
}

func TestRunTaskFailuresFailTheRelease(t *testing.T) {
	w := newWorld(t)
	m := w.app.Metadata(1, "bin/migrate", "web")
	w.must(w.drv.StartBuild(w.ctx, m))
	w.env.Fake.QueueRunTaskFailures(awsfake.CapacityFailure())
	// RunTask returned HTTP 200 with a failure: that is not a started task.
	_ = w.drv.EndBuild(w.ctx, m, cbtypes.StatusTypeSucceeded)
	st := w.state()
	if len(w.drv.ReleaseTasks(1)) != 0 {
		t.Fatal("a release task exists although RunTask failed")
	}
	if st.Phase == controlplane.PhaseFailed {
		if st.Reason != controlplane.ReasonReleaseFailedToStart {
			t.Errorf("reason = %q, want %q", st.Reason, controlplane.ReasonReleaseFailedToStart)
		}
		if !strings.Contains(st.Detail, "Capacity is unavailable") {
			t.Errorf("detail %q does not carry ECS's failure reason", st.Detail)
		}
	} else if st.Phase != controlplane.PhaseReleasing {
		t.Errorf("phase = %q, want failed (or releasing, to retry)", st.Phase)
	}
	if n := len(w.env.Fake.CallsTo("CreateService")); n != 0 {
		t.Errorf("services created after a failed release: %d", n)
	}
}

func TestReleaseExitCodeOneLeavesServicesUntouched(t *testing.T) {
	w := newWorld(t)
	w.must(w.drv.Deploy(w.ctx, w.app.Metadata(1, "bin/migrate", "web", "worker")))
	w.wantPhase(controlplane.PhaseDeployed, 1)
	before := w.env.Fake.Services()

	m2 := w.app.Metadata(2, "bin/migrate", "web", "worker")
	w.must(w.drv.StartBuild(w.ctx, m2))
	w.must(w.drv.EndBuild(w.ctx, m2, cbtypes.StatusTypeSucceeded))
	w.env.Fake.ResetCalls()
	w.must(w.drv.FinishRelease(w.ctx, 2, awsfake.TaskOutcome{ExitCode: 1}))
	w.wantPhase(controlplane.PhaseFailed, 2)
	if st := w.state(); st.Reason != controlplane.ReasonReleaseFailed {
		t.Errorf("reason = %q, want %q", st.Reason, controlplane.ReasonReleaseFailed)
	}
	for _, c := range w.env.Fake.WriteCalls() {
		if c.Op == "UpdateService" || c.Op == "CreateService" || c.Op == "DeleteService" {
			t.Errorf("failed release touched services: %s", c.Op)
		}
	}
	after := w.env.Fake.Services()
	for i := range before {
		if aws.ToString(before[i].TaskDefinition) != aws.ToString(after[i].TaskDefinition) {
			t.Errorf("service %s moved to %s", aws.ToString(after[i].ServiceName), aws.ToString(after[i].TaskDefinition))
		}
	}
	hist, err := w.store.History(w.ctx, integration.Account, w.app.Name, 1)
	w.must(err)
	if len(hist) != 1 || hist[0].Build != 2 || hist[0].Outcome != controlplane.OutcomeFailed || hist[0].Reason != controlplane.ReasonReleaseFailed {
		t.Errorf("history = %+v", hist)
	}
}

func TestReleaseFailedToStart(t *testing.T) {
	w := newWorld(t)
	m := w.app.Metadata(1, "bin/migrate", "web")
	w.must(w.drv.StartBuild(w.ctx, m))
	w.must(w.drv.EndBuild(w.ctx, m, cbtypes.StatusTypeSucceeded))
	w.must(w.drv.FinishRelease(w.ctx, 1, awsfake.FailedToStart("")))
	w.wantPhase(controlplane.PhaseFailed, 1)
	if st := w.state(); st.Reason != controlplane.ReasonReleaseFailedToStart {
		t.Errorf("reason = %q, want %q", st.Reason, controlplane.ReasonReleaseFailedToStart)
	}
}

func TestBuildFailed(t *testing.T) {
	w := newWorld(t)
	m := w.app.Metadata(1, "", "web")
	w.must(w.drv.StartBuild(w.ctx, m))
	w.must(w.drv.EndBuild(w.ctx, m, cbtypes.StatusTypeFailed))
	w.wantPhase(controlplane.PhaseFailed, 1)
	if st := w.state(); st.Reason != controlplane.ReasonBuildFailed {
		t.Errorf("reason = %q", st.Reason)
	}
	if writes := w.env.Fake.WriteCalls(); len(writes) != 0 {
		t.Errorf("failed build made ECS writes: %v", opsOf(writes))
	}
}

func TestServiceDeletedBehindOurBackIsRecreated(t *testing.T) {
	w := newWorld(t)
	w.must(w.drv.Deploy(w.ctx, w.app.Metadata(1, "", "web", "worker")))
	w.wantPhase(controlplane.PhaseDeployed, 1)
	cluster := w.env.ClusterARN
	w.must(w.env.Fake.SetServiceStatus(cluster, w.name("worker"), awsfake.StatusInactive))

	w.env.Fake.ResetCalls()
	w.must(w.drv.Deploy(w.ctx, w.app.Metadata(2, "", "web", "worker")))
	w.wantPhase(controlplane.PhaseDeployed, 2)
	var created []string
	for _, c := range w.env.Fake.CallsTo("CreateService") {
		created = append(created, aws.ToString(c.Input.(*ecs.CreateServiceInput).ServiceName))
	}
	if !slices.Equal(created, []string{w.name("worker")}) {
		t.Errorf("created = %v, want the INACTIVE worker re-created", created)
	}
	svc, _ := w.env.Fake.Service(cluster, w.name("worker"))
	if aws.ToString(svc.Status) != awsfake.StatusActive || !strings.HasSuffix(aws.ToString(svc.TaskDefinition), w.name("worker")+":2") {
		t.Errorf("worker = %s on %s", aws.ToString(svc.Status), aws.ToString(svc.TaskDefinition))
	}
}

func TestServiceNotFoundOnUpdateIsHandled(t *testing.T) {
	w := newWorld(t)
	w.must(w.drv.Deploy(w.ctx, w.app.Metadata(1, "", "web")))
	// The service vanishes between DescribeServices and UpdateService.
	w.env.Fake.BeforeNext("UpdateService", func() {
		if err := w.env.Fake.ForgetService(w.env.ClusterARN, w.name("web")); err != nil {
			t.Error(err)
		}
	})
	m2 := w.app.Metadata(2, "", "web")
	w.must(w.drv.StartBuild(w.ctx, m2))
	if err := w.drv.EndBuild(w.ctx, m2, cbtypes.StatusTypeSucceeded); err != nil {
		// An error asks EventBridge to retry; the retry must converge.
		w.must(w.drv.Redeliver(w.ctx, w.drv.Delivered[len(w.drv.Delivered)-1]))
	}
	_, err := w.drv.CompleteDeployments(w.ctx)
	w.must(err)
	w.wantPhase(controlplane.PhaseDeployed, 2)
	svc, _ := w.env.Fake.Service(w.env.ClusterARN, w.name("web"))
	if !strings.HasSuffix(aws.ToString(svc.TaskDefinition), w.name("web")+":2") {
		t.Errorf("web runs %s, want revision 2", aws.ToString(svc.TaskDefinition))
	}
}

func TestRemovedProcessTypeIsDeleted(t *testing.T) {
	w := newWorld(t)
	w.must(w.drv.Deploy(w.ctx, w.app.Metadata(1, "", "web", "worker")))
	w.must(w.drv.Deploy(w.ctx, w.app.Metadata(2, "", "web")))
	w.wantPhase(controlplane.PhaseDeployed, 2)
	dels := w.env.Fake.CallsTo("DeleteService")
	if len(dels) != 1 || aws.ToString(dels[0].Input.(*ecs.DeleteServiceInput).Service) != w.name("worker") {
		t.Errorf("DeleteService calls = %+v", dels)
	}
}

func TestDeploymentRolledBack(t *testing.T) {
	w := newWorld(t)
	w.must(w.drv.Deploy(w.ctx, w.app.Metadata(1, "", "web")))
	m2 := w.app.Metadata(2, "", "web")
	w.must(w.drv.StartBuild(w.ctx, m2))
	w.must(w.drv.EndBuild(w.ctx, m2, cbtypes.StatusTypeSucceeded))
	svc, err := w.env.Fake.FailDeployment(w.env.ClusterARN, w.name("web"), "ECS deployment circuit breaker: task failed to start.")
	w.must(err)
	failed := svc
	failed.Deployments = svc.Deployments[1:] // the FAILED deployment
	ev, err := w.env.Samples.DeploymentStateChange(failed, "SERVICE_DEPLOYMENT_FAILED")
	w.must(err)
	w.must(w.drv.Redeliver(w.ctx, ev))
	st := w.state()
	if st.Phase != controlplane.PhaseFailed || (st.Reason != controlplane.ReasonDeploymentRolledBack && st.Reason != controlplane.ReasonDeploymentFailed) {
		t.Errorf("phase %q reason %q, want failed with a deployment reason", st.Phase, st.Reason)
	}
}

func TestForeignAccountEventIsRejectedWithoutCalls(t *testing.T) {
	w := newWorld(t)
	ev, err := w.env.Samples.BuildStateChange("999999999999", integration.Region, w.app.BuildID(1), "SUCCEEDED", 1, w.app.ArtifactLocation(1))
	w.must(err)
	w.env.Log.Reset()
	if err := w.cp.Handle(w.ctx, ev.CloudWatch()); err != nil {
		t.Errorf("rejected event returned %v, want nil (no retry)", err)
	}
	for _, c := range w.env.Log.Calls() {
		if c.Service != "dynamodb" {
			t.Errorf("rejected event made AWS call %s.%s", c.Service, c.Op)
		}
	}
	if len(w.env.Fake.Calls()) != 0 {
		t.Errorf("rejected event reached ECS/CodeBuild/S3: %v", opsOf(w.env.Fake.Calls()))
	}
}

func TestConfigChangeRestartsServices(t *testing.T) {
	w := newWorld(t)
	w.must(w.drv.Deploy(w.ctx, w.app.Metadata(1, "", "web")))
	w.must(w.env.PutConfig(w.ctx, w.app, "DATABASE_URL", "postgres://new"))
	ev, err := w.env.Samples.ParameterChange(integration.Account, integration.Region, w.app.Settings.ConfigPrefix+"DATABASE_URL", "Update", "SecureString")
	w.must(err)
	w.env.Fake.ResetCalls()
	w.must(w.drv.Redeliver(w.ctx, ev))
	ups := w.env.Fake.CallsTo("UpdateService")
	if len(ups) != 1 {
		t.Fatalf("UpdateService calls = %d, want 1 rolling restart", len(ups))
	}
	_, err = w.drv.CompleteDeployments(w.ctx)
	w.must(err)
	w.wantPhase(controlplane.PhaseDeployed, 1)
}

func TestTypedErrorsReachTheControlPlane(t *testing.T) {
	// The adapters must see the SDK's typed errors from the wire, which the
	// state machine matches with errors.As.
	w := newWorld(t)
	provider, err := w.env.Provider()
	w.must(err)
	clients, err := provider.ForApp(w.ctx, w.app.Registration)
	w.must(err)
	_, err = clients.ECS.UpdateService(w.ctx, &ecs.UpdateServiceInput{Cluster: aws.String(w.env.ClusterARN), Service: aws.String(w.name("nope"))})
	var snf *ecstypes.ServiceNotFoundException
	if !errors.As(err, &snf) {
		t.Errorf("err = %v, want ServiceNotFoundException", err)
	}
}

func TestSweepStopsReleaseThatTimedOut(t *testing.T) {
	now := time.Now()
	w := newWorldTB(t, func(o *controlplane.Options) { o.Now = func() time.Time { return now } })
	m := w.app.Metadata(1, "bin/migrate", "web")
	w.must(w.drv.StartBuild(w.ctx, m))
	w.must(w.drv.EndBuild(w.ctx, m, cbtypes.StatusTypeSucceeded))
	task := w.drv.ReleaseTasks(1)[0]
	if _, err := w.env.Fake.StartTask(aws.ToString(task.TaskArn)); err != nil {
		t.Fatal(err)
	}
	// The task's events are lost; the sweep finds the release stuck.
	now = now.Add(controlplane.DefaultReleaseTimeout + time.Minute)
	sweep := events.CloudWatchEvent{ID: "sweep-1", Source: "aws.events", DetailType: "Scheduled Event",
		AccountID: integration.Account, Region: integration.Region, Time: now, Detail: []byte("{}")}
	w.must(w.cp.Handle(w.ctx, sweep))
	w.wantPhase(controlplane.PhaseFailed, 1)
	if st := w.state(); st.Reason != controlplane.ReasonReleaseTimedOut {
		t.Errorf("reason = %q, want %q", st.Reason, controlplane.ReasonReleaseTimedOut)
	}
	stops := w.env.Fake.CallsTo("StopTask")
	if len(stops) != 1 || aws.ToString(stops[0].Input.(*ecs.StopTaskInput).Task) != aws.ToString(task.TaskArn) {
		t.Errorf("StopTask calls = %+v", stops)
	}
	if got, _ := w.env.Fake.Task(aws.ToString(task.TaskArn)); aws.ToString(got.LastStatus) != awsfake.TaskStopped {
		t.Errorf("release task is %s", aws.ToString(got.LastStatus))
	}
	if n := len(w.env.Fake.CallsTo("CreateService")); n != 0 {
		t.Errorf("services created after a timed-out release: %d", n)
	}
}
