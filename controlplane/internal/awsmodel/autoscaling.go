package awsmodel

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	aas "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	aastypes "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
)

// ScalingModel is a strict in-memory model of the Application Auto
// Scaling operations the control plane calls, for the ECS namespace only,
// written from the Application Auto Scaling API reference (quoted at each
// rule); where the reference is unclear it is stricter. Capacity and
// SetCapacity connect it to the host's ECS model: the desired count of the
// service a resource ID names (ok false: no active service).
type ScalingModel struct {
	mu       sync.Mutex
	targets  map[string]*aastypes.ScalableTarget
	policies map[string]map[string]*aastypes.ScalingPolicy // resource ID -> name -> policy
	seq      int
	// Account and Region build the ARNs.
	Account, Region string
	Capacity        func(resourceID string) (int32, bool)
	SetCapacity     func(resourceID string, n int32)
	Now             func() time.Time
}

// NewScalingModel returns an empty model.
func NewScalingModel(account, region string) *ScalingModel {
	return &ScalingModel{Account: account, Region: region,
		targets: map[string]*aastypes.ScalableTarget{}, policies: map[string]map[string]*aastypes.ScalingPolicy{}}
}

func (m *ScalingModel) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Unix(0, 0)
}

// checkTarget validates the three parameters that identify a scalable
// target: ServiceNamespace ("Required: Yes"), ResourceId ("Length
// Constraints: Minimum length of 1. Maximum length of 1600." "ECS service -
// The resource type is service and the unique identifier is the cluster
// name and service name. Example: service/my-cluster/my-service.") and
// ScalableDimension ("ecs:service:DesiredCount - The task count of an ECS
// service."). The model knows the ECS namespace only.
func checkTarget(ns aastypes.ServiceNamespace, id *string, dim aastypes.ScalableDimension) error {
	switch {
	case ns != aastypes.ServiceNamespaceEcs:
		return violation("ValidationException", "ServiceNamespace must be ecs (the model knows ECS only), got %q", ns)
	case dim != aastypes.ScalableDimensionECSServiceDesiredCount:
		return violation("ValidationException", "ScalableDimension must be ecs:service:DesiredCount for namespace ecs, got %q", dim)
	}
	return checkResourceID(deref(id))
}

func checkResourceID(id string) error {
	if len(id) < 1 || len(id) > 1600 {
		return violation("ValidationException", "ResourceId must be 1 to 1600 characters, got %d", len(id))
	}
	parts := strings.Split(id, "/")
	if len(parts) != 3 || parts[0] != "service" || parts[1] == "" || parts[2] == "" {
		return violation("ValidationException", "ResourceId of an ECS service must be service/<cluster-name>/<service-name>, got %q", id)
	}
	return nil
}

