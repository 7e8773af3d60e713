package sim

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// TestReadLag: with the read-lag fault drawn for every write, a new
// service is MISSING to DescribeServices, an updated one still shows the
// old deployment as PRIMARY, and a new task is MISSING to DescribeTasks
// and absent from ListTasks, until the lag has passed; the writes' own
// answers are current.
func TestReadLag(t *testing.T) {
	w, cl, s := testApp(t)
	ctx := context.Background()
	one := registerTD(t, w, cl, "wharf-api_web", buildImage(w, "api", okPlan()))
	two := registerTD(t, w, cl, "wharf-api_web", buildImage(w, "api", okPlan()))
	release := registerTD(t, w, cl, "wharf-api_release", buildImage(w, "api", okPlan()))
	w.Faults = FaultConfig{ReadLag: 1, TaskReadLag: 1}
	w.faultsOn = true
	describe := func() *ecs.DescribeServicesOutput {
		t.Helper()
		out, err := cl.ECS.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: ptr(s.ClusterARN), Services: []string{"wharf-api_web"}})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	cb := &ecstypes.DeploymentConfiguration{DeploymentCircuitBreaker: &ecstypes.DeploymentCircuitBreaker{Enable: true, Rollback: true}}
	if _, err := cl.ECS.CreateService(ctx, &ecs.CreateServiceInput{Cluster: ptr(s.ClusterARN), ServiceName: ptr("wharf-api_web"), TaskDefinition: ptr(one),
		DesiredCount: ptr(int32(1)), NetworkConfiguration: netCfg(s), DeploymentConfiguration: cb}); err != nil {
		t.Fatal(err)
	}
	if out := describe(); len(out.Services) != 0 || len(out.Failures) != 1 {
		t.Errorf("right after CreateService a lagging read should not see the service, got %d services", len(out.Services))
	}
	w.RunFor(5 * time.Minute)
	if out := describe(); len(out.Services) != 1 {
		t.Fatalf("after the lag the service is visible, got %+v", out.Failures)
	}
	up, err := cl.ECS.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: ptr(s.ClusterARN), Service: ptr("wharf-api_web"), TaskDefinition: ptr(two)})
	if err != nil {
		t.Fatal(err)
	}
	if got := *up.Service.Deployments[0].TaskDefinition; got != two {
		t.Errorf("UpdateService's own answer is current: primary %s, want %s", got, two)
	}
	if got := *describe().Services[0].TaskDefinition; got != one {
		t.Errorf("right after UpdateService a lagging read shows the previous task definition, got %s", got)
	}
	w.RunFor(25 * time.Second)
	if got := *describe().Services[0].TaskDefinition; got != two {
		t.Errorf("after the lag the update is visible, got %s", got)
	}
	run, err := cl.ECS.RunTask(ctx, &ecs.RunTaskInput{Cluster: ptr(s.ClusterARN), TaskDefinition: ptr(release), StartedBy: ptr("wharf-release-9"),
		NetworkConfiguration: netCfg(s), LaunchType: ecstypes.LaunchTypeFargate})
	if err != nil || len(run.Tasks) != 1 {
		t.Fatalf("RunTask: %v", err)
	}
	arn := *run.Tasks[0].TaskArn
	d, err := cl.ECS.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: ptr(s.ClusterARN), Tasks: []string{arn}})
	if err != nil || len(d.Tasks) != 0 || len(d.Failures) != 1 {
		t.Errorf("right after RunTask the task is MISSING to a lagging read: %v %+v", err, d)
	}
	l, err := cl.ECS.ListTasks(ctx, &ecs.ListTasksInput{Cluster: ptr(s.ClusterARN), StartedBy: ptr("wharf-release-9")})
	if err != nil || len(l.TaskArns) != 0 {
		t.Errorf("right after RunTask a lagging ListTasks does not list the task: %v %v", err, l)
	}
	w.Faults = FaultConfig{}
	w.RunFor(25 * time.Second)
	if d, _ := cl.ECS.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: ptr(s.ClusterARN), Tasks: []string{arn}}); len(d.Tasks) != 1 {
		t.Errorf("after the lag the task is visible: %+v", d.Failures)
	}
	if w.Stats.Faults["read-lag"] < 3 {
		t.Errorf("read-lag faults counted: %d", w.Stats.Faults["read-lag"])
	}
}
