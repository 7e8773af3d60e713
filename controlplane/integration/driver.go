package integration

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	cbtypes "github.com/aws/aws-sdk-go-v2/service/codebuild/types"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/wharf-paas/wharf/controlplane/awsfake"
)

// Driver plays AWS's side of a deploy for one app: it moves builds, tasks
// and deployments along in awsfake and delivers the events AWS would send
// through Deliver (in process, or through the Lambda emulator).
type Driver struct {
	Env *Env
	App *App
	// Deliver hands one event to the control plane.
	Deliver func(ctx context.Context, ev Event) error
	// Delivered lists every event delivered, in order.
	Delivered []Event
}

func (d *Driver) deliver(ctx context.Context, ev Event, err error) error {
	if err != nil {
		return err
	}
	d.Delivered = append(d.Delivered, ev)
	if err := d.Deliver(ctx, ev); err != nil {
		return fmt.Errorf("deliver %s event %s: %w", ev.Sample, ev.ID(), err)
	}
	return nil
}

// Redeliver delivers an already delivered event again (EventBridge's
// at-least-once delivery).
func (d *Driver) Redeliver(ctx context.Context, ev Event) error {
	return d.deliver(ctx, ev, nil)
}

// StartBuild records build m as IN_PROGRESS and delivers its event.
func (d *Driver) StartBuild(ctx context.Context, m BuildMetadata) error {
	if err := d.Env.FinishBuild(d.App, m, cbtypes.StatusTypeInProgress); err != nil {
		return err
	}
	ev, err := d.Env.BuildEvent(d.App, int(m.BuildNumber), "IN_PROGRESS")
	return d.deliver(ctx, ev, err)
}

// EndBuild records build m with a final status (SUCCEEDED writes its
// metadata artifact) and delivers its event.
func (d *Driver) EndBuild(ctx context.Context, m BuildMetadata, status cbtypes.StatusType) error {
	if err := d.Env.FinishBuild(d.App, m, status); err != nil {
		return err
	}
	ev, err := d.Env.BuildEvent(d.App, int(m.BuildNumber), string(status))
	return d.deliver(ctx, ev, err)
}

// ReleaseTasks returns the release tasks of build n (startedBy
// wharf-release-<n>).
func (d *Driver) ReleaseTasks(n int) []ecstypes.Task {
	var out []ecstypes.Task
	for _, t := range d.Env.Fake.Tasks() {
		if aws.ToString(t.StartedBy) == fmt.Sprintf("wharf-release-%d", n) {
			out = append(out, t)
		}
	}
	return out
}

// FinishRelease starts build n's release task (delivering its RUNNING
// event) and stops it with outcome (delivering its STOPPED event).
func (d *Driver) FinishRelease(ctx context.Context, n int, outcome awsfake.TaskOutcome) error {
	tasks := d.ReleaseTasks(n)
	if len(tasks) != 1 {
		return fmt.Errorf("build %d has %d release tasks, want 1", n, len(tasks))
	}
	arn := aws.ToString(tasks[0].TaskArn)
	if !outcome.FailedToStart {
		running, err := d.Env.Fake.StartTask(arn)
		if err != nil {
			return err
		}
		ev, err := d.Env.Samples.TaskStateChange(running)
		if err := d.deliver(ctx, ev, err); err != nil {
			return err
		}
	}
	stopped, err := d.Env.Fake.FinishTaskWith(arn, outcome)
	if err != nil {
		return err
	}
	ev, err := d.Env.Samples.TaskStateChange(stopped)
	return d.deliver(ctx, ev, err)
}

// CompleteDeployments finishes every deployment in progress and delivers a
// SERVICE_DEPLOYMENT_COMPLETED event per service that changed. It returns
// how many services completed.
func (d *Driver) CompleteDeployments(ctx context.Context) (int, error) {
	changed := d.Env.Fake.CompleteDeployments()
	n := 0
	for _, svc := range changed {
		if aws.ToString(svc.Status) != awsfake.StatusActive {
			continue
		}
		ev, err := d.Env.Samples.DeploymentStateChange(svc, "SERVICE_DEPLOYMENT_COMPLETED")
		if err := d.deliver(ctx, ev, err); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// Deploy runs build m from start to finish: build events, release task
// (exit code 0) when m has a release command, and service deployments.
func (d *Driver) Deploy(ctx context.Context, m BuildMetadata) error {
	if err := d.StartBuild(ctx, m); err != nil {
		return err
	}
	if err := d.EndBuild(ctx, m, cbtypes.StatusTypeSucceeded); err != nil {
		return err
	}
	if m.ReleaseCommand != "" {
		if err := d.FinishRelease(ctx, int(m.BuildNumber), awsfake.TaskOutcome{}); err != nil {
			return err
		}
	}
	if _, err := d.CompleteDeployments(ctx); err != nil {
		return err
	}
	return nil
}