// RegisterScalableTarget: "When you register a new scalable target, you
// must specify values for the minimum and maximum capacity. If the
// specified resource is not active in the target service, this operation
// does not change the resource's current capacity. Otherwise, it changes
// the resource's current capacity to a value that is inside of this
// range." "To update a scalable target, specify the parameters that you
// want to change. ... Any parameters that you don't specify are not
// changed by this update request." MinCapacity: "For certain resources,
// the minimum value allowed is 0. This includes ... ECS services". The
// model refuses a minimum above the maximum (ValidationException), and a
// new target for a service that does not exist (stricter: the reference
// only says its capacity is not changed).
func (m *ScalingModel) RegisterScalableTarget(in *aas.RegisterScalableTargetInput) (*aas.RegisterScalableTargetOutput, error) {
	if err := checkTarget(in.ServiceNamespace, in.ResourceId, in.ScalableDimension); err != nil {
		return nil, err
	}
	if in.RoleARN != nil {
		// "This parameter is required for services that do not support
		// service-linked roles (such as Amazon EMR)"; ECS does: the
		// control plane never passes a role.
		return nil, violation("ValidationException", "RoleARN is not expected for ECS (the service-linked role is used)")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	id := deref(in.ResourceId)
	t := m.targets[id]
	if t == nil && (in.MinCapacity == nil || in.MaxCapacity == nil) {
		return nil, violation("ValidationException", "MinCapacity and MaxCapacity are required when registering a new scalable target")
	}
	minC, maxC := in.MinCapacity, in.MaxCapacity
	if t != nil {
		if minC == nil {
			minC = t.MinCapacity
		}
		if maxC == nil {
			maxC = t.MaxCapacity
		}
	}
	switch {
	case deref(minC) < 0:
		return nil, violation("ValidationException", "MinCapacity must be 0 or more, got %d", deref(minC))
	case deref(minC) > deref(maxC):
		return nil, violation("ValidationException", "Minimum capacity cannot be greater than maximum capacity (%d > %d)", deref(minC), deref(maxC))
	}
	if t == nil {
		if m.Capacity != nil {
			if _, ok := m.Capacity(id); !ok {
				return nil, violation("ValidationException", "ECS service doesn't exist: %s", id)
			}
		}
		m.seq++
		t = &aastypes.ScalableTarget{ResourceId: ptr(id), ServiceNamespace: in.ServiceNamespace, ScalableDimension: in.ScalableDimension,
			ScalableTargetARN: ptr(fmt.Sprintf("arn:aws:application-autoscaling:%s:%s:scalable-target/%04x", m.Region, m.Account, m.seq)),
			CreationTime:      ptr(m.now())}
		m.targets[id] = t
	}
	t.MinCapacity, t.MaxCapacity = ptr(deref(minC)), ptr(deref(maxC))
	if m.Capacity != nil && m.SetCapacity != nil {
		if n, ok := m.Capacity(id); ok {
			switch {
			case n < deref(minC):
				m.SetCapacity(id, deref(minC))
			case n > deref(maxC):
				m.SetCapacity(id, deref(maxC))
			}
		}
	}
	return &aas.RegisterScalableTargetOutput{ScalableTargetARN: t.ScalableTargetARN}, nil
}

// DeregisterScalableTarget: "Deregistering a scalable target deletes the
// scaling policies and the scheduled actions that are associated with it."
// An unknown target is ObjectNotFoundException ("The specified object
// could not be found.").
func (m *ScalingModel) DeregisterScalableTarget(in *aas.DeregisterScalableTargetInput) (*aas.DeregisterScalableTargetOutput, error) {
	if err := checkTarget(in.ServiceNamespace, in.ResourceId, in.ScalableDimension); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	id := deref(in.ResourceId)
	if m.targets[id] == nil {
		return nil, violation("ObjectNotFoundException", "No scalable target registered for %s", id)
	}
	delete(m.targets, id)
	delete(m.policies, id)
	return &aas.DeregisterScalableTargetOutput{}, nil
}

// PutScalingPolicy: "Creates or updates a scaling policy for an
// Application Auto Scaling scalable target." "You cannot create a scaling
// policy until you have registered the resource as a scalable target."
// (ObjectNotFoundException). PolicyName: "Length Constraints: Minimum
// length of 1. Maximum length of 256." TargetTrackingScalingPolicy-
// Configuration TargetValue: "Required: Yes"; ResourceLabel: "You can't
// specify a resource label unless the metric type is
// ALBRequestCountPerTarget and there is a target group attached to the
// Spot Fleet or ECS service." The model also requires the label for
// ALBRequestCountPerTarget (stricter) and knows the two ECS metrics only.
func (m *ScalingModel) PutScalingPolicy(in *aas.PutScalingPolicyInput) (*aas.PutScalingPolicyOutput, error) {
	if err := checkTarget(in.ServiceNamespace, in.ResourceId, in.ScalableDimension); err != nil {
		return nil, err
	}
	name := deref(in.PolicyName)
	if len(name) < 1 || len(name) > 256 {
		return nil, violation("ValidationException", "PolicyName must be 1 to 256 characters, got %d", len(name))
	}
	if in.PolicyType != aastypes.PolicyTypeTargetTrackingScaling {
		return nil, violation("ValidationException", "the model knows TargetTrackingScaling only, got %q", in.PolicyType)
	}
	c := in.TargetTrackingScalingPolicyConfiguration
	if c == nil || c.TargetValue == nil {
		return nil, violation("ValidationException", "TargetTrackingScalingPolicyConfiguration.TargetValue is required")
	}
	if *c.TargetValue <= 0 {
		return nil, violation("ValidationException", "TargetValue must be positive, got %v", *c.TargetValue)
	}
	spec := c.PredefinedMetricSpecification
	if spec == nil {
		return nil, violation("ValidationException", "PredefinedMetricSpecification is required (the model knows no customized metric)")
	}
	switch spec.PredefinedMetricType {
	case aastypes.MetricTypeECSServiceAverageCPUUtilization, aastypes.MetricTypeECSServiceAverageMemoryUtilization:
		if spec.ResourceLabel != nil {
			return nil, violation("ValidationException", "a resource label is only valid with ALBRequestCountPerTarget")
		}
	case aastypes.MetricTypeALBRequestCountPerTarget:
		l := deref(spec.ResourceLabel)
		// "app/<load-balancer-name>/<load-balancer-id>/targetgroup/<target-group-name>/<target-group-id>"
		if p := strings.Split(l, "/"); len(p) != 6 || p[0] != "app" || p[3] != "targetgroup" {
			return nil, violation("ValidationException", "ResourceLabel must be app/<lb-name>/<lb-id>/targetgroup/<tg-name>/<tg-id>, got %q", l)
		}
	default:
		return nil, violation("ValidationException", "PredefinedMetricType %q is not an ECS metric", spec.PredefinedMetricType)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	id := deref(in.ResourceId)
	if m.targets[id] == nil {
		return nil, violation("ObjectNotFoundException", "No scalable target registered for service namespace: ecs, resource ID: %s, scalable dimension: ecs:service:DesiredCount", id)
	}
	if m.policies[id] == nil {
		m.policies[id] = map[string]*aastypes.ScalingPolicy{}
	}
	p := m.policies[id][name]
	if p == nil {
		m.seq++
		p = &aastypes.ScalingPolicy{PolicyName: ptr(name), ResourceId: ptr(id), ServiceNamespace: in.ServiceNamespace,
			ScalableDimension: in.ScalableDimension, CreationTime: ptr(m.now()),
			PolicyARN: ptr(fmt.Sprintf("arn:aws:autoscaling:%s:%s:scalingPolicy:%04x:resource/ecs/%s:policyName/%s", m.Region, m.Account, m.seq, id, name))}
		m.policies[id][name] = p
	}
	cp := *c
	spc := *spec
	cp.PredefinedMetricSpecification = &spc
	p.PolicyType, p.TargetTrackingScalingPolicyConfiguration = in.PolicyType, &cp
	return &aas.PutScalingPolicyOutput{PolicyARN: p.PolicyARN}, nil
}

// DescribeScalableTargets: ServiceNamespace "Required: Yes"; ResourceIds
// "Array Members: Maximum number of 50 items." (the model: stricter than
// unclear pagination rules, MaxResults 1-50).
func (m *ScalingModel) DescribeScalableTargets(in *aas.DescribeScalableTargetsInput) (*aas.DescribeScalableTargetsOutput, error) {
	if in.ServiceNamespace != aastypes.ServiceNamespaceEcs {
		return nil, violation("ValidationException", "ServiceNamespace must be ecs, got %q", in.ServiceNamespace)
	}
	if len(in.ResourceIds) > 50 {
		return nil, violation("ValidationException", "ResourceIds has at most 50 items, got %d", len(in.ResourceIds))
	}
	if in.MaxResults != nil && (*in.MaxResults < 1 || *in.MaxResults > 50) {
		return nil, violation("ValidationException", "MaxResults must be 1 to 50")
	}
	for _, id := range in.ResourceIds {
		if err := checkResourceID(id); err != nil {
			return nil, err
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []aastypes.ScalableTarget
	for _, id := range m.sortedTargets() {
		if len(in.ResourceIds) > 0 && !contains(in.ResourceIds, id) {
			continue
		}
		if in.ScalableDimension != "" && in.ScalableDimension != m.targets[id].ScalableDimension {
			continue
		}
		out = append(out, *m.targets[id])
	}
	return &aas.DescribeScalableTargetsOutput{ScalableTargets: out}, nil
}

// DescribeScalingPolicies: ServiceNamespace "Required: Yes"; PolicyNames
// "Array Members: Maximum number of 50 items."; "If you specify a
// scalable dimension, you must also specify a resource ID."
func (m *ScalingModel) DescribeScalingPolicies(in *aas.DescribeScalingPoliciesInput) (*aas.DescribeScalingPoliciesOutput, error) {
	if in.ServiceNamespace != aastypes.ServiceNamespaceEcs {
		return nil, violation("ValidationException", "ServiceNamespace must be ecs, got %q", in.ServiceNamespace)
	}
	if len(in.PolicyNames) > 50 {
		return nil, violation("ValidationException", "PolicyNames has at most 50 items, got %d", len(in.PolicyNames))
	}
	if in.ScalableDimension != "" && in.ResourceId == nil {
		return nil, violation("ValidationException", "a scalable dimension needs a resource ID")
	}
	if in.ResourceId != nil {
		if err := checkResourceID(*in.ResourceId); err != nil {
			return nil, err
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []aastypes.ScalingPolicy
	for _, id := range m.sortedTargets() {
		if in.ResourceId != nil && *in.ResourceId != id {
			continue
		}
		names := make([]string, 0, len(m.policies[id]))
		for n := range m.policies[id] {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			if len(in.PolicyNames) > 0 && !contains(in.PolicyNames, n) {
				continue
			}
			out = append(out, *m.policies[id][n])
		}
	}
	return &aas.DescribeScalingPoliciesOutput{ScalingPolicies: out}, nil
}

// Target returns the registered target of a resource ID (nil: none), a
// copy, for tests and the simulator's invariants.
func (m *ScalingModel) Target(resourceID string) *aastypes.ScalableTarget {
	m.mu.Lock()
	defer m.mu.Unlock()
	if t := m.targets[resourceID]; t != nil {
		cp := *t
		return &cp
	}
	return nil
}

// Policies returns the policies of a resource ID, by name.
func (m *ScalingModel) Policies(resourceID string) map[string]aastypes.ScalingPolicy {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]aastypes.ScalingPolicy{}
	for n, p := range m.policies[resourceID] {
		out[n] = *p
	}
	return out
}

func (m *ScalingModel) sortedTargets() []string {
	ids := make([]string, 0, len(m.targets))
	for id := range m.targets {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
