package controlplane

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/wharf-paas/wharf/contract"
)

// Runtime requests (docs/controlplane.md, "Scale, restart and rollback"):
// the scale setting, the restart request and the rollback request the
// app's users write as parameters under the app's path. The runner reads
// them (observe); Decide applies them. Precedence and order:
//
//   - effective scale of a process = the scale setting's values for it
//     over the build's declared ones (a field left zero keeps the build's);
//     a process the build does not declare is ignored;
//   - an idle app applies, in this order, the first that is pending: a
//     rollback request, the newest waiting successful build, a restart
//     request, then a changed configuration, settings or scale setting.
//     Requests that arrive during an operation wait for it to end and are
//     then taken in that order; every operation applies the scale setting
//     current when it starts, so a scale change during a deploy costs no
//     second operation unless it changed again later.

// requestsObservation is what the three request parameters hold (nil: the
// parameter does not exist); an *Err is a document that does not parse,
// *Raw a hash of its text (a bad document is refused once).
type requestsObservation struct {
	Scale       *contract.ScaleSetting
	ScaleErr    error
	ScaleRaw    string
	Restart     *contract.RestartRequest
	RestartErr  error
	RestartRaw  string
	Rollback    *contract.RollbackRequest
	RollbackErr error
	RollbackRaw string
}

// Request kinds (Refusal.Request).
const (
	requestScale    = "scale"
	requestRestart  = "restart"
	requestRollback = "rollback"
)

// procScale is the effective scale of one process.
type procScale struct {
	Count                int32
	Autoscaled           bool
	Min, Max             int32
	CPUTarget, ReqTarget int32
	CPU, Memory          int32
	FromScale            bool
}

// effectiveScale is the scale of proc: the scale setting over the build's
// declared values. A field the setting leaves zero keeps the build's.
func effectiveScale(p contract.Process, sc *contract.ScaleSetting, proc string) procScale {
	e := procScale{Count: p.DesiredCount(), CPU: p.CPU, Memory: p.Memory}
	if sc == nil {
		return e
	}
	s, ok := sc.Processes[proc]
	if !ok {
		return e
	}
	e.FromScale = true
	switch {
	case s.Count != nil:
		e.Count = *s.Count
	case s.Autoscaled():
		e.Autoscaled, e.Min, e.Max = true, s.Min, s.Max
		e.Count = s.Min
		e.CPUTarget, e.ReqTarget = s.CPUTarget, s.RequestsPerTarget
		if e.CPUTarget == 0 && e.ReqTarget == 0 {
			e.CPUTarget = contract.DefaultCPUTarget
		}
	}
	if s.CPU != 0 {
		e.CPU, e.Memory = s.CPU, s.Memory
	}
	return e
}

// scaleUnknown is the ScaleHash of an adopted deployment: no scale
// setting hashes to it, so the next check runs a scale operation.
const scaleUnknown = "unknown"

// failedScaleKey is what AppState.FailedScale holds for a scale hash ("no
// scale setting" is "none", so a failed reset is not retried either).
func failedScaleKey(h string) string {
	if h == "" {
		return "none"
	}
	return h
}

// scaleHash identifies a scale setting ("" for none, so state written
// before scale settings existed needs no operation). The informational
// fields do not count.
func scaleHash(sc *contract.ScaleSetting) string {
	if sc == nil || len(sc.Processes) == 0 {
		return ""
	}
	b, _ := json.Marshal(sc.Processes)
	return token(16, string(b))
}

// requests returns the observed requests, asking for them when unread.
func (d *decider) requests() (*requestsObservation, bool) {
	if d.obs.Requests == nil {
		d.need(Need{Requests: true})
		return nil, false
	}
	return d.obs.Requests, true
}

// refuse records that a request was not applied (once per ID or hash).
func (d *decider) refuseRequest(kind, id, hash string, reason Reason, detail string) {
	st := d.st
	for _, r := range st.Refusals {
		if r.Request == kind && r.ID == id && r.Hash == hash && r.Reason == reason {
			return
		}
	}
	st.Refusals = slices.DeleteFunc(slices.Clone(st.Refusals), func(r Refusal) bool { return r.Request == kind })
	st.Refusals = append(st.Refusals, Refusal{Request: kind, ID: id, Hash: hash, Reason: reason, Detail: detail, At: d.now})
	slices.SortFunc(st.Refusals, func(a, b Refusal) int { return strings.Compare(a.Request, b.Request) })
	d.note(slog.LevelWarn, "runtime request refused", "request", kind, "id", id, "reason", string(reason), "detail", detail)
}

