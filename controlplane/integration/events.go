// Package integration holds the control plane's integration harness: real
// aws-sdk-go-v2 clients over HTTP against kumo (DynamoDB, STS, SSM) and
// awsfake (ECS, CodeBuild, EventBridge, S3), with EventBridge events
// built from AWS's published samples. The tests live in this directory
// (package integration_test); the end-to-end Lambda test in test/ reuses
// the harness.
package integration

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// Sample file names in the shared events folder.
const (
	SampleBuildState      = "codebuild-build-state-succeeded-aws-lambda-go.json"
	SampleTaskRunning     = "ecs-task-state-change-running.json"
	SampleDeployCompleted = "ecs-deployment-state-change-completed.json"
	SampleDeployFailed    = "ecs-deployment-state-change-failed.json"
	SampleDeployProgress  = "ecs-deployment-state-change-in-progress.json"
	SampleSteadyState     = "ecs-service-action-service-steady-state.json"
	SampleParamUpdate     = "ssm-parameter-store-change-update.json"
	SampleParamCreate     = "ssm-parameter-store-change-create.json"
	SampleParamDelete     = "ssm-parameter-store-change-delete.json"
)

// SamplesDir finds the folder of sample EventBridge events: $WHARF_EVENTS_DIR
// if set, else controlplane/testdata/events in the repository (the real
// samples AWS publishes, copied with their sources.md).
func SamplesDir() (string, error) {
	if d := os.Getenv("WHARF_EVENTS_DIR"); d != "" {
		return d, nil
	}
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	d := filepath.Join(root, "controlplane", "testdata", "events")
	if _, err := os.Stat(filepath.Join(d, SampleBuildState)); err != nil {
		return "", fmt.Errorf("sample events not found: %w (set WHARF_EVENTS_DIR)", err)
	}
	return d, nil
}

// RepoRoot walks up from the working directory to the directory holding
// go.mod.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find repo root: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("find repo root: no go.mod above the working directory")
		}
		dir = parent
	}
}

// Event is an EventBridge envelope built from a published sample.
type Event struct {
	// Sample is the file the event was built from.
	Sample string
	// Synthetic says a status field differs from the sample (AWS publishes
	// no sample of that status); the envelope then carries a top-level
	// "wharf-synthetic" note, which consumers ignore.
	Synthetic bool
	// JSON is the envelope as EventBridge delivers it.
	JSON []byte
}

// CloudWatch decodes the envelope as the Lambda runtime does.
func (e Event) CloudWatch() events.CloudWatchEvent {
	var ev events.CloudWatchEvent
	if err := json.Unmarshal(e.JSON, &ev); err != nil {
		panic(fmt.Sprintf("integration: event from %s does not decode: %v", e.Sample, err))
	}
	return ev
}

// ID is the envelope's event ID.
func (e Event) ID() string { return e.CloudWatch().ID }

// Samples builds events from the sample files. Each built event gets a
// fresh, deterministic ID.
type Samples struct {
	Dir string
	seq int
	// Clock stamps event times (default time.Now).
	Clock func() time.Time
}

// LoadSamples locates the samples (see SamplesDir).
func LoadSamples() (*Samples, error) {
	d, err := SamplesDir()
	if err != nil {
		return nil, err
	}
	return &Samples{Dir: d, Clock: time.Now}, nil
}

type envelope = map[string]any

func (s *Samples) load(name string) (envelope, error) {
	b, err := os.ReadFile(filepath.Join(s.Dir, name))
	if err != nil {
		return nil, fmt.Errorf("read sample %s: %w", name, err)
	}
	var env envelope
	if err := json.Unmarshal(b, &env); err != nil {
		return nil, fmt.Errorf("decode sample %s: %w", name, err)
	}
	return env, nil
}

func (s *Samples) finish(name string, env envelope, account, region string, synthetic string) (Event, error) {
	s.seq++
	sum := sha256.Sum256(fmt.Appendf(nil, "%s/%d/%d", name, s.seq, time.Now().UnixNano()))
	h := fmt.Sprintf("%x", sum[:16])
	env["id"] = h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
	env["account"] = account
	env["region"] = region
	env["time"] = s.Clock().UTC().Format(time.RFC3339)
	if synthetic != "" {
		env["wharf-synthetic"] = synthetic
	}
	b, err := json.Marshal(env)
	if err != nil {
		return Event{}, fmt.Errorf("encode event from %s: %w", name, err)
	}
	return Event{Sample: name, Synthetic: synthetic != "", JSON: b}, nil
}

