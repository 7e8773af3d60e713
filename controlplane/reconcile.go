package controlplane

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/wharf-paas/wharf/contract"
)

// knownBuildsKept bounds AppState.Known.
const knownBuildsKept = 32

// run is one reconcile attempt of one app: state loaded once, observations
// memoised, every AWS write preceded by a conditional save of the intent.
type run struct {
	c   *ControlPlane
	h   Hint
	reg *contract.AppRegistration
	log *slog.Logger
	now time.Time

	st       *AppState
	snapshot []byte
	// committed is the state object last saved, whose encoding snapshot
	// is once saved has computed it (nil before the first commit: then
	// snapshot is the loaded state's, which the run may change in place
	// before its first decision). Nothing changes a committed state in
	// place (Decide copies what it changes), so while r.st is committed,
	// r.st encodes as the saved snapshot without encoding it again.
	committed *AppState
	// loaded is the state as the run loaded it (status publishing
	// compares the committed state with it).
	loaded []byte
	// prev is what status publishing reads of the loaded state (the
	// fields ActivityEvents compares), copied when it was loaded.
	prev    AppState
	pending []*DeployRecord

	cl         *AppClients
	set        *contract.Settings
	setErr     error
	cfg        *configSnapshot
	awsTouched bool
	// clean: the loop ended on a decision that changed nothing.
	clean bool
	// dirty: r.st was changed outside a decision (a build the event
	// named, the sweep's listing) and not saved yet.
	dirty bool
	// obs is what this reconcile has observed so far (allocated when it
	// needs AWS).
	obs *Observation

	mode runMode
	// discoverErr is the discovery's failure; the run goes on without it
	// and reports it at the end.
	discoverErr error
}

// runMode tunes a reconcile for the sweep.
type runMode struct {
	// discover lists the newest builds of the app's CodeBuild project
	// before anything else, to find builds whose every event was lost.
	discover bool
	// due says the app needs a reconcile anyway (stuck, or an idle app's
	// configuration check). When false, the run ends after the discovery
	// unless it found a build.
	due bool
	// preloaded is the state the sweep has just loaded; the first attempt
	// uses it instead of reading it again.
	preloaded *AppState
}

// permanentError marks a failure a retry cannot fix (bad settings, bad
// metadata, a rejected request): the operation fails with its reason.
type permanentError struct {
	reason Reason
	err    error
}

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

func permanent(reason Reason, format string, args ...any) error {
	return &permanentError{reason: reason, err: fmt.Errorf(format, args...)}
}

func (c *ControlPlane) reconcile(ctx context.Context, h Hint, log *slog.Logger) error {
	return c.reconcileMode(ctx, h, log, runMode{})
}

func (c *ControlPlane) reconcileMode(ctx context.Context, h Hint, log *slog.Logger, mode runMode) error {
	reg := c.apps[appKey(h.Account, h.App)]
	if reg == nil {
		return fmt.Errorf("app %q is not registered in account %s", h.App, h.Account)
	}
	c.count(CountReconcile)
	for attempt := 1; ; attempt++ {
		r := &run{c: c, h: h, reg: reg, log: log, now: c.now(), mode: mode}
		mode.preloaded = nil // a retry reloads
		err := r.do(ctx)
		if err == nil {
			// The state is committed: publish it (status.go).
			r.publishStatus(ctx)
			if !r.awsTouched {
				c.count(CountNoAWSCalls)
			}
			return r.discoverErr
		}
		if !errors.Is(err, ErrConflict) {
			return errors.Join(err, r.discoverErr)
		}
		c.count(CountConflict)
		if attempt >= c.opts.MaxConflictRetries {
			return fmt.Errorf("gave up after %d state conflicts: %w", attempt, err)
		}
		log.Info("state changed concurrently, reloading", "attempt", attempt)
	}
}

