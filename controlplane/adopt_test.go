package controlplane

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cbtypes "github.com/aws/aws-sdk-go-v2/service/codebuild/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/wharf-paas/wharf/contract"
)

// deployWrites are the ECS calls that deploy something.
var deployWrites = []string{"RegisterTaskDefinition", "RunTask", "UpdateService", "CreateService", "DeleteService"}

// loseState replaces the control plane by one on an empty store (a new or
// emptied state table), with the same world, clock and logs.
func (h *harness) loseState() *savesStore {
	h.t.Helper()
	store := &savesStore{MemoryStore: NewMemoryStore()}
	cp, err := New(Options{Registry: twRegistry("api"), Store: store, Clients: h.prov, Now: h.clock.Now, Logger: newJSONLogger(h.logs)})
	if err != nil {
		h.t.Fatal(err)
	}
	h.cp, h.store = cp, store
	h.logs.Reset()
	h.w.resetCalls()
	return store
}

// forgetStoppedTasks drops stopped tasks, as ECS does about an hour after
// they stop (ListTasks and DescribeTasks no longer know them).
func (w *twWorld) forgetStoppedTasks() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for arn, t := range w.tasks {
		if aws.ToString(t.LastStatus) == "STOPPED" {
			delete(w.tasks, arn)
		}
	}
	for tok, arn := range w.runToken {
		if w.tasks[arn] == nil {
			delete(w.runToken, tok)
		}
	}
}

// warnings returns the Warn lines of the logs.
func (h *harness) warnings() []map[string]any {
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(h.logs.String()), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && m["level"] == "WARN" {
			out = append(out, m)
		}
	}
	return out
}

// setServiceTaskDef puts a service on a task definition, settled, as if
// ECS had run it for a while.
func (h *harness) setServiceTaskDef(proc, td string) {
	h.w.mu.Lock()
	defer h.w.mu.Unlock()
	s := h.w.services["wharf-api_"+proc]
	s.TaskDefinition = aws.String(td)
	s.Deployments = []ecstypes.Deployment{{Id: aws.String("ecs-svc/manual"), Status: aws.String("PRIMARY"), TaskDefinition: aws.String(td),
		RolloutState: ecstypes.DeploymentRolloutStateCompleted, DesiredCount: s.DesiredCount, RunningCount: s.DesiredCount}}
}

