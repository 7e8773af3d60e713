package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"
	"github.com/spf13/cobra"

	// The Session Manager plugin, in process (as AppPack does): the
	// session package opens the data channel; shellsession registers the
	// interactive shell handler (raw terminal, resize, control keys).
	smsession "github.com/aws/session-manager-plugin/src/sessionmanagerplugin/session"
	_ "github.com/aws/session-manager-plugin/src/sessionmanagerplugin/session/shellsession"

	"github.com/wharf-paas/wharf/contract"
)

// envSessionResponse carries the ExecuteCommand session from wharf to its
// session child (in the environment, not on the command line where other
// users could read the token). The plugin reads and clears it.
const envSessionResponse = "AWS_SSM_START_SESSION_RESPONSE_WHARF"

// shellCommand is what `wharf shell` (and exec without a command) runs: a
// login bash where the image has one, else sh.
const shellCommand = `/bin/sh -c 'if command -v bash >/dev/null 2>&1; then exec bash -l; else exec sh -l; fi'`

// execOptions are exec's and shell's flags.
type execOptions struct {
	process     string
	task        string
	newTask     bool
	cpu, memory int32
}

func (c *cli) execCommand() *cobra.Command {
	var o execOptions
	cmd := &cobra.Command{
		Use:   "exec [--process web] [--task ID] [--new] [-- COMMAND [ARGS...]]",
		Short: "Run a command (default: a shell) in a running task of the app, with ECS Exec",
		Long: "Open an interactive ECS Exec session in a running task of a process (web by default), or\n" +
			"in a new one-off task of the app's release when none runs or with --new (stopped when the\n" +
			"session ends). The session runs inside wharf: nothing else to install.",
		Example: "  wharf exec -a api\n  wharf exec -a api --process worker -- bin/console\n  wharf exec -a api --new --cpu 1024 --memory 2048",
		RunE: func(cmd *cobra.Command, args []string) error {
			command := shellCommand
			if len(args) > 0 {
				command = shellJoin(args)
			}
			return c.execInto(cmd.Context(), o, command, contract.OneOffShell, nil)
		},
	}
	addExecFlags(cmd, &o)
	return cmd
}

func (c *cli) shellCommand() *cobra.Command {
	var o execOptions
	cmd := &cobra.Command{
		Use:     "shell [--process web] [--task ID] [--new]",
		Short:   "Open a shell in a running task of the app (wharf exec with a shell)",
		Example: "  wharf shell -a api\n  wharf shell -a api --new",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.execInto(cmd.Context(), o, shellCommand, contract.OneOffShell, nil)
		},
	}
	addExecFlags(cmd, &o)
	return cmd
}

func addExecFlags(cmd *cobra.Command, o *execOptions) {
	f := cmd.Flags()
	f.StringVarP(&o.process, "process", "p", "web", "process whose running task to use")
	f.StringVar(&o.task, "task", "", "the ID of the task to use")
	f.BoolVar(&o.newTask, "new", false, "start a new one-off task for the session")
	f.Int32Var(&o.cpu, "cpu", 0, fmt.Sprintf("CPU units of a new task (at most %d), with --memory", contract.MaxOneOffCPU))
	f.Int32Var(&o.memory, "memory", 0, fmt.Sprintf("memory in MiB of a new task (at most %d)", contract.MaxOneOffMemory))
}