func (r *run) do(ctx context.Context) error {
	st := r.mode.preloaded
	if st == nil {
		var err error
		if st, err = r.c.opts.Store.LoadApp(ctx, r.reg.AccountID, r.reg.Name); err != nil {
			return fmt.Errorf("load state: %w", err)
		}
	}
	r.st = st
	r.snapshot, _ = json.Marshal(st)
	r.loaded = r.snapshot
	r.prev = activityFields(st)
	if r.h.BuildID != "" {
		r.trackBuild()
	}
	needsAWS := st.Op != nil || len(st.Builds) > 0 || r.mode.discover
	switch r.h.Kind {
	case KindConfigChange, KindSettingsChange, KindRequest, KindSweep, KindManual:
		needsAWS = needsAWS || st.running() != nil
	}
	if !needsAWS {
		r.log.Debug("nothing to reconcile")
		return r.flush(ctx)
	}
	if err := r.work(ctx); err != nil {
		// Keep what was learnt (a newly heard-of build, for one) when a
		// later call failed; the state is consistent at every point.
		if !errors.Is(err, ErrConflict) {
			if ferr := r.flush(ctx); ferr != nil && !errors.Is(ferr, ErrConflict) {
				r.log.Warn("saving state after an error failed", "error", ferr.Error())
			}
		}
		return err
	}
	return r.flush(ctx)
}

func (r *run) work(ctx context.Context) error {
	cl, err := r.c.opts.Clients.ForApp(ctx, *r.reg)
	if err != nil {
		if r.mode.discover && !r.mode.due && r.st.Version == 0 {
			// An app registered before its stack exists (no role to
			// assume yet) must not fail every sweep.
			r.log.Warn("sweep cannot act for an app never seen; builds not listed", "error", err.Error())
			return nil
		}
		return fmt.Errorf("clients for %s/%s: %w", r.reg.AccountID, r.reg.Name, err)
	}
	r.cl = cl
	r.obs = &Observation{}
	if r.mode.discover {
		found, err := r.discoverBuilds(ctx)
		if err != nil {
			r.discoverErr = fmt.Errorf("discover builds: %w", err)
			r.log.Warn("listing the project's builds failed", "error", err.Error())
		}
		if !found && !r.mode.due {
			return nil
		}
	}
	switch r.h.Kind {
	case KindConfigChange, KindSettingsChange, KindRequest, KindSweep, KindManual:
		r.obs.CheckConfig = true
	}
	if err := r.prefetch(ctx); err != nil {
		return err
	}
	return r.loop(ctx)
}

// prefetch observes what any decision on the state needs, in one go: an
// operation always reads the settings, and its services, rollout and
// rollback steps the services (so the decision is made once, not after a
// round per Need).
func (r *run) prefetch(ctx context.Context) error {
	op := r.st.Op
	if op == nil || len(r.st.Builds) > 0 {
		return nil
	}
	n := Need{Settings: true}
	switch op.Step {
	case StepServices, StepRollout:
		n.Services = sortedKeys(op.Metadata.Processes)
	case StepRollback:
		if r.st.Deployed != nil || (r.st.Adopted != nil && len(r.st.Adopted.TaskDefs) > 0) {
			n.Services = slices.Sorted(slices.Values(op.Updated))
		}
	}
	return r.observe(ctx, n)
}

// policy is what Decide knows of the control plane and the app.
func (r *run) policy() Policy {
	_, canStop := r.cl.ECS.(taskStopper)
	return Policy{
		Prefix: r.c.reg.Prefix, Account: r.reg.AccountID, App: r.reg.Name, Region: r.reg.Region,
		StuckAfter: r.c.opts.StuckAfter, ReleaseTimeout: r.c.opts.ReleaseTimeout, RolloutTimeout: r.c.opts.RolloutTimeout,
		CanStopTasks: canStop,
		MaxProcesses: r.c.opts.MaxProcesses, MaxSchedules: r.c.opts.MaxSchedules, MaxCount: r.c.opts.MaxCount,
		CanAutoscale: r.cl.AutoScaling != nil,
	}
}

