package controlplane

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	cbtypes "github.com/aws/aws-sdk-go-v2/service/codebuild/types"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// The benchmarks measure the control plane's own decision time per event
// on the in-memory store with the in-memory AWS fakes (their cost is
// included and small: map lookups under a mutex). Run with
// `go test -run '^$' -bench . -benchmem ./controlplane/`.

func benchEvents(b *testing.B, h *harness, mk func(i int) events.CloudWatchEvent) {
	b.Helper()
	evs := make([]events.CloudWatchEvent, b.N)
	for i := range evs {
		evs[i] = mk(i)
		evs[i].ID = fmt.Sprintf("bench-%d", i)
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range evs {
		if err := h.cp.Handle(ctx, evs[i]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecideIdleNoAction: a repeated SERVICE_STEADY_STATE for an idle
// app (dedupe check, state load, decision, mark; no AWS call).
func BenchmarkDecideIdleNoAction(b *testing.B) {
	h := newHarness(b, nil, nil)
	h.deployBuild(1, twMeta("api", 1, "", "web"))
	ev := h.ev.envelope("aws.ecs", "ECS Service Action", []string{"arn:aws:ecs:eu-west-1:111122223333:service/wharf-main/wharf-api_web"},
		map[string]any{"eventType": "INFO", "eventName": "SERVICE_STEADY_STATE"})
	benchEvents(b, h, func(int) events.CloudWatchEvent { return ev })
}

// BenchmarkDecideRolloutInProgress: a deployment event while three
// services roll out (settings read, DescribeServices, no action).
func BenchmarkDecideRolloutInProgress(b *testing.B) {
	h := newHarness(b, nil, nil)
	h.w.finishBuild("api", 1, cbtypes.StatusTypeSucceeded, twMeta("api", 1, "", "web", "worker", "clock"))
	h.handle(h.ev.build("api", 1, "SUCCEEDED"))
	ev := h.ev.deployment("api", "web", "SERVICE_DEPLOYMENT_IN_PROGRESS")
	benchEvents(b, h, func(int) events.CloudWatchEvent { return ev })
}

// BenchmarkDecideRejected: an event from an unregistered account.
func BenchmarkDecideRejected(b *testing.B) {
	h := newHarness(b, nil, nil)
	ev := h.ev.build("api", 1, "SUCCEEDED")
	ev.AccountID = "444455556666"
	benchEvents(b, h, func(int) events.CloudWatchEvent { return ev })
}

// BenchmarkFullDeploy: one deploy of a build with a release and three
// process types, driven by its five events (IN_PROGRESS, SUCCEEDED,
// release STOPPED, two deployment events); ns/op is per deploy.
func BenchmarkFullDeploy(b *testing.B) {
	h := newHarness(b, nil, nil)
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		n := int64(i + 1)
		b.StopTimer()
		h.w.startBuild("api", n)
		inProgress := h.ev.build("api", n, "IN_PROGRESS")
		h.w.finishBuild("api", n, cbtypes.StatusTypeSucceeded, twMeta("api", n, "bin/migrate", "web", "worker", "clock"))
		succeeded := h.ev.build("api", n, "SUCCEEDED")
		b.StartTimer()
		for _, ev := range []events.CloudWatchEvent{inProgress, succeeded} {
			if err := h.cp.Handle(ctx, ev); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		task := h.releaseTask()
		h.w.stopTask(aws.ToString(task.TaskArn), ecstypes.TaskStopCodeEssentialContainerExited, aws.Int32(0), "ok")
		stopped := h.ev.task(task)
		b.StartTimer()
		if err := h.cp.Handle(ctx, stopped); err != nil {
			b.Fatal(err)
		}
		if err := h.cp.Handle(ctx, h.ev.deployment("api", "web", "SERVICE_DEPLOYMENT_IN_PROGRESS")); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		h.w.completeRollouts()
		done := h.ev.deployment("api", "web", "SERVICE_DEPLOYMENT_COMPLETED")
		b.StartTimer()
		if err := h.cp.Handle(ctx, done); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if st := h.state(); st.Phase != PhaseDeployed || st.Build != int64(b.N) {
		b.Fatalf("state = %s %d", st.Phase, st.Build)
	}
}

// TestAPICallsPerDeployGrowLinearly counts the AWS calls of one deploy of
// an app with N process types (a redeploy: every service exists) and
// checks that they grow linearly in N and that a no-action event costs no
// write call.
func TestAPICallsPerDeployGrowLinearly(t *testing.T) {
	counts := map[int][2]int{}
	for _, n := range []int{1, 3, 10} {
		h := newHarness(t, nil, nil)
		procs := []string{"web"}
		for i := 1; i < n; i++ {
			procs = append(procs, fmt.Sprintf("p%d", i))
		}
		h.deployBuild(1, twMeta("api", 1, "bin/migrate", procs...))
		h.w.resetCalls()
		h.deployBuild(2, twMeta("api", 2, "bin/migrate", procs...))
		all, writes := len(h.w.Calls()), len(h.w.Calls(writeOps...))
		counts[n] = [2]int{all, writes}
		t.Logf("N=%d: %d AWS calls per deploy, %d of them writes", n, all, writes)
		// Writes: one task definition per process plus the release, one
		// RunTask, one UpdateService per process.
		if want := 2*n + 2; writes != want {
			t.Errorf("N=%d: %d write calls, want %d", n, writes, want)
		}
		h.w.resetCalls()
		h.handle(h.ev.deployment("api", "web", "SERVICE_DEPLOYMENT_COMPLETED"))
		if w := len(h.w.Calls(writeOps...)); w != 0 {
			t.Errorf("N=%d: no-action event made %d write calls", n, w)
		}
	}
	// Linear: the per-process increment is the same from 1→3 and 3→10.
	d1 := float64(counts[3][0]-counts[1][0]) / 2
	d2 := float64(counts[10][0]-counts[3][0]) / 7
	if d2 > d1+1 {
		t.Errorf("calls grow faster than linearly: %.1f then %.1f per process (%v)", d1, d2, counts)
	}
}
