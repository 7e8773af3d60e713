package controlplane

import (
	"context"
	"errors"
	"time"

	"github.com/wharf-paas/wharf/contract"
)

// ErrConflict is returned by [Store.SaveApp] when the stored version of the
// app's state is not the version the caller loaded: another invocation
// wrote first. The reconciler reloads and tries again.
var ErrConflict = errors.New("state version conflict")

// Phase is the phase an app is in, as shown to users.
type Phase string

// The phases of an app. Building, releasing and deploying are non-terminal:
// the sweep re-observes an app that stays in one of them too long.
const (
	// PhaseNone is the phase of an app the control plane has not seen yet.
	PhaseNone Phase = ""
	// PhaseBuilding: a build newer than the running one is in progress.
	PhaseBuilding Phase = "building"
	// PhaseReleasing: the release task of [AppState.Build] is running (or
	// its task definitions are being registered).
	PhaseReleasing Phase = "releasing"
	// PhaseDeploying: services are rolling out to [AppState.Build] (a new
	// build or a configuration restart).
	PhaseDeploying Phase = "deploying"
	// PhaseDeployed: every service runs [AppState.Build].
	PhaseDeployed Phase = "deployed"
	// PhaseFailed: [AppState.Build] failed; [AppState.Reason] says why.
	// The services keep running the last deployed build.
	PhaseFailed Phase = "failed"
)

// Terminal reports whether the phase needs no further observation.
func (p Phase) Terminal() bool {
	return p == PhaseNone || p == PhaseDeployed || p == PhaseFailed
}

// OpKind says why an operation runs.
type OpKind string

// Operation kinds.
const (
	// OpBuild deploys a new build.
	OpBuild OpKind = "build"
	// OpConfig restarts the deployed build onto a new configuration.
	OpConfig OpKind = "config"
	// OpScale applies a changed runtime scale setting to the deployed
	// build (counts in place; a size change registers new revisions).
	OpScale OpKind = "scale"
	// OpRestart is a restart request: one new deployment per service of
	// the current task definitions (UpdateService forceNewDeployment).
	OpRestart OpKind = "restart"
	// OpRollback is a rollback request: an earlier deployed build's image
	// and process spec deployed again, without its release command.
	OpRollback OpKind = "rollback"
)

// Step is a step of an operation.
type Step string

// The steps of an operation, in order. A build without a release command
// and a configuration restart skip StepRelease.
const (
	// StepRegister registers the task definitions.
	StepRegister Step = "register"
	// StepRelease runs the release task and waits for it to stop.
	StepRelease Step = "release"
	// StepServices creates and updates the services and schedule rules.
	StepServices Step = "services"
	// StepRollout waits until every service's deployment completes.
	StepRollout Step = "rollout"
	// StepRollback puts services a failed operation changed back on the
	// deployed task definitions (and deletes services it created), then
	// ends the operation as failed.
	StepRollback Step = "rollback"
)

// Outcome is the end of a deploy record.
type Outcome string

// Deploy outcomes. A record without an outcome is still in progress.
const (
	OutcomePending  Outcome = ""
	OutcomeDeployed Outcome = "deployed"
	OutcomeFailed   Outcome = "failed"
	// OutcomeSkipped: a newer build went ahead first (its deploy started).
	OutcomeSkipped Outcome = "skipped"
)

// TrackedBuild is a CodeBuild build the control plane has heard of and not
// yet resolved (deployed, failed or skipped).
type TrackedBuild struct {
	ID     string `json:"id"`
	Number int64  `json:"number,omitempty"`
	// Status is the CodeBuild build status last observed (IN_PROGRESS,
	// SUCCEEDED, FAILED, FAULT, TIMED_OUT, STOPPED); empty before the first
	// observation.
	Status string `json:"status,omitempty"`
	// Location is the artifact location (arn:aws:s3:::bucket/path).
	Location string    `json:"location,omitempty"`
	Commit   string    `json:"commit,omitempty"`
	SeenAt   time.Time `json:"seenAt"`
	// FailedStep is "test" when a failed build stopped in its test step.
	FailedStep string `json:"failedStep,omitempty"`
	// LogGroup and LogStream locate the build's log in CloudWatch Logs.
	LogGroup  string `json:"logGroup,omitempty"`
	LogStream string `json:"logStream,omitempty"`
	// Listed: the sweep's listing of the project found the build, no event
	// named it. Such a build is not deployed over services the control
	// plane did not start (see [Adoption]).
	Listed bool `json:"listed,omitempty"`
}

