package awsmodel

import (
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// Each Validate function checks one request against the documented
// parameter rules that need no state, or only the task definition the
// request names (td may be nil when the caller has not resolved it yet; the
// checks that need it are then skipped). The hosts look up clusters,
// services and tasks themselves and answer ClusterNotFoundException,
// ServiceNotFoundException and so on.

// ValidateRegisterTaskDefinition checks RegisterTaskDefinition.
func ValidateRegisterTaskDefinition(in *ecs.RegisterTaskDefinitionInput) error {
	// family: "Up to 255 letters (uppercase and lowercase), numbers,
	// underscores, and hyphens are allowed." / "This member is required."
	if !nameRe.MatchString(deref(in.Family)) {
		return Client("Family contains invalid characters or is longer than 255 characters: %q.", deref(in.Family))
	}
	// containerDefinitions: "This member is required."
	if len(in.ContainerDefinitions) == 0 {
		return Client("Container list cannot be empty.")
	}
	names := map[string]bool{}
	for _, cd := range in.ContainerDefinitions {
		// ContainerDefinition.name: "Up to 255 letters (uppercase and
		// lowercase), numbers, underscores, and hyphens are allowed."
		// image: required for every container.
		if !nameRe.MatchString(deref(cd.Name)) || deref(cd.Image) == "" {
			return Client("Container.name and Container.image should not be null or empty, and name must be up to 255 letters, numbers, underscores and hyphens.")
		}
		if names[*cd.Name] {
			return Client("Duplicate container name found: %s.", *cd.Name)
		}
		names[*cd.Name] = true
		// PortMapping.containerPort with awsvpc: "you specify the exposed
		// ports using containerPort" (1-65535).
		for _, pm := range cd.PortMappings {
			if p := deref(pm.ContainerPort); p < 1 || p > 65535 {
				return Client("containerPort must be between 1 and 65535.")
			}
		}
	}
	for _, c := range in.RequiresCompatibilities {
		if c != ecstypes.CompatibilityFargate {
			continue
		}
		// networkMode: "For Amazon ECS tasks on Fargate, the awsvpc network
		// mode is required."
		if in.NetworkMode != ecstypes.NetworkModeAwsvpc {
			return Client("Fargate only supports network mode 'awsvpc'.")
		}
		// cpu: "This field is required for Fargate." memory: "If your tasks
		// runs on Fargate, this field is required."
		if deref(in.Cpu) == "" || deref(in.Memory) == "" {
			return Client("Fargate requires that 'cpu' and 'memory' be defined at the task level.")
		}
	}
	return checkTags(in.Tags)
}

// ValidateDeregisterTaskDefinition checks DeregisterTaskDefinition:
// taskDefinition "The family and revision ( family:revision ) or full
// Amazon Resource Name (ARN) of the task definition to deregister. You must
// specify a revision."
func ValidateDeregisterTaskDefinition(in *ecs.DeregisterTaskDefinitionInput) error {
	_, rev := SplitTaskDef(deref(in.TaskDefinition))
	if rev == "" {
		return InvalidParameter("You must specify a revision to deregister a task definition.")
	}
	return nil
}

// ValidateDescribeTaskDefinition checks DescribeTaskDefinition:
// taskDefinition "This member is required."
func ValidateDescribeTaskDefinition(in *ecs.DescribeTaskDefinitionInput) error {
	if deref(in.TaskDefinition) == "" {
		return Client("taskDefinition is required.")
	}
	return nil
}

// ValidateRunTask checks RunTask against the task definition it names.
func ValidateRunTask(in *ecs.RunTaskInput, td *ecstypes.TaskDefinition) error {
	// count: "You can specify up to 10 tasks for each call."
	if in.Count != nil && (*in.Count < 1 || *in.Count > 10) {
		return InvalidParameter("count must be between 1 and 10, got %d.", *in.Count)
	}
	if err := checkToken(in.ClientToken, 64); err != nil {
		return err
	}
	// startedBy: "Up to 128 letters (uppercase and lowercase), numbers,
	// hyphens (-), forward slash (/), and underscores (_) are allowed."
	if in.StartedBy != nil && !startedByRe.MatchString(*in.StartedBy) {
		return InvalidParameter("startedBy must be up to 128 letters, numbers, hyphens, forward slashes and underscores.")
	}
	// group: "The name of the task group to associate with the task." The
	// model allows what family names allow plus the "family:"/"service:"
	// forms ECS itself uses (stricter than AWS, which documents no pattern).
	if g := deref(in.Group); in.Group != nil && (len(g) == 0 || len(g) > 255) {
		return InvalidParameter("group must be 1 to 255 characters.")
	}
	if err := checkPlacement(in.LaunchType, in.CapacityProviderStrategy, td); err != nil {
		return err
	}
	if td != nil {
		if err := checkNetwork(td.NetworkMode, in.NetworkConfiguration); err != nil {
			return err
		}
	}
	// overrides: "A total of 8192 characters are allowed for overrides. This
	// limit includes the JSON formatting characters of the override
	// structure."
	if in.Overrides != nil && jsonLen(in.Overrides) > 8192 {
		return InvalidParameter("Container overrides must be at most 8192 characters.")
	}
	// placementConstraints: "You can specify up to 10 constraints for each
	// task"; placementStrategy: "You can specify a maximum of five strategy
	// rules for each task."
	if len(in.PlacementConstraints) > 10 || len(in.PlacementStrategy) > 5 {
		return InvalidParameter("At most 10 placement constraints and 5 placement strategies.")
	}
	// enableECSManagedTags / propagateTags: the model is stricter than the
	// RunTask page and asks for propagateTags with managed tags, as
	// CreateService does ("When you use Amazon ECS managed tags, you must set
	// the propagateTags request parameter.").
	return checkTags(in.Tags)
}

// ValidateStopTask checks StopTask: task "This member is required."; reason
// "An optional message specified when a task is stopped" (older reference:
// "Up to 255 characters are allowed in this message."; the model keeps that
// limit).
func ValidateStopTask(in *ecs.StopTaskInput) error {
	if deref(in.Task) == "" {
		return InvalidParameter("task is required.")
	}
	if len(deref(in.Reason)) > 255 {
		return InvalidParameter("reason must be at most 255 characters.")
	}
	return nil
}

// ValidateListTasks checks ListTasks. startedBy: "When you specify
// startedBy as the filter, it must be the only filter that you use." ECS
// answers "InvalidParameterException: cannot specify startedBy with other
// arguments" (aws/aws-sdk-go-v2#1893, with family or launchType). The
// model counts every documented filter — containerInstance, family,
// serviceName, desiredStatus, launchType, daemonName — as "other"; whether
// desiredStatus counts is unclear in the reference, so the model is
// stricter than AWS and refuses it too. family and serviceName together
// are refused as well (the reference gives each as "limits the results to
// tasks that belong to that family/service"; ECS has answered that only one
// of them may be given, and the model is strict here). maxResults: "This
// value can be between 1 and 100."
func ValidateListTasks(in *ecs.ListTasksInput) error {
	if in.StartedBy != nil {
		var others []string
		for name, set := range map[string]bool{
			"containerInstance": in.ContainerInstance != nil,
			"family":            in.Family != nil,
			"serviceName":       in.ServiceName != nil,
			"desiredStatus":     in.DesiredStatus != "",
			"launchType":        in.LaunchType != "",
			"daemonName":        in.DaemonName != nil,
		} {
			if set {
				others = append(others, name)
			}
		}
		if len(others) > 0 {
			return InvalidParameter("cannot specify startedBy with other arguments (%s).", strings.Join(sortStrings(others), ", "))
		}
	}
	if in.Family != nil && in.ServiceName != nil {
		return InvalidParameter("family and serviceName cannot both be specified.")
	}
	switch in.DesiredStatus {
	case "", ecstypes.DesiredStatusRunning, ecstypes.DesiredStatusPending, ecstypes.DesiredStatusStopped:
	default:
		return InvalidParameter("desiredStatus must be RUNNING, PENDING or STOPPED.")
	}
	return checkMax(in.MaxResults, 100)
}

// ListTasksMatch reports whether a task belongs in a ListTasks answer (the
// input already validated). desiredStatus: "The default status filter is
// RUNNING" and "Although you can filter results based on a desired status
// of PENDING , this doesn't return any results." family: "limits the
// results to tasks that belong to that family"; serviceName: "limits the
// results to tasks that belong to that service" (ECS records a service's
// tasks in group "service:<name>"); startedBy: "limits the results to tasks
// that were started with that value."
func ListTasksMatch(in *ecs.ListTasksInput, t *ecstypes.Task) bool {
	want := in.DesiredStatus
	if want == "" {
		want = ecstypes.DesiredStatusRunning
	}
	if want == ecstypes.DesiredStatusPending || deref(t.DesiredStatus) != string(want) {
		return false
	}
	if in.StartedBy != nil && deref(t.StartedBy) != *in.StartedBy {
		return false
	}
	if in.Family != nil {
		if f, _ := SplitTaskDef(deref(t.TaskDefinitionArn)); f != *in.Family {
			return false
		}
	}
	if in.ServiceName != nil && deref(t.Group) != "service:"+ShortName(*in.ServiceName) {
		return false
	}
	if in.LaunchType != "" && t.LaunchType != in.LaunchType {
		return false
	}
	return true
}

// ValidateDescribeTasks checks DescribeTasks: tasks "A list of up to 100
// task IDs or full ARN entries." / "This member is required."
func ValidateDescribeTasks(in *ecs.DescribeTasksInput) error {
	if len(in.Tasks) == 0 || len(in.Tasks) > 100 {
		return InvalidParameter("Tasks must contain between 1 and 100 items, got %d.", len(in.Tasks))
	}
	return nil
}

// ValidateCreateService checks CreateService against the task definition
// it names.
func ValidateCreateService(in *ecs.CreateServiceInput, td *ecstypes.TaskDefinition) error {
	// serviceName: "Up to 255 letters (uppercase and lowercase), numbers,
	// underscores, and hyphens are allowed."
	if !nameRe.MatchString(deref(in.ServiceName)) {
		return InvalidParameter("Service name must be up to 255 letters, numbers, underscores and hyphens.")
	}
	if err := checkToken(in.ClientToken, 36); err != nil {
		return err
	}
	// desiredCount: "This is required if schedulingStrategy is REPLICA or
	// isn't specified." The model also refuses a negative count.
	if in.SchedulingStrategy != ecstypes.SchedulingStrategyDaemon {
		if in.DesiredCount == nil {
			return InvalidParameter("desiredCount is required for the REPLICA scheduling strategy.")
		}
	} else if in.LaunchType == ecstypes.LaunchTypeFargate {
		// "Tasks using the Fargate launch type or the CODE_DEPLOY or
		// EXTERNAL deployment controller types don't support the DAEMON
		// scheduling strategy."
		return InvalidParameter("Fargate does not support the DAEMON scheduling strategy.")
	}
	if in.DesiredCount != nil && *in.DesiredCount < 0 {
		return InvalidParameter("desiredCount must be at least 0.")
	}
	// taskDefinition: "A task definition must be specified if the service
	// uses either the ECS or CODE_DEPLOY deployment controllers."
	if deref(in.TaskDefinition) == "" {
		return InvalidParameter("taskDefinition is required with the ECS deployment controller.")
	}
	// The model implements the rolling (ECS) deployment controller only;
	// it refuses the others rather than pretend to run them.
	if dc := in.DeploymentController; dc != nil && dc.Type != "" && dc.Type != ecstypes.DeploymentControllerTypeEcs {
		return InvalidParameter("the model supports the ECS deployment controller only.")
	}
	if err := checkPlacement(in.LaunchType, in.CapacityProviderStrategy, td); err != nil {
		return err
	}
	if td != nil {
		if err := checkNetwork(td.NetworkMode, in.NetworkConfiguration); err != nil {
			return err
		}
		// role: "This parameter is only permitted if you are using a load
		// balancer with your service and your task definition doesn't use
		// the awsvpc network mode."
		if in.Role != nil && (len(in.LoadBalancers) == 0 || td.NetworkMode == ecstypes.NetworkModeAwsvpc) {
			return InvalidParameter("role is only permitted with a load balancer and a network mode other than awsvpc.")
		}
	}
	if err := checkLoadBalancers(td, in.LoadBalancers); err != nil {
		return err
	}
	if err := checkGrace(in.HealthCheckGracePeriodSeconds, in.LoadBalancers); err != nil {
		return err
	}
	// enableECSManagedTags: "When you use Amazon ECS managed tags, you must
	// set the propagateTags request parameter."
	if in.EnableECSManagedTags && in.PropagateTags == "" {
		return InvalidParameter("propagateTags must be set when enableECSManagedTags is true.")
	}
	// placementConstraints: "You can specify a maximum of 10 constraints for
	// each task." placementStrategy: "You can specify a maximum of 5
	// strategy rules for each service."
	if len(in.PlacementConstraints) > 10 || len(in.PlacementStrategy) > 5 {
		return InvalidParameter("At most 10 placement constraints and 5 placement strategies.")
	}
	// serviceRegistries: "Each service may be associated with one service
	// registry."
	if len(in.ServiceRegistries) > 1 {
		return InvalidParameter("A service may have at most one service registry.")
	}
	if err := checkDeploymentConfig(in.DeploymentConfiguration); err != nil {
		return err
	}
	return checkTags(in.Tags)
}

// checkDeploymentConfig: DeploymentConfiguration.maximumPercent and
// minimumHealthyPercent bound the tasks of a rolling deployment; the
// reference's defaults are 200 and 100, and a maximum below 100 or a
// minimum above the maximum cannot place a task. The model refuses both
// (stricter than AWS, which documents no explicit error).
func checkDeploymentConfig(dc *ecstypes.DeploymentConfiguration) error {
	if dc == nil {
		return nil
	}
	maxP, minP := int32(200), int32(100)
	if dc.MaximumPercent != nil {
		maxP = *dc.MaximumPercent
	}
	if dc.MinimumHealthyPercent != nil {
		minP = *dc.MinimumHealthyPercent
	}
	if maxP < 100 || minP < 0 || minP > maxP {
		return InvalidParameter("deploymentConfiguration needs 100 <= maximumPercent and 0 <= minimumHealthyPercent <= maximumPercent.")
	}
	// DeploymentCircuitBreaker.rollback needs the breaker: "rollback
	// Determines whether to configure Amazon ECS to roll back the service if
	// a service deployment fails."; the model refuses rollback without
	// enable.
	if cb := dc.DeploymentCircuitBreaker; cb != nil && cb.Rollback && !cb.Enable {
		return InvalidParameter("deploymentCircuitBreaker rollback needs enable.")
	}
	return nil
}

// ValidateDeleteService checks DeleteService: service "This member is
// required."
func ValidateDeleteService(in *ecs.DeleteServiceInput) error {
	if deref(in.Service) == "" {
		return InvalidParameter("service is required.")
	}
	return nil
}

// ValidateDescribeServices checks DescribeServices: services "You may
// specify up to 10 services to describe in a single operation." / "This
// member is required."
func ValidateDescribeServices(in *ecs.DescribeServicesInput) error {
	if len(in.Services) == 0 || len(in.Services) > 10 {
		return InvalidParameter("services must contain between 1 and 10 items, got %d.", len(in.Services))
	}
	return nil
}

// ValidateListServices checks ListServices: maxResults "This value can be
// between 1 and 100. If this parameter isn't used, then ListServices
// returns up to 10 results and a nextToken value if applicable."
func ValidateListServices(in *ecs.ListServicesInput) error {
	return checkMax(in.MaxResults, 100)
}

func checkMax(max *int32, limit int32) error {
	if max != nil && (*max < 1 || *max > limit) {
		return InvalidParameter("maxResults must be between 1 and %d.", limit)
	}
	return nil
}

// SplitTaskDef splits a task definition reference (ARN, family:revision or
// family) into family and revision ("" when absent).
func SplitTaskDef(ref string) (family, rev string) {
	if i := strings.Index(ref, ":task-definition/"); i >= 0 {
		ref = ref[i+len(":task-definition/"):]
	}
	family, rev, _ = strings.Cut(ref, ":")
	return family, rev
}

// ShortName is the last path segment of an ARN (a service or task name),
// or the reference itself.
func ShortName(ref string) string {
	return ref[strings.LastIndex(ref, "/")+1:]
}
