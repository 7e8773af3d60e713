package awsfake_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/codebuild"
	cbtypes "github.com/aws/aws-sdk-go-v2/service/codebuild/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/wharf-paas/wharf/controlplane/awsfake"
)

const cluster = "wharf-main"

type clients struct {
	srv *awsfake.Server
	ecs *ecs.Client
	cb  *codebuild.Client
	s3  *s3.Client
}

func newClients(t *testing.T, retryer aws.Retryer) clients {
	t.Helper()
	srv := awsfake.New()
	t.Cleanup(srv.Close)
	srv.AddCluster(cluster)
	cfg := aws.Config{
		Region:      awsfake.DefaultRegion,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
		Retryer:     func() aws.Retryer { return retryer },
	}
	return clients{
		srv: srv,
		ecs: ecs.NewFromConfig(cfg, func(o *ecs.Options) { o.BaseEndpoint = aws.String(srv.URL) }),
		cb:  codebuild.NewFromConfig(cfg, func(o *codebuild.Options) { o.BaseEndpoint = aws.String(srv.URL) }),
		s3: s3.NewFromConfig(cfg, func(o *s3.Options) {
			o.BaseEndpoint = aws.String(srv.URL)
			o.UsePathStyle = true
		}),
	}
}

func registerInput(family, image string) *ecs.RegisterTaskDefinitionInput {
	return &ecs.RegisterTaskDefinitionInput{
		Family:                  aws.String(family),
		RequiresCompatibilities: []types.Compatibility{types.CompatibilityFargate},
		NetworkMode:             types.NetworkModeAwsvpc,
		Cpu:                     aws.String("256"),
		Memory:                  aws.String("512"),
		ExecutionRoleArn:        aws.String("arn:aws:iam::111122223333:role/exec"),
		TaskRoleArn:             aws.String("arn:aws:iam::111122223333:role/task"),
		RuntimePlatform:         &types.RuntimePlatform{CpuArchitecture: types.CPUArchitectureArm64, OperatingSystemFamily: types.OSFamilyLinux},
		ContainerDefinitions: []types.ContainerDefinition{{
			Name:         aws.String("app"),
			Image:        aws.String(image),
			Essential:    aws.Bool(true),
			EntryPoint:   []string{"/bin/sh", "-c"},
			Command:      []string{"bin/web"},
			PortMappings: []types.PortMapping{{ContainerPort: aws.Int32(8080), Protocol: types.TransportProtocolTcp}},
			Environment:  []types.KeyValuePair{{Name: aws.String("PORT"), Value: aws.String("8080")}},
			Secrets:      []types.Secret{{Name: aws.String("DATABASE_URL"), ValueFrom: aws.String("arn:aws:ssm:eu-west-1:111122223333:parameter/wharf/apps/api/config/DATABASE_URL")}},
			LogConfiguration: &types.LogConfiguration{LogDriver: types.LogDriverAwslogs, Options: map[string]string{
				"awslogs-group": "/wharf/apps/api", "awslogs-region": "eu-west-1", "awslogs-stream-prefix": "web",
			}},
		}},
		Tags: []types.Tag{{Key: aws.String("wharf:app"), Value: aws.String("api")}},
	}
}

func netConf() *types.NetworkConfiguration {
	return &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{
		Subnets: []string{"subnet-1", "subnet-2"}, SecurityGroups: []string{"sg-1"}, AssignPublicIp: types.AssignPublicIpEnabled,
	}}
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func TestTaskDefinitionFamiliesAndRevisions(t *testing.T) {
	c := newClients(t, aws.NopRetryer{})
	ctx := context.Background()
	in := registerInput("wharf-api_web", "img:1")
	out1, err := c.ecs.RegisterTaskDefinition(ctx, in)
	if err != nil {
		t.Fatalf("register: %v", err)
	}
	out2, err := c.ecs.RegisterTaskDefinition(ctx, registerInput("wharf-api_web", "img:2"))
	if err != nil {
		t.Fatalf("register 2: %v", err)
	}
	if out1.TaskDefinition.Revision != 1 || out2.TaskDefinition.Revision != 2 {
		t.Fatalf("revisions = %d, %d; want 1, 2", out1.TaskDefinition.Revision, out2.TaskDefinition.Revision)
	}
	if got, want := aws.ToString(out2.TaskDefinition.TaskDefinitionArn), "arn:aws:ecs:eu-west-1:111122223333:task-definition/wharf-api_web:2"; got != want {
		t.Errorf("arn = %s, want %s", got, want)
	}
	// Everything sent round-trips through the SDK's serialiser, the fake and
	// the SDK's deserialiser.
	if !reflect.DeepEqual(out1.TaskDefinition.ContainerDefinitions, in.ContainerDefinitions) {
		t.Errorf("container definitions did not round-trip:\n got %+v\nwant %+v", out1.TaskDefinition.ContainerDefinitions, in.ContainerDefinitions)
	}
	if !reflect.DeepEqual(out1.TaskDefinition.RuntimePlatform, in.RuntimePlatform) || aws.ToString(out1.TaskDefinition.Cpu) != "256" {
		t.Errorf("task-level settings did not round-trip: %+v", out1.TaskDefinition)
	}
	if out1.TaskDefinition.RegisteredAt == nil || time.Since(*out1.TaskDefinition.RegisteredAt) > time.Minute {
		t.Errorf("registeredAt = %v", out1.TaskDefinition.RegisteredAt)
	}
	recorded := c.srv.CallsTo("RegisterTaskDefinition")[0].Input.(*ecs.RegisterTaskDefinitionInput)
	if !reflect.DeepEqual(recorded, in) {
		t.Errorf("recorded input differs from the input sent:\n got %+v\nwant %+v", recorded, in)
	}

	for ref, wantRev := range map[string]int32{
		"wharf-api_web":   2,
		"wharf-api_web:1": 1,
		aws.ToString(out1.TaskDefinition.TaskDefinitionArn): 1,
	} {
		d, err := c.ecs.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(ref), Include: []types.TaskDefinitionField{types.TaskDefinitionFieldTags}})
		if err != nil {
			t.Fatalf("describe %s: %v", ref, err)
		}
		if d.TaskDefinition.Revision != wantRev {
			t.Errorf("describe %s: revision %d, want %d", ref, d.TaskDefinition.Revision, wantRev)
		}
		if len(d.Tags) != 1 || aws.ToString(d.Tags[0].Value) != "api" {
			t.Errorf("describe %s: tags %+v", ref, d.Tags)
		}
	}
	_, err = c.ecs.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("wharf-api_nope")})
	var ce *types.ClientException
	if !errors.As(err, &ce) {
		t.Errorf("describe unknown: err %v, want ClientException", err)
	}
	bad := registerInput("wharf-api_web", "img")
	bad.Cpu = nil
	if _, err := c.ecs.RegisterTaskDefinition(ctx, bad); !errors.As(err, &ce) || !strings.Contains(ce.ErrorMessage(), "cpu") {
		t.Errorf("fargate without cpu: err %v, want ClientException about cpu", err)
	}
	bad = registerInput("wharf api", "img")
	if _, err := c.ecs.RegisterTaskDefinition(ctx, bad); !errors.As(err, &ce) {
		t.Errorf("bad family: err %v, want ClientException", err)
	}
}

