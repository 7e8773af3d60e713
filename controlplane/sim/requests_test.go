package sim

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/wharf-paas/wharf/contract"
	"github.com/wharf-paas/wharf/controlplane"
)

// requestsScenario: one app; build 1 deploys, web gets an autoscaling
// range, build 2 deploys, a restart, then a rollback to build 1.
func requestsScenario(w *World) {
	w.AddApp("api", "111122223333")
	procs := map[string]Process{"web": {Command: "bin/web"}, "worker": {Command: "bin/worker"}}
	plan := BuildPlan{Duration: 3 * time.Minute, Status: "SUCCEEDED", Processes: procs, ReleaseCommand: "bin/migrate", Release: ReleaseOK}
	w.at(Epoch, "push", func() { w.StartBuild("api", plan) })
	w.at(Epoch.Add(15*time.Minute), "scale", func() {
		w.Scale("api", &contract.ScaleSetting{Version: 1, Processes: map[string]contract.ProcessScale{"web": {Min: 2, Max: 4, CPUTarget: 60}}})
	})
	w.at(Epoch.Add(30*time.Minute), "push", func() { w.StartBuild("api", plan) })
	w.at(Epoch.Add(45*time.Minute), "restart", func() { w.Restart("api", "") })
	w.at(Epoch.Add(55*time.Minute), "rollback", func() { w.Rollback("api", w.apps["api"].builds[0]) })
}

// requestsFactory is the real control plane whose clients of each app go
// through wrap.
func requestsFactory(wrap func(c *controlplane.AppClients)) Factory {
	return func(w *World) (*Target, error) {
		store := &CrashStore{Store: controlplane.NewMemoryStore(), w: w}
		cp, err := controlplane.New(controlplane.Options{
			Registry: w.Registry(), Store: store, Clients: &wrappedProvider{Provider: w.Provider(), wrap: wrap},
			Now: w.Now, Logger: slog.New(slog.DiscardHandler), SweepAccountID: ControlPlaneAccount, SweepConcurrency: 1,
		})
		if err != nil {
			return nil, err
		}
		return &Target{Handler: cp, View: &storeView{w: w, s: store}}, nil
	}
}

type wrappedProvider struct {
	*Provider
	wrap func(c *controlplane.AppClients)
}

func (p *wrappedProvider) ForApp(ctx context.Context, reg contract.AppRegistration) (*controlplane.AppClients, error) {
	c, err := p.Provider.ForApp(ctx, reg)
	if err != nil {
		return nil, err
	}
	cp := *c
	p.wrap(&cp)
	return &cp, nil
}

// noRollbackSSM hides the rollback parameter: a control plane that never
// applies rollbacks.
type noRollbackSSM struct{ controlplane.SSMAPI }

func (s noRollbackSSM) GetParameter(ctx context.Context, in *ssm.GetParameterInput, o ...func(*ssm.Options)) (*ssm.GetParameterOutput, error) {
	if strings.HasSuffix(aws.ToString(in.Name), "/"+contract.RollbackKey) {
		return nil, &ssmtypes.ParameterNotFound{Message: aws.String("hidden")}
	}
	return s.SSMAPI.GetParameter(ctx, in, o...)
}

// doubleRestartECS sends every forced deployment twice.
type doubleRestartECS struct{ brokenECS }

func (b *doubleRestartECS) UpdateService(ctx context.Context, in *ecs.UpdateServiceInput, o ...func(*ecs.Options)) (*ecs.UpdateServiceOutput, error) {
	if in.ForceNewDeployment {
		if _, err := b.brokenECS.UpdateService(ctx, in, o...); err != nil {
			return nil, err
		}
	}
	return b.brokenECS.UpdateService(ctx, in, o...)
}

func runRequests(t *testing.T, wrap func(c *controlplane.AppClients)) (map[string]int, *Result) {
	t.Helper()
	f := RealControlPlane(nil)
	if wrap != nil {
		f = requestsFactory(wrap)
	}
	res, err := Run(Options{Seed: 1, Faults: &FaultConfig{}, Scenario: requestsScenario, Active: 80 * time.Minute, Factory: f})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, v := range res.Stats.Violations {
		got[v.Invariant]++
		t.Logf("%s: %s", v.Invariant, v.Detail)
	}
	return got, res
}

// The real control plane keeps every invariant of the scenario; each
// broken one is caught by the invariant written for it.
func TestRequestInvariantsCatchBrokenControlPlanes(t *testing.T) {
	got, res := runRequests(t, nil)
	if len(got) != 0 {
		t.Fatalf("the real control plane broke %v", got)
	}
	if res.Stats.Faults["autoscaler"] == 0 || res.Stats.Calls["ApplicationAutoScaling.RegisterScalableTarget"] == 0 {
		t.Fatalf("the scenario did not autoscale: %v", res.Stats.Calls)
	}
	for _, tc := range []struct {
		name string
		wrap func(c *controlplane.AppClients)
		want string
	}{
		{"resets autoscaled counts", func(c *controlplane.AppClients) {
			c.ECS = &brokenECS{ECSAPI: c.ECS, update: func(in *ecs.UpdateServiceInput) {
				if strings.HasSuffix(aws.ToString(in.Service), "_web") {
					in.DesiredCount = aws.Int32(1)
				}
			}}
		}, InvAutoscaledKept},
		{"two deployments per restart", func(c *controlplane.AppClients) {
			c.ECS = &doubleRestartECS{brokenECS{ECSAPI: c.ECS}}
		}, InvRestartOnePerSvc},
		{"ignores rollbacks", func(c *controlplane.AppClients) { c.SSM = noRollbackSSM{c.SSM} }, InvRollbackExact},
		// The scenario ends on the rollback: the end check of the chosen
		// build reports the missing scalable target.
		{"never autoscales", func(c *controlplane.AppClients) { c.AutoScaling = nil }, InvRollbackExact},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got, _ := runRequests(t, tc.wrap); got[tc.want] == 0 {
				t.Errorf("not caught by %s (violations %v)", tc.want, got)
			}
		})
	}
}
