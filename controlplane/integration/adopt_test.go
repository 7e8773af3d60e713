package integration_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	cbtypes "github.com/aws/aws-sdk-go-v2/service/codebuild/types"

	"github.com/wharf-paas/wharf/controlplane"
	"github.com/wharf-paas/wharf/controlplane/awsfake"
	"github.com/wharf-paas/wharf/controlplane/integration"
)

// sweepEvent is the scheduled event that starts a sweep.
func sweepEvent(n int, now time.Time) events.CloudWatchEvent {
	return events.CloudWatchEvent{ID: fmt.Sprintf("sweep-%d", n), Source: "aws.events", DetailType: "Scheduled Event",
		AccountID: integration.Account, Region: integration.Region, Time: now, Detail: []byte("{}")}
}

func wireOps(calls []integration.APICall) string {
	var ops []string
	for _, c := range calls {
		ops = append(ops, c.Service+"."+c.Op)
	}
	return strings.Join(ops, " ")
}

// TestNewStateTableAdoptsRunningApp: the control plane's table is
// recreated (a new, empty table) while the app runs build 1. The first
// sweep adopts the app (no ECS write, no release), the next one writes
// nothing, and build 2 then deploys as usual, release included. Real SDK
// clients over HTTP: DynamoDB on kumo, ECS, CodeBuild and S3 on awsfake.
func TestNewStateTableAdoptsRunningApp(t *testing.T) {
	w := newWorldTB(t)
	w.must(w.drv.Deploy(w.ctx, w.app.Metadata(1, "bin/migrate", "web", "worker")))
	w.wantPhase(controlplane.PhaseDeployed, 1)
	releases := len(w.env.Fake.Tasks())

	// A new table, and a new control plane process on it.
	table := w.table + "-new"
	w.must(w.env.CreateTable(w.ctx, table))
	provider, err := w.env.Provider()
	w.must(err)
	store := w.env.Store(table)
	cp, err := controlplane.New(controlplane.Options{Registry: w.env.Registry, Store: store, Clients: provider,
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	w.must(err)
	w.cp, w.store = cp, store
	w.drv = &integration.Driver{Env: w.env, App: w.app, Deliver: func(ctx context.Context, ev integration.Event) error {
		return cp.Handle(ctx, ev.CloudWatch())
	}}

	w.env.Log.Reset()
	w.must(cp.Handle(w.ctx, sweepEvent(1, time.Now())))
	t.Logf("adopting sweep: %d calls: %s", len(w.env.Log.Calls()), wireOps(w.env.Log.Calls()))
	for _, c := range w.env.Log.Writes() {
		if c.Service != "dynamodb" {
			t.Errorf("the adopting sweep made an AWS write: %s.%s", c.Service, c.Op)
		}
	}
	// The adoption (the state, with the adopted build's record), then the
	// restart that checks the settings the adopted services run (which
	// are unknown): its steps register, services, rollout and deployed,
	// each a state write, and no AWS write since every field matches.
	if n := len(w.env.Log.Writes()); n != 5 {
		t.Errorf("%d writes, want 5 (the adoption, then four steps of the settings check)", n)
	}
	if n := len(w.env.Fake.Tasks()); n != releases {
		t.Fatalf("%d tasks, want %d: the release ran again", n, releases)
	}
	st := w.state()
	w.wantPhase(controlplane.PhaseDeployed, 1)
	if st.Deployed == nil || st.Deployed.Build != 1 || st.Deployed.TaskDefs["web"] == "" || st.Deployed.TaskDefs["worker"] == "" || st.Adopted == nil || st.Adopted.Outcome != controlplane.AdoptedDeployed ||
		st.ListedBuild != w.app.BuildID(1) {
		t.Fatalf("state after adoption: deployed %+v adopted %+v listed %q", st.Deployed, st.Adopted, st.ListedBuild)
	}

	// The next sweep costs an idle app's eight calls (the three runtime
	// request parameters; the last reads the published status to repair
	// it if it differs) and writes nothing.
	w.env.Log.Reset()
	w.must(cp.Handle(w.ctx, sweepEvent(2, time.Now())))
	if got := wireOps(w.env.Log.Calls()); got != "dynamodb.GetItem ssm.GetParameter codebuild.ListBuildsForProject ssm.GetParameter ssm.GetParameter ssm.GetParameter ssm.DescribeParameters ssm.GetParameter" {
		t.Errorf("sweep after the adoption: %s", got)
	}

	// Build 2 deploys as usual, its release included.
	w.must(w.drv.Deploy(w.ctx, w.app.Metadata(2, "bin/migrate", "web")))
	w.wantPhase(controlplane.PhaseDeployed, 2)
	if n := len(w.drv.ReleaseTasks(2)); n != 1 {
		t.Fatalf("%d release tasks of build 2, want 1", n)
	}
	if svc, ok := w.env.Fake.Service(w.env.ClusterARN, w.name("worker")); !ok || aws.ToString(svc.Status) == awsfake.StatusActive {
		t.Errorf("worker, which build 2 drops, is still %s", aws.ToString(svc.Status))
	}
}

// TestSweepManyAppsConcurrentlyOnDynamoDB sweeps several apps at once with
// the DynamoDB store and the real client cache (run it with -race): each
// app's build, whose events were all lost, deploys, and an idle sweep then
// costs four calls per app and writes nothing.
func TestSweepManyAppsConcurrentlyOnDynamoDB(t *testing.T) {
	w := newWorldTB(t)
	id := worlds.Add(1)
	apps := []*integration.App{w.app}
	for i := range 5 {
		a, err := w.env.AddApp(w.ctx, fmt.Sprintf("c%d-%d", id, i))
		w.must(err)
		apps = append(apps, a)
	}
	provider, err := w.env.Provider()
	w.must(err)
	now := time.Now()
	cp, err := controlplane.New(controlplane.Options{Registry: w.env.Registry, Store: w.store, Clients: provider,
		Now: func() time.Time { return now }, SweepConcurrency: 4, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	w.must(err)
	for _, a := range apps {
		w.must(w.env.FinishBuild(a, a.Metadata(1, "", "web"), cbtypes.StatusTypeSucceeded))
	}
	w.must(cp.Handle(w.ctx, sweepEvent(1, now)))
	w.env.Fake.CompleteDeployments()
	now = now.Add(controlplane.DefaultStuckAfter + time.Minute)
	w.must(cp.Handle(w.ctx, sweepEvent(2, now)))
	for _, a := range apps {
		st, err := w.store.LoadApp(w.ctx, integration.Account, a.Name)
		w.must(err)
		if st.Phase != controlplane.PhaseDeployed || st.Build != 1 {
			t.Errorf("%s: %s build %d, want deployed 1", a.Name, st.Phase, st.Build)
		}
	}
	w.env.Log.Reset()
	w.must(cp.Handle(w.ctx, sweepEvent(3, now)))
	// Eight calls per idle app: state, settings, build listing, the
	// three runtime request parameters (scale, restart, rollback), config
	// names, and the published status (read to repair it if it differs).
	if n, want := len(w.env.Log.Calls()), 8*len(apps); n != want {
		t.Errorf("idle sweep of %d apps: %d calls, want %d: %s", len(apps), n, want, wireOps(w.env.Log.Calls()))
	}
	if writes := w.env.Log.Writes(); len(writes) != 0 {
		t.Errorf("idle sweep wrote: %s", wireOps(writes))
	}
}
