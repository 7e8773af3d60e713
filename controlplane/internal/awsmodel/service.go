package awsmodel

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// ServiceConfig is what a service runs with: the fields CreateService sets
// and UpdateService may change. Hosts keep one per service and describe it
// back in DescribeServices.
type ServiceConfig struct {
	TaskDefinition                string // ARN of the PRIMARY deployment's task definition
	DesiredCount                  int32
	LaunchType                    ecstypes.LaunchType
	CapacityProviderStrategy      []ecstypes.CapacityProviderStrategyItem
	NetworkConfiguration          *ecstypes.NetworkConfiguration
	LoadBalancers                 []ecstypes.LoadBalancer
	DeploymentConfiguration       *ecstypes.DeploymentConfiguration
	HealthCheckGracePeriodSeconds *int32
	EnableExecuteCommand          bool
	EnableECSManagedTags          bool
	PropagateTags                 ecstypes.PropagateTags
	PlatformVersion               string

	// createdLaunchType is the launch type CreateService gave, which an
	// empty capacity provider strategy returns to.
	createdLaunchType ecstypes.LaunchType
}

// NewServiceConfig is the configuration CreateService gives a service (the
// input validated, tdARN the resolved task definition). When
// deploymentConfiguration is omitted ECS uses maximumPercent 200 and
// minimumHealthyPercent 100 with the circuit breaker off.
func NewServiceConfig(in *ecs.CreateServiceInput, tdARN string) ServiceConfig {
	dc := in.DeploymentConfiguration
	if dc == nil {
		dc = &ecstypes.DeploymentConfiguration{
			MaximumPercent:           ptr(int32(200)),
			MinimumHealthyPercent:    ptr(int32(100)),
			DeploymentCircuitBreaker: &ecstypes.DeploymentCircuitBreaker{},
		}
	}
	c := ServiceConfig{
		TaskDefinition:                tdARN,
		DesiredCount:                  deref(in.DesiredCount),
		LaunchType:                    in.LaunchType,
		CapacityProviderStrategy:      clone(in.CapacityProviderStrategy),
		NetworkConfiguration:          clone(in.NetworkConfiguration),
		LoadBalancers:                 clone(in.LoadBalancers),
		DeploymentConfiguration:       clone(dc),
		HealthCheckGracePeriodSeconds: in.HealthCheckGracePeriodSeconds,
		EnableExecuteCommand:          in.EnableExecuteCommand,
		EnableECSManagedTags:          in.EnableECSManagedTags,
		PropagateTags:                 in.PropagateTags,
		PlatformVersion:               deref(in.PlatformVersion),
		createdLaunchType:             in.LaunchType,
	}
	if c.PropagateTags == "" {
		// propagateTags: "The default is NONE."
		c.PropagateTags = ecstypes.PropagateTagsNone
	}
	return c
}

// UpdateResult is what an UpdateService does.
type UpdateResult struct {
	// NewDeployment: ECS starts a new deployment (new tasks with the new
	// configuration, then stops the old ones).
	NewDeployment bool
	// Changed lists the fields whose value changed.
	Changed []string
}

