package sim

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/wharf-paas/wharf/controlplane"
)

// Target is the control plane under test: its handler and a view of its
// store.
type Target struct {
	Handler Handler
	View    StoreView
	// LoseState empties the control plane's store, as if its table had
	// been recreated (the state-lost fault); nil: that fault is not
	// injected.
	LoseState func()
}

// Factory builds the control plane under test against a world.
type Factory func(w *World) (*Target, error)

// Scenario schedules the user actions of a run (pushes, config changes)
// on a world whose faults are already configured.
type Scenario func(w *World)

// Options configure [Run].
type Options struct {
	// Seed seeds everything.
	Seed uint64
	// Faults overrides the fault mix; nil draws one from the seed (some
	// seeds calm, most stormy).
	Faults *FaultConfig
	// Scenario overrides the random scenario.
	Scenario Scenario
	// Active is how long users push and change config (default 2 h);
	// faults are injected during it.
	Active time.Duration
	// Settle is how long the run continues without faults before the
	// final checks (default 3 h).
	Settle time.Duration
	// SweepEvery is the sweep schedule (default 5 min).
	SweepEvery time.Duration
	// Factory builds the control plane (default: [RealControlPlane]).
	Factory Factory
	// Output receives trace lines as they happen (nil: none).
	Output func(string)
	// KeepTrace keeps the full trace in the result even when no invariant
	// broke (it is always hashed, and always kept for a failing run).
	KeepTrace bool
	// Logger receives the control plane's logs (default: discarded).
	Logger *slog.Logger
}

// Result is the outcome of one run.
type Result struct {
	// Seed is the run's seed.
	Seed uint64
	// Stats are the run's counters and violations.
	Stats Stats
	// TraceHash is the SHA-256 of the whole trace.
	TraceHash string
	// Trace is the full trace (when kept: KeepTrace or a violation).
	Trace []string
	// Apps summarises each app at the end.
	Apps []AppSummary
	// Wall is the run's wall-clock time.
	Wall time.Duration
}

// AppSummary is one app's end state.
type AppSummary struct {
	// App is the app name.
	App string
	// Builds, Succeeded and Failed count its CodeBuild builds.
	Builds, Succeeded, Failed int
	// ReleaseTasks counts release tasks started.
	ReleaseTasks int
	// Rollbacks counts circuit-breaker rollbacks.
	Rollbacks int
	// ConfigChanges counts config parameter writes.
	ConfigChanges int
	// Running is the build every service runs (0: none or mixed).
	Running int64
	// Services lists "proc×count" of the ACTIVE services.
	Services []string
	// Expect is the oracle's expectation (Expect* constants).
	Expect string
	// Phase, Build and Reason are the store's view.
	Phase  string
	Build  int64
	Reason string
}

// Violated reports whether the run broke an invariant.
func (r *Result) Violated() bool { return len(r.Stats.Violations) > 0 }

// Report is a readable failure report: the seed, the violations and the
// trace lines that concern the apps involved (the periodic sweep's
// read-only checks left out), ending at the last violation.
func (r *Result) Report() string {
	var b strings.Builder
	fmt.Fprintf(&b, "seed %d: %d invariant violation(s)\n", r.Seed, len(r.Stats.Violations))
	apps := map[string]bool{}
	for _, v := range r.Stats.Violations {
		fmt.Fprintf(&b, "  - %s\n", v)
		if app, _, ok := strings.Cut(v.Detail, ":"); ok && !strings.Contains(app, " ") {
			apps[app] = true
		}
		for _, f := range strings.Fields(v.Detail) {
			if strings.HasPrefix(f, Prefix+"-") {
				if a, _, ok := strings.Cut(strings.TrimPrefix(f, Prefix+"-"), "_"); ok {
					apps[a] = true
				}
			}
		}
	}
	fmt.Fprintf(&b, "re-run: go test ./controlplane/sim -run 'TestSeed$' -seed %d -v\n", r.Seed)
	lines := r.relevant(apps)
	if len(lines) > reportLines {
		fmt.Fprintf(&b, "trace of %s (last %d of %d relevant lines):\n", strings.Join(sortedKeys(apps), ", "), reportLines, len(lines))
		lines = lines[len(lines)-reportLines:]
	} else {
		fmt.Fprintf(&b, "trace of %s:\n", strings.Join(sortedKeys(apps), ", "))
	}
	for _, l := range lines {
		b.WriteString("  " + l + "\n")
	}
	return b.String()
}

