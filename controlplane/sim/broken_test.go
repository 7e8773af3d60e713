package sim

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/wharf-paas/wharf/contract"
	"github.com/wharf-paas/wharf/controlplane"
)

// brokenECS wraps the simulated ECS client of one app and lets a test
// change the requests the real control plane sends, to build a
// deliberately broken control plane out of the real one.
type brokenECS struct {
	controlplane.ECSAPI
	app      contract.AppRegistration
	listTask func(app contract.AppRegistration, in *ecs.ListTasksInput)
	update   func(in *ecs.UpdateServiceInput)
}

func (b *brokenECS) ListTasks(ctx context.Context, in *ecs.ListTasksInput, o ...func(*ecs.Options)) (*ecs.ListTasksOutput, error) {
	if b.listTask != nil {
		cp := *in
		in = &cp
		b.listTask(b.app, in)
	}
	return b.ECSAPI.ListTasks(ctx, in, o...)
}

func (b *brokenECS) UpdateService(ctx context.Context, in *ecs.UpdateServiceInput, o ...func(*ecs.Options)) (*ecs.UpdateServiceOutput, error) {
	if b.update != nil {
		cp := *in
		in = &cp
		b.update(in)
	}
	return b.ECSAPI.UpdateService(ctx, in, o...)
}

// StopTask keeps the wrapped client's StopTask visible to the control
// plane (it looks for the method on its ECS client).
func (b *brokenECS) StopTask(ctx context.Context, in *ecs.StopTaskInput, o ...func(*ecs.Options)) (*ecs.StopTaskOutput, error) {
	s, ok := b.ECSAPI.(interface {
		StopTask(context.Context, *ecs.StopTaskInput, ...func(*ecs.Options)) (*ecs.StopTaskOutput, error)
	})
	if !ok {
		return nil, fmt.Errorf("wrapped ECS client cannot stop tasks")
	}
	return s.StopTask(ctx, in, o...)
}

type brokenProvider struct {
	*Provider
	wrap func(reg contract.AppRegistration, e controlplane.ECSAPI) controlplane.ECSAPI
}

func (p *brokenProvider) ForApp(ctx context.Context, reg contract.AppRegistration) (*controlplane.AppClients, error) {
	c, err := p.Provider.ForApp(ctx, reg)
	if err != nil {
		return nil, err
	}
	cp := *c
	cp.ECS = p.wrap(reg, c.ECS)
	return &cp, nil
}

// brokenFactory is the real control plane (as RealControlPlane builds it)
// whose ECS client of each app goes through wrap.
func brokenFactory(wrap func(reg contract.AppRegistration, e controlplane.ECSAPI) controlplane.ECSAPI) Factory {
	return func(w *World) (*Target, error) {
		store := &CrashStore{Store: controlplane.NewMemoryStore(), w: w}
		cp, err := controlplane.New(controlplane.Options{
			Registry: w.Registry(), Store: store, Clients: &brokenProvider{Provider: w.Provider(), wrap: wrap},
			Now: w.Now, Logger: slog.New(slog.DiscardHandler), SweepAccountID: ControlPlaneAccount, SweepConcurrency: 1,
		})
		if err != nil {
			return nil, err
		}
		return &Target{Handler: cp, View: &storeView{w: w, s: store}}, nil
	}
}

// TestStartedByWithFamilyIsCaught: a control plane that finds its release
// task with ListTasks by startedBy and family together (issue 8, defect 3)
// never finds it on ECS, which refuses the call; the simulator's ECS
// refuses it as well, and the invariants catch the deploys that never
// happen.
func TestStartedByWithFamilyIsCaught(t *testing.T) {
	// The lookup that defect 3 was about: family, startedBy and
	// desiredStatus together. ECS refuses the combination whatever the
	// values, so the wrapper adds the filter that the lookup lacks.
	addFamily := func(reg contract.AppRegistration, e controlplane.ECSAPI) controlplane.ECSAPI {
		return &brokenECS{ECSAPI: e, app: reg, listTask: func(app contract.AppRegistration, in *ecs.ListTasksInput) {
			release := controlplane.FamilyName(Prefix, app.Name, contract.ReleaseProcess)
			switch {
			case in.StartedBy != nil && in.Family == nil:
				in.Family = aws.String(release)
			case in.Family != nil && *in.Family == release && in.StartedBy == nil:
				in.StartedBy = aws.String(controlplane.ReleaseStartedBy(1))
			}
		}}
	}
	violations := 0
	for seed := uint64(1); seed <= 3; seed++ {
		res, err := Run(Options{Seed: seed, Faults: &FaultConfig{}, Factory: brokenFactory(addFamily)})
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range res.Stats.Violations {
			violations++
			t.Logf("seed %d: %s", seed, v.Invariant)
		}
	}
	if violations == 0 {
		t.Fatal("a control plane that sends ListTasks with startedBy and family was not caught")
	}
}

// settingsScenario: one app with a web and a worker and a nightly
// schedule deploys, its settings change (kind) between deploys, and
// another build deploys later.
func settingsScenario(kind string) Scenario {
	return func(w *World) {
		w.AddApp("api", "111122223333")
		procs := map[string]Process{"web": {Command: "bin/web"}, "worker": {Command: "bin/worker"}}
		sched := []Schedule{{Name: "nightly", Schedule: "cron(0 3 * * ? *)", Command: "bin/nightly"}}
		w.at(Epoch, "push", func() {
			w.StartBuild("api", BuildPlan{Duration: 3 * time.Minute, Status: "SUCCEEDED", Processes: procs, Schedules: sched})
		})
		if kind != "" {
			w.at(Epoch.Add(20*time.Minute), "settings", func() { w.ChangeSettings("api", kind) })
		}
		w.at(Epoch.Add(40*time.Minute), "push", func() {
			w.StartBuild("api", BuildPlan{Duration: 3 * time.Minute, Status: "SUCCEEDED", Processes: procs, Schedules: sched})
		})
	}
}

// TestIgnoringNetworkDriftIsCaught: a control plane that never sends a
// network configuration in UpdateService (so new subnets, security groups
// or public-IP choices never reach running services) breaks
// services-match-settings once the settings' subnets change.
func TestIgnoringNetworkDriftIsCaught(t *testing.T) {
	dropNetwork := func(reg contract.AppRegistration, e controlplane.ECSAPI) controlplane.ECSAPI {
		return &brokenECS{ECSAPI: e, app: reg, update: func(in *ecs.UpdateServiceInput) { in.NetworkConfiguration = nil }}
	}
	for _, kind := range []string{"subnets", "security groups", "public IP"} {
		res, err := Run(Options{Seed: 1, Faults: &FaultConfig{}, Scenario: settingsScenario(kind), Active: time.Hour, Factory: brokenFactory(dropNetwork)})
		if err != nil {
			t.Fatal(err)
		}
		caught := false
		for _, v := range res.Stats.Violations {
			caught = caught || v.Invariant == InvMatchesSettings
		}
		if !caught {
			t.Errorf("%s change: a control plane that ignores network drift was not caught (violations %v)", kind, res.Stats.Violations)
		}
	}
}

// TestSettingsCheckHoldsWithoutChanges: the same scenario without a
// settings change gives no services-match-settings violation, so the check
// reads the settings and ECS correctly.
func TestSettingsCheckHoldsWithoutChanges(t *testing.T) {
	res, err := Run(Options{Seed: 1, Faults: &FaultConfig{}, Scenario: settingsScenario(""), Active: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range res.Stats.Violations {
		t.Errorf("violation without a settings change: %s %s", v.Invariant, v.Detail)
	}
}