// loop is observe -> decide -> commit -> act until the decision has
// nothing left to do. The state that records an intent is saved (a
// conditional write) before the actions it calls for, so every AWS write
// is claimed by exactly one invocation's version.
func (r *run) loop(ctx context.Context) error {
	pol := r.policy()
	// dirty: r.st differs from the saved state (a build the event named,
	// the sweep's listing), so a decision that keeps it must be saved.
	dirty := r.dirty
	for round := 0; round < maxRoundsPerRun; round++ {
		d := Decide(r.st, r.obs, r.now, pol)
		if !d.Need.IsZero() {
			if err := r.observe(ctx, d.Need); err != nil {
				return err
			}
			continue
		}
		for _, n := range d.Notes {
			r.log.Log(ctx, n.Level, n.Msg, n.Args...)
		}
		before := r.st
		// A decision equal to r.st (most are: nothing to do) costs no
		// encoding; otherwise the encoded state decides, as it is what
		// is saved.
		// r.st encodes as the saved state when it is the one committed, or
		// the one loaded and not changed since (not dirty).
		asSaved := r.committed == r.st || (r.committed == nil && !dirty)
		changed := len(d.Records) > 0 || (asSaved && encodesApart(d.State, r.st))
		if !changed && (dirty || !reflect.DeepEqual(d.State, r.st)) {
			cur, _ := json.Marshal(d.State)
			changed = !bytes.Equal(cur, r.saved())
		}
		if changed {
			dirty = false
			r.st = d.State
			r.pending = append(r.pending, d.Records...)
			if err := r.commit(ctx); err != nil {
				return err
			}
			r.settle(before, r.st)
		}
		if len(d.Actions) == 0 {
			if !changed {
				r.clean = true // the state is the one saved: no flush
				return nil
			}
			continue
		}
		if err := r.act(ctx, d.Actions, r.obs); err != nil {
			return err
		}
		if d.ActsFor != "" {
			if r.obs.Acted == nil {
				r.obs.Acted = map[Step]bool{}
			}
			r.obs.Acted[d.ActsFor] = true
		}
	}
	r.log.Warn("reconcile stopped after the maximum number of rounds", "rounds", maxRoundsPerRun)
	return nil
}

// encodesApart reports whether a and b certainly encode differently, from
// fields that are always encoded (phase, operation step) or whose presence
// shows in the encoding (the operation, the tracked builds): a decision
// that moved on is recognised without encoding the state.
func encodesApart(a, b *AppState) bool {
	switch {
	case a.Phase != b.Phase, (a.Op == nil) != (b.Op == nil), len(a.Builds) != len(b.Builds):
		return true
	case a.Op != nil && a.Op.Step != b.Op.Step:
		return true
	}
	return false
}

// settle drops the observations a committed decision made obsolete: the
// answers it recorded, the services when the step changed (the next step
// reads them afresh), and, when the operation ended, the configuration
// (checked once more).
func (r *run) settle(before, after *AppState) {
	o := r.obs
	o.Ran, o.ServiceAnswers, o.Deleted, o.Failure, o.Acted = nil, nil, nil, nil, nil
	if (before.Op == nil) != (after.Op == nil) || (before.Op != nil && after.Op != nil && before.Op.Step != after.Op.Step) {
		o.forgetServices()
		// The scalable targets were read before the step's own
		// Register/DeregisterScalableTarget: the next operation (a scale
		// request that came meanwhile, say) reads them afresh.
		o.Scaling, o.ScalingSeen = nil, false
	}
	if before.Op != nil && after.Op == nil {
		o.Config = nil
		o.CheckConfig = true
	}
}

// maxRoundsPerRun bounds the observe/decide/act rounds of one reconcile.
const maxRoundsPerRun = 64

// flush saves the state if it changed.
func (r *run) flush(ctx context.Context) error {
	if r.clean {
		return nil
	}
	if len(r.pending) == 0 {
		if r.committed == r.st {
			return nil // saved as it is
		}
		if cur, _ := json.Marshal(r.st); bytes.Equal(cur, r.saved()) {
			return nil
		}
	}
	return r.commit(ctx)
}