func runInput(token, startedBy string) *ecs.RunTaskInput {
	return &ecs.RunTaskInput{
		Cluster:              aws.String("arn:aws:ecs:eu-west-1:111122223333:cluster/" + cluster),
		TaskDefinition:       aws.String("wharf-api_release"),
		LaunchType:           types.LaunchTypeFargate,
		NetworkConfiguration: netConf(),
		StartedBy:            aws.String(startedBy),
		ClientToken:          aws.String(token),
		Overrides: &types.TaskOverride{ContainerOverrides: []types.ContainerOverride{{
			Name: aws.String("app"), Command: []string{"bin/migrate"},
		}}},
	}
}

func TestRunTaskIdempotencyAndLifecycle(t *testing.T) {
	c := newClients(t, aws.NopRetryer{})
	ctx := context.Background()
	if _, err := c.ecs.RegisterTaskDefinition(ctx, registerInput("wharf-api_release", "img:1")); err != nil {
		t.Fatal(err)
	}
	first, err := c.ecs.RunTask(ctx, runInput("tok-42", "wharf-release-42"))
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if len(first.Tasks) != 1 || len(first.Failures) != 0 {
		t.Fatalf("run: %d tasks, %d failures", len(first.Tasks), len(first.Failures))
	}
	task := first.Tasks[0]
	if aws.ToString(task.LastStatus) != "PROVISIONING" || aws.ToString(task.StartedBy) != "wharf-release-42" || aws.ToString(task.Group) != "family:wharf-api_release" {
		t.Errorf("new task = %s startedBy %s group %s", aws.ToString(task.LastStatus), aws.ToString(task.StartedBy), aws.ToString(task.Group))
	}
	arn := aws.ToString(task.TaskArn)
	if !strings.HasPrefix(arn, "arn:aws:ecs:eu-west-1:111122223333:task/"+cluster+"/") {
		t.Errorf("task arn = %s", arn)
	}
	again, err := c.ecs.RunTask(ctx, runInput("tok-42", "wharf-release-42"))
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	if aws.ToString(again.Tasks[0].TaskArn) != arn || len(c.srv.Tasks()) != 1 {
		t.Errorf("retry with same token started another task: %s, %d tasks", aws.ToString(again.Tasks[0].TaskArn), len(c.srv.Tasks()))
	}
	_, err = c.ecs.RunTask(ctx, runInput("tok-42", "wharf-release-43"))
	var conflict *types.ConflictException
	if !errors.As(err, &conflict) {
		t.Errorf("same token, other params: err %v, want ConflictException", err)
	}

	list := func(in *ecs.ListTasksInput) []string {
		t.Helper()
		in.Cluster = aws.String(cluster)
		out, err := c.ecs.ListTasks(ctx, in)
		if err != nil {
			t.Fatalf("list tasks: %v", err)
		}
		return out.TaskArns
	}
	if got := list(&ecs.ListTasksInput{StartedBy: aws.String("wharf-release-42")}); len(got) != 1 || got[0] != arn {
		t.Errorf("list by startedBy = %v", got)
	}
	if got := list(&ecs.ListTasksInput{StartedBy: aws.String("wharf-release-7")}); len(got) != 0 {
		t.Errorf("list other startedBy = %v", got)
	}
	if got := list(&ecs.ListTasksInput{Family: aws.String("wharf-api_release")}); len(got) != 1 {
		t.Errorf("list by family = %v", got)
	}

	if changed := c.srv.AdvanceTasks(); len(changed) != 1 || aws.ToString(changed[0].LastStatus) != "RUNNING" {
		t.Fatalf("advance: %+v", changed)
	}
	c.srv.SetTaskOutcome("wharf-api_release", awsfake.Exit(1))
	c.srv.AdvanceTasks()

	d, err := c.ecs.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(cluster), Tasks: []string{arn, "0000"}})
	if err != nil {
		t.Fatalf("describe: %v", err)
	}
	if len(d.Tasks) != 1 || len(d.Failures) != 1 || aws.ToString(d.Failures[0].Reason) != "MISSING" {
		t.Fatalf("describe: %d tasks, failures %+v", len(d.Tasks), d.Failures)
	}
	st := d.Tasks[0]
	if aws.ToString(st.LastStatus) != "STOPPED" || st.StopCode != types.TaskStopCodeEssentialContainerExited ||
		st.Containers[0].ExitCode == nil || *st.Containers[0].ExitCode != 1 || st.Version != 3 || st.StoppedAt == nil {
		t.Errorf("stopped task = status %s stopCode %s exit %v version %d", aws.ToString(st.LastStatus), st.StopCode, st.Containers[0].ExitCode, st.Version)
	}
	if got := list(&ecs.ListTasksInput{StartedBy: aws.String("wharf-release-42")}); len(got) != 0 {
		t.Errorf("stopped task listed as RUNNING: %v", got)
	}
	if got := list(&ecs.ListTasksInput{Family: aws.String("wharf-api_release"), DesiredStatus: types.DesiredStatusStopped}); len(got) != 1 {
		t.Errorf("stopped task not listed as STOPPED: %v", got)
	}
	// "When you specify startedBy as the filter, it must be the only filter
	// that you use" (ECS API reference, ListTasks).
	for _, in := range []*ecs.ListTasksInput{
		{StartedBy: aws.String("wharf-release-42"), Family: aws.String("wharf-api_release")},
		{StartedBy: aws.String("wharf-release-42"), DesiredStatus: types.DesiredStatusStopped},
		{StartedBy: aws.String("wharf-release-42"), ServiceName: aws.String("wharf-api_web")},
		{StartedBy: aws.String("wharf-release-42"), LaunchType: types.LaunchTypeFargate},
	} {
		in.Cluster = aws.String(cluster)
		_, err := c.ecs.ListTasks(ctx, in)
		var ip *types.InvalidParameterException
		if !errors.As(err, &ip) || !strings.Contains(err.Error(), "cannot specify startedBy with other arguments") {
			t.Errorf("ListTasks(startedBy + another filter) err = %v, want InvalidParameterException", err)
		}
	}
	rec := c.srv.CallsTo("RunTask")[0].Input.(*ecs.RunTaskInput)
	if !reflect.DeepEqual(rec, runInput("tok-42", "wharf-release-42")) {
		t.Errorf("recorded RunTask input = %+v", rec)
	}
}

