package controlplane

// In-memory fakes of the interfaces in awsapi.go, in the style of
// karpenter-provider-aws's fake package: each fake embeds the interface it
// implements (so a method the control plane starts calling without a fake
// panics loudly), keeps a little state with the real SDK types, records
// every call and can be scripted to fail. Tests move the world forward
// explicitly (finish a build, stop a task, complete or fail a rollout).

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codebuild"
	cbtypes "github.com/aws/aws-sdk-go-v2/service/codebuild/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go"

	"github.com/wharf-paas/wharf/contract"
	"github.com/wharf-paas/wharf/controlplane/internal/awsmodel"
)

const (
	twAccount = "111122223333"
	twRegion  = "eu-west-1"
	twCluster = "arn:aws:ecs:eu-west-1:111122223333:cluster/wharf-main"
	twBucket  = "wharf-api-artifacts"
)

// twCall is one recorded AWS call.
type twCall struct {
	Op    string
	Input any
}

// twWorld is one fake AWS account.
type twWorld struct {
	mu    sync.Mutex
	calls []twCall
	// fail scripts errors: the next calls of an operation return these.
	fail map[string][]error
	// hooks run after a successful call (e.g. to inject a crash).
	after map[string]func()

	builds   map[string]*cbtypes.Build
	projects map[string]bool // CodeBuild projects (from the settings)
	objects  map[string][]byte
	params   map[string]*ssmtypes.Parameter
	taskDefs map[string][]*twTaskDef
	tasks    map[string]*ecstypes.Task
	runToken map[string]string
	services map[string]*ecstypes.Service
	svcToken map[string]string
	rules    map[string]*ebtypes.Rule
	targets  map[string][]ebtypes.Target
	seq      int
	// staleReads > 0: the next DescribeServices of a service updated since
	// (up to staleReads of them) still show it as it was before its last
	// UpdateService. The ECS API reference: the result of a command "might
	// not be immediately visible to all subsequent commands you run".
	staleReads int
	stale      map[string]*ecstypes.Service
	noStop     bool // the ECS fake does not implement StopTask
	// stopIgnored: StopTask leaves the task running (a hung task).
	stopIgnored bool
	// aas is the Application Auto Scaling model (requests_test.go); nil
	// until first used.
	aas *awsmodel.ScalingModel
	// loseRunTask > 0: the next RunTask calls start their task but their
	// answer is lost (a timeout after ECS acted).
	loseRunTask int
	// newServiceLag > 0: a service CreateService makes reads as MISSING
	// in the next newServiceLag DescribeServices that name it (lagging
	// reads after a write).
	newServiceLag int
	hiddenReads   map[string]int
	// hideTasks: ListTasks and DescribeTasks lag and show no task (the
	// ECS API reference on RunTask: the result "might not be immediately
	// visible to all subsequent commands you run").
	hideTasks bool
}

type twTaskDef struct {
	in   *ecs.RegisterTaskDefinitionInput
	arn  string
	tags []ecstypes.Tag
}

func newWorld() *twWorld {
	return &twWorld{
		fail: map[string][]error{}, after: map[string]func(){},
		builds: map[string]*cbtypes.Build{}, projects: map[string]bool{}, objects: map[string][]byte{},
		params: map[string]*ssmtypes.Parameter{}, taskDefs: map[string][]*twTaskDef{},
		tasks: map[string]*ecstypes.Task{}, runToken: map[string]string{},
		services: map[string]*ecstypes.Service{}, svcToken: map[string]string{},
		rules: map[string]*ebtypes.Rule{}, targets: map[string][]ebtypes.Target{},
	}
}

// record notes a call and returns the scripted error for it, if any.
func (w *twWorld) record(op string, in any) error {
	w.calls = append(w.calls, twCall{Op: op, Input: in})
	if err := ecsRules(in); err != nil {
		return err
	}
	if errs := w.fail[op]; len(errs) > 0 {
		w.fail[op] = errs[1:]
		return errs[0]
	}
	return nil
}

func (w *twWorld) done(op string) {
	if f := w.after[op]; f != nil {
		f()
	}
}

func apiErr(code, msg string) error { return &smithy.GenericAPIError{Code: code, Message: msg} }

