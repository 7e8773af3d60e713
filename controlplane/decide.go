package controlplane

import (
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/wharf-paas/wharf/contract"
)

// Policy is what Decide knows besides the state and the observation: the
// app's identity and the control plane's timeouts.
type Policy struct {
	Prefix, Account, App, Region string
	StuckAfter                   time.Duration
	ReleaseTimeout               time.Duration
	RolloutTimeout               time.Duration
	// CanStopTasks: the ECS client offers StopTask.
	CanStopTasks bool
	// MaxProcesses, MaxSchedules and MaxCount cap a build (0: no cap).
	MaxProcesses, MaxSchedules, MaxCount int
	// CanAutoscale: the app's clients include Application Auto Scaling.
	CanAutoscale bool
}

// Decision is what Decide returns: the next state, the actions to take
// once it is saved, the deploy records to save with it, and what Decide
// still needs to observe (then nothing else counts: the runner observes
// and asks again).
type Decision struct {
	State   *AppState
	Actions []Action
	Records []*DeployRecord
	Need    Need
	// ActsFor is the step whose finishing actions Actions are (the
	// rollout's finish or the rollback); the runner then sets
	// Observation.Acted for it.
	ActsFor Step
	// Notes are log lines of the decision.
	Notes []Note
}

// Note is one log line of a decision.
type Note struct {
	Level slog.Level
	Msg   string
	Args  []any
}

// decider holds one Decide call.
type decider struct {
	st   *AppState
	obs  *Observation
	now  time.Time
	pol  Policy
	out  Decision
	done bool // a Need or the actions of a step were set: stop
}

// Decide is the control plane's state machine (docs/controlplane.md):
// from the app's state, what AWS says (obs), the time and the policy it
// returns the next state, the AWS actions to take after that state is
// saved, and the deploy records to save with it. It calls nothing and
// changes neither st nor obs.
func Decide(st *AppState, obs *Observation, now time.Time, pol Policy) Decision {
	d := &decider{st: st.clone(), obs: obs, now: now, pol: pol}
	d.decide()
	d.out.State = d.st
	return d.out
}

func (d *decider) note(level slog.Level, msg string, args ...any) {
	d.out.Notes = append(d.out.Notes, Note{Level: level, Msg: msg, Args: args})
}

func (d *decider) need(n Need) {
	d.out.Need = n
	d.done = true
}

func (d *decider) act(a ...Action) {
	d.out.Actions = append(d.out.Actions, a...)
}

func (d *decider) record(r *DeployRecord) {
	d.out.Records = append(d.out.Records, r)
}

func (d *decider) family(proc string) string { return FamilyName(d.pol.Prefix, d.pol.App, proc) }

func (d *decider) decide() {
	if !d.resolveBuilds() {
		return
	}
	switch {
	case d.st.Op == nil:
		d.idle()
	default:
		d.step()
	}
	if d.out.Need.IsZero() {
		d.summarize()
	}
}

// resolveBuilds applies the observed builds to the tracked ones, then
// resolves failed builds and builds older than the newest attempt. It
// reports false when it needs builds observed first.
func (d *decider) resolveBuilds() bool {
	st := d.st
	var ids []string
	for _, b := range st.Builds {
		if !buildDone(b.Status) || b.Number == 0 {
			if _, seen := d.obs.Builds[b.ID]; !seen && !slices.Contains(d.obs.BuildsMissing, b.ID) {
				ids = append(ids, b.ID)
			}
		}
	}
	if len(ids) > 0 {
		d.need(Need{Builds: ids})
		return false
	}
	for i := range st.Builds {
		b := &st.Builds[i]
		if o, ok := d.obs.Builds[b.ID]; ok {
			b.Status, b.Number, b.Location, b.Commit = o.Status, o.Number, o.Location, o.Commit
			b.FailedStep, b.LogGroup, b.LogStream = o.FailedStep, o.LogGroup, o.LogStream
		}
	}
	for _, id := range d.obs.BuildsMissing {
		if slices.ContainsFunc(st.Builds, func(b TrackedBuild) bool { return b.ID == id }) {
			d.note(slog.LevelWarn, "build not found in CodeBuild, forgetting it", "build_id", id)
			st.forget(id)
		}
	}
	sort.SliceStable(st.Builds, func(i, j int) bool { return st.Builds[i].Number < st.Builds[j].Number })
	for _, b := range slices.Clone(st.Builds) {
		switch {
		case b.Number > 0 && b.Number == st.HighWater:
			st.forget(b.ID) // the build in progress or resolved: a late duplicate
		case b.Status == "SUCCEEDED" && b.Number < st.HighWater:
			d.record(d.finalRecord(b, OutcomeSkipped, ReasonSuperseded, fmt.Sprintf("superseded by build %d", st.HighWater)))
			st.forget(b.ID)
		case buildDone(b.Status) && b.Status != "SUCCEEDED":
			reason, detail := buildFailure(b)
			d.record(d.finalRecord(b, OutcomeFailed, reason, detail))
			if st.Op == nil && b.Number >= st.Build {
				d.setPhase(PhaseFailed, b.Number, reason, detail)
			}
			d.note(slog.LevelInfo, "build failed", "build", b.Number, "build_id", b.ID, "reason", string(reason))
			st.forget(b.ID)
		}
	}
	return true
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

func (d *decider) finalRecord(b TrackedBuild, o Outcome, reason Reason, detail string) *DeployRecord {
	return &DeployRecord{
		Account: d.pol.Account, App: d.pol.App, Build: b.Number, BuildID: b.ID, Kind: OpBuild,
		Commit: b.Commit, Outcome: o, Reason: reason, Detail: detail, Created: d.now, Updated: d.now,
	}
}

func (d *decider) setPhase(p Phase, build int64, reason Reason, detail string) {
	st := d.st
	if st.Phase != p || st.Build != build {
		st.PhaseSince = d.now
	}
	st.Phase, st.Build, st.Reason, st.Detail = p, build, reason, detail
}

// summarize sets the building phase when idle and a newer build runs.
func (d *decider) summarize() {
	st := d.st
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
		d.setPhase(PhaseBuilding, newest, "", "")
	}
}

