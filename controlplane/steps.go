package controlplane

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// stepRegister registers (or finds) the task definitions of every process
// type and of the release family, with the current config version.
func (r *run) stepRegister(ctx context.Context) (bool, error) {
	op := r.st.Op
	set, err := r.settings(ctx)
	if err != nil {
		return false, err
	}
	cfg, err := r.config(ctx, set)
	if err != nil {
		return false, err
	}
	m := op.Metadata
	families := sortedKeys(m.Processes)
	if m.ReleaseCommand != "" || len(m.Schedules) > 0 {
		families = append(families, ReleaseFamilySuffix)
	}
	defs := make(map[string]string, len(families))
	for _, proc := range families {
		arn, err := r.ensureTaskDef(ctx, r.taskDefInput(set, op, cfg, proc), op.Build)
		if err != nil {
			return false, err
		}
		defs[proc] = arn
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
	return r.advance(ctx, next)
}

// stepRelease starts the release task (one per app at a time) and waits
// for it to stop; success only on EssentialContainerExited with exit code
// 0 from the release container.
func (r *run) stepRelease(ctx context.Context) (bool, error) {
	st, op := r.st, r.st.Op
	set, err := r.settings(ctx)
	if err != nil {
		return false, err
	}
	log := r.log.With("build", op.Build, "build_id", op.BuildID)
	if op.ReleaseTask == "" {
		startedBy := ReleaseStartedBy(op.Build)
		if st.LastRelease != "" {
			// A release of another build (one that timed out) must have
			// stopped before this one starts.
			t, err := r.describeTask(ctx, set.ClusterARN, st.LastRelease)
			if err != nil {
				return false, err
			}
			if t != nil && aws.ToString(t.StartedBy) != startedBy && aws.ToString(t.LastStatus) != "STOPPED" {
				log.Info("waiting for the previous release task to stop", "task", st.LastRelease)
				if r.h.Kind == KindSweep {
					r.stopTask(ctx, set.ClusterARN, st.LastRelease, "wharf: superseded release")
				}
				return false, nil
			}
			if t == nil || aws.ToString(t.StartedBy) != startedBy {
				st.LastRelease = ""
			}
		}
		family := FamilyName(r.c.reg.Prefix, r.reg.Name, ReleaseFamilySuffix)
		arn, err := r.findTask(ctx, set.ClusterARN, family, startedBy)
		if err != nil {
			return false, err
		}
		if arn == "" {
			out, err := r.cl.ECS.RunTask(ctx, &ecs.RunTaskInput{
				Cluster:              aws.String(set.ClusterARN),
				TaskDefinition:       aws.String(op.TaskDefs[ReleaseFamilySuffix]),
				LaunchType:           ecstypes.LaunchType(set.LaunchType),
				NetworkConfiguration: r.networkConfig(set),
				StartedBy:            aws.String(startedBy),
				Count:                aws.Int32(1),
				PropagateTags:        ecstypes.PropagateTagsTaskDefinition,
				EnableECSManagedTags: true,
				// The task definition is part of the token: the same
				// operation always sends the same one, and a deploy of
				// the build started afresh (its state lost) with another
				// revision is not a ConflictException forever.
				ClientToken: aws.String(token(40, r.reg.AccountID, r.reg.Name, "release", strconv.FormatInt(op.Build, 10), "1",
					op.TaskDefs[ReleaseFamilySuffix])),
			})
			if err != nil {
				switch apiCode(err) {
				case "InvalidParameterException", "ClientException", "PlatformUnknownException",
					"PlatformTaskDefinitionIncompatibilityException", "AccessDeniedException", "BlockedException":
					return false, permanent(ReasonReleaseFailedToStart, "RunTask: %v", err)
				}
				return false, fmt.Errorf("ecs RunTask release of build %d: %w", op.Build, err)
			}
			if len(out.Failures) > 0 {
				f := out.Failures[0]
				return false, permanent(ReasonReleaseFailedToStart, "RunTask failure: %s %s", aws.ToString(f.Reason), aws.ToString(f.Detail))
			}
			if len(out.Tasks) == 0 || aws.ToString(out.Tasks[0].TaskArn) == "" {
				return false, permanent(ReasonReleaseFailedToStart, "RunTask returned no task")
			}
			arn = aws.ToString(out.Tasks[0].TaskArn)
			log.Info("release task started", "task", arn)
		} else {
			log.Info("release task found", "task", arn)
		}
		op.ReleaseTask, op.Record.ReleaseTask = arn, arn
		st.LastRelease = arn
		// The release timeout counts from the start of the task, not from
		// the wait for a previous release to stop.
		op.StepSince = r.now
		return true, r.commit(ctx)
	}
	t, err := r.describeTask(ctx, set.ClusterARN, op.ReleaseTask)
	if err != nil {
		return false, err
	}
	if t == nil {
		st.LastRelease = ""
		return false, permanent(ReasonReleaseLost, "ECS does not know release task %s", op.ReleaseTask)
	}
	if aws.ToString(t.LastStatus) != "STOPPED" {
		if r.now.Sub(op.StepSince) >= r.c.opts.ReleaseTimeout {
			r.stopTask(ctx, set.ClusterARN, op.ReleaseTask, "wharf: release timed out")
			return false, permanent(ReasonReleaseTimedOut, "release task %s still %s after %s",
				op.ReleaseTask, aws.ToString(t.LastStatus), r.c.opts.ReleaseTimeout)
		}
		return false, nil
	}
	st.LastRelease = ""
	ok, reason, detail := releaseOutcome(t)
	if !ok {
		return false, permanent(reason, "%s", detail)
	}
	log.Info("release succeeded", "task", op.ReleaseTask)
	return r.advance(ctx, StepServices)
}

// releaseOutcome judges a STOPPED release task.
func releaseOutcome(t *ecstypes.Task) (bool, Reason, string) {
	var c *ecstypes.Container
	for i := range t.Containers {
		if aws.ToString(t.Containers[i].Name) == ContainerName {
			c = &t.Containers[i]
		}
	}
	stopped := strings.TrimSpace(aws.ToString(t.StoppedReason))
	if t.StopCode == ecstypes.TaskStopCodeTaskFailedToStart {
		detail := "release task failed to start"
		if stopped != "" {
			detail += ": " + stopped
		}
		if c != nil && aws.ToString(c.Reason) != "" {
			detail += " (" + aws.ToString(c.Reason) + ")"
		}
		return false, ReasonReleaseFailedToStart, detail
	}
	if c == nil || c.ExitCode == nil {
		detail := "release container did not exit"
		if stopped != "" {
			detail += ": " + stopped
		}
		return false, ReasonReleaseFailed, detail
	}
	if t.StopCode != ecstypes.TaskStopCodeEssentialContainerExited {
		return false, ReasonReleaseFailed, fmt.Sprintf("release task stopped with %s: %s", t.StopCode, stopped)
	}
	if code := aws.ToInt32(c.ExitCode); code != 0 {
		return false, ReasonReleaseFailed, fmt.Sprintf("release command exited with code %d", code)
	}
	return true, "", ""
}

// stepServices creates missing services and points existing ones at the
// new task definitions. Every call follows a DescribeServices, so a retry
// after a crash repeats nothing that took effect.
func (r *run) stepServices(ctx context.Context) (bool, error) {
	op := r.st.Op
	set, err := r.settings(ctx)
	if err != nil {
		return false, err
	}
	procs := sortedKeys(op.Metadata.Processes)
	svcs, err := r.describeServices(ctx, set, procs)
	if err != nil {
		return false, err
	}
	for _, proc := range procs {
		s := svcs[proc]
		switch {
		case s == nil:
			if err := r.createService(ctx, set, op, proc); err != nil {
				return false, err
			}
			op.Recreate = slices.DeleteFunc(op.Recreate, func(p string) bool { return p == proc })
		case aws.ToString(s.Status) == "DRAINING":
			if slices.Contains(op.Recreate, proc) {
				// Deleted by this operation to be created again: wait
				// until ECS lets the name go (INACTIVE).
				r.log.Info("waiting for the replaced service to drain", "build", op.Build, "process", proc)
				return false, nil
			}
			return false, fmt.Errorf("service %s is draining; retrying later", aws.ToString(s.ServiceName))
		case op.Deployments[proc] != "" && !visibleAfter(s, op.Deployments[proc], op.Prior[proc]):
			// Updated by this operation, and the read is from before
			// the update (ECS is eventually consistent): nothing to do.
		default:
			want := r.serviceSpec(set, op, proc)
			fields := want.diff(observedServiceSpec(s))
			switch {
			case len(fields) == 0:
				// Already there (a retry, or nothing changed): the
				// rollout is judged from the deployment that runs it.
				if op.Deployments[proc] == "" {
					op.recordDeployment(proc, s, s)
				}
			case needsRecreate(fields):
				// A launch type cannot change in place: the intent is
				// saved, then the service is deleted and created again
				// once it is gone.
				if !slices.Contains(op.Recreate, proc) {
					op.Recreate = append(op.Recreate, proc)
					if err := r.commit(ctx); err != nil {
						return false, err
					}
				}
				r.log.Warn("service launch type changed: replacing the service", "build", op.Build, "process", proc,
					"from", string(s.LaunchType), "to", want.LaunchType)
				if err := r.deleteService(ctx, set, proc); err != nil {
					return false, err
				}
				return false, nil
			default:
				if err := r.updateService(ctx, set, op, proc, s, fields); err != nil {
					return false, err
				}
			}
		}
		if !slices.Contains(op.Updated, proc) {
			op.Updated = append(op.Updated, proc)
		}
		if !slices.Contains(r.st.Services, proc) {
			r.st.Services = append(r.st.Services, proc)
			slices.Sort(r.st.Services)
		}
	}
	return r.advance(ctx, StepRollout)
}

func primaryTaskDef(s *ecstypes.Service) string {
	if d := primary(s); d != nil {
		return aws.ToString(d.TaskDefinition)
	}
	return aws.ToString(s.TaskDefinition)
}

// stepRollout waits until every service's PRIMARY deployment runs the new
// task definition and is COMPLETED; a FAILED deployment or a rollback by
// the circuit breaker fails the operation. On success it aligns the
// schedule rules, deletes services of removed process types and records
// the deployment.
func (r *run) stepRollout(ctx context.Context) (bool, error) {
	op := r.st.Op
	set, err := r.settings(ctx)
	if err != nil {
		return false, err
	}
	procs := sortedKeys(op.Metadata.Processes)
	svcs, err := r.describeServices(ctx, set, procs)
	if err != nil {
		return false, err
	}
	pending := ""
	for _, proc := range procs {
		s := svcs[proc]
		want := op.TaskDefs[proc]
		if s == nil {
			// Deleted behind our back: create it again.
			r.log.Warn("service disappeared during rollout, recreating", "build", op.Build, "process", proc)
			op.Updated = slices.DeleteFunc(op.Updated, func(p string) bool { return p == proc })
			return r.advance(ctx, StepServices)
		}
		verdict, detail := judgeRollout(s, want, op.Deployments[proc], op.Prior[proc])
		switch verdict {
		case rolloutRolledBack:
			return false, permanent(ReasonDeploymentRolledBack, "%s", detail)
		case rolloutFailed:
			return false, permanent(ReasonDeploymentFailed, "%s", detail)
		case rolloutPending:
			pending = proc
			if d := primary(s); d != nil && strings.Contains(aws.ToString(d.RolloutStateReason), "circuit breaker") {
				r.log.Info("circuit breaker engaged", "build", op.Build, "process", proc, "reason", aws.ToString(d.RolloutStateReason))
			}
		}
	}
	if pending != "" {
		if r.now.Sub(op.StepSince) >= r.c.opts.RolloutTimeout {
			return false, permanent(ReasonDeploymentTimedOut, "service %s did not settle within %s",
				FamilyName(r.c.reg.Prefix, r.reg.Name, pending), r.c.opts.RolloutTimeout)
		}
		return false, nil
	}
	// The services run the new build now, so a rejected schedule does not
	// undo the deploy: it is recorded as its outcome's reason.
	var schedErr *permanentError
	if err := r.syncSchedules(ctx, set, op); err != nil {
		if !errors.As(err, &schedErr) {
			return false, err
		}
	}
	for _, proc := range r.st.Services {
		if _, keep := op.Metadata.Processes[proc]; !keep {
			if err := r.deleteService(ctx, set, proc); err != nil {
				return false, err
			}
		}
	}
	if schedErr != nil {
		return true, r.succeed(ctx, ReasonScheduleRejected, schedErr.Error())
	}
	return true, r.succeed(ctx, "", "")
}

// stepRollback puts every service the failed operation created or updated
// back on the deployed build's task definition and count, deletes services
// of processes the deployed build does not have, and ends the operation
// as failed. Services already back (the circuit breaker's rollback) cost
// no call.
func (r *run) stepRollback(ctx context.Context) (bool, error) {
	st, op := r.st, r.st.Op
	d := st.Deployed
	set, err := r.settings(ctx)
	if err != nil {
		if !isPermanent(err) {
			return false, err
		}
		return true, r.endFailed(ctx, op.FailReason, op.FailDetail)
	}
	if d == nil && st.Adopted != nil && len(st.Adopted.TaskDefs) > 0 {
		// Nothing deployed by this store, but the app was adopted with
		// its services running: they go back to what they ran then.
		d = &Deployment{TaskDefs: st.Adopted.TaskDefs, Metadata: &BuildMetadata{Processes: map[string]Process{}}}
		for proc, n := range st.Adopted.Counts {
			d.Metadata.Processes[proc] = Process{Count: &n}
		}
	}
	if d == nil {
		// Nothing was ever deployed: there is no build to go back to. The
		// failed build's services stay (as ECS left them); services of
		// processes it does not declare, left over from earlier failed
		// deploys, are deleted so the app runs one build.
		for _, proc := range slices.Clone(st.Services) {
			if _, keep := op.Metadata.Processes[proc]; keep {
				continue
			}
			if err := r.deleteService(ctx, set, proc); err != nil {
				return false, err
			}
			st.Services = slices.DeleteFunc(st.Services, func(p string) bool { return p == proc })
		}
		return true, r.endFailed(ctx, op.FailReason, op.FailDetail)
	}
	procs := slices.Clone(op.Updated)
	slices.Sort(procs)
	svcs, err := r.describeServices(ctx, set, procs)
	if err != nil {
		return false, err
	}
	for _, proc := range procs {
		s := svcs[proc]
		if s == nil {
			continue
		}
		want, ok := d.TaskDefs[proc]
		if !ok || d.Metadata == nil {
			if err := r.deleteService(ctx, set, proc); err != nil {
				return false, err
			}
			st.Services = slices.DeleteFunc(st.Services, func(p string) bool { return p == proc })
			continue
		}
		count := d.Metadata.Processes[proc].DesiredCount()
		// Already back (the circuit breaker's rollback), unless the read
		// is from before this operation's update: then it shows the
		// deployed build although ECS runs the failed one.
		ours := op.Deployments[proc]
		if primaryTaskDef(s) == want && s.DesiredCount == count && (ours == "" || visibleAfter(s, ours, op.Prior[proc])) {
			continue
		}
		name := FamilyName(r.c.reg.Prefix, r.reg.Name, proc)
		r.awsTouched = true
		_, err := r.cl.ECS.UpdateService(ctx, &ecs.UpdateServiceInput{
			Cluster: aws.String(set.ClusterARN), Service: aws.String(name), TaskDefinition: aws.String(want),
			DesiredCount: aws.Int32(count), DeploymentConfiguration: r.deploymentConfig(),
		})
		if err != nil {
			switch apiCode(err) {
			case "ServiceNotFoundException", "ServiceNotActiveException":
				continue
			case "InvalidParameterException", "ClientException":
				r.log.Error("rolling a service back was rejected", "service", name, "error", err.Error())
				continue
			}
			return false, fmt.Errorf("ecs UpdateService %s (rollback): %w", name, err)
		}
		r.log.Info("service rolled back", "build", op.Build, "service", name, "task_definition", want)
	}
	return true, r.endFailed(ctx, op.FailReason, op.FailDetail)
}

func isPermanent(err error) bool {
	var pe *permanentError
	return errors.As(err, &pe)
}

func revisionLabel(arn string) string {
	if f := familyFromTaskDefARN(arn); f != "" {
		return f + ":" + strconv.Itoa(revisionFromTaskDefARN(arn))
	}
	return arn
}
