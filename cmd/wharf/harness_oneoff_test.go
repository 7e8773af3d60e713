package main

// The harness's part for one-off tasks (wharf run, exec, shell, db shell):
// the apps' settings documents and release task definitions as the App
// construct and the control plane would write them, and the IAM mapping of
// the ECS calls these commands make, done by the IAM contract test's own
// mapper (test/iam) so that the CLI's calls are evaluated against the
// synthesized user role exactly as the control plane's are against its
// management role.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/wharf-paas/wharf/contract"
	"github.com/wharf-paas/wharf/internal/iampolicy"
	wiam "github.com/wharf-paas/wharf/test/iam"
)

// oneOffWorld is the one-off part of the world.
type oneOffWorld struct {
	once sync.Once
	// roles are each app's execution and task role ARNs, as the
	// synthesized templates resolve them.
	roles map[string][2]string
}

// roleNames gives every IAM role of a template without a RoleName the
// name CloudFormation would generate (<stack>-<logical ID>, at most 64),
// so that two apps' roles of the same logical ID differ, as in AWS.
func roleNames(raw map[string]any, stack string) map[string]string {
	refs := map[string]string{}
	res, _ := raw["Resources"].(map[string]any)
	for id, r := range res {
		rm, _ := r.(map[string]any)
		props, _ := rm["Properties"].(map[string]any)
		if rm["Type"] != "AWS::IAM::Role" || props["RoleName"] != nil {
			continue
		}
		name := stack + "-" + id
		if len(name) > 64 {
			name = name[:64]
		}
		refs[id] = name
	}
	return refs
}

// noteTaskRoles records an app's execution and task role ARNs.
func (w *world) noteTaskRoles(t testing.TB, app string, tpl *iampolicy.Template) {
	t.Helper()
	// The App construct's roles (constructs/app: ExecutionRole, TaskRole
	// under the construct "App").
	exec, err := tpl.Role("AppExecutionRole02BC3DDE")
	if err != nil {
		t.Fatal(err)
	}
	task, err := tpl.Role("AppTaskRole9B4EA8ED")
	if err != nil {
		t.Fatal(err)
	}
	if w.oneOff.roles == nil {
		w.oneOff.roles = map[string][2]string{}
	}
	w.oneOff.roles[app] = [2]string{exec.ARN, task.ARN}
}

// requests maps a call to its IAM requests: the one-off commands' ECS
// calls through test/iam's Mapper (with the task tags and task-definition
// roles awsfake holds), every other call through requestsFor.
func (w *world) requests(role, target string, body []byte) ([]iampolicy.Request, error) {
	service, op, _ := strings.Cut(target, ".")
	if service != "AmazonEC2ContainerServiceV20141113" {
		return requestsFor(target, body)
	}
	switch op {
	case "RunTask", "StopTask", "DescribeTasks", "ExecuteCommand":
	default:
		return requestsFor(target, body)
	}
	var in map[string]any
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, err
	}
	m := wiam.NewMapper()
	m.TaskTags = func(_, arn string) (map[string]string, bool) {
		task, ok := w.fake.Task(arn)
		if !ok {
			return nil, false
		}
		tags := map[string]string{}
		for _, tg := range task.Tags {
			tags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
		}
		return tags, true
	}
	m.TaskDefRoles = func(_, ref string) ([]string, bool) {
		td := w.taskDefinition(ref)
		if td == nil {
			return nil, false
		}
		return []string{aws.ToString(td.ExecutionRoleArn), aws.ToString(td.TaskRoleArn)}, true
	}
	return m.PolicyRequests(wiam.Call{Service: "ecs", Op: op, Role: role, Account: testAccount, Region: testRegion, Input: in})
}

// taskDefinition resolves "family", "family:rev" or an ARN in awsfake (a
// bare family: its latest ACTIVE revision).
func (w *world) taskDefinition(ref string) *ecstypes.TaskDefinition {
	if i := strings.Index(ref, ":task-definition/"); i >= 0 {
		ref = ref[i+len(":task-definition/"):]
	}
	family, rev, hasRev := strings.Cut(ref, ":")
	defs := w.fake.TaskDefinitions(family)
	for i := len(defs) - 1; i >= 0; i-- {
		if (hasRev && fmt.Sprint(defs[i].Revision) == rev) || (!hasRev && defs[i].Status == ecstypes.TaskDefinitionStatusActive) {
			return &defs[i]
		}
	}
	return nil
}

