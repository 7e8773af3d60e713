package controlplane

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	aas "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	aastypes "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	cbtypes "github.com/aws/aws-sdk-go-v2/service/codebuild/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/wharf-paas/wharf/contract"
	"github.com/wharf-paas/wharf/controlplane/internal/awsmodel"
)

// twAAS is Application Auto Scaling over the strict model
// (internal/awsmodel), connected to the fake ECS services' desired
// counts.
type twAAS struct {
	AutoScalingAPI
	w *twWorld
}

func (w *twWorld) scaling() *awsmodel.ScalingModel {
	if w.aas == nil {
		m := awsmodel.NewScalingModel(twAccount, twRegion)
		m.Capacity = func(id string) (int32, bool) {
			s := w.services[id[strings.LastIndex(id, "/")+1:]]
			if s == nil || aws.ToString(s.Status) != "ACTIVE" {
				return 0, false
			}
			return s.DesiredCount, true
		}
		m.SetCapacity = func(id string, n int32) { w.services[id[strings.LastIndex(id, "/")+1:]].DesiredCount = n }
		w.aas = m
	}
	return w.aas
}

func aasErr(err error) error {
	if v, ok := awsmodel.AsViolation(err); ok {
		return apiErr(v.Code, v.Message)
	}
	return err
}

func (c *twAAS) RegisterScalableTarget(_ context.Context, in *aas.RegisterScalableTargetInput, _ ...func(*aas.Options)) (*aas.RegisterScalableTargetOutput, error) {
	c.w.mu.Lock()
	defer c.w.mu.Unlock()
	if err := c.w.record("RegisterScalableTarget", in); err != nil {
		return nil, err
	}
	out, err := c.w.scaling().RegisterScalableTarget(in)
	return out, aasErr(err)
}

func (c *twAAS) DeregisterScalableTarget(_ context.Context, in *aas.DeregisterScalableTargetInput, _ ...func(*aas.Options)) (*aas.DeregisterScalableTargetOutput, error) {
	c.w.mu.Lock()
	defer c.w.mu.Unlock()
	if err := c.w.record("DeregisterScalableTarget", in); err != nil {
		return nil, err
	}
	out, err := c.w.scaling().DeregisterScalableTarget(in)
	return out, aasErr(err)
}

func (c *twAAS) PutScalingPolicy(_ context.Context, in *aas.PutScalingPolicyInput, _ ...func(*aas.Options)) (*aas.PutScalingPolicyOutput, error) {
	c.w.mu.Lock()
	defer c.w.mu.Unlock()
	if err := c.w.record("PutScalingPolicy", in); err != nil {
		return nil, err
	}
	out, err := c.w.scaling().PutScalingPolicy(in)
	return out, aasErr(err)
}

func (c *twAAS) DescribeScalableTargets(_ context.Context, in *aas.DescribeScalableTargetsInput, _ ...func(*aas.Options)) (*aas.DescribeScalableTargetsOutput, error) {
	c.w.mu.Lock()
	defer c.w.mu.Unlock()
	if err := c.w.record("DescribeScalableTargets", in); err != nil {
		return nil, err
	}
	defer c.w.done("DescribeScalableTargets")
	out, err := c.w.scaling().DescribeScalableTargets(in)
	return out, aasErr(err)
}

func (c *twAAS) DescribeScalingPolicies(_ context.Context, in *aas.DescribeScalingPoliciesInput, _ ...func(*aas.Options)) (*aas.DescribeScalingPoliciesOutput, error) {
	c.w.mu.Lock()
	defer c.w.mu.Unlock()
	if err := c.w.record("DescribeScalingPolicies", in); err != nil {
		return nil, err
	}
	out, err := c.w.scaling().DescribeScalingPolicies(in)
	return out, aasErr(err)
}

// putRequest writes a runtime request parameter (scale, restart,
// rollback) as the CLI does, and returns its Parameter Store Change event.
func (h *harness) putRequest(key string, doc any) events.CloudWatchEvent {
	h.t.Helper()
	name := "/wharf/apps/api/" + key
	b, err := json.Marshal(doc)
	if err != nil {
		h.t.Fatal(err)
	}
	h.w.mu.Lock()
	p := h.w.params[name]
	if p == nil {
		p = &ssmtypes.Parameter{Name: aws.String(name), Type: ssmtypes.ParameterTypeString}
		h.w.params[name] = p
	}
	p.Version++
	p.Value = aws.String(string(b))
	h.w.mu.Unlock()
	return h.requestEvent(key)
}

