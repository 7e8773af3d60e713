package controlplane

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codebuild"
	cbtypes "github.com/aws/aws-sdk-go-v2/service/codebuild/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/wharf-paas/wharf/contract"
)

// savesStore counts state writes.
type savesStore struct {
	*MemoryStore
	mu    sync.Mutex
	saves int
}

func (s *savesStore) SaveApp(ctx context.Context, st *AppState, recs ...*DeployRecord) error {
	s.mu.Lock()
	s.saves++
	s.mu.Unlock()
	return s.MemoryStore.SaveApp(ctx, st, recs...)
}

func (s *savesStore) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.saves
}

// sweepNow delivers a sweep and fails the test on an error.
func (h *harness) sweepNow() {
	h.t.Helper()
	h.handle(h.ev.sweep())
}

// finishRolloutBySweep completes the rollout without an event (the sweep sees it
// once the step is StuckAfter old).
func (h *harness) finishRolloutBySweep() {
	h.t.Helper()
	h.w.completeRollouts()
	h.clock.Advance(6 * time.Minute)
	h.sweepNow()
}

func TestSweepDeploysBuildWhoseEventsWereLost(t *testing.T) {
	h := newHarness(t, nil, nil)
	h.deployBuild(1, twMeta("api", 1, "", "web"))

	// Every event of build 2 is lost: CodeBuild has it, the state does not.
	h.w.startBuild("api", 2)
	h.w.finishBuild("api", 2, cbtypes.StatusTypeSucceeded, twMeta("api", 2, "", "web"))
	h.w.resetCalls()
	h.sweepNow()
	h.wantPhase(PhaseDeploying, 2, "")
	lists := h.w.Calls("ListBuildsForProject")
	if len(lists) != 1 {
		t.Fatalf("%d ListBuildsForProject calls, want 1", len(lists))
	}
	in := lists[0].Input.(*codebuild.ListBuildsForProjectInput)
	if aws.ToString(in.ProjectName) != "wharf-api" || in.SortOrder != cbtypes.SortOrderTypeDescending || in.NextToken != nil {
		t.Errorf("ListBuildsForProject input = %+v", in)
	}
	// BatchGetBuilds was asked about the unknown build only, once.
	gets := h.w.Calls("BatchGetBuilds")
	if len(gets) != 1 || strings.Join(gets[0].Input.(*codebuild.BatchGetBuildsInput).Ids, ",") != "wharf-api:b2" {
		t.Fatalf("BatchGetBuilds calls = %+v, want one for wharf-api:b2", gets)
	}
	h.finishRolloutBySweep()
	h.wantPhase(PhaseDeployed, 2, "")
	if h.serviceTaskDefBuild("web") != "2" {
		t.Fatalf("web does not run build 2")
	}
	// Its late events, should they come, change nothing.
	h.w.resetCalls()
	h.handle(h.ev.build("api", 2, "SUCCEEDED"))
	if n := len(h.w.Calls()); n != 0 {
		t.Fatalf("late event of a discovered build made %d AWS calls", n)
	}
}

// serviceTaskDefBuild is the wharf:build tag of the task definition a
// service runs.
func (h *harness) serviceTaskDefBuild(proc string) string {
	h.t.Helper()
	td := h.w.taskDef(h.w.serviceTaskDef("wharf-api_" + proc))
	if td == nil {
		return ""
	}
	for _, tag := range td.Tags {
		if aws.ToString(tag.Key) == TagBuild {
			return aws.ToString(tag.Value)
		}
	}
	return ""
}

func TestSweepDeploysFirstBuildOfAnAppNeverSeen(t *testing.T) {
	h := newHarness(t, nil, nil)
	h.sweepNow() // nothing built yet: a listing, no write
	if st := h.state(); st.Version != 0 {
		t.Fatalf("a sweep of an app with no builds wrote its state: %+v", st)
	}
	h.w.startBuild("api", 1)
	h.w.finishBuild("api", 1, cbtypes.StatusTypeSucceeded, twMeta("api", 1, "bin/migrate", "web"))
	h.sweepNow()
	h.wantPhase(PhaseReleasing, 1, "")
}

