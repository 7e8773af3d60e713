package controlplane

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	aas "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/wharf-paas/wharf/contract"
)

// ActionKind names an AWS write.
type ActionKind string

// The actions Decide can ask for.
const (
	ActRegisterTaskDefinition ActionKind = "RegisterTaskDefinition"
	ActRunTask                ActionKind = "RunTask"
	ActStopTask               ActionKind = "StopTask"
	ActCreateService          ActionKind = "CreateService"
	ActUpdateService          ActionKind = "UpdateService"
	ActDeleteService          ActionKind = "DeleteService"
	ActPutRule                ActionKind = "PutRule"
	ActPutTargets             ActionKind = "PutTargets"
	ActRemoveTargets          ActionKind = "RemoveTargets"
	ActDeleteRule             ActionKind = "DeleteRule"
)

// Action is one AWS write a decision asks for, with its exact request.
// Every action can be repeated safely (docs/controlplane.md).
type Action struct {
	Kind ActionKind
	// Proc is the process type a service action is for; Family the task
	// definition family of a registration.
	Proc, Family string
	// Hash is the spec hash of a registration (its wharf:spec tag).
	Hash string
	// Tolerant: a rejection is logged, not a failure (the rollback's
	// updates).
	Tolerant bool
	// Before is the service as read before an UpdateService.
	Before *ecstypes.Service
	// The request, one of these.
	Register      *ecs.RegisterTaskDefinitionInput
	RunTask       *ecs.RunTaskInput
	StopTask      *ecs.StopTaskInput
	CreateService *ecs.CreateServiceInput
	UpdateService *ecs.UpdateServiceInput
	DeleteService *ecs.DeleteServiceInput
	PutRule       *eventbridge.PutRuleInput
	PutTargets    *eventbridge.PutTargetsInput
	RemoveTargets *eventbridge.RemoveTargetsInput
	DeleteRule    *eventbridge.DeleteRuleInput
	// Application Auto Scaling requests (autoscaling.go).
	RegisterTarget   *aas.RegisterScalableTargetInput
	PutPolicy        *aas.PutScalingPolicyInput
	DeregisterTarget *aas.DeregisterScalableTargetInput
}

// taskDefInput builds the task definition of a process type (or of the
// release family when proc is ReleaseFamilySuffix).
func taskDefInput(pol Policy, set *contract.Settings, op *Operation, cfg *configSnapshot, proc string) *ecs.RegisterTaskDefinitionInput {
	m := op.Metadata
	var command string
	var cpu, mem int32
	if proc == contract.ReleaseProcess {
		command = m.ReleaseCommand
		for _, p := range m.Processes {
			cpu, mem = max(cpu, p.CPU), max(mem, p.Memory)
		}
	} else {
		p := m.Processes[proc]
		e := effectiveScale(p, op.Scale, proc)
		command, cpu, mem = p.Command, e.CPU, e.Memory
	}
	cd := ecstypes.ContainerDefinition{
		Name:      aws.String(contract.ContainerName),
		Image:     aws.String(m.Image),
		Essential: aws.Bool(true),
		Environment: []ecstypes.KeyValuePair{
			{Name: aws.String("WHARF_APP"), Value: aws.String(pol.App)},
			{Name: aws.String("WHARF_BUILD_NUMBER"), Value: aws.String(strconv.FormatInt(op.Build, 10))},
			{Name: aws.String("WHARF_COMMIT"), Value: aws.String(m.Commit)},
			{Name: aws.String("WHARF_CONFIG_VERSION"), Value: aws.String(cfg.version)},
			{Name: aws.String("WHARF_PROCESS"), Value: aws.String(proc)},
		},
		LogConfiguration: &ecstypes.LogConfiguration{
			LogDriver: ecstypes.LogDriverAwslogs,
			Options: map[string]string{
				"awslogs-group":         set.LogGroup,
				"awslogs-region":        pol.Region,
				"awslogs-stream-prefix": proc,
			},
		},
	}
	if command != "" {
		cd.Command = []string{"/bin/sh", "-c", command}
	}
	if proc == "web" && set.ContainerPort > 0 {
		cd.PortMappings = []ecstypes.PortMapping{{ContainerPort: aws.Int32(set.ContainerPort), Protocol: ecstypes.TransportProtocolTcp}}
	}
	for _, e := range cfg.entries {
		cd.Secrets = append(cd.Secrets, ecstypes.Secret{Name: aws.String(e.Var), ValueFrom: aws.String(e.ARN)})
	}
	return &ecs.RegisterTaskDefinitionInput{
		Family:                  aws.String(FamilyName(pol.Prefix, pol.App, proc)),
		ContainerDefinitions:    []ecstypes.ContainerDefinition{cd},
		NetworkMode:             ecstypes.NetworkModeAwsvpc,
		RequiresCompatibilities: []ecstypes.Compatibility{ecstypes.Compatibility(set.LaunchType)},
		Cpu:                     aws.String(strconv.Itoa(int(cpu))),
		Memory:                  aws.String(strconv.Itoa(int(mem))),
		ExecutionRoleArn:        aws.String(set.ExecutionRoleARN),
		TaskRoleArn:             aws.String(set.TaskRoleARN),
	}
}

