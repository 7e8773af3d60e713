package contract

import "strconv"

// StatusVersion is the version of the AppStatus document.
const StatusVersion = 1

// AppStatus is the status document the control plane publishes for an app
// in the SSM String parameter /<prefix>/apps/<app>/status
// (Names.StatusParameter), written with the app's management role and
// readable by its user role. The CLI (wharf status) and the dashboard read
// it; fields may be added, none renamed or removed.
type AppStatus struct {
	Version int    `json:"version"`
	App     string `json:"app"`
	// Phase is the control plane's phase: building, releasing, deploying,
	// deployed, failed, or "" before the first build.
	Phase string `json:"phase"`
	// Build is the build the phase refers to; Commit its commit.
	Build  int64  `json:"build,omitempty"`
	Commit string `json:"commit,omitempty"`
	// Op is the operation in progress, nil when idle.
	Op *StatusOp `json:"op,omitempty"`
	// Reason is the failure reason code (controlplane/reasons.go), empty
	// unless the phase is failed; Detail is human-readable.
	Reason string `json:"reason,omitempty"`
	Detail string `json:"detail,omitempty"`
	// Deployed is what the services run, nil before the first deploy.
	Deployed *StatusDeployed `json:"deployed,omitempty"`
	// Processes are the deployed processes with their desired counts.
	Processes map[string]StatusProcess `json:"processes,omitempty"`
	// UpdatedAt is when the status last changed (RFC 3339).
	UpdatedAt string `json:"updatedAt,omitempty"`
	// Refusals are runtime requests (scale, restart, rollback) the control
	// plane did not apply, with the reason; at most one per request kind,
	// cleared when a later request of that kind is applied.
	Refusals []StatusRefusal `json:"refusals,omitempty"`
}

// StatusRefusal is a runtime request the control plane refused.
type StatusRefusal struct {
	// Request is scale, restart or rollback; ID the request's ID (empty
	// for a scale setting).
	Request string `json:"request"`
	ID      string `json:"id,omitempty"`
	// Reason is a machine-readable code, Detail says why in words.
	Reason string `json:"reason"`
	Detail string `json:"detail"`
	At     string `json:"at,omitempty"`
}

// StatusOp is the operation in progress.
type StatusOp struct {
	// Kind is build, config, restart or rollback.
	Kind  string `json:"kind"`
	Build int64  `json:"build,omitempty"`
	// Step is register, release, services, rollout or rollback.
	Step string `json:"step,omitempty"`
	// Since is when the step began, Started when the operation began
	// (RFC 3339).
	Since   string `json:"since,omitempty"`
	Started string `json:"started,omitempty"`
}

// StatusDeployed is the deployed build.
type StatusDeployed struct {
	Build  int64  `json:"build"`
	Commit string `json:"commit,omitempty"`
	At     string `json:"at,omitempty"`
}

// StatusProcess is one deployed process with its effective scale: the
// runtime scale setting over the build's declared values (ScaleSetting).
type StatusProcess struct {
	// Desired is the fixed count, or the autoscaling minimum.
	Desired int `json:"desired"`
	// Autoscaled: Application Auto Scaling tracks CPUTarget percent or
	// RequestsPerTarget between Min and Max; the running count is
	// whatever it chose (the service's, not the control plane's).
	Autoscaled        bool `json:"autoscaled,omitempty"`
	Min               int  `json:"min,omitempty"`
	Max               int  `json:"max,omitempty"`
	CPUTarget         int  `json:"cpuTarget,omitempty"`
	RequestsPerTarget int  `json:"requestsPerTarget,omitempty"`
	// CPU (units) and Memory (MiB) are the task size.
	CPU    int `json:"cpu,omitempty"`
	Memory int `json:"memory,omitempty"`
	// Source is "scale" when a runtime scale setting names the process;
	// empty when the build's declared values apply.
	Source string `json:"source,omitempty"`
}

// Activity event kinds (ActivityEvent.Event).
const (
	ActivityPhase  = "phase"
	ActivityStep   = "step"
	ActivityDeploy = "deploy"
)

// ActivityEvent is one event of an app's activity log: one JSON object per
// CloudWatch Logs event in the group /<prefix>/apps/<app>/activity
// (Names.ActivityLogGroup), stream build-<n> (ActivityStream). A deploy's
// timeline is its stream's events in order; the deploy history is the
// last "deploy" event of each stream.
type ActivityEvent struct {
	Time   string `json:"time"`
	App    string `json:"app"`
	Build  int64  `json:"build"`
	Commit string `json:"commit,omitempty"`
	// Kind is the operation kind (build, config, restart, rollback).
	Kind string `json:"kind,omitempty"`
	// Event is phase, step or deploy.
	Event string `json:"event"`
	Phase string `json:"phase,omitempty"`
	Step  string `json:"step,omitempty"`
	// Outcome is deployed, failed or skipped on a deploy event.
	Outcome string `json:"outcome,omitempty"`
	Reason  string `json:"reason,omitempty"`
	Detail  string `json:"detail,omitempty"`
}

// ActivityStream is the activity log stream of a build: build-<n>.
func ActivityStream(build int64) string { return "build-" + strconv.FormatInt(build, 10) }
