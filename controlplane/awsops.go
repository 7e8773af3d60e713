package controlplane

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codebuild"
	cbtypes "github.com/aws/aws-sdk-go-v2/service/codebuild/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go"
	"github.com/wharf-paas/wharf/contract"
)

// apiCode returns the AWS error code of err, or "".
func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

type buildObservation struct {
	Status, Location, Commit string
	Number                   int64
	// FailedStep is the Wharf build step a failed build stopped in (see
	// failedStep); LogGroup and LogStream are the build's log.
	FailedStep, LogGroup, LogStream string
}

// testStepCommand is how the buildspec runs the test step
// (constructs/app buildSpec); CodeBuild names the failing command in the
// phase's context message ("Error while executing command: <command>.
// Reason: exit status 1").
const testStepCommand = "wharf-build.sh test"

// failedStep returns "test" when the build's BUILD phase failed in the test
// command, "" otherwise.
func failedStep(phases []cbtypes.BuildPhase) string {
	for _, p := range phases {
		if p.PhaseType != cbtypes.BuildPhaseTypeBuild || p.PhaseStatus == cbtypes.StatusTypeSucceeded || p.PhaseStatus == "" {
			continue
		}
		for _, c := range p.Contexts {
			if strings.Contains(aws.ToString(c.Message), testStepCommand) {
				return "test"
			}
		}
	}
	return ""
}

func (r *run) batchGetBuilds(ctx context.Context, ids []string) (map[string]buildObservation, []string, error) {
	r.awsTouched = true
	obs := map[string]buildObservation{}
	var missing []string
	for start := 0; start < len(ids); start += 100 {
		end := min(start+100, len(ids))
		out, err := r.cl.CodeBuild.BatchGetBuilds(ctx, &codebuild.BatchGetBuildsInput{Ids: ids[start:end]})
		if err != nil {
			return nil, nil, fmt.Errorf("codebuild BatchGetBuilds: %w", err)
		}
		for _, b := range out.Builds {
			o := buildObservation{Status: string(b.BuildStatus), Number: aws.ToInt64(b.BuildNumber)}
			if b.Artifacts != nil {
				o.Location = aws.ToString(b.Artifacts.Location)
			}
			o.FailedStep = failedStep(b.Phases)
			if b.Logs != nil {
				o.LogGroup, o.LogStream = aws.ToString(b.Logs.GroupName), aws.ToString(b.Logs.StreamName)
			}
			o.Commit = aws.ToString(b.ResolvedSourceVersion)
			if o.Commit == "" {
				o.Commit = aws.ToString(b.SourceVersion)
			}
			obs[aws.ToString(b.Id)] = o
		}
		missing = append(missing, out.BuildsNotFound...)
	}
	return obs, missing, nil
}

// maxMetadataBytes bounds wharf-build.json.
const maxMetadataBytes = 1 << 20

// readMetadata reads and validates <artifact path>/wharf-build.json.
func (r *run) readMetadata(ctx context.Context, b TrackedBuild) (*contract.BuildMetadata, error) {
	loc, ok := strings.CutPrefix(b.Location, "arn:aws:s3:::")
	if !ok {
		return nil, permanent(ReasonMetadataInvalid, "build %d: artifacts.location must be an S3 ARN, got %q", b.Number, b.Location)
	}
	bucket, path, _ := strings.Cut(loc, "/")
	if bucket == "" {
		return nil, permanent(ReasonMetadataInvalid, "build %d: artifacts.location has no bucket: %q", b.Number, b.Location)
	}
	key := contract.MetadataFile
	if path = strings.Trim(path, "/"); path != "" {
		key = path + "/" + contract.MetadataFile
	}
	r.awsTouched = true
	out, err := r.cl.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		switch apiCode(err) {
		case "NoSuchKey", "NotFound", "NoSuchBucket":
			return nil, permanent(ReasonMetadataInvalid, "build %d: s3://%s/%s: %s", b.Number, bucket, key, apiCode(err))
		}
		return nil, fmt.Errorf("s3 GetObject s3://%s/%s: %w", bucket, key, err)
	}
	defer out.Body.Close()
	data, err := io.ReadAll(io.LimitReader(out.Body, maxMetadataBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read s3://%s/%s: %w", bucket, key, err)
	}
	if len(data) > maxMetadataBytes {
		return nil, permanent(ReasonMetadataInvalid, "build %d: %s is larger than %d bytes", b.Number, contract.MetadataFile, maxMetadataBytes)
	}
	m, err := contract.Names{Prefix: r.c.reg.Prefix}.ParseBuildMetadata(data, r.reg.Name, b.Number)
	if err != nil {
		return nil, permanent(ReasonMetadataInvalid, "build %d: %v", b.Number, err)
	}
	if m.BuildID == "" {
		m.BuildID = b.ID
	}
	return m, nil
}