// commit saves the state (and pending deploy records) with the conditional
// write.
func (r *run) commit(ctx context.Context) error {
	r.st.UpdatedAt = r.now
	recs := r.pending
	if r.st.Op != nil && r.st.Op.Record != nil {
		r.st.Op.Record.Updated = r.now
		recs = append(recs, r.st.Op.Record)
	}
	if err := r.c.opts.Store.SaveApp(ctx, r.st, recs...); err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	r.pending = nil
	// Encoded when first compared (saved): a commit the next round moves
	// on from is not encoded twice.
	r.snapshot = nil
	r.committed = r.st
	return nil
}

// saved is the encoding of the state last saved (or loaded).
func (r *run) saved() []byte {
	if r.snapshot == nil && r.committed != nil {
		r.snapshot, _ = json.Marshal(r.committed)
	}
	return r.snapshot
}

// trackBuild adds the hint's build to the tracked builds unless it is
// already tracked, already resolved, or older than the newest attempt.
func (r *run) trackBuild() {
	r.track(TrackedBuild{ID: r.h.BuildID, Number: r.h.BuildNumber, SeenAt: r.now})
}

// track adds b to the tracked builds unless it is already tracked, already
// resolved, or older than the newest attempt; it reports whether it did.
// Build events and the sweep's discovery both come through here.
func (r *run) track(b TrackedBuild) bool {
	st := r.st
	if slices.Contains(st.Known, b.ID) {
		return false
	}
	if b.Number > 0 && b.Number <= st.HighWater {
		return false
	}
	for _, t := range st.Builds {
		if t.ID == b.ID {
			return false
		}
	}
	st.Builds = append(st.Builds, b)
	r.dirty = true
	return true
}

func buildDone(status string) bool {
	switch status {
	case "SUCCEEDED", "FAILED", "FAULT", "TIMED_OUT", "STOPPED":
		return true
	}
	return false
}