func TestRunTaskFailuresAndFailedToStart(t *testing.T) {
	c := newClients(t, aws.NopRetryer{})
	ctx := context.Background()
	if _, err := c.ecs.RegisterTaskDefinition(ctx, registerInput("wharf-api_release", "img:1")); err != nil {
		t.Fatal(err)
	}
	c.srv.QueueRunTaskFailures(awsfake.CapacityFailure())
	out, err := c.ecs.RunTask(ctx, runInput("tok-1", "wharf-release-1"))
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if len(out.Tasks) != 0 || len(out.Failures) != 1 || !strings.Contains(aws.ToString(out.Failures[0].Reason), "Capacity is unavailable") {
		t.Fatalf("scripted failure: tasks %d failures %+v", len(out.Tasks), out.Failures)
	}
	out, err = c.ecs.RunTask(ctx, runInput("tok-1", "wharf-release-1"))
	if err != nil || len(out.Tasks) != 1 {
		t.Fatalf("retry after failure: %v, %d tasks", err, len(out.Tasks))
	}
	arn := aws.ToString(out.Tasks[0].TaskArn)
	if _, err := c.srv.FinishTaskWith(arn, awsfake.FailedToStart("")); err != nil {
		t.Fatal(err)
	}
	d, err := c.ecs.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(cluster), Tasks: []string{arn}})
	if err != nil {
		t.Fatal(err)
	}
	st := d.Tasks[0]
	if st.StopCode != types.TaskStopCodeTaskFailedToStart || st.Containers[0].ExitCode != nil || !strings.HasPrefix(aws.ToString(st.StoppedReason), "CannotPullContainerError") {
		t.Errorf("failed-to-start task: stopCode %s exit %v reason %s", st.StopCode, st.Containers[0].ExitCode, aws.ToString(st.StoppedReason))
	}
	_, err = c.ecs.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("nope"), TaskDefinition: aws.String("wharf-api_release")})
	var cnf *types.ClusterNotFoundException
	if !errors.As(err, &cnf) {
		t.Errorf("unknown cluster: err %v, want ClusterNotFoundException", err)
	}
}

