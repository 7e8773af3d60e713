package controlplane

import (
	"slices"

	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/wharf-paas/wharf/contract"
)

// Observation is what AWS said about one app during one reconcile: the
// only input of [Decide] besides the state, the clock and the policy. The
// event chooses what is observed (a build event names its build, a
// configuration event asks for the configuration check), never what is
// decided. Every field is optional: Decide asks for what it lacks
// ([Need]) and the runner observes it. The answers of the control plane's
// own calls (a registered task definition, a started task, the deployment
// an UpdateService created) are observations too.
type Observation struct {
	// Builds are the CodeBuild builds described (BatchGetBuilds), by ID;
	// BuildsMissing those CodeBuild does not know.
	Builds        map[string]buildObservation
	BuildsMissing []string
	// Metadata is the wharf-build.json of a build, by build ID, or the
	// reason it cannot be deployed.
	Metadata map[string]metadataResult
	// CheckConfig asks for the configuration and settings check of an
	// idle deployed app (a configuration or settings event, the sweep, a
	// manual reconcile, or an operation that just ended).
	CheckConfig bool
	// Settings is the settings document, or SettingsErr why it is
	// unusable; SettingsSeen says it was read.
	Settings     *contract.Settings
	SettingsErr  *permanentError
	SettingsSeen bool
	// Config lists the config parameters (names and versions).
	Config *configSnapshot
	// TaskDefs are the families' latest revisions (DescribeTaskDefinition
	// with tags) and the revisions this reconcile registered, by family.
	TaskDefs map[string]taskDefObservation
	// Tasks are tasks described by ARN; a nil entry is a task ECS does not
	// know.
	Tasks map[string]*ecstypes.Task
	// ReleaseTasks are the release family's tasks ECS still lists
	// (running, and stopped within about an hour), described.
	ReleaseTasks     []ecstypes.Task
	ReleaseTasksSeen bool
	// Services are the app's services by process type (nil: missing or
	// INACTIVE); ServicesSeen says which were described.
	Services     map[string]*ecstypes.Service
	ServicesSeen map[string]bool
	// NameInUse are the process types whose CreateService ECS refused
	// this reconcile because the name is taken (a draining service, or
	// one a lagging read did not show): not created again before a later
	// reconcile reads the service afresh.
	NameInUse map[string]bool
	// AppServices are the process types of the app's services in its
	// cluster (ListServices), for the adoption check; AppServicesErr the
	// API error code that prevented the listing, if any.
	AppServices     []string
	AppServicesErr  string
	AppServicesSeen bool
	// Running describes the task definitions services run (image, build,
	// config version), by ARN.
	Running map[string]*runningService
	// Rules are the app's schedule rules (ListRules), Targets the targets
	// of rules by name (ListTargetsByRule).
	Rules       map[string]ebtypes.Rule
	RulesSeen   bool
	Targets     map[string][]ebtypes.Target
	TargetsSeen map[string]bool

	// Requests are the runtime request parameters (scale, restart,
	// rollback); nil: not read.
	Requests *requestsObservation
	// Scaling are the app's Application Auto Scaling targets and
	// policies by process type; ScalingSeen says they were read.
	Scaling     map[string]scalingObservation
	ScalingSeen bool

	// Answers of this reconcile's own calls.
	//
	// Ran is the release task RunTask started.
	Ran *ecstypes.Task
	// ServiceAnswers are the services as CreateService/UpdateService
	// answered, with the service as read before the call, by process.
	ServiceAnswers map[string]serviceAnswer
	// Deleted are process types whose service this reconcile deleted.
	Deleted map[string]bool
	// Failure is a call ECS or EventBridge rejected for good.
	Failure *permanentError
	// Acted says the actions of a step were carried out (their answers
	// are in): the rollout's finish (schedules, removed services) and
	// the rollback.
	Acted map[Step]bool
}

// metadataResult is a build's metadata or why it is unusable.
type metadataResult struct {
	Meta *contract.BuildMetadata
	Err  *permanentError
}

// taskDefObservation is a family's latest revision with its spec hash.
type taskDefObservation struct {
	ARN, Hash string
	Active    bool
}

// serviceAnswer is a service as this reconcile's call left it.
type serviceAnswer struct {
	Service, Before *ecstypes.Service
}

// Need lists what Decide lacks to decide: the runner observes it and asks
// again. A zero Need asks for nothing.
type Need struct {
	Builds       []string
	Metadata     *TrackedBuild
	Settings     bool
	Config       bool
	TaskDefs     []string
	Tasks        []string
	ReleaseTasks bool
	Services     []string
	AppServices  bool
	Running      []string
	Rules        bool
	Targets      []string
	// Requests: the runtime request parameters; Scaling: the scalable
	// targets and policies of these process types.
	Requests bool
	Scaling  []string
}

// IsZero reports whether n asks for nothing.
func (n Need) IsZero() bool {
	return len(n.Builds) == 0 && n.Metadata == nil && !n.Settings && !n.Config && len(n.TaskDefs) == 0 &&
		len(n.Tasks) == 0 && !n.ReleaseTasks && len(n.Services) == 0 && !n.AppServices && len(n.Running) == 0 &&
		!n.Rules && len(n.Targets) == 0 && !n.Requests && len(n.Scaling) == 0
}

// missingServices lists the processes of procs not yet described.
func (o *Observation) missingServices(procs []string) []string {
	var out []string
	for _, p := range procs {
		if !o.ServicesSeen[p] {
			out = append(out, p)
		}
	}
	return out
}

// forgetServices drops the service observations (after a step change, so
// the next step reads them afresh).
func (o *Observation) forgetServices() {
	o.Services, o.ServicesSeen = nil, nil
}

// forgetService drops the observation of one process's service, so the
// next decision reads it again.
func (o *Observation) forgetService(proc string) {
	delete(o.Services, proc)
	delete(o.ServicesSeen, proc)
}

func (o *Observation) setService(proc string, s *ecstypes.Service) {
	if o.Services == nil {
		o.Services, o.ServicesSeen = map[string]*ecstypes.Service{}, map[string]bool{}
	}
	o.Services[proc] = s
	o.ServicesSeen[proc] = true
}

// unseen returns the items of want not in seen.
func unseen[V any](want []string, seen map[string]V) []string {
	var out []string
	for _, w := range want {
		if _, ok := seen[w]; !ok && !slices.Contains(out, w) {
			out = append(out, w)
		}
	}
	return out
}
