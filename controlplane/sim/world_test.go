package sim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go"

	"github.com/wharf-paas/wharf/controlplane"
)

// TestNaiveControlPlaneIsCaught shows the invariants can fail: a control
// plane that deploys every successful build at once, not waiting for its
// release, ignoring order and redelivery, breaks them.
func TestNaiveControlPlaneIsCaught(t *testing.T) {
	got := map[string]int{}
	for seed := uint64(1); seed <= 40; seed++ {
		// Only duplicated events and copies from other accounts: the
		// naive plane acts on each.
		res, err := Run(Options{Seed: seed, Faults: &FaultConfig{Duplicate: 0.3, Foreign: 0.2}, Factory: naiveFactory})
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range res.Stats.Violations {
			got[v.Invariant]++
		}
	}
	for _, inv := range []string{InvConverges, InvNoOlderBuild, InvOneRelease, InvFailedRelease, InvNoDeletedNeeded, InvNoRepeatWrite, InvStoreMatchesECS, InvNoReleaseAgain, InvForeignRejected} {
		if got[inv] == 0 {
			t.Errorf("the naive control plane never broke %s (got %v)", inv, got)
		}
	}
}

// recorder collects every envelope and answers like the naive plane.
type recorder struct {
	inner Handler
	evs   []events.CloudWatchEvent
}

func (r *recorder) Handle(ctx context.Context, ev events.CloudWatchEvent) error {
	r.evs = append(r.evs, ev)
	return r.inner.Handle(ctx, ev)
}

// TestEmittedEventsDecode: every envelope the simulator emits decodes with
// the control plane's own decoder and names the right app, and CodeBuild
// envelopes parse as events.CodeBuildEvent (whose odd time format they
// use).
func TestEmittedEventsDecode(t *testing.T) {
	kinds := map[string]int{}
	for seed := uint64(1); seed <= 5; seed++ {
		var rec *recorder
		byID := map[string]Event{}
		_, err := Run(Options{Seed: seed, Faults: &FaultConfig{}, Factory: func(w *World) (*Target, error) {
			w.OnEvent(func(ev Event) { byID[ev.Envelope.ID] = ev })
			rec = &recorder{inner: &naive{w: w, reg: w.Registry()}}
			return &Target{Handler: rec, View: staleView{}}, nil
		}})
		if err != nil {
			t.Fatal(err)
		}
		for _, env := range rec.evs {
			raw, err := json.Marshal(env)
			if err != nil {
				t.Fatal(err)
			}
			var back events.CloudWatchEvent
			if err := json.Unmarshal(raw, &back); err != nil {
				t.Fatalf("round trip: %v", err)
			}
			h, err := controlplane.Decode(back, Prefix)
			if err != nil {
				t.Errorf("decode %s: %v\n%s", env.DetailType, err, raw)
				continue
			}
			kinds[env.DetailType]++
			if env.Source == "aws.events" {
				continue
			}
			want := byID[env.ID].App
			if h.App != want && !(env.DetailType == "ECS Deployment State Change" && h.App == "") {
				t.Errorf("%s: decoded app %q, want %q", env.DetailType, h.App, want)
			}
			if env.Source == "aws.codebuild" {
				var cb events.CodeBuildEvent
				if err := json.Unmarshal(raw, &cb); err != nil {
					t.Errorf("CodeBuildEvent: %v", err)
				} else if time.Time(cb.Detail.AdditionalInformation.BuildStartTime).IsZero() {
					t.Errorf("CodeBuildEvent: build-start-time not parsed")
				}
			}
		}
	}
	for _, dt := range []string{"CodeBuild Build State Change", "CodeBuild Build Phase Change", "ECS Task State Change",
		"ECS Deployment State Change", "ECS Service Action", "Parameter Store Change", "Scheduled Event"} {
		if kinds[dt] == 0 {
			t.Errorf("no %q event was emitted (%v)", dt, kinds)
		}
	}
}

// testApp returns a world with one app and its clients.
func testApp(t *testing.T) (*World, *controlplane.AppClients, Settings) {
	t.Helper()
	w := NewWorld(99)
	reg := w.AddApp("api", "111122223333")
	cl, err := w.Provider().ForApp(context.Background(), reg)
	if err != nil {
		t.Fatal(err)
	}
	return w, cl, w.apps["api"].settings
}

