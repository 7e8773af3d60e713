package sim

import (
	"fmt"
	"strings"
	"time"

	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// Task plans: what a task will do once it is RUNNING.
const (
	planRun       = "run"       // runs until stopped
	planCrash     = "crash"     // exits 1 shortly after starting
	planExit0     = "exit0"     // exits 0 after a while (release)
	planExit1     = "exit1"     // exits 1 after a while (release)
	planFailStart = "failstart" // never starts: TaskFailedToStart
	planHang      = "hang"      // runs until stopped (a hung release)
)

func (w *World) appForFamily(family string) *appWorld {
	rest := strings.TrimPrefix(family, Prefix+"-")
	if i := strings.Index(rest, "_"); i >= 0 {
		return w.apps[rest[:i]]
	}
	return nil
}

func (w *World) taskPlan(td *taskDef, svc *service) string {
	if w.faultsOn && w.chance(w.Faults.TaskFailStart) {
		w.fault("task-fail-start")
		return planFailStart
	}
	b := td.build
	if svc == nil && strings.HasSuffix(td.family, "_release") {
		if b == nil {
			return planFailStart
		}
		switch b.plan.Release {
		case ReleaseExitCode:
			return planExit1
		case ReleaseFailStart:
			return planFailStart
		case ReleaseHang:
			w.fault("release-hang")
			return planHang
		}
		return planExit0
	}
	if b == nil || b.plan.brokenFor(svc.proc) {
		return planCrash
	}
	return planRun
}

// launchTask starts a task: PROVISIONING → PENDING → RUNNING, then
// whatever its plan says.
func (w *World) launchTask(a *account, td *taskDef, cluster, startedBy, group string, svc *service, dep *deployment, lt ecstypes.LaunchType, ov *ecstypes.TaskOverride) *task {
	t := &task{
		arn:           fmt.Sprintf("arn:aws:ecs:%s:%s:task/%s/%s", a.region, a.id, clusterShort(cluster), w.hexID(32)),
		cluster:       cluster,
		td:            td,
		startedBy:     startedBy,
		group:         group,
		lastStatus:    "PROVISIONING",
		desiredStatus: "RUNNING",
		version:       1,
		createdAt:     w.now,
		svc:           svc,
		dep:           dep,
		launchType:    lt,
		overrides:     ov,
		release:       svc == nil && strings.HasSuffix(td.family, "_release"),
		app:           w.appForFamily(td.family),
	}
	if t.launchType == "" {
		t.launchType = ecstypes.LaunchTypeFargate
	}
	t.plan = w.taskPlan(td, svc)
	a.ecs.tasks[t.arn] = t
	a.ecs.taskOrder = append(a.ecs.taskOrder, t)
	if svc != nil {
		svc.tasks = append(svc.tasks, t)
	}
	w.oracle.onTaskLaunched(t)
	// ECS sends the event asynchronously, after RunTask returned.
	w.after(0, "task event", func() { w.emitTask(t) })
	w.after(w.between(2*time.Second, 8*time.Second), "task pending", func() {
		if t.lastStatus != "PROVISIONING" || t.desiredStatus != "RUNNING" {
			return
		}
		t.lastStatus = "PENDING"
		t.version++
		w.emitTask(t)
		w.after(w.between(5*time.Second, 30*time.Second), "task running", func() { w.taskStarts(t) })
	})
	return t
}

func (w *World) taskStarts(t *task) {
	if t.lastStatus != "PENDING" || t.desiredStatus != "RUNNING" {
		return
	}
	if t.plan == planFailStart {
		t.containerWhy = "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref " + deref(t.td.def.ContainerDefinitions[0].Image) + ": not found"
		w.stopTask(t, ecstypes.TaskStopCodeTaskFailedToStart, "CannotPullContainerError: pull image manifest has been retried 5 time(s)", nil)
		return
	}
	t.lastStatus = "RUNNING"
	t.startedAt = w.now
	t.version++
	w.emitTask(t)
	switch t.plan {
	case planExit0, planExit1:
		code := int32(0)
		if t.plan == planExit1 {
			code = 1
		}
		w.after(w.between(20*time.Second, 3*time.Minute), "release exits", func() {
			w.stopTask(t, ecstypes.TaskStopCodeEssentialContainerExited, "Essential container in task exited", ptr(code))
		})
	case planCrash:
		w.after(w.between(5*time.Second, 15*time.Second), "task crashes", func() {
			w.stopTask(t, ecstypes.TaskStopCodeEssentialContainerExited, "Essential container in task exited", ptr(int32(1)))
		})
	}
	if t.svc != nil {
		w.kick(t.svc)
		w.after(healthyAfter, "health check", func() { w.kick(t.svc) })
	}
}

// stopTask moves a task to STOPPED through DEPROVISIONING, emitting the
// events ECS emits (first desiredStatus STOPPED while lastStatus is still
// RUNNING).
func (w *World) stopTask(t *task, code ecstypes.TaskStopCode, reason string, exit *int32) {
	if t.desiredStatus == "STOPPED" {
		return
	}
	t.desiredStatus = "STOPPED"
	t.stopCode = code
	t.stoppedReason = reason
	t.stoppingAt = w.now
	if t.lastStatus == "RUNNING" {
		t.exitCode = exit
		t.version++
		w.emitTask(t)
	}
	w.after(w.between(time.Second, 3*time.Second), "task deprovisioning", func() {
		t.lastStatus = "DEPROVISIONING"
		t.version++
		w.emitTask(t)
		w.after(w.between(5*time.Second, 15*time.Second), "task stopped", func() {
			t.lastStatus = "STOPPED"
			t.stoppedAt = w.now
			t.version++
			w.emitTask(t)
			w.onTaskStopped(t)
			a := t.app
			if a != nil {
				w.after(stoppedTaskRetention, "task purged", func() { delete(a.acct.ecs.tasks, t.arn) })
			}
		})
	})
}

func (w *World) onTaskStopped(t *task) {
	w.oracle.onTaskStopped(t)
	svc := t.svc
	if svc == nil || t.dep == nil {
		return
	}
	if t.stopCode == ecstypes.TaskStopCodeEssentialContainerExited || t.stopCode == ecstypes.TaskStopCodeTaskFailedToStart {
		d := t.dep
		d.failed++
		d.updated = w.now
		if d == svc.deployments[0] && d.rollout == ecstypes.DeploymentRolloutStateInProgress && svc.breakerOn() && d.failed >= breakerThreshold(d.desired) {
			w.failDeployment(svc, d)
		}
	}
	w.kick(svc)
}

func (p BuildPlan) brokenFor(proc string) bool {
	if !p.Broken {
		return false
	}
	if len(p.BrokenProcesses) == 0 {
		return true
	}
	for _, b := range p.BrokenProcesses {
		if b == proc {
			return true
		}
	}
	return false
}

func (svc *service) breakerOn() bool {
	return svc.cfg.DeploymentConfiguration != nil && svc.cfg.DeploymentConfiguration.DeploymentCircuitBreaker != nil && svc.cfg.DeploymentConfiguration.DeploymentCircuitBreaker.Enable
}

func breakerThreshold(desired int32) int32 {
	return min(max((desired+1)/2, 3), 200)
}

func (w *World) newDeployment(svc *service, td *taskDef, rollback bool, reason string) {
	d := &deployment{
		id:       fmt.Sprintf("ecs-svc/%019d", w.rng.Int64N(9e18)),
		td:       td,
		status:   "PRIMARY",
		rollout:  ecstypes.DeploymentRolloutStateInProgress,
		created:  w.now,
		updated:  w.now,
		desired:  svc.cfg.DesiredCount,
		rollback: rollback,
	}
	for _, old := range svc.deployments {
		old.status = "ACTIVE"
	}
	svc.cfg.TaskDefinition = td.arn
	svc.deployments = append([]*deployment{d}, svc.deployments...)
	if reason == "" {
		reason = fmt.Sprintf("ECS deployment %s in progress.", d.id)
	}
	d.reason = reason
	// ECS sends the event asynchronously, after the API call returned.
	w.after(0, "deployment event", func() { w.emitDeployment(svc, d, "INFO", "SERVICE_DEPLOYMENT_IN_PROGRESS", reason) })
	w.kick(svc)
}

func (w *World) kick(svc *service) {
	if svc.kicked {
		return
	}
	svc.kicked = true
	w.after(time.Second, "service scheduler", func() {
		svc.kicked = false
		w.reconcileService(svc)
	})
}

func (w *World) reconcileService(svc *service) {
	if svc.status == "INACTIVE" {
		return
	}
	if svc.status == "DRAINING" {
		busy := false
		for _, t := range svc.tasks {
			if t.desiredStatus == "RUNNING" {
				w.stopTask(t, ecstypes.TaskStopCodeServiceSchedulerInitiated, "Service deletion", ptr(int32(0)))
			}
			if t.lastStatus != "STOPPED" {
				busy = true
			}
		}
		if !busy {
			svc.status = "INACTIVE"
			svc.inactiveAt = w.now
			w.oracle.onServiceInactive(svc)
		}
		return
	}
	p := svc.deployments[0]
	p.desired = svc.cfg.DesiredCount
	if p.rollout != ecstypes.DeploymentRolloutStateFailed {
		var live []*task
		for _, t := range svc.tasks {
			if t.dep == p && t.desiredStatus == "RUNNING" {
				live = append(live, t)
			}
		}
		for n := int32(len(live)); n < p.desired; n++ {
			w.launchTask(svc.app.acct, p.td, svc.cluster, p.id, "service:"+svc.name, svc, p, svc.cfg.LaunchType, nil)
		}
		for i := int32(len(live)) - 1; i >= p.desired; i-- {
			w.stopTask(live[i], ecstypes.TaskStopCodeServiceSchedulerInitiated, "Scaling activity initiated by (deployment "+p.id+")", ptr(int32(0)))
		}
	}
	if p.rollout != ecstypes.DeploymentRolloutStateInProgress {
		return
	}
	healthy := int32(0)
	for _, t := range svc.tasks {
		if t.dep == p && t.desiredStatus == "RUNNING" && t.lastStatus == "RUNNING" && t.plan != planCrash && w.now.Sub(t.startedAt) >= healthyAfter {
			healthy++
		}
	}
	if healthy >= p.desired {
		w.completeDeployment(svc, p)
	}
}

func (w *World) completeDeployment(svc *service, p *deployment) {
	p.rollout = ecstypes.DeploymentRolloutStateCompleted
	p.reason = fmt.Sprintf("ECS deployment %s completed.", p.id)
	p.updated = w.now
	for _, old := range svc.deployments[1:] {
		for _, t := range svc.tasks {
			if t.dep == old {
				w.stopTask(t, ecstypes.TaskStopCodeServiceSchedulerInitiated, "Scaling activity initiated by (deployment "+p.id+")", ptr(int32(0)))
			}
		}
	}
	svc.deployments = svc.deployments[:1]
	svc.lastCompleted = p
	w.oracle.onDeploymentCompleted(svc, p)
	w.emitDeployment(svc, p, "INFO", "SERVICE_DEPLOYMENT_COMPLETED", p.reason)
	w.emitServiceAction(svc, "INFO", "SERVICE_STEADY_STATE")
}

func (w *World) failDeployment(svc *service, d *deployment) {
	d.rollout = ecstypes.DeploymentRolloutStateFailed
	d.reason = "ECS deployment circuit breaker: task failed to start."
	d.updated = w.now
	w.emitDeployment(svc, d, "ERROR", "SERVICE_DEPLOYMENT_FAILED", d.reason)
	for _, t := range svc.tasks {
		if t.dep == d {
			w.stopTask(t, ecstypes.TaskStopCodeServiceSchedulerInitiated, "Deployment failed", ptr(int32(0)))
		}
	}
	w.oracle.onDeploymentFailed(svc, d)
	dc := svc.cfg.DeploymentConfiguration.DeploymentCircuitBreaker
	if dc.Rollback && svc.lastCompleted != nil && svc.lastCompleted != d {
		svc.rollbacks++
		w.newDeployment(svc, svc.lastCompleted.td, true,
			fmt.Sprintf("ECS deployment circuit breaker: rolling back to deploymentId %s.", svc.lastCompleted.id))
	}
}