func (h *harness) requestEvent(key string) events.CloudWatchEvent {
	return h.ev.envelope("aws.ssm", "Parameter Store Change",
		[]string{"arn:aws:ssm:eu-west-1:111122223333:parameter/wharf/apps/api/" + key},
		map[string]any{"operation": "Update", "name": "/wharf/apps/api/" + key, "type": "String"})
}

func (h *harness) deleteRequest(key string) events.CloudWatchEvent {
	h.w.mu.Lock()
	delete(h.w.params, "/wharf/apps/api/"+key)
	h.w.mu.Unlock()
	return h.requestEvent(key)
}

// settle completes rollouts and reports a deployment event, until the
// app is idle.
func (h *harness) settle() {
	h.t.Helper()
	for range 5 {
		if h.state().Op == nil {
			return
		}
		h.w.completeRollouts()
		h.handle(h.ev.deployment("api", "web", "SERVICE_DEPLOYMENT_COMPLETED"))
	}
	if op := h.state().Op; op != nil {
		h.t.Fatalf("operation %s still at %s", op.Kind, op.Step)
	}
}

func (w *twWorld) count(name string) int32 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.services[name].DesiredCount
}

func updates(h *harness) []*ecs.UpdateServiceInput {
	var out []*ecs.UpdateServiceInput
	for _, c := range h.w.Calls("UpdateService") {
		out = append(out, c.Input.(*ecs.UpdateServiceInput))
	}
	return out
}

func scaleDoc(procs map[string]contract.ProcessScale) contract.ScaleSetting {
	return contract.ScaleSetting{Version: contract.ScaleVersion, Processes: procs}
}

// A scale setting's count reaches the service in place: one
// UpdateService desiredCount, no release, no new task definition, no new
// deployment; the status shows the effective scale.
func TestScaleCountUpdatesServiceInPlace(t *testing.T) {
	h := newHarness(t, nil, nil)
	h.deployBuild(1, twMeta("api", 1, "bin/migrate", "web", "worker"))
	h.w.resetCalls()

	h.handle(h.putRequest(contract.ScaleKey, scaleDoc(map[string]contract.ProcessScale{"web": {Count: aws.Int32(3)}, "ghost": {Count: aws.Int32(9)}})))
	h.settle()
	h.wantPhase(PhaseDeployed, 1, "")
	ups := updates(h)
	if len(ups) != 1 || aws.ToString(ups[0].Service) != "wharf-api_web" || aws.ToInt32(ups[0].DesiredCount) != 3 ||
		ups[0].TaskDefinition != nil || ups[0].ForceNewDeployment {
		t.Fatalf("updates = %+v, want one desiredCount 3 on web", ups)
	}
	if n := len(h.w.Calls("RunTask", "RegisterTaskDefinition", "CreateService", "RegisterScalableTarget")); n != 0 {
		t.Errorf("a count change made %d release, registration, create or autoscaling calls", n)
	}
	if got := h.w.count("wharf-api_web"); got != 3 {
		t.Errorf("web desired = %d, want 3", got)
	}
	st := h.state()
	if st.Deployed.Kind != OpScale || st.Deployed.ScaleHash == "" {
		t.Errorf("deployed kind %q scale %q, want scale", st.Deployed.Kind, st.Deployed.ScaleHash)
	}
	s := StatusOf(st)
	if p := s.Processes["web"]; p.Desired != 3 || p.Source != "scale" {
		t.Errorf("status web = %+v", p)
	}
	if p := s.Processes["worker"]; p.Desired != 1 || p.Source != "" {
		t.Errorf("status worker = %+v", p)
	}
	if _, ok := s.Processes["ghost"]; ok {
		t.Errorf("a process the build does not declare is shown")
	}
	// The same setting again (a duplicate event, the sweep): nothing.
	h.w.resetCalls()
	h.handle(h.requestEvent(contract.ScaleKey))
	h.handle(h.ev.sweep())
	if n := len(h.w.Calls(writeOps...)); n != 0 {
		t.Errorf("an unchanged scale setting made %d writes", n)
	}
	// A new build keeps the scale setting.
	h.deployBuild(2, twMeta("api", 2, "", "web", "worker"))
	if got := h.w.count("wharf-api_web"); got != 3 {
		t.Errorf("after build 2 web desired = %d, want 3 (the scale setting over the build)", got)
	}
	// --reset: back to the build's count.
	h.handle(h.deleteRequest(contract.ScaleKey))
	h.settle()
	if got := h.w.count("wharf-api_web"); got != 1 {
		t.Errorf("after reset web desired = %d, want the build's 1", got)
	}
}