// Calls returns the recorded operations (optionally only those named).
func (w *twWorld) Calls(ops ...string) []twCall {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []twCall
	for _, c := range w.calls {
		if len(ops) == 0 || contains(ops, c.Op) {
			out = append(out, c)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (w *twWorld) resetCalls() {
	w.mu.Lock()
	w.calls = nil
	w.mu.Unlock()
}

// writeOps are the operations that change something in AWS.
var writeOps = []string{
	"RegisterTaskDefinition", "RunTask", "StopTask", "CreateService", "UpdateService", "DeleteService",
	"PutRule", "PutTargets", "RemoveTargets", "DeleteRule",
	"RegisterScalableTarget", "PutScalingPolicy", "DeregisterScalableTarget",
}

// --- setup helpers ---

func (w *twWorld) putSettings(app string, mutate func(*contract.Settings)) {
	s := contract.Settings{
		Version: 1, App: app, Prefix: "wharf", ClusterARN: twCluster,
		Subnets: []string{"subnet-1", "subnet-2"}, SecurityGroups: []string{"sg-1"}, AssignPublicIP: true,
		LaunchType: "FARGATE", TargetGroupARN: "arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/wharf-" + app + "/abc",
		ContainerPort: 8080, ExecutionRoleARN: "arn:aws:iam::111122223333:role/exec",
		TaskRoleARN: "arn:aws:iam::111122223333:role/task", EventsRoleARN: "arn:aws:iam::111122223333:role/events",
		LogGroup: "/wharf/apps/" + app, CodeBuildProject: "wharf-" + app, ConfigPrefix: "/wharf/apps/" + app + "/config/",
	}
	if mutate != nil {
		mutate(&s)
	}
	b, _ := json.Marshal(s)
	w.mu.Lock()
	w.projects[s.CodeBuildProject] = true
	w.params["/wharf/apps/"+app+"/settings"] = &ssmtypes.Parameter{Name: aws.String("/wharf/apps/" + app + "/settings"), Value: aws.String(string(b)), Version: 1}
	w.mu.Unlock()
}

// putConfig creates or updates a SecureString config parameter.
func (w *twWorld) putConfig(app, name, value string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	full := "/wharf/apps/" + app + "/config/" + name
	p := w.params[full]
	if p == nil {
		p = &ssmtypes.Parameter{Name: aws.String(full), Type: ssmtypes.ParameterTypeSecureString,
			ARN: aws.String("arn:aws:ssm:eu-west-1:111122223333:parameter" + full)}
		w.params[full] = p
	}
	p.Version++
	p.Value = aws.String(value)
}

func twMeta(app string, n int64, release string, procs ...string) *contract.BuildMetadata {
	m := &contract.BuildMetadata{
		Version: 1, App: app, BuildNumber: n, BuildID: fmt.Sprintf("wharf-%s:b%d", app, n),
		Commit: fmt.Sprintf("c%07d", n), Image: fmt.Sprintf("111122223333.dkr.ecr.eu-west-1.amazonaws.com/wharf-%s@sha256:%064d", app, n),
		ReleaseCommand: release, Processes: map[string]contract.Process{},
	}
	for _, p := range procs {
		m.Processes[p] = contract.Process{Command: "bin/" + p}
	}
	return m
}

// startBuild registers an in-progress build and returns its ID.
func (w *twWorld) startBuild(app string, n int64) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	id := fmt.Sprintf("wharf-%s:b%d", app, n)
	w.builds[id] = &cbtypes.Build{Id: aws.String(id), BuildNumber: aws.Int64(n), BuildStatus: cbtypes.StatusTypeInProgress,
		ProjectName: aws.String("wharf-" + app)}
	return id
}

// finishBuild ends a build; with meta it also writes wharf-build.json.
func (w *twWorld) finishBuild(app string, n int64, status cbtypes.StatusType, meta *contract.BuildMetadata) string {
	id := fmt.Sprintf("wharf-%s:b%d", app, n)
	w.mu.Lock()
	defer w.mu.Unlock()
	b := w.builds[id]
	if b == nil {
		b = &cbtypes.Build{Id: aws.String(id), BuildNumber: aws.Int64(n), ProjectName: aws.String("wharf-" + app)}
		w.builds[id] = b
	}
	b.BuildStatus = status
	path := fmt.Sprintf("%s/builds/%d", app, n)
	b.Artifacts = &cbtypes.BuildArtifacts{Location: aws.String("arn:aws:s3:::" + twBucket + "/" + path)}
	b.ResolvedSourceVersion = aws.String(fmt.Sprintf("c%07d", n))
	if meta != nil {
		data, _ := json.Marshal(meta)
		w.objects[twBucket+"/"+path+"/"+contract.MetadataFile] = data
	}
	return id
}

// stopTask stops a task with an exit code and stop code.
func (w *twWorld) stopTask(arn string, stop ecstypes.TaskStopCode, exit *int32, reason string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	t := w.tasks[arn]
	t.LastStatus = aws.String("STOPPED")
	t.DesiredStatus = aws.String("STOPPED")
	t.StopCode = stop
	t.StoppedReason = aws.String(reason)
	t.Containers[0].ExitCode = exit
	t.Containers[0].LastStatus = aws.String("STOPPED")
	t.Version++
}

// releaseTasks lists release tasks (RunTask-started) in start order.
func (w *twWorld) releaseTasks() []*ecstypes.Task {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []*ecstypes.Task
	for _, t := range w.tasks {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return aws.ToString(out[i].TaskArn) < aws.ToString(out[j].TaskArn) })
	return out
}

// completeRollouts marks every in-progress PRIMARY deployment COMPLETED
// and drops the old ones, as ECS does at steady state.
func (w *twWorld) completeRollouts() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, s := range w.services {
		p := primary(s)
		if p == nil || p.RolloutState != ecstypes.DeploymentRolloutStateInProgress {
			continue
		}
		p.RolloutState = ecstypes.DeploymentRolloutStateCompleted
		p.RunningCount = p.DesiredCount
		s.Deployments = []ecstypes.Deployment{*p}
	}
}

// failRollout fails the service's PRIMARY deployment; with rollback the
// circuit breaker starts a deployment back to the previous definition.
func (w *twWorld) failRollout(name string, rollback bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := w.services[name]
	p := primary(s)
	p.RolloutState = ecstypes.DeploymentRolloutStateFailed
	p.RolloutStateReason = aws.String("ECS deployment circuit breaker: tasks failed to start.")
	if !rollback {
		return
	}
	var prev string
	for _, d := range s.Deployments {
		if aws.ToString(d.Status) == "ACTIVE" {
			prev = aws.ToString(d.TaskDefinition)
		}
	}
	if prev == "" {
		return
	}
	p.Status = aws.String("ACTIVE")
	w.seq++
	s.Deployments = append([]ecstypes.Deployment{{
		Id: aws.String(fmt.Sprintf("ecs-svc/%d", w.seq)), Status: aws.String("PRIMARY"), TaskDefinition: aws.String(prev),
		RolloutState: ecstypes.DeploymentRolloutStateInProgress, DesiredCount: s.DesiredCount,
		RolloutStateReason: aws.String("ECS deployment circuit breaker: rolling back to deploymentId x."),
	}}, s.Deployments...)
	s.TaskDefinition = aws.String(prev)
}

