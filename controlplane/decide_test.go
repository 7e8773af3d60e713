package controlplane

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/wharf-paas/wharf/contract"
)

// The state machine's table tests: Decide on a state and an observation,
// no AWS world, no store. Each case names the transition of
// docs/controlplane.md it checks.

var dtNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

var dtPol = Policy{Prefix: "wharf", Account: twAccount, App: "api", Region: twRegion,
	StuckAfter: DefaultStuckAfter, ReleaseTimeout: DefaultReleaseTimeout, RolloutTimeout: DefaultRolloutTimeout, CanStopTasks: true,
	MaxProcesses: DefaultMaxProcesses, MaxSchedules: DefaultMaxSchedules, MaxCount: DefaultMaxCount}

func dtSettings() *contract.Settings {
	return &contract.Settings{
		Version: 1, App: "api", Prefix: "wharf", ClusterARN: twCluster,
		Subnets: []string{"subnet-1", "subnet-2"}, SecurityGroups: []string{"sg-1"}, AssignPublicIP: true,
		LaunchType: "FARGATE", TargetGroupARN: "arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/wharf-api/abc",
		ContainerPort: 8080, ExecutionRoleARN: "arn:aws:iam::111122223333:role/exec",
		TaskRoleARN: "arn:aws:iam::111122223333:role/task", EventsRoleARN: "arn:aws:iam::111122223333:role/events",
		LogGroup: "/wharf/apps/api", CodeBuildProject: "wharf-api", ConfigPrefix: "/wharf/apps/api/config/",
	}
}

const (
	dtTD1 = "arn:aws:ecs:eu-west-1:111122223333:task-definition/wharf-api_web:1"
	dtTD2 = "arn:aws:ecs:eu-west-1:111122223333:task-definition/wharf-api_web:2"
)

// dtDeployed is an app that runs build 1 (web) and is idle.
func dtDeployed() *AppState {
	set := dtSettings()
	return &AppState{Account: twAccount, App: "api", Version: 3, Phase: PhaseDeployed, Build: 1, HighWater: 1,
		Services: []string{"web"},
		Deployed: &Deployment{Build: 1, BuildID: "wharf-api:b1", Metadata: twMeta("api", 1, "", "web"), ConfigVersion: "cfg1",
			SettingsHash: settingsHash(set), TaskDefs: map[string]string{"web": dtTD1}}}
}

// dtOp is build 2's operation at step.
func dtOp(step Step) *AppState {
	st := dtDeployed()
	st.HighWater, st.Phase, st.Build = 2, PhaseDeploying, 2
	st.Op = &Operation{Kind: OpBuild, Build: 2, BuildID: "wharf-api:b2", Step: step, StepSince: dtNow.Add(-time.Minute),
		Started: dtNow.Add(-2 * time.Minute), Metadata: twMeta("api", 2, "bin/migrate", "web"),
		TaskDefs:      map[string]string{"web": dtTD2, "release": "arn:aws:ecs:eu-west-1:111122223333:task-definition/wharf-api_release:2"},
		ConfigVersion: "cfg1", SettingsHash: settingsHash(dtSettings()),
		Record: &DeployRecord{Account: twAccount, App: "api", Build: 2, Kind: OpBuild, Phases: []PhaseRecord{{Name: string(step), Start: dtNow}}}}
	return st
}

func dtObs(mut func(o *Observation)) *Observation {
	o := &Observation{Settings: dtSettings(), SettingsSeen: true, Config: &configSnapshot{version: "cfg1"}, Requests: &requestsObservation{}}
	if mut != nil {
		mut(o)
	}
	return o
}

func dtService(td string, deps ...ecstypes.Deployment) *ecstypes.Service {
	set := dtSettings()
	sp := desiredServiceSpec(set, "web", td, 1)
	in := sp.createInput(set.ClusterARN, "wharf-api_web")
	return &ecstypes.Service{ServiceName: aws.String("wharf-api_web"), Status: aws.String("ACTIVE"), DesiredCount: 1,
		TaskDefinition: aws.String(td), LaunchType: in.LaunchType, NetworkConfiguration: in.NetworkConfiguration,
		LoadBalancers: in.LoadBalancers, DeploymentConfiguration: in.DeploymentConfiguration,
		HealthCheckGracePeriodSeconds: in.HealthCheckGracePeriodSeconds, PropagateTags: in.PropagateTags, Deployments: deps}
}

func dtDep(id, status, td string, rs ecstypes.DeploymentRolloutState) ecstypes.Deployment {
	return ecstypes.Deployment{Id: aws.String(id), Status: aws.String(status), TaskDefinition: aws.String(td), RolloutState: rs, DesiredCount: 1, RunningCount: 1}
}

func kinds(acts []Action) []ActionKind {
	var out []ActionKind
	for _, a := range acts {
		out = append(out, a.Kind)
	}
	return out
}