// clearRefusal drops the refusal of a request kind once one is applied.
func (d *decider) clearRefusal(kind string) {
	if slices.ContainsFunc(d.st.Refusals, func(r Refusal) bool { return r.Request == kind }) {
		d.st.Refusals = slices.DeleteFunc(slices.Clone(d.st.Refusals), func(r Refusal) bool { return r.Request == kind })
	}
}

// wantedScale is the scale setting a new operation applies: the observed
// one when it is valid and within the control plane's caps, otherwise
// the one the services run (the refusal is recorded). rq may be nil (not
// read): then the services' one.
func (d *decider) wantedScale(rq *requestsObservation) *contract.ScaleSetting {
	var cur *contract.ScaleSetting
	if run := d.st.running(); run != nil {
		cur = run.Scale
	}
	if rq == nil {
		return cur
	}
	if rq.ScaleErr != nil {
		d.refuseRequest(requestScale, "", rq.ScaleRaw, ReasonRequestInvalid, rq.ScaleErr.Error())
		return cur
	}
	sc := rq.Scale
	if sc == nil || len(sc.Processes) == 0 {
		d.clearRefusal(requestScale)
		return nil
	}
	h := scaleHash(sc)
	if why := d.pol.refuseScale(sc); why != "" {
		d.refuseRequest(requestScale, "", h, ReasonScaleRefused, why)
		return cur
	}
	d.clearRefusal(requestScale)
	return sc
}

// refuseScale says why a scale setting breaks the control plane's policy:
// a count or maximum above MaxCount, or a range without Application Auto
// Scaling.
func (pol Policy) refuseScale(sc *contract.ScaleSetting) string {
	for _, name := range sortedKeys(sc.Processes) {
		p := sc.Processes[name]
		f := "scale.processes." + name
		switch {
		case pol.MaxCount > 0 && p.Count != nil && int(*p.Count) > pol.MaxCount:
			return fmt.Sprintf("%s.count: at most %d (the control plane's MaxCount), got %d", f, pol.MaxCount, *p.Count)
		case pol.MaxCount > 0 && int(p.Max) > pol.MaxCount:
			return fmt.Sprintf("%s.max: at most %d (the control plane's MaxCount), got %d", f, pol.MaxCount, p.Max)
		case p.Autoscaled() && !pol.CanAutoscale:
			return fmt.Sprintf("%s: autoscaling ranges need Application Auto Scaling, which this control plane has no client for", f)
		case p.RequestsPerTarget > 0 && name != "web":
			return fmt.Sprintf("%s.requestsPerTarget: only the web process is behind the load balancer", f)
		}
	}
	return ""
}

// newRestartOp starts an operation that deploys the deployed build again
// (configuration, settings or scale change, restart request): its task
// definitions are registered again (the same revisions when nothing in
// them changed) and the services updated; no release command runs.
func (d *decider) newRestartOp(kind OpKind, sc *contract.ScaleSetting, detail string) *Operation {
	st := d.st
	st.NextSeq++
	dep := st.running()
	op := &Operation{
		Kind: kind, Build: dep.Build, BuildID: dep.BuildID, Seq: st.NextSeq, Step: StepRegister,
		StepSince: d.now, Started: d.now, Metadata: dep.Metadata, Scale: sc, ScaleHash: scaleHash(sc),
	}
	op.Record = &DeployRecord{
		Account: d.pol.Account, App: d.pol.App, Build: dep.Build, BuildID: dep.BuildID, Kind: kind,
		Seq: op.Seq, Commit: dep.Metadata.Commit, Created: d.now, Detail: detail,
		Phases: []PhaseRecord{{Name: string(StepRegister), Start: d.now}},
	}
	if st.HighWater > dep.Build {
		// The deployed build is older than the newest attempt (a
		// rollback, or newer builds that failed): the record sorts after
		// that attempt's, where it happened.
		op.Record.SortAfter = st.HighWater
	}
	st.Op = op
	d.setPhase(PhaseDeploying, dep.Build, "", detail)
	return op
}

