package sim

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/codebuild"
	cbtypes "github.com/aws/aws-sdk-go-v2/service/codebuild/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go"

	"github.com/wharf-paas/wharf/controlplane"
	"github.com/wharf-paas/wharf/controlplane/internal/awsmodel"
)

// ruleErr turns a violation of the shared model's request rules into the
// error the service answers with.
func ruleErr(err error) error {
	if v, ok := awsmodel.AsViolation(err); ok {
		return generic(v.Code, v.Message, smithy.FaultClient)
	}
	return err
}

// --- CodeBuild ---

// StartBuild starts a build of app (as a git push would) that behaves as
// plan says, and returns its build number.
func (w *World) StartBuild(appName string, plan BuildPlan) int64 {
	app := w.apps[appName]
	a := app.acct
	project := app.settings.CodeBuildProject
	a.projects[project]++
	n := a.projects[project]
	uuid := w.uuid()
	b := &build{
		app:    app,
		id:     project + ":" + uuid,
		number: n,
		status: "IN_PROGRESS",
		phase:  "SUBMITTED",
		start:  w.now,
		plan:   plan,
		commit: w.hexID(40),
	}
	b.arn = fmt.Sprintf("arn:aws:codebuild:%s:%s:build/%s", a.region, a.id, b.id)
	if w.faultsOn && w.chance(w.Faults.BuildEventsLost) {
		b.eventsLost = true
		w.fault("build-events-lost")
	}
	b.image = fmt.Sprintf("%s.dkr.ecr.%s.amazonaws.com/%s-%s@sha256:%s", a.id, a.region, Prefix, app.name, w.hexID(64))
	b.artifactPath = fmt.Sprintf("%s-artifacts-%s/%s/%s", Prefix, a.id, project, uuid)
	a.builds[b.id] = b
	app.builds = append(app.builds, b)
	w.oracle.images[b.image] = b
	w.tracef("push %s: build %s starts (%s, %s, release=%s%s%s)", app.name, b.label(), plan.Duration.Round(time.Second), plan.Status, plan.Release,
		map[bool]string{true: ", broken", false: ""}[plan.Broken], map[bool]string{true: ", every event lost", false: ""}[b.eventsLost])
	w.emitBuildState(b)
	queued := w.between(5*time.Second, 20*time.Second)
	w.after(queued, "build queued", func() {
		b.phase = "PROVISIONING"
		w.emitBuildPhase(b, "QUEUED", b.start)
	})
	buildEnd := queued + (plan.Duration-queued)*4/5
	w.after(buildEnd, "build phase", func() {
		b.phase = "POST_BUILD"
		w.emitBuildPhase(b, "BUILD", b.start.Add(queued))
	})
	w.after(plan.Duration, "build ends", func() {
		if plan.Status == "SUCCEEDED" {
			w.writeMetadata(b)
		}
		b.status = plan.Status
		b.phase = "COMPLETED"
		b.end = w.now
		w.oracle.onBuildFinished(b)
		w.emitBuildState(b)
	})
	return n
}

func (w *World) buildForImage(image string) *build { return w.oracle.images[image] }

func (w *World) writeMetadata(b *build) {
	m := BuildMetadata{
		Version:        1,
		App:            b.app.name,
		BuildNumber:    b.number,
		BuildID:        b.id,
		Commit:         b.commit[:8],
		Image:          b.image,
		ReleaseCommand: b.plan.ReleaseCommand,
		Processes:      b.plan.Processes,
		Schedules:      b.plan.Schedules,
	}
	doc, _ := json.MarshalIndent(m, "", "  ")
	b.app.acct.objects[b.artifactPath+"/wharf-build.json"] = doc
}

// CodeBuildClient is the simulated controlplane.CodeBuildAPI.
type CodeBuildClient struct{ c caller }

var _ controlplane.CodeBuildAPI = (*CodeBuildClient)(nil)