func TestDecide(t *testing.T) {
	meta2 := twMeta("api", 2, "bin/migrate", "web")
	succeeded := func(st *AppState) *AppState {
		st.Builds = []TrackedBuild{{ID: "wharf-api:b2", Number: 2, Status: "SUCCEEDED", Location: "arn:aws:s3:::b/api/builds/2"}}
		return st
	}
	for _, tc := range []struct {
		name  string
		st    *AppState
		obs   *Observation
		check func(t *testing.T, d Decision)
	}{
		{"a heard-of build is observed first", func() *AppState {
			st := dtDeployed()
			st.Builds = []TrackedBuild{{ID: "wharf-api:b2"}}
			return st
		}(), dtObs(nil), func(t *testing.T, d Decision) {
			if !slices.Equal(d.Need.Builds, []string{"wharf-api:b2"}) || len(d.Actions) != 0 {
				t.Fatalf("need %+v actions %v", d.Need, kinds(d.Actions))
			}
		}},
		{"deployed -> building: newer build IN_PROGRESS", func() *AppState {
			st := dtDeployed()
			st.Builds = []TrackedBuild{{ID: "wharf-api:b2"}}
			return st
		}(), dtObs(func(o *Observation) {
			o.Builds = map[string]buildObservation{"wharf-api:b2": {Status: "IN_PROGRESS", Number: 2}}
		}), func(t *testing.T, d Decision) {
			if d.State.Phase != PhaseBuilding || d.State.Build != 2 || d.State.Op != nil {
				t.Fatalf("state %s %d op %v", d.State.Phase, d.State.Build, d.State.Op)
			}
		}},
		{"building -> failed: build FAILED", func() *AppState {
			st := dtDeployed()
			st.Builds = []TrackedBuild{{ID: "wharf-api:b2", Number: 2, Status: "FAILED"}}
			return st
		}(), dtObs(nil), func(t *testing.T, d Decision) {
			if d.State.Phase != PhaseFailed || d.State.Reason != ReasonBuildFailed || len(d.Records) != 1 || d.Records[0].Outcome != OutcomeFailed {
				t.Fatalf("state %s %s records %+v", d.State.Phase, d.State.Reason, d.Records)
			}
		}},
		{"a SUCCEEDED build needs its metadata", succeeded(dtDeployed()), dtObs(nil), func(t *testing.T, d Decision) {
			if d.Need.Metadata == nil || d.Need.Metadata.ID != "wharf-api:b2" {
				t.Fatalf("need %+v", d.Need)
			}
		}},
		{"building -> failed: wharf-build.json invalid", succeeded(dtDeployed()), dtObs(func(o *Observation) {
			o.Metadata = map[string]metadataResult{"wharf-api:b2": {Err: &permanentError{reason: ReasonMetadataInvalid, err: errString("bad")}}}
		}), func(t *testing.T, d Decision) {
			if d.State.Phase != PhaseFailed || d.State.Reason != ReasonMetadataInvalid || d.State.HighWater != 2 || d.State.Op != nil {
				t.Fatalf("state %+v", d.State)
			}
		}},
		{"deployed -> register: newer build SUCCEEDED (no adoption check: deployed before)", succeeded(dtDeployed()), dtObs(func(o *Observation) {
			o.Metadata = map[string]metadataResult{"wharf-api:b2": {Meta: meta2}}
		}), func(t *testing.T, d Decision) {
			if d.State.Op == nil || d.State.Op.Step != StepRegister || d.State.Phase != PhaseReleasing || d.State.HighWater != 2 || len(d.Actions) != 0 {
				t.Fatalf("state %+v actions %v", d.State, kinds(d.Actions))
			}
		}},
		{"register: families described first", dtOp(StepRegister), dtObs(nil), func(t *testing.T, d Decision) {
			if !slices.Equal(d.Need.TaskDefs, []string{"wharf-api_web", "wharf-api_release"}) {
				t.Fatalf("need %+v", d.Need)
			}
		}},
		{"register: a revision with another spec is registered, nothing else", dtOp(StepRegister), dtObs(func(o *Observation) {
			o.TaskDefs = map[string]taskDefObservation{"wharf-api_web": {ARN: dtTD1, Hash: "other", Active: true}, "wharf-api_release": {}}
		}), func(t *testing.T, d Decision) {
			if !slices.Equal(kinds(d.Actions), []ActionKind{ActRegisterTaskDefinition, ActRegisterTaskDefinition}) || d.State.Op.Step != StepRegister {
				t.Fatalf("actions %v step %s", kinds(d.Actions), d.State.Op.Step)
			}
		}},
		{"register -> release: every revision matches its spec", dtOp(StepRegister), func() *Observation {
			st := dtOp(StepRegister)
			o := dtObs(nil)
			o.TaskDefs = map[string]taskDefObservation{}
			for _, p := range []string{"web", "release"} {
				in := taskDefInput(dtPol, dtSettings(), st.Op, o.Config, p)
				o.TaskDefs[FamilyName("wharf", "api", p)] = taskDefObservation{ARN: "arn:" + p, Hash: taskDefHash(in), Active: true}
			}
			return o
		}(), func(t *testing.T, d Decision) {
			if d.State.Op.Step != StepRelease || d.State.Op.TaskDefs["web"] != "arn:web" || len(d.Actions) != 0 {
				t.Fatalf("step %s defs %v actions %v", d.State.Op.Step, d.State.Op.TaskDefs, kinds(d.Actions))
			}
		}},
		{"register -> failed: settings invalid", dtOp(StepRegister), dtObs(func(o *Observation) {
			o.Settings, o.SettingsErr = nil, &permanentError{reason: ReasonSettingsInvalid, err: errString("no subnets")}
		}), func(t *testing.T, d Decision) {
			if d.State.Op != nil || d.State.Reason != ReasonSettingsInvalid || len(d.Actions) != 0 {
				t.Fatalf("state %+v actions %v", d.State, kinds(d.Actions))
			}
		}},
		{"release: no task of the build listed -> RunTask", dtOp(StepRelease), dtObs(func(o *Observation) { o.ReleaseTasksSeen = true }),
			func(t *testing.T, d Decision) {
				if !slices.Equal(kinds(d.Actions), []ActionKind{ActRunTask}) || d.Actions[0].RunTask.StartedBy == nil {
					t.Fatalf("actions %v", kinds(d.Actions))
				}
			}},
		{"release: RunTask's answer is recorded", dtOp(StepRelease), dtObs(func(o *Observation) {
			o.ReleaseTasksSeen = true
			o.Ran = &ecstypes.Task{TaskArn: aws.String("arn:task/1")}
		}), func(t *testing.T, d Decision) {
			if d.State.Op.ReleaseTask != "arn:task/1" || d.State.LastRelease != "arn:task/1" || len(d.Actions) != 0 {
				t.Fatalf("op %+v", d.State.Op)
			}
		}},
		{"release -> services: STOPPED, EssentialContainerExited, exit 0", func() *AppState {
			st := dtOp(StepRelease)
			st.Op.ReleaseTask = "arn:task/1"
			return st
		}(), dtObs(func(o *Observation) {
			o.Tasks = map[string]*ecstypes.Task{"arn:task/1": {LastStatus: aws.String("STOPPED"), StopCode: ecstypes.TaskStopCodeEssentialContainerExited,
				Containers: []ecstypes.Container{{Name: aws.String(contract.ContainerName), ExitCode: aws.Int32(0)}}}}
		}), func(t *testing.T, d Decision) {
			if d.State.Op.Step != StepServices || d.State.LastRelease != "" {
				t.Fatalf("op %+v", d.State.Op)
			}
		}},
		{"release -> failed: exit code", func() *AppState {
			st := dtOp(StepRelease)
			st.Op.ReleaseTask = "arn:task/1"
			return st
		}(), dtObs(func(o *Observation) {
			o.Tasks = map[string]*ecstypes.Task{"arn:task/1": {LastStatus: aws.String("STOPPED"), StopCode: ecstypes.TaskStopCodeEssentialContainerExited,
				Containers: []ecstypes.Container{{Name: aws.String(contract.ContainerName), ExitCode: aws.Int32(3)}}}}
		}), func(t *testing.T, d Decision) {
			if d.State.Op != nil || d.State.Reason != ReasonReleaseFailed || len(d.Actions) != 0 {
				t.Fatalf("state %+v", d.State)
			}
		}},
		{"release -> failed: timed out; the task is stopped after the state is saved", func() *AppState {
			st := dtOp(StepRelease)
			st.Op.ReleaseTask, st.Op.StepSince = "arn:task/1", dtNow.Add(-DefaultReleaseTimeout)
			return st
		}(), dtObs(func(o *Observation) {
			o.Tasks = map[string]*ecstypes.Task{"arn:task/1": {LastStatus: aws.String("RUNNING")}}
		}), func(t *testing.T, d Decision) {
			if d.State.Op != nil || d.State.Reason != ReasonReleaseTimedOut || !slices.Equal(kinds(d.Actions), []ActionKind{ActStopTask}) {
				t.Fatalf("state %s actions %v", d.State.Reason, kinds(d.Actions))
			}
		}},
		{"release: a task started moments ago and not shown yet is not lost (eventual consistency)", func() *AppState {
			st := dtOp(StepRelease)
			st.Op.ReleaseTask, st.Op.StepSince = "arn:task/1", dtNow.Add(-10*time.Second)
			st.LastRelease, st.LastReleaseAt = "arn:task/1", dtNow.Add(-10*time.Second)
			return st
		}(), dtObs(func(o *Observation) { o.Tasks = map[string]*ecstypes.Task{"arn:task/1": nil} }), func(t *testing.T, d Decision) {
			if d.State.Op == nil || d.State.Op.Step != StepRelease || d.State.Reason != "" || d.State.LastRelease != "arn:task/1" || len(d.Actions) != 0 {
				t.Fatalf("state %s %s op %+v actions %v", d.State.Phase, d.State.Reason, d.State.Op, kinds(d.Actions))
			}
		}},
		{"release: no second release while the recorded one may not be visible yet", func() *AppState {
			st := dtOp(StepRelease)
			st.LastRelease, st.LastReleaseAt = "arn:task/0", dtNow.Add(-10*time.Second)
			return st
		}(), dtObs(func(o *Observation) {
			o.Tasks = map[string]*ecstypes.Task{"arn:task/0": nil}
			o.ReleaseTasksSeen = true
		}), func(t *testing.T, d Decision) {
			if len(d.Actions) != 0 || d.State.LastRelease != "arn:task/0" || d.State.Op.ReleaseTask != "" {
				t.Fatalf("actions %v last %q op %+v", kinds(d.Actions), d.State.LastRelease, d.State.Op)
			}
		}},
		{"release: a recorded release not shown long after it started is forgotten -> RunTask", func() *AppState {
			st := dtOp(StepRelease)
			st.LastRelease, st.LastReleaseAt = "arn:task/0", dtNow.Add(-TaskVisibleWithin)
			return st
		}(), dtObs(func(o *Observation) {
			o.Tasks = map[string]*ecstypes.Task{"arn:task/0": nil}
			o.ReleaseTasksSeen = true
		}), func(t *testing.T, d Decision) {
			if !slices.Equal(kinds(d.Actions), []ActionKind{ActRunTask}) {
				t.Fatalf("actions %v", kinds(d.Actions))
			}
		}},
		{"services: settings changed since register -> register again, even over ECS's rejection", dtOp(StepServices), dtObs(func(o *Observation) {
			o.setService("web", dtService(dtTD1, dtDep("d1", "PRIMARY", dtTD1, "COMPLETED")))
			o.Settings.ContainerPort = 3000
			o.Failure = &permanentError{reason: ReasonServiceRejected, err: errString("The container app did not have a container port 3000 defined")}
		}), func(t *testing.T, d Decision) {
			if d.State.Op == nil || d.State.Op.Step != StepRegister || d.State.Reason != "" || len(d.Actions) != 0 {
				t.Fatalf("state %s %s op %+v actions %v", d.State.Phase, d.State.Reason, d.State.Op, kinds(d.Actions))
			}
		}},
		{"release -> failed: lost", func() *AppState {
			st := dtOp(StepRelease)
			st.Op.ReleaseTask, st.Op.StepSince = "arn:task/1", dtNow.Add(-TaskVisibleWithin)
			return st
		}(), dtObs(func(o *Observation) { o.Tasks = map[string]*ecstypes.Task{"arn:task/1": nil} }), func(t *testing.T, d Decision) {
			if d.State.Reason != ReasonReleaseLost {
				t.Fatalf("reason %s", d.State.Reason)
			}
		}},
		{"services: only the fields that differ are sent", func() *AppState {
			// Registered with the new subnets (the task definitions do not
			// carry them).
			st := dtOp(StepServices)
			set := dtSettings()
			set.Subnets = []string{"subnet-9"}
			st.Op.SettingsHash = settingsHash(set)
			return st
		}(), dtObs(func(o *Observation) {
			o.setService("web", dtService(dtTD1, dtDep("d1", "PRIMARY", dtTD1, "COMPLETED")))
			o.Settings.Subnets = []string{"subnet-9"}
		}), func(t *testing.T, d Decision) {
			if !slices.Equal(kinds(d.Actions), []ActionKind{ActUpdateService}) {
				t.Fatalf("actions %v", kinds(d.Actions))
			}
			in := d.Actions[0].UpdateService
			if aws.ToString(in.TaskDefinition) != dtTD2 || in.NetworkConfiguration == nil || in.DesiredCount != nil || in.LoadBalancers != nil {
				t.Fatalf("UpdateService %+v", in)
			}
		}},
		{"services -> rollout: the answer's deployment is recorded", dtOp(StepServices), dtObs(func(o *Observation) {
			before := dtService(dtTD1, dtDep("d1", "PRIMARY", dtTD1, "COMPLETED"))
			o.setService("web", before)
			o.ServiceAnswers = map[string]serviceAnswer{"web": {Service: dtService(dtTD2, dtDep("d2", "PRIMARY", dtTD2, "IN_PROGRESS"),
				dtDep("d1", "ACTIVE", dtTD1, "COMPLETED")), Before: before}}
		}), func(t *testing.T, d Decision) {
			op := d.State.Op
			if op.Step != StepRollout || op.Deployments["web"] != "d2" || !slices.Equal(op.Prior["web"], []string{"d1"}) || !slices.Equal(op.Updated, []string{"web"}) {
				t.Fatalf("op %+v", op)
			}
		}},
		{"rollout: a read from before our update is not a rollback", func() *AppState {
			st := dtOp(StepRollout)
			st.Op.Updated, st.Op.Deployments, st.Op.Prior = []string{"web"}, map[string]string{"web": "d2"}, map[string][]string{"web": {"d1"}}
			return st
		}(), dtObs(func(o *Observation) {
			o.setService("web", dtService(dtTD1, dtDep("d1", "PRIMARY", dtTD1, "COMPLETED")))
		}), func(t *testing.T, d Decision) {
			if d.State.Op == nil || d.State.Op.Step != StepRollout || len(d.Actions) != 0 {
				t.Fatalf("op %+v actions %v", d.State.Op, kinds(d.Actions))
			}
		}},
		{"rollout -> rollback: the circuit breaker replaced our deployment", func() *AppState {
			st := dtOp(StepRollout)
			st.Op.Updated, st.Op.Deployments, st.Op.Prior = []string{"web"}, map[string]string{"web": "d2"}, map[string][]string{"web": {"d1"}}
			return st
		}(), dtObs(func(o *Observation) {
			o.setService("web", dtService(dtTD1, dtDep("d3", "PRIMARY", dtTD1, "IN_PROGRESS"), dtDep("d2", "ACTIVE", dtTD2, "FAILED")))
		}), func(t *testing.T, d Decision) {
			if d.State.Op.Step != StepRollback || d.State.Op.FailReason != ReasonDeploymentRolledBack {
				t.Fatalf("op %+v", d.State.Op)
			}
		}},
		{"rollout: completed -> the schedule rules are observed", func() *AppState {
			st := dtOp(StepRollout)
			st.Op.Updated, st.Op.Deployments = []string{"web"}, map[string]string{"web": "d2"}
			return st
		}(), dtObs(func(o *Observation) {
			o.setService("web", dtService(dtTD2, dtDep("d2", "PRIMARY", dtTD2, "COMPLETED")))
		}), func(t *testing.T, d Decision) {
			if !d.Need.Rules {
				t.Fatalf("need %+v", d.Need)
			}
		}},
		{"rollout -> deployed: nothing to align", func() *AppState {
			st := dtOp(StepRollout)
			st.Op.Updated, st.Op.Deployments = []string{"web"}, map[string]string{"web": "d2"}
			return st
		}(), dtObs(func(o *Observation) {
			o.setService("web", dtService(dtTD2, dtDep("d2", "PRIMARY", dtTD2, "COMPLETED")))
			o.RulesSeen, o.Rules = true, map[string]ebtypes.Rule{}
		}), func(t *testing.T, d Decision) {
			if d.State.Op != nil || d.State.Phase != PhaseDeployed || d.State.Deployed.Build != 2 || len(d.Records) != 1 {
				t.Fatalf("state %+v", d.State)
			}
		}},
		{"rollback: services go back on the deployed build, then failed", func() *AppState {
			st := dtOp(StepRollback)
			st.Op.Updated, st.Op.FailReason = []string{"web"}, ReasonDeploymentFailed
			st.Op.Deployments, st.Op.Prior = map[string]string{"web": "d2"}, map[string][]string{"web": {"d1"}}
			return st
		}(), dtObs(func(o *Observation) {
			o.setService("web", dtService(dtTD2, dtDep("d2", "PRIMARY", dtTD2, "FAILED")))
		}), func(t *testing.T, d Decision) {
			if !slices.Equal(kinds(d.Actions), []ActionKind{ActUpdateService}) || aws.ToString(d.Actions[0].UpdateService.TaskDefinition) != dtTD1 ||
				d.ActsFor != StepRollback || d.State.Op == nil {
				t.Fatalf("actions %v acts for %s", kinds(d.Actions), d.ActsFor)
			}
		}},
		{"rollback: an autoscaled process's count is left alone though the adopted deployment's scale is unknown (seed 1792)", func() *AppState {
			st := dtOp(StepRollback)
			// State lost, then adopted: the deployment does not know the
			// scale setting its services were aligned with.
			st.Deployed.ScaleHash, st.Deployed.Scale = scaleUnknown, nil
			st.Deployed.Metadata = twMeta("api", 1, "", "web")
			two := int32(2)
			st.Deployed.Metadata.Processes["web"] = contract.Process{Count: &two}
			sc := &contract.ScaleSetting{Version: 1, Processes: map[string]contract.ProcessScale{"web": {Min: 1, Max: 3, CPUTarget: 60}}}
			st.Op.Scale, st.Op.ScaleHash = sc, scaleHash(sc)
			st.Op.Updated, st.Op.FailReason = []string{"web"}, ReasonDeploymentRolledBack
			st.Op.Deployments, st.Op.Prior = map[string]string{"web": "d2"}, map[string][]string{"web": {"d1"}}
			return st
		}(), dtObs(func(o *Observation) {
			o.setService("web", dtService(dtTD2, dtDep("d2", "PRIMARY", dtTD2, "FAILED")))
		}), func(t *testing.T, d Decision) {
			for _, a := range d.Actions {
				if a.UpdateService != nil && a.UpdateService.DesiredCount != nil {
					t.Fatalf("rollback sends desired count %d to an autoscaled service", *a.UpdateService.DesiredCount)
				}
			}
			if !slices.Equal(kinds(d.Actions), []ActionKind{ActUpdateService}) || aws.ToString(d.Actions[0].UpdateService.TaskDefinition) != dtTD1 {
				t.Fatalf("actions %v", kinds(d.Actions))
			}
		}},
		{"rollback -> failed once its actions are done", func() *AppState {
			st := dtOp(StepRollback)
			st.Op.Updated, st.Op.FailReason = []string{"web"}, ReasonDeploymentFailed
			return st
		}(), dtObs(func(o *Observation) { o.Acted = map[Step]bool{StepRollback: true} }), func(t *testing.T, d Decision) {
			if d.State.Op != nil || d.State.Phase != PhaseFailed || d.State.Reason != ReasonDeploymentFailed {
				t.Fatalf("state %+v", d.State)
			}
		}},
		{"services: a name ECS just refused as in use is not created again in this reconcile", dtOp(StepServices), dtObs(func(o *Observation) {
			o.setService("web", nil)
			o.NameInUse = map[string]bool{"web": true}
		}), func(t *testing.T, d Decision) {
			if len(d.Actions) != 0 || d.State.Op == nil || d.State.Op.Step != StepServices || !d.Need.IsZero() {
				t.Fatalf("actions %v, need %+v, state %+v", kinds(d.Actions), d.Need, d.State.Op)
			}
		}},
		{"rollback with nothing deployed: the failed build's services stay, kept as the leftover", func() *AppState {
			st := dtOp(StepRollback)
			st.Deployed, st.HighWater = nil, 2
			st.Op.Updated, st.Op.FailReason = []string{"web"}, ReasonDeploymentFailed
			return st
		}(), dtObs(nil), func(t *testing.T, d Decision) {
			if len(d.Actions) != 0 || d.State.Op != nil || d.State.Phase != PhaseFailed {
				t.Fatalf("actions %v, state %+v", kinds(d.Actions), d.State)
			}
			if l := d.State.Leftover; l == nil || l.Build != 2 || l.TaskDefs["web"] != dtTD2 || l.SettingsHash != settingsHash(dtSettings()) {
				t.Fatalf("leftover %+v, want build 2's operation", l)
			}
		}},
		{"failed first deploy -> register: settings changed retries the leftover build", func() *AppState {
			st := dtDeployed()
			st.Leftover, st.Deployed = st.Deployed, nil
			st.Phase, st.Reason = PhaseFailed, ReasonDeploymentFailed
			return st
		}(), dtObs(func(o *Observation) {
			o.CheckConfig = true
			o.Settings.SecurityGroups = []string{"sg-9"}
		}), func(t *testing.T, d Decision) {
			if op := d.State.Op; op == nil || op.Kind != OpConfig || op.Build != 1 || !strings.HasPrefix(d.State.Detail, "settings changed: retrying build 1") {
				t.Fatalf("state %+v", d.State)
			}
		}},
		{"failed first deploy: its own settings, nothing to do", func() *AppState {
			st := dtDeployed()
			st.Leftover, st.Deployed = st.Deployed, nil
			st.Phase, st.Reason = PhaseFailed, ReasonDeploymentFailed
			return st
		}(), dtObs(func(o *Observation) { o.CheckConfig = true }), func(t *testing.T, d Decision) {
			if d.State.Op != nil || len(d.Actions) != 0 || len(d.Records) != 0 {
				t.Fatalf("decision %+v", d)
			}
		}},
		{"deployed -> register: configuration changed", dtDeployed(), dtObs(func(o *Observation) {
			o.CheckConfig, o.Config = true, &configSnapshot{version: "cfg2"}
		}), func(t *testing.T, d Decision) {
			if d.State.Op == nil || d.State.Op.Kind != OpConfig || d.State.Detail != "configuration changed" {
				t.Fatalf("state %+v", d.State)
			}
		}},
		{"deployed -> register: settings changed", dtDeployed(), dtObs(func(o *Observation) {
			o.CheckConfig = true
			o.Settings.SecurityGroups = []string{"sg-9"}
		}), func(t *testing.T, d Decision) {
			if d.State.Op == nil || d.State.Op.Kind != OpConfig || d.State.Detail != "settings changed" {
				t.Fatalf("state %+v", d.State)
			}
		}},
		{"deployed: nothing changed, nothing to do", dtDeployed(), dtObs(func(o *Observation) { o.CheckConfig = true }), func(t *testing.T, d Decision) {
			if d.State.Op != nil || len(d.Actions) != 0 || len(d.Records) != 0 || !d.Need.IsZero() {
				t.Fatalf("decision %+v", d)
			}
		}},
		{"deployed: without a configuration check (an ECS event) nothing is read", dtDeployed(), &Observation{}, func(t *testing.T, d Decision) {
			if !d.Need.IsZero() || len(d.Actions) != 0 {
				t.Fatalf("decision %+v", d)
			}
		}},
		{"adoption: first deploy looks at the release tasks, then the services", succeeded(&AppState{Account: twAccount, App: "api"}), dtObs(func(o *Observation) {
			o.Metadata = map[string]metadataResult{"wharf-api:b2": {Meta: meta2}}
			o.ReleaseTasksSeen = true
		}), func(t *testing.T, d Decision) {
			if !d.Need.AppServices {
				t.Fatalf("need %+v", d.Need)
			}
		}},
		{"adoption: services already run the build's image -> deployed, no AWS write", succeeded(&AppState{Account: twAccount, App: "api"}), dtObs(func(o *Observation) {
			o.Metadata = map[string]metadataResult{"wharf-api:b2": {Meta: meta2}}
			o.ReleaseTasksSeen, o.AppServicesSeen, o.AppServices = true, true, []string{"web"}
			o.setService("web", dtService(dtTD2, dtDep("d2", "PRIMARY", dtTD2, "COMPLETED")))
			o.Running = map[string]*runningService{dtTD2: {taskDef: dtTD2, image: meta2.Image, build: 2, configVersion: "cfg1"}}
		}), func(t *testing.T, d Decision) {
			st := d.State
			if st.Phase != PhaseDeployed || st.Deployed == nil || st.Adopted == nil || st.Adopted.Outcome != AdoptedDeployed || st.Op != nil || len(d.Actions) != 0 {
				t.Fatalf("state %+v actions %v", st, kinds(d.Actions))
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before, _ := json.Marshal(tc.st)
			d := Decide(tc.st, tc.obs, dtNow, dtPol)
			if after, _ := json.Marshal(tc.st); string(after) != string(before) {
				t.Fatalf("Decide changed its input state")
			}
			tc.check(t, d)
		})
	}
}

type errString string

func (e errString) Error() string { return string(e) }

// TestDecideAdoption is the adoption spec of adopt.go as a table: the
// first deploy this store starts for an app, with what ECS runs.
func TestDecideAdoption(t *testing.T) {
	meta := twMeta("api", 5, "bin/migrate", "web", "worker")
	const tdOld, tdNew = "arn:aws:ecs:eu-west-1:111122223333:task-definition/wharf-api_web:4", "arn:aws:ecs:eu-west-1:111122223333:task-definition/wharf-api_web:5"
	oldImage := twMeta("api", 4, "", "web").Image
	build := func(listed bool, seen time.Time) *AppState {
		return &AppState{Account: twAccount, App: "api",
			Builds: []TrackedBuild{{ID: "wharf-api:b5", Number: 5, Status: "SUCCEEDED", Listed: listed, SeenAt: seen}}}
	}
	running := func(o *Observation, procs map[string]string, rs map[string]*runningService, state ecstypes.DeploymentRolloutState) {
		o.AppServicesSeen = true
		for _, p := range sortedKeys(procs) {
			o.AppServices = append(o.AppServices, p)
			s := dtService(procs[p], dtDep("d-"+p, "PRIMARY", procs[p], state))
			s.ServiceName = aws.String("wharf-api_" + p)
			o.setService(p, s)
		}
		o.Running = rs
	}
	obs := func(mut func(o *Observation)) *Observation {
		return dtObs(func(o *Observation) {
			o.Metadata = map[string]metadataResult{"wharf-api:b5": {Meta: meta}}
			o.ReleaseTasksSeen = true
			if mut != nil {
				mut(o)
			}
		})
	}
	release := func(n int64, status string, created time.Time) ecstypes.Task {
		return ecstypes.Task{TaskArn: aws.String("arn:task/" + strconv.FormatInt(n, 10)), StartedBy: aws.String(ReleaseStartedBy(n)),
			LastStatus: aws.String(status), CreatedAt: aws.Time(created), Group: aws.String("family:wharf-api_release")}
	}
	onOld := map[string]*runningService{tdOld: {taskDef: tdOld, image: oldImage, build: 4}}
	for _, tc := range []struct {
		name        string
		st          *AppState
		obs         *Observation
		wantOutcome string // AppState.Adopted.Outcome ("" = not adopted)
		wantOp      bool   // the deploy goes on
		wantPhase   Phase
		check       func(t *testing.T, d Decision)
	}{
		{"no service runs: deploy as usual", build(false, dtNow), obs(func(o *Observation) { o.AppServicesSeen = true }),
			"", true, PhaseReleasing, nil},
		{"a newer build's release task: a late event, skipped", build(false, dtNow), obs(func(o *Observation) {
			o.ReleaseTasks = []ecstypes.Task{release(6, "STOPPED", dtNow)}
		}), "", false, PhaseNone, func(t *testing.T, d Decision) {
			if len(d.Records) != 1 || d.Records[0].Outcome != OutcomeSkipped {
				t.Fatalf("records %+v", d.Records)
			}
		}},
		{"another build's release runs: wait", build(false, dtNow), obs(func(o *Observation) {
			o.ReleaseTasks = []ecstypes.Task{release(4, "RUNNING", dtNow)}
		}), "", false, PhaseNone, func(t *testing.T, d Decision) {
			if len(d.Actions) != 0 || len(d.Records) != 0 {
				t.Fatalf("actions %v", kinds(d.Actions))
			}
		}},
		{"another build's release runs past ReleaseTimeout: wait, and ask ECS to stop it", build(false, dtNow), obs(func(o *Observation) {
			o.ReleaseTasks = []ecstypes.Task{release(4, "RUNNING", dtNow.Add(-DefaultReleaseTimeout))}
		}), "", false, PhaseNone, func(t *testing.T, d Decision) {
			if !slices.Equal(kinds(d.Actions), []ActionKind{ActStopTask}) {
				t.Fatalf("actions %v", kinds(d.Actions))
			}
		}},
		{"1. the build's deployment had failed: recorded as failed", build(false, dtNow), obs(func(o *Observation) {
			running(o, map[string]string{"web": tdNew}, map[string]*runningService{tdNew: {taskDef: tdNew, image: meta.Image, build: 5}}, ecstypes.DeploymentRolloutStateFailed)
		}), AdoptedNotDeployed, false, PhaseFailed, nil},
		{"2. every declared service runs the build's image: deployed, no AWS write", build(true, dtNow), obs(func(o *Observation) {
			rs := map[string]*runningService{tdNew: {taskDef: tdNew, image: meta.Image, build: 5, configVersion: "cfg1"}}
			running(o, map[string]string{"web": tdNew, "worker": tdNew}, rs, ecstypes.DeploymentRolloutStateCompleted)
		}), AdoptedDeployed, false, PhaseDeployed, nil},
		{"3. a service runs a newer build: skipped", build(false, dtNow), obs(func(o *Observation) {
			running(o, map[string]string{"web": tdNew}, map[string]*runningService{tdNew: {taskDef: tdNew, image: "other", build: 7}}, ecstypes.DeploymentRolloutStateCompleted)
		}), "", false, PhaseNone, func(t *testing.T, d Decision) {
			if len(d.Records) != 1 || d.Records[0].Outcome != OutcomeSkipped {
				t.Fatalf("records %+v", d.Records)
			}
		}},
		{"4. some services run the build's image: deploy without the release", build(true, dtNow), obs(func(o *Observation) {
			rs := map[string]*runningService{tdNew: {taskDef: tdNew, image: meta.Image, build: 5}, tdOld: onOld[tdOld]}
			running(o, map[string]string{"web": tdNew, "worker": tdOld}, rs, ecstypes.DeploymentRolloutStateCompleted)
		}), AdoptedDeploying, true, PhaseDeploying, func(t *testing.T, d Decision) {
			if !d.State.Op.SkipRelease {
				t.Fatalf("the release runs again")
			}
		}},
		{"5. the build's release task exists: the deploy goes on and waits for it", build(true, dtNow), obs(func(o *Observation) {
			o.ReleaseTasks = []ecstypes.Task{release(5, "RUNNING", dtNow)}
			running(o, map[string]string{"web": tdOld}, onOld, ecstypes.DeploymentRolloutStateCompleted)
		}), AdoptedDeploying, true, PhaseReleasing, nil},
		{"6. a build event named it, the sweep has not listed yet: wait", build(false, dtNow), obs(func(o *Observation) {
			running(o, map[string]string{"web": tdOld}, onOld, ecstypes.DeploymentRolloutStateCompleted)
		}), "", false, PhaseNone, nil},
		{"6. a build event named it, long enough ago: deploy it", build(false, dtNow.Add(-2*DefaultStuckAfter)), obs(func(o *Observation) {
			running(o, map[string]string{"web": tdOld}, onOld, ecstypes.DeploymentRolloutStateCompleted)
		}), AdoptedDeploying, true, PhaseReleasing, nil},
		{"7. only the sweep's listing found it: nothing deployed, next build deploys", build(true, dtNow), obs(func(o *Observation) {
			running(o, map[string]string{"web": tdOld}, onOld, ecstypes.DeploymentRolloutStateCompleted)
		}), AdoptedNotDeployed, false, PhaseNone, func(t *testing.T, d Decision) {
			if d.State.HighWater != 5 {
				t.Fatalf("high water %d", d.State.HighWater)
			}
		}},
		{"mid-deployment: decide once the services settle", build(true, dtNow), obs(func(o *Observation) {
			running(o, map[string]string{"web": tdOld}, onOld, ecstypes.DeploymentRolloutStateInProgress)
		}), "", false, PhaseNone, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := Decide(tc.st, tc.obs, dtNow, dtPol)
			if !d.Need.IsZero() {
				t.Fatalf("needs %+v", d.Need)
			}
			st := d.State
			got := ""
			if st.Adopted != nil {
				got = st.Adopted.Outcome
			}
			if got != tc.wantOutcome || (st.Op != nil) != tc.wantOp || st.Phase != tc.wantPhase {
				t.Fatalf("adopted %q op %v phase %q (%s), want %q op %v phase %q", got, st.Op != nil, st.Phase, st.Detail, tc.wantOutcome, tc.wantOp, tc.wantPhase)
			}
			for _, a := range d.Actions {
				if a.Kind != ActStopTask {
					t.Fatalf("adoption asked for %s", a.Kind)
				}
			}
			if tc.check != nil {
				tc.check(t, d)
			}
		})
	}
}

