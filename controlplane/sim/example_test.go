package sim_test

import (
	"fmt"
	"time"

	"github.com/wharf-paas/wharf/controlplane/sim"
)

// Drive a simulated account by hand: push a build and watch the events
// CodeBuild sends.
func ExampleNewWorld() {
	w := sim.NewWorld(1)
	w.AddApp("api", "111122223333")
	w.OnEvent(func(ev sim.Event) { fmt.Println(ev.Summary) })
	w.StartBuild("api", sim.BuildPlan{
		Duration:  3 * time.Minute,
		Status:    "SUCCEEDED",
		Processes: map[string]sim.Process{"web": {Command: "bin/web"}},
	})
	w.RunFor(5 * time.Minute)
	// Output:
	// CodeBuild Build State Change api#1 IN_PROGRESS
	// CodeBuild Build Phase Change api#1 QUEUED
	// CodeBuild Build Phase Change api#1 BUILD
	// CodeBuild Build State Change api#1 SUCCEEDED
}

// Run one seed against the real control plane and check the invariants.
func ExampleRun() {
	res, err := sim.Run(sim.Options{Seed: 42})
	if err != nil {
		panic(err)
	}
	if res.Violated() {
		fmt.Println(res.Report())
	}
	fmt.Println(sim.Figures([]*sim.Result{res}))
}
