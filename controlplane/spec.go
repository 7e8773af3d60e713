package controlplane

import (
	"encoding/json"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/wharf-paas/wharf/contract"
)

// serviceSpec is one ECS service's configuration as the control plane
// wants it (desiredServiceSpec) or as DescribeServices reports it
// (observedServiceSpec): one value, compared field by field (diff), so a
// change of any setting reaches the service. docs/controlplane.md lists
// each field and how a change of it reaches ECS.
type serviceSpec struct {
	TaskDefinition string
	DesiredCount   int32
	// Autoscaled: Application Auto Scaling owns the desired count, so it
	// is never compared (nor sent in an UpdateService); DesiredCount is
	// only the count a new service starts with.
	Autoscaled bool
	// LaunchType is FARGATE or EC2; CapacityProviders names the providers
	// of a capacity provider strategy (observed only: Wharf's settings
	// choose a launch type).
	LaunchType        string
	CapacityProviders []string
	// The awsvpc network configuration; subnets and security groups are
	// sorted (their order means nothing to ECS).
	Subnets        []string
	SecurityGroups []string
	AssignPublicIP bool
	LoadBalancers  []lbSpec
	// Deployment configuration: circuit breaker and percentages.
	CircuitBreaker, Rollback bool
	MaxPercent, MinHealthy   int32
	HealthCheckGrace         int32
	EnableExecuteCommand     bool
	PropagateTags            string
}

// lbSpec is one load balancer of a service.
type lbSpec struct {
	TargetGroupARN, ContainerName string
	ContainerPort                 int32
}

// Service spec fields, as diff names them (the UpdateService parameter
// each maps to).
const (
	fieldTaskDefinition   = "taskDefinition"
	fieldDesiredCount     = "desiredCount"
	fieldLaunchType       = "launchType"
	fieldCapacityProvider = "capacityProviderStrategy"
	fieldNetwork          = "networkConfiguration"
	fieldLoadBalancers    = "loadBalancers"
	fieldDeployment       = "deploymentConfiguration"
	fieldHealthCheckGrace = "healthCheckGracePeriodSeconds"
	fieldExecuteCommand   = "enableExecuteCommand"
	fieldPropagateTags    = "propagateTags"
)

// healthCheckGraceSeconds is the grace period of a service behind the load
// balancer.
const healthCheckGraceSeconds = 30

// desiredServiceSpec is the spec of the service of proc, running taskDef
// with count tasks, under the app's settings.
func desiredServiceSpec(set *contract.Settings, proc, taskDef string, count int32) serviceSpec {
	sp := serviceSpec{
		TaskDefinition: taskDef, DesiredCount: count, LaunchType: set.LaunchType,
		Subnets: sortedCopy(set.Subnets), SecurityGroups: sortedCopy(set.SecurityGroups), AssignPublicIP: set.AssignPublicIP,
		CircuitBreaker: true, Rollback: true, MaxPercent: 200, MinHealthy: 100,
		PropagateTags: string(ecstypes.PropagateTagsTaskDefinition),
		// ECS Exec (wharf exec) needs it on the service's tasks; the task
		// role has the ssmmessages channel permissions.
		EnableExecuteCommand: true,
	}
	if proc == "web" && set.TargetGroupARN != "" {
		sp.LoadBalancers = []lbSpec{{TargetGroupARN: set.TargetGroupARN, ContainerName: contract.ContainerName, ContainerPort: set.ContainerPort}}
		sp.HealthCheckGrace = healthCheckGraceSeconds
	}
	return sp
}

// observedServiceSpec reads the spec of a described service. The task
// definition is the PRIMARY deployment's (the one ECS rolls out).
func observedServiceSpec(s *ecstypes.Service) serviceSpec {
	sp := serviceSpec{
		TaskDefinition: primaryTaskDef(s), DesiredCount: s.DesiredCount, LaunchType: string(s.LaunchType),
		HealthCheckGrace: aws.ToInt32(s.HealthCheckGracePeriodSeconds), EnableExecuteCommand: s.EnableExecuteCommand,
		PropagateTags: string(s.PropagateTags),
	}
	for _, c := range s.CapacityProviderStrategy {
		sp.CapacityProviders = append(sp.CapacityProviders, aws.ToString(c.CapacityProvider))
	}
	if nc := s.NetworkConfiguration; nc != nil && nc.AwsvpcConfiguration != nil {
		sp.Subnets = sortedCopy(nc.AwsvpcConfiguration.Subnets)
		sp.SecurityGroups = sortedCopy(nc.AwsvpcConfiguration.SecurityGroups)
		sp.AssignPublicIP = nc.AwsvpcConfiguration.AssignPublicIp == ecstypes.AssignPublicIpEnabled
	}
	for _, lb := range s.LoadBalancers {
		sp.LoadBalancers = append(sp.LoadBalancers, lbSpec{TargetGroupARN: aws.ToString(lb.TargetGroupArn),
			ContainerName: aws.ToString(lb.ContainerName), ContainerPort: aws.ToInt32(lb.ContainerPort)})
	}
	if dc := s.DeploymentConfiguration; dc != nil {
		sp.MaxPercent, sp.MinHealthy = aws.ToInt32(dc.MaximumPercent), aws.ToInt32(dc.MinimumHealthyPercent)
		if cb := dc.DeploymentCircuitBreaker; cb != nil {
			sp.CircuitBreaker, sp.Rollback = cb.Enable, cb.Rollback
		}
	}
	return sp
}

