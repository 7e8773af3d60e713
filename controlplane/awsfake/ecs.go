package awsfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/wharf-paas/wharf/controlplane/internal/awsmodel"
)

// ECS deployment rollout states and service statuses, as ECS spells them.
const (
	StatusActive   = "ACTIVE"
	StatusDraining = "DRAINING"
	StatusInactive = "INACTIVE"
)

// Task statuses.
const (
	TaskProvisioning = "PROVISIONING"
	TaskRunning      = "RUNNING"
	TaskStopped      = "STOPPED"
)

// TaskOutcome is how a task ends when it stops. The zero value is a
// successful run: stop code EssentialContainerExited, every container
// exit code 0.
type TaskOutcome struct {
	// StopCode defaults to EssentialContainerExited, or TaskFailedToStart
	// when FailedToStart is set.
	StopCode types.TaskStopCode
	// StoppedReason defaults to "Essential container in task exited" (or
	// "CannotPullContainerError: ..." when FailedToStart).
	StoppedReason string
	// ExitCode is the exit code of every container not in ExitCodes.
	ExitCode int32
	// ExitCodes overrides ExitCode per container name.
	ExitCodes map[string]int32
	// FailedToStart: the task never runs; containers get no exit code and a
	// reason (an image pull failure).
	FailedToStart bool
	// ContainerReason is set as containers[].reason when non-empty.
	ContainerReason string
}

// Exit is a TaskOutcome in which every container exits with code.
func Exit(code int32) TaskOutcome { return TaskOutcome{ExitCode: code} }

// FailedToStart is a TaskOutcome for a task whose image cannot be pulled.
func FailedToStart(reason string) TaskOutcome {
	return TaskOutcome{FailedToStart: true, StoppedReason: reason}
}

type taskDef struct {
	td   types.TaskDefinition
	tags []types.Tag
}

type taskRecord struct {
	task    types.Task
	outcome *TaskOutcome
}

type tokenRecord struct {
	fingerprint string
	output      []byte
}

type serviceRecord struct {
	svc         types.Service
	cfg         awsmodel.ServiceConfig
	clientToken string
	fingerprint string
}

type ecsState struct {
	clusters    map[string]string // name → ARN
	families    map[string][]*taskDef
	tasks       map[string]*taskRecord
	taskOrder   []string
	runTokens   map[string]tokenRecord
	services    map[string]*serviceRecord // "<cluster name>/<service name>"
	svcOrder    []string
	outcomes    map[string]TaskOutcome // by family
	runFailures [][]types.Failure
	execURL     string
	execs       []ExecSession
}

func (e *ecsState) init(s *Server) {
	e.clusters = map[string]string{"default": fmt.Sprintf("arn:aws:ecs:%s:%s:cluster/default", s.region, s.account)}
	e.families = map[string][]*taskDef{}
	e.tasks = map[string]*taskRecord{}
	e.runTokens = map[string]tokenRecord{}
	e.services = map[string]*serviceRecord{}
	e.outcomes = map[string]TaskOutcome{}
}

func newECSInput(op string) any {
	switch op {
	case "RegisterTaskDefinition":
		return &ecs.RegisterTaskDefinitionInput{}
	case "DescribeTaskDefinition":
		return &ecs.DescribeTaskDefinitionInput{}
	case "RunTask":
		return &ecs.RunTaskInput{}
	case "DescribeTasks":
		return &ecs.DescribeTasksInput{}
	case "ListTasks":
		return &ecs.ListTasksInput{}
	case "StopTask":
		return &ecs.StopTaskInput{}
	case "CreateService":
		return &ecs.CreateServiceInput{}
	case "UpdateService":
		return &ecs.UpdateServiceInput{}
	case "DeleteService":
		return &ecs.DeleteServiceInput{}
	case "DescribeServices":
		return &ecs.DescribeServicesInput{}
	case "ListServices":
		return &ecs.ListServicesInput{}
	case "ExecuteCommand":
		return &ecs.ExecuteCommandInput{}
	}
	return nil
}

// serveECS runs one ECS operation. Callers hold s.mu.
func (s *Server) serveECS(op string, in any) ([]byte, *APIError) {
	var (
		out    any
		apiErr *APIError
	)
	switch v := in.(type) {
	case *ecs.RegisterTaskDefinitionInput:
		out, apiErr = s.registerTaskDefinition(v)
	case *ecs.DescribeTaskDefinitionInput:
		out, apiErr = s.describeTaskDefinition(v)
	case *ecs.RunTaskInput:
		return s.runTask(v)
	case *ecs.DescribeTasksInput:
		out, apiErr = s.describeTasks(v)
	case *ecs.ListTasksInput:
		out, apiErr = s.listTasks(v)
	case *ecs.StopTaskInput:
		out, apiErr = s.stopTask(v)
	case *ecs.CreateServiceInput:
		out, apiErr = s.createService(v)
	case *ecs.UpdateServiceInput:
		out, apiErr = s.updateService(v)
	case *ecs.DeleteServiceInput:
		out, apiErr = s.deleteService(v)
	case *ecs.DescribeServicesInput:
		out, apiErr = s.describeServices(v)
	case *ecs.ListServicesInput:
		out, apiErr = s.listServices(v)
	case *ecs.ExecuteCommandInput:
		out, apiErr = s.executeCommand(v)
	default:
		return nil, serverFault("UnknownOperationException", "operation "+op+" is not served")
	}
	if apiErr != nil {
		return nil, apiErr
	}
	b, err := s.encodeECS(op, out)
	if err != nil {
		return nil, serverFault("ServerException", err.Error())
	}
	return b, nil
}

// serverFault is an HTTP 500 error for requests the fake cannot serve.
func serverFault(code, msg string) *APIError {
	return &APIError{Status: http.StatusInternalServerError, Code: code, Message: msg}
}

// encodeECS serialises an ECS output as the SDK's awsJson 1.1 deserializer
// reads it (encodeAWSJSON).
func (s *Server) encodeECS(op string, out any) ([]byte, error) {
	b, err := encodeAWSJSON(out, ecsMember)
	if err != nil {
		return nil, fmt.Errorf("encode %s output: %w", op, err)
	}
	return b, nil
}

// ---- clusters ----

// AddCluster registers a cluster by name or ARN and returns its ARN. Only
// the "default" cluster exists initially; requests naming another cluster
// fail with ClusterNotFoundException.
func (s *Server) AddCluster(nameOrARN string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	name := clusterName(nameOrARN)
	arn := nameOrARN
	if !strings.HasPrefix(arn, "arn:") {
		arn = fmt.Sprintf("arn:aws:ecs:%s:%s:cluster/%s", s.region, s.account, name)
	}
	s.ecs.clusters[name] = arn
	return arn
}

func clusterName(nameOrARN string) string {
	if i := strings.LastIndex(nameOrARN, ":cluster/"); i >= 0 {
		return nameOrARN[i+len(":cluster/"):]
	}
	return nameOrARN
}

func (s *Server) resolveCluster(c *string) (name, arn string, e *APIError) {
	name = "default"
	if c != nil && *c != "" {
		name = clusterName(*c)
	}
	arn, ok := s.ecs.clusters[name]
	if !ok {
		return "", "", apiErr(ClusterNotFoundError())
	}
	return name, arn, nil
}

// ---- task definitions ----

func (s *Server) registerTaskDefinition(in *ecs.RegisterTaskDefinitionInput) (*ecs.RegisterTaskDefinitionOutput, *APIError) {
	if err := awsmodel.ValidateRegisterTaskDefinition(in); err != nil {
		return nil, modelErr(err)
	}
	family := aws.ToString(in.Family)
	fargate := false
	for _, c := range in.RequiresCompatibilities {
		fargate = fargate || c == types.CompatibilityFargate
	}
	rev := int32(len(s.ecs.families[family]) + 1)
	now := s.now()
	td := types.TaskDefinition{
		TaskDefinitionArn:       aws.String(fmt.Sprintf("arn:aws:ecs:%s:%s:task-definition/%s:%d", s.region, s.account, family, rev)),
		Family:                  aws.String(family),
		Revision:                rev,
		Status:                  types.TaskDefinitionStatusActive,
		ContainerDefinitions:    in.ContainerDefinitions,
		Cpu:                     in.Cpu,
		Memory:                  in.Memory,
		NetworkMode:             in.NetworkMode,
		RequiresCompatibilities: in.RequiresCompatibilities,
		ExecutionRoleArn:        in.ExecutionRoleArn,
		TaskRoleArn:             in.TaskRoleArn,
		Volumes:                 in.Volumes,
		RuntimePlatform:         in.RuntimePlatform,
		PlacementConstraints:    in.PlacementConstraints,
		EphemeralStorage:        in.EphemeralStorage,
		RegisteredAt:            &now,
		RegisteredBy:            aws.String(fmt.Sprintf("arn:aws:sts::%s:assumed-role/caller/awsfake", s.account)),
	}
	if fargate {
		td.Compatibilities = []types.Compatibility{types.CompatibilityEc2, types.CompatibilityFargate}
	} else {
		td.Compatibilities = []types.Compatibility{types.CompatibilityEc2}
	}
	s.ecs.families[family] = append(s.ecs.families[family], &taskDef{td: td, tags: in.Tags})
	return &ecs.RegisterTaskDefinitionOutput{TaskDefinition: &td, Tags: in.Tags}, nil
}

// lookupTaskDef resolves "family", "family:rev" or a task-definition ARN.
// A bare family resolves to its latest ACTIVE revision.
func (s *Server) lookupTaskDef(ref string) *taskDef {
	if i := strings.Index(ref, ":task-definition/"); i >= 0 {
		ref = ref[i+len(":task-definition/"):]
	}
	family, revStr, hasRev := strings.Cut(ref, ":")
	revs := s.ecs.families[family]
	if hasRev {
		rev, err := strconv.Atoi(revStr)
		if err != nil || rev < 1 || rev > len(revs) {
			return nil
		}
		return revs[rev-1]
	}
	for i := len(revs) - 1; i >= 0; i-- {
		if revs[i].td.Status == types.TaskDefinitionStatusActive {
			return revs[i]
		}
	}
	return nil
}

func (s *Server) describeTaskDefinition(in *ecs.DescribeTaskDefinitionInput) (*ecs.DescribeTaskDefinitionOutput, *APIError) {
	if err := awsmodel.ValidateDescribeTaskDefinition(in); err != nil {
		return nil, modelErr(err)
	}
	td := s.lookupTaskDef(aws.ToString(in.TaskDefinition))
	if td == nil {
		return nil, apiErr(ClientError("Unable to describe task definition."))
	}
	out := &ecs.DescribeTaskDefinitionOutput{TaskDefinition: &td.td}
	for _, f := range in.Include {
		if f == types.TaskDefinitionFieldTags {
			out.Tags = td.tags
		}
	}
	return out, nil
}

// TaskDefinitions returns every registered revision of family, oldest
// first.
func (s *Server) TaskDefinitions(family string) []types.TaskDefinition {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []types.TaskDefinition
	for _, td := range s.ecs.families[family] {
		out = append(out, td.td)
	}
	return out
}

// Families returns the names of all task-definition families, sorted.
func (s *Server) Families() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for f := range s.ecs.families {
		out = append(out, f)
	}
	sort.Strings(out)
	return out
}

// ---- tasks ----

// fingerprint is a canonical encoding of an input without its client token.
func fingerprint(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// QueueRunTaskFailures makes the next RunTask call return failures (and no
// tasks) with HTTP 200, as ECS does when it cannot place a task. Each call
// to QueueRunTaskFailures scripts one RunTask call. Failure responses are
// not remembered under the client token, so a retry can succeed.
func (s *Server) QueueRunTaskFailures(failures ...types.Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ecs.runFailures = append(s.ecs.runFailures, failures)
}

// CapacityFailure is the failure Fargate reports when it has no capacity.
func CapacityFailure() types.Failure {
	return types.Failure{
		Arn:    aws.String("arn:aws:ecs:eu-west-1:111122223333:cluster/default"),
		Reason: aws.String("Capacity is unavailable at this time. Please try again later or in a different availability zone"),
	}
}

// SetTaskOutcome sets how tasks of a task-definition family end when they
// stop through AdvanceTasks or FinishTask (default: success).
func (s *Server) SetTaskOutcome(family string, o TaskOutcome) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ecs.outcomes[family] = o
}

func (s *Server) runTask(in *ecs.RunTaskInput) ([]byte, *APIError) {
	_, clusterARN, e := s.resolveCluster(in.Cluster)
	if e != nil {
		return nil, e
	}
	td := s.lookupTaskDef(aws.ToString(in.TaskDefinition))
	if td == nil {
		return nil, apiErr(ClientError("TaskDefinition not found."))
	}
	if err := awsmodel.ValidateRunTask(in, &td.td); err != nil {
		return nil, modelErr(err)
	}
	token := aws.ToString(in.ClientToken)
	fp := func() string { c := *in; c.ClientToken = nil; return fingerprint(&c) }()
	if token != "" {
		if rec, ok := s.ecs.runTokens[token]; ok {
			if rec.fingerprint != fp {
				return nil, apiErr(ConflictError("The request uses the same client token as a previous, but non-identical request. Do not reuse a client token with different requests, unless the requests are identical."))
			}
			return rec.output, nil
		}
	}
	count := int(aws.ToInt32(in.Count))
	if count == 0 {
		count = 1
	}
	if len(s.ecs.runFailures) > 0 {
		f := s.ecs.runFailures[0]
		s.ecs.runFailures = s.ecs.runFailures[1:]
		b, err := s.encodeECS("RunTask", &ecs.RunTaskOutput{Failures: f, Tasks: []types.Task{}})
		if err != nil {
			return nil, serverFault("ServerException", err.Error())
		}
		return b, nil
	}
	out := &ecs.RunTaskOutput{Failures: []types.Failure{}}
	for range count {
		t := s.newTask(clusterARN, td, in)
		out.Tasks = append(out.Tasks, t)
	}
	b, err := s.encodeECS("RunTask", out)
	if err != nil {
		return nil, serverFault("ServerException", err.Error())
	}
	if token != "" {
		s.ecs.runTokens[token] = tokenRecord{fingerprint: fp, output: b}
	}
	return b, nil
}

func (s *Server) newTask(clusterARN string, td *taskDef, in *ecs.RunTaskInput) types.Task {
	id := fmt.Sprintf("%032x", s.nextSeq()*7919+0xa11ce)
	cname := clusterName(clusterARN)
	arn := fmt.Sprintf("arn:aws:ecs:%s:%s:task/%s/%s", s.region, s.account, cname, id)
	now := s.now()
	group := aws.ToString(in.Group)
	if group == "" {
		group = "family:" + aws.ToString(td.td.Family)
	}
	t := types.Task{
		TaskArn:           aws.String(arn),
		ClusterArn:        aws.String(clusterARN),
		TaskDefinitionArn: td.td.TaskDefinitionArn,
		LastStatus:        aws.String(TaskProvisioning),
		DesiredStatus:     aws.String(TaskRunning),
		StartedBy:         in.StartedBy,
		Group:             aws.String(group),
		LaunchType:        in.LaunchType,
		Cpu:               td.td.Cpu,
		Memory:            td.td.Memory,
		CreatedAt:         &now,
		Version:           1,
		Tags:              in.Tags,
		Overrides:         in.Overrides,
		AvailabilityZone:  aws.String(s.region + "a"),
		Connectivity:      types.ConnectivityConnected,
		HealthStatus:      types.HealthStatusUnknown,
	}
	if t.Overrides == nil {
		t.Overrides = &types.TaskOverride{ContainerOverrides: []types.ContainerOverride{}}
	}
	// enableExecuteCommand: "Determines whether to use the execute command
	// functionality for the containers in this task. If true, this enables
	// execute command functionality on all containers in the task."
	t.EnableExecuteCommand = in.EnableExecuteCommand
	// overrides cpu, memory: "The CPU override for the task." "The memory
	// override for the task." The task's size is the override's.
	if o := in.Overrides; o != nil {
		if o.Cpu != nil {
			t.Cpu = o.Cpu
		}
		if o.Memory != nil {
			t.Memory = o.Memory
		}
	}
	// propagateTags: "Specifies whether to propagate the tags from the task
	// definition to the task. If no value is specified, the tags aren't
	// propagated." Request tags win over propagated ones of the same key.
	if in.PropagateTags == types.PropagateTagsTaskDefinition && len(td.tags) > 0 {
		tags := append([]types.Tag(nil), td.tags...)
		for _, rt := range in.Tags {
			replaced := false
			for i := range tags {
				if aws.ToString(tags[i].Key) == aws.ToString(rt.Key) {
					tags[i], replaced = rt, true
				}
			}
			if !replaced {
				tags = append(tags, rt)
			}
		}
		t.Tags = tags
	}
	if in.LaunchType == types.LaunchTypeFargate {
		t.PlatformVersion = aws.String("1.4.0")
		t.PlatformFamily = aws.String("Linux")
	}
	for _, cd := range td.td.ContainerDefinitions {
		t.Containers = append(t.Containers, types.Container{
			ContainerArn: aws.String(fmt.Sprintf("arn:aws:ecs:%s:%s:container/%s/%s/%s", s.region, s.account, cname, id, aws.ToString(cd.Name))),
			TaskArn:      aws.String(arn),
			Name:         cd.Name,
			Image:        cd.Image,
			LastStatus:   aws.String("PENDING"),
			HealthStatus: types.HealthStatusUnknown,
		})
	}
	s.ecs.tasks[arn] = &taskRecord{task: t}
	s.ecs.taskOrder = append(s.ecs.taskOrder, arn)
	return t
}

func (s *Server) findTask(clusterName, ref string) *taskRecord {
	if r, ok := s.ecs.tasks[ref]; ok {
		return r
	}
	for _, arn := range s.ecs.taskOrder {
		if strings.HasSuffix(arn, "/"+clusterName+"/"+ref) {
			return s.ecs.tasks[arn]
		}
	}
	return nil
}

func (s *Server) describeTasks(in *ecs.DescribeTasksInput) (*ecs.DescribeTasksOutput, *APIError) {
	cname, _, e := s.resolveCluster(in.Cluster)
	if e != nil {
		return nil, e
	}
	if err := awsmodel.ValidateDescribeTasks(in); err != nil {
		return nil, modelErr(err)
	}
	out := &ecs.DescribeTasksOutput{Tasks: []types.Task{}, Failures: []types.Failure{}}
	for _, ref := range in.Tasks {
		r := s.findTask(cname, ref)
		if r == nil {
			arn := ref
			if !strings.HasPrefix(arn, "arn:") {
				arn = fmt.Sprintf("arn:aws:ecs:%s:%s:task/%s/%s", s.region, s.account, cname, ref)
			}
			out.Failures = append(out.Failures, types.Failure{Arn: aws.String(arn), Reason: aws.String("MISSING")})
			continue
		}
		out.Tasks = append(out.Tasks, r.task)
	}
	return out, nil
}

func (s *Server) listTasks(in *ecs.ListTasksInput) (*ecs.ListTasksOutput, *APIError) {
	cname, _, e := s.resolveCluster(in.Cluster)
	if e != nil {
		return nil, e
	}
	if err := awsmodel.ValidateListTasks(in); err != nil {
		return nil, modelErr(err)
	}
	var arns []string
	for _, arn := range s.ecs.taskOrder {
		t := s.ecs.tasks[arn].task
		if clusterName(aws.ToString(t.ClusterArn)) != cname || !awsmodel.ListTasksMatch(in, &t) {
			continue
		}
		arns = append(arns, arn)
	}
	page, next, err := awsmodel.Page(arns, in.NextToken, in.MaxResults, 100)
	if err != nil {
		return nil, modelErr(err)
	}
	return &ecs.ListTasksOutput{TaskArns: page, NextToken: next}, nil
}

func familyOf(taskDefARN string) string {
	ref := taskDefARN
	if i := strings.Index(ref, ":task-definition/"); i >= 0 {
		ref = ref[i+len(":task-definition/"):]
	}
	f, _, _ := strings.Cut(ref, ":")
	return f
}

func (s *Server) stopTask(in *ecs.StopTaskInput) (*ecs.StopTaskOutput, *APIError) {
	if err := awsmodel.ValidateStopTask(in); err != nil {
		return nil, modelErr(err)
	}
	cname, _, e := s.resolveCluster(in.Cluster)
	if e != nil {
		return nil, e
	}
	r := s.findTask(cname, aws.ToString(in.Task))
	if r == nil {
		return nil, apiErr(InvalidParameterError("The referenced task was not found."))
	}
	if aws.ToString(r.task.LastStatus) != TaskStopped {
		reason := aws.ToString(in.Reason)
		if reason == "" {
			reason = "Task stopped by user"
		}
		s.stop(r, TaskOutcome{StopCode: types.TaskStopCodeUserInitiated, StoppedReason: reason, ExitCode: 137})
	}
	return &ecs.StopTaskOutput{Task: &r.task}, nil
}

// start moves a PROVISIONING task to RUNNING (or straight to STOPPED when
// its outcome is FailedToStart). Callers hold s.mu.
func (s *Server) start(r *taskRecord) {
	o := s.outcomeFor(r)
	if o.FailedToStart {
		s.stop(r, o)
		return
	}
	now := s.now()
	r.task.LastStatus = aws.String(TaskRunning)
	r.task.PullStartedAt = &now
	r.task.PullStoppedAt = &now
	r.task.StartedAt = &now
	r.task.Version++
	for i := range r.task.Containers {
		r.task.Containers[i].LastStatus = aws.String(TaskRunning)
		r.task.Containers[i].RuntimeId = aws.String(fmt.Sprintf("%s-%d", lastSegment(aws.ToString(r.task.TaskArn)), i))
	}
}

func (s *Server) outcomeFor(r *taskRecord) TaskOutcome {
	if r.outcome != nil {
		return *r.outcome
	}
	return s.ecs.outcomes[familyOf(aws.ToString(r.task.TaskDefinitionArn))]
}

// stop moves a task to STOPPED with outcome o. Callers hold s.mu.
func (s *Server) stop(r *taskRecord, o TaskOutcome) {
	now := s.now()
	code := o.StopCode
	reason := o.StoppedReason
	if o.FailedToStart {
		if code == "" {
			code = types.TaskStopCodeTaskFailedToStart
		}
		if reason == "" {
			reason = "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref"
		}
	}
	if code == "" {
		code = types.TaskStopCodeEssentialContainerExited
	}
	if reason == "" {
		reason = "Essential container in task exited"
	}
	r.task.LastStatus = aws.String(TaskStopped)
	r.task.DesiredStatus = aws.String(TaskStopped)
	r.task.StopCode = code
	r.task.StoppedReason = aws.String(reason)
	r.task.StoppingAt = &now
	r.task.StoppedAt = &now
	r.task.ExecutionStoppedAt = &now
	r.task.Version++
	for i := range r.task.Containers {
		c := &r.task.Containers[i]
		c.LastStatus = aws.String(TaskStopped)
		if o.ContainerReason != "" {
			c.Reason = aws.String(o.ContainerReason)
		}
		if o.FailedToStart {
			c.ExitCode = nil
			if c.Reason == nil {
				c.Reason = aws.String(reason)
			}
			continue
		}
		code := o.ExitCode
		if v, ok := o.ExitCodes[aws.ToString(c.Name)]; ok {
			code = v
		}
		c.ExitCode = aws.Int32(code)
	}
}

func lastSegment(arn string) string {
	return arn[strings.LastIndex(arn, "/")+1:]
}

// Task returns a copy of the task with the given ARN.
func (s *Server) Task(arn string) (types.Task, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.ecs.tasks[arn]
	if !ok {
		return types.Task{}, false
	}
	return copyTask(r.task), true
}

// Tasks returns copies of all tasks in creation order.
func (s *Server) Tasks() []types.Task {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]types.Task, 0, len(s.ecs.taskOrder))
	for _, arn := range s.ecs.taskOrder {
		out = append(out, copyTask(s.ecs.tasks[arn].task))
	}
	return out
}

func copyTask(t types.Task) types.Task {
	t.Containers = append([]types.Container(nil), t.Containers...)
	return t
}

// StartTask moves a PROVISIONING task to RUNNING (or to STOPPED when its
// outcome is FailedToStart) and returns it.
func (s *Server) StartTask(arn string) (types.Task, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.ecs.tasks[arn]
	if !ok {
		return types.Task{}, fmt.Errorf("awsfake: no task %s", arn)
	}
	if aws.ToString(r.task.LastStatus) != TaskProvisioning {
		return types.Task{}, fmt.Errorf("awsfake: task %s is %s, not PROVISIONING", arn, aws.ToString(r.task.LastStatus))
	}
	s.start(r)
	return copyTask(r.task), nil
}

// FinishTask stops a task with its family's scripted outcome (see
// SetTaskOutcome) and returns it. A PROVISIONING task is started first.
func (s *Server) FinishTask(arn string) (types.Task, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.ecs.tasks[arn]
	if !ok {
		return types.Task{}, fmt.Errorf("awsfake: no task %s", arn)
	}
	return s.finish(r, s.outcomeFor(r))
}

// FinishTaskWith stops a task with outcome o and returns it.
func (s *Server) FinishTaskWith(arn string, o TaskOutcome) (types.Task, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.ecs.tasks[arn]
	if !ok {
		return types.Task{}, fmt.Errorf("awsfake: no task %s", arn)
	}
	r.outcome = &o
	return s.finish(r, o)
}

func (s *Server) finish(r *taskRecord, o TaskOutcome) (types.Task, error) {
	switch aws.ToString(r.task.LastStatus) {
	case TaskStopped:
		return types.Task{}, fmt.Errorf("awsfake: task %s is already STOPPED", aws.ToString(r.task.TaskArn))
	case TaskProvisioning:
		s.start(r)
		if aws.ToString(r.task.LastStatus) == TaskStopped {
			return copyTask(r.task), nil
		}
	}
	s.stop(r, o)
	return copyTask(r.task), nil
}

// AdvanceTasks moves every task that is not STOPPED one step along its
// lifecycle (PROVISIONING → RUNNING → STOPPED with its scripted outcome)
// and returns the tasks that changed.
func (s *Server) AdvanceTasks() []types.Task {
	s.mu.Lock()
	defer s.mu.Unlock()
	var changed []types.Task
	for _, arn := range s.ecs.taskOrder {
		r := s.ecs.tasks[arn]
		switch aws.ToString(r.task.LastStatus) {
		case TaskProvisioning:
			s.start(r)
		case TaskRunning:
			s.stop(r, s.outcomeFor(r))
		default:
			continue
		}
		changed = append(changed, copyTask(r.task))
	}
	return changed
}