func TestSweepWithEmptyStateAdoptsRunningServices(t *testing.T) {
	h := newHarness(t, nil, nil)
	h.w.putConfig("api", "DATABASE_URL", "postgres://x")
	h.deployBuild(1, twMeta("api", 1, "bin/migrate", "web", "worker"))
	webTD, workerTD := h.w.serviceTaskDef("wharf-api_web"), h.w.serviceTaskDef("wharf-api_worker")
	h.w.forgetStoppedTasks()
	releases := len(h.w.releaseTasks())

	store := h.loseState()
	h.sweepNow()
	if c := h.w.Calls(deployWrites...); len(c) != 0 {
		t.Fatalf("the sweep deployed although the services run build 1: %+v", c)
	}
	if n := len(h.w.releaseTasks()); n != releases {
		t.Fatalf("%d release tasks, want %d (none started)", n, releases)
	}
	st := h.state()
	h.wantPhase(PhaseDeployed, 1, "")
	if st.Deployed == nil || st.Deployed.Build != 1 || st.Deployed.TaskDefs["web"] != webTD || st.Deployed.TaskDefs["worker"] != workerTD {
		t.Fatalf("deployed = %+v, want build 1 on %s and %s", st.Deployed, webTD, workerTD)
	}
	if st.Deployed.ConfigVersion == "" || st.HighWater != 1 || st.ListedBuild != "wharf-api:b1" || !slices.Equal(st.Services, []string{"web", "worker"}) {
		t.Fatalf("state: config %q high water %d listed %q services %v", st.Deployed.ConfigVersion, st.HighWater, st.ListedBuild, st.Services)
	}
	if st.Adopted == nil || st.Adopted.Outcome != AdoptedDeployed || st.Adopted.Build != 1 {
		t.Fatalf("adopted = %+v", st.Adopted)
	}
	if n := len(h.w.Calls("ListServices")); n != 1 {
		t.Errorf("%d ListServices, want 1 (two services, one page)", n)
	}
	warns := h.warnings()
	if len(warns) != 1 || warns[0]["app"] != "api" || warns[0]["build"] != float64(1) || !strings.Contains(warns[0]["reason"].(string), "nothing deployed") {
		t.Fatalf("warnings = %v, want one naming app api, build 1 and why nothing deployed", warns)
	}
	// Which settings the adopted services run is unknown: one restart
	// checks every field, and changes nothing in ECS when all match.
	hist, err := h.store.History(context.Background(), twAccount, "api", 0)
	if err != nil || len(hist) != 2 || hist[1].Outcome != OutcomeDeployed || !strings.Contains(hist[1].Detail, "nothing deployed") ||
		hist[0].Kind != OpConfig || hist[0].Outcome != OutcomeDeployed || hist[0].Detail != "settings not known to be applied" {
		t.Fatalf("history = %+v (%v), want build 1 adopted as deployed, then a restart that checks the settings", hist, err)
	}

	// The next sweeps write nothing, and cost what an idle app costs.
	saves := store.count()
	h.w.resetCalls()
	h.clock.Advance(time.Minute)
	h.sweepNow()
	if store.count() != saves {
		t.Errorf("the sweep after the adoption wrote the state %d times", store.count()-saves)
	}
	var ops []string
	for _, c := range h.w.Calls() {
		ops = append(ops, c.Op)
	}
	// An idle app's sweep: the settings, the listing, the three runtime
	// request parameters and the configuration.
	if strings.Join(ops, " ") != "GetParameter ListBuildsForProject GetParameter GetParameter GetParameter DescribeParameters" {
		t.Errorf("the sweep after the adoption called %v, want an idle app's GetParameter ListBuildsForProject GetParameter×3 DescribeParameters", ops)
	}

	// A config change deploys as usual (a restart, no release).
	h.w.putConfig("api", "DATABASE_URL", "postgres://y")
	h.handle(h.ev.config("api", "DATABASE_URL"))
	h.wantPhase(PhaseDeploying, 1, "")
	if n := len(h.w.Calls("RunTask")); n != 0 {
		t.Errorf("the configuration restart ran %d tasks", n)
	}
	h.w.completeRollouts()
	h.handle(h.ev.deployment("api", "web", "SERVICE_DEPLOYMENT_COMPLETED"))
	h.wantPhase(PhaseDeployed, 1, "")

	// A newer build deploys normally, release included.
	h.w.resetCalls()
	h.deployBuild(2, twMeta("api", 2, "bin/migrate", "web"))
	var startedBy []string
	for _, c := range h.w.Calls("RunTask") {
		startedBy = append(startedBy, aws.ToString(c.Input.(*ecs.RunTaskInput).StartedBy))
	}
	if strings.Join(startedBy, ",") != "wharf-release-2" {
		t.Fatalf("release tasks %v, want build 2's", startedBy)
	}
	if h.serviceTaskDefBuild("web") != "2" || h.w.serviceTaskDef("wharf-api_worker") != "" {
		t.Fatalf("web runs build %s, worker %q: want build 2 and worker deleted", h.serviceTaskDefBuild("web"), h.w.serviceTaskDef("wharf-api_worker"))
	}
}

func TestSweepWithEmptyStateAndNoServicesDeploys(t *testing.T) {
	h := newHarness(t, nil, nil)
	// A new app whose first build's events were all lost.
	h.w.startBuild("api", 1)
	h.w.finishBuild("api", 1, cbtypes.StatusTypeSucceeded, twMeta("api", 1, "bin/migrate", "web"))
	h.sweepNow()
	h.wantPhase(PhaseReleasing, 1, "")
	if n := len(h.w.Calls("RunTask")); n != 1 {
		t.Fatalf("%d release tasks, want 1", n)
	}
	if n := len(h.w.Calls("ListServices")); n != 1 {
		t.Errorf("%d ListServices, want 1", n)
	}
	if st := h.state(); st.Adopted != nil {
		t.Errorf("adopted = %+v, want nil (no services ran)", st.Adopted)
	}
}