// A size in the scale setting registers a new revision of that process
// only, and the service moves to it.
func TestScaleSizeRegistersNewRevision(t *testing.T) {
	h := newHarness(t, nil, nil)
	h.deployBuild(1, twMeta("api", 1, "bin/migrate", "web", "worker"))
	h.w.resetCalls()
	h.handle(h.putRequest(contract.ScaleKey, scaleDoc(map[string]contract.ProcessScale{"worker": {CPU: 1024, Memory: 4096}})))
	h.settle()
	regs := h.w.Calls("RegisterTaskDefinition")
	if len(regs) != 1 {
		t.Fatalf("registered %d task definitions, want 1 (worker)", len(regs))
	}
	in := regs[0].Input.(*ecs.RegisterTaskDefinitionInput)
	if aws.ToString(in.Family) != "wharf-api_worker" || aws.ToString(in.Cpu) != "1024" || aws.ToString(in.Memory) != "4096" {
		t.Errorf("registered %s %s/%s", aws.ToString(in.Family), aws.ToString(in.Cpu), aws.ToString(in.Memory))
	}
	ups := updates(h)
	if len(ups) != 1 || aws.ToString(ups[0].Service) != "wharf-api_worker" || ups[0].TaskDefinition == nil {
		t.Fatalf("updates = %+v, want worker's task definition", ups)
	}
	if n := len(h.w.Calls("RunTask")); n != 0 {
		t.Errorf("a scale change ran the release command")
	}
}

// A range registers a scalable target and a target-tracking policy; from
// then on no deploy, restart or settings change sets that service's
// desired count; clearing the range deregisters the target.
func TestScaleRangeAutoscalesAndIsNeverReset(t *testing.T) {
	h := newHarness(t, nil, nil)
	h.deployBuild(1, twMeta("api", 1, "bin/migrate", "web", "worker"))
	h.w.resetCalls()
	h.handle(h.putRequest(contract.ScaleKey, scaleDoc(map[string]contract.ProcessScale{"web": {Min: 2, Max: 10, CPUTarget: 50}})))
	h.settle()
	res := "service/wharf-main/wharf-api_web"
	tg := h.w.scaling().Target(res)
	if tg == nil || aws.ToInt32(tg.MinCapacity) != 2 || aws.ToInt32(tg.MaxCapacity) != 10 {
		t.Fatalf("scalable target = %+v, want 2-10 on %s", tg, res)
	}
	pol := h.w.scaling().Policies(res)["wharf-api_web-target"]
	if c := pol.TargetTrackingScalingPolicyConfiguration; c == nil || aws.ToFloat64(c.TargetValue) != 50 ||
		c.PredefinedMetricSpecification.PredefinedMetricType != aastypes.MetricTypeECSServiceAverageCPUUtilization {
		t.Fatalf("policy = %+v", pol)
	}
	if got := h.w.count("wharf-api_web"); got != 2 {
		t.Errorf("registering 2-10 left web at %d, want 2 (Application Auto Scaling moves it into the range)", got)
	}
	for _, u := range updates(h) {
		if u.DesiredCount != nil {
			t.Errorf("the control plane set an autoscaled service's count: %+v", u)
		}
	}
	// Application Auto Scaling scales out; deploys and restarts leave it.
	h.w.mu.Lock()
	h.w.services["wharf-api_web"].DesiredCount = 7
	h.w.mu.Unlock()
	h.w.resetCalls()
	h.deployBuild(2, twMeta("api", 2, "bin/migrate", "web", "worker"))
	h.handle(h.putRequest(contract.RestartKey, contract.RestartRequest{Version: 1, ID: "r1"}))
	h.settle()
	h.w.putConfig("api", "X", "1")
	h.handle(h.ev.config("api", "X"))
	h.settle()
	for _, u := range updates(h) {
		if aws.ToString(u.Service) == "wharf-api_web" && u.DesiredCount != nil {
			t.Errorf("the control plane reset the autoscaled web count: %+v", u)
		}
	}
	if got := h.w.count("wharf-api_web"); got != 7 {
		t.Errorf("web desired = %d after deploy, restart and config change, want Application Auto Scaling's 7", got)
	}
	if n := len(h.w.Calls("RegisterScalableTarget", "PutScalingPolicy")); n != 0 {
		t.Errorf("an unchanged range made %d autoscaling writes", n)
	}
	s := StatusOf(h.state())
	if p := s.Processes["web"]; !p.Autoscaled || p.Min != 2 || p.Max != 10 || p.CPUTarget != 50 {
		t.Errorf("status web = %+v", p)
	}
	// Clearing the range: a fixed count again.
	h.w.resetCalls()
	h.handle(h.putRequest(contract.ScaleKey, scaleDoc(map[string]contract.ProcessScale{"web": {Count: aws.Int32(4)}})))
	h.settle()
	if h.w.scaling().Target(res) != nil {
		t.Errorf("the target is still registered after the range was cleared")
	}
	if got := h.w.count("wharf-api_web"); got != 4 {
		t.Errorf("web desired = %d, want 4", got)
	}
}