func registerTD(t *testing.T, w *World, cl *controlplane.AppClients, family, image string) string {
	t.Helper()
	out, err := cl.ECS.RegisterTaskDefinition(context.Background(), &ecs.RegisterTaskDefinitionInput{
		Family: ptr(family), NetworkMode: ecstypes.NetworkModeAwsvpc,
		RequiresCompatibilities: []ecstypes.Compatibility{ecstypes.CompatibilityFargate},
		Cpu:                     ptr("256"), Memory: ptr("512"),
		ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: ptr("app"), Image: ptr(image),
			PortMappings: []ecstypes.PortMapping{{ContainerPort: ptr(int32(8080))}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return *out.TaskDefinition.TaskDefinitionArn
}

func netCfg(s Settings) *ecstypes.NetworkConfiguration {
	return &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{Subnets: s.Subnets, SecurityGroups: s.SecurityGroups}}
}

func buildImage(w *World, app string, plan BuildPlan) string {
	n := w.StartBuild(app, plan)
	w.RunFor(plan.Duration + time.Second)
	return w.apps[app].builds[n-1].image
}

func okPlan() BuildPlan {
	return BuildPlan{Duration: 2 * time.Minute, Status: "SUCCEEDED", Processes: map[string]Process{"web": {Command: "w"}}, ReleaseCommand: "m", Release: ReleaseOK}
}

// TestRunTaskIdempotentAndLifecycle: a release task goes PROVISIONING →
// PENDING → RUNNING → DEPROVISIONING → STOPPED with growing versions and
// exit code 0; the same clientToken returns the same task; another
// parameter set with that token is a ConflictException; a capacity fault
// comes back in Failures with no error.
func TestRunTaskIdempotentAndLifecycle(t *testing.T) {
	w, cl, s := testApp(t)
	ctx := context.Background()
	img := buildImage(w, "api", okPlan())
	td := registerTD(t, w, cl, "wharf-api_release", img)
	var statuses []string
	var versions []int64
	w.OnEvent(func(ev Event) {
		if ev.Envelope.DetailType != "ECS Task State Change" {
			return
		}
		var d struct {
			LastStatus string `json:"lastStatus"`
			Version    int64  `json:"version"`
			StopCode   string `json:"stopCode"`
		}
		_ = json.Unmarshal(ev.Envelope.Detail, &d)
		statuses = append(statuses, d.LastStatus)
		versions = append(versions, d.Version)
	})
	in := &ecs.RunTaskInput{Cluster: ptr(s.ClusterARN), TaskDefinition: ptr(td), StartedBy: ptr("wharf-release-1"), ClientToken: ptr("tok-1"), NetworkConfiguration: netCfg(s), LaunchType: ecstypes.LaunchTypeFargate}
	a, err := cl.ECS.RunTask(ctx, in)
	if err != nil || len(a.Tasks) != 1 || len(a.Failures) != 0 {
		t.Fatalf("RunTask: %v %+v", err, a)
	}
	b, err := cl.ECS.RunTask(ctx, in)
	if err != nil || *b.Tasks[0].TaskArn != *a.Tasks[0].TaskArn {
		t.Fatalf("same token started another task: %v", err)
	}
	other := *in
	other.StartedBy = ptr("wharf-release-2")
	var conflict *ecstypes.ConflictException
	if _, err := cl.ECS.RunTask(ctx, &other); !errors.As(err, &conflict) {
		t.Errorf("token reuse with other parameters: got %v, want ConflictException", err)
	}
	w.RunFor(10 * time.Minute)
	d, err := cl.ECS.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: ptr(s.ClusterARN), Tasks: []string{*a.Tasks[0].TaskArn}})
	if err != nil {
		t.Fatal(err)
	}
	task := d.Tasks[0]
	if *task.LastStatus != "STOPPED" || task.StopCode != ecstypes.TaskStopCodeEssentialContainerExited || task.Containers[0].ExitCode == nil || *task.Containers[0].ExitCode != 0 {
		t.Errorf("release task ended %s %s %v", *task.LastStatus, task.StopCode, task.Containers[0].ExitCode)
	}
	want := "PROVISIONING,PENDING,RUNNING,RUNNING,DEPROVISIONING,STOPPED"
	if got := strings.Join(statuses, ","); got != want {
		t.Errorf("statuses %s, want %s", got, want)
	}
	for i := 1; i < len(versions); i++ {
		if versions[i] <= versions[i-1] {
			t.Errorf("versions not increasing: %v", versions)
		}
	}
	w.Faults = FaultConfig{RunTaskFailure: 1}
	w.faultsOn = true
	in.ClientToken = ptr("tok-2")
	f, err := cl.ECS.RunTask(ctx, in)
	if err != nil || len(f.Failures) != 1 || len(f.Tasks) != 0 {
		t.Errorf("capacity fault: %v %+v", err, f)
	}
	w.RunFor(2 * time.Hour)
	d, _ = cl.ECS.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: ptr(s.ClusterARN), Tasks: []string{*a.Tasks[0].TaskArn}})
	if len(d.Failures) != 1 || *d.Failures[0].Reason != "MISSING" {
		t.Errorf("a task stopped two hours ago should be MISSING, got %+v", d)
	}
}

