package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/smithy-go"
	"github.com/spf13/cobra"

	"github.com/wharf-paas/wharf/contract"
)

// ExitInterrupted is wharf run's exit code when Ctrl-C stopped the task
// (128 + SIGINT, as a shell reports it).
const ExitInterrupted = 130

// oneOffSpec is what a one-off task runs.
type oneOffSpec struct {
	kind    string   // contract.OneOffRun, OneOffShell, OneOffDB
	command []string // the container's command
	cpu     int32    // 0: the task definition's
	memory  int32
	env     map[string]string // extra environment of the container
}

// startedTask is a one-off task RunTask started.
type startedTask struct {
	arn, id string
	cluster string
	// stream is the task's log stream: <awslogs-stream-prefix>/<container>/<task id>.
	stream string
	family string
}

// readSettings reads the app's settings document (the user role may read
// it: ReadOwnSettings), which holds the network the app's tasks run in.
func (t *target) readSettings(ctx context.Context) (*contract.Settings, error) {
	name := contract.Names{Prefix: t.pl.Prefix}.SettingsParameter(t.app.Name)
	out, err := ssm.NewFromConfig(t.cfg).GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(name)})
	if err != nil {
		return nil, awsErr("read the app's settings "+name, err)
	}
	set, err := contract.ParseSettings([]byte(aws.ToString(out.Parameter.Value)), t.pl.Prefix, t.app.Name)
	if err != nil {
		return nil, fmt.Errorf("the app's settings %s: %w", name, err)
	}
	return set, nil
}

// runInput is the RunTask request of a one-off task: the task definition
// with the command (and size) overridden, in the app's network as its
// settings document gives it, tagged with the app (wharf:app, which the
// user role's describe, stop and exec statements require), with ECS Exec
// enabled.
func runInput(set *contract.Settings, taskDef, startedBy string, spec oneOffSpec) *ecs.RunTaskInput {
	assign := ecstypes.AssignPublicIpDisabled
	if set.AssignPublicIP {
		assign = ecstypes.AssignPublicIpEnabled
	}
	co := ecstypes.ContainerOverride{Name: aws.String(contract.ContainerName), Command: spec.command}
	keys := make([]string, 0, len(spec.env))
	for k := range spec.env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		co.Environment = append(co.Environment, ecstypes.KeyValuePair{Name: aws.String(k), Value: aws.String(spec.env[k])})
	}
	ov := &ecstypes.TaskOverride{ContainerOverrides: []ecstypes.ContainerOverride{co}}
	if spec.cpu != 0 {
		ov.Cpu = aws.String(strconv.Itoa(int(spec.cpu)))
		ov.Memory = aws.String(strconv.Itoa(int(spec.memory)))
	}
	return &ecs.RunTaskInput{
		Cluster:        aws.String(set.ClusterARN),
		TaskDefinition: aws.String(taskDef),
		LaunchType:     ecstypes.LaunchType(set.LaunchType),
		NetworkConfiguration: &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{
			Subnets: set.Subnets, SecurityGroups: set.SecurityGroups, AssignPublicIp: assign,
		}},
		Overrides:            ov,
		StartedBy:            aws.String(startedBy),
		Count:                aws.Int32(1),
		EnableExecuteCommand: true,
		Tags:                 []ecstypes.Tag{{Key: aws.String(contract.TagApp), Value: aws.String(set.App)}},
	}
}

// isTaskDefNotFound recognizes RunTask's answer for a family with no
// ACTIVE revision.
func isTaskDefNotFound(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && (ae.ErrorCode() == "ClientException" || ae.ErrorCode() == "InvalidParameterException") &&
		strings.Contains(strings.ToLower(ae.ErrorMessage()), "not found")
}