func createInput(token string, desired int32) *ecs.CreateServiceInput {
	return &ecs.CreateServiceInput{
		Cluster:              aws.String(cluster),
		ServiceName:          aws.String("wharf-api_web"),
		TaskDefinition:       aws.String("wharf-api_web"),
		DesiredCount:         aws.Int32(desired),
		LaunchType:           types.LaunchTypeFargate,
		NetworkConfiguration: netConf(),
		ClientToken:          aws.String(token),
		LoadBalancers: []types.LoadBalancer{{
			TargetGroupArn: aws.String("arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/api/1"),
			ContainerName:  aws.String("app"), ContainerPort: aws.Int32(8080),
		}},
		DeploymentConfiguration: &types.DeploymentConfiguration{
			DeploymentCircuitBreaker: &types.DeploymentCircuitBreaker{Enable: true, Rollback: true},
			MaximumPercent:           aws.Int32(200), MinimumHealthyPercent: aws.Int32(100),
		},
	}
}

func TestServiceLifecycle(t *testing.T) {
	c := newClients(t, aws.NopRetryer{})
	ctx := context.Background()
	td1, _ := c.ecs.RegisterTaskDefinition(ctx, registerInput("wharf-api_web", "img:1"))
	td2, _ := c.ecs.RegisterTaskDefinition(ctx, registerInput("wharf-api_web", "img:2"))
	created, err := c.ecs.CreateService(ctx, createInput("create-web-1", 2))
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	svc := created.Service
	if aws.ToString(svc.Status) != "ACTIVE" || len(svc.Deployments) != 1 || svc.Deployments[0].RolloutState != types.DeploymentRolloutStateInProgress ||
		aws.ToString(svc.TaskDefinition) != aws.ToString(td2.TaskDefinition.TaskDefinitionArn) {
		t.Fatalf("created service: %+v", svc)
	}
	if !strings.HasPrefix(aws.ToString(svc.Deployments[0].Id), "ecs-svc/") {
		t.Errorf("deployment id = %s", aws.ToString(svc.Deployments[0].Id))
	}
	if len(svc.LoadBalancers) != 1 || aws.ToInt32(svc.LoadBalancers[0].ContainerPort) != 8080 {
		t.Errorf("load balancers = %+v", svc.LoadBalancers)
	}
	again, err := c.ecs.CreateService(ctx, createInput("create-web-1", 2))
	if err != nil || aws.ToString(again.Service.ServiceArn) != aws.ToString(svc.ServiceArn) {
		t.Fatalf("idempotent create retry: %v", err)
	}
	var ipe *types.InvalidParameterException
	if _, err := c.ecs.CreateService(ctx, createInput("create-web-1", 3)); !errors.As(err, &ipe) || !strings.Contains(ipe.ErrorMessage(), "not idempotent") {
		t.Errorf("create with other params: err %v, want InvalidParameterException not idempotent", err)
	}
	if _, err := c.ecs.CreateService(ctx, createInput("create-web-2", 2)); !errors.As(err, &ipe) {
		t.Errorf("create with other token: err %v, want InvalidParameterException", err)
	}

	desc, err := c.ecs.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: []string{"wharf-api_web", "wharf-api_worker"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(desc.Services) != 1 || len(desc.Failures) != 1 || aws.ToString(desc.Failures[0].Reason) != "MISSING" ||
		!strings.HasSuffix(aws.ToString(desc.Failures[0].Arn), "service/"+cluster+"/wharf-api_worker") {
		t.Errorf("describe: services %d failures %+v", len(desc.Services), desc.Failures)
	}

	// Scaling alone does not start a deployment; a new task definition does.
	up, err := c.ecs.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String(cluster), Service: aws.String("wharf-api_web"), DesiredCount: aws.Int32(3)})
	if err != nil || len(up.Service.Deployments) != 1 || up.Service.DesiredCount != 3 {
		t.Fatalf("scale: %v %+v", err, up)
	}
	c.srv.CompleteDeployments()
	up, err = c.ecs.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String(cluster), Service: svc.ServiceArn, TaskDefinition: td1.TaskDefinition.TaskDefinitionArn})
	if err != nil {
		t.Fatal(err)
	}
	if len(up.Service.Deployments) != 2 || aws.ToString(up.Service.Deployments[0].Status) != "PRIMARY" ||
		up.Service.Deployments[0].RolloutState != types.DeploymentRolloutStateInProgress || up.Service.Deployments[1].RolloutState != types.DeploymentRolloutStateCompleted {
		t.Fatalf("update deployments: %+v", up.Service.Deployments)
	}
	rolled, err := c.srv.FailDeployment(cluster, "wharf-api_web", "ECS deployment circuit breaker: tasks failed to start.")
	if err != nil {
		t.Fatal(err)
	}
	if len(rolled.Deployments) != 3 || !strings.HasPrefix(aws.ToString(rolled.Deployments[0].RolloutStateReason), "ECS deployment circuit breaker: rolling back to deploymentId") ||
		aws.ToString(rolled.TaskDefinition) != aws.ToString(td2.TaskDefinition.TaskDefinitionArn) {
		t.Errorf("rollback: %+v", rolled.Deployments)
	}
	done := c.srv.CompleteDeployments()
	if len(done) != 1 || len(done[0].Deployments) != 1 || done[0].Deployments[0].RolloutState != types.DeploymentRolloutStateCompleted || done[0].RunningCount != 3 {
		t.Errorf("complete: %+v", done)
	}

	ls, err := c.ecs.ListServices(ctx, &ecs.ListServicesInput{Cluster: aws.String(cluster)})
	if err != nil || len(ls.ServiceArns) != 1 {
		t.Fatalf("list: %v %v", err, ls)
	}
	if _, err := c.ecs.DeleteService(ctx, &ecs.DeleteServiceInput{Cluster: aws.String(cluster), Service: aws.String("wharf-api_web")}); !errors.As(err, &ipe) {
		t.Errorf("delete scaled service: err %v, want InvalidParameterException", err)
	}
	del, err := c.ecs.DeleteService(ctx, &ecs.DeleteServiceInput{Cluster: aws.String(cluster), Service: aws.String("wharf-api_web"), Force: aws.Bool(true)})
	if err != nil || aws.ToString(del.Service.Status) != "DRAINING" {
		t.Fatalf("delete: %v %+v", err, del)
	}
	var sna *types.ServiceNotActiveException
	if _, err := c.ecs.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String(cluster), Service: aws.String("wharf-api_web"), ForceNewDeployment: true}); !errors.As(err, &sna) {
		t.Errorf("update draining: err %v, want ServiceNotActiveException", err)
	}
	c.srv.CompleteDeployments()
	desc, _ = c.ecs.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: []string{"wharf-api_web"}})
	if len(desc.Services) != 1 || aws.ToString(desc.Services[0].Status) != "INACTIVE" {
		t.Errorf("deleted service: %+v", desc)
	}
	ls, _ = c.ecs.ListServices(ctx, &ecs.ListServicesInput{Cluster: aws.String(cluster)})
	if len(ls.ServiceArns) != 0 {
		t.Errorf("inactive service listed: %v", ls.ServiceArns)
	}
	var snf *types.ServiceNotFoundException
	if _, err := c.ecs.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String(cluster), Service: aws.String("wharf-api_nope")}); !errors.As(err, &snf) {
		t.Errorf("update unknown: err %v, want ServiceNotFoundException", err)
	}
	if _, err := c.ecs.DeleteService(ctx, &ecs.DeleteServiceInput{Cluster: aws.String(cluster), Service: aws.String("wharf-api_nope")}); !errors.As(err, &snf) {
		t.Errorf("delete unknown: err %v, want ServiceNotFoundException", err)
	}
	re, err := c.ecs.CreateService(ctx, createInput("create-web-3", 1))
	if err != nil || aws.ToString(re.Service.Status) != "ACTIVE" {
		t.Errorf("re-create after INACTIVE: %v", err)
	}
}