// TestCircuitBreakerRollback: a broken build's deployment fails through
// the breaker, which rolls the service back to the last completed
// deployment, with the events ECS sends.
func TestCircuitBreakerRollback(t *testing.T) {
	w, cl, s := testApp(t)
	ctx := context.Background()
	good := registerTD(t, w, cl, "wharf-api_web", buildImage(w, "api", okPlan()))
	broken := okPlan()
	broken.Broken = true
	bad := registerTD(t, w, cl, "wharf-api_web", buildImage(w, "api", broken))
	var seen []string
	w.OnEvent(func(ev Event) {
		if strings.HasPrefix(ev.Envelope.DetailType, "ECS Deployment") || ev.Envelope.DetailType == "ECS Service Action" {
			var d struct{ EventName, Reason string }
			_ = json.Unmarshal(ev.Envelope.Detail, &d)
			seen = append(seen, d.EventName+":"+d.Reason)
			if ev.Envelope.DetailType == "ECS Deployment State Change" && strings.Contains(string(ev.Envelope.Detail), "clusterArn") {
				t.Errorf("deployment events carry no clusterArn: %s", ev.Envelope.Detail)
			}
		}
	})
	cb := &ecstypes.DeploymentConfiguration{DeploymentCircuitBreaker: &ecstypes.DeploymentCircuitBreaker{Enable: true, Rollback: true}}
	lb := []ecstypes.LoadBalancer{{TargetGroupArn: ptr(s.TargetGroupARN), ContainerName: ptr("app"), ContainerPort: ptr(int32(8080))}}
	if _, err := cl.ECS.CreateService(ctx, &ecs.CreateServiceInput{Cluster: ptr(s.ClusterARN), ServiceName: ptr("wharf-api_web"), TaskDefinition: ptr(good),
		DesiredCount: ptr(int32(2)), NetworkConfiguration: netCfg(s), DeploymentConfiguration: cb, LoadBalancers: lb}); err != nil {
		t.Fatal(err)
	}
	w.RunFor(5 * time.Minute)
	if _, err := cl.ECS.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: ptr(s.ClusterARN), Service: ptr("wharf-api_web"), TaskDefinition: ptr(bad)}); err != nil {
		t.Fatal(err)
	}
	w.RunFor(15 * time.Minute)
	joined := strings.Join(seen, "\n")
	for _, want := range []string{"SERVICE_DEPLOYMENT_COMPLETED", "SERVICE_DEPLOYMENT_FAILED:ECS deployment circuit breaker: task failed to start.",
		"SERVICE_DEPLOYMENT_IN_PROGRESS:ECS deployment circuit breaker: rolling back to deploymentId", "SERVICE_STEADY_STATE"} {
		if !strings.Contains(joined, want) {
			t.Errorf("missing %q in:\n%s", want, joined)
		}
	}
	out, err := cl.ECS.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: ptr(s.ClusterARN), Services: []string{"wharf-api_web", "wharf-api_gone"}})
	if err != nil {
		t.Fatal(err)
	}
	svc := out.Services[0]
	if *svc.TaskDefinition != good || len(svc.Deployments) != 1 || svc.Deployments[0].RolloutState != ecstypes.DeploymentRolloutStateCompleted || svc.RunningCount != 2 {
		t.Errorf("after rollback: td=%s deployments=%d running=%d", *svc.TaskDefinition, len(svc.Deployments), svc.RunningCount)
	}
	if len(out.Failures) != 1 || *out.Failures[0].Reason != "MISSING" {
		t.Errorf("unknown service: %+v", out.Failures)
	}
	// Deleting needs force while scaled up; then DRAINING → INACTIVE, and
	// an update of an inactive service is ServiceNotActiveException.
	var inv *ecstypes.InvalidParameterException
	if _, err := cl.ECS.DeleteService(ctx, &ecs.DeleteServiceInput{Cluster: ptr(s.ClusterARN), Service: ptr("wharf-api_web")}); !errors.As(err, &inv) {
		t.Errorf("DeleteService without force: %v", err)
	}
	if _, err := cl.ECS.DeleteService(ctx, &ecs.DeleteServiceInput{Cluster: ptr(s.ClusterARN), Service: ptr("wharf-api_web"), Force: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	w.RunFor(2 * time.Minute)
	var na *ecstypes.ServiceNotActiveException
	if _, err := cl.ECS.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: ptr(s.ClusterARN), Service: ptr("wharf-api_web"), ForceNewDeployment: true}); !errors.As(err, &na) {
		t.Errorf("update of a deleted service: %v", err)
	}
	var nf *ecstypes.ServiceNotFoundException
	if _, err := cl.ECS.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: ptr(s.ClusterARN), Service: ptr("wharf-api_nope")}); !errors.As(err, &nf) {
		t.Errorf("update of an unknown service: %v", err)
	}
	// Another app's resources are out of reach of this app's role.
	var denied *ecstypes.AccessDeniedException
	if _, err := cl.ECS.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: ptr(s.ClusterARN), Service: ptr("wharf-shop_web")}); !errors.As(err, &denied) && !errors.As(err, &nf) {
		t.Errorf("cross-app update: %v", err)
	}
}