// A scale setting above the control plane's MaxCount is refused, visibly;
// the services keep their scale.
func TestScaleAboveCapIsRefused(t *testing.T) {
	h := newHarness(t, nil, func(o *Options) { o.MaxCount = 5 })
	h.deployBuild(1, twMeta("api", 1, "", "web"))
	h.w.resetCalls()
	h.handle(h.putRequest(contract.ScaleKey, scaleDoc(map[string]contract.ProcessScale{"web": {Min: 1, Max: 6}})))
	if n := len(h.w.Calls(writeOps...)); n != 0 {
		t.Errorf("a refused scale setting made %d writes", n)
	}
	s := StatusOf(h.state())
	if len(s.Refusals) != 1 || s.Refusals[0].Request != "scale" || s.Refusals[0].Reason != string(ReasonScaleRefused) ||
		!strings.Contains(s.Refusals[0].Detail, "scale.processes.web.max") {
		t.Fatalf("refusals = %+v", s.Refusals)
	}
	// A valid one clears the refusal.
	h.handle(h.putRequest(contract.ScaleKey, scaleDoc(map[string]contract.ProcessScale{"web": {Count: aws.Int32(5)}})))
	h.settle()
	if s := StatusOf(h.state()); len(s.Refusals) != 0 || h.w.count("wharf-api_web") != 5 {
		t.Errorf("refusals %+v, web %d", s.Refusals, h.w.count("wharf-api_web"))
	}
}

// A restart request makes exactly one new deployment per service, once per
// ID, recorded in the history as a restart.
func TestRestartOneDeploymentPerServiceOncePerID(t *testing.T) {
	h := newHarness(t, nil, nil)
	h.deployBuild(1, twMeta("api", 1, "bin/migrate", "web", "worker"))
	h.w.resetCalls()
	ev := h.putRequest(contract.RestartKey, contract.RestartRequest{Version: 1, ID: "r1"})
	h.handle(ev)
	h.handle(ev) // duplicated
	h.settle()
	h.handle(h.requestEvent(contract.RestartKey)) // the same ID again
	h.handle(h.ev.sweep())
	forced := map[string]int{}
	for _, u := range updates(h) {
		if !u.ForceNewDeployment {
			t.Errorf("restart update without forceNewDeployment: %+v", u)
		}
		forced[aws.ToString(u.Service)]++
	}
	if forced["wharf-api_web"] != 1 || forced["wharf-api_worker"] != 1 || len(forced) != 2 {
		t.Fatalf("forced deployments = %v, want one per service", forced)
	}
	if n := len(h.w.Calls("RunTask")); n != 0 {
		t.Errorf("a restart ran the release command")
	}
	hist, _ := h.store.History(context.Background(), twAccount, "api", 1)
	if len(hist) != 1 || hist[0].Kind != OpRestart || hist[0].Outcome != OutcomeDeployed {
		t.Fatalf("history = %+v", hist)
	}
	// One process only.
	h.w.resetCalls()
	h.handle(h.putRequest(contract.RestartKey, contract.RestartRequest{Version: 1, ID: "r2", Process: "worker"}))
	h.settle()
	if ups := updates(h); len(ups) != 1 || aws.ToString(ups[0].Service) != "wharf-api_worker" {
		t.Fatalf("updates = %+v, want worker only", ups)
	}
	// A process the build does not have: refused, visibly.
	h.w.resetCalls()
	h.handle(h.putRequest(contract.RestartKey, contract.RestartRequest{Version: 1, ID: "r3", Process: "clock"}))
	if n := len(h.w.Calls(writeOps...)); n != 0 {
		t.Errorf("a refused restart made %d writes", n)
	}
	if s := StatusOf(h.state()); len(s.Refusals) != 1 || s.Refusals[0].Reason != string(ReasonRestartRefused) {
		t.Errorf("refusals = %+v", s.Refusals)
	}
}

