package awsfake

import (
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/wharf-paas/wharf/controlplane/internal/awsmodel"
)

// Deployment statuses.
const (
	deploymentPrimary = "PRIMARY"
	deploymentActive  = "ACTIVE"
)

func serviceKey(cluster, name string) string { return cluster + "/" + name }

func serviceName(nameOrARN string) string {
	if i := strings.Index(nameOrARN, ":service/"); i >= 0 {
		return lastSegment(nameOrARN)
	}
	return nameOrARN
}

func (s *Server) newDeployment(svc *types.Service, taskDef string) types.Deployment {
	now := s.now()
	id := fmt.Sprintf("ecs-svc/%019d", 1000000000000000000+s.nextSeq())
	return types.Deployment{
		Id:                   aws.String(id),
		Status:               aws.String(deploymentPrimary),
		TaskDefinition:       aws.String(taskDef),
		DesiredCount:         svc.DesiredCount,
		LaunchType:           svc.LaunchType,
		NetworkConfiguration: svc.NetworkConfiguration,
		RolloutState:         types.DeploymentRolloutStateInProgress,
		RolloutStateReason:   aws.String(fmt.Sprintf("ECS deployment %s in progress.", id)),
		CreatedAt:            &now,
		UpdatedAt:            &now,
		PlatformVersion:      svc.PlatformVersion,
	}
}

func (s *Server) createService(in *ecs.CreateServiceInput) (*ecs.CreateServiceOutput, *APIError) {
	cname, clusterARN, e := s.resolveCluster(in.Cluster)
	if e != nil {
		return nil, e
	}
	if err := awsmodel.ValidateCreateService(in, nil); err != nil {
		return nil, modelErr(err)
	}
	name := aws.ToString(in.ServiceName)
	token := aws.ToString(in.ClientToken)
	fp := func() string { c := *in; c.ClientToken = nil; return fingerprint(&c) }()
	key := serviceKey(cname, name)
	if rec, ok := s.ecs.services[key]; ok && aws.ToString(rec.svc.Status) != StatusInactive {
		if token != "" && rec.clientToken == token && rec.fingerprint == fp {
			return &ecs.CreateServiceOutput{Service: &rec.svc}, nil
		}
		return nil, apiErr(InvalidParameterError("Creation of service was not idempotent."))
	}
	td := s.lookupTaskDef(aws.ToString(in.TaskDefinition))
	if td == nil {
		return nil, apiErr(ClientError("TaskDefinition not found."))
	}
	if err := awsmodel.ValidateCreateService(in, &td.td); err != nil {
		return nil, modelErr(err)
	}
	cfg := awsmodel.NewServiceConfig(in, aws.ToString(td.td.TaskDefinitionArn))
	now := s.now()
	desired := aws.ToInt32(in.DesiredCount)
	svc := types.Service{
		ServiceArn:                    aws.String(fmt.Sprintf("arn:aws:ecs:%s:%s:service/%s/%s", s.region, s.account, cname, name)),
		ServiceName:                   aws.String(name),
		ClusterArn:                    aws.String(clusterARN),
		Status:                        aws.String(StatusActive),
		DesiredCount:                  desired,
		LaunchType:                    in.LaunchType,
		TaskDefinition:                td.td.TaskDefinitionArn,
		LoadBalancers:                 in.LoadBalancers,
		NetworkConfiguration:          in.NetworkConfiguration,
		DeploymentConfiguration:       in.DeploymentConfiguration,
		HealthCheckGracePeriodSeconds: in.HealthCheckGracePeriodSeconds,
		SchedulingStrategy:            types.SchedulingStrategyReplica,
		DeploymentController:          &types.DeploymentController{Type: types.DeploymentControllerTypeEcs},
		PropagateTags:                 in.PropagateTags,
		EnableECSManagedTags:          in.EnableECSManagedTags,
		EnableExecuteCommand:          in.EnableExecuteCommand,
		Tags:                          in.Tags,
		CreatedAt:                     &now,
		CreatedBy:                     aws.String(fmt.Sprintf("arn:aws:iam::%s:role/caller", s.account)),
		Events:                        []types.ServiceEvent{},
	}
	if in.LaunchType == types.LaunchTypeFargate {
		svc.PlatformVersion = aws.String("LATEST")
		svc.PlatformFamily = aws.String("Linux")
	}
	if svc.DeploymentConfiguration == nil {
		svc.DeploymentConfiguration = &types.DeploymentConfiguration{
			MaximumPercent:           aws.Int32(200),
			MinimumHealthyPercent:    aws.Int32(100),
			DeploymentCircuitBreaker: &types.DeploymentCircuitBreaker{Enable: false, Rollback: false},
		}
	}
	cfg.Describe(&svc)
	svc.Deployments = []types.Deployment{s.newDeployment(&svc, *td.td.TaskDefinitionArn)}
	rec := &serviceRecord{svc: svc, cfg: cfg, clientToken: token, fingerprint: fp}
	if _, existed := s.ecs.services[key]; !existed {
		s.ecs.svcOrder = append(s.ecs.svcOrder, key)
	}
	s.ecs.services[key] = rec
	return &ecs.CreateServiceOutput{Service: &rec.svc}, nil
}

