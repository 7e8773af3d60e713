package main

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
)

// execAgent points the world's ECS Exec sessions at a fake agent that
// accepts the tokens awsfake issued.
func execAgent(t *testing.T, w *world) *fakeAgent {
	a := newFakeAgent(t, func(id string) (string, bool) {
		for _, s := range w.fake.ExecSessions() {
			if s.SessionID == id {
				return s.Token, true
			}
		}
		return "", false
	})
	w.fake.SetExecStreamURL(a.url())
	return a
}

func checkAgent(t *testing.T, a *fakeAgent, wantLines ...string) {
	t.Helper()
	lines, sizes, opened, errs := a.state()
	if strings.Join(lines, "|") != strings.Join(wantLines, "|") || sizes == 0 || len(opened) != 1 || len(errs) > 0 {
		t.Errorf("agent saw lines %q, %d size messages, opened %v, errors %v", lines, sizes, opened, errs)
	}
}

// TestShellNewTask: wharf shell --new starts a keep-alive one-off task,
// waits for it to run, opens an ECS Exec session and runs the Session
// Manager data channel in process against the fake agent: on a terminal,
// typed keys reach the remote shell and its echo and output come back;
// "exit" closes the channel, and wharf stops the task.
func TestShellNewTask(t *testing.T) {
	h := alice(t)
	w := h.w
	w.seedOneOff(t)
	agent := execAgent(t, w)
	before := w.taskIDs()
	p := h.startPTY(t, []string{"NO_COLOR=1"}, "shell", "-a", "api", "--new")
	task := w.waitTask(t, "wharf-shell-alice-example-com", before)
	arn := aws.ToString(task.TaskArn)
	if cmd := task.Overrides.ContainerOverrides; len(cmd) != 1 || !strings.Contains(strings.Join(cmd[0].Command, " "), "ssm-session-worke[r]") || !task.EnableExecuteCommand {
		t.Errorf("the new task is not a keep-alive task with ECS Exec: %+v", task.Overrides)
	}
	if _, err := w.fake.StartTask(arn); err != nil {
		t.Fatal(err)
	}
	p.waitFor(t, "$ ")
	if _, err := p.tty.Write([]byte("echo hello\r")); err != nil {
		t.Fatal(err)
	}
	p.waitFor(t, "ran: echo hello")
	if !strings.Contains(p.output(), "$ echo hello") {
		t.Errorf("the remote echo is not on the terminal: %q", p.output())
	}
	if _, err := p.tty.Write([]byte("exit\r")); err != nil {
		t.Fatal(err)
	}
	if c := p.wait(t); c != 0 {
		t.Errorf("shell exit %d: %q", c, p.output())
	}
	checkAgent(t, agent, "echo hello", "exit")
	if s := w.fake.ExecSessions(); s[len(s)-1].Command != shellCommand || s[len(s)-1].TaskArn != arn || s[len(s)-1].Container != "app" {
		t.Errorf("ExecuteCommand %+v", s[len(s)-1])
	}
	if stopped, _ := w.fake.Task(arn); aws.ToString(stopped.LastStatus) != "STOPPED" {
		t.Errorf("the one-off task was not stopped: %s", aws.ToString(stopped.LastStatus))
	}
	w.sawAllowed(t, "ecs:ExecuteCommand "+arn)
	w.sawAllowed(t, "ecs:ExecuteCommand arn:aws:ecs:eu-west-1:111122223333:cluster/wharf-main")
	w.sawAllowed(t, "ecs:StopTask "+arn)
}

// TestExecRunningTask: wharf exec finds a running task of the process's
// service (ListTasks, DescribeTasks) and runs the command there, starting
// no task; a task without ECS Exec is skipped.
func TestExecRunningTask(t *testing.T) {
	h := alice(t)
	w := h.w
	w.seedOneOff(t)
	agent := execAgent(t, w)
	ctx := context.Background()
	var service []string
	for _, exec := range []bool{false, true} {
		out, err := w.ecs().RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("wharf-main"), TaskDefinition: aws.String("wharf-api_release"),
			LaunchType: ecstypes.LaunchTypeFargate, EnableExecuteCommand: exec, Group: aws.String("service:wharf-api_worker"),
			StartedBy: aws.String("ecs-svc/1234567890"), Tags: []ecstypes.Tag{{Key: aws.String("wharf:app"), Value: aws.String("api")}},
			NetworkConfiguration: &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{Subnets: []string{"subnet-private-a"}, SecurityGroups: []string{"sg-api"}}}})
		if err != nil {
			t.Fatal(err)
		}
		arn := aws.ToString(out.Tasks[0].TaskArn)
		if _, err := w.fake.StartTask(arn); err != nil {
			t.Fatal(err)
		}
		service = append(service, arn)
	}
	before := len(w.runCalls())
	defer func() {
		if t.Failed() {
			l, n, o, e := agent.state()
			t.Logf("agent: lines %q sizes %d opened %v errors %v", l, n, o, e)
		}
	}()
	p := h.startPTY(t, []string{"NO_COLOR=1"}, "exec", "-a", "api", "--process", "worker", "--", "bin/console", "--env", "it's")
	p.waitFor(t, "$ ")
	if _, err := p.tty.Write([]byte("exit\r")); err != nil {
		t.Fatal(err)
	}
	if c := p.wait(t); c != 0 {
		t.Errorf("exec exit %d: %q", c, p.output())
	}
	checkAgent(t, agent, "exit")
	s := w.fake.ExecSessions()
	if last := s[len(s)-1]; last.TaskArn != service[1] || last.Command != `bin/console --env 'it'\''s'` {
		t.Errorf("ExecuteCommand %+v (want task %s)", last, service[1])
	}
	if len(w.runCalls()) != before {
		t.Error("exec into a running task started a task")
	}
	w.sawAllowed(t, "ecs:DescribeTasks "+service[0])
}

