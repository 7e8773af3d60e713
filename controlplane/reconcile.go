package controlplane

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"time"
)

// knownBuildsKept bounds AppState.Known.
const knownBuildsKept = 32

// maxStepsPerRun bounds the decide/act iterations of one reconcile.
const maxStepsPerRun = 24

// run is one reconcile attempt of one app: state loaded once, observations
// memoised, every AWS write preceded by a conditional save of the intent.
type run struct {
	c   *ControlPlane
	h   Hint
	reg *AppRegistration
	log *slog.Logger
	now time.Time

	st       *AppState
	snapshot []byte
	pending  []*DeployRecord

	cl         *AppClients
	set        *Settings
	setErr     error
	cfg        *configSnapshot
	settled    bool
	awsTouched bool

	mode runMode
	// observed are the builds BatchGetBuilds described in this run (the
	// sweep's discovery), so observeBuilds does not ask again.
	observed map[string]bool
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
	if r.h.BuildID != "" {
		r.trackBuild()
	}
	needsAWS := st.Op != nil || len(st.Builds) > 0 || r.mode.discover
	switch r.h.Kind {
	case KindConfigChange, KindSettingsChange, KindSweep, KindManual:
		needsAWS = needsAWS || st.Deployed != nil
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
	if err := r.observeBuilds(ctx); err != nil {
		return err
	}
	for i := 0; i < maxStepsPerRun; i++ {
		progressed, err := r.step(ctx)
		if err != nil {
			var pe *permanentError
			if !errors.As(err, &pe) || r.st.Op == nil {
				return err
			}
			if err := r.failOp(ctx, pe.reason, pe.err.Error()); err != nil {
				return err
			}
			continue
		}
		if !progressed {
			break
		}
	}
	r.summarize()
	return nil
}

// flush saves the state if it changed.
func (r *run) flush(ctx context.Context) error {
	r.summarize()
	cur, _ := json.Marshal(r.st)
	if bytes.Equal(cur, r.snapshot) && len(r.pending) == 0 {
		return nil
	}
	return r.commit(ctx)
}

// commit saves the state (and pending deploy records) with the conditional
// write. It is called before every AWS write, so the write is claimed by
// exactly one invocation's version.
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
	r.snapshot, _ = json.Marshal(r.st)
	return nil
}

func (r *run) setPhase(p Phase, build int64, reason Reason, detail string) {
	st := r.st
	if st.Phase != p || st.Build != build {
		st.PhaseSince = r.now
	}
	st.Phase, st.Build, st.Reason, st.Detail = p, build, reason, detail
}

// summarize sets the building phase when idle and a newer build runs.
func (r *run) summarize() {
	st := r.st
	if st.Op != nil {
		return
	}
	var newest int64
	for _, b := range st.Builds {
		if (b.Status == "" || b.Status == "IN_PROGRESS") && b.Number > newest {
			newest = b.Number
		}
	}
	if newest > st.Build && newest > st.HighWater {
		r.setPhase(PhaseBuilding, newest, "", "")
	}
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
	return true
}

func (r *run) forget(id string) {
	st := r.st
	st.Builds = slices.DeleteFunc(st.Builds, func(b TrackedBuild) bool { return b.ID == id })
	if !slices.Contains(st.Known, id) {
		st.Known = append(st.Known, id)
		if len(st.Known) > knownBuildsKept {
			st.Known = st.Known[len(st.Known)-knownBuildsKept:]
		}
	}
}

func buildDone(status string) bool {
	switch status {
	case "SUCCEEDED", "FAILED", "FAULT", "TIMED_OUT", "STOPPED":
		return true
	}
	return false
}

