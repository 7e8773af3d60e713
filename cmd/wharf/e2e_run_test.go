package main

import (
	"context"
	"encoding/json"
	"strings"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/wharf-paas/wharf/controlplane/awsfake"
)

const aliceRun = "wharf-run-alice-example-com"

// putDeployed writes api's status document: build 7 deployed, nothing newer.
func putDeployed(t *testing.T, w *world) {
	w.putStatus(t, map[string]any{"version": 1, "app": "api", "phase": "deployed", "build": 7,
		"deployed": map[string]any{"build": 7}, "processes": map[string]any{"web": map[string]int{"desired": 1}}, "updatedAt": "2026-12-06T01:00:00Z"})
}

// TestRun: wharf run starts the release task definition with the command
// overridden, in the app's network, tagged and exec-enabled; streams the
// task's log and exits with the container's exit code. Every call goes
// through the guard (the synthesized user role).
func TestRun(t *testing.T) {
	h := alice(t)
	w := h.w
	w.seedOneOff(t)
	putDeployed(t, w)
	before := w.taskIDs()
	bg := h.start(t, "run", "-a", "api", "--", "bin/rake", "db:migrate", "VERSION=3")
	task := w.waitTask(t, aliceRun, before)
	arn := aws.ToString(task.TaskArn)
	id := arn[strings.LastIndex(arn, "/")+1:]
	if _, err := w.fake.StartTask(arn); err != nil {
		t.Fatal(err)
	}
	w.putLogs(t, "/wharf/apps/api", "release/app/"+id, "== migrating ==", "done: 3 migrations")
	w.putLogs(t, "/wharf/apps/api", "release/app/someothertask", "another task's line")
	if _, err := w.fake.FinishTaskWith(arn, awsfake.Exit(3)); err != nil {
		t.Fatal(err)
	}
	r := bg.wait(t)
	if r.code != 3 || r.stdout != "== migrating ==\ndone: 3 migrations\n" {
		t.Errorf("wharf run: exit %d, stdout %q\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	calls := w.runCalls()
	in := calls[len(calls)-1]
	nc := in.NetworkConfiguration.AwsvpcConfiguration
	ov := in.Overrides.ContainerOverrides
	if aws.ToString(in.TaskDefinition) != "wharf-api_release" || aws.ToString(in.Cluster) != "arn:aws:ecs:eu-west-1:111122223333:cluster/wharf-main" ||
		in.LaunchType != ecstypes.LaunchTypeFargate || strings.Join(nc.Subnets, ",") != "subnet-private-a,subnet-private-b" ||
		strings.Join(nc.SecurityGroups, ",") != "sg-api" || nc.AssignPublicIp != ecstypes.AssignPublicIpDisabled ||
		len(ov) != 1 || aws.ToString(ov[0].Name) != "app" || strings.Join(ov[0].Command, " ") != "bin/rake db:migrate VERSION=3" ||
		!in.EnableExecuteCommand || tagMap(in.Tags)["wharf:app"] != "api" || len(in.Tags) != 1 || in.Overrides.Cpu != nil {
		b, _ := json.Marshal(in)
		t.Errorf("RunTask input %s", b)
	}
	roles := w.oneOff.roles["api"]
	w.sawAllowed(t, "ecs:RunTask arn:aws:ecs:eu-west-1:111122223333:task-definition/wharf-api_release")
	w.sawAllowed(t, "iam:PassRole "+roles[0])
	w.sawAllowed(t, "iam:PassRole "+roles[1])
	w.sawAllowed(t, "ecs:TagResource arn:aws:ecs:eu-west-1:111122223333:task/wharf-main/new")
	w.sawAllowed(t, "ecs:DescribeTasks "+arn)
	w.sawAllowed(t, "ssm:GetParameter arn:aws:ssm:eu-west-1:111122223333:parameter/wharf/apps/api/settings")
}

// TestRunSizesAndDetach: a size within the caps is sent as an override;
// --detach prints the task ID and returns; a size beyond the caps or not
// a Fargate size is refused before any call, naming the flag.
func TestRunSizesAndDetach(t *testing.T) {
	h := alice(t)
	w := h.w
	w.seedOneOff(t)
	putDeployed(t, w)
	r := h.run(t, "", "run", "-a", "api", "--detach", "--cpu", "1024", "--memory", "4096", "--", "bin/backfill")
	id := strings.TrimSpace(r.stdout)
	if r.code != 0 || len(id) != 32 {
		t.Fatalf("run --detach: exit %d stdout %q\n%s", r.code, r.stdout, r.stderr)
	}
	task, ok := w.fake.Task("arn:aws:ecs:eu-west-1:111122223333:task/wharf-main/" + id)
	if !ok || aws.ToString(task.Cpu) != "1024" || aws.ToString(task.Memory) != "4096" || aws.ToString(task.StartedBy) != aliceRun {
		t.Errorf("detached task %s: %+v", id, task)
	}
	n := len(w.runCalls())
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--cpu", "8192", "--memory", "16384"}, "--cpu: run.cpu"},
		{[]string{"--cpu", "4096", "--memory", "30720"}, "--memory: run.memory"},
		{[]string{"--cpu", "256", "--memory", "4096"}, "--memory: run.memory"},
		{[]string{"--cpu", "1024"}, "--cpu and --memory go together"},
	} {
		args := append(append([]string{"run", "-a", "api"}, c.args...), "--", "true")
		r := h.run(t, "", args...)
		if r.code != ExitUsage || !strings.Contains(r.stderr, c.want) {
			t.Errorf("run %v: exit %d, stderr %q (want %q)", c.args, r.code, r.stderr, c.want)
		}
	}
	if len(w.runCalls()) != n {
		t.Error("a refused size still started a task")
	}
}

// TestRunInterruptedAndFailedToStart: Ctrl-C stops the task (StopTask
// through the user role) and exits 130; a task that never ran exits 6 with
// ECS's reason.
func TestRunInterruptedAndFailedToStart(t *testing.T) {
	h := alice(t)
	w := h.w
	w.seedOneOff(t)
	putDeployed(t, w)
	before := w.taskIDs()
	bg := h.start(t, "run", "-a", "api", "--", "sleep", "1000")
	task := w.waitTask(t, aliceRun, before)
	arn := aws.ToString(task.TaskArn)
	if _, err := w.fake.StartTask(arn); err != nil {
		t.Fatal(err)
	}
	_ = bg.cmd.Process.Signal(syscall.SIGINT)
	r := bg.wait(t)
	stopped, _ := w.fake.Task(arn)
	if r.code != ExitInterrupted || aws.ToString(stopped.LastStatus) != "STOPPED" || stopped.StopCode != ecstypes.TaskStopCodeUserInitiated {
		t.Errorf("interrupted run: exit %d, task %s %s\n%s", r.code, aws.ToString(stopped.LastStatus), stopped.StopCode, r.stderr)
	}
	w.sawAllowed(t, "ecs:StopTask "+arn)

	before = w.taskIDs()
	bg = h.start(t, "run", "-a", "api", "--", "true")
	task = w.waitTask(t, aliceRun, before)
	if _, err := w.fake.FinishTaskWith(aws.ToString(task.TaskArn), awsfake.FailedToStart("CannotPullContainerError: image not found")); err != nil {
		t.Fatal(err)
	}
	r = bg.wait(t)
	if r.code != ExitFailed || !strings.Contains(r.stderr, "CannotPullContainerError") {
		t.Errorf("run that never started: exit %d\n%s", r.code, r.stderr)
	}
}

// TestRunAfterFailedBuild: while a build newer than the deployed one is
// deploying or failed, the release family's latest revision may be that
// build's; wharf run then runs the task definition the deployed service
// runs (its first process here: there is no web).
func TestRunAfterFailedBuild(t *testing.T) {
	h := alice(t)
	w := h.w
	w.seedOneOff(t)
	ctx := context.Background()
	roles := w.oneOff.roles["api"]
	td, err := w.ecs().RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("wharf-api_clock"),
		NetworkMode: ecstypes.NetworkModeAwsvpc, RequiresCompatibilities: []ecstypes.Compatibility{ecstypes.CompatibilityFargate},
		Cpu: aws.String("256"), Memory: aws.String("512"), ExecutionRoleArn: aws.String(roles[0]), TaskRoleArn: aws.String(roles[1]),
		ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("app"), Image: aws.String("img:7"), Essential: aws.Bool(true)}},
		Tags:                 []ecstypes.Tag{{Key: aws.String("wharf:app"), Value: aws.String("api")}}})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(td.TaskDefinition.TaskDefinitionArn)
	if _, err := w.ecs().CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String("wharf-main"), ServiceName: aws.String("wharf-api_clock"),
		TaskDefinition: aws.String(arn), DesiredCount: aws.Int32(1), LaunchType: ecstypes.LaunchTypeFargate,
		NetworkConfiguration: &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{Subnets: []string{"subnet-private-a"}, SecurityGroups: []string{"sg-api"}}}}); err != nil {
		t.Fatal(err)
	}
	w.putStatus(t, map[string]any{"version": 1, "app": "api", "phase": "failed", "build": 8, "reason": "ReleaseFailed",
		"deployed": map[string]any{"build": 7}, "processes": map[string]any{"clock": map[string]int{"desired": 1}}, "updatedAt": "2026-12-06T01:00:00Z"})
	n := len(w.runCalls())
	r := h.run(t, "", "run", "-a", "api", "--detach", "--", "true")
	calls := w.runCalls()
	if r.code != 0 || len(calls) != n+1 || aws.ToString(calls[n].TaskDefinition) != arn {
		t.Errorf("run after a failed build: exit %d, RunTask calls %d (want 1 of %s)\n%s", r.code, len(calls)-n, arn, r.stderr)
	}
	w.sawAllowed(t, "ecs:DescribeServices arn:aws:ecs:eu-west-1:111122223333:service/wharf-main/wharf-api_clock")
	putDeployed(t, w)
}

