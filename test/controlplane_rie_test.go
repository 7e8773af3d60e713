package test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/wharf-paas/wharf/controlplane"
	"github.com/wharf-paas/wharf/controlplane/integration"
	"github.com/wharf-paas/wharf/internal/rie"
)

// invoker delivers events to the control-plane bootstrap running under the
// Lambda Runtime Interface Emulator and fails on any handler error (which
// the emulator reports with HTTP 200 and an error body).
func invoker(fn *rie.Function) func(ctx context.Context, ev integration.Event) error {
	return func(ctx context.Context, ev integration.Event) error {
		status, body, err := fn.Invoke(ctx, ev.JSON)
		if err != nil {
			return fmt.Errorf("invoke: %w", err)
		}
		if status != 200 || !bytes.Equal(bytes.TrimSpace(body), []byte("null")) {
			return fmt.Errorf("invoke returned %d %s", status, body)
		}
		return nil
	}
}

type rieWorld struct {
	env   *integration.Env
	app   *integration.App
	table string
	fn    *rie.Function
	drv   *integration.Driver
}

func startControlPlaneRIE(tb testing.TB, ctx context.Context, bootstrap string) *rieWorld {
	tb.Helper()
	env, err := integration.NewEnv()
	if err != nil {
		tb.Fatalf("integration env: %v", err)
	}
	tb.Cleanup(env.Close)
	app, err := env.AddApp(ctx, "api")
	if err != nil {
		tb.Fatal(err)
	}
	if err := env.PutConfig(ctx, app, "DATABASE_URL", "postgres://user:do-not-log@db/api"); err != nil {
		tb.Fatal(err)
	}
	// kumo keeps one state per process: a table per world.
	table := fmt.Sprintf("wharf-controlplane-rie-%d", time.Now().UnixNano())
	if err := env.CreateTable(ctx, table); err != nil {
		tb.Fatal(err)
	}
	lambdaEnv, err := env.LambdaEnv(table)
	if err != nil {
		tb.Fatal(err)
	}
	fn := rie.Start(tb, bootstrap, lambdaEnv)
	drv := &integration.Driver{Env: env, App: app, Deliver: invoker(fn)}
	return &rieWorld{env: env, app: app, table: table, fn: fn, drv: drv}
}

func TestControlPlaneBootstrapUnderRIE(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	bootstrap := rie.BuildBootstrap(t, "./lambda/controlplane")
	w := startControlPlaneRIE(t, ctx, bootstrap)

	m := w.app.Metadata(1, "bin/migrate", "web", "worker")
	if err := w.drv.Deploy(ctx, m); err != nil {
		t.Fatalf("deploy through the emulator: %v\n%s", err, w.fn.Logs())
	}
	// Events invoked: build IN_PROGRESS, SUCCEEDED, release RUNNING,
	// STOPPED, and one deployment COMPLETED per service.
	if got := len(w.drv.Delivered); got != 6 {
		t.Errorf("events delivered = %d, want 6", got)
	}
	st, err := w.env.Store(w.table).LoadApp(ctx, integration.Account, "api")
	if err != nil {
		t.Fatal(err)
	}
	if st.Phase != controlplane.PhaseDeployed || st.Build != 1 {
		t.Fatalf("phase %q build %d (reason %q: %s), want deployed 1\n%s", st.Phase, st.Build, st.Reason, st.Detail, w.fn.Logs())
	}
	hist, err := w.env.Store(w.table).History(ctx, integration.Account, "api", 0)
	if err != nil || len(hist) != 1 || hist[0].Outcome != controlplane.OutcomeDeployed {
		t.Errorf("history = %+v, %v", hist, err)
	}
	if n := len(w.drv.ReleaseTasks(1)); n != 1 {
		t.Errorf("release tasks = %d, want 1", n)
	}
	for _, name := range []string{"wharf-api_web", "wharf-api_worker"} {
		svc, ok := w.env.Fake.Service(w.env.ClusterARN, name)
		if !ok || aws.ToString(svc.Status) != "ACTIVE" || !strings.HasSuffix(aws.ToString(svc.TaskDefinition), name+":1") {
			t.Errorf("service %s: %v %s on %s", name, ok, aws.ToString(svc.Status), aws.ToString(svc.TaskDefinition))
		}
	}
	if calls := w.env.Fake.CallsTo("RunTask"); len(calls) != 1 || aws.ToString(calls[0].Input.(*ecs.RunTaskInput).StartedBy) != "wharf-release-1" {
		t.Errorf("RunTask calls = %d", len(calls))
	}

	// The secret's value never reaches the logs.
	if strings.Contains(w.fn.Logs(), "do-not-log") {
		t.Errorf("a config value appears in the function's logs")
	}
	// Logs are structured JSON naming the app.
	if !strings.Contains(w.fn.Logs(), `"app":"api"`) {
		t.Errorf("no structured log line names the app:\n%s", w.fn.Logs())
	}

	// A duplicate delivery through the Lambda makes no ECS write.
	w.env.Fake.ResetCalls()
	if err := w.drv.Redeliver(ctx, w.drv.Delivered[len(w.drv.Delivered)-1]); err != nil {
		t.Fatal(err)
	}
	if writes := w.env.Fake.WriteCalls(); len(writes) != 0 {
		t.Errorf("duplicate event made %d ECS writes", len(writes))
	}
}

