// Package awsmodel is the one model of AWS API semantics (ECS above all) that Wharf's
// test doubles share: the simulator (controlplane/sim), the wire-protocol
// server (controlplane/awsfake) and the control plane's unit-test world all
// check each request against the rules here before they act on it, and use
// the same decisions for what a request does (which UpdateService fields
// start a new deployment, how ListTasks filters, how task definitions are
// resolved, how pages are cut).
//
// Every rule is written from the ECS API reference (the request parameter
// documentation, which the aws-sdk-go-v2 ECS package carries verbatim in its
// input types' doc comments, and docs.aws.amazon.com/AmazonECS/latest/
// APIReference) and quotes the sentence it comes from. Where the reference
// is unclear the model is stricter than AWS, and says so. The package is
// internal: it is test support and no part of the library's API.
package awsmodel

import (
	"fmt"
	"regexp"
	"strings"

	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// InvalidParameter is ECS's InvalidParameterException ("The specified
// parameter isn't valid. Review the available parameters for the API
// request.").
func InvalidParameter(format string, args ...any) error {
	return &ecstypes.InvalidParameterException{Message: ptr(fmt.Sprintf(format, args...))}
}

// Client is ECS's ClientException ("These errors are usually caused by a
// client action. This client action might be using an action or resource on
// behalf of a user that doesn't have permissions to use the action or
// resource. Or, it might be specifying an identifier that isn't valid.").
func Client(format string, args ...any) error {
	return &ecstypes.ClientException{Message: ptr(fmt.Sprintf(format, args...))}
}

func ptr[T any](v T) *T { return &v }

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// Retryable reports whether an ECS error code is worth retrying unchanged.
// The ECS API reference's "Common Errors" page marks ThrottlingException
// ("The request was denied due to request throttling.", HTTP 400),
// ServiceUnavailable ("The request has failed due to a temporary failure of
// the server.", HTTP 503) and InternalFailure ("The request processing has
// failed because of an unknown error, exception or failure.", HTTP 500) as
// transient; ECS's own ServerException is "These errors are usually caused
// by a server issue." Every other ECS exception (ClientException,
// InvalidParameterException, ServiceNotFoundException,
// ServiceNotActiveException, ClusterNotFoundException, ConflictException,
// AccessDeniedException...) describes the request and fails again if sent
// again.
func Retryable(code string) bool {
	switch code {
	case "ThrottlingException", "ServiceUnavailable", "ServiceUnavailableException", "InternalFailure", "ServerException", "RequestTimeout", "RequestTimeoutException":
		return true
	}
	return false
}

// nameRe: "Up to 255 letters (uppercase and lowercase), numbers,
// underscores, and hyphens are allowed." (RegisterTaskDefinition family,
// CreateService serviceName).
var nameRe = regexp.MustCompile(`^[A-Za-z0-9_-]{1,255}$`)

// startedByRe: RunTask startedBy: "Up to 128 letters (uppercase and
// lowercase), numbers, hyphens (-), forward slash (/), and underscores (_)
// are allowed."
var startedByRe = regexp.MustCompile(`^[A-Za-z0-9/_-]{1,128}$`)

// checkToken enforces a clientToken's length and alphabet. RunTask: "Up to
// 64 characters are allowed. The valid characters are characters in the
// range of 33-126, inclusive." CreateService: "Up to 36 ASCII characters in
// the range of 33-126 (inclusive) are allowed."
func checkToken(tok *string, max int) error {
	if tok == nil {
		return nil
	}
	if len(*tok) == 0 || len(*tok) > max {
		return InvalidParameter("clientToken must be 1 to %d characters, got %d.", max, len(*tok))
	}
	for _, c := range []byte(*tok) {
		if c < 33 || c > 126 {
			return InvalidParameter("clientToken may only contain characters in the range 33-126.")
		}
	}
	return nil
}

// checkTags enforces the tag restrictions every ECS resource shares
// (CreateService, RegisterTaskDefinition, RunTask tags): "Maximum number of
// tags per resource - 50", "Maximum key length - 128 Unicode characters in
// UTF-8", "Maximum value length - 256 Unicode characters in UTF-8", "each tag
// key must be unique", "Do not use aws:, AWS:, or any upper or lowercase
// combination of such as a prefix for either keys or values as it is
// reserved for Amazon Web Services use."
func checkTags(tags []ecstypes.Tag) error {
	if len(tags) > 50 {
		return InvalidParameter("Tags may contain at most 50 tags, got %d.", len(tags))
	}
	seen := map[string]bool{}
	for _, t := range tags {
		k, v := deref(t.Key), deref(t.Value)
		switch {
		case k == "" || len([]rune(k)) > 128:
			return InvalidParameter("Tag keys must be 1 to 128 characters.")
		case len([]rune(v)) > 256:
			return InvalidParameter("Tag values must be at most 256 characters.")
		case strings.HasPrefix(strings.ToLower(k), "aws:") || strings.HasPrefix(strings.ToLower(v), "aws:"):
			return InvalidParameter("Tag keys and values may not begin with aws: (reserved).")
		case seen[k]:
			return InvalidParameter("Tag key %q appears twice.", k)
		}
		seen[k] = true
	}
	return nil
}

// checkNetwork enforces the awsvpc rules of RunTask, CreateService and
// UpdateService. networkConfiguration: "This parameter is required for task
// definitions that use the awsvpc network mode to receive their own elastic
// network interface, and it isn't supported for other network modes."
// AwsVpcConfiguration.subnets: "There's a limit of 16 subnets that can be
// specified." and "This member is required." securityGroups: "There's a
// limit of 5 security groups that can be specified." The model is stricter
// than AWS in one respect: it refuses an empty security-group list (AWS
// would use "the default security group for the VPC", which Wharf never
// wants). It does not enforce "When the service deploymentController is ECS,
// the value must be DISABLED" (assignPublicIp): the sentence contradicts
// the developer guide's Fargate networking page (tasks in a public subnet
// need a public IP to pull images) and every rolling-update service in a
// public subnet; it is recorded here as a known inconsistency of the
// reference.
func checkNetwork(mode ecstypes.NetworkMode, nc *ecstypes.NetworkConfiguration) error {
	if mode == ecstypes.NetworkModeAwsvpc {
		if nc == nil || nc.AwsvpcConfiguration == nil {
			return InvalidParameter("Network Configuration must be provided when networkMode 'awsvpc' is specified.")
		}
	} else if nc != nil {
		return InvalidParameter("Network Configuration is not valid for the given networkMode of this task definition.")
	}
	if nc == nil || nc.AwsvpcConfiguration == nil {
		return nil
	}
	v := nc.AwsvpcConfiguration
	switch {
	case len(v.Subnets) == 0:
		return InvalidParameter("subnets can not be empty.")
	case len(v.Subnets) > 16:
		return InvalidParameter("At most 16 subnets can be specified, got %d.", len(v.Subnets))
	case len(v.SecurityGroups) == 0:
		return InvalidParameter("securityGroups can not be empty (stricter than ECS, which would use the VPC's default group).")
	case len(v.SecurityGroups) > 5:
		return InvalidParameter("At most 5 security groups can be specified, got %d.", len(v.SecurityGroups))
	}
	switch v.AssignPublicIp {
	case "", ecstypes.AssignPublicIpEnabled, ecstypes.AssignPublicIpDisabled:
	default:
		return InvalidParameter("assignPublicIp must be ENABLED or DISABLED.")
	}
	return nil
}

// checkPlacement enforces the launch type / capacity provider rules of
// RunTask and CreateService: "If a capacityProviderStrategy is specified,
// the launchType parameter must be omitted." and "A capacity provider
// strategy can contain a maximum of 20 capacity providers."
func checkPlacement(lt ecstypes.LaunchType, cps []ecstypes.CapacityProviderStrategyItem, td *ecstypes.TaskDefinition) error {
	if lt != "" && len(cps) > 0 {
		return InvalidParameter("Specifying both a launch type and capacity provider strategy is not supported. Remove one and try again.")
	}
	if len(cps) > 20 {
		return InvalidParameter("A capacity provider strategy can contain a maximum of 20 capacity providers.")
	}
	for _, c := range cps {
		if deref(c.CapacityProvider) == "" {
			return InvalidParameter("capacityProvider is required in a capacity provider strategy item.")
		}
		// CapacityProviderStrategyItem.weight: "The weight value must be
		// between 0 and 1000"; base: "The base value must be between 0 and
		// 100000".
		if c.Weight < 0 || c.Weight > 1000 || c.Base < 0 || c.Base > 100000 {
			return InvalidParameter("capacity provider weight must be 0-1000 and base 0-100000.")
		}
	}
	switch lt {
	case "", ecstypes.LaunchTypeFargate, ecstypes.LaunchTypeEc2, ecstypes.LaunchTypeExternal:
	default:
		return InvalidParameter("launchType must be EC2, FARGATE or EXTERNAL.")
	}
	// RegisterTaskDefinition requiresCompatibilities: "The task launch type
	// that Amazon ECS validates the task definition against." A task
	// definition that requires FARGATE cannot be launched as EC2 and the
	// other way round.
	if td != nil && lt != "" && len(td.RequiresCompatibilities) > 0 {
		ok := false
		for _, c := range td.RequiresCompatibilities {
			ok = ok || string(c) == string(lt)
		}
		if !ok {
			return InvalidParameter("Task definition does not support launch_type %s.", lt)
		}
	}
	return nil
}

// checkLoadBalancers enforces CreateService/UpdateService loadBalancers for
// Application Load Balancers: "this object must contain the load balancer
// target group ARN, the container name, and the container port to access
// from the load balancer. The container name must be as it appears in a
// container definition. The load balancer name parameter must be omitted."
// LoadBalancer.containerPort: "This port must correspond to a containerPort
// in the task definition the tasks in the service are using."
func checkLoadBalancers(td *ecstypes.TaskDefinition, lbs []ecstypes.LoadBalancer) error {
	for _, lb := range lbs {
		if deref(lb.TargetGroupArn) == "" || deref(lb.ContainerName) == "" || lb.ContainerPort == nil {
			return InvalidParameter("loadBalancers need targetGroupArn, containerName and containerPort.")
		}
		if lb.LoadBalancerName != nil {
			return InvalidParameter("loadBalancerName must be omitted with a target group (Application Load Balancer).")
		}
		if td == nil {
			continue
		}
		found := false
		for _, cd := range td.ContainerDefinitions {
			if deref(cd.Name) != *lb.ContainerName {
				continue
			}
			for _, pm := range cd.PortMappings {
				found = found || deref(pm.ContainerPort) == *lb.ContainerPort
			}
		}
		if !found {
			return InvalidParameter("The container %s did not have a container port %d defined.", *lb.ContainerName, *lb.ContainerPort)
		}
	}
	return nil
}

// checkGrace enforces healthCheckGracePeriodSeconds. The reference as of
// 2019 says "This is only valid if your service is configured to use a load
// balancer." and ECS answered "Health check grace period is only valid for
// services configured to use load balancers"; the current text says "If you
// do not use any of the health checks, then healthCheckGracePeriodSeconds is
// unused" and allows "up to 2,147,483,647 seconds". The model keeps the
// older, stricter rule: a grace period other than the default 0 needs a
// load balancer (0 stays allowed, so that UpdateService can put a service
// that lost its load balancer back to the default).
func checkGrace(grace *int32, lbs []ecstypes.LoadBalancer) error {
	if grace == nil {
		return nil
	}
	if *grace < 0 {
		return InvalidParameter("healthCheckGracePeriodSeconds must be at least 0.")
	}
	if len(lbs) == 0 && *grace != 0 {
		return InvalidParameter("Health check grace period is only valid for services configured to use load balancers.")
	}
	return nil
}