func (s *Server) findService(cname, ref string) *serviceRecord {
	return s.ecs.services[serviceKey(cname, serviceName(ref))]
}

func (s *Server) updateService(in *ecs.UpdateServiceInput) (*ecs.UpdateServiceOutput, *APIError) {
	cname, _, e := s.resolveCluster(in.Cluster)
	if e != nil {
		return nil, e
	}
	rec := s.findService(cname, aws.ToString(in.Service))
	if rec == nil {
		return nil, apiErr(ServiceNotFoundError())
	}
	if aws.ToString(rec.svc.Status) != StatusActive {
		return nil, apiErr(ServiceNotActiveError())
	}
	svc := &rec.svc
	taskDef := aws.ToString(svc.TaskDefinition)
	td := s.lookupTaskDef(taskDef)
	if in.TaskDefinition != nil {
		td = s.lookupTaskDef(*in.TaskDefinition)
		if td == nil {
			return nil, apiErr(ClientError("TaskDefinition not found."))
		}
	}
	var tdef *types.TaskDefinition
	if td != nil {
		tdef = &td.td
	}
	cfg := rec.cfg
	cfg.TaskDefinition = taskDef // a circuit-breaker rollback may have moved it
	res, err := awsmodel.ApplyUpdateService(&cfg, in, tdef)
	if err != nil {
		return nil, modelErr(err)
	}
	rec.cfg = cfg
	taskDef = cfg.TaskDefinition
	newDeployment := res.NewDeployment
	cur := svc.TaskDefinition
	cfg.Describe(svc)
	svc.TaskDefinition = cur
	if in.DesiredCount != nil {
		for i := range svc.Deployments {
			if aws.ToString(svc.Deployments[i].Status) == deploymentPrimary {
				svc.Deployments[i].DesiredCount = *in.DesiredCount
			}
		}
	}
	if newDeployment {
		svc.TaskDefinition = aws.String(taskDef)
		for i := range svc.Deployments {
			if aws.ToString(svc.Deployments[i].Status) == deploymentPrimary {
				svc.Deployments[i].Status = aws.String(deploymentActive)
			}
		}
		svc.Deployments = append([]types.Deployment{s.newDeployment(svc, taskDef)}, svc.Deployments...)
	}
	return &ecs.UpdateServiceOutput{Service: svc}, nil
}