// observeBuilds asks CodeBuild about tracked builds not yet finished, then
// resolves failed builds and builds older than the newest attempt.
func (r *run) observeBuilds(ctx context.Context) error {
	st := r.st
	var ids []string
	for _, b := range st.Builds {
		if (!buildDone(b.Status) || b.Number == 0) && !r.observed[b.ID] {
			ids = append(ids, b.ID)
		}
	}
	if len(ids) > 0 {
		obs, missing, err := r.batchGetBuilds(ctx, ids)
		if err != nil {
			return err
		}
		for i := range st.Builds {
			b := &st.Builds[i]
			if o, ok := obs[b.ID]; ok {
				b.Status, b.Number, b.Location, b.Commit = o.Status, o.Number, o.Location, o.Commit
				b.FailedStep, b.LogGroup, b.LogStream = o.FailedStep, o.LogGroup, o.LogStream
			}
		}
		for _, id := range missing {
			r.log.Warn("build not found in CodeBuild, forgetting it", "build_id", id)
			r.forget(id)
		}
	}
	sort.Slice(st.Builds, func(i, j int) bool { return st.Builds[i].Number < st.Builds[j].Number })
	for _, b := range slices.Clone(st.Builds) {
		switch {
		case b.Number > 0 && b.Number == st.HighWater:
			r.forget(b.ID) // the build in progress or resolved: a late duplicate
		case b.Status == "SUCCEEDED" && b.Number < st.HighWater:
			r.pending = append(r.pending, r.finalRecord(b, OutcomeSkipped, ReasonSuperseded,
				fmt.Sprintf("build %d was deployed first", st.HighWater)))
			r.forget(b.ID)
		case buildDone(b.Status) && b.Status != "SUCCEEDED":
			reason, detail := buildFailure(b)
			r.pending = append(r.pending, r.finalRecord(b, OutcomeFailed, reason, detail))
			if st.Op == nil && b.Number >= st.Build {
				r.setPhase(PhaseFailed, b.Number, reason, detail)
			}
			r.log.Info("build failed", "build", b.Number, "build_id", b.ID, "reason", string(reason))
			r.forget(b.ID)
		}
	}
	return nil
}

// buildFailure is the reason and detail of a finished, unsuccessful build.
func buildFailure(b TrackedBuild) (Reason, string) {
	log := ""
	if b.LogGroup != "" {
		log = fmt.Sprintf("; build log: group %s, stream %s", b.LogGroup, b.LogStream)
	}
	switch {
	case b.Status == "STOPPED":
		return ReasonBuildStopped, "CodeBuild status STOPPED" + log
	case b.FailedStep == "test" && b.Status == "FAILED":
		return ReasonTestsFailed, fmt.Sprintf("the app's tests failed in build %d; nothing was pushed. The test output is in the build log%s", b.Number, log)
	}
	return ReasonBuildFailed, "CodeBuild status " + b.Status + log
}

func (r *run) finalRecord(b TrackedBuild, o Outcome, reason Reason, detail string) *DeployRecord {
	return &DeployRecord{
		Account: r.reg.AccountID, App: r.reg.Name, Build: b.Number, BuildID: b.ID, Kind: OpBuild,
		Commit: b.Commit, Outcome: o, Reason: reason, Detail: detail, Created: r.now, Updated: r.now,
	}
}

// step takes the next action, if any; it reports whether it progressed.
func (r *run) step(ctx context.Context) (bool, error) {
	op := r.st.Op
	if op == nil {
		return r.maybeStart(ctx)
	}
	switch op.Step {
	case StepRegister:
		return r.stepRegister(ctx)
	case StepRelease:
		return r.stepRelease(ctx)
	case StepServices:
		return r.stepServices(ctx)
	case StepRollout:
		return r.stepRollout(ctx)
	case StepRollback:
		return r.stepRollback(ctx)
	}
	return false, fmt.Errorf("operation step %q is unknown", op.Step)
}