// shellJoin quotes args for the command string ExecuteCommand takes.
func shellJoin(args []string) string {
	out := make([]string, len(args))
	for i, a := range args {
		if a != "" && strings.IndexFunc(a, func(r rune) bool {
			return !strings.ContainsRune("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,@%+", r)
		}) < 0 {
			out[i] = a
			continue
		}
		out[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(out, " ")
}

// execInto finds or starts the task, opens the ECS Exec session and runs
// it; a task it started is stopped afterwards. env is the extra
// environment of a new task (db shell).
func (c *cli) execInto(ctx context.Context, o execOptions, command, kind string, env map[string]string) error {
	if (o.cpu == 0) != (o.memory == 0) {
		return usagef("--cpu and --memory go together (Fargate sizes, e.g. --cpu 1024 --memory 2048)")
	}
	if o.cpu != 0 && o.task != "" {
		return usagef("--cpu and --memory size a new task; --task names a running one")
	}
	if o.cpu != 0 {
		o.newTask = true
	}
	c.sessionSeconds = 3600
	t, err := c.target(ctx)
	if err != nil {
		return err
	}
	client := ecs.NewFromConfig(t.cfg)
	cluster := t.app.ECSCluster
	var arn string
	started := false
	switch {
	case o.task != "":
		arn = o.task
	case !o.newTask:
		arn, err = c.runningTask(ctx, t, client, o.process)
		if err != nil {
			return err
		}
		if arn == "" {
			c.out.infof("No running %s task with ECS Exec enabled: starting a one-off task.", o.process)
		}
	}
	if arn == "" {
		task, err := c.startOneOff(ctx, t, oneOffSpec{kind: kind, command: contract.KeepAliveCommand(120), cpu: o.cpu, memory: o.memory, env: env})
		if err != nil {
			return err
		}
		arn, cluster, started = task.arn, task.cluster, true
		defer func() {
			if err := stopTask(ctx, client, cluster, arn, "wharf exec session ended"); err != nil {
				c.out.infof("Could not stop task %s: %v (it stops by itself when no session is left)", task.id, err)
			}
		}()
		if err := c.waitRunning(ctx, client, cluster, arn); err != nil {
			return err
		}
	}
	out, err := c.executeCommand(ctx, client, cluster, arn, command, started)
	if err != nil {
		return err
	}
	return c.runSession(ctx, t, out)
}

// runningTask is a RUNNING task of the process's service with ECS Exec
// enabled ("" when there is none).
func (c *cli) runningTask(ctx context.Context, t *target, client *ecs.Client, process string) (string, error) {
	if err := contract.ValidateProcessName(process); err != nil {
		return "", usagef("--process: %v", err)
	}
	svc := serviceName(t.pl.Prefix, t.app.Name, process)
	list, err := client.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String(t.app.ECSCluster), ServiceName: aws.String(svc), DesiredStatus: ecstypes.DesiredStatusRunning})
	if err != nil {
		var ae smithy.APIError
		if errors.As(err, &ae) && ae.ErrorCode() == "ServiceNotFoundException" {
			return "", nil
		}
		return "", awsErr("list the tasks of "+svc, err)
	}
	if len(list.TaskArns) == 0 {
		return "", nil
	}
	desc, err := client.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(t.app.ECSCluster), Tasks: list.TaskArns})
	if err != nil {
		return "", awsErr("describe the tasks of "+svc, err)
	}
	for _, tk := range desc.Tasks {
		if aws.ToString(tk.LastStatus) == "RUNNING" && tk.EnableExecuteCommand {
			return aws.ToString(tk.TaskArn), nil
		}
	}
	return "", nil
}

// waitRunning waits for a new task to run, with progress.
func (c *cli) waitRunning(ctx context.Context, client *ecs.Client, cluster, arn string) error {
	id := arn[strings.LastIndex(arn, "/")+1:]
	p := c.out.progress(fmt.Sprintf("Starting task %s", id))
	defer p.end()
	tick := time.NewTicker(pollInterval())
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return codef(ExitInterrupted, "interrupted")
		case <-tick.C:
		}
		tk, err := describeTask(ctx, client, cluster, arn)
		if err != nil {
			return err
		}
		if tk == nil {
			continue
		}
		switch s := aws.ToString(tk.LastStatus); s {
		case "RUNNING":
			return nil
		case "STOPPED", "DEPROVISIONING", "STOPPING":
			return taskExitOr(tk)
		default:
			p.update(fmt.Sprintf("Task %s: %s", id, strings.ToLower(s)))
		}
	}
}

// taskExitOr reports a task that stopped before the session.
func taskExitOr(tk *ecstypes.Task) error {
	if err := taskExit(tk); err != nil {
		return err
	}
	return codef(ExitFailed, "the task stopped before the session began: %s", aws.ToString(tk.StoppedReason))
}

// executeCommand calls ExecuteCommand. On a task that just started, the
// ECS Exec agent needs a few seconds: ECS answers InvalidParameterException
// until it runs, so a new task is retried (as AppPack does) for a minute.
func (c *cli) executeCommand(ctx context.Context, client *ecs.Client, cluster, arn, command string, fresh bool) (*ecs.ExecuteCommandOutput, error) {
	in := &ecs.ExecuteCommandInput{Cluster: aws.String(cluster), Task: aws.String(arn), Container: aws.String(contract.ContainerName),
		Command: aws.String(command), Interactive: true}
	deadline := time.Now().Add(time.Minute)
	for {
		out, err := client.ExecuteCommand(ctx, in)
		if err == nil {
			return out, nil
		}
		var ae smithy.APIError
		if fresh && errors.As(err, &ae) && ae.ErrorCode() == "InvalidParameterException" && time.Now().Before(deadline) {
			select {
			case <-ctx.Done():
				return nil, codef(ExitInterrupted, "interrupted")
			case <-time.After(pollInterval()):
			}
			continue
		}
		if errors.As(err, &ae) && ae.ErrorCode() == "InvalidParameterException" {
			return nil, codef(ExitError, "ECS Exec is not available in task %s: %s (tasks started before ECS Exec was enabled on their service cannot be entered until replaced, e.g. by wharf restart; or use --new)", arn, ae.ErrorMessage())
		}
		return nil, awsErr("ECS ExecuteCommand", err)
	}
}