// ApplyUpdateService validates an UpdateService against the service's
// current configuration and, if it is valid, applies it to cfg. td is the
// task definition the service will run after the update (the one the
// request names, or the current one). The reference says of each field
// whether it "triggers a new service deployment" or "doesn't trigger a new
// service deployment"; the model starts a deployment only for a field that
// triggers one and whose value changes (the reference does not say whether
// an unchanged value triggers one; the model assumes it does not), or for
// forceNewDeployment ("You can use this option to start a new deployment
// with no service definition changes").
//
// Which fields UpdateService can change at all: the input has no
// launchType, serviceName, cluster ("You can't change the cluster name."),
// schedulingStrategy or role, so a service changes launch type only through
// capacityProviderStrategy ("Update the Fargate launch type to an Auto
// Scaling group capacity provider", "Update the Amazon EC2 launch type to a
// Fargate capacity provider", ... "Update the Auto Scaling group or Fargate
// capacity provider back to the launch type. Pass an empty list in the
// capacityProviderStrategy parameter.") and otherwise needs to be recreated;
// FARGATE to EC2 as a launch type is not among the valid transitions.
func ApplyUpdateService(cfg *ServiceConfig, in *ecs.UpdateServiceInput, td *ecstypes.TaskDefinition) (UpdateResult, error) {
	next := *cfg
	var res UpdateResult
	change := func(field string, deploy bool) {
		res.Changed = append(res.Changed, field)
		res.NewDeployment = res.NewDeployment || deploy
	}
	// desiredCount: "This parameter doesn't trigger a new service
	// deployment."
	if in.DesiredCount != nil {
		if *in.DesiredCount < 0 {
			return res, InvalidParameter("desiredCount must be at least 0.")
		}
		if *in.DesiredCount != next.DesiredCount {
			next.DesiredCount = *in.DesiredCount
			change("desiredCount", false)
		}
	}
	// taskDefinition: "This parameter triggers a new service deployment."
	if in.TaskDefinition != nil && td != nil && deref(td.TaskDefinitionArn) != next.TaskDefinition {
		next.TaskDefinition = deref(td.TaskDefinitionArn)
		change("taskDefinition", true)
	}
	// capacityProviderStrategy: "This parameter doesn't trigger a new
	// service deployment." Valid transitions are listed above.
	if in.CapacityProviderStrategy != nil {
		if len(in.CapacityProviderStrategy) == 0 {
			if len(next.CapacityProviderStrategy) > 0 {
				if cfg.createdLaunchType == "" {
					return res, InvalidParameter("the service was created with a capacity provider strategy and has no launch type to return to.")
				}
				next.CapacityProviderStrategy, next.LaunchType = nil, cfg.createdLaunchType
				change("capacityProviderStrategy", false)
			}
		} else {
			if err := checkPlacement("", in.CapacityProviderStrategy, nil); err != nil {
				return res, err
			}
			if !reflect.DeepEqual(in.CapacityProviderStrategy, next.CapacityProviderStrategy) {
				next.CapacityProviderStrategy, next.LaunchType = clone(in.CapacityProviderStrategy), ""
				change("capacityProviderStrategy", false)
			}
		}
	}
	// networkConfiguration: "This parameter triggers a new service
	// deployment."
	if in.NetworkConfiguration != nil && !sameNetwork(in.NetworkConfiguration, next.NetworkConfiguration) {
		next.NetworkConfiguration = clone(in.NetworkConfiguration)
		change("networkConfiguration", true)
	}
	// loadBalancers: "You can remove existing loadBalancers by passing an
	// empty list." / "This parameter triggers a new service deployment."
	if in.LoadBalancers != nil && !sameLBs(in.LoadBalancers, next.LoadBalancers) {
		next.LoadBalancers = clone(in.LoadBalancers)
		change("loadBalancers", true)
	}
	// deploymentConfiguration: "This parameter doesn't trigger a new service
	// deployment."
	if in.DeploymentConfiguration != nil && !reflect.DeepEqual(in.DeploymentConfiguration, next.DeploymentConfiguration) {
		if err := checkDeploymentConfig(in.DeploymentConfiguration); err != nil {
			return res, err
		}
		next.DeploymentConfiguration = clone(in.DeploymentConfiguration)
		change("deploymentConfiguration", false)
	}
	// healthCheckGracePeriodSeconds: "This parameter doesn't trigger a new
	// service deployment."
	if in.HealthCheckGracePeriodSeconds != nil && deref(in.HealthCheckGracePeriodSeconds) != deref(next.HealthCheckGracePeriodSeconds) {
		next.HealthCheckGracePeriodSeconds = ptr(*in.HealthCheckGracePeriodSeconds)
		change("healthCheckGracePeriodSeconds", false)
	}
	// enableExecuteCommand: "If you do not want to override the value that
	// was set when the service was created, you can set this to null" /
	// "This parameter doesn't trigger a new service deployment."
	if in.EnableExecuteCommand != nil && *in.EnableExecuteCommand != next.EnableExecuteCommand {
		next.EnableExecuteCommand = *in.EnableExecuteCommand
		change("enableExecuteCommand", false)
	}
	// enableECSManagedTags, propagateTags: "Only tasks launched after the
	// update will reflect the update." / "This parameter doesn't trigger a
	// new service deployment."
	if in.EnableECSManagedTags != nil && *in.EnableECSManagedTags != next.EnableECSManagedTags {
		next.EnableECSManagedTags = *in.EnableECSManagedTags
		change("enableECSManagedTags", false)
	}
	if in.PropagateTags != "" && in.PropagateTags != next.PropagateTags {
		next.PropagateTags = in.PropagateTags
		change("propagateTags", false)
	}
	// platformVersion: "This parameter triggers a new service deployment."
	if in.PlatformVersion != nil && *in.PlatformVersion != next.PlatformVersion {
		next.PlatformVersion = *in.PlatformVersion
		change("platformVersion", true)
	}
	// deploymentController: the model runs the ECS controller only.
	if dc := in.DeploymentController; dc != nil && dc.Type != "" && dc.Type != ecstypes.DeploymentControllerTypeEcs {
		return res, InvalidParameter("the model supports the ECS deployment controller only.")
	}
	// placementConstraints: "You can specify a maximum of 10 constraints for
	// each task." placementStrategy: "You can specify a maximum of five
	// strategy rules for each service."
	if len(in.PlacementConstraints) > 10 || len(in.PlacementStrategy) > 5 {
		return res, InvalidParameter("At most 10 placement constraints and 5 placement strategies.")
	}
	if in.ForceNewDeployment {
		res.NewDeployment = true
	}
	// The resulting service must still be valid as a whole.
	if td != nil {
		if err := checkNetwork(td.NetworkMode, next.NetworkConfiguration); err != nil {
			return res, err
		}
		if err := checkPlacement(next.LaunchType, nil, td); err != nil {
			return res, err
		}
	}
	if err := checkLoadBalancers(td, next.LoadBalancers); err != nil {
		return res, err
	}
	if err := checkGrace(next.HealthCheckGracePeriodSeconds, next.LoadBalancers); err != nil {
		return res, err
	}
	*cfg = next
	return res, nil
}