func TestSweepIgnoresListedBuildOlderThanDeployed(t *testing.T) {
	store := &savesStore{MemoryStore: NewMemoryStore()}
	h := newHarness(t, store, nil)
	// Build 2 succeeded but nobody heard of it; build 3 deployed first.
	h.w.startBuild("api", 2)
	h.w.finishBuild("api", 2, cbtypes.StatusTypeSucceeded, twMeta("api", 2, "", "web"))
	h.deployBuild(3, twMeta("api", 3, "", "web"))
	h.w.resetCalls()
	saves := store.count()
	h.sweepNow()
	h.wantPhase(PhaseDeployed, 3, "")
	if n := len(h.w.Calls("BatchGetBuilds")); n != 0 {
		t.Errorf("the listing stops at the deployed build, yet BatchGetBuilds was called %d times", n)
	}
	if n := len(h.w.Calls(writeOps...)); n != 0 || store.count() != saves {
		t.Errorf("older build: %d AWS writes, %d state writes", n, store.count()-saves)
	}

	// The deployed build was deleted from CodeBuild, so the listing runs
	// past where it was: build 2 is looked at, found older, and ignored.
	h.w.mu.Lock()
	delete(h.w.builds, "wharf-api:b3")
	h.w.mu.Unlock()
	h.w.resetCalls()
	h.sweepNow()
	h.wantPhase(PhaseDeployed, 3, "")
	if n := len(h.w.Calls("BatchGetBuilds")); n != 1 {
		t.Errorf("BatchGetBuilds called %d times, want 1", n)
	}
	if n := len(h.w.Calls(writeOps...)); n != 0 {
		t.Errorf("older build made %d AWS writes", n)
	}
	if st := h.state(); len(st.Builds) != 0 || st.ListedBuild != "wharf-api:b2" || st.Deployed.Build != 3 {
		t.Errorf("state after the listing: builds %+v listed %q deployed %d", st.Builds, st.ListedBuild, st.Deployed.Build)
	}
	// Looked at once: the next sweep stops at it.
	h.w.resetCalls()
	saves = store.count()
	h.sweepNow()
	if n := len(h.w.Calls("BatchGetBuilds")); n != 0 || store.count() != saves {
		t.Errorf("second sweep: %d BatchGetBuilds, %d state writes", n, store.count()-saves)
	}
}

func TestSweepTracksListedBuildInProgress(t *testing.T) {
	h := newHarness(t, nil, nil)
	h.deployBuild(1, twMeta("api", 1, "", "web"))
	h.w.startBuild("api", 2) // its events are lost
	h.w.resetCalls()
	h.sweepNow()
	h.wantPhase(PhaseBuilding, 2, "")
	if n := len(h.w.Calls(writeOps...)); n != 0 {
		t.Fatalf("a build in progress made %d AWS writes", n)
	}
	if n := len(h.w.Calls("BatchGetBuilds")); n != 1 {
		t.Fatalf("BatchGetBuilds called %d times in the sweep, want 1 (the discovery's)", n)
	}
	// Still running at the next sweeps: nothing deploys.
	h.clock.Advance(6 * time.Minute)
	h.sweepNow()
	h.wantPhase(PhaseBuilding, 2, "")
	if n := len(h.w.Calls(writeOps...)); n != 0 {
		t.Fatalf("a build in progress made %d AWS writes", n)
	}
	// It succeeds, silently too: the stuck-build re-observation deploys it.
	h.w.finishBuild("api", 2, cbtypes.StatusTypeSucceeded, twMeta("api", 2, "", "web"))
	h.clock.Advance(6 * time.Minute)
	h.sweepNow()
	h.wantPhase(PhaseDeploying, 2, "")
	h.finishRolloutBySweep()
	h.wantPhase(PhaseDeployed, 2, "")
}

