package sim

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/wharf-paas/wharf/controlplane"
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
	svc           *service
	dep           *deployment
	plan          string
	launchType    ecstypes.LaunchType
	overrides     *ecstypes.TaskOverride
	release       bool
	app           *appWorld
}

type service struct {
	arn, name, cluster string
	app                *appWorld
	proc               string
	status             string
	desired            int32
	deployments        []*deployment // [0] is PRIMARY
	lbs                []ecstypes.LoadBalancer
	net                *ecstypes.NetworkConfiguration
	dc                 *ecstypes.DeploymentConfiguration
	launchType         ecstypes.LaunchType
	grace              *int32
	propagateTags      ecstypes.PropagateTags
	execCommand        bool
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

var familyRe = regexp.MustCompile(`^[A-Za-z0-9_-]{1,255}$`)
var startedByRe = regexp.MustCompile(`^[A-Za-z0-9/_-]{1,128}$`)

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
	return call(c.c, "ECS", "RegisterTaskDefinition", true, "family="+fam+" content="+contentHash(in), func() (*ecs.RegisterTaskDefinitionOutput, string, error) {
		w, s := c.c.w, c.c.acct.ecs
		const op = "RegisterTaskDefinition"
		if !familyRe.MatchString(fam) {
			return nil, "", c.errf(op, 400, clientExc("Family contains invalid characters or is longer than 255 characters."))
		}
		if !c.c.allowed(fam) {
			return nil, "", c.errf(op, 400, &ecstypes.AccessDeniedException{Message: ptr("not authorized to register family " + fam)})
		}
		if len(in.ContainerDefinitions) == 0 {
			return nil, "", c.errf(op, 400, clientExc("Container list cannot be empty."))
		}
		for _, cd := range in.ContainerDefinitions {
			if deref(cd.Name) == "" || deref(cd.Image) == "" {
				return nil, "", c.errf(op, 400, clientExc("Container.name and Container.image should not be null or empty."))
			}
		}
		for _, comp := range in.RequiresCompatibilities {
			if comp == ecstypes.CompatibilityFargate {
				if in.NetworkMode != ecstypes.NetworkModeAwsvpc {
					return nil, "", c.errf(op, 400, clientExc("Fargate only supports network mode 'awsvpc'."))
				}
				if in.Cpu == nil || in.Memory == nil {
					return nil, "", c.errf(op, 400, clientExc("Fargate requires that 'cpu' and 'memory' be defined at the task level."))
				}
			}
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
	return call(c.c, "ECS", "DeregisterTaskDefinition", true, ref, func() (*ecs.DeregisterTaskDefinitionOutput, string, error) {
		td := c.c.acct.ecs.resolveTD(ref)
		if td == nil || !strings.Contains(ref, ":") {
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
	return call(c.c, "ECS", "DescribeTaskDefinition", false, ref, func() (*ecs.DescribeTaskDefinitionOutput, string, error) {
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
	return call(c.c, "ECS", "RunTask", true, detail, func() (*ecs.RunTaskOutput, string, error) {
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
		if in.StartedBy != nil && !startedByRe.MatchString(*in.StartedBy) {
			return nil, "", c.errf(op, 400, invalidParam("startedBy must be up to 128 letters, numbers, hyphens, forward slashes and underscores."))
		}
		if td.def.NetworkMode == ecstypes.NetworkModeAwsvpc && (in.NetworkConfiguration == nil || in.NetworkConfiguration.AwsvpcConfiguration == nil) {
			return nil, "", c.errf(op, 400, invalidParam("Network Configuration must be provided when networkMode 'awsvpc' is specified."))
		}
		count := int32(1)
		if in.Count != nil {
			count = *in.Count
		}
		if count < 1 || count > 10 {
			return nil, "", c.errf(op, 400, invalidParam("count must be between 1 and 10."))
		}
		token := deref(in.ClientToken)
		if len(token) > 64 {
			return nil, "", c.errf(op, 400, invalidParam("clientToken must be at most 64 characters."))
		}
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
			tasks = append(tasks, t)
			out.Tasks = append(out.Tasks, t.describe())
		}
		if token != "" {
			s.runTokens[token] = &runTokenRecord{hash: hash, tasks: tasks}
		}
		return out, shortTask(tasks[0].arn), nil
	})
}

func shortTask(arn string) string { return "task/" + arn[strings.LastIndex(arn, "/")+1:][:8] }

// StopTask stops a task (UserInitiated).
func (c *ECSClient) StopTask(_ context.Context, in *ecs.StopTaskInput, _ ...func(*ecs.Options)) (*ecs.StopTaskOutput, error) {
	return call(c.c, "ECS", "StopTask", true, deref(in.Task), func() (*ecs.StopTaskOutput, string, error) {
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
		c.c.w.stopTask(t, ecstypes.TaskStopCodeUserInitiated, reason, ptr(int32(143)))
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
	return call(c.c, "ECS", "DescribeTasks", false, fmt.Sprintf("%d tasks", len(in.Tasks)), func() (*ecs.DescribeTasksOutput, string, error) {
		const op = "DescribeTasks"
		cluster, err := c.cluster(op, deref(in.Cluster))
		if err != nil {
			return nil, "", err
		}
		if len(in.Tasks) == 0 || len(in.Tasks) > 100 {
			return nil, "", c.errf(op, 400, invalidParam("Tasks must contain between 1 and 100 items."))
		}
		out := &ecs.DescribeTasksOutput{}
		var res []string
		for _, ref := range in.Tasks {
			t := c.c.acct.ecs.findTask(ref)
			if t == nil || t.cluster != cluster {
				out.Failures = append(out.Failures, ecstypes.Failure{Arn: ptr(ref), Reason: ptr("MISSING")})
				res = append(res, "MISSING")
				continue
			}
			out.Tasks = append(out.Tasks, t.describe())
			res = append(res, t.lastStatus)
		}
		return out, strings.Join(res, ","), nil
	})
}

// ListTasks implements controlplane.ECSAPI.
func (c *ECSClient) ListTasks(_ context.Context, in *ecs.ListTasksInput, _ ...func(*ecs.Options)) (*ecs.ListTasksOutput, error) {
	detail := fmt.Sprintf("family=%s startedBy=%s service=%s desired=%s", deref(in.Family), deref(in.StartedBy), deref(in.ServiceName), in.DesiredStatus)
	return call(c.c, "ECS", "ListTasks", false, detail, func() (*ecs.ListTasksOutput, string, error) {
		const op = "ListTasks"
		cluster, err := c.cluster(op, deref(in.Cluster))
		if err != nil {
			return nil, "", err
		}
		if in.Family != nil && in.ServiceName != nil {
			return nil, "", c.errf(op, 400, invalidParam("family and serviceName cannot both be specified."))
		}
		// ECS API reference, ListTasks, startedBy: "When you specify
		// startedBy as the filter, it must be the only filter that you
		// use." The service answers "cannot specify startedBy with other
		// arguments" (aws/aws-sdk-go-v2#1893). desiredStatus filters too
		// ("The task desired status to use when filtering the ListTasks
		// results"): refused with startedBy, stricter than AWS where the
		// reference is unclear.
		if in.StartedBy != nil && (in.Family != nil || in.ServiceName != nil || in.ContainerInstance != nil ||
			in.LaunchType != "" || in.DesiredStatus != "") {
			return nil, "", c.errf(op, 400, invalidParam("cannot specify startedBy with other arguments"))
		}
		want := "RUNNING"
		if in.DesiredStatus != "" {
			want = string(in.DesiredStatus)
		}
		var arns []string
		for _, t := range c.c.acct.ecs.taskOrder {
			if _, live := c.c.acct.ecs.tasks[t.arn]; !live || t.cluster != cluster || t.desiredStatus != want {
				continue
			}
			if in.Family != nil && t.td.family != *in.Family {
				continue
			}
			if in.StartedBy != nil && t.startedBy != *in.StartedBy {
				continue
			}
			if in.ServiceName != nil && (t.svc == nil || (t.svc.name != *in.ServiceName && t.svc.arn != *in.ServiceName)) {
				continue
			}
			arns = append(arns, t.arn)
		}
		page, next, err := paginate(arns, in.MaxResults, in.NextToken, 100, 100)
		if err != nil {
			return nil, "", c.errf(op, 400, invalidParam(err.Error()))
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
	return call(c.c, "ECS", "CreateService", true, detail, func() (*ecs.CreateServiceOutput, string, error) {
		w, s := c.c.w, c.c.acct.ecs
		const op = "CreateService"
		cluster, err := c.cluster(op, deref(in.Cluster))
		if err != nil {
			return nil, "", err
		}
		if !familyRe.MatchString(name) {
			return nil, "", c.errf(op, 400, invalidParam("Service name is invalid."))
		}
		if !c.c.allowed(name) {
			return nil, "", c.errf(op, 400, &ecstypes.AccessDeniedException{Message: ptr("not authorized to create service " + name)})
		}
		if len(deref(in.ClientToken)) > 36 {
			return nil, "", c.errf(op, 400, invalidParam("clientToken must be at most 36 characters."))
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
		if err := validateLBs(td, in.LoadBalancers); err != nil {
			return nil, "", c.errf(op, 400, err)
		}
		if td.def.NetworkMode == ecstypes.NetworkModeAwsvpc && (in.NetworkConfiguration == nil || in.NetworkConfiguration.AwsvpcConfiguration == nil) {
			return nil, "", c.errf(op, 400, invalidParam("Network Configuration must be provided when networkMode 'awsvpc' is specified."))
		}
		desired := int32(0)
		if in.DesiredCount != nil {
			desired = *in.DesiredCount
		} else if in.SchedulingStrategy != ecstypes.SchedulingStrategyDaemon {
			return nil, "", c.errf(op, 400, invalidParam("desiredCount is required for the REPLICA scheduling strategy."))
		}
		app := c.c.app
		if app == nil {
			app = w.appForFamily(td.family)
		}
		svc := &service{
			arn:           fmt.Sprintf("arn:aws:ecs:%s:%s:service/%s/%s", c.c.acct.region, c.c.acct.id, clusterShort(cluster), name),
			name:          name,
			cluster:       cluster,
			app:           app,
			proc:          procOf(name),
			status:        "ACTIVE",
			desired:       desired,
			lbs:           in.LoadBalancers,
			net:           in.NetworkConfiguration,
			dc:            in.DeploymentConfiguration,
			launchType:    in.LaunchType,
			grace:         in.HealthCheckGracePeriodSeconds,
			propagateTags: in.PropagateTags,
			execCommand:   in.EnableExecuteCommand,
			createdAt:     w.now,
			token:         deref(in.ClientToken),
			paramsHash:    hash,
		}
		w.oracle.beforeServiceChange(svc, td, "CreateService")
		s.services[key] = svc
		w.newDeployment(svc, td, false, "")
		return &ecs.CreateServiceOutput{Service: ptr(svc.describe())}, svc.deployments[0].id, nil
	})
}

func validateLBs(td *taskDef, lbs []ecstypes.LoadBalancer) error {
	for _, lb := range lbs {
		if lb.TargetGroupArn == nil || lb.ContainerName == nil || lb.ContainerPort == nil {
			return invalidParam("loadBalancers need targetGroupArn, containerName and containerPort.")
		}
		found := false
		for _, cd := range td.def.ContainerDefinitions {
			if deref(cd.Name) != *lb.ContainerName {
				continue
			}
			for _, pm := range cd.PortMappings {
				if deref(pm.ContainerPort) == *lb.ContainerPort {
					found = true
				}
			}
		}
		if !found {
			return invalidParam(fmt.Sprintf("The container %s did not have a container port %d defined.", *lb.ContainerName, *lb.ContainerPort))
		}
	}
	return nil
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
	return call(c.c, "ECS", "UpdateService", true, detail, func() (*ecs.UpdateServiceOutput, string, error) {
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
		lbs := svc.lbs
		if in.LoadBalancers != nil {
			lbs = in.LoadBalancers
		}
		if err := validateLBs(td, lbs); err != nil {
			return nil, "", c.errf(op, 400, err)
		}
		w.oracle.beforeServiceChange(svc, td, "UpdateService")
		// ECS API reference, UpdateService: a new network configuration
		// or new load balancers start a new deployment ("When you add,
		// update, or remove a load balancer configuration, Amazon ECS
		// starts new tasks with the updated Elastic Load Balancing
		// configuration").
		redeploy := in.LoadBalancers != nil && !reflect.DeepEqual(in.LoadBalancers, svc.lbs)
		svc.lbs = lbs
		if in.NetworkConfiguration != nil {
			redeploy = redeploy || !reflect.DeepEqual(in.NetworkConfiguration, svc.net)
			svc.net = in.NetworkConfiguration
		}
		if in.HealthCheckGracePeriodSeconds != nil {
			svc.grace = in.HealthCheckGracePeriodSeconds
		}
		if in.PropagateTags != "" {
			svc.propagateTags = in.PropagateTags
		}
		if in.EnableExecuteCommand != nil {
			svc.execCommand = *in.EnableExecuteCommand
		}
		if in.DeploymentConfiguration != nil {
			svc.dc = in.DeploymentConfiguration
		}
		if in.DesiredCount != nil {
			svc.desired = *in.DesiredCount
		}
		res := "no new deployment"
		if td != svc.deployments[0].td || in.ForceNewDeployment || redeploy {
			w.newDeployment(svc, td, false, "")
			res = svc.deployments[0].id
		} else {
			svc.deployments[0].desired = svc.desired
			w.kick(svc)
		}
		return &ecs.UpdateServiceOutput{Service: ptr(svc.describe())}, res, nil
	})
}

// DeleteService implements controlplane.ECSAPI.
func (c *ECSClient) DeleteService(_ context.Context, in *ecs.DeleteServiceInput, _ ...func(*ecs.Options)) (*ecs.DeleteServiceOutput, error) {
	detail := fmt.Sprintf("service=%s force=%v", deref(in.Service), deref(in.Force))
	return call(c.c, "ECS", "DeleteService", true, detail, func() (*ecs.DeleteServiceOutput, string, error) {
		w, s := c.c.w, c.c.acct.ecs
		const op = "DeleteService"
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
		if svc.desired > 0 && !deref(in.Force) {
			return nil, "", c.errf(op, 400, invalidParam("The service cannot be stopped while it is scaled above 0."))
		}
		w.oracle.beforeServiceDelete(svc)
		svc.status = "DRAINING"
		svc.desired = 0
		w.kick(svc)
		return &ecs.DeleteServiceOutput{Service: ptr(svc.describe())}, "DRAINING", nil
	})
}

// DescribeServices implements controlplane.ECSAPI.
func (c *ECSClient) DescribeServices(_ context.Context, in *ecs.DescribeServicesInput, _ ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error) {
	return call(c.c, "ECS", "DescribeServices", false, strings.Join(shortNames(in.Services), ","), func() (*ecs.DescribeServicesOutput, string, error) {
		const op = "DescribeServices"
		cluster, err := c.cluster(op, deref(in.Cluster))
		if err != nil {
			return nil, "", err
		}
		if len(in.Services) == 0 || len(in.Services) > 10 {
			return nil, "", c.errf(op, 400, invalidParam("services must contain between 1 and 10 items."))
		}
		out := &ecs.DescribeServicesOutput{}
		var res []string
		for _, ref := range in.Services {
			svc := c.c.acct.ecs.findService(cluster, ref)
			if svc == nil || (svc.status == "INACTIVE" && c.c.w.now.Sub(svc.inactiveAt) > inactiveRetention) {
				arn := ref
				if !strings.HasPrefix(ref, "arn:") {
					arn = fmt.Sprintf("arn:aws:ecs:%s:%s:service/%s/%s", c.c.acct.region, c.c.acct.id, clusterShort(cluster), ref)
				}
				out.Failures = append(out.Failures, ecstypes.Failure{Arn: ptr(arn), Reason: ptr("MISSING")})
				res = append(res, "MISSING")
				continue
			}
			out.Services = append(out.Services, svc.describe())
			res = append(res, svc.status+"/"+string(svc.deployments[0].rollout))
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
	return call(c.c, "ECS", "ListServices", false, "token="+deref(in.NextToken), func() (*ecs.ListServicesOutput, string, error) {
		const op = "ListServices"
		cluster, err := c.cluster(op, deref(in.Cluster))
		if err != nil {
			return nil, "", err
		}
		var arns []string
		for _, svc := range c.c.acct.ecs.services {
			if svc.cluster == cluster && svc.status != "INACTIVE" {
				arns = append(arns, svc.arn)
			}
		}
		sort.Strings(arns)
		page, next, err := paginate(arns, in.MaxResults, in.NextToken, 10, 100)
		if err != nil {
			return nil, "", c.errf(op, 400, invalidParam(err.Error()))
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
		ServiceArn:                    ptr(svc.arn),
		ServiceName:                   ptr(svc.name),
		ClusterArn:                    ptr(svc.cluster),
		Status:                        ptr(svc.status),
		DesiredCount:                  svc.desired,
		LaunchType:                    svc.launchType,
		LoadBalancers:                 svc.lbs,
		NetworkConfiguration:          svc.net,
		DeploymentConfiguration:       svc.dc,
		HealthCheckGracePeriodSeconds: svc.grace,
		PropagateTags:                 svc.propagateTags,
		EnableExecuteCommand:          svc.execCommand,
		CreatedAt:                     ptr(svc.createdAt),
		SchedulingStrategy:            ecstypes.SchedulingStrategyReplica,
		DeploymentController:          &ecstypes.DeploymentController{Type: ecstypes.DeploymentControllerTypeEcs},
	}
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
			LaunchType:     svc.launchType,
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