// The answer of a restart's UpdateService is lost (the invocation dies):
// the retry finds the deployment the call made instead of making another.
func TestRestartLostAnswerMakesNoSecondDeployment(t *testing.T) {
	h := newHarness(t, nil, nil)
	h.deployBuild(1, twMeta("api", 1, "", "web"))
	h.w.resetCalls()
	h.w.after["UpdateService"] = func() { h.w.fail["DescribeServices"] = []error{apiErr("ThrottlingException", "slow down")} }
	ev := h.putRequest(contract.RestartKey, contract.RestartRequest{Version: 1, ID: "r1"})
	if err := h.cp.Handle(context.Background(), ev); err == nil {
		t.Logf("first attempt went through")
	}
	delete(h.w.after, "UpdateService")
	h.clock.Advance(time.Minute)
	h.handle(h.ev.sweep())
	h.settle()
	if n := len(updates(h)); n != 1 {
		t.Fatalf("%d UpdateService calls, want exactly one forced deployment", n)
	}
	h.wantPhase(PhaseDeployed, 1, "")
}

// A rollback redeploys an earlier build's image and process spec without
// its release command, supersedes the builds known then, and a newer build
// that succeeds afterwards deploys as usual.
func TestRollbackDeploysChosenBuildThenNewerBuildsDeploy(t *testing.T) {
	h := newHarness(t, nil, nil)
	m1 := twMeta("api", 1, "bin/migrate", "web", "worker")
	h.deployBuild(1, m1)
	h.deployBuild(2, twMeta("api", 2, "bin/migrate", "web"))
	releases := len(h.w.releaseTasks())
	h.w.resetCalls()
	h.handle(h.putRequest(contract.RollbackKey, contract.RollbackRequest{Version: 1, ID: "rb1", Build: 1}))
	h.settle()
	h.wantPhase(PhaseDeployed, 1, "")
	if n := len(h.w.releaseTasks()); n != releases {
		t.Errorf("the rollback ran the release command")
	}
	for _, name := range []string{"wharf-api_web", "wharf-api_worker"} {
		td := h.w.taskDef(h.w.serviceTaskDef(name))
		if td == nil || aws.ToString(td.ContainerDefinitions[0].Image) != m1.Image || envOf(td, "WHARF_BUILD_NUMBER") != "1" {
			t.Errorf("%s does not run build 1's image", name)
		}
	}
	st := h.state()
	if st.HighWater != 2 || st.Deployed.Build != 1 || st.Deployed.Kind != OpRollback || st.RollbackID != "rb1" {
		t.Errorf("state high water %d deployed %d kind %s id %s", st.HighWater, st.Deployed.Build, st.Deployed.Kind, st.RollbackID)
	}
	hist, _ := h.store.History(context.Background(), twAccount, "api", 1)
	if len(hist) != 1 || hist[0].Kind != OpRollback || hist[0].Build != 1 || !strings.Contains(hist[0].Detail, "supersedes builds up to 2") {
		t.Fatalf("history = %+v", hist)
	}
	// Once per ID.
	h.w.resetCalls()
	h.handle(h.requestEvent(contract.RollbackKey))
	if n := len(h.w.Calls(writeOps...)); n != 0 {
		t.Errorf("the same rollback ID again made %d writes", n)
	}
	// A newer build deploys as usual.
	h.deployBuild(3, twMeta("api", 3, "bin/migrate", "web"))
}