// BuildStateChange is a "CodeBuild Build State Change" event for build
// buildID ("<project>:<uuid>") with the given status, built from the
// SUCCEEDED sample. Statuses other than SUCCEEDED are synthetic.
func (s *Samples) BuildStateChange(account, region, buildID, status string, buildNumber int, artifactLocation string) (Event, error) {
	env, err := s.load(SampleBuildState)
	if err != nil {
		return Event{}, err
	}
	project, _, _ := strings.Cut(buildID, ":")
	arn := fmt.Sprintf("arn:aws:codebuild:%s:%s:build/%s", region, account, buildID)
	env["resources"] = []any{arn}
	d := env["detail"].(map[string]any)
	d["build-status"] = status
	d["project-name"] = project
	d["build-id"] = arn
	info := d["additional-information"].(map[string]any)
	info["build-number"] = float64(buildNumber)
	info["build-complete"] = status != "IN_PROGRESS"
	if a, ok := info["artifact"].(map[string]any); ok {
		a["location"] = artifactLocation
	}
	if l, ok := info["logs"].(map[string]any); ok {
		_, id, _ := strings.Cut(buildID, ":")
		l["group-name"] = "/aws/codebuild/" + project
		l["stream-name"] = id
		delete(l, "deep-link")
	}
	synthetic := ""
	if status != "SUCCEEDED" {
		synthetic = "build-status changed from SUCCEEDED to " + status
		if status == "IN_PROGRESS" {
			d["current-phase"] = "SUBMITTED"
			delete(info, "phases")
		}
	}
	return s.finish(SampleBuildState, env, account, region, synthetic)
}

func isoTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

// TaskStateChange is an "ECS Task State Change" event carrying task as ECS
// reports it (ISO timestamps), built from the RUNNING Fargate sample. A
// STOPPED task makes a synthetic event (AWS publishes no STOPPED sample).
func (s *Samples) TaskStateChange(task ecstypes.Task) (Event, error) {
	env, err := s.load(SampleTaskRunning)
	if err != nil {
		return Event{}, err
	}
	arn := aws.ToString(task.TaskArn)
	parts := strings.Split(arn, ":")
	if len(parts) < 6 {
		return Event{}, fmt.Errorf("task ARN %q is not an ECS task ARN", arn)
	}
	region, account := parts[3], parts[4]
	env["resources"] = []any{arn}
	d := env["detail"].(map[string]any)
	d["clusterArn"] = aws.ToString(task.ClusterArn)
	d["taskArn"] = arn
	d["taskDefinitionArn"] = aws.ToString(task.TaskDefinitionArn)
	d["group"] = aws.ToString(task.Group)
	d["lastStatus"] = aws.ToString(task.LastStatus)
	d["desiredStatus"] = aws.ToString(task.DesiredStatus)
	d["launchType"] = string(task.LaunchType)
	d["cpu"] = aws.ToString(task.Cpu)
	d["memory"] = aws.ToString(task.Memory)
	d["version"] = float64(task.Version)
	d["createdAt"] = isoTime(task.CreatedAt)
	d["updatedAt"] = s.Clock().UTC().Format("2006-01-02T15:04:05.000Z")
	if task.StartedBy != nil {
		d["startedBy"] = *task.StartedBy
	}
	for k, v := range map[string]*time.Time{"startedAt": task.StartedAt, "pullStartedAt": task.PullStartedAt, "pullStoppedAt": task.PullStoppedAt,
		"stoppingAt": task.StoppingAt, "stoppedAt": task.StoppedAt, "executionStoppedAt": task.ExecutionStoppedAt} {
		if v == nil {
			delete(d, k)
		} else {
			d[k] = isoTime(v)
		}
	}
	if task.StopCode != "" {
		d["stopCode"] = string(task.StopCode)
	}
	if task.StoppedReason != nil {
		d["stoppedReason"] = *task.StoppedReason
	}
	var containers, overrides []any
	for _, c := range task.Containers {
		cm := map[string]any{
			"containerArn": aws.ToString(c.ContainerArn),
			"name":         aws.ToString(c.Name),
			"image":        aws.ToString(c.Image),
			"lastStatus":   aws.ToString(c.LastStatus),
			"taskArn":      arn,
			"cpu":          "0",
		}
		if c.RuntimeId != nil {
			cm["runtimeId"] = *c.RuntimeId
		}
		if c.ExitCode != nil {
			cm["exitCode"] = float64(*c.ExitCode)
		}
		if c.Reason != nil {
			cm["reason"] = *c.Reason
		}
		containers = append(containers, cm)
	}
	d["containers"] = containers
	if task.Overrides != nil {
		for _, o := range task.Overrides.ContainerOverrides {
			om := map[string]any{"name": aws.ToString(o.Name)}
			if o.Command != nil {
				om["command"] = o.Command
			}
			overrides = append(overrides, om)
		}
	}
	d["overrides"] = map[string]any{"containerOverrides": overrides}
	synthetic := ""
	if st := aws.ToString(task.LastStatus); st != "RUNNING" {
		synthetic = "lastStatus changed from RUNNING to " + st
	}
	return s.finish(SampleTaskRunning, env, account, region, synthetic)
}