// settings returns the observed settings, asking for them when unseen;
// ok is false when the decision must stop (a Need).
func (d *decider) settings() (*contract.Settings, *permanentError, bool) {
	if !d.obs.SettingsSeen {
		d.need(Need{Settings: true})
		return nil, nil, false
	}
	return d.obs.Settings, d.obs.SettingsErr, true
}

// idle decides for an app without an operation. The first pending of
// these starts (docs/controlplane.md, "Scale, restart and rollback"): a
// rollback request; the newest waiting successful build (skipping older
// ones); a restart request; a restart of the deployed build because its
// configuration, settings or scale setting changed.
func (d *decider) idle() {
	st := d.st
	var cand *TrackedBuild
	for i := range st.Builds {
		b := &st.Builds[i]
		if b.Status == "SUCCEEDED" && b.Number > st.HighWater && (cand == nil || b.Number > cand.Number) {
			cand = b
		}
	}
	run := st.running()
	var rq *requestsObservation
	if cand != nil || (run != nil && d.obs.CheckConfig) {
		var ok bool
		if rq, ok = d.requests(); !ok {
			return
		}
		if d.pendingRollback(rq) {
			if d.startRollback(rq) {
				return
			}
		}
		if st.Deployed == nil && (cand != nil || st.Leftover == nil) && d.pendingRestart(rq) {
			// Nothing deployed (a first deploy, or a lost state) and
			// no failed first deploy's services to restart, or a build
			// that deploys first: a restart written before is not
			// replayed later.
			d.startRestart(rq, nil)
		}
		if cand != nil {
			// The rollback may have superseded it.
			if !slices.ContainsFunc(st.Builds, func(b TrackedBuild) bool { return b.ID == cand.ID }) || cand.Number <= st.HighWater {
				cand = nil
			}
		}
	}
	if cand != nil {
		d.startBuild(*cand, rq)
		return
	}
	if run == nil || !d.obs.CheckConfig {
		return
	}
	if d.pendingRestart(rq) && d.startRestart(rq, run) {
		return
	}
	set, perr, ok := d.settings()
	if !ok {
		return
	}
	if perr != nil {
		d.note(slog.LevelError, "app settings are invalid; configuration not checked", "error", perr.Error())
		return
	}
	if d.obs.Config == nil {
		d.need(Need{Config: true})
		return
	}
	cfg := d.obs.Config
	configChanged := cfg.version != run.ConfigVersion && cfg.version != st.FailedConfig
	sh := settingsHash(set)
	settingsChanged := sh != run.SettingsHash && sh != st.FailedSettings
	sc := d.wantedScale(rq)
	sch := scaleHash(sc)
	if run == st.Deployed && run.ScaleHash == scaleUnknown {
		aligned, ok := d.scaleAligned(set, sc)
		if !ok {
			return
		}
		if aligned {
			dep := *st.Deployed
			dep.ScaleHash, dep.Scale = sch, sc
			st.Deployed = &dep
			run = st.Deployed
		}
	}
	scaleChanged := sch != run.ScaleHash && failedScaleKey(sch) != st.FailedScale
	if !configChanged && !settingsChanged && !scaleChanged {
		return
	}
	kind, why := OpConfig, "configuration changed"
	switch {
	case !configChanged && settingsChanged && run.SettingsHash == "":
		// Adopted services, or state of an older control plane: which
		// settings they run is unknown.
		why = "settings not known to be applied"
	case !configChanged && settingsChanged:
		why = "settings changed"
	case !configChanged && !settingsChanged:
		kind, why = OpScale, "scale changed"
	}
	if run != st.Deployed {
		why += fmt.Sprintf(": retrying build %d, whose deploy failed with nothing to roll back to", run.Build)
	}
	op := d.newRestartOp(kind, sc, why)
	d.note(slog.LevelInfo, why+", restarting services", "build", op.Build, "config_version", cfg.version, "settings", sh, "scale", sch)
}