const reportLines = 250

func (r *Result) relevant(apps map[string]bool) []string {
	var out []string
	if len(r.Trace) == 0 {
		return nil
	}
	last := len(r.Trace) - 1
	if len(r.Stats.Violations) > 0 {
		last = 0
		for i, l := range r.Trace {
			if strings.Contains(l, "VIOLATION") {
				last = i
			}
		}
	}
	for _, l := range r.Trace[:last+1] {
		if strings.Contains(l, "VIOLATION") || strings.Contains(l, "---") {
			out = append(out, l)
			continue
		}
		if strings.Contains(l, "SSM.GetParameter /"+Prefix+"/apps/") && strings.Contains(l, "/settings") ||
			strings.Contains(l, "SSM.DescribeParameters") || strings.Contains(l, "STS.AssumeRole") || strings.Contains(l, "Scheduled Event") ||
			strings.Contains(l, "CodeBuild.ListBuildsForProject") {
			continue
		}
		for a := range apps {
			if strings.Contains(l, a) {
				out = append(out, l)
				break
			}
		}
	}
	return out
}

// DefaultFaults is the base fault mix; a seed scales it by 0, ½, 1 or 2.
// TaskReadLag makes a task just started invisible to DescribeTasks and
// ListTasks for a while; TaskDefSettings makes a settings change carry a
// new container port or launch type, which needs new task definitions.
var DefaultFaults = FaultConfig{
	Drop: 0.04, Duplicate: 0.06, Delay: 0.04, Reorder: 0.04,
	Throttle: 0.02, ServerError: 0.015, LostResponse: 0.01,
	Crash: 0.03, Concurrent: 0.04,
	RunTaskFailure: 0.03, TaskFailStart: 0.01,
	Foreign: 0.02, BuildEventsLost: 0.06, StateLost: 0.2,
	ReadLag: 0.05, TaskReadLag: 0.05, SettingsChange: 0.08, TaskDefSettings: 0.3,
}

func (f FaultConfig) scaled(k float64) FaultConfig {
	return FaultConfig{
		Drop: f.Drop * k, Duplicate: f.Duplicate * k, Delay: f.Delay * k, Reorder: f.Reorder * k,
		Throttle: f.Throttle * k, ServerError: f.ServerError * k, LostResponse: f.LostResponse * k,
		Crash: f.Crash * k, Concurrent: f.Concurrent * k,
		RunTaskFailure: f.RunTaskFailure * k, TaskFailStart: f.TaskFailStart * k,
		Foreign: f.Foreign * k, BuildEventsLost: f.BuildEventsLost * k, StateLost: f.StateLost * k,
		ReadLag: f.ReadLag * k, TaskReadLag: f.TaskReadLag * k,
		SettingsChange: f.SettingsChange * k, TaskDefSettings: f.TaskDefSettings,
	}
}

// RealControlPlane builds the real control plane on an in-memory store
// wrapped so the crash fault can fail a state write (and the state-lost
// fault can swap it for an empty one).
func RealControlPlane(logger *slog.Logger) Factory {
	return func(w *World) (*Target, error) {
		store := &CrashStore{Store: controlplane.NewMemoryStore(), w: w}
		if logger == nil {
			logger = slog.New(slog.DiscardHandler)
		}
		cp, err := controlplane.New(controlplane.Options{
			Registry:       w.Registry(),
			Store:          store,
			Clients:        w.Provider(),
			Now:            w.Now,
			Logger:         logger,
			SweepAccountID: ControlPlaneAccount,
			// The world is single-threaded: its clock, scheduler and
			// running invocation are not shared between goroutines.
			SweepConcurrency: 1,
		})
		if err != nil {
			return nil, fmt.Errorf("sim: new control plane: %w", err)
		}
		return &Target{Handler: cp, View: &storeView{w: w, s: store},
			LoseState: func() { store.Store = controlplane.NewMemoryStore() }}, nil
	}
}

