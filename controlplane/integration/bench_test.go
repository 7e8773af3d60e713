package integration_test

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cbtypes "github.com/aws/aws-sdk-go-v2/service/codebuild/types"

	"github.com/wharf-paas/wharf/controlplane"
	"github.com/wharf-paas/wharf/controlplane/integration"
)

// deployCalls deploys build 1 (with a release command) and build 2 of an
// app with procs process types and returns the AWS calls the control plane
// made for build 2 (a steady-state redeploy), all and writes only, plus
// the calls of one no-action event afterwards.
func deployCalls(t testing.TB, procs int) (all, writes, idleAll, idleWrites int, byOp map[string]int) {
	t.Helper()
	w := newWorldTB(t)
	names := []string{"web"}
	for i := 1; i < procs; i++ {
		names = append(names, fmt.Sprintf("worker%d", i))
	}
	if err := w.drv.Deploy(w.ctx, w.app.Metadata(1, "bin/migrate", names...)); err != nil {
		t.Fatal(err)
	}
	w.env.Log.Reset()
	if err := w.drv.Deploy(w.ctx, w.app.Metadata(2, "bin/migrate", names...)); err != nil {
		t.Fatal(err)
	}
	st, err := w.store.LoadApp(w.ctx, integration.Account, w.app.Name)
	if err != nil {
		t.Fatal(err)
	}
	if st.Phase != controlplane.PhaseDeployed || st.Build != 2 {
		t.Fatalf("phase %q build %d, want deployed 2", st.Phase, st.Build)
	}
	byOp = map[string]int{}
	for _, c := range w.env.Log.Calls() {
		byOp[c.Service+"."+c.Op]++
	}
	all, writes = len(w.env.Log.Calls()), len(w.env.Log.Writes())

	// A steady-state event for a deployed app needs no action.
	svc, _ := w.env.Fake.Service(w.env.ClusterARN, w.name("web"))
	ev, err := w.env.Samples.ServiceSteadyState(svc)
	if err != nil {
		t.Fatal(err)
	}
	w.env.Log.Reset()
	if err := w.drv.Redeliver(w.ctx, ev); err != nil {
		t.Fatal(err)
	}
	var idleAWSWrites int
	for _, c := range w.env.Log.Calls() {
		byOp["noop:"+c.Service+"."+c.Op]++
	}
	for _, c := range w.env.Log.Writes() {
		// Marking the event ID as processed is the only write allowed.
		if c.Service != "dynamodb" {
			idleAWSWrites++
		}
	}
	return all, writes, len(w.env.Log.Calls()), idleAWSWrites, byOp
}

// TestAPICallsPerDeployGrowLinearly checks the cost model behind the
// numbers in docs/performance.md: the calls of a deploy grow at most
// linearly with the number of process types, and an event that needs no
// action makes no AWS write call.
func TestAPICallsPerDeployGrowLinearly(t *testing.T) {
	if testing.Short() {
		t.Skip("deploys three apps; skipped in -short mode")
	}
	calls := map[int]int{}
	for _, n := range []int{1, 3, 10} {
		all, writes, idle, idleWrites, byOp := deployCalls(t, n)
		t.Logf("N=%d: %d calls (%d writes) per deploy; no-action event: %d calls, %d AWS writes; %v", n, all, writes, idle, idleWrites, byOp)
		calls[n] = all
		if idleWrites != 0 {
			t.Errorf("N=%d: a no-action event made %d AWS write calls", n, idleWrites)
		}
	}
	perProc := float64(calls[3]-calls[1]) / 2
	if perProc <= 0 {
		t.Fatalf("calls did not grow from N=1 (%d) to N=3 (%d)", calls[1], calls[3])
	}
	// Linear: f(10) <= f(1) + 9·(f(3)-f(1))/2, with slack for batched
	// Describe calls, which only make it smaller.
	if limit := float64(calls[1]) + 9*perProc; float64(calls[10]) > limit+0.5 {
		t.Errorf("calls grow faster than linearly: f(1)=%d f(3)=%d f(10)=%d > %.0f", calls[1], calls[3], calls[10], limit)
	}
}