// maybeStart starts the newest waiting successful build (skipping older
// ones), or a configuration restart when the config changed.
func (r *run) maybeStart(ctx context.Context) (bool, error) {
	st := r.st
	var cand *TrackedBuild
	for i := range st.Builds {
		b := &st.Builds[i]
		if b.Status == "SUCCEEDED" && b.Number > st.HighWater && (cand == nil || b.Number > cand.Number) {
			cand = b
		}
	}
	if cand != nil {
		return r.startBuild(ctx, *cand)
	}
	if st.Deployed == nil {
		return false, nil
	}
	switch r.h.Kind {
	case KindConfigChange, KindSettingsChange, KindSweep, KindManual:
	default:
		if !r.settled {
			return false, nil
		}
	}
	set, err := r.settings(ctx)
	if err != nil {
		var pe *permanentError
		if errors.As(err, &pe) {
			r.log.Error("app settings are invalid; configuration not checked", "error", err.Error())
			return false, nil
		}
		return false, err
	}
	cfg, err := r.config(ctx, set)
	if err != nil {
		return false, err
	}
	configChanged := cfg.version != st.Deployed.ConfigVersion && cfg.version != st.FailedConfig
	sh := settingsHash(set)
	settingsChanged := sh != st.Deployed.SettingsHash && sh != st.FailedSettings
	if !configChanged && !settingsChanged {
		return false, nil
	}
	st.NextSeq++
	d := st.Deployed
	op := &Operation{
		Kind: OpConfig, Build: d.Build, BuildID: d.BuildID, Seq: st.NextSeq, Step: StepRegister,
		StepSince: r.now, Started: r.now, Metadata: d.Metadata,
	}
	op.Record = &DeployRecord{
		Account: r.reg.AccountID, App: r.reg.Name, Build: d.Build, BuildID: d.BuildID, Kind: OpConfig,
		Seq: op.Seq, Commit: d.Metadata.Commit, Created: r.now,
		Phases: []PhaseRecord{{Name: string(StepRegister), Start: r.now}},
	}
	st.Op = op
	why := "configuration changed"
	if !configChanged {
		why = "settings changed"
	}
	r.setPhase(PhaseDeploying, d.Build, "", why)
	r.log.Info(why+", restarting services", "build", d.Build, "config_version", cfg.version, "settings", sh)
	return true, r.commit(ctx)
}

func (r *run) startBuild(ctx context.Context, b TrackedBuild) (bool, error) {
	st := r.st
	log := r.log.With("build", b.Number, "build_id", b.ID)
	meta, err := r.readMetadata(ctx, b)
	if err != nil {
		var pe *permanentError
		if !errors.As(err, &pe) {
			return false, err
		}
		log.Error("build cannot be deployed", "reason", string(pe.reason), "error", err.Error())
		r.skipOlder(b.Number, fmt.Sprintf("build %d was deployed first", b.Number))
		st.HighWater = b.Number
		r.pending = append(r.pending, r.finalRecord(b, OutcomeFailed, pe.reason, err.Error()))
		r.forget(b.ID)
		r.setPhase(PhaseFailed, b.Number, pe.reason, err.Error())
		return true, r.commit(ctx)
	}
	skipRelease := false
	if st.HighWater == 0 && st.Deployed == nil {
		// The first deploy this store starts: the app's services may
		// already run (the state was lost).
		action, skip, err := r.adopt(ctx, b, meta)
		switch {
		case err != nil:
			return false, err
		case action == adoptWait:
			return false, nil
		case action == adoptDone:
			return false, r.commit(ctx)
		}
		skipRelease = skip
	}
	r.skipOlder(b.Number, fmt.Sprintf("build %d was deployed first", b.Number))
	st.HighWater = b.Number
	r.forget(b.ID)
	op := &Operation{
		Kind: OpBuild, Build: b.Number, BuildID: b.ID, Step: StepRegister,
		StepSince: r.now, Started: r.now, Metadata: meta, SkipRelease: skipRelease,
	}
	op.Record = &DeployRecord{
		Account: r.reg.AccountID, App: r.reg.Name, Build: b.Number, BuildID: b.ID, Kind: OpBuild,
		Commit: meta.Commit, Created: r.now,
		Phases: []PhaseRecord{{Name: string(StepRegister), Start: r.now}},
	}
	st.Op = op
	phase := PhaseDeploying
	if meta.ReleaseCommand != "" && !skipRelease {
		phase = PhaseReleasing
	}
	r.setPhase(phase, b.Number, "", "")
	log.Info("deploy started", "release", meta.ReleaseCommand != "" && !skipRelease, "processes", len(meta.Processes))
	return true, r.commit(ctx)
}