// diff lists the fields in which got differs from want, in a fixed order.
func (want serviceSpec) diff(got serviceSpec) []string {
	var out []string
	add := func(differs bool, field string) {
		if differs {
			out = append(out, field)
		}
	}
	add(want.TaskDefinition != got.TaskDefinition, fieldTaskDefinition)
	add(!want.Autoscaled && want.DesiredCount != got.DesiredCount, fieldDesiredCount)
	add(len(got.CapacityProviders) > 0, fieldCapacityProvider)
	add(len(got.CapacityProviders) == 0 && want.LaunchType != got.LaunchType, fieldLaunchType)
	add(!slices.Equal(want.Subnets, got.Subnets) || !slices.Equal(want.SecurityGroups, got.SecurityGroups) ||
		want.AssignPublicIP != got.AssignPublicIP, fieldNetwork)
	add(!slices.Equal(want.LoadBalancers, got.LoadBalancers), fieldLoadBalancers)
	add(want.CircuitBreaker != got.CircuitBreaker || want.Rollback != got.Rollback ||
		want.MaxPercent != got.MaxPercent || want.MinHealthy != got.MinHealthy, fieldDeployment)
	add(want.HealthCheckGrace != got.HealthCheckGrace, fieldHealthCheckGrace)
	add(want.EnableExecuteCommand != got.EnableExecuteCommand, fieldExecuteCommand)
	add(want.PropagateTags != got.PropagateTags, fieldPropagateTags)
	return out
}

// needsRecreate reports whether a difference cannot be updated in place.
// UpdateService has no launchType parameter; the ECS API reference
// (UpdateService, capacityProviderStrategy) lists the valid transitions,
// none from one launch type to the other ("Update the Fargate launch type
// to an Auto Scaling group capacity provider", "Update the Amazon EC2
// launch type to a Fargate capacity provider", ..., "Update the Auto
// Scaling group or Fargate capacity provider back to the launch type. Pass
// an empty list in the capacityProviderStrategy parameter."). So a launch
// type change is a delete and a create; a capacity provider strategy set
// by hand is removed in place with an empty list.
func needsRecreate(fields []string) bool { return slices.Contains(fields, fieldLaunchType) }

// networkConfiguration is the awsvpc configuration of a spec.
func (sp serviceSpec) networkConfiguration() *ecstypes.NetworkConfiguration {
	ip := ecstypes.AssignPublicIpDisabled
	if sp.AssignPublicIP {
		ip = ecstypes.AssignPublicIpEnabled
	}
	return &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{
		Subnets: slices.Clone(sp.Subnets), SecurityGroups: slices.Clone(sp.SecurityGroups), AssignPublicIp: ip,
	}}
}

func (sp serviceSpec) loadBalancers() []ecstypes.LoadBalancer {
	out := []ecstypes.LoadBalancer{} // not nil: an empty list removes them
	for _, lb := range sp.LoadBalancers {
		out = append(out, ecstypes.LoadBalancer{TargetGroupArn: aws.String(lb.TargetGroupARN),
			ContainerName: aws.String(lb.ContainerName), ContainerPort: aws.Int32(lb.ContainerPort)})
	}
	return out
}

func (sp serviceSpec) deploymentConfiguration() *ecstypes.DeploymentConfiguration {
	return &ecstypes.DeploymentConfiguration{
		DeploymentCircuitBreaker: &ecstypes.DeploymentCircuitBreaker{Enable: sp.CircuitBreaker, Rollback: sp.Rollback},
		MaximumPercent:           aws.Int32(sp.MaxPercent),
		MinimumHealthyPercent:    aws.Int32(sp.MinHealthy),
	}
}

// createInput is the CreateService request of a spec (without the client
// token and tags).
func (sp serviceSpec) createInput(cluster, name string) *ecs.CreateServiceInput {
	in := &ecs.CreateServiceInput{
		ServiceName: aws.String(name), Cluster: aws.String(cluster),
		TaskDefinition: aws.String(sp.TaskDefinition), DesiredCount: aws.Int32(sp.DesiredCount),
		LaunchType: ecstypes.LaunchType(sp.LaunchType), NetworkConfiguration: sp.networkConfiguration(),
		DeploymentConfiguration: sp.deploymentConfiguration(),
		DeploymentController:    &ecstypes.DeploymentController{Type: ecstypes.DeploymentControllerTypeEcs},
		PropagateTags:           ecstypes.PropagateTags(sp.PropagateTags),
		EnableExecuteCommand:    sp.EnableExecuteCommand,
		EnableECSManagedTags:    true,
	}
	if len(sp.LoadBalancers) > 0 {
		in.LoadBalancers = sp.loadBalancers()
		in.HealthCheckGracePeriodSeconds = aws.Int32(sp.HealthCheckGrace)
	}
	return in
}