func TestSweepOfIdleAppWithNothingNewWritesNothing(t *testing.T) {
	for _, skipConfig := range []bool{false, true} {
		t.Run(fmt.Sprintf("SkipSweepConfigCheck=%v", skipConfig), func(t *testing.T) {
			store := &savesStore{MemoryStore: NewMemoryStore()}
			h := newHarness(t, store, func(o *Options) { o.SkipSweepConfigCheck = skipConfig })
			h.deployBuild(1, twMeta("api", 1, "", "web"))
			// A failed build heard of, and an older build never heard
			// of: nothing new either way.
			h.w.startBuild("api", 2)
			h.handle(h.ev.build("api", 2, "IN_PROGRESS"))
			h.w.finishBuild("api", 2, cbtypes.StatusTypeFailed, nil)
			h.handle(h.ev.build("api", 2, "FAILED"))
			h.wantPhase(PhaseFailed, 2, ReasonBuildFailed)
			h.w.resetCalls()
			saves := store.count()
			for range 3 {
				h.clock.Advance(time.Minute)
				h.sweepNow()
			}
			if n := len(h.w.Calls(writeOps...)); n != 0 {
				t.Errorf("idle sweeps made %d AWS writes", n)
			}
			if store.count() != saves {
				t.Errorf("idle sweeps made %d state writes", store.count()-saves)
			}
			if n := len(h.w.Calls("ListBuildsForProject")); n != 3 {
				t.Errorf("%d ListBuildsForProject in 3 sweeps, want 3", n)
			}
			if n := len(h.w.Calls("BatchGetBuilds")); n != 0 {
				t.Errorf("%d BatchGetBuilds with nothing unknown, want 0", n)
			}
			want := map[bool]int{false: 3, true: 0}[skipConfig]
			if n := len(h.w.Calls("DescribeParameters")); n != want {
				t.Errorf("%d DescribeParameters, want %d", n, want)
			}
			// The settings (the project name) each sweep, and with the
			// configuration check the three runtime request parameters
			// (a lost scale, restart or rollback event is made up for).
			want = 3 + map[bool]int{false: 9, true: 0}[skipConfig]
			if n := len(h.w.Calls("GetParameter")); n != want {
				t.Errorf("%d GetParameter, want %d", n, want)
			}
		})
	}
}

func TestSweepListingFailuresDoNotStopOtherApps(t *testing.T) {
	// One app after the other, so the scripted failure is api's.
	h := newHarness(t, nil, func(o *Options) { o.Registry = twRegistry("api", "shop"); o.SweepConcurrency = 1 })
	h.w.putSettings("shop", nil)
	h.w.startBuild("shop", 1)
	h.w.finishBuild("shop", 1, cbtypes.StatusTypeSucceeded, twMeta("shop", 1, "", "web"))
	shop := func() *AppState {
		st, err := h.store.LoadApp(context.Background(), twAccount, "shop")
		if err != nil {
			t.Fatal(err)
		}
		return st
	}

	// Throttled for api (swept first): the sweep reports it, shop deploys.
	h.w.fail["ListBuildsForProject"] = []error{apiErr("ThrottlingException", "Rate exceeded")}
	err := h.cp.Handle(context.Background(), h.ev.sweep())
	if err == nil || !strings.Contains(err.Error(), "ThrottlingException") || !strings.Contains(err.Error(), "/api") {
		t.Fatalf("sweep error = %v, want api's ThrottlingException", err)
	}
	if st := shop(); st.Phase != PhaseDeploying || st.Build != 1 {
		t.Fatalf("shop = %s build %d, want deploying 1", st.Phase, st.Build)
	}

	// A management role without the permission (an app stack not yet
	// redeployed) and a project that does not exist are not errors.
	for _, e := range []error{
		apiErr("AccessDeniedException", "not authorized to perform codebuild:ListBuildsForProject"),
		&cbtypes.ResourceNotFoundException{Message: aws.String("The provided project does not exist")},
	} {
		h.w.fail["ListBuildsForProject"] = []error{e}
		if err := h.cp.Handle(context.Background(), h.ev.sweep()); err != nil {
			t.Errorf("sweep with %v: %v", e, err)
		}
	}
}

