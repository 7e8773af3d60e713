package controlplane

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	aas "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	aastypes "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"

	"github.com/wharf-paas/wharf/contract"
)

// AutoScalingAPI is the subset of the Application Auto Scaling client the
// control plane uses for autoscaled processes (a scale setting with a
// range): one scalable target (ecs:service:DesiredCount) and one
// target-tracking policy per autoscaled service.
type AutoScalingAPI interface {
	RegisterScalableTarget(ctx context.Context, in *aas.RegisterScalableTargetInput, optFns ...func(*aas.Options)) (*aas.RegisterScalableTargetOutput, error)
	DeregisterScalableTarget(ctx context.Context, in *aas.DeregisterScalableTargetInput, optFns ...func(*aas.Options)) (*aas.DeregisterScalableTargetOutput, error)
	PutScalingPolicy(ctx context.Context, in *aas.PutScalingPolicyInput, optFns ...func(*aas.Options)) (*aas.PutScalingPolicyOutput, error)
	DescribeScalableTargets(ctx context.Context, in *aas.DescribeScalableTargetsInput, optFns ...func(*aas.Options)) (*aas.DescribeScalableTargetsOutput, error)
	DescribeScalingPolicies(ctx context.Context, in *aas.DescribeScalingPoliciesInput, optFns ...func(*aas.Options)) (*aas.DescribeScalingPoliciesOutput, error)
}

// Application Auto Scaling actions.
const (
	ActRegisterScalableTarget   ActionKind = "RegisterScalableTarget"
	ActPutScalingPolicy         ActionKind = "PutScalingPolicy"
	ActDeregisterScalableTarget ActionKind = "DeregisterScalableTarget"
)

// scalingObservation is a service's scalable target and the control
// plane's policy on it (nil: none).
type scalingObservation struct {
	Target *aastypes.ScalableTarget
	Policy *aastypes.ScalingPolicy
}

// clusterName is the name in a cluster ARN (arn:...:cluster/<name>).
func clusterName(arn string) string {
	if i := strings.LastIndex(arn, "/"); i >= 0 {
		return arn[i+1:]
	}
	return arn
}

func (d *decider) scalableResource(set *contract.Settings, proc string) string {
	return contract.ScalableResourceID(clusterName(set.ClusterARN), d.family(proc))
}

// scalingProcs lists the process types whose scalable targets the control
// plane must look at when op ends: those op autoscales and those the
// deployed build autoscaled (their targets are deregistered when the range
// is cleared or the process removed), and, when the deployed scale is
// unknown (an adopted app: recorded as deployed with an unknown scale, or
// adopted without a deployment, whose first deploy this is), every process
// of the build and of the services: a scalable target the lost state knew
// of is found and deregistered when the effective scale has no range.
// Apps that never autoscale cost no Application Auto Scaling call (but the
// first deploy after a state loss).
func (d *decider) scalingProcs(op *Operation) []string {
	set := map[string]bool{}
	dep := d.st.Deployed
	if (dep != nil && dep.ScaleHash == scaleUnknown) || (dep == nil && d.st.Adopted != nil) {
		for p := range op.Metadata.Processes {
			set[p] = true
		}
		for _, p := range d.st.Services {
			set[p] = true
		}
	}
	add := func(sc *contract.ScaleSetting) {
		if sc == nil {
			return
		}
		for name, p := range sc.Processes {
			if p.Autoscaled() {
				set[name] = true
			}
		}
	}
	add(op.Scale)
	if run := d.st.running(); run != nil {
		add(run.Scale)
	}
	if !d.pol.CanAutoscale {
		return nil
	}
	return sortedKeys(set)
}

// scaleAligned reports whether the deployed build's services already run
// the effective scale of sc (counts, and scalable targets when the app
// has Application Auto Scaling): an adopted app whose scale is unknown
// needs no operation then. ok is false when it needs observations.
func (d *decider) scaleAligned(set *contract.Settings, sc *contract.ScaleSetting) (aligned, ok bool) {
	dep := d.st.Deployed
	procs := sortedKeys(dep.Metadata.Processes)
	if missing := d.obs.missingServices(procs); len(missing) > 0 {
		d.need(Need{Services: missing})
		return false, false
	}
	all := map[string]bool{}
	for _, p := range procs {
		all[p] = true
	}
	for _, p := range d.st.Services {
		all[p] = true
	}
	if d.pol.CanAutoscale && !d.obs.ScalingSeen {
		d.need(Need{Scaling: sortedKeys(all)})
		return false, false
	}
	for _, p := range sortedKeys(all) {
		t := d.obs.Scaling[p].Target
		proc, declared := dep.Metadata.Processes[p]
		if !declared {
			if t != nil {
				return false, true
			}
			continue
		}
		e := effectiveScale(proc, sc, p)
		s := d.obs.Services[p]
		switch {
		case s == nil:
			return false, true
		case e.Autoscaled && (t == nil || aws.ToInt32(t.MinCapacity) != e.Min || aws.ToInt32(t.MaxCapacity) != e.Max):
			return false, true
		case !e.Autoscaled && (t != nil || s.DesiredCount != e.Count):
			return false, true
		}
	}
	return true, true
}

