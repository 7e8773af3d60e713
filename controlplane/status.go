package controlplane

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logstypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/wharf-paas/wharf/contract"
)

// Status publishing (docs/controlplane.md, "Status the app team can read"):
// after a run committed the app's state, the control plane publishes what
// the app team reads without access to the state table: the status
// document (SSM String parameter /<prefix>/apps/<app>/status) and the
// activity events of the transition (CloudWatch Logs group
// /<prefix>/apps/<app>/activity, stream build-<n>). StatusOf and
// ActivityEvents are pure; publishStatus is the adapter.

// StatusOf is the status document of an app state.
func StatusOf(st *AppState) contract.AppStatus {
	s := contract.AppStatus{Version: contract.StatusVersion, App: st.App, Phase: string(st.Phase), Build: st.Build,
		Reason: string(st.Reason), Detail: st.Detail}
	if st.Phase != PhaseFailed {
		s.Reason = ""
	}
	s.Commit = commitOf(st, st.Build)
	updated := st.PhaseSince
	if op := st.Op; op != nil {
		s.Op = &contract.StatusOp{Kind: string(op.Kind), Build: op.Build, Step: string(op.Step), Since: rfc3339(op.StepSince), Started: rfc3339(op.Started)}
		if op.Seq > 0 && op.Kind == OpBuild {
			s.Op.Kind = string(OpConfig)
		}
		updated = later(updated, op.StepSince)
	}
	if d := st.Deployed; d != nil {
		s.Deployed = &contract.StatusDeployed{Build: d.Build, At: rfc3339(d.At)}
		if d.Metadata != nil {
			s.Deployed.Commit = d.Metadata.Commit
			s.Processes = map[string]contract.StatusProcess{}
			for name, p := range d.Metadata.Processes {
				e := effectiveScale(p, d.Scale, name)
				sp := contract.StatusProcess{Desired: int(e.Count), CPU: int(e.CPU), Memory: int(e.Memory)}
				if e.FromScale {
					sp.Source = "scale"
				}
				if e.Autoscaled {
					sp.Autoscaled, sp.Min, sp.Max = true, int(e.Min), int(e.Max)
					sp.CPUTarget, sp.RequestsPerTarget = int(e.CPUTarget), int(e.ReqTarget)
				}
				s.Processes[name] = sp
			}
		}
		updated = later(updated, d.At)
	}
	for _, r := range st.Refusals {
		s.Refusals = append(s.Refusals, contract.StatusRefusal{Request: r.Request, ID: r.ID, Reason: string(r.Reason), Detail: r.Detail, At: rfc3339(r.At)})
		updated = later(updated, r.At)
	}
	s.UpdatedAt = rfc3339(updated)
	return s
}

// commitOf finds the commit of build n in the state.
func commitOf(st *AppState, n int64) string {
	if n == 0 {
		return ""
	}
	if op := st.Op; op != nil && op.Build == n && op.Metadata != nil {
		return op.Metadata.Commit
	}
	if d := st.Deployed; d != nil && d.Build == n && d.Metadata != nil {
		return d.Metadata.Commit
	}
	for _, b := range st.Builds {
		if b.Number == n {
			return b.Commit
		}
	}
	return ""
}