// taskDefHash is the spec hash of a task definition (its wharf:spec tag).
func taskDefHash(in *ecs.RegisterTaskDefinitionInput) string {
	spec, _ := json.Marshal(in)
	return token(32, string(spec))
}

func registerAction(pol Policy, in *ecs.RegisterTaskDefinitionInput, hash string, build int64) Action {
	reg := *in
	reg.Tags = []ecstypes.Tag{
		{Key: aws.String(TagApp), Value: aws.String(pol.App)},
		{Key: aws.String(TagBuild), Value: aws.String(strconv.FormatInt(build, 10))},
		{Key: aws.String(TagSpec), Value: aws.String(hash)},
	}
	return Action{Kind: ActRegisterTaskDefinition, Family: aws.ToString(in.Family), Hash: hash, Register: &reg}
}

func runTaskAction(pol Policy, set *contract.Settings, op *Operation) Action {
	td := op.TaskDefs[contract.ReleaseProcess]
	sp := desiredServiceSpec(set, contract.ReleaseProcess, td, 1)
	return Action{Kind: ActRunTask, RunTask: &ecs.RunTaskInput{
		Cluster:              aws.String(set.ClusterARN),
		TaskDefinition:       aws.String(td),
		LaunchType:           ecstypes.LaunchType(set.LaunchType),
		NetworkConfiguration: sp.networkConfiguration(),
		StartedBy:            aws.String(ReleaseStartedBy(op.Build)),
		Count:                aws.Int32(1),
		PropagateTags:        ecstypes.PropagateTagsTaskDefinition,
		EnableECSManagedTags: true,
		// The task definition is part of the token: the same operation
		// always sends the same one, and a deploy of the build started
		// afresh (its state lost) with another revision is not a
		// ConflictException forever.
		ClientToken: aws.String(token(40, pol.Account, pol.App, "release", strconv.FormatInt(op.Build, 10), "1", td)),
	}}
}

func stopTaskAction(cluster, arn, reason string) Action {
	return Action{Kind: ActStopTask, StopTask: &ecs.StopTaskInput{Cluster: aws.String(cluster), Task: aws.String(arn), Reason: aws.String(reason)}}
}

func createServiceAction(pol Policy, set *contract.Settings, op *Operation, proc string, sp serviceSpec) Action {
	return Action{Kind: ActCreateService, Proc: proc, CreateService: createServiceInput(pol, set, op, proc, sp)}
}

