package sim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/codebuild"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/wharf-paas/wharf/contract"
)

// naive is a deliberately wrong control plane: on every successful build
// event it starts the release task without waiting for it and deploys the
// build straight to the services, without ordering and without dedupe.
// The oracle must catch it.
type naive struct {
	w   *World
	reg contract.Registry
}

func naiveFactory(w *World) (*Target, error) {
	return &Target{Handler: &naive{w: w, reg: w.Registry()}, View: staleView{}}, nil
}

// staleView is a store that never moved past build 1.
type staleView struct{}

func (staleView) AppState(string) (AppState, bool, error) {
	return AppState{Phase: "deployed", Build: 1, DeployedBuild: 1}, true, nil
}

func (staleView) BuildOutcome(string, int64) (string, string, bool, error) {
	return "", "", false, nil
}

func (n *naive) Handle(ctx context.Context, ev events.CloudWatchEvent) error {
	if ev.DetailType != "CodeBuild Build State Change" {
		return nil
	}
	var d struct {
		Status  string `json:"build-status"`
		BuildID string `json:"build-id"`
		Project string `json:"project-name"`
	}
	if err := json.Unmarshal(ev.Detail, &d); err != nil {
		return err
	}
	if d.Status != "SUCCEEDED" {
		return nil
	}
	name := strings.TrimPrefix(d.Project, Prefix+"-")
	var reg contract.AppRegistration
	for _, a := range n.reg.Apps {
		if a.Name == name {
			reg = a
		}
	}
	cl, err := n.w.Provider().ForApp(ctx, reg)
	if err != nil {
		return err
	}
	out, err := cl.CodeBuild.BatchGetBuilds(ctx, &codebuild.BatchGetBuildsInput{Ids: []string{d.BuildID}})
	if err != nil {
		return err
	}
	loc := strings.TrimPrefix(*out.Builds[0].Artifacts.Location, "arn:aws:s3:::")
	bucket, path, _ := strings.Cut(loc, "/")
	obj, err := cl.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: ptr(path + "/wharf-build.json")})
	if err != nil {
		return err
	}
	raw, _ := io.ReadAll(obj.Body)
	var m BuildMetadata
	if err := json.Unmarshal(raw, &m); err != nil {
		return err
	}
	p, err := cl.SSM.GetParameter(ctx, &ssm.GetParameterInput{Name: ptr(fmt.Sprintf("/%s/apps/%s/settings", Prefix, name))})
	if err != nil {
		return err
	}
	var s Settings
	if err := json.Unmarshal([]byte(*p.Parameter.Value), &s); err != nil {
		return err
	}
	net := &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{Subnets: s.Subnets, SecurityGroups: s.SecurityGroups}}
	if m.ReleaseCommand != "" {
		// Fire and forget: no waiting for the release, no ordering.
		family := fmt.Sprintf("%s-%s_release", Prefix, name)
		td, err := cl.ECS.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
			Family: &family, NetworkMode: ecstypes.NetworkModeAwsvpc,
			RequiresCompatibilities: []ecstypes.Compatibility{ecstypes.CompatibilityFargate},
			Cpu:                     ptr("256"), Memory: ptr("512"),
			ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: ptr("release"), Image: ptr(m.Image)}},
		})
		if err != nil {
			return err
		}
		if _, err := cl.ECS.RunTask(ctx, &ecs.RunTaskInput{Cluster: &s.ClusterARN, TaskDefinition: td.TaskDefinition.TaskDefinitionArn, NetworkConfiguration: net}); err != nil {
			return err
		}
	}
	for _, proc := range processNames(m.Processes) {
		family := fmt.Sprintf("%s-%s_%s", Prefix, name, proc)
		td, err := cl.ECS.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
			Family:                  &family,
			NetworkMode:             ecstypes.NetworkModeAwsvpc,
			RequiresCompatibilities: []ecstypes.Compatibility{ecstypes.CompatibilityFargate},
			Cpu:                     ptr("256"), Memory: ptr("512"),
			ContainerDefinitions: []ecstypes.ContainerDefinition{{
				Name: ptr(proc), Image: ptr(m.Image),
				PortMappings: []ecstypes.PortMapping{{ContainerPort: ptr(int32(s.ContainerPort))}},
			}},
		})
		if err != nil {
			return err
		}
		count := m.Processes[proc].DesiredCount()
		_, err = cl.ECS.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: &s.ClusterARN, Service: &family, TaskDefinition: td.TaskDefinition.TaskDefinitionArn, DesiredCount: &count})
		var nf *ecstypes.ServiceNotFoundException
		if errors.As(err, &nf) {
			_, err = cl.ECS.CreateService(ctx, &ecs.CreateServiceInput{
				Cluster: &s.ClusterARN, ServiceName: &family, TaskDefinition: td.TaskDefinition.TaskDefinitionArn,
				DesiredCount: &count, NetworkConfiguration: net, LaunchType: ecstypes.LaunchTypeFargate,
				DeploymentConfiguration: &ecstypes.DeploymentConfiguration{DeploymentCircuitBreaker: &ecstypes.DeploymentCircuitBreaker{Enable: true, Rollback: true}},
			})
		}
		if err != nil {
			return err
		}
	}
	// Remove the services the build no longer declares, release or not.
	for _, proc := range []string{"web", "worker", "clock"} {
		if _, ok := m.Processes[proc]; ok {
			continue
		}
		_, err := cl.ECS.DeleteService(ctx, &ecs.DeleteServiceInput{Cluster: &s.ClusterARN, Service: ptr(fmt.Sprintf("%s-%s_%s", Prefix, name, proc)), Force: ptr(true)})
		var nf *ecstypes.ServiceNotFoundException
		var na *ecstypes.ServiceNotActiveException
		if err != nil && !errors.As(err, &nf) && !errors.As(err, &na) {
			return err
		}
	}
	return nil
}
