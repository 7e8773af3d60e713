package controlplane

// Reason is a machine-readable failure reason a user can see on an app
// ([AppState.Reason]) and in its deploy history ([DeployRecord.Reason]).
// A human-readable detail accompanies it ([AppState.Detail]).
type Reason string

// The failure reasons. docs/controlplane.md lists them with their causes.
const (
	// ReasonBuildFailed: CodeBuild reported FAILED, FAULT or TIMED_OUT.
	ReasonBuildFailed Reason = "build_failed"
	// ReasonTestsFailed: the build failed in its test step (the app's test
	// command failed in the built image); nothing was pushed. The detail
	// names the build log.
	ReasonTestsFailed Reason = "tests_failed"
	// ReasonBuildStopped: the build was stopped before it finished.
	ReasonBuildStopped Reason = "build_stopped"
	// ReasonMetadataInvalid: wharf-build.json is missing, unreadable or
	// breaks the contract in docs/conventions.md.
	ReasonMetadataInvalid Reason = "build_metadata_invalid"
	// ReasonSettingsInvalid: the app's settings parameter is missing or
	// invalid, so nothing can be deployed.
	ReasonSettingsInvalid Reason = "settings_invalid"
	// ReasonTaskDefinitionRejected: ECS rejected a task definition.
	ReasonTaskDefinitionRejected Reason = "task_definition_rejected"
	// ReasonReleaseFailedToStart: RunTask reported a failure, or the task
	// stopped with TaskFailedToStart (image pull error, for example).
	ReasonReleaseFailedToStart Reason = "release_failed_to_start"
	// ReasonReleaseFailed: the release command exited non-zero or the task
	// stopped for another reason than its container exiting.
	ReasonReleaseFailed Reason = "release_failed"
	// ReasonReleaseTimedOut: the release task ran longer than
	// Options.ReleaseTimeout; the control plane asked ECS to stop it.
	ReasonReleaseTimedOut Reason = "release_timed_out"
	// ReasonReleaseLost: ECS no longer knows the release task.
	ReasonReleaseLost Reason = "release_task_lost"
	// ReasonServiceRejected: ECS rejected a CreateService or UpdateService.
	ReasonServiceRejected Reason = "service_rejected"
	// ReasonDeploymentFailed: a service's deployment failed.
	ReasonDeploymentFailed Reason = "deployment_failed"
	// ReasonDeploymentRolledBack: the deployment circuit breaker rolled a
	// service back to the previous task definition.
	ReasonDeploymentRolledBack Reason = "deployment_rolled_back"
	// ReasonDeploymentTimedOut: services did not settle within
	// Options.RolloutTimeout.
	ReasonDeploymentTimedOut Reason = "deployment_timed_out"
	// ReasonScheduleRejected: the services run the new build but
	// EventBridge rejected a schedule rule (the deploy record's outcome is
	// deployed, the app's phase failed).
	ReasonScheduleRejected Reason = "schedule_rejected"
	// ReasonBuildRefused: the build breaks the control plane's policy
	// (an image outside the app's account and region or not by digest, more
	// processes, schedules or tasks than Options allow); nothing deploys.
	ReasonBuildRefused Reason = "build_refused"
	// ReasonSuperseded: a newer build went ahead first (history only,
	// with OutcomeSkipped).
	ReasonSuperseded Reason = "superseded"
	// ReasonScalingRejected: the services run the new build but
	// Application Auto Scaling rejected a scalable target or policy (as
	// schedule_rejected: outcome deployed, phase failed).
	ReasonScalingRejected Reason = "scaling_rejected"
	// ReasonRequestInvalid: a runtime request parameter (scale, restart,
	// rollback) is not a valid document (status refusals only).
	ReasonRequestInvalid Reason = "request_invalid"
	// ReasonScaleRefused: a scale setting breaks the control plane's
	// policy (MaxCount, autoscaling unavailable); the services keep the
	// scale they run.
	ReasonScaleRefused Reason = "scale_refused"
	// ReasonRestartRefused: a restart names a process the deployed build
	// does not have, or nothing is deployed.
	ReasonRestartRefused Reason = "restart_refused"
	// ReasonRollbackRefused: a rollback names a build this app never
	// deployed successfully (unknown, failed or skipped), or one the
	// policy refuses now.
	ReasonRollbackRefused Reason = "rollback_refused"
)

// Reasons lists every failure reason, for documentation and tests.
var Reasons = []Reason{
	ReasonBuildFailed, ReasonTestsFailed, ReasonBuildStopped, ReasonMetadataInvalid, ReasonSettingsInvalid,
	ReasonTaskDefinitionRejected, ReasonReleaseFailedToStart, ReasonReleaseFailed,
	ReasonReleaseTimedOut, ReasonReleaseLost, ReasonServiceRejected, ReasonDeploymentFailed,
	ReasonDeploymentRolledBack, ReasonDeploymentTimedOut, ReasonScheduleRejected, ReasonBuildRefused, ReasonSuperseded,
	ReasonScalingRejected, ReasonRequestInvalid, ReasonScaleRefused, ReasonRestartRefused, ReasonRollbackRefused,
}