// startBuild starts the deploy of b (after the adoption check of an app
// this store never deployed).
func (d *decider) startBuild(b TrackedBuild, rq *requestsObservation) {
	st := d.st
	mr, ok := d.obs.Metadata[b.ID]
	if !ok {
		d.need(Need{Metadata: &b})
		return
	}
	if mr.Err != nil {
		d.note(slog.LevelError, "build cannot be deployed", "build", b.Number, "build_id", b.ID, "reason", string(mr.Err.reason), "error", mr.Err.Error())
		d.skipOlder(b.Number, fmt.Sprintf("superseded by build %d", b.Number))
		st.HighWater = b.Number
		d.record(d.finalRecord(b, OutcomeFailed, mr.Err.reason, mr.Err.Error()))
		st.forget(b.ID)
		d.setPhase(PhaseFailed, b.Number, mr.Err.reason, mr.Err.Error())
		return
	}
	meta := mr.Meta
	set, _, ok := d.settings()
	if !ok {
		return
	}
	if err := d.pol.refuse(meta, set); err != "" {
		d.note(slog.LevelError, "build refused", "build", b.Number, "build_id", b.ID, "reason", string(ReasonBuildRefused), "error", err)
		d.skipOlder(b.Number, fmt.Sprintf("superseded by build %d", b.Number))
		st.HighWater = b.Number
		d.record(d.finalRecord(b, OutcomeFailed, ReasonBuildRefused, err))
		st.forget(b.ID)
		d.setPhase(PhaseFailed, b.Number, ReasonBuildRefused, err)
		return
	}
	skipRelease := false
	if st.HighWater == 0 && st.Deployed == nil {
		// The first deploy this store starts: the app's services may
		// already run (the state was lost).
		action, skip := d.adopt(b, meta)
		switch action {
		case adoptWait, adoptDone:
			return
		}
		skipRelease = skip
	}
	d.skipOlder(b.Number, fmt.Sprintf("superseded by build %d", b.Number))
	st.HighWater = b.Number
	st.forget(b.ID)
	sc := d.wantedScale(rq)
	op := &Operation{
		Kind: OpBuild, Build: b.Number, BuildID: b.ID, Step: StepRegister,
		StepSince: d.now, Started: d.now, Metadata: meta, SkipRelease: skipRelease,
		Scale: sc, ScaleHash: scaleHash(sc),
	}
	op.Record = &DeployRecord{
		Account: d.pol.Account, App: d.pol.App, Build: b.Number, BuildID: b.ID, Kind: OpBuild,
		Commit: meta.Commit, Created: d.now,
		Phases: []PhaseRecord{{Name: string(StepRegister), Start: d.now}},
	}
	st.Op = op
	phase := PhaseDeploying
	if meta.ReleaseCommand != "" && !skipRelease {
		phase = PhaseReleasing
	}
	d.setPhase(phase, b.Number, "", "")
	d.note(slog.LevelInfo, "deploy started", "build", b.Number, "build_id", b.ID,
		"release", meta.ReleaseCommand != "" && !skipRelease, "processes", len(meta.Processes))
}

// skipOlder resolves waiting successful builds older than n as skipped.
func (d *decider) skipOlder(n int64, detail string) {
	for _, b := range slices.Clone(d.st.Builds) {
		if b.Status == "SUCCEEDED" && b.Number < n {
			d.record(d.finalRecord(b, OutcomeSkipped, ReasonSuperseded, detail))
			d.note(slog.LevelInfo, "build skipped", "build", b.Number, "build_id", b.ID, "newer", n)
			d.st.forget(b.ID)
		}
	}
}

// step decides the operation's current step.
func (d *decider) step() {
	switch d.st.Op.Step {
	case StepRegister:
		d.stepRegister()
	case StepRelease:
		d.stepRelease()
	case StepServices:
		d.stepServices()
	case StepRollout:
		d.stepRollout()
	case StepRollback:
		d.stepRollback()
	default:
		d.note(slog.LevelError, "operation step is unknown", "step", string(d.st.Op.Step))
	}
}

// advance moves the operation to the next step.
func (d *decider) advance(next Step) {
	op := d.st.Op
	rec := op.Record
	if n := len(rec.Phases); n > 0 && rec.Phases[n-1].End.IsZero() {
		rec.Phases[n-1].End = d.now
	}
	rec.Phases = append(rec.Phases, PhaseRecord{Name: string(next), Start: d.now})
	op.Step, op.StepSince = next, d.now
	if next == StepServices || next == StepRollout {
		d.setPhase(PhaseDeploying, op.Build, "", d.st.Detail)
	}
}

// fail fails the operation. When it already changed services, it moves to
// StepRollback (saved before any rollback call), so the app ends on one
// build; otherwise it ends the operation.
func (d *decider) fail(reason Reason, detail string) {
	op := d.st.Op
	if len(op.Updated) > 0 && (op.Step == StepServices || op.Step == StepRollout) {
		op.FailReason, op.FailDetail = reason, detail
		d.note(slog.LevelWarn, "deploy failed, rolling services back", "build", op.Build, "build_id", op.BuildID,
			"reason", string(reason), "detail", detail)
		d.advance(StepRollback)
		return
	}
	d.endFailed(reason, detail)
}