func createServiceInput(pol Policy, set *contract.Settings, op *Operation, proc string, sp serviceSpec) *ecs.CreateServiceInput {
	in := sp.createInput(set.ClusterARN, FamilyName(pol.Prefix, pol.App, proc))
	in.ClientToken = aws.String(token(32, pol.Account, pol.App, proc, strconv.FormatInt(op.Build, 10), string(op.Kind), strconv.Itoa(op.Seq)))
	in.Tags = []ecstypes.Tag{
		{Key: aws.String(TagApp), Value: aws.String(pol.App)},
		{Key: aws.String(TagProcess), Value: aws.String(proc)},
	}
	return in
}

func updateServiceAction(set *contract.Settings, name, proc string, sp serviceSpec, fields []string, before *ecstypes.Service) Action {
	return Action{Kind: ActUpdateService, Proc: proc, Before: before, UpdateService: sp.updateInput(set.ClusterARN, name, fields)}
}

// rollbackServiceAction puts a service back on taskDef with count tasks;
// count < 0 leaves the desired count alone (an autoscaled service).
func rollbackServiceAction(set *contract.Settings, name, proc, taskDef string, count int32) Action {
	sp := serviceSpec{CircuitBreaker: true, Rollback: true, MaxPercent: 200, MinHealthy: 100, TaskDefinition: taskDef, DesiredCount: count}
	fields := []string{fieldTaskDefinition, fieldDesiredCount, fieldDeployment}
	if count < 0 {
		fields = []string{fieldTaskDefinition, fieldDeployment}
	}
	return Action{Kind: ActUpdateService, Proc: proc, Tolerant: true,
		UpdateService: sp.updateInput(set.ClusterARN, name, fields)}
}

func deleteServiceAction(cluster, name, proc string, force bool) Action {
	return Action{Kind: ActDeleteService, Proc: proc, DeleteService: &ecs.DeleteServiceInput{
		Cluster: aws.String(cluster), Service: aws.String(name), Force: aws.Bool(true)}}
}

// act carries out a decision's actions in order and records their answers
// in obs. A rejection for good ends the batch (except for a schedule's,
// after which the removed services are still deleted) and is recorded as
// obs.Failure; any other error is returned (a retry may help).
func (r *run) act(ctx context.Context, acts []Action, obs *Observation) error {
	scheduleFailed := false
	for _, a := range acts {
		if obs.Failure != nil && !scheduleFailed {
			return nil
		}
		if scheduleFailed && a.Kind != ActDeleteService {
			continue
		}
		r.awsTouched = true
		if err := r.act1(ctx, a, obs); err != nil {
			var pe *permanentError
			if !errors.As(err, &pe) {
				return err
			}
			obs.Failure = pe
			scheduleFailed = pe.reason == ReasonScheduleRejected || pe.reason == ReasonScalingRejected
		}
	}
	return nil
}