func TestSweepOfAppNeverSeenWithoutRoleIsNotAnError(t *testing.T) {
	h := newHarness(t, nil, func(o *Options) {
		o.Registry = twRegistry("api")
		o.Registry.Accounts = append(o.Registry.Accounts, contract.AccountRegistration{AccountID: "444455556666",
			ObserverRoleARN: "arn:aws:iam::444455556666:role/wharf-account-observer", ExternalID: "ext-acct2"})
		o.Registry.Apps = append(o.Registry.Apps, contract.AppRegistration{Name: "new", AccountID: "444455556666", Region: twRegion,
			ManagementRoleARN: "arn:aws:iam::444455556666:role/wharf-app-new-management", ExternalID: "ext-new"})
	})
	// The provider has no world for 444455556666: its role cannot be
	// assumed, as before the app's stack is deployed.
	if err := h.cp.Handle(context.Background(), h.ev.sweep()); err != nil {
		t.Fatalf("sweep: %v", err)
	}
}

func TestSweepTracksAtMostTheNewestBuildsDownToTheNewestSuccess(t *testing.T) {
	h := newHarness(t, nil, nil)
	// 30 builds nobody heard of: #5 is the newest that succeeded.
	for n := int64(1); n <= 30; n++ {
		status := cbtypes.StatusTypeFailed
		var meta *contract.BuildMetadata
		if n == 3 || n == 5 {
			status, meta = cbtypes.StatusTypeSucceeded, twMeta("api", n, "", "web")
		}
		h.w.finishBuild("api", n, status, meta)
	}
	h.sweepNow()
	h.wantPhase(PhaseDeploying, 5, "")
	hist, err := h.store.History(context.Background(), twAccount, "api", 0)
	if err != nil {
		t.Fatal(err)
	}
	var failed []int64
	for _, r := range hist {
		if r.Outcome == OutcomeFailed {
			failed = append(failed, r.Build)
		}
	}
	if len(failed) != maxDiscoveredBuilds-1 || failed[0] != 30 || failed[len(failed)-1] != 12 {
		t.Errorf("failed records for builds %v, want the %d newest (30 … 12)", failed, maxDiscoveredBuilds-1)
	}
	h.w.resetCalls()
	h.finishRolloutBySweep()
	h.wantPhase(PhaseDeployed, 5, "")
	if n := len(h.w.Calls("BatchGetBuilds")); n != 0 {
		t.Errorf("the builds already looked at were asked about again (%d BatchGetBuilds)", n)
	}
}

func TestSweepDiscoveryKeepsNewestBuildWinsAndOneOperation(t *testing.T) {
	h := newHarness(t, nil, nil)
	h.deployBuild(1, twMeta("api", 1, "", "web"))
	// Build 2 is releasing (heard of); builds 3 and 4 succeed unheard of.
	h.w.startBuild("api", 2)
	h.w.finishBuild("api", 2, cbtypes.StatusTypeSucceeded, twMeta("api", 2, "bin/migrate", "web"))
	h.handle(h.ev.build("api", 2, "SUCCEEDED"))
	h.wantPhase(PhaseReleasing, 2, "")
	for _, n := range []int64{3, 4} {
		h.w.finishBuild("api", n, cbtypes.StatusTypeSucceeded, twMeta("api", n, "bin/migrate", "web"))
	}
	h.sweepNow()
	// One operation at a time: build 2's release goes on, nothing new runs.
	h.wantPhase(PhaseReleasing, 2, "")
	if n := len(h.w.Calls("RunTask")); n != 1 {
		t.Fatalf("%d release tasks, want 1", n)
	}
	st := h.state()
	if len(st.Builds) != 1 || st.Builds[0].Number != 4 {
		t.Fatalf("tracked builds %+v, want build 4 only (3 could only be superseded)", st.Builds)
	}
	// Build 2's release ends: build 4 goes next, never 3.
	task := h.releaseTask()
	h.w.stopTask(aws.ToString(task.TaskArn), ecstypes.TaskStopCodeEssentialContainerExited, aws.Int32(0), "ok")
	h.handle(h.ev.task(task))
	h.w.completeRollouts()
	h.handle(h.ev.deployment("api", "web", "SERVICE_DEPLOYMENT_COMPLETED"))
	h.wantPhase(PhaseReleasing, 4, "")
	var released []string
	for _, c := range h.w.Calls("RunTask") {
		released = append(released, aws.ToString(c.Input.(*ecs.RunTaskInput).StartedBy))
	}
	if strings.Join(released, ",") != "wharf-release-2,wharf-release-4" {
		t.Fatalf("release tasks started by %v, want builds 2 and 4", released)
	}
}