// closeRecord ends the operation's deploy record with outcome: the open
// phase ends now, and the record is emitted.
func (d *decider) closeRecord(outcome Outcome, reason Reason, detail string) {
	rec := d.st.Op.Record
	if n := len(rec.Phases); n > 0 && rec.Phases[n-1].End.IsZero() {
		rec.Phases[n-1].End = d.now
	}
	rec.Outcome, rec.Reason = outcome, reason
	if detail != "" || outcome != OutcomeDeployed {
		// A deployed record keeps the detail it was opened with (a
		// restart's or rollback's request).
		rec.Detail = detail
	}
	rec.Updated = d.now
	d.record(rec)
}

// endFailed ends the operation with a failure.
func (d *decider) endFailed(reason Reason, detail string) {
	st := d.st
	op := st.Op
	d.closeRecord(OutcomeFailed, reason, detail)
	switch op.Kind {
	case OpConfig:
		st.FailedConfig = op.ConfigVersion
		st.FailedSettings = op.SettingsHash
	case OpScale:
		st.FailedScale = failedScaleKey(op.ScaleHash)
	}
	st.Op = nil
	d.setPhase(PhaseFailed, op.Build, reason, detail)
	d.note(slog.LevelWarn, "deploy failed", "build", op.Build, "build_id", op.BuildID, "op", string(op.Kind),
		"reason", string(reason), "detail", detail)
}

// succeed ends the operation: the services run its task definitions. A
// non-empty reason (a rejected schedule) marks the app failed all the same.
func (d *decider) succeed(reason Reason, detail string) {
	st := d.st
	op := st.Op
	d.closeRecord(OutcomeDeployed, reason, detail)
	first := st.Deployed == nil
	st.Deployed = &Deployment{
		Build: op.Build, BuildID: op.BuildID, Seq: op.Seq, Metadata: op.Metadata,
		ConfigVersion: op.ConfigVersion, SettingsHash: op.SettingsHash, TaskDefs: op.TaskDefs, At: d.now,
		ScaleHash: op.ScaleHash, Scale: op.Scale, Kind: op.Kind,
	}
	if op.Kind == OpBuild || op.Kind == OpRollback || first {
		// A build the services now run for the first time (a restart
		// that retried a failed first deploy included) is one a rollback
		// can go back to.
		st.remember(st.Deployed)
	}
	st.Leftover = nil
	st.Services = sortedKeys(op.Metadata.Processes)
	st.FailedConfig, st.FailedSettings, st.FailedScale = "", "", ""
	st.Op = nil
	if reason != "" {
		d.setPhase(PhaseFailed, op.Build, reason, detail)
	} else {
		d.setPhase(PhaseDeployed, op.Build, "", "")
	}
	d.note(slog.LevelInfo, "deployed", "build", op.Build, "build_id", op.BuildID, "op", string(op.Kind),
		"duration_ms", d.now.Sub(op.Started).Milliseconds())
}

// opSettings returns the settings for a step; invalid settings fail the
// operation. ok is false when the decision stops there.
func (d *decider) opSettings() (*contract.Settings, bool) {
	set, perr, ok := d.settings()
	if !ok {
		return nil, false
	}
	if perr != nil {
		d.fail(perr.reason, perr.Error())
		return nil, false
	}
	return set, true
}

// failed handles a call rejected for good: the operation fails with its
// reason. It reports whether there was one.
func (d *decider) failed() bool {
	if f := d.obs.Failure; f != nil {
		d.fail(f.reason, f.Error())
		return true
	}
	return false
}

// stepRegister registers (or finds) the task definitions of every process
// type and of the release family, with the current config version.
func (d *decider) stepRegister() {
	if d.failed() {
		return
	}
	op := d.st.Op
	set, ok := d.opSettings()
	if !ok {
		return
	}
	if d.obs.Config == nil {
		d.need(Need{Config: true})
		return
	}
	cfg := d.obs.Config
	m := op.Metadata
	procs := sortedKeys(m.Processes)
	if m.ReleaseCommand != "" || len(m.Schedules) > 0 {
		procs = append(procs, contract.ReleaseProcess)
	}
	var families []string
	for _, p := range procs {
		families = append(families, d.family(p))
	}
	if missing := unseen(families, d.obs.TaskDefs); len(missing) > 0 {
		d.need(Need{TaskDefs: missing})
		return
	}
	defs := make(map[string]string, len(procs))
	var regs []Action
	for _, proc := range procs {
		in := taskDefInput(d.pol, set, op, cfg, proc)
		hash := taskDefHash(in)
		cur := d.obs.TaskDefs[d.family(proc)]
		if cur.Active && cur.Hash == hash {
			defs[proc] = cur.ARN
			continue
		}
		regs = append(regs, registerAction(d.pol, in, hash, op.Build))
	}
	if len(regs) > 0 {
		d.act(regs...)
		return
	}
	op.TaskDefs = defs
	op.ConfigVersion = cfg.version
	op.SettingsHash = settingsHash(set)
	op.Record.TaskDefinitions = defs
	op.Record.ConfigVersion = cfg.version
	next := StepServices
	if op.Kind == OpBuild && m.ReleaseCommand != "" && !op.SkipRelease {
		next = StepRelease
	}
	d.advance(next)
}