// scalingActions aligns Application Auto Scaling with op's effective
// scale: a registered target with the range and a target-tracking policy
// for each autoscaled process, and no target for any other process the
// control plane autoscaled before. ok is false when it needs the targets
// observed first.
func (d *decider) scalingActions(set *contract.Settings, op *Operation) ([]Action, bool) {
	procs := d.scalingProcs(op)
	if len(procs) == 0 {
		return nil, true
	}
	if !d.obs.ScalingSeen {
		d.need(Need{Scaling: procs})
		return nil, false
	}
	var acts []Action
	for _, proc := range procs {
		res := d.scalableResource(set, proc)
		cur := d.obs.Scaling[proc]
		p, declared := op.Metadata.Processes[proc]
		e := effectiveScale(p, op.Scale, proc)
		if !declared || !e.Autoscaled {
			if cur.Target != nil {
				// "Deregistering a scalable target deletes the scaling
				// policies that are associated with it."
				acts = append(acts, Action{Kind: ActDeregisterScalableTarget, Proc: proc,
					DeregisterTarget: &aas.DeregisterScalableTargetInput{
						ServiceNamespace: aastypes.ServiceNamespaceEcs, ResourceId: aws.String(res),
						ScalableDimension: aastypes.ScalableDimensionECSServiceDesiredCount}})
				if declared {
					// Until the target is gone the autoscaler may still
					// move the count (after the services step compared
					// it): once it is, the effective count is set, in
					// place (a desired count alone starts no deployment).
					acts = append(acts, Action{Kind: ActUpdateService, Proc: proc, Tolerant: true,
						UpdateService: serviceSpec{DesiredCount: e.Count}.updateInput(set.ClusterARN, d.family(proc), []string{fieldDesiredCount})})
				}
			}
			continue
		}
		if t := cur.Target; t == nil || aws.ToInt32(t.MinCapacity) != e.Min || aws.ToInt32(t.MaxCapacity) != e.Max {
			acts = append(acts, Action{Kind: ActRegisterScalableTarget, Proc: proc,
				RegisterTarget: &aas.RegisterScalableTargetInput{
					ServiceNamespace: aastypes.ServiceNamespaceEcs, ResourceId: aws.String(res),
					ScalableDimension: aastypes.ScalableDimensionECSServiceDesiredCount,
					MinCapacity:       aws.Int32(e.Min), MaxCapacity: aws.Int32(e.Max)}})
		}
		want := d.policyInput(set, proc, res, e)
		if want == nil {
			continue
		}
		if cur.Policy == nil || !samePolicy(cur.Policy, want) {
			acts = append(acts, Action{Kind: ActPutScalingPolicy, Proc: proc, PutPolicy: want})
		}
	}
	return acts, true
}

// policyInput is the target-tracking policy of an autoscaled process:
// average CPU, or (web, with requestsPerTarget) ALB requests per target.
// nil when the request count has no resource label in the settings (the
// target is registered, the policy is not; noted).
func (d *decider) policyInput(set *contract.Settings, proc, res string, e procScale) *aas.PutScalingPolicyInput {
	spec := &aastypes.PredefinedMetricSpecification{PredefinedMetricType: aastypes.MetricTypeECSServiceAverageCPUUtilization}
	target := float64(e.CPUTarget)
	if e.ReqTarget > 0 {
		if set.RequestCountLabel == "" {
			d.note(slog.LevelWarn, "requestsPerTarget needs requestCountLabel in the app settings; no policy put", "process", proc)
			return nil
		}
		spec = &aastypes.PredefinedMetricSpecification{PredefinedMetricType: aastypes.MetricTypeALBRequestCountPerTarget,
			ResourceLabel: aws.String(set.RequestCountLabel)}
		target = float64(e.ReqTarget)
	}
	return &aas.PutScalingPolicyInput{
		PolicyName:        aws.String(contract.Names{Prefix: d.pol.Prefix}.ScalingPolicyName(d.pol.App, proc)),
		ServiceNamespace:  aastypes.ServiceNamespaceEcs,
		ResourceId:        aws.String(res),
		ScalableDimension: aastypes.ScalableDimensionECSServiceDesiredCount,
		PolicyType:        aastypes.PolicyTypeTargetTrackingScaling,
		TargetTrackingScalingPolicyConfiguration: &aastypes.TargetTrackingScalingPolicyConfiguration{
			TargetValue: aws.Float64(target), PredefinedMetricSpecification: spec,
		},
	}
}