func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// ActivityEvents are the activity events of the transition from prev to
// next (prev is the zero state for an app never saved), in order: a phase
// event when the phase or its build changed, a step event when the
// operation entered another step, and a deploy event when a build (or a
// configuration restart) was deployed or a build failed. Each event
// belongs to the stream of its build.
//
// A state that adopted what ECS runs (new or lost state, AppState.Adopted)
// produces no event: the deploy it records already ran and is already in
// the activity log.
func ActivityEvents(prev, next *AppState, now time.Time) []contract.ActivityEvent {
	if prev.Version == 0 && next.Adopted != nil {
		return nil
	}
	at := rfc3339(now)
	var out []contract.ActivityEvent
	kind := func(op *Operation) string {
		if op == nil {
			return ""
		}
		if op.Kind == OpBuild && op.Seq > 0 {
			return string(OpConfig)
		}
		return string(op.Kind)
	}
	if next.Phase != prev.Phase || next.Build != prev.Build {
		if next.Build > 0 {
			out = append(out, contract.ActivityEvent{Time: at, App: next.App, Build: next.Build, Commit: commitOf(next, next.Build),
				Kind: kind(next.Op), Event: contract.ActivityPhase, Phase: string(next.Phase)})
		}
	}
	if op := next.Op; op != nil {
		p := prev.Op
		if p == nil || p.Kind != op.Kind || p.Build != op.Build || p.Seq != op.Seq || p.Step != op.Step {
			out = append(out, contract.ActivityEvent{Time: at, App: next.App, Build: op.Build, Commit: commitOf(next, op.Build),
				Kind: kind(op), Event: contract.ActivityStep, Step: string(op.Step)})
		}
	}
	if d := next.Deployed; d != nil && (prev.Deployed == nil || prev.Deployed.Build != d.Build || prev.Deployed.Seq != d.Seq || !prev.Deployed.At.Equal(d.At)) {
		e := contract.ActivityEvent{Time: at, App: next.App, Build: d.Build, Kind: string(OpBuild), Event: contract.ActivityDeploy, Outcome: string(OutcomeDeployed)}
		switch {
		case d.Kind != "":
			e.Kind = string(d.Kind)
		case d.Seq > 0:
			e.Kind = string(OpConfig)
		}
		if d.Metadata != nil {
			e.Commit = d.Metadata.Commit
		}
		out = append(out, e)
	}
	if next.Phase == PhaseFailed && (prev.Phase != PhaseFailed || prev.Build != next.Build) && next.Build > 0 {
		k := string(OpBuild)
		if prev.Op != nil && prev.Op.Build == next.Build {
			k = kind(prev.Op) // a failed restart, scale or rollback
		}
		out = append(out, contract.ActivityEvent{Time: at, App: next.App, Build: next.Build, Commit: commitOf(next, next.Build),
			Kind: k, Event: contract.ActivityDeploy, Outcome: string(OutcomeFailed), Reason: string(next.Reason), Detail: next.Detail})
	}
	return out
}

// activityFields copies what ActivityEvents reads of a state (its
// version, phase, build, operation kind, build, sequence and step, and the
// deployed build, sequence and time), so that status publishing compares
// with the loaded state without decoding it again.
func activityFields(st *AppState) AppState {
	p := AppState{Version: st.Version, Phase: st.Phase, Build: st.Build}
	if op := st.Op; op != nil {
		p.Op = &Operation{Kind: op.Kind, Build: op.Build, Seq: op.Seq, Step: op.Step}
	}
	if d := st.Deployed; d != nil {
		p.Deployed = &Deployment{Build: d.Build, Seq: d.Seq, At: d.At}
	}
	return p
}

// statusSSM is what publishing needs of the SSM client: read the status
// parameter and write it. The SDK client has both; a client without
// PutParameter publishes nothing.
type statusSSM interface {
	GetParameter(ctx context.Context, in *ssm.GetParameterInput, optFns ...func(*ssm.Options)) (*ssm.GetParameterOutput, error)
	PutParameter(ctx context.Context, in *ssm.PutParameterInput, optFns ...func(*ssm.Options)) (*ssm.PutParameterOutput, error)
}

// LogsAPI is the subset of the CloudWatch Logs client the control plane uses
// to append activity events.
type LogsAPI interface {
	CreateLogStream(ctx context.Context, in *cloudwatchlogs.CreateLogStreamInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.CreateLogStreamOutput, error)
	PutLogEvents(ctx context.Context, in *cloudwatchlogs.PutLogEventsInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.PutLogEventsOutput, error)
}