// Operation is the deploy in progress for an app. There is at most one per
// app, so at most one release task runs per app.
type Operation struct {
	Kind    OpKind `json:"kind"`
	Build   int64  `json:"build"`
	BuildID string `json:"buildId"`
	// Seq numbers configuration restarts of the same build (0 for OpBuild).
	Seq       int                     `json:"seq,omitempty"`
	Step      Step                    `json:"step"`
	StepSince time.Time               `json:"stepSince"`
	Started   time.Time               `json:"started"`
	Metadata  *contract.BuildMetadata `json:"metadata"`
	// ConfigVersion is the config hash baked into the task definitions.
	ConfigVersion string `json:"configVersion,omitempty"`
	// TaskDefs maps process type (and "release") to task definition ARN.
	TaskDefs map[string]string `json:"taskDefs,omitempty"`
	// ReleaseTask is the ARN of the release task once started.
	ReleaseTask string `json:"releaseTask,omitempty"`
	// SkipRelease: the build's release is not run again. Set when the
	// control plane took over an app whose services already ran the
	// build's image on some services (services only ever move to a build
	// after its release succeeded).
	SkipRelease bool `json:"skipRelease,omitempty"`
	// Updated lists process types whose service was created or updated to
	// TaskDefs by this operation.
	Updated []string `json:"updated,omitempty"`
	// Deployments maps a process type to the ID of the deployment that
	// this operation's CreateService or UpdateService answer named as
	// PRIMARY: the rollout is judged from that deployment alone, never from
	// whichever deployment a (possibly lagging) read shows as PRIMARY.
	Deployments map[string]string `json:"deployments,omitempty"`
	// Prior maps a process type to the IDs of the deployments its service
	// had when this operation updated it. A read that shows none but those
	// is one from before the update (not visible yet); a deployment that
	// is neither ours nor prior came after ours (a circuit-breaker
	// rollback, or an update by hand).
	Prior map[string][]string `json:"prior,omitempty"`
	// Recreate lists process types whose service this operation deletes
	// to create it again (a launch type cannot change in place).
	Recreate []string `json:"recreate,omitempty"`
	// SettingsHash identifies the settings the task definitions were
	// registered with (see settingsHash).
	SettingsHash string `json:"settingsHash,omitempty"`
	// ScaleHash identifies the runtime scale setting the task definitions
	// and services were aligned with (see scaleHash); Scale is that
	// setting (nil: none).
	ScaleHash string                 `json:"scaleHash,omitempty"`
	Scale     *contract.ScaleSetting `json:"scale,omitempty"`
	// RequestID is the restart or rollback request the operation applies.
	RequestID string `json:"requestId,omitempty"`
	// Force lists the process types a restart deploys anew
	// (forceNewDeployment); ForceAt is when their deployments were first
	// asked for (a read within TaskVisibleWithin that shows only Prior
	// deployments may be from before the call).
	Force      []string            `json:"force,omitempty"`
	ForceAt    time.Time           `json:"forceAt,omitzero"`
	ForcePrior map[string][]string `json:"forcePrior,omitempty"`
	// FailReason and FailDetail are the failure being rolled back
	// (StepRollback).
	FailReason Reason `json:"failReason,omitempty"`
	FailDetail string `json:"failDetail,omitempty"`
	// Record is the operation's deploy record, written to the history
	// with every save.
	Record *DeployRecord `json:"record"`
}

// Deployment is what the app's services run.
type Deployment struct {
	Build         int64                   `json:"build"`
	BuildID       string                  `json:"buildId"`
	Seq           int                     `json:"seq,omitempty"`
	Metadata      *contract.BuildMetadata `json:"metadata"`
	ConfigVersion string                  `json:"configVersion,omitempty"`
	// SettingsHash identifies the settings the services were aligned
	// with; other settings restart the deployed build (a settings
	// change reaches the services). Empty: not known (an older state).
	SettingsHash string `json:"settingsHash,omitempty"`
	// ScaleHash and Scale are the runtime scale setting the services
	// were aligned with (nil: the build's declared values).
	ScaleHash string                 `json:"scaleHash,omitempty"`
	Scale     *contract.ScaleSetting `json:"scale,omitempty"`
	// Kind is the kind of the operation that deployed it.
	Kind     OpKind            `json:"kind,omitempty"`
	TaskDefs map[string]string `json:"taskDefs,omitempty"`
	At       time.Time         `json:"at"`
}