// pendingRestart is a restart request not applied yet.
func (d *decider) pendingRestart(rq *requestsObservation) bool {
	switch {
	case rq.RestartErr != nil:
		d.refuseRequest(requestRestart, "", rq.RestartRaw, ReasonRequestInvalid, rq.RestartErr.Error())
		return false
	case rq.Restart == nil:
		return false
	}
	return rq.Restart.ID != d.st.RestartID
}

// pendingRollback is a rollback request not applied yet.
func (d *decider) pendingRollback(rq *requestsObservation) bool {
	switch {
	case rq.RollbackErr != nil:
		d.refuseRequest(requestRollback, "", rq.RollbackRaw, ReasonRequestInvalid, rq.RollbackErr.Error())
		return false
	case rq.Rollback == nil:
		return false
	}
	return rq.Rollback.ID != d.st.RollbackID
}

// startRestart applies a restart request to run, what the services run
// (the deployed build, or the leftover of a failed first deploy; nil:
// nothing): one new deployment per service (or of the one process it
// names) of its task definitions. It reports whether an operation
// started.
func (d *decider) startRestart(rq *requestsObservation, run *Deployment) bool {
	st, r := d.st, rq.Restart
	st.RestartID = r.ID
	if run == nil || run.Metadata == nil {
		d.refuseRequest(requestRestart, r.ID, "", ReasonRestartRefused, "nothing is deployed yet")
		return false
	}
	procs := sortedKeys(run.Metadata.Processes)
	if r.Process != "" {
		if !slices.Contains(procs, r.Process) {
			d.refuseRequest(requestRestart, r.ID, "", ReasonRestartRefused,
				fmt.Sprintf("restart.process: build %d has no process %q (it has %s)", run.Build, r.Process, strings.Join(procs, ", ")))
			return false
		}
		procs = []string{r.Process}
	}
	d.clearRefusal(requestRestart)
	detail := "restart requested (" + r.ID + ")"
	if run != st.Deployed {
		detail += fmt.Sprintf(": retrying build %d, whose deploy failed with nothing to roll back to", run.Build)
	}
	op := d.newRestartOp(OpRestart, d.wantedScale(rq), detail)
	op.RequestID, op.Force = r.ID, procs
	d.note(slog.LevelInfo, "restart requested", "build", op.Build, "id", r.ID, "processes", procs)
	return true
}

// startRollback applies a rollback request: the chosen build, one this
// app's services ran (AppState.Releases), is deployed again from its
// recorded image and process spec, without its release command (as
// Heroku's releases:rollback, which does not run the release phase: the
// database may already be migrated past it). It supersedes every build
// that had succeeded by now (their number becomes the high-water mark);
// a build that succeeds afterwards deploys as usual. It reports whether
// the decision stops (an operation started, or a Need).
func (d *decider) startRollback(rq *requestsObservation) bool {
	st, r := d.st, rq.Rollback
	var rel *Release
	for i := range st.Releases {
		if st.Releases[i].Build == r.Build {
			rel = &st.Releases[i]
		}
	}
	if rel == nil || rel.Metadata == nil {
		st.RollbackID = r.ID
		var known []string
		for _, k := range st.Releases {
			known = append(known, fmt.Sprint(k.Build))
		}
		if len(known) == 0 {
			known = []string{"none"}
		}
		d.refuseRequest(requestRollback, r.ID, "", ReasonRollbackRefused,
			fmt.Sprintf("rollback.build: build %d is not a build this app deployed successfully (known: %s); failed, skipped and unknown builds cannot be rolled back to",
				r.Build, strings.Join(known, ", ")))
		return false
	}
	set, perr, ok := d.settings()
	if !ok {
		return true
	}
	if perr == nil {
		if why := d.pol.refuse(rel.Metadata, set); why != "" {
			st.RollbackID = r.ID
			d.refuseRequest(requestRollback, r.ID, "", ReasonRollbackRefused, why)
			return false
		}
	}
	st.RollbackID = r.ID
	d.clearRefusal(requestRollback)
	ceiling := st.HighWater
	for _, b := range st.Builds {
		if b.Status == "SUCCEEDED" && b.Number > ceiling {
			ceiling = b.Number
		}
	}
	detail := fmt.Sprintf("rollback to build %d requested (%s); supersedes builds up to %d", rel.Build, r.ID, ceiling)
	d.skipOlder(ceiling+1, fmt.Sprintf("rollback to build %d requested", rel.Build))
	st.HighWater = ceiling
	sc := d.wantedScale(rq)
	st.NextSeq++
	op := &Operation{
		Kind: OpRollback, Build: rel.Build, BuildID: rel.BuildID, Seq: st.NextSeq, Step: StepRegister,
		StepSince: d.now, Started: d.now, Metadata: rel.Metadata, SkipRelease: true,
		RequestID: r.ID, Scale: sc, ScaleHash: scaleHash(sc),
	}
	op.Record = &DeployRecord{
		Account: d.pol.Account, App: d.pol.App, Build: rel.Build, BuildID: rel.BuildID, Kind: OpRollback,
		Seq: op.Seq, Commit: rel.Metadata.Commit, Created: d.now, Detail: detail, SortAfter: ceiling,
		Phases: []PhaseRecord{{Name: string(StepRegister), Start: d.now}},
	}
	st.Op = op
	d.setPhase(PhaseDeploying, rel.Build, "", detail)
	d.note(slog.LevelInfo, "rollback requested", "build", rel.Build, "id", r.ID, "ceiling", ceiling)
	return true
}