// updateInput is the UpdateService request that sends the fields of sp
// listed in fields, and nothing else.
func (sp serviceSpec) updateInput(cluster, name string, fields []string) *ecs.UpdateServiceInput {
	in := &ecs.UpdateServiceInput{Cluster: aws.String(cluster), Service: aws.String(name)}
	for _, f := range fields {
		switch f {
		case fieldTaskDefinition:
			in.TaskDefinition = aws.String(sp.TaskDefinition)
		case fieldDesiredCount:
			in.DesiredCount = aws.Int32(sp.DesiredCount)
		case fieldCapacityProvider:
			in.CapacityProviderStrategy = []ecstypes.CapacityProviderStrategyItem{}
		case fieldNetwork:
			in.NetworkConfiguration = sp.networkConfiguration()
		case fieldLoadBalancers:
			in.LoadBalancers = sp.loadBalancers()
		case fieldDeployment:
			in.DeploymentConfiguration = sp.deploymentConfiguration()
		case fieldHealthCheckGrace:
			in.HealthCheckGracePeriodSeconds = aws.Int32(sp.HealthCheckGrace)
		case fieldExecuteCommand:
			in.EnableExecuteCommand = aws.Bool(sp.EnableExecuteCommand)
		case fieldPropagateTags:
			in.PropagateTags = ecstypes.PropagateTags(sp.PropagateTags)
		}
	}
	return in
}

func sortedCopy(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

// targetSpec is a schedule rule's target as wanted or as
// ListTargetsByRule reports it, compared as one value.
type targetSpec struct {
	ID, Arn, RoleArn, Input       string
	TaskDefinition                string
	TaskCount                     int32
	LaunchType                    string
	Subnets, SecurityGroups       []string
	AssignPublicIP                string
	PropagateTags                 string
	EnableECSManagedTags, Missing bool
}

func targetSpecOf(t ebtypes.Target) targetSpec {
	sp := targetSpec{ID: aws.ToString(t.Id), Arn: aws.ToString(t.Arn), RoleArn: aws.ToString(t.RoleArn), Input: compactJSON(aws.ToString(t.Input))}
	p := t.EcsParameters
	if p == nil {
		sp.Missing = true
		return sp
	}
	sp.TaskDefinition, sp.TaskCount, sp.LaunchType = aws.ToString(p.TaskDefinitionArn), aws.ToInt32(p.TaskCount), string(p.LaunchType)
	sp.PropagateTags, sp.EnableECSManagedTags = string(p.PropagateTags), p.EnableECSManagedTags
	if nc := p.NetworkConfiguration; nc != nil && nc.AwsvpcConfiguration != nil {
		sp.Subnets = sortedCopy(nc.AwsvpcConfiguration.Subnets)
		sp.SecurityGroups = sortedCopy(nc.AwsvpcConfiguration.SecurityGroups)
		sp.AssignPublicIP = string(nc.AwsvpcConfiguration.AssignPublicIp)
	}
	return sp
}

// compactJSON normalises a target's input (EventBridge may return it
// re-encoded); anything that is not JSON is kept as is.
func compactJSON(s string) string {
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return s
	}
	b, _ := json.Marshal(v)
	return strings.TrimSpace(string(b))
}

// sameTarget reports whether the observed target a is the wanted b in
// every field the control plane sets: role, input, task definition, count,
// launch type, network configuration (subnets, security groups, public IP)
// and tag propagation.
func sameTarget(a, b ebtypes.Target) bool {
	x, y := targetSpecOf(a), targetSpecOf(b)
	return !x.Missing && !y.Missing && x.ID == y.ID && x.Arn == y.Arn && x.RoleArn == y.RoleArn && x.Input == y.Input &&
		x.TaskDefinition == y.TaskDefinition && x.TaskCount == y.TaskCount && x.LaunchType == y.LaunchType &&
		slices.Equal(x.Subnets, y.Subnets) && slices.Equal(x.SecurityGroups, y.SecurityGroups) &&
		x.AssignPublicIP == y.AssignPublicIP && x.PropagateTags == y.PropagateTags && x.EnableECSManagedTags == y.EnableECSManagedTags
}

// settingsHash identifies an app's settings document: a deployed build
// whose services were aligned with other settings is restarted, so a
// settings change reaches the services.
func settingsHash(set *contract.Settings) string {
	// Branch and Repository say which builds may deploy; they change
	// nothing that runs, so a change to them restarts nothing.
	var c *contract.Settings
	if set != nil {
		cp := *set
		cp.Branch, cp.Repository = "", ""
		c = &cp
	}
	b, _ := json.Marshal(c)
	return token(16, string(b))
}
