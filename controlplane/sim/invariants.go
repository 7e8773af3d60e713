package sim

import (
	"fmt"
	"strings"
	"time"

	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// Invariant names, as listed in docs/simulation.md.
const (
	InvConverges       = "newest-build-deployed-or-failed" // 1
	InvNoOlderBuild    = "older-build-never-replaces-newer"
	InvOneRelease      = "one-release-task-per-app"
	InvFailedRelease   = "failed-release-never-changes-services"
	InvNoDeletedNeeded = "no-declared-service-left-deleted"
	InvNoRepeatWrite   = "no-repeated-write-for-handled-event"
	InvStoreMatchesECS = "store-matches-ecs"
	InvNoReleaseAgain  = "no-release-for-deployed-build"
	InvNoSecretRead    = "never-reads-config-values"       // extra: security
	InvForeignRejected = "foreign-events-cost-no-aws-call" // extra: multi-tenancy
	InvStatusPublished = "published-status-matches-state"  // extra: status publishing
)

// AppState is what the control plane's store says about an app, reduced to
// what the oracle compares with ECS.
type AppState struct {
	// Phase is the app's phase (for example "deployed", "failed",
	// "releasing").
	Phase string
	// Build is the build number the phase refers to (the build being
	// released or deployed, the deployed build, or the failed one).
	Build int64
	// DeployedBuild is the build the store believes runs on the services
	// (0 when unknown or none).
	DeployedBuild int64
	// Reason is the failure reason, if any.
	Reason string
	// Adopted is how the control plane took the app over after losing its
	// state ("deployed", "not_deployed", "deploying"; "" if it did not),
	// and AdoptedBuild the build it decided on.
	Adopted      string
	AdoptedBuild int64
	// Busy: an operation is in progress, or a successful build waits for
	// one.
	Busy bool
}

// StoreView reads an app's state and deploy history from the control
// plane's store.
type StoreView interface {
	// AppState is the app's current state; false if the store has none.
	AppState(app string) (AppState, bool, error)
	// BuildOutcome is the outcome ("deployed", "failed", "skipped" or ""
	// while in progress) and reason of the deploy record of a build;
	// false if there is none.
	BuildOutcome(app string, build int64) (outcome, reason string, ok bool, err error)
}

type oracle struct {
	w              *World
	images         map[string]*build
	releaseOK      map[*build]bool
	releaseOutcome map[*build]string
	releaseStarted map[*build]bool
	liveReleases   map[string]int
	maxRelease     map[string]int64
	writes         map[string]bool
	appDeployed    map[*build]bool
	releaseLaunch  map[string]int
	deployFailed   map[*build]bool
	// stateLost: the control plane's store was emptied during the run
	// (at stateLostAt).
	stateLost   bool
	stateLostAt time.Time
	// interrupted maps each app that was busy when the store was emptied
	// to the newest of its builds that had succeeded by then.
	interrupted map[string]int64
}

func newOracle(w *World) *oracle {
	return &oracle{
		w:              w,
		images:         map[string]*build{},
		releaseOK:      map[*build]bool{},
		releaseOutcome: map[*build]string{},
		releaseStarted: map[*build]bool{},
		liveReleases:   map[string]int{},
		maxRelease:     map[string]int64{},
		writes:         map[string]bool{},
		appDeployed:    map[*build]bool{},
		releaseLaunch:  map[string]int{},
		deployFailed:   map[*build]bool{},
		interrupted:    map[string]int64{},
	}
}

// onStateLost notes, before the store is emptied, which apps were busy
// (an operation in progress or a successful build waiting for one) and the
// newest of their builds that had succeeded by then.
func (o *oracle) onStateLost(view StoreView) {
	o.stateLost = true
	o.stateLostAt = o.w.now
	for _, name := range o.w.appNames() {
		st, ok, err := view.AppState(name)
		if err != nil || !ok || !st.Busy {
			continue
		}
		var newest int64
		for _, b := range o.w.apps[name].builds {
			if b.status == "SUCCEEDED" {
				newest = max(newest, b.number)
			}
		}
		o.interrupted[name] = max(o.interrupted[name], newest)
		o.w.tracef("  %s was busy when the state was lost (builds up to %d had succeeded)", name, newest)
	}
}

func (w *World) violate(inv, format string, args ...any) {
	v := Violation{Invariant: inv, At: w.now, Detail: fmt.Sprintf(format, args...)}
	w.Stats.Violations = append(w.Stats.Violations, v)
	w.tracef("VIOLATION %s: %s", inv, v.Detail)
}

// onWrite runs before a write call takes effect.
func (o *oracle) onWrite(inv *invocation, svc, op, detail string) {
	sig := svc + "." + op + " " + detail
	if inv != nil && inv.handled && o.writes[sig] {
		o.w.violate(InvNoRepeatWrite, "event %s was already handled, yet its redelivery repeated %s", inv.eventID, sig)
	}
}

// recordWrite runs after a write call took effect.
func (o *oracle) recordWrite(svc, op, detail string) {
	o.writes[svc+"."+op+" "+detail] = true
}

// appServiceBuild returns the newest build any ACTIVE service of app runs
// or is deploying (primary deployment), excluding svc and builds whose
// deployment failed on some service (the control plane may put the other
// services back on the last good build).
func (o *oracle) appServiceBuild(app *appWorld, except *service) *build {
	var newest *build
	for _, key := range sortedKeys(app.acct.ecs.services) {
		s := app.acct.ecs.services[key]
		if s == except || s.app != app || s.status != "ACTIVE" || len(s.deployments) == 0 {
			continue
		}
		if b := s.deployments[0].td.build; b != nil && !o.deployFailed[b] && (newest == nil || b.number > newest.number) {
			newest = b
		}
	}
	return newest
}

func (o *oracle) beforeServiceChange(svc *service, td *taskDef, op string) {
	b := td.build
	if b == nil || svc.app == nil {
		return
	}
	var current *build
	if op == "UpdateService" && len(svc.deployments) > 0 {
		if current = svc.deployments[0].td.build; current != nil && o.deployFailed[current] {
			current = nil
		}
	} else {
		current = o.appServiceBuild(svc.app, svc)
	}
	if rb := o.w.rq().rollback[svc.app.name]; rb != nil && rb.build == b {
		current = nil // a rollback request chose it
	}
	if current != nil && b.number < current.number {
		o.w.violate(InvNoOlderBuild, "%s moves %s to build %d while it runs build %d", op, svc.name, b.number, current.number)
	}
	if b.plan.ReleaseCommand != "" && !o.releaseOK[b] {
		o.w.violate(InvFailedRelease, "%s moves %s to build %d, whose release has not succeeded (%s)", op, svc.name, b.number, o.outcome(b))
	}
}

func (o *oracle) outcome(b *build) string {
	if s, ok := o.releaseOutcome[b]; ok {
		return s
	}
	if o.releaseStarted[b] {
		return "running"
	}
	return "not started"
}

func (o *oracle) beforeServiceDelete(svc *service) {
	app := svc.app
	if app == nil {
		return
	}
	if string(svc.cfg.LaunchType) != app.settings.LaunchType {
		// A recreate: UpdateService cannot change a launch type (it has no
		// launchType parameter), so a service whose launch type the
		// settings no longer name is deleted to be created again; the end
		// checks require it back, matching the settings.
		return
	}
	if rb := o.w.rq().rollback[app.name]; rb != nil {
		if _, declared := rb.build.plan.Processes[svc.proc]; !declared {
			return // justified: a rollback chose a build without the process
		}
	}
	floor := o.appServiceBuild(app, nil)
	for _, b := range app.builds {
		if b.status != "SUCCEEDED" || (floor != nil && b.number < floor.number) {
			continue
		}
		if b.plan.ReleaseCommand != "" && !o.releaseOK[b] {
			continue
		}
		if _, declared := b.plan.Processes[svc.proc]; !declared {
			return // justified: a newer, released build drops the process
		}
	}
	by := "no build"
	if floor != nil {
		by = fmt.Sprintf("build %d", floor.number)
	}
	o.w.violate(InvNoDeletedNeeded, "DeleteService %s although %s (the newest released build at or above what runs) declares %s", svc.name, by, svc.proc)
}

func (o *oracle) onTaskLaunched(t *task) {
	if !t.release || t.app == nil {
		return
	}
	app := t.app
	o.releaseLaunch[app.name]++
	o.liveReleases[app.name]++
	if n := o.liveReleases[app.name]; n > 1 {
		o.w.violate(InvOneRelease, "%d release tasks of %s are not STOPPED (new one %s for %s)", n, app.name, shortTask(t.arn), t.startedBy)
	}
	b := t.td.build
	if b == nil {
		return
	}
	o.releaseStarted[b] = true
	if o.appDeployed[b] {
		o.w.violate(InvNoReleaseAgain, "release task for build %d of %s started although the build already ran on every service", b.number, app.name)
	}
	if cur := o.appServiceBuild(app, nil); cur != nil && b.number < cur.number {
		o.w.violate(InvNoOlderBuild, "release task for build %d started while services run build %d", b.number, cur.number)
	}
	if m := o.maxRelease[app.name]; b.number < m {
		o.w.violate(InvNoOlderBuild, "release task for build %d started after the release of build %d", b.number, m)
	}
	o.maxRelease[app.name] = max(o.maxRelease[app.name], b.number)
}

func (o *oracle) onTaskStopped(t *task) {
	if !t.release || t.app == nil {
		return
	}
	o.liveReleases[t.app.name]--
	b := t.td.build
	if b == nil {
		return
	}
	switch {
	case t.stopCode == ecstypes.TaskStopCodeEssentialContainerExited && t.exitCode != nil && *t.exitCode == 0:
		o.releaseOK[b] = true
		o.releaseOutcome[b] = "ok"
	case t.stopCode == ecstypes.TaskStopCodeTaskFailedToStart:
		o.releaseOutcome[b] = "failed to start"
	case t.stopCode == ecstypes.TaskStopCodeEssentialContainerExited && t.exitCode != nil:
		o.releaseOutcome[b] = fmt.Sprintf("exit code %d", *t.exitCode)
	case t.stopCode == ecstypes.TaskStopCodeUserInitiated:
		if !o.releaseOK[b] {
			o.releaseOutcome[b] = "stopped"
		}
	default:
		o.releaseOutcome[b] = "stopped: " + string(t.stopCode)
	}
}

func (o *oracle) onDeploymentCompleted(svc *service, d *deployment) {
	b := d.td.build
	if b == nil || d.rollback || svc.app == nil {
		return
	}
	o.w.Stats.Deploys++
	if o.appDeployed[b] {
		return
	}
	for _, p := range processNames(b.plan.Processes) {
		s := svc.app.acct.ecs.services[svc.cluster+"/"+Prefix+"-"+svc.app.name+"_"+p]
		if s == nil || s.status != "ACTIVE" || s.deployments[0].td.build != b || s.deployments[0].rollout != ecstypes.DeploymentRolloutStateCompleted {
			return
		}
	}
	o.appDeployed[b] = true
	o.w.Stats.AppDeploys++
	o.w.tracef("app %s: build %d now runs on every service", svc.app.name, b.number)
}

func (o *oracle) onDeploymentFailed(svc *service, d *deployment) {
	if b := d.td.build; b != nil && !d.rollback {
		o.deployFailed[b] = true
	}
}

func (o *oracle) onServiceInactive(svc *service) {}

func (o *oracle) onBuildFinished(b *build) {}

func (o *oracle) secretRead(name string, decrypt bool) {
	o.w.violate(InvNoSecretRead, "GetParameter on config parameter %s (decryption %v)", name, decrypt)
}

// Expected outcomes of an app at the end of a run.
const (
	ExpectNothing       = "nothing"
	ExpectDeployed      = "deployed"
	ExpectReleaseFailed = "release-failed"
	ExpectDeployFailed  = "deploy-failed"
)

// expectation works out what the app should look like once settled.
func (o *oracle) expectation(app *appWorld) (target *build, expect, cause string) {
	for _, b := range app.builds {
		if b.status == "SUCCEEDED" && (target == nil || b.number > target.number) {
			target = b
		}
	}
	if target == nil {
		return nil, ExpectNothing, ""
	}
	if rb := o.rollbackTarget(app); rb != nil && (!o.stateLost || o.deployedProblem(app, rb) == "") {
		// A rollback request chose an earlier build that ran (its
		// release, if any, succeeded then); after a lost state the
		// control plane may have refused it (it knows no releases).
		return rb, ExpectDeployed, ""
	}
	if target.plan.ReleaseCommand != "" && !o.releaseOK[target] {
		return target, ExpectReleaseFailed, o.outcome(target)
	}
	if target.plan.Broken {
		return target, ExpectDeployFailed, "circuit breaker"
	}
	if o.deployFailed[target] && o.deployedProblem(app, target) != "" {
		// A good build's deployment failed all the same: its tasks failed
		// to start (the task-fail-start fault) until the circuit breaker
		// tripped. A deploy the breaker failed is failed, not retried
		// (docs/controlplane.md); seed 993 found this case.
		return target, ExpectDeployFailed, "tasks failed to start"
	}
	return target, ExpectDeployed, ""
}

// reasonMatches reports whether a failure reason names the cause.
func reasonMatches(expect, cause, reason string) bool {
	r := strings.ReplaceAll(strings.ToLower(reason), "_", " ")
	has := func(words ...string) bool {
		for _, w := range words {
			if strings.Contains(r, w) {
				return true
			}
		}
		return false
	}
	switch expect {
	case ExpectDeployFailed:
		return has("circuit breaker", "rolled back", "rollback", "deployment failed")
	case ExpectReleaseFailed:
		switch {
		case strings.HasPrefix(cause, "exit code"):
			return has("release failed") && has(strings.TrimPrefix(cause, "exit "), "exited with "+strings.TrimPrefix(cause, "exit code "), "exit status "+strings.TrimPrefix(cause, "exit code "))
		case cause == "failed to start" || cause == "not started":
			return has("release failed to start")
		case cause == "running", cause == "stopped":
			return has("release timed out")
		}
		return has("release")
	}
	return false
}

// finalCheck checks the end-state invariants of every app.
func (o *oracle) finalCheck(view StoreView) {
	w := o.w
	for _, name := range w.appNames() {
		app := w.apps[name]
		target, expect, cause := o.expectation(app)
		var st AppState
		var found bool
		if view != nil {
			var err error
			st, found, err = view.AppState(name)
			if err != nil {
				w.violate(InvStoreMatchesECS, "%s: reading the store: %v", name, err)
				continue
			}
		}
		running := o.runningBuilds(app)
		if found && st.Adopted != "" && !o.stateLost {
			w.violate(InvStoreMatchesECS, "%s: the store says it adopted running services (%s, build %d), yet its state was never lost", name, st.Adopted, st.AdoptedBuild)
		}
		// After its state was lost, the control plane may take the app
		// over without deploying the newest build it finds by listing
		// the project (the services run another image): that build, and
		// older ones, need not run. The next build must.
		notDeployed := o.stateLost && st.Adopted == "not_deployed" && target != nil && target.number <= st.AdoptedBuild
		if notDeployed {
			w.tracef("%s: build %d was adopted without deploying after the state was lost; not expected to run", name, target.number)
		}
		// An app busy when its state was lost (an operation in flight)
		// may be left as the operation left it: the builds that had
		// succeeded by then need not run, and the services may run
		// several builds (a deploy cut short). Later builds must deploy.
		newestThen, interrupted := o.interrupted[name]
		if interrupted && target != nil && target.number <= newestThen && !notDeployed {
			notDeployed = true
			w.tracef("%s: build %d had succeeded when the state was lost mid-operation; not expected to run", name, target.number)
		}
		switch {
		case expect == ExpectNothing:
			if len(running) > 0 {
				w.violate(InvConverges, "%s has no successful build, yet services run %v", name, running)
			}
			continue
		case notDeployed:
		case expect == ExpectDeployed:
			if problem := o.deployedProblem(app, target); problem != "" {
				inv := InvConverges
				if o.rollbackTarget(app) == target {
					inv = InvRollbackExact
				}
				w.violate(inv, "%s: build %d should run everywhere: %s (store: phase=%q build=%d reason=%q)", name, target.number, problem, st.Phase, st.Build, st.Reason)
			}
		default:
			marked := found && st.Build == target.number && strings.Contains(strings.ToLower(st.Phase), "fail") && reasonMatches(expect, cause, st.Reason)
			var outcome, reason string
			if !marked && view != nil {
				// A later event (a newer failed build, a config restart of
				// the running build) may have moved the app's summary on;
				// the build's own deploy record must then say it failed.
				var ok bool
				var err error
				outcome, reason, ok, err = view.BuildOutcome(name, target.number)
				if err != nil {
					w.violate(InvStoreMatchesECS, "%s: reading the history: %v", name, err)
				}
				marked = ok && outcome == "failed" && reasonMatches(expect, cause, reason) && st.DeployedBuild != target.number
			}
			if !marked && o.stateLost && expect == ExpectReleaseFailed && o.releaseStarted[target] {
				// The state was lost after the release ran: a deploy of
				// the build started afresh finds that ECS has forgotten
				// the task (RunTask's client token replays it).
				lost := func(r string) bool { return strings.Contains(strings.ReplaceAll(r, "_", " "), "release task lost") }
				marked = (found && st.Build == target.number && lost(st.Reason)) || (outcome == "failed" && lost(reason))
			}
			if !marked {
				w.violate(InvConverges, "%s: build %d should be marked failed (%s: %s), store says phase=%q build=%d reason=%q, history says %q %q", name, target.number, expect, cause, st.Phase, st.Build, st.Reason, outcome, reason)
			}
		}
		if !found {
			if view != nil {
				w.violate(InvStoreMatchesECS, "%s: the store has no state for the app", name)
			}
			continue
		}
		if len(running) == 1 {
			for b := range running {
				if st.DeployedBuild != 0 && st.DeployedBuild != b {
					w.violate(InvStoreMatchesECS, "%s: the store says build %d is deployed, ECS runs build %d", name, st.DeployedBuild, b)
				}
				if isDeployedPhase(st.Phase) && st.Build != b {
					w.violate(InvStoreMatchesECS, "%s: ECS runs build %d everywhere, the store says phase=%q build=%d", name, b, st.Phase, st.Build)
				}
			}
		} else if len(running) > 1 && !interrupted {
			w.violate(InvStoreMatchesECS, "%s: services run several builds once settled (%s); the store says deployed build %d", name, o.serviceBuilds(app), st.DeployedBuild)
		}
	}
}

// serviceBuilds describes which build each ACTIVE service of app runs.
func (o *oracle) serviceBuilds(app *appWorld) string {
	var parts []string
	for _, key := range sortedKeys(app.acct.ecs.services) {
		s := app.acct.ecs.services[key]
		if s.app == app && s.status == "ACTIVE" {
			d := s.deployments[0]
			parts = append(parts, fmt.Sprintf("%s: %s %s, %d running", s.proc, buildName(d.td.build), d.rollout, func() int32 { r, _ := s.counts(d); return r }()))
		}
	}
	return strings.Join(parts, "; ")
}

func isDeployedPhase(p string) bool {
	p = strings.ToLower(p)
	return p == "deployed" || p == "running" || p == "idle" || p == "steady"
}

// runningBuilds returns the builds ECS runs for app: those of every
// deployment of an ACTIVE service that has RUNNING tasks.
func (o *oracle) runningBuilds(app *appWorld) map[int64]bool {
	out := map[int64]bool{}
	for _, key := range sortedKeys(app.acct.ecs.services) {
		s := app.acct.ecs.services[key]
		if s.app != app || s.status != "ACTIVE" {
			continue
		}
		for _, d := range s.deployments {
			if running, _ := s.counts(d); running == 0 {
				continue
			}
			if b := d.td.build; b != nil {
				out[b.number] = true
			} else {
				out[-1] = true
			}
		}
	}
	return out
}

// deployedProblem says why target does not (yet) run on every service with
// the current config, or "" if it does.
func (o *oracle) deployedProblem(app *appWorld, target *build) string {
	var problems []string
	for _, p := range processNames(target.plan.Processes) {
		s := app.acct.ecs.services[app.settings.ClusterARN+"/"+Prefix+"-"+app.name+"_"+p]
		if s == nil || s.status != "ACTIVE" {
			problems = append(problems, "no ACTIVE service for "+p)
			continue
		}
		d := s.deployments[0]
		switch {
		case d.td.build != target:
			problems = append(problems, fmt.Sprintf("%s runs %s", p, buildName(d.td.build)))
		case d.rollout != ecstypes.DeploymentRolloutStateCompleted:
			problems = append(problems, fmt.Sprintf("%s deployment %s", p, d.rollout))
		case app.configChanges > 0 && d.created.Before(app.lastConfigChange):
			problems = append(problems, fmt.Sprintf("%s was deployed at %s, before the config change at %s", p, d.created.Format("15:04:05"), app.lastConfigChange.Format("15:04:05")))
		}
		if problem := o.w.scaleProblem(app, target, s); problem != "" {
			problems = append(problems, problem)
		}
	}
	for _, key := range sortedKeys(app.acct.ecs.services) {
		s := app.acct.ecs.services[key]
		if s.app == app && s.status == "ACTIVE" {
			if _, ok := target.plan.Processes[s.proc]; !ok {
				problems = append(problems, "service "+s.name+" is not declared by the build")
			}
		}
	}
	return strings.Join(problems, "; ")
}

func buildName(b *build) string {
	if b == nil {
		return "an unknown image"
	}
	return fmt.Sprintf("build %d", b.number)
}