// AppState is the control plane's record of one app. It is written only
// with [Store.SaveApp]'s conditional write on Version.
type AppState struct {
	Account string `json:"account"`
	App     string `json:"app"`
	// Version is the optimistic-concurrency version: 0 for an app never
	// saved; each successful save increments it.
	Version int64 `json:"version"`

	// Phase, Build, Reason and Detail summarise the app for users and
	// tests: the newest build's progress or outcome.
	Phase      Phase     `json:"phase"`
	Build      int64     `json:"build,omitempty"`
	Reason     Reason    `json:"reason,omitempty"`
	Detail     string    `json:"detail,omitempty"`
	PhaseSince time.Time `json:"phaseSince"`
	UpdatedAt  time.Time `json:"updatedAt"`

	// HighWater is the highest build number that started a deploy or was
	// resolved; an older build never deploys after it.
	HighWater int64 `json:"highWater,omitempty"`
	// Builds are builds heard of and not yet resolved.
	Builds []TrackedBuild `json:"builds,omitempty"`
	// Op is the operation in progress, nil when idle.
	Op *Operation `json:"op,omitempty"`
	// Deployed is what the services run, nil before the first deploy.
	Deployed *Deployment `json:"deployed,omitempty"`
	// Leftover is, while no build is deployed, the failed deploy whose
	// services still run: with nothing to roll back to, its rollback left
	// them as ECS did. A configuration, settings or scale change retries
	// it (docs/controlplane.md); the first deploy that succeeds clears it.
	Leftover *Deployment `json:"leftover,omitempty"`
	// Services are the process types whose ECS services Wharf manages.
	Services []string `json:"services,omitempty"`
	// LastRelease is the newest release task started; a new release waits
	// until it has stopped.
	LastRelease string `json:"lastRelease,omitempty"`
	// LastReleaseAt is when LastRelease was recorded: a task ECS does not
	// show within TaskVisibleWithin of it may not be visible yet.
	LastReleaseAt time.Time `json:"lastReleaseAt,omitzero"`
	// NextSeq numbers configuration restarts.
	NextSeq int `json:"nextSeq,omitempty"`
	// FailedConfig is a configuration version whose restart failed; it is
	// not retried until the configuration changes again.
	FailedConfig string `json:"failedConfig,omitempty"`
	// FailedSettings is a settings hash whose restart failed; it is not
	// retried until the settings change again.
	FailedSettings string `json:"failedSettings,omitempty"`
	// Known are the IDs of recently resolved builds (newest last, at most
	// knownBuildsKept), so late events about them cost no AWS call.
	Known []string `json:"known,omitempty"`
	// ListedBuild is the newest build the sweep's listing of the app's
	// CodeBuild project has looked at; the next listing stops there.
	ListedBuild string `json:"listedBuild,omitempty"`
	// RestartID and RollbackID are the last restart and rollback request
	// IDs applied (or refused): each ID is acted on once.
	RestartID  string `json:"restartId,omitempty"`
	RollbackID string `json:"rollbackId,omitempty"`
	// FailedScale is a scale hash whose operation failed; it is not
	// retried until the scale setting changes again.
	FailedScale string `json:"failedScale,omitempty"`
	// Refusals are the runtime requests refused, one per request kind
	// (scale, restart, rollback), shown in the status document.
	Refusals []Refusal `json:"refusals,omitempty"`
	// Releases are the builds most recently deployed by a build or
	// rollback operation, newest last (at most releasesKept): what a
	// rollback can go back to.
	Releases []Release `json:"releases,omitempty"`
	// Adopted says how the control plane took the app over when it was
	// about to deploy for the first time and found the app's services
	// already running (its state was lost, or another control plane
	// deployed them); nil otherwise.
	Adopted *Adoption `json:"adopted,omitempty"`
}

// Refusal is a runtime request the control plane did not apply.
type Refusal struct {
	Request string    `json:"request"`
	ID      string    `json:"id,omitempty"`
	Reason  Reason    `json:"reason"`
	Detail  string    `json:"detail"`
	At      time.Time `json:"at"`
	// Hash identifies a refused scale setting (refused once per hash).
	Hash string `json:"hash,omitempty"`
}

// Release is a build the app's services ran: its image and process spec,
// so a rollback needs no rebuild and no artifact.
type Release struct {
	Build    int64                   `json:"build"`
	BuildID  string                  `json:"buildId"`
	Metadata *contract.BuildMetadata `json:"metadata"`
	At       time.Time               `json:"at"`
}

// releasesKept bounds AppState.Releases.
const releasesKept = 10