// BatchGetBuilds implements controlplane.CodeBuildAPI.
func (c *CodeBuildClient) BatchGetBuilds(_ context.Context, in *codebuild.BatchGetBuildsInput, _ ...func(*codebuild.Options)) (*codebuild.BatchGetBuildsOutput, error) {
	return call(c.c, in, "CodeBuild", "BatchGetBuilds", false, strings.Join(shortNames(in.Ids), ","), func() (*codebuild.BatchGetBuildsOutput, string, error) {
		w := c.c.w
		if err := awsmodel.ValidateBatchGetBuilds(in); err != nil {
			return nil, "", w.apiError("CodeBuild", "BatchGetBuilds", 400, &cbtypes.InvalidInputException{Message: ptr(err.Error())})
		}
		out := &codebuild.BatchGetBuildsOutput{}
		var res []string
		for _, ref := range in.Ids {
			id := ref
			if i := strings.Index(ref, ":build/"); i >= 0 {
				id = ref[i+len(":build/"):]
			}
			if c.c.app != nil && !strings.HasPrefix(id, c.c.app.settings.CodeBuildProject+":") {
				return nil, "", w.apiError("CodeBuild", "BatchGetBuilds", 400, generic("AccessDeniedException", "not authorized to read builds of "+id, smithy.FaultClient))
			}
			b, ok := c.c.acct.builds[id]
			if !ok {
				out.BuildsNotFound = append(out.BuildsNotFound, ref)
				res = append(res, "not found")
				continue
			}
			out.Builds = append(out.Builds, b.describe())
			res = append(res, b.status)
		}
		return out, strings.Join(res, ","), nil
	})
}

// listPageSize is how many build IDs ListBuildsForProject returns per page.
const listPageSize = 100

// ListBuildsForProject implements controlplane.CodeBuildAPI: the project's
// build IDs by build number (descending unless sortOrder says ASCENDING),
// 100 per page. As in CodeBuild, a sort order cannot be combined with a
// nextToken, and an unknown project is a ResourceNotFoundException. An
// app's management role may list its own project only.
func (c *CodeBuildClient) ListBuildsForProject(_ context.Context, in *codebuild.ListBuildsForProjectInput, _ ...func(*codebuild.Options)) (*codebuild.ListBuildsForProjectOutput, error) {
	project := deref(in.ProjectName)
	return call(c.c, in, "CodeBuild", "ListBuildsForProject", false, project, func() (*codebuild.ListBuildsForProjectOutput, string, error) {
		w := c.c.w
		const op = "ListBuildsForProject"
		if err := awsmodel.ValidateListBuildsForProject(in, -1); err != nil {
			return nil, "", w.apiError("CodeBuild", op, 400, &cbtypes.InvalidInputException{Message: ptr(err.Error())})
		}
		if in.SortOrder != "" && in.NextToken != nil {
			return nil, "", w.apiError("CodeBuild", op, 400, &cbtypes.InvalidInputException{Message: ptr("Sort order can't be specified when passing a nextToken")})
		}
		if c.c.app != nil && project != c.c.app.settings.CodeBuildProject {
			return nil, "", w.apiError("CodeBuild", op, 400, generic("AccessDeniedException", "not authorized to list builds of project "+project, smithy.FaultClient))
		}
		var owner *appWorld
		for _, name := range w.appNames() {
			if a := w.apps[name]; a.acct == c.c.acct && a.settings.CodeBuildProject == project {
				owner = a
			}
		}
		if owner == nil {
			return nil, "", w.apiError("CodeBuild", op, 400, &cbtypes.ResourceNotFoundException{
				Message: ptr(fmt.Sprintf("The provided project arn:aws:codebuild:%s:%s:project/%s does not exist", c.c.acct.region, c.c.acct.id, project))})
		}
		if err := awsmodel.ValidateListBuildsForProject(in, len(owner.builds)); err != nil {
			return nil, "", w.apiError("CodeBuild", op, 400, &cbtypes.InvalidInputException{Message: ptr(err.Error())})
		}
		ids := make([]string, 0, len(owner.builds))
		for i := range owner.builds {
			b := owner.builds[len(owner.builds)-1-i] // newest first
			if in.SortOrder == cbtypes.SortOrderTypeAscending {
				b = owner.builds[i]
			}
			ids = append(ids, b.id)
		}
		start := 0
		if in.NextToken != nil {
			if _, err := fmt.Sscan(*in.NextToken, &start); err != nil || start < 0 || start > len(ids) {
				return nil, "", w.apiError("CodeBuild", op, 400, &cbtypes.InvalidInputException{Message: ptr("Invalid nextToken")})
			}
		}
		end := min(start+listPageSize, len(ids))
		out := &codebuild.ListBuildsForProjectOutput{Ids: ids[start:end]}
		if end < len(ids) {
			out.NextToken = ptr(fmt.Sprint(end))
		}
		return out, fmt.Sprintf("%d build(s)", len(out.Ids)), nil
	})
}