func TestInjectedErrors(t *testing.T) {
	c := newClients(t, aws.NopRetryer{})
	ctx := context.Background()
	in := &ecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: []string{"x"}}
	c.srv.FailNext("DescribeServices", 2, awsfake.ThrottlingError())
	c.srv.FailNext("DescribeServices", 1, awsfake.ServerError())
	for i := range 2 {
		if _, err := c.ecs.DescribeServices(ctx, in); apiCode(err) != "ThrottlingException" {
			t.Errorf("call %d: err %v, want ThrottlingException", i, err)
		}
	}
	var se *types.ServerException
	if _, err := c.ecs.DescribeServices(ctx, in); !errors.As(err, &se) {
		t.Errorf("err %v, want ServerException", err)
	}
	if _, err := c.ecs.DescribeServices(ctx, in); err != nil {
		t.Errorf("after faults: %v", err)
	}
	calls := c.srv.CallsTo("DescribeServices")
	if len(calls) != 4 || calls[0].ErrorCode != "ThrottlingException" || calls[2].ErrorCode != "ServerException" || calls[3].ErrorCode != "" {
		t.Errorf("recorded calls = %+v", calls)
	}
	c.srv.FailNext("UpdateService", 1, awsfake.ServiceNotFoundError())
	var snf *types.ServiceNotFoundException
	if _, err := c.ecs.UpdateService(ctx, &ecs.UpdateServiceInput{Service: aws.String("x")}); !errors.As(err, &snf) {
		t.Errorf("injected ServiceNotFound: %v", err)
	}
}

func TestStandardRetryerRecoversFromThrottling(t *testing.T) {
	c := newClients(t, retry.NewStandard(func(o *retry.StandardOptions) {
		o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
	}))
	c.srv.FailNext("ListServices", 1, awsfake.ThrottlingError())
	if _, err := c.ecs.ListServices(context.Background(), &ecs.ListServicesInput{Cluster: aws.String(cluster)}); err != nil {
		t.Fatalf("list with one throttle: %v", err)
	}
	if n := len(c.srv.CallsTo("ListServices")); n != 2 {
		t.Errorf("calls = %d, want 2 (throttled then retried)", n)
	}
}

func TestListPagination(t *testing.T) {
	c := newClients(t, aws.NopRetryer{})
	ctx := context.Background()
	if _, err := c.ecs.RegisterTaskDefinition(ctx, registerInput("wharf-api_web", "img")); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"a", "b", "c"} {
		in := createInput("", 0)
		in.ServiceName = aws.String("wharf-api_" + n)
		in.ClientToken = nil
		if _, err := c.ecs.CreateService(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	p := ecs.NewListServicesPaginator(c.ecs, &ecs.ListServicesInput{Cluster: aws.String(cluster), MaxResults: aws.Int32(2)})
	pages := 0
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		got = append(got, out.ServiceArns...)
	}
	if pages != 2 || len(got) != 3 {
		t.Errorf("pages %d, arns %v", pages, got)
	}
}