// A rollback to a build the app never deployed (unknown, failed) is
// refused with a visible reason and changes nothing.
func TestRollbackToUnknownOrFailedBuildIsRefused(t *testing.T) {
	h := newHarness(t, nil, nil)
	h.deployBuild(1, twMeta("api", 1, "", "web"))
	h.w.startBuild("api", 2)
	h.handle(h.ev.build("api", 2, "IN_PROGRESS"))
	h.w.finishBuild("api", 2, cbtypes.StatusTypeFailed, nil)
	h.handle(h.ev.build("api", 2, "FAILED"))
	for _, b := range []int64{2, 9} {
		h.w.resetCalls()
		h.handle(h.putRequest(contract.RollbackKey, contract.RollbackRequest{Version: 1, ID: "rb" + string(rune('0'+b)), Build: b}))
		if n := len(h.w.Calls(writeOps...)); n != 0 {
			t.Errorf("rollback to %d made %d writes", b, n)
		}
		s := StatusOf(h.state())
		if len(s.Refusals) != 1 || s.Refusals[0].Reason != string(ReasonRollbackRefused) || !strings.Contains(s.Refusals[0].Detail, "known: 1") {
			t.Errorf("rollback to %d: refusals = %+v", b, s.Refusals)
		}
	}
}

// Decide's order among pending work on an idle app (docs/controlplane.md,
// "Coalescing and order"): rollback, then the newest waiting build, then
// a restart, then a configuration, settings or scale change. Each case
// is one decision; its first operation tells the order.
func TestDecideRequestOrder(t *testing.T) {
	rollback := &contract.RollbackRequest{Version: 1, ID: "rb", Build: 1}
	restart := &contract.RestartRequest{Version: 1, ID: "rs"}
	scale := &contract.ScaleSetting{Version: 1, Processes: map[string]contract.ProcessScale{"web": {Count: aws.Int32(3)}}}
	waiting := func(st *AppState) {
		st.Builds = []TrackedBuild{{ID: "wharf-api:b2", Number: 2, Status: "SUCCEEDED"}}
	}
	meta2 := func(o *Observation) {
		o.Metadata = map[string]metadataResult{"wharf-api:b2": {Meta: twMeta("api", 2, "", "web")}}
		o.CheckConfig = true
	}
	for _, tc := range []struct {
		name     string
		st       func(*AppState)
		rq       requestsObservation
		wantKind OpKind
		wantOp   int64
		check    func(t *testing.T, d Decision)
	}{
		{"rollback before a waiting build, which it supersedes", waiting, requestsObservation{Rollback: rollback, Restart: restart, Scale: scale},
			OpRollback, 1, func(t *testing.T, d Decision) {
				if d.State.HighWater != 2 || len(d.State.Builds) != 0 || d.State.RestartID != "" {
					t.Errorf("high water %d builds %v restart id %q", d.State.HighWater, d.State.Builds, d.State.RestartID)
				}
				if len(d.Records) != 1 || d.Records[0].Outcome != OutcomeSkipped || d.Records[0].Build != 2 {
					t.Errorf("records = %+v, want build 2 skipped", d.Records)
				}
				if d.State.Op.Scale == nil || !d.State.Op.SkipRelease {
					t.Errorf("the rollback applies the scale setting and skips the release")
				}
			}},
		{"a waiting build before a restart, which stays pending", waiting, requestsObservation{Restart: restart, Scale: scale},
			OpBuild, 2, func(t *testing.T, d Decision) {
				if d.State.RestartID != "" || d.State.Op.Scale == nil {
					t.Errorf("restart id %q scale %v", d.State.RestartID, d.State.Op.Scale)
				}
			}},
		{"a restart before a scale change, and it applies the scale", nil, requestsObservation{Restart: restart, Scale: scale},
			OpRestart, 1, func(t *testing.T, d Decision) {
				if d.State.RestartID != "rs" || d.State.Op.ScaleHash == "" || !slices.Equal(d.State.Op.Force, []string{"web"}) {
					t.Errorf("restart id %q scale %q force %v", d.State.RestartID, d.State.Op.ScaleHash, d.State.Op.Force)
				}
			}},
		{"a restart already applied: the scale change", func(st *AppState) { st.RestartID = "rs" }, requestsObservation{Restart: restart, Scale: scale},
			OpScale, 1, nil},
		{"a rollback to an unknown build is refused; the restart goes ahead", nil,
			requestsObservation{Rollback: &contract.RollbackRequest{Version: 1, ID: "rb", Build: 7}, Restart: restart},
			OpRestart, 1, func(t *testing.T, d Decision) {
				if d.State.RollbackID != "rb" || len(d.State.Refusals) != 1 || d.State.Refusals[0].Reason != ReasonRollbackRefused {
					t.Errorf("rollback id %q refusals %+v", d.State.RollbackID, d.State.Refusals)
				}
			}},
		{"nothing pending", func(st *AppState) { st.RestartID, st.RollbackID = "rs", "rb" }, requestsObservation{Rollback: rollback, Restart: restart},
			"", 0, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := dtDeployed()
			st.Releases = []Release{{Build: 1, BuildID: "wharf-api:b1", Metadata: st.Deployed.Metadata}}
			if tc.st != nil {
				tc.st(st)
			}
			before, _ := json.Marshal(st)
			rq := tc.rq
			d := Decide(st, dtObs(func(o *Observation) { meta2(o); o.Requests = &rq }), dtNow, dtPol)
			if !d.Need.IsZero() {
				t.Fatalf("needs %+v", d.Need)
			}
			after, _ := json.Marshal(st)
			if string(before) != string(after) {
				t.Fatalf("Decide changed its input state")
			}
			switch op := d.State.Op; {
			case tc.wantKind == "" && op != nil:
				t.Fatalf("started %s, want nothing", op.Kind)
			case tc.wantKind == "":
			case op == nil:
				t.Fatalf("started nothing, want %s", tc.wantKind)
			case op.Kind != tc.wantKind || op.Build != tc.wantOp:
				t.Fatalf("started %s of build %d, want %s of %d", op.Kind, op.Build, tc.wantKind, tc.wantOp)
			}
			if tc.check != nil {
				tc.check(t, d)
			}
		})
	}
}