// startOneOff starts a one-off task: from the release task definition
// (<prefix>-<app>_release, its latest ACTIVE revision: the control plane
// registers one for every build with a release command or schedules), or,
// when the app has none, from the task definition its deployed web (or
// first) process runs.
func (c *cli) startOneOff(ctx context.Context, t *target, spec oneOffSpec) (*startedTask, error) {
	if spec.cpu != 0 || spec.memory != 0 {
		if err := contract.ValidateOneOffSize(spec.kind, spec.cpu, spec.memory); err != nil {
			return nil, withCode(ExitUsage, flagError(err))
		}
	}
	set, err := t.readSettings(ctx)
	if err != nil {
		return nil, err
	}
	sess, err := c.currentSession(ctx, t.pl, false)
	if err != nil {
		return nil, err
	}
	names := contract.Names{Prefix: t.pl.Prefix}
	client := ecs.NewFromConfig(t.cfg)
	startedBy := contract.OneOffStartedBy(spec.kind, sess.Email)
	family := names.ReleaseFamily(t.app.Name)
	var out *ecs.RunTaskOutput
	st, err := t.readStatus(ctx)
	if err != nil && !errors.Is(err, errNoStatus) {
		return nil, err
	}
	if newerThanDeployed(st) {
		// The release family's latest revision may be a build that is
		// still deploying or failed: run what the services run instead.
		err = errNewerBuild
	} else {
		out, err = client.RunTask(ctx, runInput(set, family, startedBy, spec))
	}
	if isTaskDefNotFound(err) || errors.Is(err, errNewerBuild) {
		var td string
		if td, err = t.deployedTaskDefinition(ctx, client, set, st); err != nil {
			return nil, err
		}
		family = familyOfTaskDef(td)
		out, err = client.RunTask(ctx, runInput(set, td, startedBy, spec))
	}
	if err != nil {
		return nil, awsErr("start a one-off task of "+family, err)
	}
	if len(out.Failures) > 0 || len(out.Tasks) == 0 {
		var reasons []string
		for _, f := range out.Failures {
			reasons = append(reasons, strings.TrimSpace(aws.ToString(f.Reason)+" "+aws.ToString(f.Detail)))
		}
		return nil, codef(ExitFailed, "ECS could not start the task: %s", strings.Join(reasons, "; "))
	}
	task := out.Tasks[0]
	arn := aws.ToString(task.TaskArn)
	id := arn[strings.LastIndex(arn, "/")+1:]
	_, proc, _ := names.ParseFamily(familyOfTaskDef(aws.ToString(task.TaskDefinitionArn)))
	if proc == "" {
		proc = contract.ReleaseProcess
	}
	return &startedTask{arn: arn, id: id, cluster: set.ClusterARN, family: family,
		stream: proc + "/" + contract.ContainerName + "/" + id}, nil
}

// flagError names the command-line flag of a one-off size error.
func flagError(err error) error {
	fe := contract.AsFieldError(err)
	if fe == nil {
		return err
	}
	flag := "--cpu"
	if strings.HasSuffix(fe.Field, ".memory") {
		flag = "--memory"
	}
	return usagef("%s: %v", flag, err)
}

// errNewerBuild: a build newer than the deployed one is deploying or
// failed.
var errNewerBuild = errors.New("a build newer than the deployed one is deploying or failed")

// newerThanDeployed reports whether the status document shows a build
// newer than the deployed one (deploying, or failed): the control plane
// registers a build's release task definition before it releases, so the
// release family's latest revision may then be that build's, not the
// deployed one's.
func newerThanDeployed(st *appStatus) bool {
	return st != nil && st.Deployed != nil && st.Build > st.Deployed.Build && len(st.Processes) > 0
}

// deployedTaskDefinition is the task definition of the app's deployed web
// process (else its first process, by name), from the status document st
// and DescribeServices.
func (t *target) deployedTaskDefinition(ctx context.Context, client *ecs.Client, set *contract.Settings, st *appStatus) (string, error) {
	if st == nil || len(st.Processes) == 0 {
		return "", codef(ExitError, "app %s has no deployed build yet, so there is nothing to run", t.app.Name)
	}
	procs := make([]string, 0, len(st.Processes))
	for p := range st.Processes {
		procs = append(procs, p)
	}
	sort.Strings(procs)
	if _, ok := st.Processes["web"]; ok {
		procs = []string{"web"}
	}
	svc := serviceName(t.pl.Prefix, t.app.Name, procs[0])
	out, err := client.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(set.ClusterARN), Services: []string{svc}})
	if err != nil {
		return "", awsErr("describe service "+svc, err)
	}
	if len(out.Services) == 0 || aws.ToString(out.Services[0].TaskDefinition) == "" {
		return "", codef(ExitError, "app %s has no release task definition and its service %s is not there", t.app.Name, svc)
	}
	return aws.ToString(out.Services[0].TaskDefinition), nil
}