// running is the deployment whose spec the services run: the deployed
// build's, or, while none is deployed, the failed deploy left running
// (Leftover); nil when neither.
func (st *AppState) running() *Deployment {
	if st.Deployed != nil {
		return st.Deployed
	}
	return st.Leftover
}

// remember adds a deployed build to the releases a rollback can go back
// to.
func (st *AppState) remember(dep *Deployment) {
	if dep.Metadata == nil || dep.Build == 0 {
		return
	}
	rels := slices.DeleteFunc(slices.Clone(st.Releases), func(r Release) bool { return r.Build == dep.Build })
	rels = append(rels, Release{Build: dep.Build, BuildID: dep.BuildID, Metadata: dep.Metadata, At: dep.At})
	slices.SortStableFunc(rels, func(a, b Release) int { return cmp.Compare(a.Build, b.Build) })
	if len(rels) > releasesKept {
		rels = rels[len(rels)-releasesKept:]
	}
	st.Releases = rels
}

// readRequests reads the three runtime request parameters (the runner's
// side: GetParameter on each; a missing parameter is no request).
func (r *run) readRequests(ctx context.Context) (*requestsObservation, error) {
	names := contract.Names{Prefix: r.c.reg.Prefix}
	rq := &requestsObservation{}
	read := func(name string) (string, bool, error) {
		r.awsTouched = true
		out, err := r.cl.SSM.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(name)})
		if err != nil {
			if apiCode(err) == "ParameterNotFound" {
				return "", false, nil
			}
			return "", false, fmt.Errorf("ssm GetParameter %s: %w", name, err)
		}
		if out.Parameter == nil {
			return "", false, nil
		}
		return aws.ToString(out.Parameter.Value), true, nil
	}
	v, ok, err := read(names.ScaleParameter(r.reg.Name))
	if err != nil {
		return nil, err
	}
	if ok {
		rq.Scale, rq.ScaleErr = contract.ParseScaleSetting([]byte(v))
		rq.ScaleRaw = token(16, v)
	}
	if v, ok, err = read(names.RestartParameter(r.reg.Name)); err != nil {
		return nil, err
	}
	if ok {
		rq.Restart, rq.RestartErr = contract.ParseRestartRequest([]byte(v))
		rq.RestartRaw = token(16, v)
	}
	if v, ok, err = read(names.RollbackParameter(r.reg.Name)); err != nil {
		return nil, err
	}
	if ok {
		rq.Rollback, rq.RollbackErr = contract.ParseRollbackRequest([]byte(v))
		rq.RollbackRaw = token(16, v)
	}
	return rq, nil
}