func (b *build) describe() cbtypes.Build {
	out := cbtypes.Build{
		Id:                    ptr(b.id),
		Arn:                   ptr(b.arn),
		BuildNumber:           ptr(b.number),
		BuildStatus:           cbtypes.StatusType(b.status),
		BuildComplete:         b.status != "IN_PROGRESS",
		CurrentPhase:          ptr(b.phase),
		ProjectName:           ptr(b.app.settings.CodeBuildProject),
		StartTime:             ptr(b.start),
		SourceVersion:         ptr("refs/heads/main"),
		ResolvedSourceVersion: ptr(b.commit),
		Artifacts:             &cbtypes.BuildArtifacts{Location: ptr("arn:aws:s3:::" + b.artifactPath)},
	}
	if !b.end.IsZero() {
		out.EndTime = ptr(b.end)
	}
	return out
}

// --- S3 ---

// S3Client is the simulated controlplane.S3API.
type S3Client struct{ c caller }

var _ controlplane.S3API = (*S3Client)(nil)

// GetObject implements controlplane.S3API.
func (c *S3Client) GetObject(_ context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	bucket, key := deref(in.Bucket), deref(in.Key)
	return call(c.c, in, "S3", "GetObject", false, bucket+"/"+key, func() (*s3.GetObjectOutput, string, error) {
		w := c.c.w
		if err := awsmodel.ValidateGetObject(in); err != nil {
			return nil, "", w.apiError("S3", "GetObject", 400, ruleErr(err))
		}
		if c.c.app != nil && !strings.HasPrefix(key, c.c.app.settings.CodeBuildProject+"/") {
			return nil, "", w.apiError("S3", "GetObject", 403, generic("AccessDenied", "Access Denied", smithy.FaultClient))
		}
		if !strings.HasPrefix(bucket, Prefix+"-artifacts-"+c.c.acct.id) {
			return nil, "", w.apiError("S3", "GetObject", 404, &s3types.NoSuchBucket{Message: ptr("The specified bucket does not exist")})
		}
		doc, ok := c.c.acct.objects[bucket+"/"+key]
		if !ok {
			return nil, "", w.apiError("S3", "GetObject", 404, &s3types.NoSuchKey{Message: ptr("The specified key does not exist.")})
		}
		return &s3.GetObjectOutput{
			Body:          io.NopCloser(bytes.NewReader(doc)),
			ContentLength: ptr(int64(len(doc))),
			ContentType:   ptr("application/json"),
		}, fmt.Sprintf("%d bytes", len(doc)), nil
	})
}

// --- SSM ---

type param struct {
	name, typ, value string
	version          int64
	modified         time.Time
}

// PutConfig creates or updates an app config parameter (a SecureString),
// as a user running `aws ssm put-parameter` would, and emits the Parameter
// Store Change event.
func (w *World) PutConfig(appName, variable string) {
	app := w.apps[appName]
	name := app.settings.ConfigPrefix + variable
	p, ok := app.acct.params[name]
	op := "Update"
	if !ok {
		p = &param{name: name, typ: "SecureString"}
		app.acct.params[name] = p
		op = "Create"
	}
	p.version++
	p.modified = w.now
	p.value = "secret-" + w.hexID(12)
	app.lastConfigChange = w.now
	app.configChanges++
	w.tracef("user: put-parameter %s (version %d)", name, p.version)
	w.emitParameterChange(app, name, "SecureString", op)
}

// SSMClient is the simulated controlplane.SSMAPI.
type SSMClient struct{ c caller }

var _ controlplane.SSMAPI = (*SSMClient)(nil)