func (s *Server) deleteService(in *ecs.DeleteServiceInput) (*ecs.DeleteServiceOutput, *APIError) {
	if err := awsmodel.ValidateDeleteService(in); err != nil {
		return nil, modelErr(err)
	}
	cname, _, e := s.resolveCluster(in.Cluster)
	if e != nil {
		return nil, e
	}
	rec := s.findService(cname, aws.ToString(in.Service))
	if rec == nil {
		return nil, apiErr(ServiceNotFoundError())
	}
	if aws.ToString(rec.svc.Status) != StatusActive {
		return nil, apiErr(ServiceNotActiveError())
	}
	if rec.svc.DesiredCount > 0 && !aws.ToBool(in.Force) {
		return nil, apiErr(InvalidParameterError("The service cannot be stopped while it is scaled above 0."))
	}
	rec.svc.Status = aws.String(StatusDraining)
	rec.svc.DesiredCount = 0
	rec.cfg.DesiredCount = 0
	return &ecs.DeleteServiceOutput{Service: &rec.svc}, nil
}

func (s *Server) describeServices(in *ecs.DescribeServicesInput) (*ecs.DescribeServicesOutput, *APIError) {
	cname, _, e := s.resolveCluster(in.Cluster)
	if e != nil {
		return nil, e
	}
	if err := awsmodel.ValidateDescribeServices(in); err != nil {
		return nil, modelErr(err)
	}
	out := &ecs.DescribeServicesOutput{Services: []types.Service{}, Failures: []types.Failure{}}
	for _, ref := range in.Services {
		rec := s.findService(cname, ref)
		if rec == nil {
			out.Failures = append(out.Failures, types.Failure{
				Arn:    aws.String(fmt.Sprintf("arn:aws:ecs:%s:%s:service/%s/%s", s.region, s.account, cname, serviceName(ref))),
				Reason: aws.String("MISSING"),
			})
			continue
		}
		out.Services = append(out.Services, rec.svc)
	}
	return out, nil
}

func (s *Server) listServices(in *ecs.ListServicesInput) (*ecs.ListServicesOutput, *APIError) {
	cname, _, e := s.resolveCluster(in.Cluster)
	if e != nil {
		return nil, e
	}
	if err := awsmodel.ValidateListServices(in); err != nil {
		return nil, modelErr(err)
	}
	var arns []string
	for _, key := range s.ecs.svcOrder {
		rec := s.ecs.services[key]
		if !strings.HasPrefix(key, cname+"/") || aws.ToString(rec.svc.Status) == StatusInactive {
			continue
		}
		if in.LaunchType != "" && rec.svc.LaunchType != in.LaunchType {
			continue
		}
		if in.SchedulingStrategy != "" && rec.svc.SchedulingStrategy != in.SchedulingStrategy {
			continue
		}
		arns = append(arns, aws.ToString(rec.svc.ServiceArn))
	}
	page, next, err := awsmodel.Page(arns, in.NextToken, in.MaxResults, 10)
	if err != nil {
		return nil, modelErr(err)
	}
	return &ecs.ListServicesOutput{ServiceArns: page, NextToken: next}, nil
}

// Service returns a copy of a service (any status) by cluster and name.
func (s *Server) Service(cluster, name string) (types.Service, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.ecs.services[serviceKey(clusterName(cluster), name)]
	if rec == nil {
		return types.Service{}, false
	}
	return copyService(rec.svc), true
}

// Services returns copies of all services (any status) in creation order.
func (s *Server) Services() []types.Service {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]types.Service, 0, len(s.ecs.svcOrder))
	for _, key := range s.ecs.svcOrder {
		out = append(out, copyService(s.ecs.services[key].svc))
	}
	return out
}

func copyService(svc types.Service) types.Service {
	svc.Deployments = append([]types.Deployment(nil), svc.Deployments...)
	return svc
}

// SetServiceStatus forces a service's status (ACTIVE, DRAINING or
// INACTIVE), e.g. to script a service deleted behind the control plane's
// back.
func (s *Server) SetServiceStatus(cluster, name, status string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.ecs.services[serviceKey(clusterName(cluster), name)]
	if rec == nil {
		return fmt.Errorf("awsfake: no service %s in cluster %s", name, cluster)
	}
	rec.svc.Status = aws.String(status)
	return nil
}