func TestControlPlaneBootstrapRejectsBadRegistry(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	bootstrap := rie.BuildBootstrap(t, "./lambda/controlplane")
	fn := rie.Start(t, bootstrap, map[string]string{
		"WHARF_TABLE":    "t1",
		"WHARF_REGISTRY": `{"accounts":[{"accountId":"12"}]}`,
	})
	status, body, err := fn.Invoke(ctx, []byte(`{"id":"x","source":"aws.ecs","detail-type":"ECS Task State Change","detail":{}}`))
	if err != nil {
		t.Fatal(err)
	}
	var resp struct {
		ErrorType    string `json:"errorType"`
		ErrorMessage string `json:"errorMessage"`
	}
	_ = json.Unmarshal(body, &resp)
	if status == 200 && resp.ErrorType == "" && resp.ErrorMessage == "" {
		t.Fatalf("invoke with a bad registry succeeded: %d %s", status, body)
	}
	logs := fn.Logs()
	if !strings.Contains(logs, "control plane init failed") || !strings.Contains(logs, "accountId must be 12 digits") {
		t.Errorf("init failure not explained in the logs:\n%s", logs)
	}
}

// BenchmarkControlPlaneRIE measures the bootstrap under the emulator on
// this machine's architecture: cold start (emulator start plus the first
// invocation, which runs the init phase) and warm invocations of an event
// that needs no action.
func BenchmarkControlPlaneRIE(b *testing.B) {
	ctx := context.Background()
	bootstrap := rie.BuildBootstrap(b, "./lambda/controlplane")
	b.Run("cold", func(b *testing.B) {
		var first time.Duration
		for b.Loop() {
			b.StopTimer()
			w := startControlPlaneRIEQuiet(b, ctx)
			b.StartTimer()
			fn := rie.Start(b, bootstrap, w.lambdaEnv)
			t0 := time.Now()
			if err := invoker(fn)(ctx, w.event); err != nil {
				b.Fatal(err)
			}
			first += time.Since(t0)
		}
		// ns/op includes starting the emulator; first-invoke-ms is the
		// first invocation alone (the function's init plus the event).
		b.ReportMetric(float64(first.Milliseconds())/float64(b.N), "first-invoke-ms")
	})
	b.Run("warm", func(b *testing.B) {
		w := startControlPlaneRIEQuiet(b, ctx)
		fn := rie.Start(b, bootstrap, w.lambdaEnv)
		deliver := invoker(fn)
		if err := deliver(ctx, w.event); err != nil {
			b.Fatal(err)
		}
		i := 0
		for b.Loop() {
			i++
			ev := w.event
			ev.JSON = bytes.Replace(ev.JSON, []byte(w.event.ID()), fmt.Appendf(nil, "bench-warm-%d", i), 1)
			if err := deliver(ctx, ev); err != nil {
				b.Fatal(err)
			}
		}
	})
}

type benchWorld struct {
	lambdaEnv map[string]string
	event     integration.Event
}

// startControlPlaneRIEQuiet prepares a world whose app is deployed (in
// process) and an event that needs no action.
func startControlPlaneRIEQuiet(b *testing.B, ctx context.Context) benchWorld {
	b.Helper()
	env, err := integration.NewEnv()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(env.Close)
	app, err := env.AddApp(ctx, "api")
	if err != nil {
		b.Fatal(err)
	}
	table := fmt.Sprintf("wharf-controlplane-bench-%d", time.Now().UnixNano())
	if err := env.CreateTable(ctx, table); err != nil {
		b.Fatal(err)
	}
	provider, err := env.Provider()
	if err != nil {
		b.Fatal(err)
	}
	cp, err := controlplane.New(controlplane.Options{Registry: env.Registry, Store: env.Store(table), Clients: provider})
	if err != nil {
		b.Fatal(err)
	}
	drv := &integration.Driver{Env: env, App: app, Deliver: func(ctx context.Context, ev integration.Event) error {
		return cp.Handle(ctx, ev.CloudWatch())
	}}
	if err := drv.Deploy(ctx, app.Metadata(1, "", "web")); err != nil {
		b.Fatal(err)
	}
	svc, _ := env.Fake.Service(env.ClusterARN, "wharf-api_web")
	ev, err := env.Samples.ServiceSteadyState(svc)
	if err != nil {
		b.Fatal(err)
	}
	lambdaEnv, err := env.LambdaEnv(table)
	if err != nil {
		b.Fatal(err)
	}
	return benchWorld{lambdaEnv: lambdaEnv, event: ev}
}
