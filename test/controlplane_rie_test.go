package test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
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
	// calls records every AWS request the bootstrap makes.
	calls *awsCalls
}

// controlPlaneAccount is the control plane's own account in the RIE tests
// (WHARF_ACCOUNT_ID); the fixture's customer account is integration.Account.
const controlPlaneAccount = "999988887777"

// awsCalls records the AWS requests of the function under test: its
// endpoint variables point at recording reverse proxies in front of the
// world's servers. A call is named by its X-Amz-Target (JSON protocols:
// "AmazonSSM.DescribeParameters"), its Action (query protocol:
// "AssumeRole"), or else its method and path (S3).
type awsCalls struct {
	mu    sync.Mutex
	calls []string
}

// proxy starts a recording proxy to target and returns its URL.
func (c *awsCalls) proxy(tb testing.TB, target string) string {
	tb.Helper()
	u, err := url.Parse(target)
	if err != nil {
		tb.Fatalf("endpoint %q: %v", target, err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := r.Header.Get("X-Amz-Target")
		if name == "" && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			if q, err := url.ParseQuery(string(body)); err == nil {
				name = q.Get("Action")
			}
		}
		if name == "" {
			name = r.Method + " " + r.URL.Path
		}
		c.mu.Lock()
		c.calls = append(c.calls, name)
		c.mu.Unlock()
		rp.ServeHTTP(w, r)
	}))
	tb.Cleanup(srv.Close)
	return srv.URL
}

func (c *awsCalls) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = nil
}

func (c *awsCalls) all() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.calls...)
}

// count returns how many calls were named name.
func (c *awsCalls) count(name string) int {
	n := 0
	for _, x := range c.all() {
		if x == name {
			n++
		}
	}
	return n
}

// deployedLambdaEnv turns the fixture's Lambda environment into what the
// construct deploys: the registry in a file named by WHARF_REGISTRY_FILE
// (not in WHARF_REGISTRY) and WHARF_ACCOUNT_ID set to the control plane's
// account. Every AWS endpoint goes through a recording proxy of calls.
func deployedLambdaEnv(tb testing.TB, lambdaEnv map[string]string, calls *awsCalls) map[string]string {
	tb.Helper()
	out := make(map[string]string, len(lambdaEnv)+2)
	proxies := map[string]string{}
	for k, v := range lambdaEnv {
		if strings.HasPrefix(k, "AWS_ENDPOINT_URL") {
			if proxies[v] == "" {
				proxies[v] = calls.proxy(tb, v)
			}
			v = proxies[v]
		}
		out[k] = v
	}
	file := filepath.Join(tb.TempDir(), "opt", "wharf", "registry.json")
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(file, []byte(out["WHARF_REGISTRY"]), 0o644); err != nil {
		tb.Fatal(err)
	}
	delete(out, "WHARF_REGISTRY")
	out["WHARF_REGISTRY_FILE"] = file
	out["WHARF_ACCOUNT_ID"] = controlPlaneAccount
	return out
}