// effectiveScale: the scale setting over the build's values, field by
// field.
func TestEffectiveScalePrecedence(t *testing.T) {
	build := contract.Process{Command: "x", CPU: 256, Memory: 512, Count: aws.Int32(2)}
	sc := &contract.ScaleSetting{Version: 1, Processes: map[string]contract.ProcessScale{
		"web":    {Count: aws.Int32(5)},
		"worker": {Min: 1, Max: 4},
		"big":    {CPU: 1024, Memory: 2048},
		"zero":   {Count: aws.Int32(0)},
	}}
	for _, tc := range []struct {
		proc string
		want procScale
	}{
		{"web", procScale{Count: 5, CPU: 256, Memory: 512, FromScale: true}},
		{"worker", procScale{Count: 1, Autoscaled: true, Min: 1, Max: 4, CPUTarget: contract.DefaultCPUTarget, CPU: 256, Memory: 512, FromScale: true}},
		{"big", procScale{Count: 2, CPU: 1024, Memory: 2048, FromScale: true}},
		{"zero", procScale{Count: 0, CPU: 256, Memory: 512, FromScale: true}},
		{"other", procScale{Count: 2, CPU: 256, Memory: 512}},
	} {
		if got := effectiveScale(build, sc, tc.proc); got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.proc, got, tc.want)
		}
	}
	if got := effectiveScale(build, nil, "web"); got.Count != 2 || got.FromScale {
		t.Errorf("no setting: %+v", got)
	}
}

// BenchmarkScaleToUpdateService: the time from a scale parameter's
// Parameter Store Change event to the UpdateService desiredCount call
// (ns-to-update/op), against the in-memory fakes, for an app with web and
// worker; ns/op is the whole reconcile (to deployed).
func BenchmarkScaleToUpdateService(b *testing.B) {
	h := newHarness(b, nil, nil)
	h.deployBuild(1, twMeta("api", 1, "bin/migrate", "web", "worker"))
	ctx := context.Background()
	var start time.Time
	var toUpdate time.Duration
	h.w.after["UpdateService"] = func() { toUpdate += time.Since(start) }
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		ev := h.putRequest(contract.ScaleKey, scaleDoc(map[string]contract.ProcessScale{"web": {Count: aws.Int32(int32(2 + i%2))}}))
		ev.ID = fmt.Sprintf("bench-scale-%d", i)
		b.StartTimer()
		start = time.Now()
		if err := h.cp.Handle(ctx, ev); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if n := len(h.w.Calls("UpdateService")); n != b.N {
		b.Fatalf("%d UpdateService calls for %d scale changes", n, b.N)
	}
	b.ReportMetric(float64(toUpdate.Nanoseconds())/float64(b.N), "ns-to-update/op")
}