// CrashStore wraps a controlplane.Store: once the running invocation's
// crash is armed (it made an AWS write), the next state write fails and
// every later call of that invocation fails too, as if the process died.
type CrashStore struct {
	controlplane.Store
	w *World
}

func (s *CrashStore) dead() bool { return s.w.inv != nil && s.w.inv.crashed }

// LoadApp implements controlplane.Store.
func (s *CrashStore) LoadApp(ctx context.Context, account, app string) (*controlplane.AppState, error) {
	if s.dead() {
		return nil, errCrashed
	}
	return s.Store.LoadApp(ctx, account, app)
}

// SaveApp implements controlplane.Store.
func (s *CrashStore) SaveApp(ctx context.Context, st *controlplane.AppState, records ...*controlplane.DeployRecord) error {
	w := s.w
	if inv := w.inv; inv != nil {
		if inv.crashed {
			return errCrashed
		}
		if inv.crashArmed {
			inv.crashed = true
			w.fault("crash")
			w.tracef("  FAULT crash: invocation #%d dies before saving %s state v%d", inv.id, st.App, st.Version+1)
			return errCrashed
		}
	}
	from := st.Version
	err := s.Store.SaveApp(ctx, st, records...)
	if err != nil {
		w.tracef("  state %s v%d: %v", st.App, from, shortErr(err))
		return err
	}
	desc := fmt.Sprintf("%s build %d", st.Phase, st.Build)
	if st.Op != nil {
		desc += fmt.Sprintf(" (op %s %d step %s)", st.Op.Kind, st.Op.Build, st.Op.Step)
	}
	if st.Reason != "" {
		desc += fmt.Sprintf(" reason=%s", st.Reason)
	}
	w.tracef("  state %s v%d: %s", st.App, st.Version, desc)
	for _, r := range records {
		if r.Outcome == "" {
			continue // a record opened, not yet closed
		}
		line := fmt.Sprintf("  record %s build %d %s", st.App, r.Build, r.Outcome)
		if r.Reason != "" {
			line += " reason=" + string(r.Reason)
		}
		if r.Detail != "" {
			line += " (" + r.Detail + ")"
		}
		w.tracef("%s", line)
	}
	return nil
}

// MarkEvent implements controlplane.Store.
func (s *CrashStore) MarkEvent(ctx context.Context, key string, expires time.Time) error {
	if s.dead() {
		return errCrashed
	}
	return s.Store.MarkEvent(ctx, key, expires)
}

// SeenEvent implements controlplane.Store.
func (s *CrashStore) SeenEvent(ctx context.Context, key string, now time.Time) (bool, error) {
	if s.dead() {
		return false, errCrashed
	}
	return s.Store.SeenEvent(ctx, key, now)
}

type storeView struct {
	w *World
	s controlplane.Store
}

// AppState implements StoreView.
func (v *storeView) AppState(app string) (AppState, bool, error) {
	a := v.w.apps[app]
	st, err := v.s.LoadApp(context.Background(), a.reg.AccountID, app)
	if err != nil {
		return AppState{}, false, err
	}
	if st.Version == 0 {
		return AppState{}, false, nil
	}
	out := AppState{Phase: string(st.Phase), Build: st.Build, Reason: strings.TrimSpace(string(st.Reason) + " " + st.Detail)}
	if st.Deployed != nil {
		out.DeployedBuild = st.Deployed.Build
	}
	if st.Adopted != nil {
		out.Adopted, out.AdoptedBuild = st.Adopted.Outcome, st.Adopted.Build
	}
	out.Busy = st.Op != nil
	for _, b := range st.Builds {
		out.Busy = out.Busy || b.Status == "SUCCEEDED"
	}
	return out, true, nil
}