func (r *run) act1(ctx context.Context, a Action, obs *Observation) error {
	e := r.cl.ECS
	switch a.Kind {
	case ActRegisterTaskDefinition:
		out, err := e.RegisterTaskDefinition(ctx, a.Register)
		if err != nil {
			switch apiCode(err) {
			case "ClientException", "InvalidParameterException":
				return permanent(ReasonTaskDefinitionRejected, "register %s: %v", a.Family, err)
			}
			return fmt.Errorf("ecs RegisterTaskDefinition %s: %w", a.Family, err)
		}
		if out.TaskDefinition == nil || aws.ToString(out.TaskDefinition.TaskDefinitionArn) == "" {
			return fmt.Errorf("ecs RegisterTaskDefinition %s: no task definition ARN in the reply", a.Family)
		}
		arn := aws.ToString(out.TaskDefinition.TaskDefinitionArn)
		if obs.TaskDefs == nil {
			obs.TaskDefs = map[string]taskDefObservation{}
		}
		obs.TaskDefs[a.Family] = taskDefObservation{ARN: arn, Hash: a.Hash, Active: true}
		r.log.Info("task definition registered", "task_definition", arn)
	case ActRunTask:
		out, err := e.RunTask(ctx, a.RunTask)
		if err != nil {
			switch apiCode(err) {
			case "InvalidParameterException", "ClientException", "PlatformUnknownException",
				"PlatformTaskDefinitionIncompatibilityException", "AccessDeniedException", "BlockedException":
				return permanent(ReasonReleaseFailedToStart, "RunTask: %v", err)
			}
			return fmt.Errorf("ecs RunTask release %s: %w", aws.ToString(a.RunTask.StartedBy), err)
		}
		if len(out.Failures) > 0 {
			f := out.Failures[0]
			return permanent(ReasonReleaseFailedToStart, "RunTask failure: %s %s", aws.ToString(f.Reason), aws.ToString(f.Detail))
		}
		if len(out.Tasks) == 0 || aws.ToString(out.Tasks[0].TaskArn) == "" {
			return permanent(ReasonReleaseFailedToStart, "RunTask returned no task")
		}
		obs.Ran = &out.Tasks[0]
	case ActStopTask:
		s, ok := e.(taskStopper)
		if !ok {
			r.log.Warn("ECS client cannot stop tasks; the task keeps running", "task", aws.ToString(a.StopTask.Task))
			return nil
		}
		if _, err := s.StopTask(ctx, a.StopTask); err != nil {
			r.log.Warn("stopping task failed", "task", aws.ToString(a.StopTask.Task), "error", err.Error())
		}
	case ActCreateService:
		return r.createService(ctx, a.Proc, a.CreateService, obs)
	case ActRegisterScalableTarget, ActPutScalingPolicy, ActDeregisterScalableTarget:
		return r.actScaling(ctx, a)
	case ActUpdateService:
		name := aws.ToString(a.UpdateService.Service)
		out, err := e.UpdateService(ctx, a.UpdateService)
		if err != nil {
			code := apiCode(err)
			if a.Tolerant {
				switch code {
				case "ServiceNotFoundException", "ServiceNotActiveException":
					return nil
				case "InvalidParameterException", "ClientException":
					r.log.Error("rolling a service back (or setting its count) was rejected", "service", name, "error", err.Error())
					return nil
				}
				return fmt.Errorf("ecs UpdateService %s (rollback): %w", name, err)
			}
			switch code {
			case "ServiceNotFoundException", "ServiceNotActiveException":
				// Deleted meanwhile. ECS answers ServiceNotActiveException
				// for a DRAINING service as for an INACTIVE one, and
				// refuses to create the name again while it drains
				// ("Creation of service was not idempotent"): the next
				// decision reads the service again, and waits for a
				// draining one or creates a gone one.
				obs.forgetService(a.Proc)
				return nil
			case "InvalidParameterException", "ClientException", "PlatformUnknownException", "PlatformTaskDefinitionIncompatibilityException":
				return permanent(ReasonServiceRejected, "update service %s: %v", name, err)
			}
			return fmt.Errorf("ecs UpdateService %s: %w", name, err)
		}
		if !a.Tolerant {
			r.answer(obs, a.Proc, out.Service, a.Before)
			r.log.Info("service updated", "service", name, "task_definition", aws.ToString(a.UpdateService.TaskDefinition))
		} else {
			r.log.Info("service rolled back or count set", "service", name, "task_definition", aws.ToString(a.UpdateService.TaskDefinition),
				"desired_count", aws.ToInt32(a.UpdateService.DesiredCount))
		}
	case ActDeleteService:
		name := aws.ToString(a.DeleteService.Service)
		if _, err := e.DeleteService(ctx, a.DeleteService); err != nil {
			switch apiCode(err) {
			case "ServiceNotFoundException", "ServiceNotActiveException":
			default:
				return fmt.Errorf("ecs DeleteService %s: %w", name, err)
			}
		} else {
			r.log.Info("service deleted", "service", name)
		}
		if obs.Deleted == nil {
			obs.Deleted = map[string]bool{}
		}
		obs.Deleted[a.Proc] = true
	case ActPutRule:
		if _, err := r.cl.EventBridge.PutRule(ctx, a.PutRule); err != nil {
			if apiCode(err) == "ValidationException" {
				return permanent(ReasonScheduleRejected, "schedule %s: %v", strings.TrimPrefix(aws.ToString(a.PutRule.Name), ScheduleRuleName(r.c.reg.Prefix, r.reg.Name, "")), err)
			}
			return fmt.Errorf("eventbridge PutRule %s: %w", aws.ToString(a.PutRule.Name), err)
		}
		r.log.Info("schedule rule put", "rule", aws.ToString(a.PutRule.Name))
	case ActPutTargets:
		out, err := r.cl.EventBridge.PutTargets(ctx, a.PutTargets)
		if err != nil {
			return fmt.Errorf("eventbridge PutTargets %s: %w", aws.ToString(a.PutTargets.Rule), err)
		}
		if out.FailedEntryCount > 0 && len(out.FailedEntries) > 0 {
			f := out.FailedEntries[0]
			return fmt.Errorf("eventbridge PutTargets %s: %s %s", aws.ToString(a.PutTargets.Rule), aws.ToString(f.ErrorCode), aws.ToString(f.ErrorMessage))
		}
	case ActRemoveTargets:
		if _, err := r.cl.EventBridge.RemoveTargets(ctx, a.RemoveTargets); err != nil && apiCode(err) != "ResourceNotFoundException" {
			return fmt.Errorf("eventbridge RemoveTargets %s: %w", aws.ToString(a.RemoveTargets.Rule), err)
		}
	case ActDeleteRule:
		if _, err := r.cl.EventBridge.DeleteRule(ctx, a.DeleteRule); err != nil && apiCode(err) != "ResourceNotFoundException" {
			return fmt.Errorf("eventbridge DeleteRule %s: %w", aws.ToString(a.DeleteRule.Name), err)
		}
		r.log.Info("schedule rule deleted", "rule", aws.ToString(a.DeleteRule.Name))
	default:
		return fmt.Errorf("action %q is unknown", a.Kind)
	}
	return nil
}