// familyOfTaskDef is the family of a task definition ARN or family[:rev].
func familyOfTaskDef(td string) string {
	if i := strings.Index(td, ":task-definition/"); i >= 0 {
		td = td[i+len(":task-definition/"):]
	}
	f, _, _ := strings.Cut(td, ":")
	return f
}

// describeTask reads one task (nil when ECS no longer knows it).
func describeTask(ctx context.Context, client *ecs.Client, cluster, arn string) (*ecstypes.Task, error) {
	out, err := client.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(cluster), Tasks: []string{arn}})
	if err != nil {
		return nil, awsErr("describe task", err)
	}
	for i := range out.Tasks {
		if aws.ToString(out.Tasks[i].TaskArn) == arn {
			return &out.Tasks[i], nil
		}
	}
	return nil, nil
}

// stopTask stops a one-off task (the user role may stop its app's tagged
// tasks in its cluster: StopOwnTasks). It ignores ctx's cancellation so
// that Ctrl-C still stops the task.
func stopTask(ctx context.Context, client *ecs.Client, cluster, arn, reason string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	_, err := client.StopTask(ctx, &ecs.StopTaskInput{Cluster: aws.String(cluster), Task: aws.String(arn), Reason: aws.String(reason)})
	return awsErr("stop task", err)
}

// runResult is wharf run --detach --json's document.
type runResult struct {
	Task    string `json:"task"`
	TaskArn string `json:"taskArn"`
	Cluster string `json:"cluster"`
	Stream  string `json:"logStream"`
}

func (c *cli) runCommand() *cobra.Command {
	var detach bool
	var cpu, memory int32
	cmd := &cobra.Command{
		Use:   "run [--detach] [--cpu N --memory M] -- COMMAND [ARGS...]",
		Short: "Run a one-off command in a new task of the app (like heroku run)",
		Long: "Run a command in a new task of the app's current release, in the app's network with its\n" +
			"config, and stream its output. wharf exits with the command's exit code; 6 when the task\n" +
			"could not start, 130 when Ctrl-C stopped it. --detach prints the task ID and returns.",
		Example: "  wharf run -a api -- bin/rake db:migrate\n  wharf run -a api --cpu 1024 --memory 4096 -- python manage.py rebuild_index\n" +
			"  wharf run -a api --detach -- bin/backfill",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if (cpu == 0) != (memory == 0) {
				return usagef("--cpu and --memory go together (Fargate sizes, e.g. --cpu 1024 --memory 2048)")
			}
			ctx := cmd.Context()
			c.sessionSeconds = 3600 // a run may take long; the cache renews before expiry
			t, err := c.target(ctx)
			if err != nil {
				return err
			}
			task, err := c.startOneOff(ctx, t, oneOffSpec{kind: contract.OneOffRun, command: args, cpu: cpu, memory: memory})
			if err != nil {
				return err
			}
			if detach {
				if c.jsonOut {
					return c.out.json(runResult{Task: task.id, TaskArn: task.arn, Cluster: task.cluster, Stream: task.stream})
				}
				fmt.Fprintln(c.out.stdout, task.id)
				c.out.infof("Started task %s; its output: wharf logs -a %s --process %s", task.id, t.app.Name, strings.SplitN(task.stream, "/", 2)[0])
				return nil
			}
			return c.attachRun(ctx, t, task)
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&detach, "detach", "d", false, "print the task ID and return without waiting")
	f.Int32Var(&cpu, "cpu", 0, fmt.Sprintf("CPU units (256 = 1/4 vCPU; at most %d), with --memory", contract.MaxOneOffCPU))
	f.Int32Var(&memory, "memory", 0, fmt.Sprintf("memory in MiB (a Fargate size for --cpu; at most %d)", contract.MaxOneOffMemory))
	return cmd
}