// TestErrorsLookLikeTheSDK: injected throttling and 5xx errors unwrap the
// way real SDK errors do.
func TestErrorsLookLikeTheSDK(t *testing.T) {
	w, cl, s := testApp(t)
	ctx := context.Background()
	w.faultsOn = true
	w.Faults = FaultConfig{Throttle: 1}
	_, err := cl.ECS.ListServices(ctx, &ecs.ListServicesInput{Cluster: ptr(s.ClusterARN)})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "ThrottlingException" {
		t.Errorf("throttle: %v", err)
	}
	var oe *smithy.OperationError
	if !errors.As(err, &oe) || oe.Service() != "ECS" || oe.Operation() != "ListServices" {
		t.Errorf("not an OperationError: %v", err)
	}
	w.Faults = FaultConfig{ServerError: 1}
	_, err = cl.SSM.DescribeParameters(ctx, &ssm.DescribeParametersInput{})
	if !errors.As(err, &ae) || ae.ErrorFault() != smithy.FaultServer {
		t.Errorf("5xx: %v", err)
	}
	w.faultsOn = false
	_, err = cl.SSM.GetParameter(ctx, &ssm.GetParameterInput{Name: ptr("/wharf/apps/api/nope")})
	var pnf *ssmtypes.ParameterNotFound
	if !errors.As(err, &pnf) {
		t.Errorf("missing parameter: %v", err)
	}
}

// TestDescribeParameters: path filters, versions and pagination.
func TestDescribeParameters(t *testing.T) {
	w, cl, _ := testApp(t)
	ctx := context.Background()
	for i := range 12 {
		w.PutConfig("api", fmt.Sprintf("VAR%02d", i))
	}
	w.PutConfig("api", "VAR03")
	var names []string
	var token *string
	pages := 0
	for {
		out, err := cl.SSM.DescribeParameters(ctx, &ssm.DescribeParametersInput{
			ParameterFilters: []ssmtypes.ParameterStringFilter{{Key: ptr("Path"), Option: ptr("Recursive"), Values: []string{"/wharf/apps/api/config/"}}},
			NextToken:        token,
		})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, p := range out.Parameters {
			names = append(names, fmt.Sprintf("%s@%d", *p.Name, p.Version))
		}
		if token = out.NextToken; token == nil {
			break
		}
	}
	if len(names) != 12 || pages != 2 || names[3] != "/wharf/apps/api/config/VAR03@2" {
		t.Errorf("got %d names in %d pages: %v", len(names), pages, names)
	}
}