// serviceTaskDef returns the task definition a service runs (PRIMARY).
func (w *twWorld) serviceTaskDef(name string) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := w.services[name]
	if s == nil || aws.ToString(s.Status) != "ACTIVE" {
		return ""
	}
	return primaryTaskDef(s)
}

// taskDefEnv returns an environment variable of a registered revision.
func (w *twWorld) taskDef(arn string) *ecs.RegisterTaskDefinitionInput {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, revs := range w.taskDefs {
		for _, td := range revs {
			if td.arn == arn {
				return td.in
			}
		}
	}
	return nil
}

func envOf(in *ecs.RegisterTaskDefinitionInput, name string) string {
	for _, kv := range in.ContainerDefinitions[0].Environment {
		if aws.ToString(kv.Name) == name {
			return aws.ToString(kv.Value)
		}
	}
	return ""
}

// --- clients ---

type twProvider struct {
	w        map[string]*twWorld // by account
	appCalls int
	obsCalls int
	mu       sync.Mutex
}

func (p *twProvider) ForApp(_ context.Context, app contract.AppRegistration) (*AppClients, error) {
	p.mu.Lock()
	p.appCalls++
	p.mu.Unlock()
	w := p.w[app.AccountID]
	if w == nil {
		return nil, fmt.Errorf("no world for account %s", app.AccountID)
	}
	var e ECSAPI = &twECS{w: w}
	if !w.noStop {
		e = &twECSStop{twECS{w: w}}
	}
	return &AppClients{ECS: e, CodeBuild: &twCodeBuild{w: w}, S3: &twS3{w: w}, SSM: &twSSM{w: w}, EventBridge: &twEB{w: w},
		AutoScaling: &twAAS{w: w}}, nil
}

func (p *twProvider) ForObserver(_ context.Context, acct contract.AccountRegistration) (*ObserverClients, error) {
	p.mu.Lock()
	p.obsCalls++
	p.mu.Unlock()
	w := p.w[acct.AccountID]
	if w == nil {
		return nil, fmt.Errorf("no world for account %s", acct.AccountID)
	}
	return &ObserverClients{ECS: &twECS{w: w}}, nil
}

type twCodeBuild struct {
	CodeBuildAPI
	w *twWorld
}

func (c *twCodeBuild) BatchGetBuilds(_ context.Context, in *codebuild.BatchGetBuildsInput, _ ...func(*codebuild.Options)) (*codebuild.BatchGetBuildsOutput, error) {
	w := c.w
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.record("BatchGetBuilds", in); err != nil {
		return nil, err
	}
	out := &codebuild.BatchGetBuildsOutput{}
	for _, id := range in.Ids {
		if b := w.builds[id]; b != nil {
			out.Builds = append(out.Builds, *b)
		} else {
			out.BuildsNotFound = append(out.BuildsNotFound, id)
		}
	}
	return out, nil
}

// ListBuildsForProject lists the project's builds newest first (the
// fake's builds all fit one page); an unknown project is a
// ResourceNotFoundException.
func (c *twCodeBuild) ListBuildsForProject(_ context.Context, in *codebuild.ListBuildsForProjectInput, _ ...func(*codebuild.Options)) (*codebuild.ListBuildsForProjectOutput, error) {
	w := c.w
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.record("ListBuildsForProject", in); err != nil {
		return nil, err
	}
	project := aws.ToString(in.ProjectName)
	if !w.projects[project] {
		return nil, &cbtypes.ResourceNotFoundException{Message: aws.String("The provided project arn:aws:codebuild:eu-west-1:111122223333:project/" + project + " does not exist")}
	}
	var bs []*cbtypes.Build
	for _, b := range w.builds {
		if aws.ToString(b.ProjectName) == project {
			bs = append(bs, b)
		}
	}
	sort.Slice(bs, func(i, j int) bool { return aws.ToInt64(bs[i].BuildNumber) > aws.ToInt64(bs[j].BuildNumber) })
	if in.SortOrder == cbtypes.SortOrderTypeAscending {
		slices.Reverse(bs)
	}
	out := &codebuild.ListBuildsForProjectOutput{}
	for _, b := range bs {
		out.Ids = append(out.Ids, aws.ToString(b.Id))
	}
	return out, nil
}

type twS3 struct {
	S3API
	w *twWorld
}

func (c *twS3) GetObject(_ context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	w := c.w
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.record("GetObject", in); err != nil {
		return nil, err
	}
	data, ok := w.objects[aws.ToString(in.Bucket)+"/"+aws.ToString(in.Key)]
	if !ok {
		return nil, &s3types.NoSuchKey{Message: aws.String("The specified key does not exist.")}
	}
	return &s3.GetObjectOutput{Body: io.NopCloser(bytes.NewReader(data))}, nil
}

type twSSM struct {
	SSMAPI
	w *twWorld
}

func (c *twSSM) GetParameter(_ context.Context, in *ssm.GetParameterInput, _ ...func(*ssm.Options)) (*ssm.GetParameterOutput, error) {
	w := c.w
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.record("GetParameter", in); err != nil {
		return nil, err
	}
	p := w.params[aws.ToString(in.Name)]
	if p == nil {
		return nil, &ssmtypes.ParameterNotFound{Message: aws.String("not found")}
	}
	cp := *p
	return &ssm.GetParameterOutput{Parameter: &cp}, nil
}

func (c *twSSM) DescribeParameters(_ context.Context, in *ssm.DescribeParametersInput, _ ...func(*ssm.Options)) (*ssm.DescribeParametersOutput, error) {
	w := c.w
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.record("DescribeParameters", in); err != nil {
		return nil, err
	}
	path := in.ParameterFilters[0].Values[0] + "/"
	var names []string
	for n := range w.params {
		if rest, ok := strings.CutPrefix(n, path); ok && !strings.Contains(rest, "/") {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	// Two per page, to exercise pagination.
	start := 0
	if in.NextToken != nil {
		fmt.Sscan(*in.NextToken, &start)
	}
	out := &ssm.DescribeParametersOutput{}
	for i := start; i < len(names) && i < start+2; i++ {
		p := w.params[names[i]]
		out.Parameters = append(out.Parameters, ssmtypes.ParameterMetadata{Name: p.Name, ARN: p.ARN, Version: p.Version, Type: p.Type})
	}
	if start+2 < len(names) {
		out.NextToken = aws.String(fmt.Sprint(start + 2))
	}
	return out, nil
}

type twEB struct {
	EventBridgeAPI
	w *twWorld
}

func (c *twEB) ListRules(_ context.Context, in *eventbridge.ListRulesInput, _ ...func(*eventbridge.Options)) (*eventbridge.ListRulesOutput, error) {
	w := c.w
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.record("ListRules", in); err != nil {
		return nil, err
	}
	out := &eventbridge.ListRulesOutput{}
	for _, n := range sortedKeys(w.rules) {
		if strings.HasPrefix(n, aws.ToString(in.NamePrefix)) {
			out.Rules = append(out.Rules, *w.rules[n])
		}
	}
	return out, nil
}

func (c *twEB) PutRule(_ context.Context, in *eventbridge.PutRuleInput, _ ...func(*eventbridge.Options)) (*eventbridge.PutRuleOutput, error) {
	w := c.w
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.record("PutRule", in); err != nil {
		return nil, err
	}
	w.rules[aws.ToString(in.Name)] = &ebtypes.Rule{Name: in.Name, ScheduleExpression: in.ScheduleExpression, State: in.State}
	return &eventbridge.PutRuleOutput{}, nil
}

func (c *twEB) PutTargets(_ context.Context, in *eventbridge.PutTargetsInput, _ ...func(*eventbridge.Options)) (*eventbridge.PutTargetsOutput, error) {
	w := c.w
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.record("PutTargets", in); err != nil {
		return nil, err
	}
	w.targets[aws.ToString(in.Rule)] = in.Targets
	return &eventbridge.PutTargetsOutput{}, nil
}

func (c *twEB) ListTargetsByRule(_ context.Context, in *eventbridge.ListTargetsByRuleInput, _ ...func(*eventbridge.Options)) (*eventbridge.ListTargetsByRuleOutput, error) {
	w := c.w
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.record("ListTargetsByRule", in); err != nil {
		return nil, err
	}
	return &eventbridge.ListTargetsByRuleOutput{Targets: w.targets[aws.ToString(in.Rule)]}, nil
}

func (c *twEB) RemoveTargets(_ context.Context, in *eventbridge.RemoveTargetsInput, _ ...func(*eventbridge.Options)) (*eventbridge.RemoveTargetsOutput, error) {
	w := c.w
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.record("RemoveTargets", in); err != nil {
		return nil, err
	}
	delete(w.targets, aws.ToString(in.Rule))
	return &eventbridge.RemoveTargetsOutput{}, nil
}

func (c *twEB) DeleteRule(_ context.Context, in *eventbridge.DeleteRuleInput, _ ...func(*eventbridge.Options)) (*eventbridge.DeleteRuleOutput, error) {
	w := c.w
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.record("DeleteRule", in); err != nil {
		return nil, err
	}
	delete(w.rules, aws.ToString(in.Name))
	return &eventbridge.DeleteRuleOutput{}, nil
}

type twECS struct {
	ECSAPI
	w *twWorld
}

// twECSStop adds StopTask, as the SDK client has it.
type twECSStop struct{ twECS }

func (c *twECSStop) StopTask(_ context.Context, in *ecs.StopTaskInput, _ ...func(*ecs.Options)) (*ecs.StopTaskOutput, error) {
	w := c.w
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.record("StopTask", in); err != nil {
		return nil, err
	}
	if t := w.tasks[aws.ToString(in.Task)]; t != nil {
		t.DesiredStatus = aws.String("STOPPED")
		if !w.stopIgnored {
			t.LastStatus = aws.String("STOPPED")
			t.StopCode = ecstypes.TaskStopCodeUserInitiated
			t.StoppedReason = in.Reason
			t.Version++
		}
	}
	return &ecs.StopTaskOutput{}, nil
}

func (c *twECS) RegisterTaskDefinition(_ context.Context, in *ecs.RegisterTaskDefinitionInput, _ ...func(*ecs.Options)) (*ecs.RegisterTaskDefinitionOutput, error) {
	w := c.w
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.record("RegisterTaskDefinition", in); err != nil {
		return nil, err
	}
	fam := aws.ToString(in.Family)
	rev := len(w.taskDefs[fam]) + 1
	arn := fmt.Sprintf("arn:aws:ecs:eu-west-1:111122223333:task-definition/%s:%d", fam, rev)
	w.taskDefs[fam] = append(w.taskDefs[fam], &twTaskDef{in: in, arn: arn, tags: in.Tags})
	defer w.done("RegisterTaskDefinition")
	return &ecs.RegisterTaskDefinitionOutput{TaskDefinition: &ecstypes.TaskDefinition{
		TaskDefinitionArn: aws.String(arn), Family: in.Family, Revision: int32(rev), Status: ecstypes.TaskDefinitionStatusActive,
	}}, nil
}

func (c *twECS) DescribeTaskDefinition(_ context.Context, in *ecs.DescribeTaskDefinitionInput, _ ...func(*ecs.Options)) (*ecs.DescribeTaskDefinitionOutput, error) {
	w := c.w
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.record("DescribeTaskDefinition", in); err != nil {
		return nil, err
	}
	// By family (the latest revision) or by ARN.
	ref := aws.ToString(in.TaskDefinition)
	var td *twTaskDef
	if revs := w.taskDefs[ref]; len(revs) > 0 {
		td = revs[len(revs)-1]
	}
	for _, revs := range w.taskDefs {
		for _, r := range revs {
			if r.arn == ref {
				td = r
			}
		}
	}
	if td == nil {
		return nil, &ecstypes.ClientException{Message: aws.String("Unable to describe task definition.")}
	}
	return &ecs.DescribeTaskDefinitionOutput{
		TaskDefinition: &ecstypes.TaskDefinition{TaskDefinitionArn: aws.String(td.arn), Family: td.in.Family, Status: ecstypes.TaskDefinitionStatusActive,
			ContainerDefinitions: td.in.ContainerDefinitions},
		Tags: td.tags,
	}, nil
}

// ListServices lists the ARNs of the services that are not INACTIVE, two
// per page to exercise pagination.
func (c *twECS) ListServices(_ context.Context, in *ecs.ListServicesInput, _ ...func(*ecs.Options)) (*ecs.ListServicesOutput, error) {
	w := c.w
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.record("ListServices", in); err != nil {
		return nil, err
	}
	var arns []string
	for _, n := range sortedKeys(w.services) {
		if s := w.services[n]; aws.ToString(s.Status) != "INACTIVE" {
			arns = append(arns, aws.ToString(s.ServiceArn))
		}
	}
	start := 0
	if in.NextToken != nil {
		fmt.Sscan(*in.NextToken, &start)
	}
	out := &ecs.ListServicesOutput{ServiceArns: arns[min(start, len(arns)):min(start+2, len(arns))]}
	if start+2 < len(arns) {
		out.NextToken = aws.String(fmt.Sprint(start + 2))
	}
	return out, nil
}

func (c *twECS) RunTask(_ context.Context, in *ecs.RunTaskInput, _ ...func(*ecs.Options)) (*ecs.RunTaskOutput, error) {
	w := c.w
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.record("RunTask", in); err != nil {
		return nil, err
	}
	if arn, ok := w.runToken[aws.ToString(in.ClientToken)]; ok {
		return &ecs.RunTaskOutput{Tasks: []ecstypes.Task{*w.tasks[arn]}}, nil
	}
	w.seq++
	arn := fmt.Sprintf("arn:aws:ecs:eu-west-1:111122223333:task/wharf-main/%06d", w.seq)
	fam := familyFromTaskDefARN(aws.ToString(in.TaskDefinition))
	t := &ecstypes.Task{
		TaskArn: aws.String(arn), TaskDefinitionArn: in.TaskDefinition, StartedBy: in.StartedBy,
		Group: aws.String("family:" + fam), ClusterArn: in.Cluster,
		LastStatus: aws.String("PROVISIONING"), DesiredStatus: aws.String("RUNNING"), Version: 1,
		Containers: []ecstypes.Container{{Name: aws.String(contract.ContainerName), LastStatus: aws.String("PENDING")}},
		Tags:       []ecstypes.Tag{{Key: aws.String(TagApp), Value: aws.String("api")}},
	}
	w.tasks[arn] = t
	w.runToken[aws.ToString(in.ClientToken)] = arn
	defer w.done("RunTask")
	if w.loseRunTask > 0 {
		w.loseRunTask--
		return nil, apiErr("RequestTimeout", "the answer was lost")
	}
	return &ecs.RunTaskOutput{Tasks: []ecstypes.Task{*t}}, nil
}

func (c *twECS) DescribeTasks(_ context.Context, in *ecs.DescribeTasksInput, _ ...func(*ecs.Options)) (*ecs.DescribeTasksOutput, error) {
	w := c.w
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.record("DescribeTasks", in); err != nil {
		return nil, err
	}
	out := &ecs.DescribeTasksOutput{}
	for _, arn := range in.Tasks {
		if t := w.tasks[arn]; t != nil && !w.hideTasks {
			cp := *t
			cp.Containers = append([]ecstypes.Container(nil), t.Containers...)
			out.Tasks = append(out.Tasks, cp)
		} else {
			out.Failures = append(out.Failures, ecstypes.Failure{Arn: aws.String(arn), Reason: aws.String("MISSING")})
		}
	}
	return out, nil
}

func (c *twECS) ListTasks(_ context.Context, in *ecs.ListTasksInput, _ ...func(*ecs.Options)) (*ecs.ListTasksOutput, error) {
	w := c.w
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.record("ListTasks", in); err != nil {
		return nil, err
	}
	// record has applied awsmodel's ListTasks rules (startedBy must be the
	// only filter).
	out := &ecs.ListTasksOutput{}
	for _, arn := range sortedKeys(w.tasks) {
		t := w.tasks[arn]
		if w.hideTasks {
			break
		}
		if in.StartedBy != nil && aws.ToString(t.StartedBy) != aws.ToString(in.StartedBy) {
			continue
		}
		if in.Family != nil && familyFromTaskDefARN(aws.ToString(t.TaskDefinitionArn)) != aws.ToString(in.Family) {
			continue
		}
		want := string(in.DesiredStatus)
		if want == "" {
			want = "RUNNING"
		}
		if aws.ToString(t.DesiredStatus) != want {
			continue
		}
		out.TaskArns = append(out.TaskArns, arn)
	}
	return out, nil
}

func svcName(s string) string {
	if i := strings.LastIndex(s, "/"); i >= 0 {
		return s[i+1:]
	}
	return s
}

func (c *twECS) CreateService(_ context.Context, in *ecs.CreateServiceInput, _ ...func(*ecs.Options)) (*ecs.CreateServiceOutput, error) {
	w := c.w
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.record("CreateService", in); err != nil {
		return nil, err
	}
	name := aws.ToString(in.ServiceName)
	if tok := aws.ToString(in.ClientToken); tok != "" && w.svcToken[tok] == name {
		return &ecs.CreateServiceOutput{Service: w.services[name]}, nil
	}
	if s := w.services[name]; s != nil && aws.ToString(s.Status) != "INACTIVE" {
		return nil, &ecstypes.InvalidParameterException{Message: aws.String("Creation of service was not idempotent.")}
	}
	w.seq++
	s := &ecstypes.Service{
		ServiceName: in.ServiceName, ServiceArn: aws.String("arn:aws:ecs:eu-west-1:111122223333:service/wharf-main/" + name),
		Status: aws.String("ACTIVE"), TaskDefinition: in.TaskDefinition, DesiredCount: aws.ToInt32(in.DesiredCount),
		LoadBalancers: in.LoadBalancers, DeploymentConfiguration: in.DeploymentConfiguration, Tags: in.Tags,
		NetworkConfiguration: in.NetworkConfiguration, LaunchType: in.LaunchType, CapacityProviderStrategy: in.CapacityProviderStrategy,
		HealthCheckGracePeriodSeconds: in.HealthCheckGracePeriodSeconds, EnableExecuteCommand: in.EnableExecuteCommand,
		PropagateTags: in.PropagateTags, DeploymentController: in.DeploymentController,
		Deployments: []ecstypes.Deployment{{
			Id: aws.String(fmt.Sprintf("ecs-svc/%d", w.seq)), Status: aws.String("PRIMARY"), TaskDefinition: in.TaskDefinition,
			RolloutState: ecstypes.DeploymentRolloutStateInProgress, DesiredCount: aws.ToInt32(in.DesiredCount),
		}},
	}
	w.services[name] = s
	w.svcToken[aws.ToString(in.ClientToken)] = name
	if w.newServiceLag > 0 {
		if w.hiddenReads == nil {
			w.hiddenReads = map[string]int{}
		}
		w.hiddenReads[name] = w.newServiceLag
	}
	defer w.done("CreateService")
	return &ecs.CreateServiceOutput{Service: s}, nil
}

func (c *twECS) UpdateService(_ context.Context, in *ecs.UpdateServiceInput, _ ...func(*ecs.Options)) (*ecs.UpdateServiceOutput, error) {
	w := c.w
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.record("UpdateService", in); err != nil {
		return nil, err
	}
	name := svcName(aws.ToString(in.Service))
	s := w.services[name]
	if s == nil {
		return nil, &ecstypes.ServiceNotFoundException{Message: aws.String("Service not found.")}
	}
	if aws.ToString(s.Status) != "ACTIVE" {
		return nil, &ecstypes.ServiceNotActiveException{Message: aws.String("Service was not ACTIVE.")}
	}
	if w.staleReads > 0 {
		if w.stale == nil {
			w.stale = map[string]*ecstypes.Service{}
		}
		cp := *s
		cp.Deployments = append([]ecstypes.Deployment(nil), s.Deployments...)
		w.stale[name] = &cp
	}
	if in.DesiredCount != nil {
		s.DesiredCount = *in.DesiredCount
	}
	// ECS API reference, UpdateService: networkConfiguration and
	// loadBalancers changes start a new deployment ("When you add, update,
	// or remove a load balancer configuration, Amazon ECS starts new tasks
	// with the updated Elastic Load Balancing configuration"); the other
	// fields change the service in place.
	newDeployment := in.TaskDefinition != nil && aws.ToString(in.TaskDefinition) != aws.ToString(s.TaskDefinition)
	if in.NetworkConfiguration != nil {
		s.NetworkConfiguration = in.NetworkConfiguration
		newDeployment = true
	}
	if in.LoadBalancers != nil {
		s.LoadBalancers = in.LoadBalancers
		newDeployment = true
	}
	if in.CapacityProviderStrategy != nil {
		s.CapacityProviderStrategy = in.CapacityProviderStrategy
	}
	if in.DeploymentConfiguration != nil {
		s.DeploymentConfiguration = in.DeploymentConfiguration
	}
	if in.HealthCheckGracePeriodSeconds != nil {
		s.HealthCheckGracePeriodSeconds = in.HealthCheckGracePeriodSeconds
	}
	if in.EnableExecuteCommand != nil {
		s.EnableExecuteCommand = *in.EnableExecuteCommand
	}
	if in.PropagateTags != "" {
		s.PropagateTags = in.PropagateTags
	}
	td := in.TaskDefinition
	if td == nil {
		td = s.TaskDefinition
	}
	if newDeployment || in.ForceNewDeployment {
		w.seq++
		var deps []ecstypes.Deployment
		deps = append(deps, ecstypes.Deployment{
			Id: aws.String(fmt.Sprintf("ecs-svc/%d", w.seq)), Status: aws.String("PRIMARY"), TaskDefinition: td,
			RolloutState: ecstypes.DeploymentRolloutStateInProgress, DesiredCount: s.DesiredCount,
			NetworkConfiguration: s.NetworkConfiguration,
		})
		for _, d := range s.Deployments {
			d.Status = aws.String("ACTIVE")
			deps = append(deps, d)
		}
		s.Deployments = deps
		s.TaskDefinition = td
	}
	defer w.done("UpdateService")
	return &ecs.UpdateServiceOutput{Service: s}, nil
}

func (c *twECS) DeleteService(_ context.Context, in *ecs.DeleteServiceInput, _ ...func(*ecs.Options)) (*ecs.DeleteServiceOutput, error) {
	w := c.w
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.record("DeleteService", in); err != nil {
		return nil, err
	}
	s := w.services[svcName(aws.ToString(in.Service))]
	if s == nil || aws.ToString(s.Status) == "INACTIVE" {
		return nil, &ecstypes.ServiceNotFoundException{Message: aws.String("Service not found.")}
	}
	s.Status = aws.String("INACTIVE")
	return &ecs.DeleteServiceOutput{Service: s}, nil
}

func (c *twECS) DescribeServices(_ context.Context, in *ecs.DescribeServicesInput, _ ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error) {
	w := c.w
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.record("DescribeServices", in); err != nil {
		return nil, err
	}
	out := &ecs.DescribeServicesOutput{}
	for _, n := range in.Services {
		if st := w.stale[svcName(n)]; st != nil && w.staleReads > 0 {
			w.staleReads--
			cp := *st
			cp.Deployments = append([]ecstypes.Deployment(nil), st.Deployments...)
			out.Services = append(out.Services, cp)
			continue
		}
		if w.hiddenReads[svcName(n)] > 0 {
			w.hiddenReads[svcName(n)]--
			out.Failures = append(out.Failures, ecstypes.Failure{Arn: aws.String(n), Reason: aws.String("MISSING")})
			continue
		}
		if s := w.services[svcName(n)]; s != nil {
			cp := *s
			cp.Deployments = append([]ecstypes.Deployment(nil), s.Deployments...)
			out.Services = append(out.Services, cp)
		} else {
			out.Failures = append(out.Failures, ecstypes.Failure{Arn: aws.String(n), Reason: aws.String("MISSING")})
		}
	}
	return out, nil
}

// --- events ---

type twEvents struct{ n int }

func (e *twEvents) next() string { e.n++; return fmt.Sprintf("evt-%04d", e.n) }

func (e *twEvents) envelope(source, detailType string, resources []string, detail any) events.CloudWatchEvent {
	b, _ := json.Marshal(detail)
	return events.CloudWatchEvent{
		Version: "0", ID: e.next(), DetailType: detailType, Source: source, AccountID: twAccount,
		Time: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Region: twRegion, Resources: resources, Detail: b,
	}
}

func (e *twEvents) build(app string, n int64, status string) events.CloudWatchEvent {
	id := fmt.Sprintf("wharf-%s:b%d", app, n)
	return e.envelope("aws.codebuild", "CodeBuild Build State Change",
		[]string{"arn:aws:codebuild:eu-west-1:111122223333:build/" + id},
		map[string]any{"build-status": status, "project-name": "wharf-" + app,
			"build-id":               "arn:aws:codebuild:eu-west-1:111122223333:build/" + id,
			"additional-information": map[string]any{"build-number": float64(n)}})
}

func (e *twEvents) task(t *ecstypes.Task) events.CloudWatchEvent {
	return e.envelope("aws.ecs", "ECS Task State Change", []string{aws.ToString(t.TaskArn)},
		map[string]any{"clusterArn": aws.ToString(t.ClusterArn), "taskArn": aws.ToString(t.TaskArn),
			"group": aws.ToString(t.Group), "taskDefinitionArn": aws.ToString(t.TaskDefinitionArn),
			"lastStatus": aws.ToString(t.LastStatus), "version": t.Version})
}

func (e *twEvents) deployment(app, proc, name string) events.CloudWatchEvent {
	return e.envelope("aws.ecs", "ECS Deployment State Change",
		[]string{"arn:aws:ecs:eu-west-1:111122223333:service/wharf-main/wharf-" + app + "_" + proc},
		map[string]any{"eventType": "INFO", "eventName": name, "deploymentId": "ecs-svc/1", "reason": "x"})
}

func (e *twEvents) config(app, name string) events.CloudWatchEvent {
	return e.envelope("aws.ssm", "Parameter Store Change",
		[]string{"arn:aws:ssm:eu-west-1:111122223333:parameter/wharf/apps/" + app + "/config/" + name},
		map[string]any{"operation": "Update", "name": "/wharf/apps/" + app + "/config/" + name, "type": "SecureString"})
}

func (e *twEvents) sweep() events.CloudWatchEvent {
	return e.envelope("aws.events", "Scheduled Event", []string{"arn:aws:events:eu-west-1:999999999999:rule/wharf-sweep"}, map[string]any{})
}

// --- harness ---

type twClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *twClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *twClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type harness struct {
	t     testing.TB
	w     *twWorld
	prov  *twProvider
	store Store
	cp    *ControlPlane
	ev    *twEvents
	clock *twClock
	logs  *bytes.Buffer
}

func twRegistry(apps ...string) contract.Registry {
	r := contract.Registry{Prefix: "wharf", Accounts: []contract.AccountRegistration{{
		AccountID: twAccount, ObserverRoleARN: "arn:aws:iam::111122223333:role/wharf-account-observer", ExternalID: "ext-acct",
	}}}
	for _, a := range apps {
		r.Apps = append(r.Apps, contract.AppRegistration{Name: a, AccountID: twAccount, Region: twRegion,
			ManagementRoleARN: "arn:aws:iam::111122223333:role/wharf-app-" + a + "-management", ExternalID: "ext-" + a})
	}
	return r
}

func newHarness(t testing.TB, store Store, mutate func(*Options)) *harness {
	t.Helper()
	w := newWorld()
	w.putSettings("api", nil)
	h := &harness{t: t, w: w, prov: &twProvider{w: map[string]*twWorld{twAccount: w}}, ev: &twEvents{},
		clock: &twClock{t: time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)}, logs: &bytes.Buffer{}}
	if store == nil {
		store = NewMemoryStore()
	}
	h.store = store
	opts := Options{Registry: twRegistry("api"), Store: store, Clients: h.prov, Now: h.clock.Now}
	if _, ok := t.(*testing.T); ok {
		opts.Logger = newJSONLogger(h.logs)
	}
	if mutate != nil {
		mutate(&opts)
	}
	cp, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	h.cp = cp
	return h
}

func (h *harness) handle(ev events.CloudWatchEvent) {
	h.t.Helper()
	if err := h.cp.Handle(context.Background(), ev); err != nil {
		h.t.Fatalf("Handle(%s %s): %v", ev.DetailType, ev.ID, err)
	}
}

func (h *harness) state() *AppState {
	h.t.Helper()
	st, err := h.store.LoadApp(context.Background(), twAccount, "api")
	if err != nil {
		h.t.Fatalf("LoadApp: %v", err)
	}
	return st
}

func (h *harness) wantPhase(p Phase, build int64, reason Reason) {
	h.t.Helper()
	st := h.state()
	if st.Phase != p || st.Build != build || st.Reason != reason {
		h.t.Fatalf("state = %s build %d reason %q (%s), want %s build %d reason %q", st.Phase, st.Build, st.Reason, st.Detail, p, build, reason)
	}
}

// releaseTask returns the newest release task.
func (h *harness) releaseTask() *ecstypes.Task {
	h.t.Helper()
	ts := h.w.releaseTasks()
	if len(ts) == 0 {
		h.t.Fatalf("no release task was started")
	}
	return ts[len(ts)-1]
}

// deployBuild runs build n of api through to deployed.
func (h *harness) deployBuild(n int64, meta *contract.BuildMetadata) {
	h.t.Helper()
	h.w.startBuild("api", n)
	h.handle(h.ev.build("api", n, "IN_PROGRESS"))
	h.w.finishBuild("api", n, cbtypes.StatusTypeSucceeded, meta)
	h.handle(h.ev.build("api", n, "SUCCEEDED"))
	if meta.ReleaseCommand != "" {
		t := h.releaseTask()
		h.w.stopTask(aws.ToString(t.TaskArn), ecstypes.TaskStopCodeEssentialContainerExited, aws.Int32(0), "Essential container in task exited")
		h.handle(h.ev.task(t))
	}
	h.w.completeRollouts()
	h.handle(h.ev.deployment("api", "web", "SERVICE_DEPLOYMENT_COMPLETED"))
	h.wantPhase(PhaseDeployed, n, "")
}

// ecsRules checks an ECS request against the shared model of ECS's
// documented parameter rules (controlplane/internal/awsmodel), the same
// rules the simulator and the wire fake apply.
func ecsRules(in any) error {
	switch v := in.(type) {
	case *ecs.RegisterTaskDefinitionInput:
		return awsmodel.ValidateRegisterTaskDefinition(v)
	case *ecs.DescribeTaskDefinitionInput:
		return awsmodel.ValidateDescribeTaskDefinition(v)
	case *ecs.RunTaskInput:
		return awsmodel.ValidateRunTask(v, nil)
	case *ecs.StopTaskInput:
		return awsmodel.ValidateStopTask(v)
	case *ecs.DescribeTasksInput:
		return awsmodel.ValidateDescribeTasks(v)
	case *ecs.ListTasksInput:
		return awsmodel.ValidateListTasks(v)
	case *ecs.CreateServiceInput:
		return awsmodel.ValidateCreateService(v, nil)
	case *ecs.DeleteServiceInput:
		return awsmodel.ValidateDeleteService(v)
	case *ecs.DescribeServicesInput:
		return awsmodel.ValidateDescribeServices(v)
	case *ecs.ListServicesInput:
		return awsmodel.ValidateListServices(v)
	}
	return nil
}