func TestCodeBuildBatchGetBuilds(t *testing.T) {
	c := newClients(t, aws.NopRetryer{})
	start := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	c.srv.PutBuild(awsfake.Build{
		ID: "wharf-api:7f0c", Number: 42, Status: cbtypes.StatusTypeSucceeded,
		ArtifactsLocation: "arn:aws:s3:::wharf-api-artifacts/builds/42", ResolvedSourceVersion: "0123abcd",
		Start: start, End: start.Add(3 * time.Minute),
	})
	out, err := c.cb.BatchGetBuilds(context.Background(), &codebuild.BatchGetBuildsInput{Ids: []string{"wharf-api:7f0c", "wharf-api:nope"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Builds) != 1 || len(out.BuildsNotFound) != 1 || out.BuildsNotFound[0] != "wharf-api:nope" {
		t.Fatalf("builds %d notFound %v", len(out.Builds), out.BuildsNotFound)
	}
	b := out.Builds[0]
	if aws.ToString(b.Artifacts.Location) != "arn:aws:s3:::wharf-api-artifacts/builds/42" || aws.ToInt64(b.BuildNumber) != 42 ||
		b.BuildStatus != cbtypes.StatusTypeSucceeded || aws.ToString(b.ProjectName) != "wharf-api" || !b.EndTime.Equal(start.Add(3*time.Minute)) {
		t.Errorf("build = %+v", b)
	}
	var iie *cbtypes.InvalidInputException
	if _, err := c.cb.BatchGetBuilds(context.Background(), &codebuild.BatchGetBuildsInput{Ids: []string{}}); !errors.As(err, &iie) {
		t.Errorf("empty ids: err %v, want InvalidInputException", err)
	}
	c.srv.FailNext("BatchGetBuilds", 1, awsfake.ThrottlingError())
	if _, err := c.cb.BatchGetBuilds(context.Background(), &codebuild.BatchGetBuildsInput{Ids: []string{"x"}}); apiCode(err) != "ThrottlingException" {
		t.Errorf("injected throttle: %v", err)
	}
	if got := c.srv.CallsTo("BatchGetBuilds")[0].Input.(*codebuild.BatchGetBuildsInput).Ids; len(got) != 2 {
		t.Errorf("recorded ids = %v", got)
	}
}

func TestCodeBuildListBuildsForProject(t *testing.T) {
	c := newClients(t, aws.NopRetryer{})
	ctx := context.Background()
	// Put out of order: the listing is by build number, not insertion.
	for _, n := range []int64{2, 1, 105, 3} {
		c.srv.PutBuild(awsfake.Build{ID: fmt.Sprintf("wharf-api:b%03d", n), Number: n, Status: cbtypes.StatusTypeSucceeded})
	}
	for n := int64(4); n < 105; n++ {
		c.srv.PutBuild(awsfake.Build{ID: fmt.Sprintf("wharf-api:b%03d", n), Number: n, Status: cbtypes.StatusTypeFailed})
	}
	c.srv.PutBuild(awsfake.Build{ID: "wharf-shop:b001", Number: 1, Status: cbtypes.StatusTypeSucceeded})
	c.srv.PutProject("wharf-empty")

	out, err := c.cb.ListBuildsForProject(ctx, &codebuild.ListBuildsForProjectInput{
		ProjectName: aws.String("wharf-api"), SortOrder: cbtypes.SortOrderTypeDescending,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Ids) != 100 || out.Ids[0] != "wharf-api:b105" || out.Ids[1] != "wharf-api:b104" || aws.ToString(out.NextToken) == "" {
		t.Fatalf("first page: %d ids from %v, next %q", len(out.Ids), out.Ids[:2], aws.ToString(out.NextToken))
	}
	// A sort order cannot go with a nextToken, as in CodeBuild.
	var iie *cbtypes.InvalidInputException
	if _, err := c.cb.ListBuildsForProject(ctx, &codebuild.ListBuildsForProjectInput{
		ProjectName: aws.String("wharf-api"), SortOrder: cbtypes.SortOrderTypeDescending, NextToken: out.NextToken,
	}); !errors.As(err, &iie) {
		t.Errorf("sortOrder with nextToken: err %v, want InvalidInputException", err)
	}
	next, err := c.cb.ListBuildsForProject(ctx, &codebuild.ListBuildsForProjectInput{ProjectName: aws.String("wharf-api"), NextToken: out.NextToken})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"wharf-api:b005", "wharf-api:b004", "wharf-api:b003", "wharf-api:b002", "wharf-api:b001"}; !reflect.DeepEqual(next.Ids, want) || next.NextToken != nil {
		t.Errorf("second page %v next %v, want %v", next.Ids, next.NextToken, want)
	}
	asc, err := c.cb.ListBuildsForProject(ctx, &codebuild.ListBuildsForProjectInput{ProjectName: aws.String("wharf-shop"), SortOrder: cbtypes.SortOrderTypeAscending})
	if err != nil || !reflect.DeepEqual(asc.Ids, []string{"wharf-shop:b001"}) {
		t.Errorf("other project: %v, %v", asc, err)
	}
	empty, err := c.cb.ListBuildsForProject(ctx, &codebuild.ListBuildsForProjectInput{ProjectName: aws.String("wharf-empty")})
	if err != nil || len(empty.Ids) != 0 || empty.NextToken != nil {
		t.Errorf("project without builds: %+v, %v", empty, err)
	}
	var rnf *cbtypes.ResourceNotFoundException
	if _, err := c.cb.ListBuildsForProject(ctx, &codebuild.ListBuildsForProjectInput{ProjectName: aws.String("wharf-nope")}); !errors.As(err, &rnf) ||
		!strings.Contains(aws.ToString(rnf.Message), "project/wharf-nope") {
		t.Errorf("unknown project: err %v, want ResourceNotFoundException", err)
	}
	c.srv.FailNext("ListBuildsForProject", 1, awsfake.ThrottlingError())
	if _, err := c.cb.ListBuildsForProject(ctx, &codebuild.ListBuildsForProjectInput{ProjectName: aws.String("wharf-api")}); apiCode(err) != "ThrottlingException" {
		t.Errorf("injected throttle: %v", err)
	}
	if in := c.srv.CallsTo("ListBuildsForProject")[0].Input.(*codebuild.ListBuildsForProjectInput); aws.ToString(in.ProjectName) != "wharf-api" ||
		in.SortOrder != cbtypes.SortOrderTypeDescending {
		t.Errorf("recorded input = %+v", in)
	}
}

func TestS3GetObject(t *testing.T) {
	c := newClients(t, aws.NopRetryer{})
	ctx := context.Background()
	c.srv.PutObject("wharf-api-artifacts", "builds/42/wharf-build.json", []byte(`{"version":1}`))
	out, err := c.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("wharf-api-artifacts"), Key: aws.String("builds/42/wharf-build.json")})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(out.Body)
	_ = out.Body.Close()
	if string(body) != `{"version":1}` || aws.ToInt64(out.ContentLength) != int64(len(body)) || aws.ToString(out.ETag) == "" {
		t.Errorf("object = %q len %d etag %q", body, aws.ToInt64(out.ContentLength), aws.ToString(out.ETag))
	}
	var nsk *s3types.NoSuchKey
	if _, err := c.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("wharf-api-artifacts"), Key: aws.String("builds/43/wharf-build.json")}); !errors.As(err, &nsk) {
		t.Errorf("missing key: err %v, want NoSuchKey", err)
	}
	// GetObject's model lists no NoSuchBucket type; the code still decodes.
	if _, err := c.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("other"), Key: aws.String("k")}); apiCode(err) != "NoSuchBucket" {
		t.Errorf("missing bucket: err %v, want NoSuchBucket", err)
	}
	c.srv.FailNext("GetObject", 1, awsfake.S3SlowDownError())
	if _, err := c.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("wharf-api-artifacts"), Key: aws.String("builds/42/wharf-build.json")}); apiCode(err) != "SlowDown" {
		t.Errorf("injected SlowDown: %v", err)
	}
	calls := c.srv.CallsTo("GetObject")
	if len(calls) != 4 || aws.ToString(calls[0].Input.(*s3.GetObjectInput).Key) != "builds/42/wharf-build.json" || calls[1].ErrorCode != "NoSuchKey" {
		t.Errorf("recorded = %+v", calls)
	}
	if w := c.srv.WriteCalls(); len(w) != 0 {
		t.Errorf("reads counted as writes: %+v", w)
	}
}