// stepRelease starts the release task (one per app at a time) and waits
// for it to stop; success only on EssentialContainerExited with exit code
// 0 from the release container.
func (d *decider) stepRelease() {
	if d.failed() {
		return
	}
	st, op := d.st, d.st.Op
	set, ok := d.opSettings()
	if !ok {
		return
	}
	if op.ReleaseTask == "" {
		startedBy := ReleaseStartedBy(op.Build)
		if st.LastRelease != "" {
			t, seen := d.obs.Tasks[st.LastRelease]
			if !seen {
				d.need(Need{Tasks: []string{st.LastRelease}})
				return
			}
			if t != nil && aws.ToString(t.StartedBy) != startedBy && aws.ToString(t.LastStatus) != "STOPPED" {
				d.note(slog.LevelInfo, "waiting for the previous release task to stop", "build", op.Build, "task", st.LastRelease)
				// Stopped when its operation timed out; asked again once
				// this step has waited StuckAfter.
				if d.pol.CanStopTasks && d.now.Sub(op.StepSince) >= d.pol.StuckAfter {
					d.act(stopTaskAction(set.ClusterARN, st.LastRelease, "wharf: superseded release"))
				}
				d.done = true
				return
			}
			if t == nil && !st.LastReleaseAt.IsZero() && d.now.Sub(st.LastReleaseAt) < TaskVisibleWithin {
				// Recorded and maybe not visible yet: never a second
				// release while it may still run.
				d.note(slog.LevelInfo, "previous release task not visible yet", "build", op.Build, "task", st.LastRelease)
				d.done = true
				return
			}
			if t == nil || aws.ToString(t.StartedBy) != startedBy {
				st.LastRelease, st.LastReleaseAt = "", time.Time{}
			}
		}
		arn := ""
		if t := d.obs.Ran; t != nil {
			arn = aws.ToString(t.TaskArn)
			d.note(slog.LevelInfo, "release task started", "build", op.Build, "task", arn)
		} else {
			if !d.obs.ReleaseTasksSeen {
				d.need(Need{ReleaseTasks: true})
				return
			}
			family := d.family(contract.ReleaseProcess)
			for _, t := range d.obs.ReleaseTasks {
				if aws.ToString(t.StartedBy) == startedBy && aws.ToString(t.Group) == "family:"+family {
					arn = aws.ToString(t.TaskArn)
					d.note(slog.LevelInfo, "release task found", "build", op.Build, "task", arn)
					break
				}
			}
			if arn == "" {
				d.act(runTaskAction(d.pol, set, op))
				return
			}
		}
		op.ReleaseTask, op.Record.ReleaseTask = arn, arn
		st.LastRelease, st.LastReleaseAt = arn, d.now
		// The release timeout counts from the start of the task, not from
		// the wait for a previous release to stop.
		op.StepSince = d.now
		return
	}
	t, seen := d.obs.Tasks[op.ReleaseTask]
	if !seen {
		d.need(Need{Tasks: []string{op.ReleaseTask}})
		return
	}
	if t == nil && d.now.Sub(op.StepSince) < TaskVisibleWithin {
		// Started by this operation (the ARN is RunTask's answer) and not
		// visible yet: ECS is eventually consistent ("might not be
		// immediately visible to all subsequent commands you run").
		d.note(slog.LevelInfo, "release task not visible yet", "build", op.Build, "task", op.ReleaseTask)
		d.done = true
		return
	}
	if t == nil {
		st.LastRelease, st.LastReleaseAt = "", time.Time{}
		d.fail(ReasonReleaseLost, fmt.Sprintf("ECS does not know release task %s", op.ReleaseTask))
		return
	}
	if aws.ToString(t.LastStatus) != "STOPPED" {
		if d.now.Sub(op.StepSince) >= d.pol.ReleaseTimeout {
			if d.pol.CanStopTasks {
				d.act(stopTaskAction(set.ClusterARN, op.ReleaseTask, "wharf: release timed out"))
			} else {
				d.note(slog.LevelWarn, "ECS client cannot stop tasks; the task keeps running", "task", op.ReleaseTask)
			}
			d.fail(ReasonReleaseTimedOut, fmt.Sprintf("release task %s still %s after %s",
				op.ReleaseTask, aws.ToString(t.LastStatus), d.pol.ReleaseTimeout))
		}
		return
	}
	st.LastRelease, st.LastReleaseAt = "", time.Time{}
	okRelease, reason, detail := releaseOutcome(t)
	if !okRelease {
		d.fail(reason, detail)
		return
	}
	d.note(slog.LevelInfo, "release succeeded", "build", op.Build, "task", op.ReleaseTask)
	d.advance(StepServices)
}