// GetParameter implements controlplane.SSMAPI.
func (c *SSMClient) GetParameter(_ context.Context, in *ssm.GetParameterInput, _ ...func(*ssm.Options)) (*ssm.GetParameterOutput, error) {
	name := deref(in.Name)
	return call(c.c, in, "SSM", "GetParameter", false, name, func() (*ssm.GetParameterOutput, string, error) {
		w := c.c.w
		if err := awsmodel.ValidateGetParameter(in); err != nil {
			return nil, "", w.apiError("SSM", "GetParameter", 400, ruleErr(err))
		}
		if c.c.app != nil && !strings.HasPrefix(name, fmt.Sprintf("/%s/apps/%s/", Prefix, c.c.app.name)) {
			return nil, "", w.apiError("SSM", "GetParameter", 400, generic("AccessDeniedException", "not authorized to read "+name, smithy.FaultClient))
		}
		p, ok := c.c.acct.params[name]
		if !ok {
			return nil, "", w.apiError("SSM", "GetParameter", 400, &ssmtypes.ParameterNotFound{})
		}
		value := p.value
		if p.typ == "SecureString" {
			w.oracle.secretRead(name, deref(in.WithDecryption))
			if !deref(in.WithDecryption) {
				value = base64.StdEncoding.EncodeToString([]byte("kms-ciphertext:" + p.name))
			}
		}
		return &ssm.GetParameterOutput{Parameter: &ssmtypes.Parameter{
			Name:             ptr(p.name),
			Type:             ssmtypes.ParameterType(p.typ),
			Value:            ptr(value),
			Version:          p.version,
			LastModifiedDate: ptr(p.modified),
			ARN:              ptr(fmt.Sprintf("arn:aws:ssm:%s:%s:parameter%s", c.c.acct.region, c.c.acct.id, p.name)),
			DataType:         ptr("text"),
		}}, fmt.Sprintf("version %d", p.version), nil
	})
}

// PutParameter writes a String parameter; an app's management role may
// write only its status document /<prefix>/apps/<app>/status (the App
// construct's PublishStatus statement). SSM PutParameter: "Overwrite
// ... Default: false"; an existing parameter without Overwrite fails with
// ParameterAlreadyExists. The simulator emits no Parameter Store Change
// event for it: the control plane rejects those without an AWS call
// (controlplane/events_test.go).
func (c *SSMClient) PutParameter(_ context.Context, in *ssm.PutParameterInput, _ ...func(*ssm.Options)) (*ssm.PutParameterOutput, error) {
	name := deref(in.Name)
	return call(c.c, in, "SSM", "PutParameter", true, name+" "+valueHash(deref(in.Value)), func() (*ssm.PutParameterOutput, string, error) {
		w := c.c.w
		if c.c.app == nil || name != fmt.Sprintf("/%s/apps/%s/status", Prefix, c.c.app.name) {
			return nil, "", w.apiError("SSM", "PutParameter", 400, generic("AccessDeniedException", "not authorized to write "+name, smithy.FaultClient))
		}
		if in.Type != ssmtypes.ParameterTypeString {
			return nil, "", w.apiError("SSM", "PutParameter", 400, generic("ValidationException", "status must be a String", smithy.FaultClient))
		}
		p, ok := c.c.acct.params[name]
		if ok && !deref(in.Overwrite) {
			return nil, "", w.apiError("SSM", "PutParameter", 400, &ssmtypes.ParameterAlreadyExists{})
		}
		if !ok {
			p = &param{name: name, typ: "String"}
			c.c.acct.params[name] = p
		}
		p.value, p.version, p.modified = deref(in.Value), p.version+1, w.now
		return &ssm.PutParameterOutput{Version: p.version, Tier: ssmtypes.ParameterTierStandard}, fmt.Sprintf("version %d", p.version), nil
	})
}

func valueHash(v string) string {
	h := sha256.Sum256([]byte(v))
	return hex.EncodeToString(h[:4])
}