func (r *run) createService(ctx context.Context, proc string, in *ecs.CreateServiceInput, obs *Observation) error {
	name := aws.ToString(in.ServiceName)
	out, err := r.cl.ECS.CreateService(ctx, in)
	if err != nil {
		code := apiCode(err)
		if code == "InvalidParameterException" && strings.Contains(err.Error(), "not idempotent") {
			// The name is taken: a service that still drains, or one a
			// lagging DescribeServices did not show (ECS is eventually
			// consistent). Not the build's failure: the next decision
			// reads the service again, and waits for it or updates it.
			r.log.Warn("service name still in use; reading the service again", "service", name, "error", err.Error())
			obs.forgetService(proc)
			if obs.NameInUse == nil {
				obs.NameInUse = map[string]bool{}
			}
			obs.NameInUse[proc] = true
			return nil
		}
		switch code {
		case "InvalidParameterException", "ClientException", "PlatformUnknownException", "PlatformTaskDefinitionIncompatibilityException":
			return permanent(ReasonServiceRejected, "create service %s: %v", name, err)
		}
		return fmt.Errorf("ecs CreateService %s: %w", name, err)
	}
	r.answer(obs, proc, out.Service, nil)
	r.log.Info("service created", "service", name, "task_definition", aws.ToString(in.TaskDefinition))
	return nil
}

func (r *run) answer(obs *Observation, proc string, svc, before *ecstypes.Service) {
	if obs.ServiceAnswers == nil {
		obs.ServiceAnswers = map[string]serviceAnswer{}
	}
	if svc == nil {
		svc = &ecstypes.Service{}
	}
	obs.ServiceAnswers[proc] = serviceAnswer{Service: svc, Before: before}
}
