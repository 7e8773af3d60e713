package awsfake_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/wharf-paas/wharf/controlplane/awsfake"
)

// TestWireServerEnforcesTheECSModel sends requests that break documented
// ECS rules through the real SDK client and expects ECS's typed errors
// back: the wire server applies the shared model (controlplane/internal/
// awsmodel), not rules of its own.
func TestWireServerEnforcesTheECSModel(t *testing.T) {
	srv := awsfake.New()
	t.Cleanup(srv.Close)
	srv.AddCluster(cluster)
	cfg := aws.Config{Region: awsfake.DefaultRegion, Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""), Retryer: func() aws.Retryer { return aws.NopRetryer{} }}
	c := ecs.NewFromConfig(cfg, func(o *ecs.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	ctx := context.Background()
	td, err := c.RegisterTaskDefinition(ctx, registerInput("wharf-api_web", "img"))
	if err != nil {
		t.Fatal(err)
	}
	invalid := func(what string, err error) {
		t.Helper()
		var ip *types.InvalidParameterException
		if !errors.As(err, &ip) {
			t.Errorf("%s: got %v, want InvalidParameterException", what, err)
		}
	}
	_, err = c.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String(cluster), Family: aws.String("wharf-api_release"), StartedBy: aws.String("wharf-release-3")})
	invalid("ListTasks startedBy with family", err)
	if _, err := c.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String(cluster), StartedBy: aws.String("wharf-release-3")}); err != nil {
		t.Errorf("ListTasks with startedBy alone: %v", err)
	}
	_, err = c.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: make([]string, 11)})
	invalid("DescribeServices with 11 services", err)
	_, err = c.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String(cluster), TaskDefinition: td.TaskDefinition.TaskDefinitionArn,
		LaunchType: types.LaunchTypeFargate, NetworkConfiguration: netConf(), Count: aws.Int32(11)})
	invalid("RunTask count 11", err)
	base := &ecs.CreateServiceInput{Cluster: aws.String(cluster), ServiceName: aws.String("wharf-api_web"), TaskDefinition: td.TaskDefinition.TaskDefinitionArn,
		DesiredCount: aws.Int32(1), LaunchType: types.LaunchTypeFargate, NetworkConfiguration: netConf(), HealthCheckGracePeriodSeconds: aws.Int32(30)}
	_, err = c.CreateService(ctx, base)
	invalid("CreateService with a grace period and no load balancer", err)
	base.HealthCheckGracePeriodSeconds = nil
	if _, err := c.CreateService(ctx, base); err != nil {
		t.Fatal(err)
	}
	up, err := c.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String(cluster), Service: aws.String("wharf-api_web"),
		NetworkConfiguration: &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{Subnets: []string{"subnet-9"}, SecurityGroups: []string{"sg-9"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(up.Service.Deployments); n != 2 {
		t.Errorf("a network change starts a new deployment (\"This parameter triggers a new service deployment.\"), got %d deployments", n)
	}
	if got := up.Service.NetworkConfiguration.AwsvpcConfiguration.Subnets; len(got) != 1 || got[0] != "subnet-9" {
		t.Errorf("service subnets after the update: %v", got)
	}
	up, err = c.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String(cluster), Service: aws.String("wharf-api_web"), DesiredCount: aws.Int32(3)})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(up.Service.Deployments); n != 2 {
		t.Errorf("a desired count change does not start a deployment, got %d deployments", n)
	}
}