// DescribeParameters implements controlplane.SSMAPI. It supports the
// ParameterFilters keys Name (Equals, BeginsWith) and Path (Recursive,
// OneLevel) and the legacy Filters key Name (begins with).
func (c *SSMClient) DescribeParameters(_ context.Context, in *ssm.DescribeParametersInput, _ ...func(*ssm.Options)) (*ssm.DescribeParametersOutput, error) {
	return call(c.c, in, "SSM", "DescribeParameters", false, describeFilters(in), func() (*ssm.DescribeParametersOutput, string, error) {
		w := c.c.w
		bad := func(msg string) error {
			return w.apiError("SSM", "DescribeParameters", 400, &ssmtypes.InvalidFilterValue{Message: ptr(msg)})
		}
		if err := awsmodel.ValidateDescribeParameters(in); err != nil {
			return nil, "", w.apiError("SSM", "DescribeParameters", 400, ruleErr(err))
		}
		var names []string
		for _, name := range sortedKeys(c.c.acct.params) {
			ok := true
			for _, f := range in.ParameterFilters {
				key, opt := deref(f.Key), deref(f.Option)
				switch key {
				case "Name":
					match := false
					for _, v := range f.Values {
						switch opt {
						case "", "Equals":
							match = match || name == v
						case "BeginsWith":
							match = match || strings.HasPrefix(name, v)
						default:
							return nil, "", bad("invalid option " + opt + " for Name")
						}
					}
					ok = ok && match
				case "Path":
					match := false
					for _, v := range f.Values {
						dir := strings.TrimSuffix(v, "/") + "/"
						switch opt {
						case "", "OneLevel":
							match = match || (strings.HasPrefix(name, dir) && !strings.Contains(name[len(dir):], "/"))
						case "Recursive":
							match = match || strings.HasPrefix(name, dir)
						default:
							return nil, "", bad("invalid option " + opt + " for Path")
						}
					}
					ok = ok && match
				case "Type":
					match := false
					for _, v := range f.Values {
						match = match || c.c.acct.params[name].typ == v
					}
					ok = ok && match
				default:
					return nil, "", bad("unsupported filter key " + key)
				}
			}
			for _, f := range in.Filters {
				if f.Key != ssmtypes.ParametersFilterKeyName {
					return nil, "", bad("unsupported filter key " + string(f.Key))
				}
				match := false
				for _, v := range f.Values {
					match = match || strings.HasPrefix(name, v)
				}
				ok = ok && match
			}
			if ok {
				if c.c.app != nil && !strings.HasPrefix(name, fmt.Sprintf("/%s/apps/%s/", Prefix, c.c.app.name)) {
					continue // IAM scoping: other apps' parameters are invisible
				}
				names = append(names, name)
			}
		}
		page, next, err := paginate(names, in.MaxResults, in.NextToken, 10, 50)
		if err != nil {
			return nil, "", w.apiError("SSM", "DescribeParameters", 400, &ssmtypes.InvalidNextToken{Message: ptr(err.Error())})
		}
		out := &ssm.DescribeParametersOutput{NextToken: next}
		for _, name := range page {
			p := c.c.acct.params[name]
			out.Parameters = append(out.Parameters, ssmtypes.ParameterMetadata{
				Name:             ptr(p.name),
				Type:             ssmtypes.ParameterType(p.typ),
				Version:          p.version,
				LastModifiedDate: ptr(p.modified),
				ARN:              ptr(fmt.Sprintf("arn:aws:ssm:%s:%s:parameter%s", c.c.acct.region, c.c.acct.id, p.name)),
				DataType:         ptr("text"),
				Tier:             ssmtypes.ParameterTierStandard,
			})
		}
		return out, fmt.Sprintf("%d parameters", len(page)), nil
	})
}

func describeFilters(in *ssm.DescribeParametersInput) string {
	var parts []string
	for _, f := range in.ParameterFilters {
		parts = append(parts, fmt.Sprintf("%s:%s=%s", deref(f.Key), deref(f.Option), strings.Join(f.Values, "|")))
	}
	for _, f := range in.Filters {
		parts = append(parts, fmt.Sprintf("%s=%s", f.Key, strings.Join(f.Values, "|")))
	}
	if in.NextToken != nil {
		parts = append(parts, "token="+*in.NextToken)
	}
	return strings.Join(parts, " ")
}

// --- EventBridge ---

type rule struct {
	name, arn, schedule, pattern, description, roleArn string
	state                                              ebtypes.RuleState
	targets                                            map[string]ebtypes.Target
	targetsAt                                          time.Time // last PutTargets
}

func ebThrottling() error {
	return &ebtypes.ThrottlingException{Message: ptr("Rate exceeded")}
}

// EventBridgeClient is the simulated controlplane.EventBridgeAPI (the
// default bus of the app's account).
type EventBridgeClient struct{ c caller }

var _ controlplane.EventBridgeAPI = (*EventBridgeClient)(nil)

func (c *EventBridgeClient) errf(op string, err error) error {
	return c.c.w.apiError("EventBridge", op, 400, err)
}