func TestSweepWithEmptyStateAndServicesOnAnotherBuildDeploysNothing(t *testing.T) {
	h := newHarness(t, nil, nil)
	h.deployBuild(1, twMeta("api", 1, "", "web"))
	// Build 2 succeeded; its deploy never got to the services (its events
	// were lost, or its release failed over an hour ago).
	h.w.startBuild("api", 2)
	h.w.finishBuild("api", 2, cbtypes.StatusTypeSucceeded, twMeta("api", 2, "bin/migrate", "web"))

	store := h.loseState()
	h.sweepNow()
	if c := h.w.Calls(deployWrites...); len(c) != 0 {
		t.Fatalf("the sweep deployed: %+v", c)
	}
	st := h.state()
	if st.Phase != PhaseNone || st.Build != 2 || st.HighWater != 2 || st.Deployed != nil || st.ListedBuild != "wharf-api:b2" {
		t.Fatalf("state: phase %q build %d high water %d deployed %+v listed %q", st.Phase, st.Build, st.HighWater, st.Deployed, st.ListedBuild)
	}
	if st.Adopted == nil || st.Adopted.Outcome != AdoptedNotDeployed || st.Adopted.Build != 2 || !slices.Equal(st.Services, []string{"web"}) {
		t.Fatalf("adopted = %+v, services %v", st.Adopted, st.Services)
	}
	if w := h.warnings(); len(w) != 1 || w[0]["build"] != float64(2) || !strings.Contains(w[0]["reason"].(string), "nothing deployed") {
		t.Fatalf("warnings = %v", w)
	}
	saves := store.count()
	h.w.resetCalls()
	h.sweepNow()
	if store.count() != saves || len(h.w.Calls("BatchGetBuilds")) != 0 {
		t.Errorf("the next sweep: %d state writes, %d BatchGetBuilds", store.count()-saves, len(h.w.Calls("BatchGetBuilds")))
	}
	// A late event of build 2 changes nothing.
	h.handle(h.ev.build("api", 2, "SUCCEEDED"))
	if c := h.w.Calls(deployWrites...); len(c) != 0 {
		t.Fatalf("a late event of build 2 deployed: %+v", c)
	}

	// Build 3 deploys normally, release included.
	h.deployBuild(3, twMeta("api", 3, "bin/migrate", "web"))
	if n := len(h.w.Calls("RunTask")); n != 1 || h.serviceTaskDefBuild("web") != "3" {
		t.Fatalf("%d release tasks, web on build %s; want 1 and build 3", n, h.serviceTaskDefBuild("web"))
	}
}

func TestEmptyStateResumesADeployWhoseReleaseRuns(t *testing.T) {
	h := newHarness(t, nil, nil)
	h.deployBuild(1, twMeta("api", 1, "", "web"))
	h.w.startBuild("api", 2)
	h.handle(h.ev.build("api", 2, "IN_PROGRESS"))
	h.w.finishBuild("api", 2, cbtypes.StatusTypeSucceeded, twMeta("api", 2, "bin/migrate", "web"))
	h.handle(h.ev.build("api", 2, "SUCCEEDED"))
	h.wantPhase(PhaseReleasing, 2, "")
	task := h.releaseTask()

	h.loseState() // while build 2's release runs
	h.sweepNow()
	h.wantPhase(PhaseReleasing, 2, "")
	if n := len(h.w.Calls("RunTask")); n != 0 {
		t.Fatalf("the release was started again (%d RunTask)", n)
	}
	if st := h.state(); st.Op == nil || st.Op.ReleaseTask != aws.ToString(task.TaskArn) || st.Adopted == nil || st.Adopted.Outcome != AdoptedDeploying {
		t.Fatalf("op = %+v, adopted %+v; want the running release task", st.Op, st.Adopted)
	}
	h.w.stopTask(aws.ToString(task.TaskArn), ecstypes.TaskStopCodeEssentialContainerExited, aws.Int32(0), "ok")
	h.handle(h.ev.task(task))
	h.w.completeRollouts()
	h.handle(h.ev.deployment("api", "web", "SERVICE_DEPLOYMENT_COMPLETED"))
	h.wantPhase(PhaseDeployed, 2, "")
	if n := len(h.w.releaseTasks()); n != 1 {
		t.Fatalf("%d release tasks, want 1", n)
	}
}

