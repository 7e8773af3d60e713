// Package iam is Wharf's IAM contract test: every AWS call the control
// plane makes in the simulator (controlplane/sim) and in the integration
// fixture (controlplane/integration) is turned into the IAM authorization
// requests AWS would evaluate for it, and each request is evaluated
// (internal/iampolicy) against the policies Wharf actually synthesizes for
// the role that sent it: the app's management role (constructs/app) and
// the account's observer role (constructs/account). A denied call fails
// the test and names the statement that is missing or too narrow; a
// granted action that nothing calls must be justified in the test's
// allow-list or removed from the policy.
//
// This file maps an API call to its IAM requests. Each mapping follows the
// Service Authorization Reference ("Actions, resources, and condition keys
// for <service>") for the action, the resource type and ARN format, and
// the condition keys Wharf's policies read; the comments quote the parts
// that decide it.
package iam

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/wharf-paas/wharf/internal/iampolicy"
)

// Call is one API request in a service-neutral form.
type Call struct {
	// Service is the IAM service prefix: "ecs", "codebuild", "s3", "ssm",
	// "events", "logs", "sts".
	Service string
	// Op is the API operation ("RunTask").
	Op string
	// Role is the ARN of the role that signed the request.
	Role string
	// Account and Region are where the request went.
	Account, Region string
	// Input and Output are the request and response as JSON objects
	// (field names are matched case-insensitively, so both the SDK's Go
	// field names and the wire protocol's names work). Output may be nil.
	Input, Output map[string]any
}

// Request is one IAM authorization request made for a call.
type Request struct {
	iampolicy.Request
	// Role is the role whose identity policies decide it.
	Role string
	// Call names the call it came from ("ecs:RunTask").
	Call string
}