// seedOneOff writes, once, each app's settings document and registers its
// release task definition (as the control plane does: the app's roles,
// its log group with stream prefix "release", the wharf:app tag).
func (w *world) seedOneOff(t testing.TB) {
	t.Helper()
	w.oneOff.once.Do(func() {
		ctx := context.Background()
		for _, a := range w.desc.Apps {
			roles := w.oneOff.roles[a.Name]
			set := contract.Settings{Version: contract.SettingsVersion, App: a.Name, Prefix: "wharf",
				ClusterARN: "arn:aws:ecs:eu-west-1:111122223333:cluster/wharf-main", Subnets: []string{"subnet-private-a", "subnet-private-b"},
				SecurityGroups: []string{"sg-" + a.Name}, LaunchType: contract.LaunchTypeFargate, ExecutionRoleARN: roles[0], TaskRoleARN: roles[1],
				LogGroup: a.LogGroup, CodeBuildProject: a.CodeBuildProject, ConfigPrefix: a.ConfigPrefix}
			b, _ := json.Marshal(set)
			if _, err := w.ssm().PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String(contract.Names{Prefix: "wharf"}.SettingsParameter(a.Name)),
				Value: aws.String(string(b)), Type: "String", Overwrite: aws.Bool(true)}); err != nil {
				t.Fatal(err)
			}
			family := contract.Names{Prefix: "wharf"}.ReleaseFamily(a.Name)
			if _, err := w.ecs().RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
				Family: aws.String(family), NetworkMode: ecstypes.NetworkModeAwsvpc, RequiresCompatibilities: []ecstypes.Compatibility{ecstypes.CompatibilityFargate},
				Cpu: aws.String("512"), Memory: aws.String("1024"), ExecutionRoleArn: aws.String(roles[0]), TaskRoleArn: aws.String(roles[1]),
				ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String(contract.ContainerName), Image: aws.String("111122223333.dkr.ecr.eu-west-1.amazonaws.com/wharf-" + a.Name + ":build-7"),
					Essential: aws.Bool(true), LogConfiguration: &ecstypes.LogConfiguration{LogDriver: ecstypes.LogDriverAwslogs, Options: map[string]string{
						"awslogs-group": a.LogGroup, "awslogs-region": testRegion, "awslogs-stream-prefix": contract.ReleaseProcess}}}},
				Tags: []ecstypes.Tag{{Key: aws.String(contract.TagApp), Value: aws.String(a.Name)}, {Key: aws.String(contract.TagBuild), Value: aws.String("7")}},
			}); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// waitTask waits for a task that startedBy started and that is not in
// skip, and returns it.
func (w *world) waitTask(t testing.TB, startedBy string, skip map[string]bool) ecstypes.Task {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		for _, task := range w.fake.Tasks() {
			if aws.ToString(task.StartedBy) == startedBy && !skip[aws.ToString(task.TaskArn)] {
				return task
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no task started by %s", startedBy)
	return ecstypes.Task{}
}

// taskIDs returns the ARNs of every task now in the fake.
func (w *world) taskIDs() map[string]bool {
	out := map[string]bool{}
	for _, task := range w.fake.Tasks() {
		out[aws.ToString(task.TaskArn)] = true
	}
	return out
}

// background is a wharf command running in the background.
type background struct {
	cmd  *exec.Cmd
	out  bytes.Buffer
	errb bytes.Buffer
	done chan result
}

// start runs wharf in the background (for commands that wait on the
// world: the test drives the world, then collects the result).
func (h *home) start(t testing.TB, args ...string) *background {
	t.Helper()
	b := &background{cmd: exec.Command(wharfBin, args...), done: make(chan result, 1)}
	b.cmd.Env = h.env
	b.cmd.Stdout, b.cmd.Stderr = &b.out, &b.errb
	if err := b.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		err := b.cmd.Wait()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			code = -1
		}
		b.done <- result{stdout: b.out.String(), stderr: b.errb.String(), code: code}
	}()
	t.Cleanup(func() { _ = b.cmd.Process.Kill() })
	return b
}

func (b *background) wait(t testing.TB) result {
	t.Helper()
	select {
	case r := <-b.done:
		return r
	case <-time.After(60 * time.Second):
		t.Fatalf("wharf did not exit")
		return result{}
	}
}

// runCalls returns the RunTask requests awsfake answered, oldest first.
func (w *world) runCalls() []*ecs.RunTaskInput {
	var out []*ecs.RunTaskInput
	for _, c := range w.fake.CallsTo("RunTask") {
		if in, ok := c.Input.(*ecs.RunTaskInput); ok && c.ErrorCode == "" {
			out = append(out, in)
		}
	}
	return out
}

func tagMap(tags []ecstypes.Tag) map[string]string {
	m := map[string]string{}
	for _, t := range tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}