// BuildOutcome implements StoreView.
func (v *storeView) BuildOutcome(app string, build int64) (string, string, bool, error) {
	a := v.w.apps[app]
	recs, err := v.s.History(context.Background(), a.reg.AccountID, app, 0)
	if err != nil {
		return "", "", false, err
	}
	for _, r := range recs {
		if r.Build == build && r.Kind == controlplane.OpBuild {
			return string(r.Outcome), strings.TrimSpace(string(r.Reason) + " " + r.Detail), true, nil
		}
	}
	return "", "", false, nil
}

// Run runs one seeded simulation against the control plane and checks the
// invariants.
func Run(opts Options) (*Result, error) {
	start := time.Now()
	if opts.Active == 0 {
		opts.Active = 2 * time.Hour
	}
	if opts.Settle == 0 {
		opts.Settle = 3 * time.Hour
	}
	if opts.SweepEvery == 0 {
		opts.SweepEvery = 5 * time.Minute
	}
	if opts.Factory == nil {
		opts.Factory = RealControlPlane(opts.Logger)
	}
	w := NewWorld(opts.Seed)
	w.SetOutput(opts.Output)
	if opts.Faults != nil {
		w.Faults = *opts.Faults
	} else {
		w.Faults = DefaultFaults.scaled([]float64{0, 0.5, 1, 1, 2, 2}[w.rng.IntN(6)])
	}
	w.faultsOn = true
	scenario := opts.Scenario
	if scenario == nil {
		scenario = RandomScenario(opts.Active)
	}
	scenario(w)
	target, err := opts.Factory(w)
	if err != nil {
		return nil, err
	}
	b := newBus(w, target.Handler)
	if target.LoseState != nil && w.chance(w.Faults.StateLost) {
		at := Epoch.Add(w.between(5*time.Minute, opts.Active-5*time.Minute))
		w.at(at, "state lost", func() {
			w.fault("state-lost")
			w.tracef("FAULT state lost: the control plane's table is emptied (state, history, processed event IDs)")
			w.oracle.onStateLost(target.View)
			target.LoseState()
			// The processed event IDs are gone with it: a redelivered
			// event is new to the control plane again.
			b.handled = map[string]bool{}
		})
	}
	end := Epoch.Add(opts.Active + opts.Settle)
	for t := Epoch.Add(opts.SweepEvery); !t.After(end); t = t.Add(opts.SweepEvery) {
		w.at(t, "sweep", func() { b.invokeWithRetry(&delivery{ev: w.SweepEvent(), attempt: 1}) })
	}
	w.at(Epoch.Add(opts.Active), "settle", func() {
		w.faultsOn = false
		w.tracef("--- active phase over: faults off, settling for %s ---", opts.Settle)
		b.flushAll()
	})
	for w.step(end) {
	}
	w.now = end
	w.oracle.finalCheck(target.View)
	w.oracle.settingsCheck(target.View)
	w.oracle.requestsCheck()
	if v, ok := target.View.(*storeView); ok {
		w.checkPublishedStatus(v)
	}
	res := &Result{Seed: opts.Seed, Stats: w.Stats, TraceHash: w.TraceHash(), Wall: time.Since(start)}
	if opts.KeepTrace || res.Violated() {
		res.Trace = w.Trace()
	}
	res.Apps = w.summaries(target.View)
	return res, nil
}

