package controlplane

import (
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// rolloutState is the verdict on one service's rollout.
type rolloutState int

const (
	// rolloutPending: still rolling out, or our deployment is not visible
	// yet (a read from before our update).
	rolloutPending rolloutState = iota
	// rolloutDone: our deployment is PRIMARY and completed.
	rolloutDone
	// rolloutFailed: our deployment failed and nothing replaced it.
	rolloutFailed
	// rolloutRolledBack: a deployment newer than ours (the circuit
	// breaker's, or an update by hand) replaced it.
	rolloutRolledBack
)

// judgeRollout decides how a service's rollout stands from evidence a
// lagging read cannot fake. ours is the deployment ID this operation's own
// CreateService/UpdateService answer named as PRIMARY; prior are the IDs
// the service had before that update. ECS is eventually consistent (a
// command's result "might not be immediately visible to all subsequent
// commands you run", ECS API reference), so a read that shows only prior
// deployments is one from before the update: not visible yet, never a
// rollback. A rollback is decided only from our deployment's own
// rolloutState (FAILED, with another deployment PRIMARY) or from a
// deployment that is neither ours nor prior, hence created after ours.
//
// Without a recorded ID (state written by an older control plane), the
// PRIMARY deployment counts when it runs want; any other PRIMARY is
// pending, and the rollout timeout ends a real rollback.
func judgeRollout(s *ecstypes.Service, want, ours string, prior []string) (rolloutState, string) {
	name := aws.ToString(s.ServiceName)
	p := primary(s)
	if ours == "" {
		if p == nil || aws.ToString(p.TaskDefinition) != want {
			return rolloutPending, ""
		}
		return primaryProgress(s, p, name)
	}
	var mine, newer *ecstypes.Deployment
	for i := range s.Deployments {
		d := &s.Deployments[i]
		switch id := aws.ToString(d.Id); {
		case id == ours:
			mine = d
		case !slices.Contains(prior, id) && (newer == nil || aws.ToString(d.Status) == "PRIMARY"):
			newer = d
		}
	}
	if newer != nil && (mine == nil || aws.ToString(mine.Status) != "PRIMARY") {
		detail := fmt.Sprintf("service %s was rolled back from %s to %s", name, revisionLabel(want),
			revisionLabel(aws.ToString(newer.TaskDefinition)))
		switch {
		case mine != nil && aws.ToString(mine.RolloutStateReason) != "":
			detail += ": " + aws.ToString(mine.RolloutStateReason)
		case aws.ToString(newer.RolloutStateReason) != "":
			detail += ": " + aws.ToString(newer.RolloutStateReason)
		}
		return rolloutRolledBack, detail
	}
	if mine == nil {
		// Only deployments from before our update: not visible yet.
		return rolloutPending, ""
	}
	if mine.RolloutState == ecstypes.DeploymentRolloutStateFailed {
		return rolloutFailed, fmt.Sprintf("service %s deployment failed: %s", name, aws.ToString(mine.RolloutStateReason))
	}
	if aws.ToString(mine.Status) != "PRIMARY" {
		return rolloutPending, ""
	}
	return primaryProgress(s, mine, name)
}

// primaryProgress judges the PRIMARY deployment d of s.
func primaryProgress(s *ecstypes.Service, d *ecstypes.Deployment, name string) (rolloutState, string) {
	switch d.RolloutState {
	case ecstypes.DeploymentRolloutStateCompleted:
		return rolloutDone, ""
	case ecstypes.DeploymentRolloutStateFailed:
		return rolloutFailed, fmt.Sprintf("service %s deployment failed: %s", name, aws.ToString(d.RolloutStateReason))
	case "":
		// No rollout state (a service behind a classic load balancer):
		// steady when the primary is the only deployment and full.
		if len(s.Deployments) == 1 && d.RunningCount == d.DesiredCount {
			return rolloutDone, ""
		}
	}
	return rolloutPending, ""
}

// deploymentIDs lists the IDs of a service's deployments.
func deploymentIDs(s *ecstypes.Service) []string {
	var ids []string
	for _, d := range s.Deployments {
		if id := aws.ToString(d.Id); id != "" {
			ids = append(ids, id)
		}
	}
	return ids
}

// recordDeployment notes the deployment an operation's service call
// answered with, and the deployments the service had before.
func (op *Operation) recordDeployment(proc string, answer *ecstypes.Service, before *ecstypes.Service) {
	if answer == nil {
		return
	}
	d := primary(answer)
	if d == nil || aws.ToString(d.Id) == "" {
		return
	}
	// Copied on write: a decision's state shares these maps with the
	// state it was decided from (AppState.clone).
	deps := make(map[string]string, len(op.Deployments)+1)
	for k, v := range op.Deployments {
		deps[k] = v
	}
	deps[proc] = aws.ToString(d.Id)
	op.Deployments = deps
	priors := make(map[string][]string, len(op.Prior)+1)
	for k, v := range op.Prior {
		priors[k] = v
	}
	op.Prior = priors
	var prior []string
	if before != nil {
		prior = slices.DeleteFunc(deploymentIDs(before), func(id string) bool { return id == aws.ToString(d.Id) })
	}
	if len(prior) == 0 {
		delete(op.Prior, proc)
	} else {
		op.Prior[proc] = prior
	}
}

// visibleAfter reports whether a read of s shows anything from after the
// update that created deployment ours: ours itself, or a deployment that
// is not one of prior.
func visibleAfter(s *ecstypes.Service, ours string, prior []string) bool {
	for _, id := range deploymentIDs(s) {
		if id == ours || !slices.Contains(prior, id) {
			return true
		}
	}
	return false
}

// setDeployment records id as proc's deployment of this operation, with
// the deployments the service had before (copied on write, as
// recordDeployment).
func (op *Operation) setDeployment(proc, id string, prior []string) {
	deps := make(map[string]string, len(op.Deployments)+1)
	for k, v := range op.Deployments {
		deps[k] = v
	}
	deps[proc] = id
	op.Deployments = deps
	priors := make(map[string][]string, len(op.Prior)+1)
	for k, v := range op.Prior {
		priors[k] = v
	}
	if len(prior) == 0 {
		delete(priors, proc)
	} else {
		priors[proc] = prior
	}
	op.Prior = priors
}