// attachRun streams a run's log until its task stops and returns the
// container's exit code as the CLI's. Ctrl-C stops the task.
func (c *cli) attachRun(ctx context.Context, t *target, task *startedTask) error {
	client := ecs.NewFromConfig(t.cfg)
	logs := cloudwatchlogs.NewFromConfig(t.cfg)
	p := c.out.progress(fmt.Sprintf("Starting task %s", task.id))
	defer p.end()
	seen := map[string]bool{}
	since := time.Now().Add(-time.Minute)
	tick := time.NewTicker(pollInterval())
	defer tick.Stop()
	printNew := func() error {
		return c.printRunLogs(ctx, logs, t.app.LogGroup, task.stream, since, seen, p)
	}
	status := ""
	for {
		select {
		case <-ctx.Done():
			p.end()
			if err := stopTask(ctx, client, task.cluster, task.arn, "wharf run interrupted"); err != nil {
				return err
			}
			return codef(ExitInterrupted, "interrupted: stopped task %s", task.id)
		case <-tick.C:
		}
		tk, err := describeTask(ctx, client, task.cluster, task.arn)
		if err != nil {
			if ctx.Err() != nil {
				continue
			}
			return err
		}
		if tk == nil {
			continue // not visible yet (eventual consistency)
		}
		if s := aws.ToString(tk.LastStatus); s != status {
			status = s
			p.update(fmt.Sprintf("Task %s: %s", task.id, strings.ToLower(s)))
		}
		if err := printNew(); err != nil && ctx.Err() == nil {
			return err
		}
		if status != "STOPPED" {
			continue
		}
		// Log events can arrive after the task stopped: read once more.
		time.Sleep(pollInterval())
		if err := printNew(); err != nil {
			return err
		}
		p.end()
		return taskExit(tk)
	}
}

// taskExit turns a stopped task into the CLI's result: the container's
// exit code, or ExitFailed when it has none (the task never ran).
func taskExit(tk *ecstypes.Task) error {
	for _, ct := range tk.Containers {
		if aws.ToString(ct.Name) != contract.ContainerName {
			continue
		}
		if ct.ExitCode != nil {
			if code := int(*ct.ExitCode); code != 0 {
				return &exitError{code: code, err: fmt.Errorf("the command exited with code %d", code)}
			}
			return nil
		}
		reason := aws.ToString(ct.Reason)
		if reason == "" {
			reason = aws.ToString(tk.StoppedReason)
		}
		return codef(ExitFailed, "the task stopped before the command ran: %s", reason)
	}
	return codef(ExitFailed, "the task stopped: %s", aws.ToString(tk.StoppedReason))
}

// printRunLogs prints a one-off task's new log lines, as the command
// wrote them (no timestamps), or as JSON lines with --json.
func (c *cli) printRunLogs(ctx context.Context, client *cloudwatchlogs.Client, group, stream string, since time.Time, seen map[string]bool, p *progress) error {
	in := &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(group), LogStreamNamePrefix: aws.String(stream),
		StartTime: aws.Int64(since.UnixMilli())}
	pages := cloudwatchlogs.NewFilterLogEventsPaginator(client, in)
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return awsErr("read the task's log", err)
		}
		for _, e := range page.Events {
			id := aws.ToString(e.EventId)
			if seen[id] {
				continue
			}
			seen[id] = true
			if c.jsonOut {
				b, _ := json.Marshal(logLine{Time: time.UnixMilli(aws.ToInt64(e.Timestamp)), Stream: aws.ToString(e.LogStreamName), Message: aws.ToString(e.Message)})
				p.stdout(string(b))
				continue
			}
			p.stdout(strings.TrimRight(aws.ToString(e.Message), "\n"))
		}
	}
	return nil
}

// stdout prints a line of the command's output on stdout, clearing the
// spinner line first when stderr is the same terminal.
func (p *progress) stdout(line string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.o.errTTY {
		fmt.Fprint(p.o.stderr, "\r\x1b[K")
	}
	fmt.Fprintln(p.o.stdout, line)
}