// TestDBShell: wharf db shell reads the app's DATABASE_URL, signs an IAM
// auth token as the app's database user with the user role, starts a
// keep-alive one-off task with the PG* environment and attaches psql to it
// through ECS Exec; the task is stopped afterwards. (That the synthesized
// user role allows rds-db:connect as the app's own user only is checked in
// constructs/app, TestUserRoleConnectsOnlyAsOwnDatabaseUser; the database
// connection itself needs a real cluster.)
func TestDBShell(t *testing.T) {
	h := alice(t)
	w := h.w
	w.seedOneOff(t)
	agent := execAgent(t, w)
	ctx := context.Background()
	const name = "/wharf/apps/api/config/DATABASE_URL"
	host := "wharf-main.cluster-abc123.eu-west-1.rds.amazonaws.com"
	if _, err := w.ssm().PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String(name), Type: "String", Overwrite: aws.Bool(true),
		Value: aws.String("postgres://app_api@" + host + ":5432/app_api?sslmode=verify-full")}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = w.ssm().DeleteParameter(ctx, &ssm.DeleteParameterInput{Name: aws.String(name)}) })
	before := w.taskIDs()
	p := h.startPTY(t, []string{"NO_COLOR=1"}, "db", "shell", "-a", "api")
	task := w.waitTask(t, "wharf-db-alice-example-com", before)
	arn := aws.ToString(task.TaskArn)
	env := map[string]string{}
	for _, kv := range task.Overrides.ContainerOverrides[0].Environment {
		env[aws.ToString(kv.Name)] = aws.ToString(kv.Value)
	}
	token := env["PGPASSWORD"]
	if env["PGHOST"] != host || env["PGPORT"] != "5432" || env["PGUSER"] != "app_api" || env["PGDATABASE"] != "app_api" || env["PGSSLMODE"] != "verify-full" ||
		!strings.HasPrefix(token, host+":5432?Action=connect&DBUser=app_api&") || !strings.Contains(token, "X-Amz-Signature=") {
		t.Errorf("db shell task environment %v", env)
	}
	// The token is signed with the user role's session (the test STS
	// issued its key to alice's api session).
	if m := regexp.MustCompile(`X-Amz-Credential=([A-Z0-9]+)%2F`).FindStringSubmatch(token); m == nil {
		t.Errorf("no credential in the token %q", token)
	} else if sess, ok := w.sts.Session(m[1]); !ok || sess.RoleARN != "arn:aws:iam::111122223333:role/wharf-app-api-user" {
		t.Errorf("the token is signed by %+v, not the api user role", sess)
	}
	if _, err := w.fake.StartTask(arn); err != nil {
		t.Fatal(err)
	}
	p.waitFor(t, "$ ")
	if _, err := p.tty.Write([]byte("exit\r")); err != nil {
		t.Fatal(err)
	}
	if c := p.wait(t); c != 0 {
		t.Errorf("db shell exit %d: %q", c, p.output())
	}
	checkAgent(t, agent, "exit")
	if s := w.fake.ExecSessions(); s[len(s)-1].Command != psqlCommand || s[len(s)-1].TaskArn != arn {
		t.Errorf("ExecuteCommand %+v", s[len(s)-1])
	}
	if stopped, _ := w.fake.Task(arn); aws.ToString(stopped.LastStatus) != "STOPPED" {
		t.Errorf("the db shell task was not stopped: %s", aws.ToString(stopped.LastStatus))
	}
	w.sawAllowed(t, "ssm:GetParameter arn:aws:ssm:eu-west-1:111122223333:parameter/wharf/apps/api/config/DATABASE_URL")
}