func TestEmptyStateFinishesADeployHalfOnServicesWithoutRelease(t *testing.T) {
	h := newHarness(t, nil, nil)
	h.deployBuild(1, twMeta("api", 1, "", "web", "worker"))
	worker1 := h.w.serviceTaskDef("wharf-api_worker")
	h.deployBuild(2, twMeta("api", 2, "bin/migrate", "web", "worker"))
	// The worker is back on build 1 (the process died between the two
	// UpdateService calls, say), and the state is lost.
	h.setServiceTaskDef("worker", worker1)
	h.w.forgetStoppedTasks()
	h.loseState()
	h.sweepNow()
	h.wantPhase(PhaseDeploying, 2, "")
	if n := len(h.w.Calls("RunTask")); n != 0 {
		t.Fatalf("%d release tasks: build 2's release succeeded before its image ran", n)
	}
	ups := h.w.Calls("UpdateService", "RegisterTaskDefinition")
	if len(ups) != 1 || aws.ToString(ups[0].Input.(*ecs.UpdateServiceInput).Service) != "wharf-api_worker" {
		t.Fatalf("calls %+v, want one UpdateService of the worker (task definitions reused)", ups)
	}
	h.finishRolloutBySweep()
	h.wantPhase(PhaseDeployed, 2, "")
	if h.serviceTaskDefBuild("worker") != "2" {
		t.Fatalf("worker on build %s", h.serviceTaskDefBuild("worker"))
	}
}

func TestEmptyStateWaitsForServicesMidDeployment(t *testing.T) {
	h := newHarness(t, nil, nil)
	h.deployBuild(1, twMeta("api", 1, "", "web"))
	h.w.startBuild("api", 2)
	h.w.finishBuild("api", 2, cbtypes.StatusTypeSucceeded, twMeta("api", 2, "", "web"))
	h.handle(h.ev.build("api", 2, "SUCCEEDED"))
	h.wantPhase(PhaseDeploying, 2, "")

	h.loseState() // mid-rollout
	h.sweepNow()
	if c := h.w.Calls(deployWrites...); len(c) != 0 {
		t.Fatalf("deployed mid-rollout: %+v", c)
	}
	if st := h.state(); st.Adopted != nil || st.Deployed != nil || len(st.Builds) != 1 {
		t.Fatalf("state while waiting: adopted %+v deployed %+v builds %+v", st.Adopted, st.Deployed, st.Builds)
	}
	h.w.completeRollouts()
	h.clock.Advance(time.Minute)
	h.sweepNow()
	h.wantPhase(PhaseDeployed, 2, "")
	if c := h.w.Calls(deployWrites...); len(c) != 0 {
		t.Fatalf("deployed after the rollout settled: %+v", c)
	}
	if st := h.state(); st.Adopted == nil || st.Adopted.Outcome != AdoptedDeployed {
		t.Fatalf("adopted = %+v", st.Adopted)
	}
}

func TestEmptyStateLateEventOfTheRunningBuildDeploysNothing(t *testing.T) {
	h := newHarness(t, nil, nil)
	h.deployBuild(1, twMeta("api", 1, "bin/migrate", "web"))
	h.w.forgetStoppedTasks()
	h.loseState()
	// A redelivered SUCCEEDED event (its dedupe record was lost too).
	h.handle(h.ev.build("api", 1, "SUCCEEDED"))
	if c := h.w.Calls(deployWrites...); len(c) != 0 {
		t.Fatalf("a late event of the running build deployed: %+v", c)
	}
	h.wantPhase(PhaseDeployed, 1, "")

	// With the services on another build, a build event most likely
	// names a new build: it deploys, once the sweep has listed the
	// project's builds (the newest successful one is decided on).
	h.w.startBuild("api", 2)
	h.w.finishBuild("api", 2, cbtypes.StatusTypeSucceeded, twMeta("api", 2, "bin/migrate", "web"))
	h.loseState()
	h.handle(h.ev.build("api", 2, "SUCCEEDED"))
	if c := h.w.Calls(deployWrites...); len(c) != 0 {
		t.Fatalf("deployed before the listing: %+v", c)
	}
	h.sweepNow()
	h.wantPhase(PhaseReleasing, 2, "")
	if st := h.state(); st.Adopted == nil || st.Adopted.Outcome != AdoptedDeploying {
		t.Fatalf("adopted = %+v", st.Adopted)
	}
}