// settings reads /<prefix>/apps/<app>/settings (memoised per run).
func (r *run) settings(ctx context.Context) (*contract.Settings, error) {
	if r.set != nil || r.setErr != nil {
		return r.set, r.setErr
	}
	name := contract.Names{Prefix: r.c.reg.Prefix}.SettingsParameter(r.reg.Name)
	r.awsTouched = true
	out, err := r.cl.SSM.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(name)})
	if err != nil {
		if apiCode(err) == "ParameterNotFound" {
			r.setErr = permanent(ReasonSettingsInvalid, "settings parameter %s does not exist", name)
			return nil, r.setErr
		}
		return nil, fmt.Errorf("ssm GetParameter %s: %w", name, err)
	}
	if out.Parameter == nil {
		r.setErr = permanent(ReasonSettingsInvalid, "settings parameter %s is empty", name)
		return nil, r.setErr
	}
	s, err := contract.ParseSettings([]byte(aws.ToString(out.Parameter.Value)), r.c.reg.Prefix, r.reg.Name)
	if err != nil {
		r.setErr = permanent(ReasonSettingsInvalid, "%s: %v", name, err)
		return nil, r.setErr
	}
	r.set = s
	return s, nil
}

// configEntry is one config parameter: its env var name, ARN and version.
// The value is never read.
type configEntry struct {
	Var, Name, ARN string
	Version        int64
}

type configSnapshot struct {
	entries []configEntry
	version string
}

// ConfigVersion hashes config parameter names and versions (not values)
// into the WHARF_CONFIG_VERSION value.
func ConfigVersion(namesToVersions map[string]int64) string {
	names := sortedKeys(namesToVersions)
	h := sha256.New()
	for _, n := range names {
		fmt.Fprintf(h, "%s=%d\n", n, namesToVersions[n])
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// config lists the config parameters with DescribeParameters (memoised per
// run). It never calls GetParameter on them and never decrypts.
func (r *run) config(ctx context.Context, set *contract.Settings) (*configSnapshot, error) {
	if r.cfg != nil {
		return r.cfg, nil
	}
	path := strings.TrimSuffix(set.ConfigPrefix, "/")
	in := &ssm.DescribeParametersInput{
		ParameterFilters: []ssmtypes.ParameterStringFilter{{
			Key: aws.String("Path"), Option: aws.String("OneLevel"), Values: []string{path},
		}},
		MaxResults: aws.Int32(50),
	}
	snap := &configSnapshot{}
	versions := map[string]int64{}
	r.awsTouched = true
	for page := 0; ; page++ {
		if page > 100 {
			return nil, fmt.Errorf("ssm DescribeParameters %s: more than 100 pages", path)
		}
		out, err := r.cl.SSM.DescribeParameters(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("ssm DescribeParameters %s: %w", path, err)
		}
		for _, p := range out.Parameters {
			name := aws.ToString(p.Name)
			v, ok := strings.CutPrefix(name, set.ConfigPrefix)
			if !ok || contract.ValidateConfigVar(v) != nil {
				continue
			}
			if _, dup := versions[name]; dup {
				continue
			}
			arn := aws.ToString(p.ARN)
			if arn == "" {
				arn = fmt.Sprintf("arn:aws:ssm:%s:%s:parameter%s", r.reg.Region, r.reg.AccountID, name)
			}
			snap.entries = append(snap.entries, configEntry{Var: v, Name: name, ARN: arn, Version: p.Version})
			versions[name] = p.Version
		}
		if aws.ToString(out.NextToken) == "" {
			break
		}
		in.NextToken = out.NextToken
	}
	sort.Slice(snap.entries, func(i, j int) bool { return snap.entries[i].Var < snap.entries[j].Var })
	snap.version = ConfigVersion(versions)
	r.cfg = snap
	return snap, nil
}

// Names of resources, per docs/conventions.md.

// FamilyName is the task-definition family (and service name) of a
// process type: <prefix>-<app>_<proc>.
func FamilyName(prefix, app, proc string) string {
	return contract.Names{Prefix: prefix}.Family(app, proc)
}

// ScheduleRuleName is the EventBridge rule of a scheduled task.
func ScheduleRuleName(prefix, app, name string) string {
	return contract.Names{Prefix: prefix}.ScheduleRule(app, name)
}

// ReleaseStartedBy is the startedBy of a build's release task.
func ReleaseStartedBy(build int64) string { return contract.ReleaseStartedBy(build) }

// token derives a deterministic idempotency token of n hex characters.
func token(n int, parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(h[:])[:n]
}

// Tags the control plane puts on what it creates.
const (
	TagBuild   = contract.TagBuild
	TagProcess = contract.TagProcess
	TagSpec    = contract.TagSpec
)

// describeTask returns the task, or nil when ECS does not know it.
func (r *run) describeTask(ctx context.Context, cluster, arn string) (*ecstypes.Task, error) {
	r.awsTouched = true
	out, err := r.cl.ECS.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(cluster), Tasks: []string{arn}})
	if err != nil {
		return nil, fmt.Errorf("ecs DescribeTasks %s: %w", arn, err)
	}
	for i := range out.Tasks {
		if aws.ToString(out.Tasks[i].TaskArn) == arn {
			return &out.Tasks[i], nil
		}
	}
	return nil, nil
}