func TestBeforeNextAndForgetService(t *testing.T) {
	c := newClients(t, aws.NopRetryer{})
	ctx := context.Background()
	if _, err := c.ecs.RegisterTaskDefinition(ctx, registerInput("wharf-api_web", "img")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ecs.CreateService(ctx, createInput("tok", 1)); err != nil {
		t.Fatal(err)
	}
	// The service vanishes between the caller's describe and its update.
	c.srv.BeforeNext("UpdateService", func() {
		if err := c.srv.ForgetService(cluster, "wharf-api_web"); err != nil {
			t.Error(err)
		}
	})
	d, err := c.ecs.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: []string{"wharf-api_web"}})
	if err != nil || len(d.Services) != 1 {
		t.Fatalf("describe before update: %v %+v", err, d)
	}
	var snf *types.ServiceNotFoundException
	if _, err := c.ecs.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String(cluster), Service: aws.String("wharf-api_web"), ForceNewDeployment: true}); !errors.As(err, &snf) {
		t.Errorf("update after hook: err %v, want ServiceNotFoundException", err)
	}
	d, _ = c.ecs.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: []string{"wharf-api_web"}})
	if len(d.Failures) != 1 {
		t.Errorf("forgotten service still described: %+v", d.Services)
	}
	if _, err := c.ecs.CreateService(ctx, createInput("tok2", 1)); err != nil {
		t.Errorf("create after forget: %v", err)
	}
}

