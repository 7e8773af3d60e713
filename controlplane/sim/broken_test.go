package sim

import (
	"context"
	"fmt"
	"log/slog"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/wharf-paas/wharf/controlplane"
)

// brokenECS wraps the simulated ECS client of one app and lets a test
// change the requests the real control plane sends, to build a
// deliberately broken control plane out of the real one.
type brokenECS struct {
	controlplane.ECSAPI
	app      controlplane.AppRegistration
	listTask func(app controlplane.AppRegistration, in *ecs.ListTasksInput)
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
	wrap func(reg controlplane.AppRegistration, e controlplane.ECSAPI) controlplane.ECSAPI
}

func (p *brokenProvider) ForApp(ctx context.Context, reg controlplane.AppRegistration) (*controlplane.AppClients, error) {
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
func brokenFactory(wrap func(reg controlplane.AppRegistration, e controlplane.ECSAPI) controlplane.ECSAPI) Factory {
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
	addFamily := func(reg controlplane.AppRegistration, e controlplane.ECSAPI) controlplane.ECSAPI {
		return &brokenECS{ECSAPI: e, app: reg, listTask: func(app controlplane.AppRegistration, in *ecs.ListTasksInput) {
			if in.StartedBy != nil && in.Family == nil {
				in.Family = aws.String(controlplane.FamilyName(Prefix, app.Name, controlplane.ReleaseFamilySuffix))
			}
		}}
	}
	violations := 0
	for seed := uint64(1); seed <= 3; seed++ {
		res, err := Run(Options{Seed: seed, Faults: &FaultConfig{}, Factory: brokenFactory(addFamily), StrictListTasks: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range res.Stats.Violations {
			violations++
			t.Logf("seed %d: %s", seed, v.Invariant)
		}
		// The same control plane against a simulator that tolerates the
		// combination deploys fine: the strict rule is what catches it.
		lax, err := Run(Options{Seed: seed, Faults: &FaultConfig{}, Factory: brokenFactory(addFamily)})
		if err != nil {
			t.Fatal(err)
		}
		if n := len(lax.Stats.Violations); n != 0 {
			t.Errorf("seed %d: %d violations even where ECS would accept the call", seed, n)
		}
	}
	if violations == 0 {
		t.Fatal("a control plane that sends ListTasks with startedBy and family was not caught")
	}
}