func (c *EventBridgeClient) denied(op, name string) error {
	if c.c.allowed(name) {
		return nil
	}
	return c.errf(op, &ebtypes.AccessDeniedException{Message: ptr("not authorized to manage rule " + name)})
}

// ListRules implements controlplane.EventBridgeAPI.
func (c *EventBridgeClient) ListRules(_ context.Context, in *eventbridge.ListRulesInput, _ ...func(*eventbridge.Options)) (*eventbridge.ListRulesOutput, error) {
	return call(c.c, in, "EventBridge", "ListRules", false, "prefix="+deref(in.NamePrefix), func() (*eventbridge.ListRulesOutput, string, error) {
		if err := awsmodel.ValidateListLimit(in.Limit); err != nil {
			return nil, "", c.errf("ListRules", ruleErr(err))
		}
		var rules []ebtypes.Rule
		for _, name := range sortedKeys(c.c.acct.rules) {
			r := c.c.acct.rules[name]
			if in.NamePrefix != nil && !strings.HasPrefix(name, *in.NamePrefix) {
				continue
			}
			rules = append(rules, r.describe())
		}
		page, next, err := paginate(rules, in.Limit, in.NextToken, 100, 100)
		if err != nil {
			return nil, "", c.errf("ListRules", generic("ValidationException", err.Error(), smithy.FaultClient))
		}
		return &eventbridge.ListRulesOutput{Rules: page, NextToken: next}, fmt.Sprintf("%d rules", len(page)), nil
	})
}

func (r *rule) describe() ebtypes.Rule {
	out := ebtypes.Rule{Name: ptr(r.name), Arn: ptr(r.arn), State: r.state, EventBusName: ptr("default")}
	if r.schedule != "" {
		out.ScheduleExpression = ptr(r.schedule)
	}
	if r.pattern != "" {
		out.EventPattern = ptr(r.pattern)
	}
	if r.description != "" {
		out.Description = ptr(r.description)
	}
	if r.roleArn != "" {
		out.RoleArn = ptr(r.roleArn)
	}
	return out
}

// PutRule implements controlplane.EventBridgeAPI.
func (c *EventBridgeClient) PutRule(_ context.Context, in *eventbridge.PutRuleInput, _ ...func(*eventbridge.Options)) (*eventbridge.PutRuleOutput, error) {
	name := deref(in.Name)
	return call(c.c, in, "EventBridge", "PutRule", true, fmt.Sprintf("%s %s", name, deref(in.ScheduleExpression)), func() (*eventbridge.PutRuleOutput, string, error) {
		if err := awsmodel.ValidatePutRule(in); err != nil {
			return nil, "", c.errf("PutRule", ruleErr(err))
		}
		if err := c.denied("PutRule", name); err != nil {
			return nil, "", err
		}
		if s := deref(in.ScheduleExpression); s != "" && !(strings.HasPrefix(s, "cron(") || strings.HasPrefix(s, "rate(")) && strings.HasSuffix(s, ")") {
			return nil, "", c.errf("PutRule", generic("ValidationException", "Parameter ScheduleExpression is not valid.", smithy.FaultClient))
		}
		r, ok := c.c.acct.rules[name]
		if !ok {
			r = &rule{name: name, arn: fmt.Sprintf("arn:aws:events:%s:%s:rule/%s", c.c.acct.region, c.c.acct.id, name), targets: map[string]ebtypes.Target{}}
			c.c.acct.rules[name] = r
		}
		r.schedule, r.pattern, r.description, r.roleArn = deref(in.ScheduleExpression), deref(in.EventPattern), deref(in.Description), deref(in.RoleArn)
		r.state = in.State
		if r.state == "" {
			r.state = ebtypes.RuleStateEnabled
		}
		return &eventbridge.PutRuleOutput{RuleArn: ptr(r.arn)}, "", nil
	})
}

func (c *EventBridgeClient) rule(op, name string) (*rule, error) {
	if err := c.denied(op, name); err != nil {
		return nil, err
	}
	r, ok := c.c.acct.rules[name]
	if !ok {
		return nil, c.errf(op, &ebtypes.ResourceNotFoundException{Message: ptr("Rule " + name + " does not exist on EventBus default.")})
	}
	return r, nil
}

