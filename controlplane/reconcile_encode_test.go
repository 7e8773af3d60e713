package controlplane

import (
	"encoding/json"
	"testing"
)

// TestEncodesApart checks the loop's shortcut: whenever encodesApart says
// two states differ, their encodings (what the loop would otherwise
// compare) do differ; and states that differ only elsewhere are left to
// the encoding.
func TestEncodesApart(t *testing.T) {
	states := map[string]*AppState{"deployed": dtDeployed()}
	for _, step := range []Step{StepRegister, StepRelease, StepServices, StepRollout, StepRollback} {
		states[string(step)] = dtOp(step)
	}
	tracked := dtDeployed()
	tracked.Builds = []TrackedBuild{{ID: "wharf-api:b2"}}
	states["tracked"] = tracked
	failed := dtDeployed()
	failed.Phase = PhaseFailed
	states["failed"] = failed
	other := dtDeployed()
	other.Detail = "only the detail differs"
	states["detail"] = other

	apart, same := 0, 0
	for an, a := range states {
		for bn, b := range states {
			ja, _ := json.Marshal(a)
			jb, _ := json.Marshal(b)
			switch {
			case an == bn && encodesApart(a, b):
				t.Errorf("%s is apart from itself", an)
			case encodesApart(a, b) && string(ja) == string(jb):
				t.Errorf("%s and %s: encodesApart, but they encode the same", an, bn)
			case encodesApart(a, b):
				apart++
			default:
				same++
			}
		}
	}
	if encodesApart(states["deployed"], states["detail"]) {
		t.Errorf("a difference in Detail is not one encodesApart can see")
	}
	if apart == 0 || same == 0 {
		t.Fatalf("apart %d, not apart %d: the table checks nothing", apart, same)
	}
}

// TestActivityFieldsSuffice checks that the copy status publishing keeps
// of the loaded state gives the same activity events as the whole state.
func TestActivityFieldsSuffice(t *testing.T) {
	var states []*AppState
	for _, step := range []Step{StepRegister, StepRelease, StepServices, StepRollout, StepRollback} {
		states = append(states, dtOp(step))
	}
	failed := dtOp(StepRollout)
	failed.Phase, failed.Op = PhaseFailed, nil
	redeployed := dtDeployed()
	redeployed.Deployed.Build, redeployed.Build = 2, 2
	states = append(states, dtDeployed(), failed, redeployed, &AppState{App: "api"})
	events := 0
	for i, prev := range states {
		for j, next := range states {
			p := activityFields(prev)
			want, _ := json.Marshal(ActivityEvents(prev, next, dtNow))
			got, _ := json.Marshal(ActivityEvents(&p, next, dtNow))
			if string(got) != string(want) {
				t.Errorf("%d -> %d: events %s, want %s", i, j, got, want)
			}
			events += len(ActivityEvents(prev, next, dtNow))
		}
	}
	if events == 0 {
		t.Fatal("no transition produced an event: the table checks nothing")
	}
}