// stepServices creates missing services and updates the fields of
// existing ones that differ from their desired spec. A launch type change
// deletes the service (the intent, Operation.Recreate, is in the state
// saved before the call) and creates it once ECS lets the name go.
func (d *decider) stepServices() {
	op := d.st.Op
	if set, perr, ok := d.settings(); ok && perr == nil && op.SettingsHash != "" && settingsHash(set) != op.SettingsHash {
		// The settings changed since the task definitions were registered:
		// a new container port or launch type needs new revisions (ECS
		// refuses a service whose task definition lacks them), so the
		// operation registers again before it touches more services. A
		// rejection caused by the change is not the build's failure.
		for _, proc := range sortedKeys(op.Metadata.Processes) {
			if a, ok := d.obs.ServiceAnswers[proc]; ok {
				op.recordDeployment(proc, a.Service, a.Before)
				op.Recreate = slices.DeleteFunc(op.Recreate, func(p string) bool { return p == proc && a.Before == nil })
				d.manage(proc)
			}
		}
		d.note(slog.LevelInfo, "settings changed since the task definitions were registered; registering again",
			"build", op.Build, "settings", settingsHash(set))
		d.advance(StepRegister)
		return
	}
	if d.failed() {
		return
	}
	set, ok := d.opSettings()
	if !ok {
		return
	}
	procs := sortedKeys(op.Metadata.Processes)
	if missing := d.obs.missingServices(procs); len(missing) > 0 {
		d.need(Need{Services: missing})
		return
	}
	waiting := false
	var acts []Action
	for _, proc := range procs {
		if a, ok := d.obs.ServiceAnswers[proc]; ok {
			op.recordDeployment(proc, a.Service, a.Before)
			op.Recreate = slices.DeleteFunc(op.Recreate, func(p string) bool { return p == proc && a.Before == nil })
			d.manage(proc)
			continue
		}
		s := d.obs.Services[proc]
		e := effectiveScale(op.Metadata.Processes[proc], op.Scale, proc)
		want := desiredServiceSpec(set, proc, op.TaskDefs[proc], e.Count)
		want.Autoscaled = e.Autoscaled
		switch {
		case d.obs.Deleted[proc]:
			waiting = true
		case s == nil && d.obs.NameInUse[proc]:
			// ECS refused this name moments ago although no service of
			// it shows: a later reconcile (an event, or the sweep) reads
			// it again, rather than a loop of CreateService here.
			d.note(slog.LevelWarn, "service name still in use; waiting", "build", op.Build, "process", proc)
			waiting = true
		case s == nil:
			acts = append(acts, createServiceAction(d.pol, set, op, proc, want))
		case aws.ToString(s.Status) == "DRAINING":
			if slices.Contains(op.Recreate, proc) {
				d.note(slog.LevelInfo, "waiting for the replaced service to drain", "build", op.Build, "process", proc)
				waiting = true
				continue
			}
			d.note(slog.LevelWarn, "service is draining; waiting", "build", op.Build, "service", aws.ToString(s.ServiceName))
			waiting = true
		case op.Deployments[proc] != "" && !visibleAfter(s, op.Deployments[proc], op.Prior[proc]):
			// Updated by this operation, and the read is from before
			// the update (ECS is eventually consistent): nothing to do.
			d.manage(proc)
		default:
			fields := want.diff(observedServiceSpec(s))
			if slices.Contains(op.Force, proc) && op.Deployments[proc] == "" && !needsRecreate(fields) {
				// A restart: one new deployment, even when nothing differs.
				if a, wait := d.forceDeployment(set, proc, want, fields, s); a != nil {
					acts = append(acts, *a)
				} else if wait {
					waiting = true
				} else {
					d.manage(proc)
				}
				continue
			}
			switch {
			case len(fields) == 0:
				// Already there (a retry, or nothing changed): the
				// rollout is judged from the deployment that runs it.
				if op.Deployments[proc] == "" {
					op.recordDeployment(proc, s, s)
				}
				d.manage(proc)
			case needsRecreate(fields):
				if !slices.Contains(op.Recreate, proc) {
					op.Recreate = append(op.Recreate, proc)
				}
				d.note(slog.LevelWarn, "service launch type changed: replacing the service", "build", op.Build, "process", proc,
					"from", string(s.LaunchType), "to", want.LaunchType)
				acts = append(acts, deleteServiceAction(set.ClusterARN, d.family(proc), proc, false))
				waiting = true
			default:
				acts = append(acts, updateServiceAction(set, d.family(proc), proc, want, fields, s))
			}
		}
	}
	if len(acts) > 0 {
		d.act(acts...)
		return
	}
	if waiting {
		d.done = true
		return
	}
	d.advance(StepRollout)
}

