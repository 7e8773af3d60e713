package controlplane

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/wharf-paas/wharf/contract"
)

func TestStatusOf(t *testing.T) {
	t0 := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	two := int32(2)
	meta := &contract.BuildMetadata{Commit: "abcd0123", Processes: map[string]contract.Process{"web": {Count: &two}, "worker": {}}}
	tests := []struct {
		name string
		st   AppState
		want string
	}{
		{"never built", AppState{App: "api"}, `{"version":1,"app":"api","phase":""}`},
		{"building", AppState{App: "api", Phase: PhaseBuilding, Build: 3, PhaseSince: t0, Builds: []TrackedBuild{{Number: 3, Commit: "0123abcd"}}},
			`{"version":1,"app":"api","phase":"building","build":3,"commit":"0123abcd","updatedAt":"2026-01-05T09:00:00Z"}`},
		{"releasing over a deployed build", AppState{App: "api", Phase: PhaseReleasing, Build: 4, PhaseSince: t0,
			Op:       &Operation{Kind: OpBuild, Build: 4, Step: StepRelease, StepSince: t0.Add(time.Minute), Started: t0, Metadata: &contract.BuildMetadata{Commit: "feed0004"}},
			Deployed: &Deployment{Build: 3, Metadata: meta, At: t0.Add(-time.Hour)}},
			`{"version":1,"app":"api","phase":"releasing","build":4,"commit":"feed0004","op":{"kind":"build","build":4,"step":"release","since":"2026-01-05T09:01:00Z","started":"2026-01-05T09:00:00Z"},"deployed":{"build":3,"commit":"abcd0123","at":"2026-01-05T08:00:00Z"},"processes":{"web":{"desired":2},"worker":{"desired":1}},"updatedAt":"2026-01-05T09:01:00Z"}`},
		{"config restart is kind config", AppState{App: "api", Phase: PhaseDeploying, Build: 3, PhaseSince: t0,
			Op: &Operation{Kind: OpBuild, Seq: 2, Build: 3, Step: StepRollout, StepSince: t0, Started: t0}},
			`{"version":1,"app":"api","phase":"deploying","build":3,"op":{"kind":"config","build":3,"step":"rollout","since":"2026-01-05T09:00:00Z","started":"2026-01-05T09:00:00Z"},"updatedAt":"2026-01-05T09:00:00Z"}`},
		{"failed keeps its reason", AppState{App: "api", Phase: PhaseFailed, Build: 5, Reason: ReasonReleaseFailed, Detail: "exit 1", PhaseSince: t0},
			`{"version":1,"app":"api","phase":"failed","build":5,"reason":"` + string(ReasonReleaseFailed) + `","detail":"exit 1","updatedAt":"2026-01-05T09:00:00Z"}`},
		{"a reason outside failed is not shown", AppState{App: "api", Phase: PhaseDeployed, Build: 5, Reason: ReasonReleaseFailed, PhaseSince: t0},
			`{"version":1,"app":"api","phase":"deployed","build":5,"updatedAt":"2026-01-05T09:00:00Z"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := json.Marshal(StatusOf(&tc.st))
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tc.want {
				t.Errorf("got  %s\nwant %s", b, tc.want)
			}
		})
	}
	// The document does not change while nothing user-visible does: a
	// commit that only moves UpdatedAt or bookkeeping writes nothing.
	a := AppState{App: "api", Phase: PhaseDeployed, Build: 3, PhaseSince: t0, UpdatedAt: t0, Deployed: &Deployment{Build: 3, Metadata: meta, At: t0}}
	b := a
	b.UpdatedAt, b.Version, b.ListedBuild, b.Known = t0.Add(time.Hour), 9, "x:1", []string{"x:1"}
	ja, _ := json.Marshal(StatusOf(&a))
	jb, _ := json.Marshal(StatusOf(&b))
	if string(ja) != string(jb) {
		t.Errorf("bookkeeping changed the status: %s vs %s", ja, jb)
	}
}

func TestActivityEvents(t *testing.T) {
	t0 := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	meta := &contract.BuildMetadata{Commit: "c0ffee01"}
	idle := AppState{App: "api", Version: 3, Phase: PhaseDeployed, Build: 1, Deployed: &Deployment{Build: 1, Metadata: meta, At: t0}}
	building := idle
	building.Phase, building.Build, building.Builds = PhaseBuilding, 2, []TrackedBuild{{Number: 2, Commit: "c0ffee02"}}
	releasing := building
	releasing.Phase, releasing.Op = PhaseReleasing, &Operation{Kind: OpBuild, Build: 2, Step: StepRelease, Metadata: &contract.BuildMetadata{Commit: "c0ffee02"}}
	deploying := releasing
	op := *releasing.Op
	op.Step = StepRollout
	deploying.Phase, deploying.Op = PhaseDeploying, &op
	deployed := idle
	deployed.Build, deployed.Deployed = 2, &Deployment{Build: 2, Metadata: &contract.BuildMetadata{Commit: "c0ffee02"}, At: t0.Add(time.Hour)}
	failed := releasing
	failed.Op, failed.Phase, failed.Reason, failed.Detail = nil, PhaseFailed, ReasonReleaseFailed, "exit 1"
	restart := idle
	restart.Phase, restart.Op = PhaseDeploying, &Operation{Kind: OpBuild, Seq: 1, Build: 1, Step: StepRollout}
	adopted := deployed
	adopted.Adopted = &Adoption{}
	tests := []struct {
		name       string
		prev, next AppState
		want       []string // event/phase-or-step-or-outcome/build
	}{
		{"no change", idle, idle, nil},
		{"a build starts", idle, building, []string{"phase/building/2"}},
		{"release starts", building, releasing, []string{"phase/releasing/2", "step/release/2"}},
		{"step changes within a phase change", releasing, deploying, []string{"phase/deploying/2", "step/rollout/2"}},
		{"deployed", deploying, deployed, []string{"phase/deployed/2", "deploy/deployed/2"}},
		{"failed", releasing, failed, []string{"phase/failed/2", "deploy/failed/2"}},
		{"config restart of the deployed build", idle, restart, []string{"phase/deploying/1", "step/rollout/1"}},
		{"adoption by a new state table", AppState{App: "api"}, adopted, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, e := range ActivityEvents(&tc.prev, &tc.next, t0) {
				v := e.Phase + e.Step + e.Outcome
				got = append(got, e.Event+"/"+v+"/"+itoa(e.Build))
				if e.App != "api" || e.Time != "2026-01-05T09:00:00Z" {
					t.Errorf("event %+v", e)
				}
				if e.Event == contract.ActivityDeploy && e.Outcome == "failed" && (e.Reason != string(ReasonReleaseFailed) || e.Detail != "exit 1") {
					t.Errorf("failed deploy event %+v", e)
				}
				if tc.name == "config restart of the deployed build" && e.Kind != "config" {
					t.Errorf("restart event kind %q", e.Kind)
				}
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("got %v, want %v", got, tc.want)
				}
			}
		})
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }
