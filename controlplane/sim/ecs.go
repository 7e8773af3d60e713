package sim

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/wharf-paas/wharf/controlplane"
	"github.com/wharf-paas/wharf/controlplane/internal/awsmodel"
)

// Task and service timings of the simulated ECS.
const (
	stoppedTaskRetention = time.Hour
	healthyAfter         = 20 * time.Second
	inactiveRetention    = time.Hour
)

type ecsState struct {
	families  map[string][]*taskDef // family → revisions, index rev-1
	tasks     map[string]*task
	taskOrder []*task
	services  map[string]*service // cluster ARN + "/" + name → newest service of that name
	runTokens map[string]*runTokenRecord

	// The read-lag fault: until a view's time, Describe and List calls
	// see the view from before a write (nil: the resource is not visible
	// yet).
	svcLag  map[string]lagView[ecstypes.Service] // by service ARN
	taskLag map[string]lagView[ecstypes.Task]    // by task ARN
}

// lagView is what a lagging read returns until the lag ends. The ECS API
// reference, on every operation: "The Amazon ECS API follows an eventual
// consistency model. This is because of the distributed nature of the
// system supporting the API. This means that the result of an API command
// you run that affects your Amazon ECS resources might not be immediately
// visible to all subsequent commands you run."
type lagView[T any] struct {
	view  *T
	until time.Time
}

// readLag draws the read-lag fault (probability p) for a write that is
// about to succeed and returns how long its result stays invisible.
func (w *World) readLag(p float64) (time.Duration, bool) {
	if !w.faultsOn || !w.chance(p) {
		return 0, false
	}
	w.fault("read-lag")
	return w.between(time.Second, 20*time.Second), true
}

// lagService hides a service write behind the view before it (prev nil:
// the service did not exist) for a while, if the fault is drawn. An older
// lag still running is kept: reads never move backwards past it.
func (w *World) lagService(s *ecsState, arn string, prev *ecstypes.Service) {
	if l, ok := s.svcLag[arn]; ok && w.now.Before(l.until) {
		return
	}
	if d, ok := w.readLag(w.Faults.ReadLag); ok {
		s.svcLag[arn] = lagView[ecstypes.Service]{view: prev, until: w.now.Add(d)}
		w.tracef("  FAULT read lag: %s reads as before this write for %s", shortNames([]string{arn})[0], d.Round(time.Millisecond))
	}
}

func (w *World) lagTask(s *ecsState, arn string, prev *ecstypes.Task) {
	if l, ok := s.taskLag[arn]; ok && w.now.Before(l.until) {
		return
	}
	if d, ok := w.readLag(w.Faults.TaskReadLag); ok {
		s.taskLag[arn] = lagView[ecstypes.Task]{view: prev, until: w.now.Add(d)}
		w.tracef("  FAULT read lag: %s reads as before this write for %s", shortTask(arn), d.Round(time.Millisecond))
	}
}

// seenService is the service as a read sees it now: its description, or
// the lagging view (ok false: not visible).
func (w *World) seenService(s *ecsState, svc *service) (ecstypes.Service, bool) {
	if l, ok := s.svcLag[svc.arn]; ok {
		if w.now.Before(l.until) {
			if l.view == nil {
				return ecstypes.Service{}, false
			}
			return cloneJSON(*l.view), true
		}
		delete(s.svcLag, svc.arn)
	}
	return svc.describe(), true
}

// seenTask is the task as a read sees it now (ok false: not visible).
func (w *World) seenTask(s *ecsState, t *task) (ecstypes.Task, bool) {
	if l, ok := s.taskLag[t.arn]; ok {
		if w.now.Before(l.until) {
			if l.view == nil {
				return ecstypes.Task{}, false
			}
			return cloneJSON(*l.view), true
		}
		delete(s.taskLag, t.arn)
	}
	return t.describe(), true
}

type runTokenRecord struct {
	hash  string
	tasks []*task
}

func newECSState() *ecsState {
	return &ecsState{
		families:  map[string][]*taskDef{},
		tasks:     map[string]*task{},
		services:  map[string]*service{},
		runTokens: map[string]*runTokenRecord{},
		svcLag:    map[string]lagView[ecstypes.Service]{},
		taskLag:   map[string]lagView[ecstypes.Task]{},
	}
}

type taskDef struct {
	arn    string
	family string
	rev    int32
	def    ecstypes.TaskDefinition
	build  *build // nil if the image is not a simulated build's
	status string
	tags   []ecstypes.Tag
}

type task struct {
	arn, cluster  string
	td            *taskDef
	startedBy     string
	group         string
	lastStatus    string
	desiredStatus string
	version       int64
	stopCode      ecstypes.TaskStopCode
	stoppedReason string
	exitCode      *int32
	containerWhy  string
	createdAt     time.Time
	startedAt     time.Time
	stoppingAt    time.Time
	stoppedAt     time.Time
	// tags are the tags RunTask gave the task: its request's tags and,
	// with PropagateTags TASK_DEFINITION, its task definition's.
	tags       map[string]string
	svc        *service
	dep        *deployment
	plan       string
	launchType ecstypes.LaunchType
	overrides  *ecstypes.TaskOverride
	release    bool
	app        *appWorld
}

type service struct {
	arn, name, cluster string
	app                *appWorld
	proc               string
	status             string
	cfg                awsmodel.ServiceConfig // what the service runs with (awsmodel's rules)
	deployments        []*deployment          // [0] is PRIMARY
	createdAt          time.Time
	inactiveAt         time.Time
	token              string
	paramsHash         string
	lastCompleted      *deployment
	kicked             bool
	tasks              []*task
	rollbacks          int
}

type deployment struct {
	id       string
	td       *taskDef
	status   string
	rollout  ecstypes.DeploymentRolloutState
	reason   string
	created  time.Time
	updated  time.Time
	failed   int32
	desired  int32
	rollback bool // started by the circuit breaker
}

// ECSClient is the simulated controlplane.ECSAPI (plus StopTask and
// DeregisterTaskDefinition, which a control plane may also want).
type ECSClient struct{ c caller }

var _ controlplane.ECSAPI = (*ECSClient)(nil)

func (c *ECSClient) errf(op string, status int, err error) error {
	return c.c.w.apiError("ECS", op, status, err)
}

func invalidParam(msg string) error { return &ecstypes.InvalidParameterException{Message: ptr(msg)} }
func clientExc(msg string) error    { return &ecstypes.ClientException{Message: ptr(msg)} }

func (c *ECSClient) cluster(op, name string) (string, error) {
	a := c.c.acct
	if name == "" {
		name = "default"
	}
	if a.clusters[name] {
		return name, nil
	}
	for arn := range a.clusters {
		if strings.HasSuffix(arn, ":cluster/"+name) {
			return arn, nil
		}
	}
	return "", c.errf(op, 400, &ecstypes.ClusterNotFoundException{Message: ptr("Cluster not found.")})
}

func clusterShort(arn string) string { return arn[strings.LastIndex(arn, "/")+1:] }

// resolveTD finds a task definition by ARN, family:revision or family (the
// latest ACTIVE revision).
func (s *ecsState) resolveTD(ref string) *taskDef {
	if i := strings.Index(ref, ":task-definition/"); i >= 0 {
		ref = ref[i+len(":task-definition/"):]
	}
	family, rev := ref, ""
	if i := strings.LastIndex(ref, ":"); i >= 0 {
		family, rev = ref[:i], ref[i+1:]
	}
	revs := s.families[family]
	if rev == "" {
		for i := len(revs) - 1; i >= 0; i-- {
			if revs[i].status == "ACTIVE" {
				return revs[i]
			}
		}
		return nil
	}
	n, err := strconv.Atoi(rev)
	if err != nil || n < 1 || n > len(revs) {
		return nil
	}
	return revs[n-1]
}

// RegisterTaskDefinition implements controlplane.ECSAPI.
func (c *ECSClient) RegisterTaskDefinition(_ context.Context, in *ecs.RegisterTaskDefinitionInput, _ ...func(*ecs.Options)) (*ecs.RegisterTaskDefinitionOutput, error) {
	fam := deref(in.Family)
	return call(c.c, in, "ECS", "RegisterTaskDefinition", true, "family="+fam+" content="+contentHash(in), func() (*ecs.RegisterTaskDefinitionOutput, string, error) {
		w, s := c.c.w, c.c.acct.ecs
		const op = "RegisterTaskDefinition"
		if err := awsmodel.ValidateRegisterTaskDefinition(in); err != nil {
			return nil, "", c.errf(op, 400, err)
		}
		if !c.c.allowed(fam) {
			return nil, "", c.errf(op, 400, &ecstypes.AccessDeniedException{Message: ptr("not authorized to register family " + fam)})
		}
		rev := int32(len(s.families[fam]) + 1)
		arn := fmt.Sprintf("arn:aws:ecs:%s:%s:task-definition/%s:%d", c.c.acct.region, c.c.acct.id, fam, rev)
		td := &taskDef{arn: arn, family: fam, rev: rev, status: "ACTIVE", tags: cloneJSON(in.Tags)}
		td.def = ecstypes.TaskDefinition{
			TaskDefinitionArn:       ptr(arn),
			Family:                  ptr(fam),
			Revision:                rev,
			Status:                  ecstypes.TaskDefinitionStatusActive,
			ContainerDefinitions:    cloneJSON(in.ContainerDefinitions),
			Cpu:                     in.Cpu,
			Memory:                  in.Memory,
			NetworkMode:             in.NetworkMode,
			ExecutionRoleArn:        in.ExecutionRoleArn,
			TaskRoleArn:             in.TaskRoleArn,
			RequiresCompatibilities: in.RequiresCompatibilities,
			RegisteredAt:            ptr(w.now),
		}
		td.build = w.buildForImage(deref(in.ContainerDefinitions[0].Image))
		s.families[fam] = append(s.families[fam], td)
		return &ecs.RegisterTaskDefinitionOutput{TaskDefinition: cloneJSONPtr(&td.def), Tags: in.Tags}, fmt.Sprintf("%s:%d", fam, rev), nil
	})
}

// DeregisterTaskDefinition marks a revision INACTIVE.
func (c *ECSClient) DeregisterTaskDefinition(_ context.Context, in *ecs.DeregisterTaskDefinitionInput, _ ...func(*ecs.Options)) (*ecs.DeregisterTaskDefinitionOutput, error) {
	ref := deref(in.TaskDefinition)
	return call(c.c, in, "ECS", "DeregisterTaskDefinition", true, ref, func() (*ecs.DeregisterTaskDefinitionOutput, string, error) {
		if err := awsmodel.ValidateDeregisterTaskDefinition(in); err != nil {
			return nil, "", c.errf("DeregisterTaskDefinition", 400, err)
		}
		td := c.c.acct.ecs.resolveTD(ref)
		if td == nil {
			return nil, "", c.errf("DeregisterTaskDefinition", 400, clientExc("The specified task definition does not exist."))
		}
		td.status = "INACTIVE"
		td.def.Status = ecstypes.TaskDefinitionStatusInactive
		return &ecs.DeregisterTaskDefinitionOutput{TaskDefinition: cloneJSONPtr(&td.def)}, "", nil
	})
}

// DescribeTaskDefinition implements controlplane.ECSAPI.
func (c *ECSClient) DescribeTaskDefinition(_ context.Context, in *ecs.DescribeTaskDefinitionInput, _ ...func(*ecs.Options)) (*ecs.DescribeTaskDefinitionOutput, error) {
	ref := deref(in.TaskDefinition)
	return call(c.c, in, "ECS", "DescribeTaskDefinition", false, ref, func() (*ecs.DescribeTaskDefinitionOutput, string, error) {
		if err := awsmodel.ValidateDescribeTaskDefinition(in); err != nil {
			return nil, "", c.errf("DescribeTaskDefinition", 400, err)
		}
		td := c.c.acct.ecs.resolveTD(ref)
		if td == nil {
			return nil, "", c.errf("DescribeTaskDefinition", 400, clientExc("Unable to describe task definition."))
		}
		out := &ecs.DescribeTaskDefinitionOutput{TaskDefinition: cloneJSONPtr(&td.def)}
		for _, f := range in.Include {
			if f == ecstypes.TaskDefinitionFieldTags {
				out.Tags = cloneJSON(td.tags)
			}
		}
		return out, td.arn[strings.LastIndex(td.arn, "/")+1:], nil
	})
}

func contentHash(in *ecs.RegisterTaskDefinitionInput) string {
	cp := *in
	cp.Tags = nil
	b, _ := json.Marshal(cp)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:4])
}

