package controlplane

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/codebuild"
	cbtypes "github.com/aws/aws-sdk-go-v2/service/codebuild/types"
	"github.com/wharf-paas/wharf/contract"
)

// slowProvider wraps a provider: each ListBuildsForProject takes a while,
// the most calls in flight at once are counted, and the listing of the
// projects in fail is throttled.
type slowProvider struct {
	ClientProvider
	fail map[string]bool

	mu       sync.Mutex
	inflight int
	most     int
}

func (p *slowProvider) ForApp(ctx context.Context, app contract.AppRegistration) (*AppClients, error) {
	cl, err := p.ClientProvider.ForApp(ctx, app)
	if err != nil {
		return nil, err
	}
	cp := *cl
	cp.CodeBuild = &slowCodeBuild{CodeBuildAPI: cl.CodeBuild, p: p}
	return &cp, nil
}

func (p *slowProvider) peak() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.most
}

type slowCodeBuild struct {
	CodeBuildAPI
	p *slowProvider
}

func (c *slowCodeBuild) ListBuildsForProject(ctx context.Context, in *codebuild.ListBuildsForProjectInput, opts ...func(*codebuild.Options)) (*codebuild.ListBuildsForProjectOutput, error) {
	p := c.p
	p.mu.Lock()
	p.inflight++
	p.most = max(p.most, p.inflight)
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		p.inflight--
		p.mu.Unlock()
	}()
	time.Sleep(15 * time.Millisecond)
	if p.fail[*in.ProjectName] {
		return nil, apiErr("ThrottlingException", "Rate exceeded")
	}
	return c.CodeBuildAPI.ListBuildsForProject(ctx, in, opts...)
}

// sweepManyApps registers n apps, each with a successful build whose
// events were lost, sweeps once with the given concurrency and returns the
// harness, the provider and the sweep's error.
func sweepManyApps(t *testing.T, n, concurrency int, failing ...string) (*harness, *slowProvider, error) {
	t.Helper()
	var names []string
	for i := range n {
		names = append(names, fmt.Sprintf("app%02d", i))
	}
	prov := &slowProvider{fail: map[string]bool{}}
	for _, f := range failing {
		prov.fail["wharf-"+f] = true
	}
	h := newHarness(t, nil, func(o *Options) {
		o.Registry = twRegistry(names...)
		o.SweepConcurrency = concurrency
		prov.ClientProvider = o.Clients
		o.Clients = prov
	})
	for i, name := range names {
		h.w.putSettings(name, nil)
		h.w.startBuild(name, 1)
		release := ""
		if i%2 == 0 {
			release = "bin/migrate"
		}
		h.w.finishBuild(name, 1, cbtypes.StatusTypeSucceeded, twMeta(name, 1, release, "web", "worker"))
	}
	err := h.cp.Handle(context.Background(), h.ev.sweep())
	return h, prov, err
}

func TestSweepReconcilesAppsConcurrently(t *testing.T) {
	h, prov, err := sweepManyApps(t, 16, 4, "app03", "app11")
	if err == nil {
		t.Fatal("the sweep reported no error, want app03's and app11's")
	}
	// Errors in app order, each naming its app; the other apps deployed.
	msg := err.Error()
	if i, j := strings.Index(msg, "/app03:"), strings.Index(msg, "/app11:"); i < 0 || j < i || strings.Count(msg, "ThrottlingException") != 2 {
		t.Errorf("sweep error %q: want app03's then app11's throttling", msg)
	}
	for i := range 16 {
		name := fmt.Sprintf("app%02d", i)
		st, err := h.store.LoadApp(context.Background(), twAccount, name)
		if err != nil {
			t.Fatal(err)
		}
		want := PhaseDeploying
		switch {
		case name == "app03" || name == "app11":
			want = PhaseNone
		case i%2 == 0:
			want = PhaseReleasing
		}
		if st.Phase != want {
			t.Errorf("%s: phase %q build %d, want %q", name, st.Phase, st.Build, want)
		}
	}
	if p := prov.peak(); p < 2 || p > 4 {
		t.Errorf("at most %d listings ran at once, want 2 to 4 (SweepConcurrency 4)", p)
	}
	if s := h.cp.Stats(); s[CountSweep] != 1 || s[CountError] != 2 {
		t.Errorf("stats %v: want 1 sweep, 2 errors", s)
	}
}

func TestSweepConcurrencyOneVisitsAppsOneAfterTheOther(t *testing.T) {
	_, prov, err := sweepManyApps(t, 6, 1)
	if err != nil {
		t.Fatal(err)
	}
	if p := prov.peak(); p != 1 {
		t.Errorf("%d listings at once with SweepConcurrency 1", p)
	}
}

// TestSweepLogsSameLinesAtAnyConcurrency: the sweep's log lines (without
// their time) are the same whatever the concurrency; only their order
// across apps may differ, and each names its app.
func TestSweepLogsSameLinesAtAnyConcurrency(t *testing.T) {
	lines := func(concurrency int) []string {
		h, _, err := sweepManyApps(t, 10, concurrency, "app04")
		if err == nil {
			t.Fatal("want app04's error")
		}
		var out []string
		for _, l := range strings.Split(strings.TrimSpace(h.logs.String()), "\n") {
			var m map[string]any
			if err := json.Unmarshal([]byte(l), &m); err != nil {
				t.Fatalf("log line %q: %v", l, err)
			}
			delete(m, "time")
			delete(m, "task") // the fake numbers tasks in the order they start
			if m["kind"] == string(KindSweep) && m["app"] == nil {
				t.Errorf("sweep log line without its app: %s", l)
			}
			b, _ := json.Marshal(m)
			out = append(out, string(b))
		}
		slices.Sort(out)
		return out
	}
	one, eight := lines(1), lines(8)
	if !slices.Equal(one, eight) {
		t.Errorf("log lines differ between concurrency 1 (%d lines) and 8 (%d lines)", len(one), len(eight))
		for i := range min(len(one), len(eight)) {
			if one[i] != eight[i] {
				t.Logf("first difference:\n  %s\n  %s", one[i], eight[i])
				break
			}
		}
	}
}

func TestSweepStopsStartingAppsOnceContextIsDone(t *testing.T) {
	for _, concurrency := range []int{1, 4} {
		h := newHarness(t, nil, func(o *Options) {
			o.Registry = twRegistry("a1", "a2", "a3")
			o.SweepConcurrency = concurrency
		})
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		err := h.cp.Sweep(ctx)
		if err == nil || !strings.Contains(err.Error(), "3 of 3 apps not visited") {
			t.Errorf("concurrency %d: sweep error %v, want 3 of 3 apps not visited", concurrency, err)
		}
		if n := len(h.w.Calls()); n != 0 {
			t.Errorf("concurrency %d: %d AWS calls after the context was done", concurrency, n)
		}
	}
}