func TestEmptyStateLateEventOfAnOlderBuildDeploysNothing(t *testing.T) {
	h := newHarness(t, nil, nil)
	h.deployBuild(1, twMeta("api", 1, "bin/migrate", "web"))
	h.deployBuild(2, twMeta("api", 2, "bin/migrate", "web"))
	h.w.forgetStoppedTasks()
	h.loseState()
	h.handle(h.ev.build("api", 1, "SUCCEEDED")) // late
	if c := h.w.Calls(deployWrites...); len(c) != 0 {
		t.Fatalf("a late event of build 1 deployed: %+v", c)
	}
	if st := h.state(); st.HighWater != 0 || st.Adopted != nil || !slices.Contains(st.Known, "wharf-api:b1") {
		t.Fatalf("state: high water %d adopted %+v known %v", st.HighWater, st.Adopted, st.Known)
	}
	// The sweep's listing finds build 2, which the services run.
	h.sweepNow()
	h.wantPhase(PhaseDeployed, 2, "")
	if c := h.w.Calls(deployWrites...); len(c) != 0 {
		t.Fatalf("the sweep deployed: %+v", c)
	}
}

func TestEmptyStateFailedDeployRollsBackToAdoptedServices(t *testing.T) {
	h := newHarness(t, nil, nil)
	h.deployBuild(1, twMeta("api", 1, "", "web", "worker"))
	web1, worker1 := h.w.serviceTaskDef("wharf-api_web"), h.w.serviceTaskDef("wharf-api_worker")
	// Build 2 succeeded; nothing deployed it.
	h.w.startBuild("api", 2)
	h.w.finishBuild("api", 2, cbtypes.StatusTypeSucceeded, twMeta("api", 2, "", "web", "worker"))
	h.loseState()
	h.sweepNow()
	if st := h.state(); st.Adopted == nil || st.Adopted.Outcome != AdoptedNotDeployed || st.Adopted.TaskDefs["worker"] != worker1 {
		t.Fatalf("adopted = %+v", st.Adopted)
	}
	// Build 3 breaks web: the circuit breaker rolls web back, and the
	// control plane puts the worker back on what it ran when adopted.
	h.w.startBuild("api", 3)
	h.w.finishBuild("api", 3, cbtypes.StatusTypeSucceeded, twMeta("api", 3, "", "web", "worker"))
	h.handle(h.ev.build("api", 3, "SUCCEEDED"))
	h.wantPhase(PhaseDeploying, 3, "")
	h.w.failRollout("wharf-api_web", true)
	h.handle(h.ev.deployment("api", "web", "SERVICE_DEPLOYMENT_FAILED"))
	h.wantPhase(PhaseFailed, 3, ReasonDeploymentRolledBack)
	if got := h.w.serviceTaskDef("wharf-api_worker"); got != worker1 {
		t.Errorf("worker runs %s, want %s (as adopted)", got, worker1)
	}
	if got := h.w.serviceTaskDef("wharf-api_web"); got != web1 {
		t.Errorf("web runs %s, want %s", got, web1)
	}
}

func TestEmptyStateWaitsForAnotherBuildsReleaseToStop(t *testing.T) {
	h := newHarness(t, nil, nil)
	h.deployBuild(1, twMeta("api", 1, "", "web"))
	h.w.startBuild("api", 2)
	h.w.finishBuild("api", 2, cbtypes.StatusTypeSucceeded, twMeta("api", 2, "bin/migrate", "web"))
	h.handle(h.ev.build("api", 2, "SUCCEEDED"))
	task := h.releaseTask() // build 2's release runs when the state is lost
	h.loseState()
	h.w.startBuild("api", 3)
	h.w.finishBuild("api", 3, cbtypes.StatusTypeSucceeded, twMeta("api", 3, "bin/migrate", "web"))
	h.handle(h.ev.build("api", 3, "SUCCEEDED"))
	h.sweepNow()
	if c := h.w.Calls(deployWrites...); len(c) != 0 {
		t.Fatalf("deployed while build 2's release runs: %+v", c)
	}
	h.w.stopTask(aws.ToString(task.TaskArn), ecstypes.TaskStopCodeEssentialContainerExited, aws.Int32(0), "ok")
	h.clock.Advance(6 * time.Minute)
	h.sweepNow()
	h.wantPhase(PhaseReleasing, 3, "")
	var startedBy []string
	for _, c := range h.w.Calls("RunTask") {
		startedBy = append(startedBy, aws.ToString(c.Input.(*ecs.RunTaskInput).StartedBy))
	}
	if strings.Join(startedBy, ",") != "wharf-release-3" {
		t.Fatalf("release tasks started %v, want build 3's only", startedBy)
	}
}