// samePolicy compares an observed policy with the wanted one on what the
// control plane sets.
func samePolicy(p *aastypes.ScalingPolicy, want *aas.PutScalingPolicyInput) bool {
	c, w := p.TargetTrackingScalingPolicyConfiguration, want.TargetTrackingScalingPolicyConfiguration
	if p.PolicyType != want.PolicyType || c == nil || c.PredefinedMetricSpecification == nil {
		return false
	}
	return aws.ToFloat64(c.TargetValue) == aws.ToFloat64(w.TargetValue) &&
		c.PredefinedMetricSpecification.PredefinedMetricType == w.PredefinedMetricSpecification.PredefinedMetricType &&
		aws.ToString(c.PredefinedMetricSpecification.ResourceLabel) == aws.ToString(w.PredefinedMetricSpecification.ResourceLabel)
}

// describeScaling reads the scalable targets of procs' services and the
// control plane's policy on each.
func (r *run) describeScaling(ctx context.Context, set *contract.Settings, procs []string) (map[string]scalingObservation, error) {
	out := map[string]scalingObservation{}
	byRes := map[string]string{}
	var ids []string
	names := contract.Names{Prefix: r.c.reg.Prefix}
	for _, p := range procs {
		id := contract.ScalableResourceID(clusterName(set.ClusterARN), names.Family(r.reg.Name, p))
		byRes[id] = p
		ids = append(ids, id)
		out[p] = scalingObservation{}
	}
	r.awsTouched = true
	in := &aas.DescribeScalableTargetsInput{ServiceNamespace: aastypes.ServiceNamespaceEcs, ResourceIds: ids,
		ScalableDimension: aastypes.ScalableDimensionECSServiceDesiredCount}
	for page := 0; ; page++ {
		if page > 10 {
			return nil, fmt.Errorf("application-autoscaling DescribeScalableTargets: more than 10 pages")
		}
		res, err := r.cl.AutoScaling.DescribeScalableTargets(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("application-autoscaling DescribeScalableTargets: %w", err)
		}
		for i := range res.ScalableTargets {
			t := res.ScalableTargets[i]
			if p, ok := byRes[aws.ToString(t.ResourceId)]; ok {
				out[p] = scalingObservation{Target: &t}
			}
		}
		if aws.ToString(res.NextToken) == "" {
			break
		}
		in.NextToken = res.NextToken
	}
	for _, p := range procs {
		o := out[p]
		if o.Target == nil {
			continue
		}
		name := names.ScalingPolicyName(r.reg.Name, p)
		res, err := r.cl.AutoScaling.DescribeScalingPolicies(ctx, &aas.DescribeScalingPoliciesInput{
			ServiceNamespace: aastypes.ServiceNamespaceEcs, ResourceId: o.Target.ResourceId,
			ScalableDimension: aastypes.ScalableDimensionECSServiceDesiredCount, PolicyNames: []string{name}})
		if err != nil {
			return nil, fmt.Errorf("application-autoscaling DescribeScalingPolicies %s: %w", name, err)
		}
		for i := range res.ScalingPolicies {
			if aws.ToString(res.ScalingPolicies[i].PolicyName) == name {
				pol := res.ScalingPolicies[i]
				o.Policy = &pol
			}
		}
		out[p] = o
	}
	return out, nil
}

// actScaling carries out an Application Auto Scaling action. A
// ValidationException is the request's fault for good: the deploy's
// outcome reason (the services run the build all the same).
func (r *run) actScaling(ctx context.Context, a Action) error {
	c := r.cl.AutoScaling
	var err error
	var what string
	switch a.Kind {
	case ActRegisterScalableTarget:
		what = "RegisterScalableTarget " + aws.ToString(a.RegisterTarget.ResourceId)
		_, err = c.RegisterScalableTarget(ctx, a.RegisterTarget)
	case ActPutScalingPolicy:
		what = "PutScalingPolicy " + aws.ToString(a.PutPolicy.PolicyName)
		_, err = c.PutScalingPolicy(ctx, a.PutPolicy)
	case ActDeregisterScalableTarget:
		what = "DeregisterScalableTarget " + aws.ToString(a.DeregisterTarget.ResourceId)
		_, err = c.DeregisterScalableTarget(ctx, a.DeregisterTarget)
		if apiCode(err) == "ObjectNotFoundException" {
			err = nil
		}
	}
	if err != nil {
		if apiCode(err) == "ValidationException" {
			return permanent(ReasonScalingRejected, "application-autoscaling %s: %v", what, err)
		}
		return fmt.Errorf("application-autoscaling %s: %w", what, err)
	}
	r.log.Info("autoscaling aligned", "call", what)
	return nil
}