// TestHostileTenantOneOff: alice, allowed on api, calls ECS directly with
// the credentials wharf cached for her to run the web app's task
// definition, pass web's task role, tag a task as web's, stop and exec into
// web's task. The guard evaluates each against the synthesized user role,
// which refuses them.
func TestHostileTenantOneOff(t *testing.T) {
	h := alice(t)
	w := h.w
	w.seedOneOff(t)
	if r := h.run(t, "", "info", "-a", "api"); r.code != 0 {
		t.Fatalf("info: %s", r.stderr)
	}
	cfg := h.cachedConfig(t, "api")
	client := ecs.NewFromConfig(cfg, func(o *ecs.Options) { o.BaseEndpoint = aws.String(w.guard.URL) })
	ctx := context.Background()
	// web's own task, started by the platform.
	webTask, err := w.ecs().RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("wharf-main"), TaskDefinition: aws.String("wharf-web_release"),
		LaunchType: ecstypes.LaunchTypeFargate, EnableExecuteCommand: true, Tags: []ecstypes.Tag{{Key: aws.String("wharf:app"), Value: aws.String("web")}},
		NetworkConfiguration: &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{Subnets: []string{"subnet-private-a"}, SecurityGroups: []string{"sg-web"}}}})
	if err != nil {
		t.Fatal(err)
	}
	webArn := webTask.Tasks[0].TaskArn
	if _, err := w.fake.StartTask(aws.ToString(webArn)); err != nil {
		t.Fatal(err)
	}
	network := &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{Subnets: []string{"subnet-private-a"}, SecurityGroups: []string{"sg-api"}}}
	own := []ecstypes.Tag{{Key: aws.String("wharf:app"), Value: aws.String("api")}}
	webRoles := w.oneOff.roles["web"]
	attacks := []struct {
		name, denial string
		call         func() error
	}{
		{"run web's task definition", "task-definition/wharf-web_release", func() error {
			_, err := client.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("wharf-main"), TaskDefinition: aws.String("wharf-web_release"),
				LaunchType: ecstypes.LaunchTypeFargate, NetworkConfiguration: network, Tags: own})
			return err
		}},
		{"pass web's task role in an override", "iam:PassRole on resource: " + webRoles[1], func() error {
			_, err := client.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("wharf-main"), TaskDefinition: aws.String("wharf-api_release"),
				LaunchType: ecstypes.LaunchTypeFargate, NetworkConfiguration: network, Tags: own,
				Overrides: &ecstypes.TaskOverride{TaskRoleArn: aws.String(webRoles[1])}})
			return err
		}},
		{"tag a new task as web's", "ecs:TagResource", func() error {
			_, err := client.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("wharf-main"), TaskDefinition: aws.String("wharf-api_release"),
				LaunchType: ecstypes.LaunchTypeFargate, NetworkConfiguration: network, Tags: []ecstypes.Tag{{Key: aws.String("wharf:app"), Value: aws.String("web")}}})
			return err
		}},
		{"stop web's task", "ecs:StopTask on resource: " + aws.ToString(webArn), func() error {
			_, err := client.StopTask(ctx, &ecs.StopTaskInput{Cluster: aws.String("wharf-main"), Task: webArn})
			return err
		}},
		{"exec into web's task", "ecs:ExecuteCommand on resource: " + aws.ToString(webArn), func() error {
			_, err := client.ExecuteCommand(ctx, &ecs.ExecuteCommandInput{Cluster: aws.String("wharf-main"), Task: webArn, Command: aws.String("/bin/sh"), Interactive: true})
			return err
		}},
	}
	for _, a := range attacks {
		if err := a.call(); err == nil || !strings.Contains(err.Error(), "AccessDenied") {
			t.Errorf("%s: %v", a.name, err)
		}
		w.expectDenied(t, a.denial)
	}
	if task, _ := w.fake.Task(aws.ToString(webArn)); aws.ToString(task.LastStatus) != "RUNNING" {
		t.Errorf("web's task is %s", aws.ToString(task.LastStatus))
	}
}