// ToJSONMap turns an SDK input or output struct into a JSON object.
func ToJSONMap(v any) (map[string]any, error) {
	if v == nil {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	return m, nil
}

// field returns m's value for key, matching the name case-insensitively.
func field(m map[string]any, key string) any {
	if m == nil {
		return nil
	}
	if v, ok := m[key]; ok {
		return v
	}
	for k, v := range m {
		if strings.EqualFold(k, key) {
			return v
		}
	}
	return nil
}

func str(m map[string]any, key string) string {
	s, _ := field(m, key).(string)
	return s
}

func strs(m map[string]any, key string) []string {
	list, _ := field(m, key).([]any)
	var out []string
	for _, v := range list {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func objs(m map[string]any, key string) []map[string]any {
	list, _ := field(m, key).([]any)
	var out []map[string]any
	for _, v := range list {
		if o, ok := v.(map[string]any); ok {
			out = append(out, o)
		}
	}
	return out
}

// tagsOf reads an ECS/EventBridge/SSM tag list ([{key,value}]).
func tagsOf(m map[string]any, key string) map[string]string {
	out := map[string]string{}
	for _, t := range objs(m, key) {
		out[str(t, "key")] = str(t, "value")
	}
	return out
}

// Mapper turns calls into IAM requests. It remembers the tags of the task
// definitions and tasks it has seen created, because ECS authorizes some
// actions on a task's tags (aws:ResourceTag/${TagKey}), which the request
// itself does not carry.
type Mapper struct {
	// TaskTags, when set, gives a task's current tags from the world that
	// holds it (the ground truth); otherwise the mapper uses the tags it
	// saw the task created with.
	TaskTags func(account, arn string) (map[string]string, bool)
	// TaskDefRoles, when set, gives the execution and task roles of a
	// task definition ("family", "family:rev" or an ARN) from the world
	// that holds it; otherwise the mapper uses the roles it saw the
	// family registered with.
	TaskDefRoles func(account, taskDef string) ([]string, bool)

	familyTags  map[string]map[string]string // task-definition family → tags
	familyRoles map[string][]string          // task-definition family → roles
	taskTags    map[string]map[string]string // task ARN → tags
}

func (m *Mapper) tagsOfTask(account, arn string) map[string]string {
	if m.TaskTags != nil {
		if tags, ok := m.TaskTags(account, arn); ok {
			return tags
		}
	}
	return m.taskTags[arn]
}

// NewMapper returns an empty mapper.
func NewMapper() *Mapper {
	return &Mapper{familyTags: map[string]map[string]string{}, taskTags: map[string]map[string]string{}, familyRoles: map[string][]string{}}
}

type arns struct{ partition, region, account string }

func (a arns) ecs(resource string) string {
	return fmt.Sprintf("arn:%s:ecs:%s:%s:%s", a.partition, a.region, a.account, resource)
}

// cluster normalizes a cluster name or ARN to (ARN, name). ECS: "If you
// do not specify a cluster, the default cluster is assumed."
func (a arns) cluster(v string) (string, string) {
	if v == "" {
		v = "default"
	}
	if strings.HasPrefix(v, "arn:") {
		return v, v[strings.LastIndex(v, "/")+1:]
	}
	return a.ecs("cluster/" + v), v
}

// taskDef normalizes "family", "family:rev" or an ARN to an ARN and its
// family.
func (a arns) taskDef(v string) (string, string) {
	if !strings.HasPrefix(v, "arn:") {
		v = a.ecs("task-definition/" + v)
	}
	fam := v[strings.Index(v, "task-definition/")+len("task-definition/"):]
	if i := strings.Index(fam, ":"); i >= 0 {
		fam = fam[:i]
	}
	return v, fam
}

// task: arn:${Partition}:ecs:${Region}:${Account}:task/${ClusterName}/${TaskId}.
func (a arns) task(clusterName, v string) string {
	if strings.HasPrefix(v, "arn:") {
		return v
	}
	return a.ecs("task/" + clusterName + "/" + v)
}

// service: arn:${Partition}:ecs:${Region}:${Account}:service/${ClusterName}/${ServiceName}.
func (a arns) service(clusterName, v string) string {
	if strings.HasPrefix(v, "arn:") {
		return v
	}
	return a.ecs("service/" + clusterName + "/" + v)
}

func requestTags(ctx iampolicy.Context, tags map[string]string) {
	if len(tags) == 0 {
		return
	}
	keys := make([]string, 0, len(tags))
	for k, v := range tags {
		ctx["aws:RequestTag/"+k] = []string{v}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	ctx["aws:TagKeys"] = keys
}

func resourceTags(ctx iampolicy.Context, tags map[string]string) {
	for k, v := range tags {
		ctx["aws:ResourceTag/"+k] = []string{v}
	}
}

// PolicyRequests is Requests without the role and call names: the
// requests to evaluate against the role's policies.
func (m *Mapper) PolicyRequests(c Call) ([]iampolicy.Request, error) {
	reqs, err := m.Requests(c)
	if err != nil {
		return nil, err
	}
	out := make([]iampolicy.Request, len(reqs))
	for i, r := range reqs {
		out[i] = r.Request
	}
	return out, nil
}

// Requests returns the IAM requests AWS evaluates for the call, against
// the identity policies of c.Role. An operation it has no mapping for is
// an error (a new call must be mapped before it can be checked).
func (m *Mapper) Requests(c Call) ([]Request, error) {
	a := arns{partition: "aws", region: c.Region, account: c.Account}
	if strings.HasPrefix(c.Role, "arn:aws-") {
		a.partition = strings.SplitN(c.Role, ":", 3)[1]
	}
	var out []Request
	add := func(action, resource string, ctx iampolicy.Context) {
		if ctx == nil {
			ctx = iampolicy.Context{}
		}
		out = append(out, Request{Request: iampolicy.Request{Action: action, Resource: resource, Context: ctx}, Role: c.Role, Call: c.Service + ":" + c.Op})
	}
	in := c.Input
	switch c.Service + ":" + c.Op {
	// Amazon ECS. Resource types: cluster, service, task, task-definition,
	// container-instance... Condition keys Wharf reads: ecs:cluster
	// ("Filters access by the ARN of an Amazon ECS cluster"),
	// ecs:task-definition, ecs:CreateAction, aws:ResourceTag/${TagKey}.
	case "ecs:RegisterTaskDefinition":
		// RegisterTaskDefinition: no resource type; aws:RequestTag,
		// aws:TagKeys. Dependent action iam:PassRole for the execution
		// and task roles, passed to ecs-tasks.amazonaws.com.
		ctx := iampolicy.Context{}
		tags := tagsOf(in, "tags")
		requestTags(ctx, tags)
		add("ecs:RegisterTaskDefinition", "*", ctx)
		var roles []string
		for _, r := range []string{str(in, "executionRoleArn"), str(in, "taskRoleArn")} {
			if r != "" {
				add("iam:PassRole", r, iampolicy.Context{"iam:PassedToService": {"ecs-tasks.amazonaws.com"}})
				roles = append(roles, r)
			}
		}
		fam := str(in, "family")
		m.familyRoles[fam] = roles
		arn := a.ecs("task-definition/" + fam + ":1")
		if td, ok := field(c.Output, "taskDefinition").(map[string]any); ok && str(td, "taskDefinitionArn") != "" {
			arn = str(td, "taskDefinitionArn")
		}
		if len(tags) > 0 {
			// Tagging on creation: "you must have permissions to use the
			// action that creates the resource, such as
			// RegisterTaskDefinition. If tags are specified in the
			// resource-creating action, AWS performs additional
			// authorization on the ecs:TagResource action", with
			// ecs:CreateAction set to the creating action (Amazon ECS
			// Developer Guide, "Grant permission to tag resources on
			// creation").
			tctx := iampolicy.Context{"ecs:CreateAction": {"RegisterTaskDefinition"}}
			requestTags(tctx, tags)
			add("ecs:TagResource", arn, tctx)
		}
		m.familyTags[fam] = tags
	case "ecs:DeregisterTaskDefinition", "ecs:DescribeTaskDefinition":
		// No resource type (Resource "*").
		add("ecs:"+c.Op, "*", nil)
	case "ecs:RunTask":
		// RunTask: task-definition*; ecs:cluster, ecs:capacity-provider,
		// ecs:enable-execute-command, aws:RequestTag, aws:TagKeys.
		clusterArn, clusterName := a.cluster(str(in, "cluster"))
		tdArn, fam := a.taskDef(str(in, "taskDefinition"))
		ctx := iampolicy.Context{"ecs:cluster": {clusterArn}}
		tags := tagsOf(in, "tags")
		requestTags(ctx, tags)
		add("ecs:RunTask", tdArn, ctx)
		var started []string
		for _, t := range objs(c.Output, "tasks") {
			started = append(started, str(t, "taskArn"))
		}
		all := map[string]string{}
		if strings.EqualFold(str(in, "propagateTags"), "TASK_DEFINITION") {
			for k, v := range m.familyTags[fam] {
				all[k] = v
			}
		}
		for k, v := range tags {
			all[k] = v
		}
		if len(tags) > 0 || strings.EqualFold(str(in, "propagateTags"), "TASK_DEFINITION") {
			// Tagging on creation (see RegisterTaskDefinition); the tags of
			// a task come from the request and, with propagateTags, from
			// its task definition.
			res := started
			if len(res) == 0 {
				res = []string{a.task(clusterName, "new")}
			}
			for _, r := range res {
				tctx := iampolicy.Context{"ecs:CreateAction": {"RunTask"}, "ecs:cluster": {clusterArn}}
				requestTags(tctx, all)
				add("ecs:TagResource", r, tctx)
			}
		}
		for _, r := range started {
			m.taskTags[r] = all
		}
		// Running a task passes its roles to ECS: the task definition's
		// execution and task roles, or the overrides' ("iam:PassRole" is a
		// dependent action of RunTask; without it RunTask fails with "not
		// authorized to perform: iam:PassRole").
		roles := map[string]string{}
		if m.TaskDefRoles != nil {
			if rs, ok := m.TaskDefRoles(a.account, str(in, "taskDefinition")); ok {
				for i, r := range rs {
					roles[fmt.Sprint(i)] = r
				}
			}
		} else {
			for i, r := range m.familyRoles[fam] {
				roles[fmt.Sprint(i)] = r
			}
		}
		if ov, ok := field(in, "overrides").(map[string]any); ok {
			// Two roles at most: the definition's execution role (0) and
			// task role (1), each replaced by its override.
			if r := str(ov, "executionRoleArn"); r != "" {
				roles["0"] = r
			}
			if r := str(ov, "taskRoleArn"); r != "" {
				roles["1"] = r
			}
		}
		for _, k := range []string{"0", "1"} {
			if r := roles[k]; r != "" {
				add("iam:PassRole", r, iampolicy.Context{"iam:PassedToService": {"ecs-tasks.amazonaws.com"}})
			}
		}
	case "ecs:StopTask":
		// StopTask: task*; aws:ResourceTag/${TagKey}, ecs:cluster.
		clusterArn, clusterName := a.cluster(str(in, "cluster"))
		task := a.task(clusterName, str(in, "task"))
		ctx := iampolicy.Context{"ecs:cluster": {clusterArn}}
		resourceTags(ctx, m.tagsOfTask(a.account, task))
		add("ecs:StopTask", task, ctx)
	case "ecs:DescribeTasks":
		// DescribeTasks: task*; ecs:cluster, aws:ResourceTag.
		clusterArn, clusterName := a.cluster(str(in, "cluster"))
		for _, t := range strs(in, "tasks") {
			task := a.task(clusterName, t)
			ctx := iampolicy.Context{"ecs:cluster": {clusterArn}}
			resourceTags(ctx, m.tagsOfTask(a.account, task))
			add("ecs:DescribeTasks", task, ctx)
		}
	case "ecs:ExecuteCommand":
		// ExecuteCommand: cluster*, task*; ecs:cluster, ecs:container-name,
		// ecs:task, aws:ResourceTag/${TagKey} (the task's tags).
		clusterArn, clusterName := a.cluster(str(in, "cluster"))
		task := a.task(clusterName, str(in, "task"))
		add("ecs:ExecuteCommand", clusterArn, iampolicy.Context{"ecs:cluster": {clusterArn}})
		ctx := iampolicy.Context{"ecs:cluster": {clusterArn}, "ecs:task": {task}}
		if cn := str(in, "container"); cn != "" {
			ctx["ecs:container-name"] = []string{cn}
		}
		resourceTags(ctx, m.tagsOfTask(a.account, task))
		add("ecs:ExecuteCommand", task, ctx)
	case "ecs:ListTasks":
		// ListTasks: container-instance (optional, absent here);
		// ecs:cluster. So Resource "*".
		clusterArn, _ := a.cluster(str(in, "cluster"))
		add("ecs:ListTasks", "*", iampolicy.Context{"ecs:cluster": {clusterArn}})
	case "ecs:ListServices":
		// ListServices: no resource type; ecs:cluster.
		clusterArn, _ := a.cluster(str(in, "cluster"))
		add("ecs:ListServices", "*", iampolicy.Context{"ecs:cluster": {clusterArn}})
	case "ecs:CreateService", "ecs:UpdateService":
		// CreateService: service*; ecs:cluster, ecs:task-definition,
		// ecs:capacity-provider, aws:RequestTag, aws:TagKeys.
		// UpdateService: service*; ecs:cluster, ecs:task-definition (when
		// one is sent), ecs:capacity-provider.
		clusterArn, clusterName := a.cluster(str(in, "cluster"))
		name := str(in, "serviceName")
		if c.Op == "UpdateService" {
			name = str(in, "service")
		}
		svc := a.service(clusterName, name)
		ctx := iampolicy.Context{"ecs:cluster": {clusterArn}}
		if td := str(in, "taskDefinition"); td != "" {
			arn, _ := a.taskDef(td)
			ctx["ecs:task-definition"] = []string{arn}
		}
		var cps []string
		for _, s := range objs(in, "capacityProviderStrategy") {
			cps = append(cps, str(s, "capacityProvider"))
		}
		if len(cps) > 0 {
			ctx["ecs:capacity-provider"] = cps
		}
		tags := tagsOf(in, "tags")
		requestTags(ctx, tags)
		add("ecs:"+c.Op, svc, ctx)
		if c.Op == "CreateService" && (len(tags) > 0 || str(in, "propagateTags") != "" && !strings.EqualFold(str(in, "propagateTags"), "NONE")) {
			tctx := iampolicy.Context{"ecs:CreateAction": {"CreateService"}, "ecs:cluster": {clusterArn}}
			requestTags(tctx, tags)
			add("ecs:TagResource", svc, tctx)
		}
	case "ecs:DeleteService":
		clusterArn, clusterName := a.cluster(str(in, "cluster"))
		add("ecs:DeleteService", a.service(clusterName, str(in, "service")), iampolicy.Context{"ecs:cluster": {clusterArn}})
	case "ecs:DescribeServices":
		clusterArn, clusterName := a.cluster(str(in, "cluster"))
		for _, s := range strs(in, "services") {
			add("ecs:DescribeServices", a.service(clusterName, s), iampolicy.Context{"ecs:cluster": {clusterArn}})
		}
	case "ecs:ListTagsForResource":
		add("ecs:ListTagsForResource", str(in, "resourceArn"), nil)

	// AWS CodeBuild. BatchGetBuilds and ListBuildsForProject: project*
	// (arn:${Partition}:codebuild:${Region}:${Account}:project/${ProjectName}).
	case "codebuild:BatchGetBuilds":
		seen := map[string]bool{}
		for _, id := range strs(in, "ids") {
			project := id
			if strings.HasPrefix(id, "arn:") {
				project = id[strings.Index(id, ":build/")+len(":build/"):]
			}
			project, _, _ = strings.Cut(project, ":")
			if !seen[project] {
				seen[project] = true
				add("codebuild:BatchGetBuilds", fmt.Sprintf("arn:%s:codebuild:%s:%s:project/%s", a.partition, a.region, a.account, project), nil)
			}
		}
	case "codebuild:ListBuildsForProject":
		add("codebuild:ListBuildsForProject", fmt.Sprintf("arn:%s:codebuild:%s:%s:project/%s", a.partition, a.region, a.account, str(in, "projectName")), nil)

	// Amazon S3. GetObject: object* (arn:${Partition}:s3:::${BucketName}/${ObjectName}).
	case "s3:GetObject":
		add("s3:GetObject", fmt.Sprintf("arn:%s:s3:::%s/%s", a.partition, str(in, "bucket"), str(in, "key")), nil)

	// AWS Systems Manager. GetParameter, PutParameter, DeleteParameter: parameter*
	// (arn:${Partition}:ssm:${Region}:${Account}:parameter/${ParameterNameWithoutLeadingSlash});
	// DescribeParameters: no resource type.
	case "ssm:GetParameter", "ssm:PutParameter", "ssm:DeleteParameter":
		name := str(in, "name")
		arn := name
		if !strings.HasPrefix(name, "arn:") {
			arn = fmt.Sprintf("arn:%s:ssm:%s:%s:parameter/%s", a.partition, a.region, a.account, strings.TrimPrefix(name, "/"))
		}
		ctx := iampolicy.Context{}
		requestTags(ctx, tagsOf(in, "tags"))
		add("ssm:"+c.Op, arn, ctx)
	case "ssm:DescribeParameters":
		add("ssm:DescribeParameters", "*", nil)

	// Amazon CloudWatch Logs. CreateLogStream: log-group*;
	// PutLogEvents: log-stream*; DescribeLogStreams, FilterLogEvents:
	// log-group*.
	// (arn:${Partition}:logs:${Region}:${Account}:log-group:${LogGroupName}
	// and ...:log-group:${LogGroupName}:log-stream:${LogStreamName}.)
	case "logs:CreateLogStream", "logs:DescribeLogStreams", "logs:FilterLogEvents":
		add("logs:"+c.Op, fmt.Sprintf("arn:%s:logs:%s:%s:log-group:%s", a.partition, a.region, a.account, str(in, "logGroupName")), nil)
	case "logs:PutLogEvents":
		add("logs:PutLogEvents", fmt.Sprintf("arn:%s:logs:%s:%s:log-group:%s:log-stream:%s", a.partition, a.region, a.account, str(in, "logGroupName"), str(in, "logStreamName")), nil)

	// Amazon EventBridge. ListRules: no resource type. PutRule, DeleteRule,
	// DescribeRule, PutTargets, RemoveTargets, ListTargetsByRule: rule*
	// (arn:${Partition}:events:${Region}:${Account}:rule/[${EventBusName}/]${RuleName};
	// the default bus's rules have no bus segment). PutTargets with a
	// RoleArn passes that role to events.amazonaws.com (iam:PassRole).
	case "events:ListRules":
		add("events:ListRules", "*", nil)
	case "events:PutRule", "events:DeleteRule", "events:DescribeRule", "events:PutTargets", "events:RemoveTargets", "events:ListTargetsByRule":
		name := str(in, "name")
		if name == "" {
			name = str(in, "rule")
		}
		if bus := str(in, "eventBusName"); bus != "" && bus != "default" {
			name = bus + "/" + name
		}
		ctx := iampolicy.Context{}
		requestTags(ctx, tagsOf(in, "tags"))
		if c.Op == "PutTargets" {
			// events:TargetArn: "Filters access by the ARN of a target
			// that can be put to a rule" (EventBridge condition keys);
			// one value per target.
			var targets []string
			for _, t := range objs(in, "targets") {
				targets = append(targets, str(t, "arn"))
			}
			ctx["events:TargetArn"] = targets
		}
		add("events:"+c.Op, fmt.Sprintf("arn:%s:events:%s:%s:rule/%s", a.partition, a.region, a.account, name), ctx)
		if c.Op == "PutTargets" {
			for _, t := range objs(in, "targets") {
				if r := str(t, "roleArn"); r != "" {
					add("iam:PassRole", r, iampolicy.Context{"iam:PassedToService": {"events.amazonaws.com"}})
				}
			}
		}
	// Application Auto Scaling. RegisterScalableTarget,
	// DeregisterScalableTarget, PutScalingPolicy, DeleteScalingPolicy:
	// ScalableTarget* (arn:${Partition}:application-autoscaling:${Region}:
	// ${Account}:scalable-target/${ScalableTargetId}, an ID AWS assigns:
	// the answer's ScalableTargetARN when there is one, else a stand-in
	// ID only a wildcard matches); condition keys
	// application-autoscaling:service-namespace and
	// application-autoscaling:scalable-dimension. DescribeScalableTargets,
	// DescribeScalingPolicies: no resource type. The first registration
	// of an ECS service creates the service-linked role
	// AWSServiceRoleForApplicationAutoScaling_ECSService (iam:CreateServiceLinkedRole
	// with iam:AWSServiceName ecs.application-autoscaling.amazonaws.com):
	// the contract requires it on every registration, as the caller cannot
	// know whether the role exists.
	case "application-autoscaling:RegisterScalableTarget", "application-autoscaling:DeregisterScalableTarget",
		"application-autoscaling:PutScalingPolicy", "application-autoscaling:DeleteScalingPolicy":
		arn := str(c.Output, "scalableTargetARN")
		if arn == "" {
			arn = fmt.Sprintf("arn:%s:application-autoscaling:%s:%s:scalable-target/unknown-id", a.partition, a.region, a.account)
		}
		add("application-autoscaling:"+c.Op, arn, iampolicy.Context{
			"application-autoscaling:service-namespace":  {str(in, "serviceNamespace")},
			"application-autoscaling:scalable-dimension": {str(in, "scalableDimension")},
		})
		if c.Op == "RegisterScalableTarget" {
			add("iam:CreateServiceLinkedRole", fmt.Sprintf("arn:%s:iam::%s:role/aws-service-role/ecs.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_ECSService", a.partition, a.account),
				iampolicy.Context{"iam:AWSServiceName": {"ecs.application-autoscaling.amazonaws.com"}})
		}
	case "application-autoscaling:DescribeScalableTargets", "application-autoscaling:DescribeScalingPolicies":
		add("application-autoscaling:"+c.Op, "*", nil)

	// AWS Lambda. The Invoke API is authorized as lambda:InvokeFunction on
	// function* (arn:${Partition}:lambda:${Region}:${Account}:function:${FunctionName});
	// FunctionName is "the name or ARN of the Lambda function" (Invoke API
	// reference). The CLI's db create | destroy | sql use it.
	case "lambda:Invoke", "lambda:InvokeFunction":
		name := str(in, "functionName")
		if !strings.HasPrefix(name, "arn:") {
			name = fmt.Sprintf("arn:%s:lambda:%s:%s:function:%s", a.partition, a.region, a.account, name)
		}
		add("lambda:InvokeFunction", name, nil)

	// AWS Identity and Access Management. GetRole: role*
	// (arn:${Partition}:iam::${Account}:role/${RoleNameWithPath}); IAM is
	// global, so the ARN has no region. Wharf's roles have the path "/".
	// wharf access reads its own user role.
	case "iam:GetRole":
		add("iam:GetRole", fmt.Sprintf("arn:%s:iam::%s:role/%s", a.partition, a.account, str(in, "roleName")), nil)
	default:
		return nil, fmt.Errorf("iam contract: no IAM mapping for %s:%s (add one from the Service Authorization Reference)", c.Service, c.Op)
	}
	return out, nil
}