// TestDecideRefusesBuilds: a build whose image is not the app's own by
// digest, or that declares more than the caps allow, is refused with a
// visible reason naming the field, and nothing deploys (issue 9).
func TestDecideRefusesBuilds(t *testing.T) {
	good := twMeta("api", 2, "", "web")
	for _, tc := range []struct {
		name   string
		mutate func(m *contract.BuildMetadata)
		field  string // "" = accepted
	}{
		{"the app's own image by digest", func(m *contract.BuildMetadata) {}, ""},
		{"a tag instead of a digest", func(m *contract.BuildMetadata) {
			m.Image = "111122223333.dkr.ecr.eu-west-1.amazonaws.com/wharf-api:latest"
		}, "build metadata.image"},
		{"another account's registry", func(m *contract.BuildMetadata) {
			m.Image = strings.Replace(m.Image, "111122223333", "444455556666", 1)
		}, "build metadata.image"},
		{"another region's registry", func(m *contract.BuildMetadata) {
			m.Image = strings.Replace(m.Image, "eu-west-1", "us-east-1", 1)
		}, "build metadata.image"},
		{"a public image", func(m *contract.BuildMetadata) {
			m.Image = "docker.io/library/nginx@sha256:" + strings.Repeat("a", 64)
		}, "build metadata.image"},
		{"too many process types", func(m *contract.BuildMetadata) {
			for i := range DefaultMaxProcesses {
				m.Processes[fmt.Sprintf("p%d", i)] = contract.Process{Command: "x"}
			}
		}, "build metadata.processes"},
		{"too many schedules", func(m *contract.BuildMetadata) {
			for i := range DefaultMaxSchedules + 1 {
				m.Schedules = append(m.Schedules, contract.Schedule{Name: fmt.Sprintf("s%d", i), Schedule: "rate(1 hour)", Command: "x"})
			}
		}, "build metadata.schedules"},
		{"a count above the cap", func(m *contract.BuildMetadata) {
			m.Processes["web"] = contract.Process{Command: "x", Count: aws.Int32(DefaultMaxCount + 1)}
		}, "build metadata.processes.web.count"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := *good
			m.Processes = map[string]contract.Process{"web": good.Processes["web"]}
			tc.mutate(&m)
			st := dtDeployed()
			st.Builds = []TrackedBuild{{ID: "wharf-api:b2", Number: 2, Status: "SUCCEEDED"}}
			d := Decide(st, dtObs(func(o *Observation) { o.Metadata = map[string]metadataResult{"wharf-api:b2": {Meta: &m}} }), dtNow, dtPol)
			if tc.field == "" {
				if d.State.Op == nil {
					t.Fatalf("refused: %s", d.State.Detail)
				}
				return
			}
			if d.State.Op != nil || d.State.Phase != PhaseFailed || d.State.Reason != ReasonBuildRefused ||
				!strings.HasPrefix(d.State.Detail, tc.field+":") || len(d.Records) != 1 || d.Records[0].Reason != ReasonBuildRefused {
				t.Fatalf("state %s %s %q records %+v", d.State.Phase, d.State.Reason, d.State.Detail, d.Records)
			}
			if d.State.Deployed.Build != 1 || len(d.Actions) != 0 {
				t.Fatalf("a refused build changed what runs")
			}
		})
	}
}