// A Parameter Store Change of a runtime request names its app (kind
// request); it says nothing about what to do.
func TestDecodeRuntimeRequestEvents(t *testing.T) {
	h := newHarness(t, nil, nil)
	for _, key := range []string{contract.ScaleKey, contract.RestartKey, contract.RollbackKey} {
		hint, err := Decode(h.requestEvent(key), "wharf")
		if err != nil || hint.Kind != KindRequest || hint.App != "api" {
			t.Errorf("%s: %+v %v", key, hint, err)
		}
	}
	for _, key := range []string{"status", "scale/x", "rollbacks"} {
		if hint, err := Decode(h.requestEvent(key), "wharf"); err != nil || hint.App != "" {
			t.Errorf("%s names app %q (%v)", key, hint.App, err)
		}
	}
}

// Every event of the requests is lost: the sweep reads the three
// parameters and applies them (the rollback first, then the restart,
// with the scale setting).
func TestSweepMakesUpForLostRequestEvents(t *testing.T) {
	h := newHarness(t, nil, nil)
	h.deployBuild(1, twMeta("api", 1, "", "web"))
	h.deployBuild(2, twMeta("api", 2, "", "web"))
	h.w.resetCalls()
	h.putRequest(contract.ScaleKey, scaleDoc(map[string]contract.ProcessScale{"web": {Count: aws.Int32(2)}}))
	h.putRequest(contract.RestartKey, contract.RestartRequest{Version: 1, ID: "r1"})
	h.putRequest(contract.RollbackKey, contract.RollbackRequest{Version: 1, ID: "rb1", Build: 1})
	h.clock.Advance(time.Minute)
	h.handle(h.ev.sweep())
	if op := h.state().Op; op == nil || op.Kind != OpRollback || op.Scale == nil {
		t.Fatalf("the sweep started %+v, want the rollback with the scale setting", op)
	}
	h.settle()
	h.clock.Advance(time.Minute)
	h.handle(h.ev.sweep())
	h.settle()
	st := h.state()
	if st.Deployed.Build != 1 || st.RollbackID != "rb1" || st.RestartID != "r1" || h.w.count("wharf-api_web") != 2 {
		t.Fatalf("deployed %d rollback %q restart %q web %d", st.Deployed.Build, st.RollbackID, st.RestartID, h.w.count("wharf-api_web"))
	}
	hist, _ := h.store.History(context.Background(), twAccount, "api", 2)
	if len(hist) != 2 || hist[0].Kind != OpRestart || hist[1].Kind != OpRollback {
		t.Fatalf("history = %v %v", hist[0].Kind, hist[1].Kind)
	}
}

// Seed 1089 of the simulator: a range cleared (scale reset) while
// Application Auto Scaling still owns the count. The services step sees
// the count it wants, so it sends none; the autoscaler then moves the
// count before the rollout step deregisters the target, and the app is
// left at the autoscaler's count. Once the target is gone, the count must
// be set to the effective one.
func TestClearedRangeSetsTheCountAfterDeregistering(t *testing.T) {
	h := newHarness(t, nil, nil)
	h.deployBuild(1, twMeta("api", 1, "", "web"))
	h.handle(h.putRequest(contract.ScaleKey, scaleDoc(map[string]contract.ProcessScale{"web": {Min: 1, Max: 5, CPUTarget: 50}})))
	h.settle()
	res := "service/wharf-main/wharf-api_web"
	if h.w.scaling().Target(res) == nil || h.w.count("wharf-api_web") != 1 {
		t.Fatalf("range not registered: target %+v, count %d", h.w.scaling().Target(res), h.w.count("wharf-api_web"))
	}
	h.w.after["DescribeScalableTargets"] = func() { // the world is locked
		if h.w.aas.Target(res) != nil {
			h.w.services["wharf-api_web"].DesiredCount = 5 // scale-out while the target is registered
		}
	}
	h.handle(h.deleteRequest(contract.ScaleKey))
	h.settle()
	delete(h.w.after, "DescribeScalableTargets")
	if h.w.scaling().Target(res) != nil {
		t.Fatalf("the target is still registered after the range was cleared")
	}
	if got := h.w.count("wharf-api_web"); got != 1 {
		t.Fatalf("web desired = %d after the range was cleared, want the build's 1", got)
	}
}