// DeploymentStateChange is an "ECS Deployment State Change" event for the
// service's PRIMARY deployment. eventName is SERVICE_DEPLOYMENT_COMPLETED,
// SERVICE_DEPLOYMENT_FAILED or SERVICE_DEPLOYMENT_IN_PROGRESS; each is
// built from its own sample.
func (s *Samples) DeploymentStateChange(svc ecstypes.Service, eventName string) (Event, error) {
	sample := map[string]string{
		"SERVICE_DEPLOYMENT_COMPLETED":   SampleDeployCompleted,
		"SERVICE_DEPLOYMENT_FAILED":      SampleDeployFailed,
		"SERVICE_DEPLOYMENT_IN_PROGRESS": SampleDeployProgress,
	}[eventName]
	if sample == "" {
		return Event{}, fmt.Errorf("deployment event name %q: must be SERVICE_DEPLOYMENT_COMPLETED, _FAILED or _IN_PROGRESS", eventName)
	}
	env, err := s.load(sample)
	if err != nil {
		return Event{}, err
	}
	arn := aws.ToString(svc.ServiceArn)
	parts := strings.Split(arn, ":")
	if len(parts) < 6 {
		return Event{}, fmt.Errorf("service ARN %q is not an ECS service ARN", arn)
	}
	env["resources"] = []any{arn}
	d := env["detail"].(map[string]any)
	if len(svc.Deployments) > 0 {
		dep := svc.Deployments[0]
		d["deploymentId"] = aws.ToString(dep.Id)
		if dep.RolloutStateReason != nil {
			d["reason"] = *dep.RolloutStateReason
		}
		if dep.UpdatedAt != nil {
			d["updatedAt"] = dep.UpdatedAt.UTC().Format(time.RFC3339)
		}
	}
	return s.finish(sample, env, parts[4], parts[3], "")
}

// ServiceSteadyState is an "ECS Service Action" SERVICE_STEADY_STATE event
// for the service.
func (s *Samples) ServiceSteadyState(svc ecstypes.Service) (Event, error) {
	env, err := s.load(SampleSteadyState)
	if err != nil {
		return Event{}, err
	}
	arn := aws.ToString(svc.ServiceArn)
	parts := strings.Split(arn, ":")
	if len(parts) < 6 {
		return Event{}, fmt.Errorf("service ARN %q is not an ECS service ARN", arn)
	}
	env["resources"] = []any{arn}
	d := env["detail"].(map[string]any)
	d["clusterArn"] = aws.ToString(svc.ClusterArn)
	d["createdAt"] = s.Clock().UTC().Format("2006-01-02T15:04:05.000Z")
	return s.finish(SampleSteadyState, env, parts[4], parts[3], "")
}

// ParameterChange is a "Parameter Store Change" event for parameter name
// (with its leading slash) and operation Create, Update or Delete.
func (s *Samples) ParameterChange(account, region, name, operation, paramType string) (Event, error) {
	sample := map[string]string{"Create": SampleParamCreate, "Update": SampleParamUpdate, "Delete": SampleParamDelete}[operation]
	if sample == "" {
		return Event{}, fmt.Errorf("parameter operation %q: must be Create, Update or Delete", operation)
	}
	env, err := s.load(sample)
	if err != nil {
		return Event{}, err
	}
	env["resources"] = []any{fmt.Sprintf("arn:aws:ssm:%s:%s:parameter%s", region, account, name)}
	d := env["detail"].(map[string]any)
	d["name"] = name
	d["type"] = paramType
	delete(d, "description")
	return s.finish(sample, env, account, region, "")
}