// BenchmarkAPICallsPerDeploy reports AWS calls per deploy for N process
// types (calls/deploy, writes/deploy) and for one no-action event.
func BenchmarkAPICallsPerDeploy(b *testing.B) {
	for _, n := range []int{1, 3, 10} {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
			var all, writes, idle, idleWrites int
			for b.Loop() {
				all, writes, idle, idleWrites, _ = deployCalls(b, n)
			}
			b.ReportMetric(float64(all), "calls/deploy")
			b.ReportMetric(float64(writes), "writes/deploy")
			b.ReportMetric(float64(idle), "calls/noop-event")
			b.ReportMetric(float64(idleWrites), "aws-writes/noop-event")
		})
	}
}

// BenchmarkEventsDynamoStore measures events per second through the
// control plane with the DynamoDB store on kumo (and ECS on awsfake), for
// an event that needs no action (a deployed app's SERVICE_STEADY_STATE,
// each with a fresh ID) and for a duplicate event.
func BenchmarkEventsDynamoStore(b *testing.B) {
	w := newWorldTB(b)
	if err := w.drv.Deploy(w.ctx, w.app.Metadata(1, "", "web", "worker")); err != nil {
		b.Fatal(err)
	}
	svc, _ := w.env.Fake.Service(w.env.ClusterARN, w.name("web"))
	if aws.ToString(svc.Status) != "ACTIVE" {
		b.Fatalf("web service %s", aws.ToString(svc.Status))
	}
	b.Run("noop", func(b *testing.B) {
		ev, err := w.env.Samples.ServiceSteadyState(svc)
		if err != nil {
			b.Fatal(err)
		}
		cw := ev.CloudWatch()
		i := 0
		for b.Loop() {
			cw.ID = fmt.Sprintf("bench-noop-%d", i)
			if err := w.cp.Handle(context.Background(), cw); err != nil {
				b.Fatal(err)
			}
			i++
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	})
	b.Run("duplicate", func(b *testing.B) {
		ev, err := w.env.Samples.ServiceSteadyState(svc)
		if err != nil {
			b.Fatal(err)
		}
		cw := ev.CloudWatch()
		if err := w.cp.Handle(context.Background(), cw); err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if err := w.cp.Handle(context.Background(), cw); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	})
}

// BenchmarkSweepIdleApps measures one sweep of many idle deployed apps
// (DynamoDB on kumo, the rest on awsfake, real SDK clients) at
// SweepConcurrency 1 and 8, with 10 ms added to every request as a
// stand-in for AWS's round trips. It reports the sweep's wall time and its
// calls per app.
func BenchmarkSweepIdleApps(b *testing.B) {
	const apps = 40
	w := newWorldTB(b)
	id := worlds.Add(1)
	list := []*integration.App{w.app}
	for i := 1; i < apps; i++ {
		a, err := w.env.AddApp(w.ctx, fmt.Sprintf("b%d-%d", id, i))
		if err != nil {
			b.Fatal(err)
		}
		list = append(list, a)
	}
	provider, err := w.env.Provider()
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	newCP := func(concurrency int) *controlplane.ControlPlane {
		cp, err := controlplane.New(controlplane.Options{Registry: w.env.Registry, Store: w.store, Clients: provider,
			Now: func() time.Time { return now }, SweepConcurrency: concurrency, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			b.Fatal(err)
		}
		return cp
	}
	setup := newCP(8)
	for _, a := range list {
		if err := w.env.FinishBuild(a, a.Metadata(1, "", "web"), cbtypes.StatusTypeSucceeded); err != nil {
			b.Fatal(err)
		}
	}
	seq := 0
	sweep := func(cp *controlplane.ControlPlane) {
		seq++
		if err := cp.Handle(w.ctx, sweepEvent(seq, now)); err != nil {
			b.Fatal(err)
		}
	}
	sweep(setup)
	w.env.Fake.CompleteDeployments()
	now = now.Add(controlplane.DefaultStuckAfter + time.Minute)
	sweep(setup)
	for _, concurrency := range []int{1, 8} {
		b.Run(fmt.Sprintf("apps=%d/concurrency=%d", apps, concurrency), func(b *testing.B) {
			cp := newCP(concurrency)
			w.env.Log.SetDelay(10 * time.Millisecond)
			defer w.env.Log.SetDelay(0)
			w.env.Log.Reset()
			for b.Loop() {
				sweep(cp)
			}
			calls := len(w.env.Log.Calls())
			if writes := w.env.Log.Writes(); len(writes) != 0 {
				b.Fatalf("idle sweeps wrote: %s", wireOps(writes))
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/sweep")
			b.ReportMetric(float64(calls)/float64(b.N*apps), "calls/app")
		})
	}
}