// publishStatus publishes the status and activity of the run's committed
// state. It is the one call site after the state is committed
// (reconcileMode). It runs when the run changed the state, and on every
// sweep, which repairs a status that differs from the state (a write lost
// to a crash or an error). The status is observed first and written only
// when it differs, so a no-op event makes no write. Failures are logged,
// not returned: the state is already committed and the next sweep
// repairs the status (activity events are best effort).
func (r *run) publishStatus(ctx context.Context) {
	// The version is always encoded: a state saved by this run (a newer
	// version) differs from the loaded one without encoding it.
	changed := r.st.Version != r.prev.Version
	if !changed {
		cur := r.saved()
		if r.committed != r.st {
			cur, _ = json.Marshal(r.st)
		}
		changed = string(cur) != string(r.loaded)
	}
	if !changed && r.h.Kind != KindSweep {
		return
	}
	if r.st.Version == 0 {
		return // never saved: nothing to publish
	}
	if r.cl == nil {
		cl, err := r.c.opts.Clients.ForApp(ctx, *r.reg)
		if err != nil {
			r.log.Warn("status not published: no clients", "error", err.Error())
			return
		}
		r.cl = cl
	}
	names := contract.Names{Prefix: r.c.reg.Prefix}
	if changed {
		if err := r.appendActivity(ctx, names, ActivityEvents(&r.prev, r.st, r.now)); err != nil {
			r.log.Warn("activity not published", "error", err.Error())
		}
	}
	if err := r.writeStatus(ctx, names); err != nil {
		r.log.Warn("status not published", "error", err.Error())
	}
}

func (r *run) writeStatus(ctx context.Context, names contract.Names) error {
	s, ok := r.cl.SSM.(statusSSM)
	if !ok {
		return nil
	}
	doc, err := json.Marshal(StatusOf(r.st))
	if err != nil {
		return err
	}
	name := names.StatusParameter(r.reg.Name)
	r.awsTouched = true
	out, err := s.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(name)})
	var nf *ssmtypes.ParameterNotFound
	switch {
	case errors.As(err, &nf):
	case err != nil:
		return fmt.Errorf("ssm GetParameter %s: %w", name, err)
	case out.Parameter != nil && aws.ToString(out.Parameter.Value) == string(doc):
		return nil // already published
	}
	if _, err := s.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String(name), Type: ssmtypes.ParameterTypeString,
		Value: aws.String(string(doc)), Overwrite: aws.Bool(true)}); err != nil {
		return fmt.Errorf("ssm PutParameter %s: %w", name, err)
	}
	return nil
}

func (r *run) appendActivity(ctx context.Context, names contract.Names, evs []contract.ActivityEvent) error {
	if r.cl.Logs == nil || len(evs) == 0 {
		return nil
	}
	group := names.ActivityLogGroup(r.reg.Name)
	byBuild := map[int64][]logstypes.InputLogEvent{}
	var order []int64
	for _, e := range evs {
		msg, err := json.Marshal(e)
		if err != nil {
			return err
		}
		if _, ok := byBuild[e.Build]; !ok {
			order = append(order, e.Build)
		}
		byBuild[e.Build] = append(byBuild[e.Build], logstypes.InputLogEvent{Message: aws.String(string(msg)), Timestamp: aws.Int64(r.now.UnixMilli())})
	}
	r.awsTouched = true
	for _, b := range order {
		stream := contract.ActivityStream(b)
		put := func() error {
			_, err := r.cl.Logs.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream),
				LogEvents: byBuild[b]})
			return err
		}
		// The build's stream usually exists (its first event created it):
		// append, and create the stream only when CloudWatch Logs says it
		// does not exist. A concurrent creator makes CreateLogStream answer
		// ResourceAlreadyExistsException, which is as good as success.
		err := put()
		var missing *logstypes.ResourceNotFoundException
		if errors.As(err, &missing) {
			_, cerr := r.cl.Logs.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream)})
			var exists *logstypes.ResourceAlreadyExistsException
			if cerr != nil && !errors.As(cerr, &exists) {
				return fmt.Errorf("logs CreateLogStream %s %s: %w", group, stream, cerr)
			}
			err = put()
		}
		if err != nil {
			return fmt.Errorf("logs PutLogEvents %s %s: %w", group, stream, err)
		}
	}
	return nil
}