// forceDeployment asks for the one new deployment a restart makes of
// proc's service (UpdateService forceNewDeployment, with any differing
// fields). The deployments the service had are saved with the intent
// (Operation.ForcePrior) before the call, so a repeat after a lost answer
// finds the deployment the first call made instead of making another;
// a read that shows only those may be from before the call (ECS is
// eventually consistent), so a second call waits TaskVisibleWithin. It
// returns the action, or wait, or neither when the deployment was found
// (then it is recorded as the operation's).
func (d *decider) forceDeployment(set *contract.Settings, proc string, want serviceSpec, fields []string, s *ecstypes.Service) (*Action, bool) {
	op := d.st.Op
	if prior, asked := op.ForcePrior[proc]; asked {
		for _, id := range deploymentIDs(s) {
			if !slices.Contains(prior, id) {
				op.setDeployment(proc, id, prior)
				return nil, false
			}
		}
		if d.now.Sub(op.ForceAt) < TaskVisibleWithin {
			d.note(slog.LevelInfo, "restart deployment not visible yet", "build", op.Build, "process", proc)
			return nil, true
		}
	}
	fp := make(map[string][]string, len(op.ForcePrior)+1)
	for k, v := range op.ForcePrior {
		fp[k] = v
	}
	fp[proc] = append([]string{}, deploymentIDs(s)...)
	op.ForcePrior, op.ForceAt = fp, d.now
	a := updateServiceAction(set, d.family(proc), proc, want, fields, s)
	a.UpdateService.ForceNewDeployment = true
	return &a, false
}

// manage marks proc's service as changed by the operation and managed.
func (d *decider) manage(proc string) {
	op, st := d.st.Op, d.st
	if !slices.Contains(op.Updated, proc) {
		op.Updated = append(op.Updated, proc)
	}
	if !slices.Contains(st.Services, proc) {
		st.Services = append(st.Services, proc)
		slices.Sort(st.Services)
	}
}

// stepRollout waits until every service's own deployment completed; a
// failed deployment or a rollback fails the operation. Then it aligns the
// schedule rules, deletes services of removed process types and ends the
// operation.
func (d *decider) stepRollout() {
	op := d.st.Op
	if f := d.obs.Failure; f != nil && d.obs.Acted[StepRollout] {
		// A rejected schedule does not undo the deploy: the services run
		// the new build; it is the outcome's reason.
		d.succeed(f.reason, f.Error())
		return
	}
	if d.failed() {
		return
	}
	if d.obs.Acted[StepRollout] {
		d.succeed("", "")
		return
	}
	set, ok := d.opSettings()
	if !ok {
		return
	}
	procs := sortedKeys(op.Metadata.Processes)
	if missing := d.obs.missingServices(procs); len(missing) > 0 {
		d.need(Need{Services: missing})
		return
	}
	pending := ""
	for _, proc := range procs {
		s := d.obs.Services[proc]
		if s == nil && op.Deployments[proc] != "" && d.now.Sub(op.StepSince) < TaskVisibleWithin {
			// Our own Create/UpdateService answered for it: a read that
			// does not show it yet lags behind that write (a command's
			// result "might not be immediately visible to all subsequent
			// commands you run", ECS API reference). Wait for it.
			d.note(slog.LevelInfo, "service not visible yet", "build", op.Build, "process", proc)
			pending = proc
			continue
		}
		if s == nil {
			// Deleted behind our back: create it again.
			d.note(slog.LevelWarn, "service disappeared during rollout, recreating", "build", op.Build, "process", proc)
			op.Updated = slices.DeleteFunc(op.Updated, func(p string) bool { return p == proc })
			d.advance(StepServices)
			return
		}
		verdict, detail := judgeRollout(s, op.TaskDefs[proc], op.Deployments[proc], op.Prior[proc])
		switch verdict {
		case rolloutRolledBack:
			d.fail(ReasonDeploymentRolledBack, detail)
			return
		case rolloutFailed:
			d.fail(ReasonDeploymentFailed, detail)
			return
		case rolloutPending:
			pending = proc
			if dep := primary(s); dep != nil && strings.Contains(aws.ToString(dep.RolloutStateReason), "circuit breaker") {
				d.note(slog.LevelInfo, "circuit breaker engaged", "build", op.Build, "process", proc, "reason", aws.ToString(dep.RolloutStateReason))
			}
		}
	}
	if pending != "" {
		if d.now.Sub(op.StepSince) >= d.pol.RolloutTimeout {
			d.fail(ReasonDeploymentTimedOut, fmt.Sprintf("service %s did not settle within %s", d.family(pending), d.pol.RolloutTimeout))
		}
		return
	}
	acts, ok := d.scheduleActions(set, op)
	if !ok {
		return
	}
	scaling, ok := d.scalingActions(set, op)
	if !ok {
		return
	}
	acts = append(acts, scaling...)
	for _, proc := range d.st.Services {
		if _, keep := op.Metadata.Processes[proc]; !keep {
			acts = append(acts, deleteServiceAction(set.ClusterARN, d.family(proc), proc, true))
		}
	}
	if len(acts) == 0 {
		d.succeed("", "")
		return
	}
	d.act(acts...)
	d.out.ActsFor = StepRollout
}