// PutTargets implements controlplane.EventBridgeAPI.
func (c *EventBridgeClient) PutTargets(_ context.Context, in *eventbridge.PutTargetsInput, _ ...func(*eventbridge.Options)) (*eventbridge.PutTargetsOutput, error) {
	name := deref(in.Rule)
	return call(c.c, in, "EventBridge", "PutTargets", true, fmt.Sprintf("%s %d targets", name, len(in.Targets)), func() (*eventbridge.PutTargetsOutput, string, error) {
		r, err := c.rule("PutTargets", name)
		if err != nil {
			return nil, "", err
		}
		kept := len(r.targets)
		for _, t := range in.Targets {
			if _, ok := r.targets[deref(t.Id)]; ok {
				kept--
			}
		}
		if err := awsmodel.ValidatePutTargets(in, kept); err != nil {
			return nil, "", c.errf("PutTargets", ruleErr(err))
		}
		for _, t := range in.Targets {
			r.targets[*t.Id] = cloneJSON(t)
		}
		r.targetsAt = c.c.w.now
		return &eventbridge.PutTargetsOutput{}, "", nil
	})
}

// ListTargetsByRule implements controlplane.EventBridgeAPI.
func (c *EventBridgeClient) ListTargetsByRule(_ context.Context, in *eventbridge.ListTargetsByRuleInput, _ ...func(*eventbridge.Options)) (*eventbridge.ListTargetsByRuleOutput, error) {
	name := deref(in.Rule)
	return call(c.c, in, "EventBridge", "ListTargetsByRule", false, name, func() (*eventbridge.ListTargetsByRuleOutput, string, error) {
		if err := awsmodel.ValidateListLimit(in.Limit); err != nil {
			return nil, "", c.errf("ListTargetsByRule", ruleErr(err))
		}
		r, err := c.rule("ListTargetsByRule", name)
		if err != nil {
			return nil, "", err
		}
		var ts []ebtypes.Target
		ids := make([]string, 0, len(r.targets))
		for id := range r.targets {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			ts = append(ts, cloneJSON(r.targets[id]))
		}
		page, next, err := paginate(ts, in.Limit, in.NextToken, 100, 100)
		if err != nil {
			return nil, "", c.errf("ListTargetsByRule", generic("ValidationException", err.Error(), smithy.FaultClient))
		}
		return &eventbridge.ListTargetsByRuleOutput{Targets: page, NextToken: next}, fmt.Sprintf("%d targets", len(page)), nil
	})
}

// RemoveTargets implements controlplane.EventBridgeAPI.
func (c *EventBridgeClient) RemoveTargets(_ context.Context, in *eventbridge.RemoveTargetsInput, _ ...func(*eventbridge.Options)) (*eventbridge.RemoveTargetsOutput, error) {
	name := deref(in.Rule)
	return call(c.c, in, "EventBridge", "RemoveTargets", true, fmt.Sprintf("%s %v", name, in.Ids), func() (*eventbridge.RemoveTargetsOutput, string, error) {
		if err := awsmodel.ValidateRemoveTargets(in); err != nil {
			return nil, "", c.errf("RemoveTargets", ruleErr(err))
		}
		r, err := c.rule("RemoveTargets", name)
		if err != nil {
			return nil, "", err
		}
		for _, id := range in.Ids {
			delete(r.targets, id)
		}
		return &eventbridge.RemoveTargetsOutput{}, "", nil
	})
}

// DeleteRule implements controlplane.EventBridgeAPI.
func (c *EventBridgeClient) DeleteRule(_ context.Context, in *eventbridge.DeleteRuleInput, _ ...func(*eventbridge.Options)) (*eventbridge.DeleteRuleOutput, error) {
	name := deref(in.Name)
	return call(c.c, in, "EventBridge", "DeleteRule", true, name, func() (*eventbridge.DeleteRuleOutput, string, error) {
		if err := c.denied("DeleteRule", name); err != nil {
			return nil, "", err
		}
		r, ok := c.c.acct.rules[name]
		if !ok {
			return &eventbridge.DeleteRuleOutput{}, "no such rule", nil
		}
		if err := awsmodel.ValidateDeleteRule(in, len(r.targets)); err != nil {
			return nil, "", c.errf("DeleteRule", ruleErr(err))
		}
		delete(c.c.acct.rules, name)
		return &eventbridge.DeleteRuleOutput{}, "", nil
	})
}
