package awsfake_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// TestExecuteCommand: ECS Exec needs a RUNNING task started with
// enableExecuteCommand and interactive true; the answer is a session with
// a stream URL and token. RunTask propagates the task definition's tags
// and applies a size override.
func TestExecuteCommand(t *testing.T) {
	c := newClients(t, aws.NopRetryer{})
	ctx := context.Background()
	if _, err := c.ecs.RegisterTaskDefinition(ctx, registerInput("wharf-api_release", "img:1")); err != nil {
		t.Fatal(err)
	}
	run := func(exec bool) types.Task {
		out, err := c.ecs.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String(cluster), TaskDefinition: aws.String("wharf-api_release"),
			LaunchType: types.LaunchTypeFargate, NetworkConfiguration: netConf(), EnableExecuteCommand: exec,
			PropagateTags: types.PropagateTagsTaskDefinition, Tags: []types.Tag{{Key: aws.String("extra"), Value: aws.String("1")}},
			Overrides: &types.TaskOverride{Cpu: aws.String("1024"), Memory: aws.String("2048")}})
		if err != nil || len(out.Tasks) != 1 {
			t.Fatalf("RunTask: %v", err)
		}
		return out.Tasks[0]
	}
	task := run(true)
	tags := map[string]string{}
	for _, tg := range task.Tags {
		tags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	if tags["wharf:app"] != "api" || tags["extra"] != "1" || aws.ToString(task.Cpu) != "1024" || aws.ToString(task.Memory) != "2048" || !task.EnableExecuteCommand {
		t.Errorf("task = tags %v cpu %s memory %s exec %v", tags, aws.ToString(task.Cpu), aws.ToString(task.Memory), task.EnableExecuteCommand)
	}
	in := &ecs.ExecuteCommandInput{Cluster: aws.String(cluster), Task: task.TaskArn, Command: aws.String("/bin/sh"), Interactive: true}
	if _, err := c.ecs.ExecuteCommand(ctx, in); apiCode(err) != "InvalidParameterException" {
		t.Errorf("exec into a PROVISIONING task: %v", err)
	}
	if _, err := c.srv.StartTask(aws.ToString(task.TaskArn)); err != nil {
		t.Fatal(err)
	}
	c.srv.SetExecStreamURL("ws://127.0.0.1:1")
	out, err := c.ecs.ExecuteCommand(ctx, in)
	if err != nil {
		t.Fatalf("ExecuteCommand: %v", err)
	}
	if s := out.Session; s == nil || !strings.HasPrefix(aws.ToString(s.StreamUrl), "ws://127.0.0.1:1/v1/data-channel/"+aws.ToString(s.SessionId)) ||
		aws.ToString(s.TokenValue) == "" || aws.ToString(out.ContainerName) != "app" {
		t.Errorf("ExecuteCommand = %+v", out)
	}
	if got := c.srv.ExecSessions(); len(got) != 1 || got[0].Command != "/bin/sh" || got[0].TaskArn != aws.ToString(task.TaskArn) {
		t.Errorf("ExecSessions = %+v", got)
	}
	in.Interactive = false
	if _, err := c.ecs.ExecuteCommand(ctx, in); apiCode(err) != "InvalidParameterException" {
		t.Errorf("non-interactive exec: %v", err)
	}
	noExec := run(false)
	if _, err := c.srv.StartTask(aws.ToString(noExec.TaskArn)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ecs.ExecuteCommand(ctx, &ecs.ExecuteCommandInput{Cluster: aws.String(cluster), Task: noExec.TaskArn, Command: aws.String("sh"), Interactive: true}); apiCode(err) != "InvalidParameterException" {
		t.Errorf("exec into a task without enableExecuteCommand: %v", err)
	}
}