func (w *World) summaries(view StoreView) []AppSummary {
	var out []AppSummary
	for _, name := range w.appNames() {
		app := w.apps[name]
		s := AppSummary{App: name, ConfigChanges: app.configChanges, ReleaseTasks: w.oracle.releaseLaunch[name]}
		for _, b := range app.builds {
			s.Builds++
			switch b.status {
			case "SUCCEEDED":
				s.Succeeded++
			case "FAILED", "STOPPED":
				s.Failed++
			}
		}
		running := w.oracle.runningBuilds(app)
		if len(running) == 1 {
			for b := range running {
				s.Running = b
			}
		}
		for _, key := range sortedKeys(app.acct.ecs.services) {
			svc := app.acct.ecs.services[key]
			if svc.app != app {
				continue
			}
			s.Rollbacks += svc.rollbacks
			if svc.status == "ACTIVE" {
				s.Services = append(s.Services, fmt.Sprintf("%s×%d", svc.proc, svc.cfg.DesiredCount))
			}
		}
		_, s.Expect, _ = w.oracle.expectation(app)
		if view != nil {
			if st, ok, err := view.AppState(name); err == nil && ok {
				s.Phase, s.Build, s.Reason = st.Phase, st.Build, st.Reason
			}
		}
		out = append(out, s)
	}
	return out
}

// RandomScenario returns the seeded random scenario: one to three apps
// (in one or two accounts), each with a handful of pushes during active,
// some in quick succession so builds finish out of order, some broken or
// with failing releases, and config changes, some during a deploy.
func RandomScenario(active time.Duration) Scenario {
	return func(w *World) {
		nApps := 1 + w.rng.IntN(3)
		names := []string{"api", "shop", "blog"}
		for i := range nApps {
			acct := "111122223333"
			if i == 2 || (i == 1 && w.rng.IntN(2) == 0) {
				acct = "444455556666"
			}
			w.AddApp(names[i], acct)
		}
		for _, name := range w.appNames() {
			pushes := 2 + w.rng.IntN(4)
			t := w.between(0, 10*time.Minute)
			for range pushes {
				at := Epoch.Add(t)
				if at.After(Epoch.Add(active - 10*time.Minute)) {
					break
				}
				plan := w.randomPlan()
				app := name
				w.at(at, "push", func() { w.StartBuild(app, plan) })
				if w.chance(0.25) {
					// Another push right behind it, with a faster build:
					// the builds finish out of order.
					gap := w.between(10*time.Second, 90*time.Second)
					fast := w.randomPlan()
					fast.Duration = max(plan.Duration-gap-w.between(20*time.Second, 2*time.Minute), 90*time.Second)
					if fast.Duration+gap < plan.Duration {
						w.fault("builds-out-of-order")
					}
					w.at(at.Add(gap), "push", func() { w.StartBuild(app, fast) })
				}
				if w.chance(0.3) {
					// A config change while this build deploys.
					w.fault("config-during-deploy")
					cat := at.Add(plan.Duration + w.between(20*time.Second, 4*time.Minute))
					v := []string{"DATABASE_URL", "SECRET_KEY", "FEATURE_FLAGS"}[w.rng.IntN(3)]
					w.at(cat, "config", func() { w.PutConfig(app, v) })
				}
				w.scheduleSettingsChange(app, func() time.Time { return at.Add(plan.Duration + w.between(10*time.Second, 3*time.Minute)) }, true)
				t += w.between(4*time.Minute, 35*time.Minute)
			}
			for range w.rng.IntN(3) {
				v := []string{"DATABASE_URL", "SECRET_KEY", "FEATURE_FLAGS", "SENTRY_DSN"}[w.rng.IntN(4)]
				app := name
				w.at(Epoch.Add(w.between(0, active-5*time.Minute)), "config", func() { w.PutConfig(app, v) })
			}
			w.scheduleSettingsChange(name, func() time.Time { return Epoch.Add(w.between(0, active-5*time.Minute)) }, false)
			w.scheduleRequests(name, active)
		}
	}
}