// TestDecideRefusesOtherBranchesAndRepositories: with the app's branch and
// repository in its settings, a build of another branch (a stray push the
// webhook or a user started), a build that recorded no branch, and an
// image from another repository of the same account are refused with a
// visible reason, and nothing deploys (issue 9 item 4 and hardening).
func TestDecideRefusesOtherBranchesAndRepositories(t *testing.T) {
	for _, tc := range []struct {
		name   string
		branch string // the build's recorded branch
		image  string // "" = the app's own image
		field  string // "" = accepted
	}{
		{"the app's branch and repository", "main", "", ""},
		{"another branch", "main-x", "", "build metadata.branch"},
		{"no branch recorded", "", "", "build metadata.branch"},
		{"another app's repository", "main", "111122223333.dkr.ecr.eu-west-1.amazonaws.com/wharf-billing@sha256:" + strings.Repeat("1", 64), "build metadata.image"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := twMeta("api", 2, "", "web")
			m.Branch = tc.branch
			if tc.image != "" {
				m.Image = tc.image
			}
			st := dtDeployed()
			st.Builds = []TrackedBuild{{ID: "wharf-api:b2", Number: 2, Status: "SUCCEEDED"}}
			d := Decide(st, dtObs(func(o *Observation) {
				set := *o.Settings
				set.Branch, set.Repository = "main", "wharf-api"
				o.Settings = &set
				o.Metadata = map[string]metadataResult{"wharf-api:b2": {Meta: m}}
			}), dtNow, dtPol)
			if tc.field == "" {
				if d.State.Op == nil {
					t.Fatalf("refused: %s", d.State.Detail)
				}
				return
			}
			if d.State.Op != nil || d.State.Phase != PhaseFailed || d.State.Reason != ReasonBuildRefused ||
				!strings.HasPrefix(d.State.Detail, tc.field+":") || len(d.Records) != 1 {
				t.Fatalf("state %s %s %q records %+v", d.State.Phase, d.State.Reason, d.State.Detail, d.Records)
			}
			if d.State.Deployed.Build != 1 || len(d.Actions) != 0 {
				t.Fatalf("a refused build changed what runs")
			}
		})
	}
	// Branch and repository decide which builds may deploy; changing them
	// restarts nothing.
	a := dtSettings()
	b := *a
	b.Branch, b.Repository = "release", "other"
	if settingsHash(a) != settingsHash(&b) {
		t.Error("a branch or repository change alters the settings hash (would restart services)")
	}
}