func TestEventBridgeRules(t *testing.T) {
	c := newClients(t, aws.NopRetryer{})
	ctx := context.Background()
	eb := eventbridge.NewFromConfig(aws.Config{
		Region: awsfake.DefaultRegion, Credentials: credentials.NewStaticCredentialsProvider("AKID", "s", ""),
		Retryer: func() aws.Retryer { return aws.NopRetryer{} },
	}, func(o *eventbridge.Options) { o.BaseEndpoint = aws.String(c.srv.URL) })
	put, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("wharf-api_schedule-nightly"), ScheduleExpression: aws.String("cron(0 3 * * ? *)")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(put.RuleArn) != "arn:aws:events:eu-west-1:111122223333:rule/wharf-api_schedule-nightly" {
		t.Errorf("rule arn = %s", aws.ToString(put.RuleArn))
	}
	if _, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("other"), EventPattern: aws.String(`{"source":["x"]}`)}); err != nil {
		t.Fatal(err)
	}
	target := ebtypes.Target{
		Id: aws.String("release"), Arn: aws.String("arn:aws:ecs:eu-west-1:111122223333:cluster/" + cluster),
		RoleArn: aws.String("arn:aws:iam::111122223333:role/events"),
		Input:   aws.String(`{"containerOverrides":[{"name":"app","command":["bin/nightly"]}]}`),
		EcsParameters: &ebtypes.EcsParameters{
			TaskDefinitionArn: aws.String("arn:aws:ecs:eu-west-1:111122223333:task-definition/wharf-api_release:3"),
			LaunchType:        ebtypes.LaunchTypeFargate, TaskCount: aws.Int32(1),
			NetworkConfiguration: &ebtypes.NetworkConfiguration{AwsvpcConfiguration: &ebtypes.AwsVpcConfiguration{
				Subnets: []string{"subnet-1"}, SecurityGroups: []string{"sg-1"}, AssignPublicIp: ebtypes.AssignPublicIpEnabled,
			}},
		},
	}
	if _, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("wharf-api_schedule-nightly"), Targets: []ebtypes.Target{target}}); err != nil {
		t.Fatal(err)
	}
	rules, err := eb.ListRules(ctx, &eventbridge.ListRulesInput{NamePrefix: aws.String("wharf-api_schedule-")})
	if err != nil || len(rules.Rules) != 1 || aws.ToString(rules.Rules[0].ScheduleExpression) != "cron(0 3 * * ? *)" || rules.Rules[0].State != ebtypes.RuleStateEnabled {
		t.Fatalf("list rules: %v %+v", err, rules)
	}
	got, err := eb.ListTargetsByRule(ctx, &eventbridge.ListTargetsByRuleInput{Rule: aws.String("wharf-api_schedule-nightly")})
	if err != nil || len(got.Targets) != 1 || !reflect.DeepEqual(got.Targets[0], target) {
		t.Fatalf("targets did not round-trip: %v\n got %+v\nwant %+v", err, got, target)
	}
	// EventBridge's ValidationException is not a modelled type; its code
	// still decodes.
	if _, err := eb.DeleteRule(ctx, &eventbridge.DeleteRuleInput{Name: aws.String("wharf-api_schedule-nightly")}); apiCode(err) != "ValidationException" {
		t.Errorf("delete rule with targets: err %v, want ValidationException", err)
	}
	if _, err := eb.RemoveTargets(ctx, &eventbridge.RemoveTargetsInput{Rule: aws.String("wharf-api_schedule-nightly"), Ids: []string{"release"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := eb.DeleteRule(ctx, &eventbridge.DeleteRuleInput{Name: aws.String("wharf-api_schedule-nightly")}); err != nil {
		t.Fatal(err)
	}
	var rnf *ebtypes.ResourceNotFoundException
	if _, err := eb.ListTargetsByRule(ctx, &eventbridge.ListTargetsByRuleInput{Rule: aws.String("wharf-api_schedule-nightly")}); !errors.As(err, &rnf) {
		t.Errorf("targets of deleted rule: err %v, want ResourceNotFoundException", err)
	}
	if _, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("bad name")}); apiCode(err) != "ValidationException" {
		t.Errorf("bad rule: err %v, want ValidationException", err)
	}
	if got := c.srv.Targets("other"); len(got) != 0 || len(c.srv.Rules()) != 1 {
		t.Errorf("state after delete: rules %+v", c.srv.Rules())
	}
}

func TestStopTask(t *testing.T) {
	c := newClients(t, aws.NopRetryer{})
	ctx := context.Background()
	if _, err := c.ecs.RegisterTaskDefinition(ctx, registerInput("wharf-api_release", "img")); err != nil {
		t.Fatal(err)
	}
	run, err := c.ecs.RunTask(ctx, runInput("tok-stop", "wharf-release-9"))
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(run.Tasks[0].TaskArn)
	c.srv.AdvanceTasks()
	out, err := c.ecs.StopTask(ctx, &ecs.StopTaskInput{Cluster: aws.String(cluster), Task: aws.String(arn), Reason: aws.String("release timed out")})
	if err != nil {
		t.Fatal(err)
	}
	st := out.Task
	if aws.ToString(st.LastStatus) != "STOPPED" || st.StopCode != types.TaskStopCodeUserInitiated || aws.ToString(st.StoppedReason) != "release timed out" ||
		aws.ToInt32(st.Containers[0].ExitCode) != 137 {
		t.Errorf("stopped task: %s %s %q exit %v", aws.ToString(st.LastStatus), st.StopCode, aws.ToString(st.StoppedReason), st.Containers[0].ExitCode)
	}
	if _, err := c.srv.FinishTask(arn); err == nil {
		t.Errorf("finishing a stopped task succeeded")
	}
	var ipe *types.InvalidParameterException
	if _, err := c.ecs.StopTask(ctx, &ecs.StopTaskInput{Cluster: aws.String(cluster), Task: aws.String("nope")}); !errors.As(err, &ipe) {
		t.Errorf("stop unknown task: err %v, want InvalidParameterException", err)
	}
}