// observe reads what a decision needs.
func (r *run) observe(ctx context.Context, n Need) error {
	o := r.obs
	if len(n.Builds) > 0 {
		obs, missing, err := r.batchGetBuilds(ctx, n.Builds)
		if err != nil {
			return err
		}
		if o.Builds == nil {
			o.Builds = map[string]buildObservation{}
		}
		for id, b := range obs {
			o.Builds[id] = b
		}
		o.BuildsMissing = append(o.BuildsMissing, missing...)
		for _, id := range n.Builds {
			if _, ok := obs[id]; !ok && !slices.Contains(o.BuildsMissing, id) {
				o.BuildsMissing = append(o.BuildsMissing, id)
			}
		}
	}
	if b := n.Metadata; b != nil {
		m, err := r.readMetadata(ctx, *b)
		var pe *permanentError
		if err != nil && !errors.As(err, &pe) {
			return err
		}
		if o.Metadata == nil {
			o.Metadata = map[string]metadataResult{}
		}
		o.Metadata[b.ID] = metadataResult{Meta: m, Err: pe}
	}
	var set *contract.Settings
	if n.Settings || n.Config || len(n.TaskDefs) > 0 || len(n.Tasks) > 0 || n.ReleaseTasks || len(n.Services) > 0 || n.AppServices || len(n.Scaling) > 0 {
		s, err := r.settings(ctx)
		var pe *permanentError
		if err != nil && !errors.As(err, &pe) {
			return err
		}
		o.Settings, o.SettingsErr, o.SettingsSeen = s, pe, true
		set = s
	}
	if set == nil && (n.Config || len(n.Tasks) > 0 || n.ReleaseTasks || len(n.Services) > 0 || n.AppServices || len(n.Scaling) > 0) {
		return fmt.Errorf("observing the app needs its settings: %w", o.SettingsErr)
	}
	if n.Config {
		cfg, err := r.config(ctx, set)
		if err != nil {
			return err
		}
		o.Config = cfg
	}
	for _, f := range n.TaskDefs {
		td, err := r.describeTaskDefinition(ctx, f)
		if err != nil {
			return err
		}
		if o.TaskDefs == nil {
			o.TaskDefs = map[string]taskDefObservation{}
		}
		o.TaskDefs[f] = td
	}
	if len(n.Tasks) > 0 {
		if o.Tasks == nil {
			o.Tasks = map[string]*ecstypes.Task{}
		}
		for _, arn := range n.Tasks {
			t, err := r.describeTask(ctx, set.ClusterARN, arn)
			if err != nil {
				return err
			}
			o.Tasks[arn] = t
		}
	}
	if n.ReleaseTasks {
		tasks, err := r.familyTasks(ctx, set.ClusterARN, FamilyName(r.c.reg.Prefix, r.reg.Name, contract.ReleaseProcess))
		if err != nil {
			return err
		}
		o.ReleaseTasks, o.ReleaseTasksSeen = tasks, true
	}
	if n.AppServices {
		procs, err := r.listAppServices(ctx, set)
		if err != nil {
			switch code := apiCode(err); code {
			case "AccessDeniedException", "ClusterNotFoundException":
				o.AppServicesErr = err.Error()
			default:
				return err
			}
		}
		o.AppServices, o.AppServicesSeen = procs, true
	}
	if len(n.Services) > 0 {
		svcs, err := r.describeServices(ctx, set, n.Services)
		if err != nil {
			return err
		}
		for _, p := range n.Services {
			o.setService(p, svcs[p])
		}
	}
	for _, td := range n.Running {
		rs, err := r.describeRunning(ctx, td)
		if err != nil {
			return err
		}
		if o.Running == nil {
			o.Running = map[string]*runningService{}
		}
		o.Running[td] = rs
	}
	if n.Requests {
		rq, err := r.readRequests(ctx)
		if err != nil {
			return err
		}
		o.Requests = rq
	}
	if len(n.Scaling) > 0 {
		sc, err := r.describeScaling(ctx, set, n.Scaling)
		if err != nil {
			return err
		}
		o.Scaling, o.ScalingSeen = sc, true
	}
	if n.Rules {
		rules, err := r.listRules(ctx)
		if err != nil {
			return err
		}
		o.Rules, o.RulesSeen = rules, true
	}
	for _, name := range n.Targets {
		r.awsTouched = true
		cur, err := r.cl.EventBridge.ListTargetsByRule(ctx, &eventbridge.ListTargetsByRuleInput{Rule: aws.String(name)})
		if err != nil && apiCode(err) != "ResourceNotFoundException" {
			return fmt.Errorf("eventbridge ListTargetsByRule %s: %w", name, err)
		}
		if o.Targets == nil {
			o.Targets, o.TargetsSeen = map[string][]ebtypes.Target{}, map[string]bool{}
		}
		if cur != nil {
			o.Targets[name] = cur.Targets
		}
		o.TargetsSeen[name] = true
	}
	return nil
}

// listRules lists the app's schedule rules.
func (r *run) listRules(ctx context.Context) (map[string]ebtypes.Rule, error) {
	prefix := ScheduleRuleName(r.c.reg.Prefix, r.reg.Name, "")
	existing := map[string]ebtypes.Rule{}
	in := &eventbridge.ListRulesInput{NamePrefix: aws.String(prefix)}
	r.awsTouched = true
	for page := 0; ; page++ {
		if page > 100 {
			return nil, fmt.Errorf("eventbridge ListRules %s: more than 100 pages", prefix)
		}
		out, err := r.cl.EventBridge.ListRules(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("eventbridge ListRules %s: %w", prefix, err)
		}
		for _, rule := range out.Rules {
			existing[aws.ToString(rule.Name)] = rule
		}
		if aws.ToString(out.NextToken) == "" {
			break
		}
		in.NextToken = out.NextToken
	}
	return existing, nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