// stepRollback puts every service the failed operation created or updated
// back on the deployed build's task definition and count, deletes services
// of processes the deployed build does not have, and ends the operation
// as failed. Services already back (the circuit breaker's rollback) cost
// no call.
func (d *decider) stepRollback() {
	st, op := d.st, d.st.Op
	if d.obs.Acted[StepRollback] {
		for proc := range d.obs.Deleted {
			st.Services = slices.DeleteFunc(st.Services, func(p string) bool { return p == proc })
		}
		d.endFailed(op.FailReason, op.FailDetail)
		return
	}
	set, perr, ok := d.settings()
	if !ok {
		return
	}
	if perr != nil {
		d.endFailed(op.FailReason, op.FailDetail)
		return
	}
	dep := st.Deployed
	if dep == nil && st.Adopted != nil && len(st.Adopted.TaskDefs) > 0 {
		// Nothing deployed by this store, but the app was adopted with
		// its services running: they go back to what they ran then.
		dep = &Deployment{TaskDefs: st.Adopted.TaskDefs, Metadata: &contract.BuildMetadata{Processes: map[string]contract.Process{}}, ScaleHash: scaleUnknown}
		for proc, n := range st.Adopted.Counts {
			dep.Metadata.Processes[proc] = contract.Process{Count: &n}
		}
	}
	var acts []Action
	if dep == nil {
		// Nothing was ever deployed: there is no build to go back to. The
		// failed build's services stay (as ECS left them), and the state
		// keeps what they run (Leftover), so a configuration, settings or
		// scale change reaches them by retrying it; services of processes
		// it does not declare, left over from earlier failed deploys, are
		// deleted so the app runs one build.
		st.Leftover = &Deployment{
			Build: op.Build, BuildID: op.BuildID, Seq: op.Seq, Metadata: op.Metadata,
			ConfigVersion: op.ConfigVersion, SettingsHash: op.SettingsHash, TaskDefs: op.TaskDefs, At: d.now,
			ScaleHash: op.ScaleHash, Scale: op.Scale, Kind: op.Kind,
		}
		for _, proc := range st.Services {
			if _, keep := op.Metadata.Processes[proc]; !keep {
				acts = append(acts, deleteServiceAction(set.ClusterARN, d.family(proc), proc, true))
			}
		}
	} else {
		procs := slices.Clone(op.Updated)
		slices.Sort(procs)
		if missing := d.obs.missingServices(procs); len(missing) > 0 {
			d.need(Need{Services: missing})
			return
		}
		for _, proc := range procs {
			s := d.obs.Services[proc]
			if s == nil {
				continue
			}
			want, ok := dep.TaskDefs[proc]
			if !ok || dep.Metadata == nil {
				acts = append(acts, deleteServiceAction(set.ClusterARN, d.family(proc), proc, true))
				continue
			}
			// The deployed scale, unless unknown (adopted after a state
			// loss): then the operation's, the setting as last read. A
			// process autoscaled under either is Application Auto
			// Scaling's: its count is left alone.
			sc := dep.Scale
			if dep.ScaleHash == scaleUnknown {
				sc = op.Scale
			}
			e := effectiveScale(dep.Metadata.Processes[proc], sc, proc)
			e.Autoscaled = e.Autoscaled || effectiveScale(dep.Metadata.Processes[proc], op.Scale, proc).Autoscaled
			count := e.Count
			if e.Autoscaled {
				count = -1
			}
			// Already back (the circuit breaker's rollback), unless the
			// read is from before this operation's update: then it
			// shows the deployed build although ECS runs the failed one.
			ours := op.Deployments[proc]
			if primaryTaskDef(s) == want && (e.Autoscaled || s.DesiredCount == count) && (ours == "" || visibleAfter(s, ours, op.Prior[proc])) {
				continue
			}
			acts = append(acts, rollbackServiceAction(set, d.family(proc), proc, want, count))
		}
	}
	if len(acts) == 0 {
		d.endFailed(op.FailReason, op.FailDetail)
		return
	}
	d.act(acts...)
	d.out.ActsFor = StepRollback
}

// clone copies the state deeply enough that a decision never changes the
// caller's: everything Decide writes to is copied; the build metadata, the
// adoption, the deployment and the leftover, which it replaces but never
// changes, are shared.
func (st *AppState) clone() *AppState {
	c := *st
	c.Builds = slices.Clone(st.Builds)
	c.Services = slices.Clone(st.Services)
	c.Known = slices.Clone(st.Known)
	if st.Op != nil {
		// TaskDefs, Deployments, Prior and the record's TaskDefinitions
		// are only ever replaced whole (recordDeployment copies on
		// write), so they are shared.
		op := *st.Op
		op.Updated = slices.Clone(st.Op.Updated)
		op.Recreate = slices.Clone(st.Op.Recreate)
		if st.Op.Record != nil {
			rec := *st.Op.Record
			rec.Phases = slices.Clone(st.Op.Record.Phases)
			op.Record = &rec
		}
		c.Op = &op
	}
	return &c
}

// forget drops a tracked build and remembers its ID as resolved.
func (st *AppState) forget(id string) {
	st.Builds = slices.DeleteFunc(st.Builds, func(b TrackedBuild) bool { return b.ID == id })
	if !slices.Contains(st.Known, id) {
		st.Known = append(st.Known, id)
		if len(st.Known) > knownBuildsKept {
			st.Known = st.Known[len(st.Known)-knownBuildsKept:]
		}
	}
}

// buildNumberOfRelease reads the build number of a release task's
// startedBy (0 when it is not one).
func buildNumberOfRelease(t ecstypes.Task) int64 {
	n, _ := contract.ParseReleaseStartedBy(aws.ToString(t.StartedBy))
	return n
}