// sessionDoc is what wharf hands its session child.
type sessionDoc struct {
	SessionID  string `json:"SessionId"`
	StreamURL  string `json:"StreamUrl"`
	TokenValue string `json:"TokenValue"`
}

// runSession runs the Session Manager data channel in a child process
// (wharf session-plugin): the plugin ends the process it runs in when the
// session closes (os.Exit), so wharf itself stays to stop a one-off task
// afterwards. The child inherits the terminal; Ctrl-C reaches the remote
// shell through it, and wharf ignores it meanwhile.
func (c *cli) runSession(ctx context.Context, t *target, out *ecs.ExecuteCommandOutput) error {
	s := out.Session
	if s == nil {
		return fmt.Errorf("ECS ExecuteCommand returned no session")
	}
	doc, _ := json.Marshal(sessionDoc{SessionID: aws.ToString(s.SessionId), StreamURL: aws.ToString(s.StreamUrl), TokenValue: aws.ToString(s.TokenValue)})
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find the wharf executable: %w", err)
	}
	taskID := aws.ToString(out.TaskArn)
	taskID = taskID[strings.LastIndex(taskID, "/")+1:]
	c.out.infof("Connected to task %s (container %s). Exit the shell to end the session.", taskID, aws.ToString(out.ContainerName))
	child := exec.Command(self, "session-plugin", t.app.Region, "ecs:"+t.app.ECSCluster+"_"+taskID)
	// The plugin signs the data channel's websocket request with the
	// default credential chain: hand it the app's user-role credentials
	// (never the user's own AWS profiles, which wharf ignores).
	creds, err := t.cfg.Credentials.Retrieve(ctx)
	if err != nil {
		return awsErr("credentials for the session", err)
	}
	child.Env = append(sessionEnv(os.Environ()), envSessionResponse+"="+string(doc), "AWS_ACCESS_KEY_ID="+creds.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY="+creds.SecretAccessKey, "AWS_SESSION_TOKEN="+creds.SessionToken, "AWS_REGION="+t.app.Region,
		"AWS_EC2_METADATA_DISABLED=true", "AWS_CONFIG_FILE="+os.DevNull, "AWS_SHARED_CREDENTIALS_FILE="+os.DevNull)
	child.Stdin, child.Stdout, child.Stderr = os.Stdin, os.Stdout, os.Stderr
	ignore := make(chan os.Signal, 1)
	signal.Notify(ignore, os.Interrupt)
	defer signal.Stop(ignore)
	if err := child.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return codef(ExitError, "the session ended with an error (exit %d)", ee.ExitCode())
		}
		return fmt.Errorf("run the session: %w", err)
	}
	return nil
}

// sessionEnv is env without the variables that would point the plugin's
// AWS SDK at the user's own credentials or profiles.
func sessionEnv(env []string) []string {
	out := env[:0:0]
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "AWS_") && !strings.HasPrefix(k, "AWS_ENDPOINT_URL") {
			continue
		}
		out = append(out, kv)
	}
	return out
}

// sessionPluginCommand is the hidden child that runs one session with the
// Session Manager plugin's own code: args REGION TARGET, the session in
// $AWS_SSM_START_SESSION_RESPONSE_WHARF.
func (c *cli) sessionPluginCommand() *cobra.Command {
	return &cobra.Command{
		Use:    "session-plugin REGION TARGET",
		Hidden: true,
		Args:   cobra.ExactArgs(2),
		RunE: func(_ *cobra.Command, args []string) error {
			if os.Getenv(envSessionResponse) == "" {
				return usagef("session-plugin is run by wharf exec")
			}
			target, _ := json.Marshal(map[string]string{"Target": args[1]})
			var errOut bytes.Buffer
			// The plugin's argument list: program, response (the name of
			// an environment variable starting AWS_SSM_START_SESSION_RESPONSE,
			// which it reads and clears), region, operation, profile,
			// request (the target), endpoint.
			smsession.ValidateInputAndStartSession([]string{"session-manager-plugin", envSessionResponse, args[0], smsession.StartSessionOperation, "", string(target), ""},
				io.MultiWriter(os.Stdout, &errOut))
			if strings.Contains(errOut.String(), "Cannot perform start session") {
				return codef(ExitNetwork, "could not open the ECS Exec session")
			}
			// The session goes on in the plugin's goroutines (stdin may
			// have ended, output may still come); the plugin exits the
			// process when the session closes.
			select {}
		},
	}
}