func runParamsHash(in *ecs.RunTaskInput) string {
	cp := *in
	cp.ClientToken = nil
	b, _ := json.Marshal(cp)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

// RunTask implements controlplane.ECSAPI.
func (c *ECSClient) RunTask(_ context.Context, in *ecs.RunTaskInput, _ ...func(*ecs.Options)) (*ecs.RunTaskOutput, error) {
	detail := fmt.Sprintf("td=%s startedBy=%s token=%s", deref(in.TaskDefinition), deref(in.StartedBy), deref(in.ClientToken))
	return call(c.c, in, "ECS", "RunTask", true, detail, func() (*ecs.RunTaskOutput, string, error) {
		w, s := c.c.w, c.c.acct.ecs
		const op = "RunTask"
		cluster, err := c.cluster(op, deref(in.Cluster))
		if err != nil {
			return nil, "", err
		}
		td := s.resolveTD(deref(in.TaskDefinition))
		if td == nil {
			return nil, "", c.errf(op, 400, invalidParam("TaskDefinition not found."))
		}
		if !c.c.allowed(td.family) {
			return nil, "", c.errf(op, 400, &ecstypes.AccessDeniedException{Message: ptr("not authorized to run " + td.family)})
		}
		if err := awsmodel.ValidateRunTask(in, &td.def); err != nil {
			return nil, "", c.errf(op, 400, err)
		}
		count := int32(1)
		if in.Count != nil {
			count = *in.Count
		}
		token := deref(in.ClientToken)
		hash := runParamsHash(in)
		if token != "" {
			if rec, ok := s.runTokens[token]; ok {
				if rec.hash != hash {
					return nil, "", c.errf(op, 400, &ecstypes.ConflictException{Message: ptr("The clientToken was used with different parameters.")})
				}
				out := &ecs.RunTaskOutput{}
				for _, t := range rec.tasks {
					out.Tasks = append(out.Tasks, t.describe())
				}
				return out, "idempotent replay of " + shortTask(rec.tasks[0].arn), nil
			}
		}
		if w.faultsOn && w.chance(w.Faults.RunTaskFailure) {
			w.fault("runtask-failure")
			return &ecs.RunTaskOutput{Failures: []ecstypes.Failure{{
				Reason: ptr("Capacity is unavailable at this time. Please try again later or in a different availability zone"),
			}}}, "FAULT failures=[capacity unavailable]", nil
		}
		out := &ecs.RunTaskOutput{}
		var tasks []*task
		for range count {
			t := w.launchTask(c.c.acct, td, cluster, deref(in.StartedBy), "family:"+td.family, nil, nil, in.LaunchType, in.Overrides)
			t.tags = map[string]string{}
			if in.PropagateTags == ecstypes.PropagateTagsTaskDefinition {
				for _, tag := range td.tags {
					t.tags[deref(tag.Key)] = deref(tag.Value)
				}
			}
			for _, tag := range in.Tags {
				t.tags[deref(tag.Key)] = deref(tag.Value)
			}
			tasks = append(tasks, t)
			out.Tasks = append(out.Tasks, t.describe())
			w.lagTask(s, t.arn, nil)
		}
		if token != "" {
			s.runTokens[token] = &runTokenRecord{hash: hash, tasks: tasks}
		}
		return out, shortTask(tasks[0].arn), nil
	})
}

// TaskTags returns the tags of the task with ARN arn in account acct (as
// RunTask gave them), for tests that evaluate IAM conditions on a task's
// tags (aws:ResourceTag/...); false if the world has no such task.
func (w *World) TaskTags(acct, arn string) (map[string]string, bool) {
	a, ok := w.accounts[acct]
	if !ok {
		return nil, false
	}
	t, ok := a.ecs.tasks[arn]
	if !ok {
		return nil, false
	}
	out := map[string]string{}
	for k, v := range t.tags {
		out[k] = v
	}
	return out, true
}

func shortTask(arn string) string { return "task/" + arn[strings.LastIndex(arn, "/")+1:][:8] }

// StopTask stops a task (UserInitiated).
func (c *ECSClient) StopTask(_ context.Context, in *ecs.StopTaskInput, _ ...func(*ecs.Options)) (*ecs.StopTaskOutput, error) {
	return call(c.c, in, "ECS", "StopTask", true, deref(in.Task), func() (*ecs.StopTaskOutput, string, error) {
		if err := awsmodel.ValidateStopTask(in); err != nil {
			return nil, "", c.errf("StopTask", 400, err)
		}
		t := c.c.acct.ecs.findTask(deref(in.Task))
		if t == nil {
			return nil, "", c.errf("StopTask", 400, invalidParam("The referenced task was not found."))
		}
		if !c.c.allowed(t.td.family) {
			return nil, "", c.errf("StopTask", 400, &ecstypes.AccessDeniedException{Message: ptr("not authorized to stop " + t.td.family)})
		}
		reason := deref(in.Reason)
		if reason == "" {
			reason = "Task stopped by user"
		}
		prev := t.describe()
		c.c.w.stopTask(t, ecstypes.TaskStopCodeUserInitiated, reason, ptr(int32(143)))
		c.c.w.lagTask(c.c.acct.ecs, t.arn, &prev)
		return &ecs.StopTaskOutput{Task: ptr(t.describe())}, "", nil
	})
}

func (s *ecsState) findTask(ref string) *task {
	if t, ok := s.tasks[ref]; ok {
		return t
	}
	for _, t := range s.taskOrder {
		if strings.HasSuffix(t.arn, "/"+ref) {
			if _, live := s.tasks[t.arn]; live {
				return t
			}
		}
	}
	return nil
}

// DescribeTasks implements controlplane.ECSAPI.
func (c *ECSClient) DescribeTasks(_ context.Context, in *ecs.DescribeTasksInput, _ ...func(*ecs.Options)) (*ecs.DescribeTasksOutput, error) {
	return call(c.c, in, "ECS", "DescribeTasks", false, fmt.Sprintf("%d tasks", len(in.Tasks)), func() (*ecs.DescribeTasksOutput, string, error) {
		const op = "DescribeTasks"
		cluster, err := c.cluster(op, deref(in.Cluster))
		if err != nil {
			return nil, "", err
		}
		if err := awsmodel.ValidateDescribeTasks(in); err != nil {
			return nil, "", c.errf(op, 400, err)
		}
		out := &ecs.DescribeTasksOutput{}
		var res []string
		for _, ref := range in.Tasks {
			t := c.c.acct.ecs.findTask(ref)
			var seen ecstypes.Task
			visible := t != nil && t.cluster == cluster
			if visible {
				seen, visible = c.c.w.seenTask(c.c.acct.ecs, t)
			}
			if !visible {
				out.Failures = append(out.Failures, ecstypes.Failure{Arn: ptr(ref), Reason: ptr("MISSING")})
				res = append(res, "MISSING")
				continue
			}
			out.Tasks = append(out.Tasks, seen)
			res = append(res, deref(seen.LastStatus))
		}
		return out, strings.Join(res, ","), nil
	})
}

// ListTasks implements controlplane.ECSAPI.
func (c *ECSClient) ListTasks(_ context.Context, in *ecs.ListTasksInput, _ ...func(*ecs.Options)) (*ecs.ListTasksOutput, error) {
	detail := fmt.Sprintf("family=%s startedBy=%s service=%s desired=%s", deref(in.Family), deref(in.StartedBy), deref(in.ServiceName), in.DesiredStatus)
	return call(c.c, in, "ECS", "ListTasks", false, detail, func() (*ecs.ListTasksOutput, string, error) {
		const op = "ListTasks"
		cluster, err := c.cluster(op, deref(in.Cluster))
		if err != nil {
			return nil, "", err
		}
		if err := awsmodel.ValidateListTasks(in); err != nil {
			return nil, "", c.errf(op, 400, err)
		}
		var arns []string
		for _, t := range c.c.acct.ecs.taskOrder {
			if _, live := c.c.acct.ecs.tasks[t.arn]; !live || t.cluster != cluster {
				continue
			}
			if d, visible := c.c.w.seenTask(c.c.acct.ecs, t); !visible || !awsmodel.ListTasksMatch(in, &d) {
				continue
			}
			arns = append(arns, t.arn)
		}
		page, next, err := awsmodel.Page(arns, in.NextToken, in.MaxResults, 100)
		if err != nil {
			return nil, "", c.errf(op, 400, err)
		}
		return &ecs.ListTasksOutput{TaskArns: page, NextToken: next}, fmt.Sprintf("%d tasks", len(page)), nil
	})
}

// paginate returns one page of items; the token is the offset.
func paginate[T any](items []T, max *int32, token *string, def, limit int) ([]T, *string, error) {
	n := def
	if max != nil {
		n = int(*max)
		if n < 1 || n > limit {
			return nil, nil, fmt.Errorf("maxResults must be between 1 and %d", limit)
		}
	}
	start := 0
	if token != nil && *token != "" {
		v, err := strconv.Atoi(strings.TrimPrefix(*token, "sim-page-"))
		if err != nil || v < 0 || v > len(items) {
			return nil, nil, fmt.Errorf("invalid nextToken")
		}
		start = v
	}
	end := min(start+n, len(items))
	var next *string
	if end < len(items) {
		next = ptr(fmt.Sprintf("sim-page-%d", end))
	}
	return items[start:end], next, nil
}

func createParamsHash(in *ecs.CreateServiceInput) string {
	cp := *in
	cp.ClientToken = nil
	b, _ := json.Marshal(cp)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

// CreateService implements controlplane.ECSAPI.
func (c *ECSClient) CreateService(_ context.Context, in *ecs.CreateServiceInput, _ ...func(*ecs.Options)) (*ecs.CreateServiceOutput, error) {
	name := deref(in.ServiceName)
	detail := fmt.Sprintf("service=%s td=%s desired=%d token=%s", name, deref(in.TaskDefinition), deref(in.DesiredCount), deref(in.ClientToken))
	return call(c.c, in, "ECS", "CreateService", true, detail, func() (*ecs.CreateServiceOutput, string, error) {
		w, s := c.c.w, c.c.acct.ecs
		const op = "CreateService"
		cluster, err := c.cluster(op, deref(in.Cluster))
		if err != nil {
			return nil, "", err
		}
		if err := awsmodel.ValidateCreateService(in, nil); err != nil {
			return nil, "", c.errf(op, 400, err)
		}
		if !c.c.allowed(name) {
			return nil, "", c.errf(op, 400, &ecstypes.AccessDeniedException{Message: ptr("not authorized to create service " + name)})
		}
		hash := createParamsHash(in)
		key := cluster + "/" + name
		if old, ok := s.services[key]; ok && old.status != "INACTIVE" {
			if in.ClientToken != nil && old.token == *in.ClientToken && old.paramsHash == hash {
				return &ecs.CreateServiceOutput{Service: ptr(old.describe())}, "idempotent replay", nil
			}
			return nil, "", c.errf(op, 400, invalidParam("Creation of service was not idempotent."))
		}
		td := s.resolveTD(deref(in.TaskDefinition))
		if td == nil {
			return nil, "", c.errf(op, 400, invalidParam("TaskDefinition not found."))
		}
		if !c.c.allowed(td.family) {
			return nil, "", c.errf(op, 400, &ecstypes.AccessDeniedException{Message: ptr("not authorized to use " + td.family)})
		}
		if err := awsmodel.ValidateCreateService(in, &td.def); err != nil {
			return nil, "", c.errf(op, 400, err)
		}
		app := c.c.app
		if app == nil {
			app = w.appForFamily(td.family)
		}
		svc := &service{
			arn:        fmt.Sprintf("arn:aws:ecs:%s:%s:service/%s/%s", c.c.acct.region, c.c.acct.id, clusterShort(cluster), name),
			name:       name,
			cluster:    cluster,
			app:        app,
			proc:       procOf(name),
			status:     "ACTIVE",
			cfg:        awsmodel.NewServiceConfig(in, td.arn),
			createdAt:  w.now,
			token:      deref(in.ClientToken),
			paramsHash: hash,
		}
		w.oracle.beforeServiceChange(svc, td, "CreateService")
		var prev *ecstypes.Service
		if old, ok := s.services[key]; ok {
			prev = ptr(old.describe()) // the INACTIVE service of that name
		}
		s.services[key] = svc
		w.newDeployment(svc, td, false, "")
		w.lagService(s, svc.arn, prev)
		return &ecs.CreateServiceOutput{Service: ptr(svc.describe())}, svc.deployments[0].id, nil
	})
}

func procOf(name string) string {
	if i := strings.LastIndex(name, "_"); i >= 0 {
		return name[i+1:]
	}
	return name
}

func (s *ecsState) findService(cluster, ref string) *service {
	if strings.HasPrefix(ref, "arn:") {
		for _, svc := range s.services {
			if svc.arn == ref && svc.cluster == cluster {
				return svc
			}
		}
		return nil
	}
	return s.services[cluster+"/"+ref]
}

// UpdateService implements controlplane.ECSAPI.
func (c *ECSClient) UpdateService(_ context.Context, in *ecs.UpdateServiceInput, _ ...func(*ecs.Options)) (*ecs.UpdateServiceOutput, error) {
	detail := fmt.Sprintf("service=%s td=%s force=%v", deref(in.Service), deref(in.TaskDefinition), in.ForceNewDeployment)
	if in.DesiredCount != nil {
		detail += fmt.Sprintf(" desired=%d", *in.DesiredCount)
	}
	return call(c.c, in, "ECS", "UpdateService", true, detail, func() (*ecs.UpdateServiceOutput, string, error) {
		w, s := c.c.w, c.c.acct.ecs
		const op = "UpdateService"
		cluster, err := c.cluster(op, deref(in.Cluster))
		if err != nil {
			return nil, "", err
		}
		svc := s.findService(cluster, deref(in.Service))
		if svc == nil {
			return nil, "", c.errf(op, 400, &ecstypes.ServiceNotFoundException{Message: ptr("Service not found.")})
		}
		if !c.c.allowed(svc.name) {
			return nil, "", c.errf(op, 400, &ecstypes.AccessDeniedException{Message: ptr("not authorized to update " + svc.name)})
		}
		if svc.status != "ACTIVE" {
			return nil, "", c.errf(op, 400, &ecstypes.ServiceNotActiveException{Message: ptr("Service was not ACTIVE.")})
		}
		td := svc.deployments[0].td
		if in.TaskDefinition != nil {
			td = s.resolveTD(*in.TaskDefinition)
			if td == nil {
				return nil, "", c.errf(op, 400, invalidParam("TaskDefinition not found."))
			}
			if !c.c.allowed(td.family) {
				return nil, "", c.errf(op, 400, &ecstypes.AccessDeniedException{Message: ptr("not authorized to use " + td.family)})
			}
		}
		cfg := svc.cfg
		cfg.TaskDefinition = svc.deployments[0].td.arn
		upd, err := awsmodel.ApplyUpdateService(&cfg, in, &td.def)
		if err != nil {
			return nil, "", c.errf(op, 400, err)
		}
		w.onServiceWrite(svc, in.DesiredCount, in.ForceNewDeployment)
		w.oracle.beforeServiceChange(svc, td, "UpdateService")
		prev := svc.describe()
		defer w.lagService(s, svc.arn, &prev)
		svc.cfg = cfg
		res := "no new deployment"
		if upd.NewDeployment {
			w.newDeployment(svc, td, false, "")
			res = svc.deployments[0].id
		} else {
			svc.deployments[0].desired = svc.cfg.DesiredCount
			w.kick(svc)
		}
		if len(upd.Changed) > 0 {
			res += " changed=" + strings.Join(upd.Changed, ",")
		}
		return &ecs.UpdateServiceOutput{Service: ptr(svc.describe())}, res, nil
	})
}

// DeleteService implements controlplane.ECSAPI.
func (c *ECSClient) DeleteService(_ context.Context, in *ecs.DeleteServiceInput, _ ...func(*ecs.Options)) (*ecs.DeleteServiceOutput, error) {
	detail := fmt.Sprintf("service=%s force=%v", deref(in.Service), deref(in.Force))
	return call(c.c, in, "ECS", "DeleteService", true, detail, func() (*ecs.DeleteServiceOutput, string, error) {
		w, s := c.c.w, c.c.acct.ecs
		const op = "DeleteService"
		if err := awsmodel.ValidateDeleteService(in); err != nil {
			return nil, "", c.errf(op, 400, err)
		}
		cluster, err := c.cluster(op, deref(in.Cluster))
		if err != nil {
			return nil, "", err
		}
		svc := s.findService(cluster, deref(in.Service))
		if svc == nil {
			return nil, "", c.errf(op, 400, &ecstypes.ServiceNotFoundException{Message: ptr("Service not found.")})
		}
		if !c.c.allowed(svc.name) {
			return nil, "", c.errf(op, 400, &ecstypes.AccessDeniedException{Message: ptr("not authorized to delete " + svc.name)})
		}
		if svc.status == "INACTIVE" {
			return nil, "", c.errf(op, 400, &ecstypes.ServiceNotActiveException{Message: ptr("Service was not ACTIVE.")})
		}
		if svc.status == "DRAINING" {
			return &ecs.DeleteServiceOutput{Service: ptr(svc.describe())}, "already draining", nil
		}
		if svc.cfg.DesiredCount > 0 && !deref(in.Force) {
			return nil, "", c.errf(op, 400, invalidParam("The service cannot be stopped while it is scaled above 0."))
		}
		w.oracle.beforeServiceDelete(svc)
		prev := svc.describe()
		defer w.lagService(s, svc.arn, &prev)
		svc.status = "DRAINING"
		svc.cfg.DesiredCount = 0
		w.kick(svc)
		return &ecs.DeleteServiceOutput{Service: ptr(svc.describe())}, "DRAINING", nil
	})
}

// DescribeServices implements controlplane.ECSAPI.
func (c *ECSClient) DescribeServices(_ context.Context, in *ecs.DescribeServicesInput, _ ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error) {
	return call(c.c, in, "ECS", "DescribeServices", false, strings.Join(shortNames(in.Services), ","), func() (*ecs.DescribeServicesOutput, string, error) {
		const op = "DescribeServices"
		cluster, err := c.cluster(op, deref(in.Cluster))
		if err != nil {
			return nil, "", err
		}
		if err := awsmodel.ValidateDescribeServices(in); err != nil {
			return nil, "", c.errf(op, 400, err)
		}
		out := &ecs.DescribeServicesOutput{}
		var res []string
		for _, ref := range in.Services {
			svc := c.c.acct.ecs.findService(cluster, ref)
			var seen ecstypes.Service
			visible := svc != nil && !(svc.status == "INACTIVE" && c.c.w.now.Sub(svc.inactiveAt) > inactiveRetention)
			if visible {
				seen, visible = c.c.w.seenService(c.c.acct.ecs, svc)
			}
			if !visible {
				arn := ref
				if !strings.HasPrefix(ref, "arn:") {
					arn = fmt.Sprintf("arn:aws:ecs:%s:%s:service/%s/%s", c.c.acct.region, c.c.acct.id, clusterShort(cluster), ref)
				}
				out.Failures = append(out.Failures, ecstypes.Failure{Arn: ptr(arn), Reason: ptr("MISSING")})
				res = append(res, "MISSING")
				continue
			}
			out.Services = append(out.Services, seen)
			rollout := ""
			for _, d := range seen.Deployments {
				if deref(d.Status) == "PRIMARY" {
					rollout = string(d.RolloutState)
				}
			}
			res = append(res, deref(seen.Status)+"/"+rollout)
		}
		return out, strings.Join(res, ","), nil
	})
}

func shortNames(refs []string) []string {
	out := make([]string, len(refs))
	for i, r := range refs {
		out[i] = r[strings.LastIndex(r, "/")+1:]
	}
	return out
}

// ListServices implements controlplane.ECSAPI.
func (c *ECSClient) ListServices(_ context.Context, in *ecs.ListServicesInput, _ ...func(*ecs.Options)) (*ecs.ListServicesOutput, error) {
	return call(c.c, in, "ECS", "ListServices", false, "token="+deref(in.NextToken), func() (*ecs.ListServicesOutput, string, error) {
		const op = "ListServices"
		cluster, err := c.cluster(op, deref(in.Cluster))
		if err != nil {
			return nil, "", err
		}
		if err := awsmodel.ValidateListServices(in); err != nil {
			return nil, "", c.errf(op, 400, err)
		}
		var arns []string
		for _, svc := range c.c.acct.ecs.services {
			if svc.cluster == cluster && svc.status != "INACTIVE" {
				arns = append(arns, svc.arn)
			}
		}
		sort.Strings(arns)
		page, next, err := awsmodel.Page(arns, in.NextToken, in.MaxResults, 10)
		if err != nil {
			return nil, "", c.errf(op, 400, err)
		}
		return &ecs.ListServicesOutput{ServiceArns: page, NextToken: next}, fmt.Sprintf("%d services", len(page)), nil
	})
}

// --- descriptions ---

func (t *task) describe() ecstypes.Task {
	cd := t.td.def.ContainerDefinitions
	out := ecstypes.Task{
		TaskArn:           ptr(t.arn),
		ClusterArn:        ptr(t.cluster),
		TaskDefinitionArn: ptr(t.td.arn),
		LastStatus:        ptr(t.lastStatus),
		DesiredStatus:     ptr(t.desiredStatus),
		Version:           t.version,
		Group:             ptr(t.group),
		LaunchType:        t.launchType,
		CreatedAt:         ptr(t.createdAt),
		Overrides:         t.overrides,
		StopCode:          t.stopCode,
	}
	if t.startedBy != "" {
		out.StartedBy = ptr(t.startedBy)
	}
	if !t.startedAt.IsZero() {
		out.StartedAt = ptr(t.startedAt)
	}
	if !t.stoppingAt.IsZero() {
		out.StoppingAt = ptr(t.stoppingAt)
	}
	if !t.stoppedAt.IsZero() {
		out.StoppedAt = ptr(t.stoppedAt)
		out.ExecutionStoppedAt = ptr(t.stoppedAt)
	}
	if t.stoppedReason != "" {
		out.StoppedReason = ptr(t.stoppedReason)
	}
	for i, c := range cd {
		ct := ecstypes.Container{
			ContainerArn: ptr(fmt.Sprintf("%s/container/%d", t.arn, i)),
			Name:         c.Name,
			Image:        c.Image,
			TaskArn:      ptr(t.arn),
			LastStatus:   ptr(containerStatus(t)),
		}
		if t.exitCode != nil {
			ct.ExitCode = ptr(*t.exitCode)
		}
		if t.containerWhy != "" {
			ct.Reason = ptr(t.containerWhy)
		}
		out.Containers = append(out.Containers, ct)
	}
	return out
}

func containerStatus(t *task) string {
	switch {
	case t.exitCode != nil || t.lastStatus == "STOPPED" || t.lastStatus == "DEPROVISIONING":
		return "STOPPED"
	case t.lastStatus == "RUNNING":
		return "RUNNING"
	}
	return "PENDING"
}

func (svc *service) describe() ecstypes.Service {
	out := ecstypes.Service{
		ServiceArn:           ptr(svc.arn),
		ServiceName:          ptr(svc.name),
		ClusterArn:           ptr(svc.cluster),
		Status:               ptr(svc.status),
		CreatedAt:            ptr(svc.createdAt),
		SchedulingStrategy:   ecstypes.SchedulingStrategyReplica,
		DeploymentController: &ecstypes.DeploymentController{Type: ecstypes.DeploymentControllerTypeEcs},
	}
	svc.cfg.Describe(&out)
	if svc.status == "INACTIVE" {
		return out
	}
	out.TaskDefinition = ptr(svc.deployments[0].td.arn)
	for _, d := range svc.deployments {
		running, pending := svc.counts(d)
		out.RunningCount += running
		out.PendingCount += pending
		dd := ecstypes.Deployment{
			Id:             ptr(d.id),
			Status:         ptr(d.status),
			TaskDefinition: ptr(d.td.arn),
			DesiredCount:   d.desired,
			RunningCount:   running,
			PendingCount:   pending,
			FailedTasks:    d.failed,
			RolloutState:   d.rollout,
			CreatedAt:      ptr(d.created),
			UpdatedAt:      ptr(d.updated),
			LaunchType:     svc.cfg.LaunchType,
		}
		if d.reason != "" {
			dd.RolloutStateReason = ptr(d.reason)
		}
		out.Deployments = append(out.Deployments, dd)
	}
	return out
}

func (svc *service) counts(d *deployment) (running, pending int32) {
	for _, t := range svc.tasks {
		if t.dep != d || t.desiredStatus != "RUNNING" {
			continue
		}
		if t.lastStatus == "RUNNING" {
			running++
		} else if t.lastStatus != "STOPPED" {
			pending++
		}
	}
	return
}

// cloneJSON deep-copies SDK values so callers cannot alias simulator state.
func cloneJSON[T any](v T) T {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("sim: clone: %v", err))
	}
	var out T
	if err := json.Unmarshal(b, &out); err != nil {
		panic(fmt.Sprintf("sim: clone: %v", err))
	}
	return out
}

func cloneJSONPtr[T any](v *T) *T {
	c := cloneJSON(*v)
	return &c
}
