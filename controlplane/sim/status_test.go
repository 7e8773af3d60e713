package sim

import (
	"strings"
	"testing"
)

// TestPublishedStatusCheckCatchesDrift: the end check
// published-status-matches-state passes on a settled run and fails once
// the status parameter no longer says what the state does.
func TestPublishedStatusCheckCatchesDrift(t *testing.T) {
	var world *World
	var target *Target
	real := RealControlPlane(nil)
	res, err := Run(Options{Seed: 3, Factory: func(w *World) (*Target, error) {
		world = w
		tg, err := real(w)
		target = tg
		return tg, err
	}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Violated() {
		t.Fatalf("seed 3 broke an invariant: %v", res.Stats.Violations)
	}
	view, ok := target.View.(*storeView)
	if !ok {
		t.Fatalf("view is %T", target.View)
	}
	name := world.appNames()[0]
	p := world.apps[name].acct.params["/"+Prefix+"/apps/"+name+"/status"]
	if p == nil {
		t.Fatalf("%s: no status published", name)
	}
	p.value = strings.Replace(p.value, `"phase":"`, `"phase":"x`, 1)
	before := len(world.Stats.Violations)
	world.checkPublishedStatus(view)
	if len(world.Stats.Violations) == before {
		t.Fatal("a drifted status passed the check")
	}
	if v := world.Stats.Violations[len(world.Stats.Violations)-1]; v.Invariant != InvStatusPublished {
		t.Errorf("violation %+v", v)
	}
}