// Adoption outcomes ([Adoption.Outcome]).
const (
	// AdoptedDeployed: every service ran the build's image, so the build
	// was recorded as deployed without any AWS write.
	AdoptedDeployed = "deployed"
	// AdoptedNotDeployed: nothing was deployed, because the services ran
	// another image and only the sweep's listing had found the build, or
	// because the build's deployment had failed (recorded as failed). The
	// build's number is the high-water mark: the next build deploys as
	// usual.
	AdoptedNotDeployed = "not_deployed"
	// AdoptedDeploying: the build's deploy went ahead: its image already
	// ran on some services (its release is not run again), its release
	// task was found (it is waited for, not started again), or a build
	// event named it.
	AdoptedDeploying = "deploying"
)

// Adoption records how the control plane took over an app whose ECS
// services were already running when it first had a build to deploy.
type Adoption struct {
	// Build and BuildID are the build it decided on: the newest
	// successful build the control plane knew of.
	Build   int64  `json:"build"`
	BuildID string `json:"buildId"`
	// Outcome is AdoptedDeployed, AdoptedNotDeployed or AdoptedDeploying.
	Outcome string `json:"outcome"`
	// Services are the process types whose services were running, with
	// the task definitions they ran and their desired counts: a deploy
	// that fails before anything was deployed puts them back on these.
	Services []string          `json:"services,omitempty"`
	TaskDefs map[string]string `json:"taskDefs,omitempty"`
	Counts   map[string]int32  `json:"counts,omitempty"`
	// Detail says what was seen.
	Detail string    `json:"detail"`
	At     time.Time `json:"at"`
}

// PhaseRecord is one step of a deploy with its times.
type PhaseRecord struct {
	Name  string    `json:"name"`
	Start time.Time `json:"start"`
	End   time.Time `json:"end,omitzero"`
}

// DeployRecord is the history of one build (or one configuration restart
// of a build), for a CLI or a dashboard.
type DeployRecord struct {
	Account string `json:"account"`
	App     string `json:"app"`
	Build   int64  `json:"build"`
	BuildID string `json:"buildId,omitempty"`
	Kind    OpKind `json:"kind"`
	// Seq is 0 for a build and the restart number for OpConfig.
	Seq             int               `json:"seq,omitempty"`
	Commit          string            `json:"commit,omitempty"`
	Outcome         Outcome           `json:"outcome,omitempty"`
	Reason          Reason            `json:"reason,omitempty"`
	Detail          string            `json:"detail,omitempty"`
	Phases          []PhaseRecord     `json:"phases,omitempty"`
	ReleaseTask     string            `json:"releaseTask,omitempty"`
	TaskDefinitions map[string]string `json:"taskDefinitions,omitempty"`
	ConfigVersion   string            `json:"configVersion,omitempty"`
	// SortAfter is the newest build attempted when the record's operation
	// started, when its own build is older (a rollback's ceiling, or a
	// restart of a rolled-back build): the record's key sorts after that
	// build's, so the history stays in the order things happened.
	SortAfter int64     `json:"sortAfter,omitempty"`
	Created   time.Time `json:"created"`
	Updated   time.Time `json:"updated"`
}

// Key identifies the record within its app: builds sort by number, and
// configuration restarts of a build sort right after it.
// A rollback's record sorts after the newest build it superseded
// (SortAfter), so the history, newest first, shows it on top.
func (r *DeployRecord) Key() string {
	if r.SortAfter > r.Build {
		return recordKey(r.SortAfter, r.Seq)
	}
	return recordKey(r.Build, r.Seq)
}

// Store keeps app state, deploy history and processed event IDs.
// Implementations: [NewMemoryStore] and [NewDynamoStore].
type Store interface {
	// LoadApp returns the app's state; an app never saved comes back with
	// Version 0 and PhaseNone.
	LoadApp(ctx context.Context, account, app string) (*AppState, error)
	// SaveApp writes st if the stored version still equals st.Version and
	// then increments st.Version; otherwise it returns an error wrapping
	// ErrConflict and changes nothing. The deploy records are written in
	// the same atomic operation (upserted by app and Key).
	SaveApp(ctx context.Context, st *AppState, records ...*DeployRecord) error
	// History returns up to limit deploy records of the app, newest
	// first (limit <= 0 means all).
	History(ctx context.Context, account, app string, limit int) ([]DeployRecord, error)
	// SeenEvent reports whether the event key was marked and has not
	// expired at now.
	SeenEvent(ctx context.Context, key string, now time.Time) (bool, error)
	// MarkEvent records the event key until expires.
	MarkEvent(ctx context.Context, key string, expires time.Time) error
}