// ForgetService removes a service entirely, as ECS does some time after a
// service became INACTIVE: later calls naming it get
// ServiceNotFoundException and DescribeServices reports it MISSING.
func (s *Server) ForgetService(cluster, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := serviceKey(clusterName(cluster), name)
	if s.ecs.services[key] == nil {
		return fmt.Errorf("awsfake: no service %s in cluster %s", name, cluster)
	}
	delete(s.ecs.services, key)
	s.ecs.svcOrder = slices.DeleteFunc(s.ecs.svcOrder, func(k string) bool { return k == key })
	return nil
}

// CompleteDeployments finishes every in-progress deployment: the PRIMARY
// deployment becomes COMPLETED with runningCount = desiredCount and older
// deployments are removed; DRAINING services become INACTIVE. It returns
// the services that changed.
func (s *Server) CompleteDeployments() []types.Service {
	s.mu.Lock()
	defer s.mu.Unlock()
	var changed []types.Service
	for _, key := range s.ecs.svcOrder {
		svc := &s.ecs.services[key].svc
		switch aws.ToString(svc.Status) {
		case StatusDraining:
			svc.Status = aws.String(StatusInactive)
			svc.RunningCount = 0
			svc.PendingCount = 0
			changed = append(changed, copyService(*svc))
			continue
		case StatusInactive:
			continue
		}
		if len(svc.Deployments) == 0 || svc.Deployments[0].RolloutState != types.DeploymentRolloutStateInProgress {
			continue
		}
		now := s.now()
		d := svc.Deployments[0]
		d.RolloutState = types.DeploymentRolloutStateCompleted
		d.RolloutStateReason = aws.String(fmt.Sprintf("ECS deployment %s completed.", aws.ToString(d.Id)))
		d.RunningCount = d.DesiredCount
		d.PendingCount = 0
		d.UpdatedAt = &now
		svc.Deployments = []types.Deployment{d}
		svc.RunningCount = svc.DesiredCount
		svc.PendingCount = 0
		changed = append(changed, copyService(*svc))
	}
	return changed
}

// FailDeployment marks a service's in-progress PRIMARY deployment FAILED
// with reason, as the deployment circuit breaker does. When the service's
// circuit breaker has rollback enabled and an older deployment exists, a
// new PRIMARY deployment back to the older task definition starts, with
// the reason "ECS deployment circuit breaker: rolling back to deploymentId
// <id>". It returns the service.
func (s *Server) FailDeployment(cluster, name, reason string) (types.Service, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.ecs.services[serviceKey(clusterName(cluster), name)]
	if rec == nil {
		return types.Service{}, fmt.Errorf("awsfake: no service %s in cluster %s", name, cluster)
	}
	svc := &rec.svc
	if len(svc.Deployments) == 0 || svc.Deployments[0].RolloutState != types.DeploymentRolloutStateInProgress {
		return types.Service{}, fmt.Errorf("awsfake: service %s has no deployment in progress", name)
	}
	now := s.now()
	failed := &svc.Deployments[0]
	failed.RolloutState = types.DeploymentRolloutStateFailed
	failed.RolloutStateReason = aws.String(reason)
	failed.UpdatedAt = &now
	failed.FailedTasks++
	cb := svc.DeploymentConfiguration
	if cb != nil && cb.DeploymentCircuitBreaker != nil && cb.DeploymentCircuitBreaker.Rollback && len(svc.Deployments) > 1 {
		prev := svc.Deployments[1]
		failed.Status = aws.String(deploymentActive)
		d := s.newDeployment(svc, aws.ToString(prev.TaskDefinition))
		d.RolloutStateReason = aws.String(fmt.Sprintf("ECS deployment circuit breaker: rolling back to deploymentId %s.", aws.ToString(prev.Id)))
		svc.TaskDefinition = prev.TaskDefinition
		svc.Deployments = append([]types.Deployment{d}, svc.Deployments...)
	}
	return copyService(*svc), nil
}