// familyTasks returns the tasks of family ECS still lists in the cluster:
// ListTasks by family with desired status RUNNING and then STOPPED
// (stopped tasks are listed for about an hour), then DescribeTasks, running
// ones first.
func (r *run) familyTasks(ctx context.Context, cluster, family string) ([]ecstypes.Task, error) {
	r.awsTouched = true
	var arns []string
	for _, status := range []ecstypes.DesiredStatus{ecstypes.DesiredStatusRunning, ecstypes.DesiredStatusStopped} {
		in := &ecs.ListTasksInput{Cluster: aws.String(cluster), Family: aws.String(family), DesiredStatus: status}
		for page := 0; ; page++ {
			if page >= maxTaskPages {
				return nil, fmt.Errorf("ecs ListTasks %s: more than %d pages", family, maxTaskPages)
			}
			out, err := r.cl.ECS.ListTasks(ctx, in)
			if err != nil {
				return nil, fmt.Errorf("ecs ListTasks %s %s: %w", family, status, err)
			}
			for _, a := range out.TaskArns {
				if !slices.Contains(arns, a) {
					arns = append(arns, a)
				}
			}
			if aws.ToString(out.NextToken) == "" {
				break
			}
			in.NextToken = out.NextToken
		}
	}
	var tasks []ecstypes.Task
	for start := 0; start < len(arns); start += 100 {
		desc, err := r.cl.ECS.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(cluster), Tasks: arns[start:min(start+100, len(arns))]})
		if err != nil {
			return nil, fmt.Errorf("ecs DescribeTasks: %w", err)
		}
		tasks = append(tasks, desc.Tasks...)
	}
	return tasks, nil
}

// maxTaskPages bounds the ListTasks pages (100 tasks each) of one family
// and desired status.
const maxTaskPages = 10

// describeServices returns the app's services by process type; a missing
// or INACTIVE service is absent from the map.
func (r *run) describeServices(ctx context.Context, set *contract.Settings, procs []string) (map[string]*ecstypes.Service, error) {
	out := map[string]*ecstypes.Service{}
	byName := map[string]string{}
	var names []string
	for _, p := range procs {
		n := FamilyName(r.c.reg.Prefix, r.reg.Name, p)
		byName[n] = p
		names = append(names, n)
	}
	r.awsTouched = true
	for start := 0; start < len(names); start += 10 {
		end := min(start+10, len(names))
		res, err := r.cl.ECS.DescribeServices(ctx, &ecs.DescribeServicesInput{
			Cluster: aws.String(set.ClusterARN), Services: names[start:end],
		})
		if err != nil {
			return nil, fmt.Errorf("ecs DescribeServices: %w", err)
		}
		for i := range res.Services {
			s := &res.Services[i]
			if aws.ToString(s.Status) == "INACTIVE" {
				continue
			}
			if p, ok := byName[aws.ToString(s.ServiceName)]; ok {
				out[p] = s
			}
		}
	}
	return out, nil
}

// primary returns the service's PRIMARY deployment.
func primary(s *ecstypes.Service) *ecstypes.Deployment {
	for i := range s.Deployments {
		if aws.ToString(s.Deployments[i].Status) == "PRIMARY" {
			return &s.Deployments[i]
		}
	}
	return nil
}

// taskStopper is implemented by the SDK's ECS client; fakes may omit it.
type taskStopper interface {
	StopTask(ctx context.Context, in *ecs.StopTaskInput, optFns ...func(*ecs.Options)) (*ecs.StopTaskOutput, error)
}

// describeTaskDefinition reads a family's latest revision with its spec
// tag; a family ECS does not know has none.
func (r *run) describeTaskDefinition(ctx context.Context, family string) (taskDefObservation, error) {
	r.awsTouched = true
	cur, err := r.cl.ECS.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{
		TaskDefinition: aws.String(family), Include: []ecstypes.TaskDefinitionField{ecstypes.TaskDefinitionFieldTags},
	})
	if err != nil {
		if apiCode(err) == "ClientException" {
			return taskDefObservation{}, nil
		}
		return taskDefObservation{}, fmt.Errorf("ecs DescribeTaskDefinition %s: %w", family, err)
	}
	if cur.TaskDefinition == nil {
		return taskDefObservation{}, nil
	}
	o := taskDefObservation{ARN: aws.ToString(cur.TaskDefinition.TaskDefinitionArn), Active: cur.TaskDefinition.Status != ecstypes.TaskDefinitionStatusInactive}
	for _, t := range cur.Tags {
		if aws.ToString(t.Key) == TagSpec {
			o.Hash = aws.ToString(t.Value)
		}
	}
	return o, nil
}