// skipOlder resolves waiting successful builds older than n as skipped,
// with detail saying why.
func (r *run) skipOlder(n int64, detail string) {
	for _, b := range slices.Clone(r.st.Builds) {
		if b.Status == "SUCCEEDED" && b.Number < n {
			r.pending = append(r.pending, r.finalRecord(b, OutcomeSkipped, ReasonSuperseded, detail))
			r.log.Info("build skipped", "build", b.Number, "build_id", b.ID, "newer", n)
			r.forget(b.ID)
		}
	}
}

// advance moves the operation to the next step and commits.
func (r *run) advance(ctx context.Context, next Step) (bool, error) {
	op := r.st.Op
	rec := op.Record
	if n := len(rec.Phases); n > 0 && rec.Phases[n-1].End.IsZero() {
		rec.Phases[n-1].End = r.now
	}
	rec.Phases = append(rec.Phases, PhaseRecord{Name: string(next), Start: r.now})
	op.Step, op.StepSince = next, r.now
	if next == StepServices || next == StepRollout {
		r.setPhase(PhaseDeploying, op.Build, "", r.st.Detail)
	}
	return true, r.commit(ctx)
}

// failOp fails the operation. When it already changed services, it first
// moves to StepRollback (saved before any
// call), so the app ends on one build; otherwise it ends the operation.
func (r *run) failOp(ctx context.Context, reason Reason, detail string) error {
	op := r.st.Op
	if len(op.Updated) > 0 && (op.Step == StepServices || op.Step == StepRollout) {
		op.FailReason, op.FailDetail = reason, detail
		r.log.Warn("deploy failed, rolling services back", "build", op.Build, "build_id", op.BuildID,
			"reason", string(reason), "detail", detail)
		_, err := r.advance(ctx, StepRollback)
		return err
	}
	return r.endFailed(ctx, reason, detail)
}

// endFailed ends the operation with a failure; the services keep running
// what they ran (or what the rollback put them back on).
func (r *run) endFailed(ctx context.Context, reason Reason, detail string) error {
	st := r.st
	op := st.Op
	rec := op.Record
	if n := len(rec.Phases); n > 0 && rec.Phases[n-1].End.IsZero() {
		rec.Phases[n-1].End = r.now
	}
	rec.Outcome, rec.Reason, rec.Detail = OutcomeFailed, reason, detail
	rec.Updated = r.now
	r.pending = append(r.pending, rec)
	if op.Kind == OpConfig {
		st.FailedConfig = op.ConfigVersion
		st.FailedSettings = op.SettingsHash
	}
	st.Op = nil
	r.setPhase(PhaseFailed, op.Build, reason, detail)
	r.settled = true
	r.cfg = nil
	r.log.Warn("deploy failed", "build", op.Build, "build_id", op.BuildID, "op", string(op.Kind),
		"reason", string(reason), "detail", detail)
	return r.commit(ctx)
}

// succeed ends the operation: the services run its task definitions. A
// non-empty reason (a rejected schedule) marks the app failed all the same.
func (r *run) succeed(ctx context.Context, reason Reason, detail string) error {
	st := r.st
	op := st.Op
	rec := op.Record
	if n := len(rec.Phases); n > 0 && rec.Phases[n-1].End.IsZero() {
		rec.Phases[n-1].End = r.now
	}
	rec.Outcome, rec.Reason, rec.Detail = OutcomeDeployed, reason, detail
	rec.Updated = r.now
	r.pending = append(r.pending, rec)
	st.Deployed = &Deployment{
		Build: op.Build, BuildID: op.BuildID, Seq: op.Seq, Metadata: op.Metadata,
		ConfigVersion: op.ConfigVersion, SettingsHash: op.SettingsHash, TaskDefs: op.TaskDefs, At: r.now,
	}
	st.Services = sortedKeys(op.Metadata.Processes)
	st.FailedConfig, st.FailedSettings = "", ""
	st.Op = nil
	if reason != "" {
		r.setPhase(PhaseFailed, op.Build, reason, detail)
	} else {
		r.setPhase(PhaseDeployed, op.Build, "", "")
	}
	r.settled = true
	r.cfg = nil
	r.log.Info("deployed", "build", op.Build, "build_id", op.BuildID, "op", string(op.Kind),
		"duration_ms", r.now.Sub(op.Started).Milliseconds())
	return r.commit(ctx)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