// TestEmptyStateAdoptionAlignsSettings: the settings changed while the
// state was lost (their event with it); the services the control plane
// adopts still run the old network. Adoption must not take the current
// settings as the ones the services run: the app's services and schedule
// targets end up on the settings (seeds 153 and 317 of the soak).
func TestEmptyStateAdoptionAlignsSettings(t *testing.T) {
	h := newHarness(t, nil, nil)
	meta := twMeta("api", 1, "", "web", "worker")
	meta.Schedules = []contract.Schedule{{Name: "nightly", Schedule: "cron(0 3 * * ? *)", Command: "bin/nightly"}}
	h.deployBuild(1, meta)
	h.w.putSettings("api", func(s *contract.Settings) { s.SecurityGroups = []string{"sg-2"} })
	h.loseState()
	for range 3 {
		h.sweepNow()
		h.w.completeRollouts()
		h.clock.Advance(time.Minute)
	}
	h.handle(h.ev.deployment("api", "web", "SERVICE_DEPLOYMENT_COMPLETED"))
	for _, svc := range []string{"wharf-api_web", "wharf-api_worker"} {
		h.w.mu.Lock()
		nc := h.w.services[svc].NetworkConfiguration
		h.w.mu.Unlock()
		if nc == nil || nc.AwsvpcConfiguration == nil {
			t.Fatalf("%s has no network configuration", svc)
		}
		if sg := nc.AwsvpcConfiguration.SecurityGroups; !slices.Equal(sg, []string{"sg-2"}) {
			t.Errorf("%s runs security groups %v after the adoption, settings say sg-2", svc, sg)
		}
	}
	var targets int
	for _, c := range h.w.Calls("PutTargets") {
		for _, tg := range c.Input.(*eventbridge.PutTargetsInput).Targets {
			targets++
			if sg := tg.EcsParameters.NetworkConfiguration.AwsvpcConfiguration.SecurityGroups; !slices.Equal(sg, []string{"sg-2"}) {
				t.Errorf("schedule target on %v", sg)
			}
		}
	}
	if targets == 0 {
		t.Errorf("the schedule target was not realigned with the settings")
	}
	h.wantPhase(PhaseDeployed, 1, "")
}

// Seed 502 of a soak: web was autoscaled when the state was lost, and the
// scale setting was deleted before the adopted app's next deploy. The
// state knows nothing of the scalable target, yet the deploy must look
// for it (every process of an adopted app) and deregister it: web's scale
// is the build's fixed count again.
func TestEmptyStateDeployDeregistersAnOrphanedScalableTarget(t *testing.T) {
	h := newHarness(t, nil, nil)
	h.deployBuild(1, twMeta("api", 1, "", "web", "worker"))
	worker1 := h.w.serviceTaskDef("wharf-api_worker")
	h.handle(h.putRequest(contract.ScaleKey, scaleDoc(map[string]contract.ProcessScale{"web": {Min: 2, Max: 5, CPUTarget: 60}})))
	h.settle()
	res := "service/wharf-main/wharf-api_web"
	if h.w.scaling().Target(res) == nil {
		t.Fatalf("no scalable target on %s after the range", res)
	}
	h.deployBuild(2, twMeta("api", 2, "bin/migrate", "web", "worker"))
	// The worker is back on build 1, the state is lost, and the scale
	// setting is deleted (its event lost too).
	h.setServiceTaskDef("worker", worker1)
	h.w.forgetStoppedTasks()
	h.loseState()
	h.deleteRequest(contract.ScaleKey)
	h.sweepNow()
	h.wantPhase(PhaseDeploying, 2, "")
	h.finishRolloutBySweep()
	h.settle()
	h.wantPhase(PhaseDeployed, 2, "")
	if tg := h.w.scaling().Target(res); tg != nil {
		t.Errorf("web still has a scalable target (%d-%d) although its scale is the build's fixed count",
			aws.ToInt32(tg.MinCapacity), aws.ToInt32(tg.MaxCapacity))
	}
	// A restart after that leaves it deregistered, and sets web's count.
	h.handle(h.putRequest(contract.RestartKey, contract.RestartRequest{Version: 1, ID: "r1"}))
	h.settle()
	if h.w.scaling().Target(res) != nil {
		t.Errorf("the target is registered after a restart")
	}
	if got := h.w.count("wharf-api_web"); got != 1 {
		t.Errorf("web desired = %d, want the build's 1", got)
	}
}