// Describe fills the configuration fields of a service description.
func (c *ServiceConfig) Describe(s *ecstypes.Service) {
	s.TaskDefinition = ptr(c.TaskDefinition)
	s.DesiredCount = c.DesiredCount
	s.LaunchType = c.LaunchType
	s.CapacityProviderStrategy = clone(c.CapacityProviderStrategy)
	s.NetworkConfiguration = clone(c.NetworkConfiguration)
	s.LoadBalancers = clone(c.LoadBalancers)
	s.DeploymentConfiguration = clone(c.DeploymentConfiguration)
	s.HealthCheckGracePeriodSeconds = c.HealthCheckGracePeriodSeconds
	s.EnableExecuteCommand = c.EnableExecuteCommand
	s.EnableECSManagedTags = c.EnableECSManagedTags
	s.PropagateTags = c.PropagateTags
	if c.PlatformVersion != "" {
		s.PlatformVersion = ptr(c.PlatformVersion)
	} else if c.LaunchType == ecstypes.LaunchTypeFargate {
		// platformVersion: "If one isn't specified, the LATEST platform
		// version is used."
		s.PlatformVersion = ptr("LATEST")
	}
}

func sameNetwork(a, b *ecstypes.NetworkConfiguration) bool {
	norm := func(n *ecstypes.NetworkConfiguration) string {
		if n == nil || n.AwsvpcConfiguration == nil {
			return ""
		}
		v := n.AwsvpcConfiguration
		ip := v.AssignPublicIp
		if ip == "" {
			// assignPublicIp: "When you use create-service or update-service,
			// the default is DISABLED."
			ip = ecstypes.AssignPublicIpDisabled
		}
		return strings.Join(sortStrings(append([]string(nil), v.Subnets...)), ",") + "|" +
			strings.Join(sortStrings(append([]string(nil), v.SecurityGroups...)), ",") + "|" + string(ip)
	}
	return norm(a) == norm(b)
}

func sameLBs(a, b []ecstypes.LoadBalancer) bool {
	key := func(l []ecstypes.LoadBalancer) string {
		var parts []string
		for _, lb := range l {
			parts = append(parts, fmt.Sprintf("%s|%s|%d", deref(lb.TargetGroupArn), deref(lb.ContainerName), deref(lb.ContainerPort)))
		}
		return strings.Join(sortStrings(parts), ";")
	}
	return key(a) == key(b)
}

// Page cuts one page of a listing: maxResults as validated (nil for the
// operation's default page size def), nextToken as handed out by an earlier
// page. An unknown token is an InvalidParameterException.
func Page[T any](items []T, nextToken *string, maxResults *int32, def int) ([]T, *string, error) {
	n := def
	if maxResults != nil {
		n = int(*maxResults)
	}
	start := 0
	if nextToken != nil && *nextToken != "" {
		v, err := strconv.Atoi(strings.TrimPrefix(*nextToken, "page-"))
		if err != nil || v < 0 || v > len(items) || !strings.HasPrefix(*nextToken, "page-") {
			return nil, nil, InvalidParameter("Invalid nextToken.")
		}
		start = v
	}
	end := min(start+n, len(items))
	var next *string
	if end < len(items) {
		next = ptr(fmt.Sprintf("page-%d", end))
	}
	return append([]T(nil), items[start:end]...), next, nil
}

func sortStrings(s []string) []string { sort.Strings(s); return s }

func jsonLen(v any) int {
	b, _ := json.Marshal(v)
	return len(b)
}

// clone deep-copies an SDK value so that hosts never share memory with
// callers.
func clone[T any](v T) T {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("awsmodel: clone: %v", err))
	}
	var out T
	if err := json.Unmarshal(b, &out); err != nil {
		panic(fmt.Sprintf("awsmodel: clone: %v", err))
	}
	return out
}