// sweepEvent is the sweep rule's Scheduled Event as delivered from account.
func sweepEvent(id, account string) integration.Event {
	b, _ := json.Marshal(map[string]any{
		"version": "0", "id": id, "detail-type": "Scheduled Event", "source": "aws.events",
		"account": account, "time": time.Now().UTC().Format(time.RFC3339), "region": integration.Region,
		"resources": []string{"arn:aws:events:" + integration.Region + ":" + controlPlaneAccount + ":rule/wharf-controlplane-Sweep"},
		"detail":    map[string]string{"wharf": "sweep"},
	})
	return integration.Event{Sample: "sweep (built by the test)", JSON: b}
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
	calls := &awsCalls{}
	fn := rie.Start(tb, bootstrap, deployedLambdaEnv(tb, lambdaEnv, calls))
	drv := &integration.Driver{Env: env, App: app, Deliver: invoker(fn)}
	return &rieWorld{env: env, app: app, table: table, fn: fn, drv: drv, calls: calls}
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

	// The sweep runs only for a Scheduled Event from the control plane's
	// own account (WHARF_ACCOUNT_ID). One from a customer account costs no
	// AWS call at all, not even a store read.
	w.calls.reset()
	if err := invoker(w.fn)(ctx, sweepEvent("sweep-foreign", integration.Account)); err != nil {
		t.Fatal(err)
	}
	if calls := w.calls.all(); len(calls) != 0 {
		t.Errorf("sweep from account %s made AWS calls: %v", integration.Account, calls)
	}
	if !strings.Contains(w.fn.Logs(), `"reason":"`+controlplane.RejectSweepAccount+`"`) {
		t.Errorf("foreign sweep not rejected in the logs:\n%s", w.fn.Logs())
	}
	// The own account's sweep checks the idle deployed app's configuration
	// (a lost Parameter Store event), as TestSweepAccountRestriction in
	// package controlplane expects: one DescribeParameters, no ECS write
	// since nothing changed.
	w.calls.reset()
	w.env.Fake.ResetCalls()
	if err := invoker(w.fn)(ctx, sweepEvent("sweep-own", controlPlaneAccount)); err != nil {
		t.Fatal(err)
	}
	if n := w.calls.count("AmazonSSM.DescribeParameters"); n != 1 {
		t.Errorf("own sweep: %d DescribeParameters calls, want 1; calls %v", n, w.calls.all())
	}
	if writes := w.env.Fake.WriteCalls(); len(writes) != 0 {
		t.Errorf("own sweep of an unchanged app made %d ECS writes", len(writes))
	}
	if st, err := w.env.Store(w.table).LoadApp(ctx, integration.Account, "api"); err != nil || st.Phase != controlplane.PhaseDeployed || st.Build != 1 {
		t.Errorf("after the sweeps: %+v, %v; want deployed 1", st, err)
	}
}

func TestControlPlaneBootstrapRejectsBadRegistry(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	bootstrap := rie.BuildBootstrap(t, "./lambda/controlplane")
	const bad = `{"accounts":[{"accountId":"12"}]}`
	file := filepath.Join(t.TempDir(), "registry.json")
	if err := os.WriteFile(file, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "missing.json")
	for _, tc := range []struct {
		name string
		env  map[string]string
		want []string // in the init failure's log line
	}{
		{"env", map[string]string{"WHARF_REGISTRY": bad}, []string{"WHARF_REGISTRY: ", "accounts[0].accountId"}},
		{"file", map[string]string{"WHARF_REGISTRY_FILE": file}, []string{"WHARF_REGISTRY_FILE " + file, "accounts[0].accountId"}},
		{"missing file", map[string]string{"WHARF_REGISTRY_FILE": missing, "WHARF_REGISTRY": registryOK},
			[]string{"WHARF_REGISTRY_FILE " + missing, "cannot read the registry file"}},
		{"bad account", map[string]string{"WHARF_REGISTRY": registryOK, "WHARF_ACCOUNT_ID": "9999"}, []string{"WHARF_ACCOUNT_ID \\\"9999\\\"", "12-digit"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{"WHARF_TABLE": "t1"}
			for k, v := range tc.env {
				env[k] = v
			}
			fn := rie.Start(t, bootstrap, env)
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
				t.Fatalf("invoke with a bad configuration succeeded: %d %s", status, body)
			}
			logs := fn.WaitLogs(ctx, "control plane init failed")
			if !strings.Contains(logs, "control plane init failed") {
				t.Errorf("init failure not logged:\n%s", logs)
			}
			for _, w := range tc.want {
				if !strings.Contains(logs, w) {
					t.Errorf("init failure does not say %q:\n%s", w, logs)
				}
			}
		})
	}
}

// registryOK is a valid registry, for cases where another setting is bad.
const registryOK = `{"prefix":"wharf","accounts":[{"accountId":"111122223333","observerRoleArn":"arn:aws:iam::111122223333:role/wharf-account-observer","externalId":"xx"}],"apps":[]}`

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