func (w *World) randomPlan() BuildPlan {
	p := BuildPlan{
		Duration:  w.between(2*time.Minute, 8*time.Minute),
		Status:    "SUCCEEDED",
		Processes: map[string]Process{"web": {Command: "bin/web", Count: ptr(int32(1 + w.rng.IntN(2)))}},
		Release:   ReleaseOK,
	}
	switch r := w.rng.Float64(); {
	case r < 0.12:
		p.Status = "FAILED"
	case r < 0.15:
		p.Status = "STOPPED"
	}
	if w.chance(0.6) {
		p.Processes["worker"] = Process{Command: "bin/worker"}
	}
	if w.chance(0.2) {
		p.Processes["clock"] = Process{Command: "bin/clock", CPU: 512, Memory: 1024}
	}
	if w.chance(0.7) {
		p.ReleaseCommand = "bin/migrate"
		switch r := w.rng.Float64(); {
		case r < 0.08:
			p.Release = ReleaseExitCode
		case r < 0.11:
			p.Release = ReleaseFailStart
		case r < 0.14:
			p.Release = ReleaseHang
		}
	}
	if w.chance(0.08) {
		p.Broken = true
		w.fault("broken-build")
		if len(p.Processes) > 1 && w.chance(0.5) {
			// Only the web process crashes; the others deploy fine.
			p.BrokenProcesses = []string{"web"}
		}
	}
	if w.chance(0.3) {
		p.Schedules = []Schedule{{Name: "nightly", Schedule: "cron(0 3 * * ? *)", Command: "bin/nightly"}}
	}
	return p
}

// Figures summarises many runs on one line: seeds run, faults injected by
// kind, invariant violations.
func Figures(results []*Result) string {
	faults := map[string]int{}
	violations := 0
	byInv := map[string]int{}
	deploys := 0
	for _, r := range results {
		for k, v := range r.Stats.Faults {
			faults[k] += v
		}
		violations += len(r.Stats.Violations)
		for _, v := range r.Stats.Violations {
			byInv[v.Invariant]++
		}
		deploys += r.Stats.AppDeploys
	}
	var parts []string
	for _, k := range sortedKeys(faults) {
		parts = append(parts, fmt.Sprintf("%s=%d", k, faults[k]))
	}
	line := fmt.Sprintf("sim: seeds=%d deploys=%d faults{%s} violations=%d", len(results), deploys, strings.Join(parts, " "), violations)
	if violations > 0 {
		var inv []string
		for _, k := range sortedKeys(byInv) {
			inv = append(inv, fmt.Sprintf("%s=%d", k, byInv[k]))
		}
		line += " {" + strings.Join(inv, " ") + "}"
	}
	return line
}

// SummaryTable writes an aligned table of app summaries.
func SummaryTable(out io.Writer, apps []AppSummary) {
	fmt.Fprintf(out, "%-6s %-7s %-10s %-8s %-9s %-7s %-8s %-10s %s\n", "app", "builds", "ok/failed", "releases", "rollbacks", "config", "running", "phase", "services / reason")
	for _, a := range apps {
		sort.Strings(a.Services)
		running := "-"
		if a.Running > 0 {
			running = fmt.Sprintf("#%d", a.Running)
		}
		extra := strings.Join(a.Services, " ")
		if a.Reason != "" {
			extra += " / " + a.Reason
		}
		fmt.Fprintf(out, "%-6s %-7d %-10s %-8d %-9d %-7d %-8s %-10s %s\n", a.App, a.Builds, fmt.Sprintf("%d/%d", a.Succeeded, a.Failed), a.ReleaseTasks, a.Rollbacks, a.ConfigChanges, running, fmt.Sprintf("%s #%d", a.Phase, a.Build), extra)
	}
}

// checkPublishedStatus is the end check published-status-matches-state:
// once settled, every app's status parameter holds the status document of
// the control plane's state (controlplane.StatusOf).
func (w *World) checkPublishedStatus(v *storeView) {
	for _, name := range w.appNames() {
		app := w.apps[name]
		st, err := v.s.LoadApp(context.Background(), app.reg.AccountID, name)
		if err != nil || st.Version == 0 {
			continue
		}
		want, _ := json.Marshal(controlplane.StatusOf(st))
		p, ok := app.acct.params[fmt.Sprintf("/%s/apps/%s/status", Prefix, name)]
		switch {
		case !ok:
			w.violate(InvStatusPublished, "%s: no status published; the state says %s", name, want)
		case p.value != string(want):
			w.violate(InvStatusPublished, "%s: published status %s, the state says %s", name, p.value, want)
		}
	}
}
