package controlplane

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/wharf-paas/wharf/contract"
)

// EventKind classifies a supported event.
type EventKind string

// Event kinds.
const (
	KindBuildState      EventKind = "build-state"      // CodeBuild Build State Change
	KindBuildPhase      EventKind = "build-phase"      // CodeBuild Build Phase Change
	KindTaskState       EventKind = "task-state"       // ECS Task State Change
	KindDeploymentState EventKind = "deployment-state" // ECS Deployment State Change
	KindServiceAction   EventKind = "service-action"   // ECS Service Action
	KindConfigChange    EventKind = "config-change"    // Parameter Store Change under the config prefix
	KindSettingsChange  EventKind = "settings-change"  // Parameter Store Change of the settings
	KindRequest         EventKind = "request"          // Parameter Store Change of a runtime request (scale, restart, rollback)
	KindSweep           EventKind = "sweep"            // the periodic sweep
	KindManual          EventKind = "manual"           // Reconcile called directly
)

// Hint is what an event says about one app: a reason to reconcile it,
// plus the few facts the reconciler cannot observe otherwise (the build
// ID of a CodeBuild event).
type Hint struct {
	Kind    EventKind
	Account string
	Region  string
	App     string
	// CodeBuild events.
	BuildID     string // "<project>:<uuid>"
	BuildNumber int64  // 0 when the event does not carry it
	BuildStatus string // Build State Change only
	// ECS events.
	Cluster    string
	TaskARN    string
	ServiceARN string
	Process    string
	// Parameter Store events.
	Parameter string
}

// Decode classifies an envelope and extracts the app name from resource
// names under prefix. It does not consult a registry. App is empty when
// the names do not follow Wharf's conventions (for ECS events the caller
// may then ask the observer role). An unsupported event returns kind "".
func Decode(ev events.CloudWatchEvent, prefix string) (Hint, error) {
	h := Hint{Account: ev.AccountID, Region: ev.Region}
	switch {
	case ev.Source == contract.SourceCodeBuild && (ev.DetailType == contract.DetailBuildState || ev.DetailType == contract.DetailBuildPhase):
		h.Kind = KindBuildState
		if ev.DetailType == contract.DetailBuildPhase {
			h.Kind = KindBuildPhase
		}
		var d struct {
			Project    string `json:"project-name"`
			BuildID    string `json:"build-id"`
			Status     string `json:"build-status"`
			Additional struct {
				BuildNumber *float64 `json:"build-number"`
			} `json:"additional-information"`
		}
		if err := json.Unmarshal(ev.Detail, &d); err != nil {
			return h, fmt.Errorf("codebuild event detail: %w", err)
		}
		if d.Project == "" || d.BuildID == "" {
			return h, fmt.Errorf("codebuild event detail: project-name and build-id are required")
		}
		h.BuildID = buildIDFromARN(d.BuildID)
		h.BuildStatus = d.Status
		if d.Additional.BuildNumber != nil {
			h.BuildNumber = int64(*d.Additional.BuildNumber)
		}
		if app, ok := (contract.Names{Prefix: prefix}).AppOfProject(d.Project); ok &&
			strings.HasPrefix(h.BuildID, d.Project+":") {
			h.App = app
		}
		return h, nil

	case ev.Source == contract.SourceECS && ev.DetailType == contract.DetailTaskState:
		h.Kind = KindTaskState
		var d struct {
			ClusterARN string `json:"clusterArn"`
			TaskARN    string `json:"taskArn"`
			Group      string `json:"group"`
			TaskDef    string `json:"taskDefinitionArn"`
		}
		if err := json.Unmarshal(ev.Detail, &d); err != nil {
			return h, fmt.Errorf("ecs task event detail: %w", err)
		}
		if d.TaskARN == "" {
			return h, fmt.Errorf("ecs task event detail: taskArn is required")
		}
		h.Cluster, h.TaskARN = d.ClusterARN, d.TaskARN
		names := []string{familyFromTaskDefARN(d.TaskDef)}
		if g, ok := strings.CutPrefix(d.Group, "family:"); ok {
			names = append(names, g)
		} else if g, ok := strings.CutPrefix(d.Group, "service:"); ok {
			names = append(names, g)
		}
		// The task definition family and the group must agree when both
		// name a Wharf app.
		for _, n := range names {
			app, proc, ok := splitFamily(n, prefix)
			if !ok {
				continue
			}
			if h.App != "" && h.App != app {
				return h, fmt.Errorf("ecs task event: task definition and group name different apps (%s, %s)", h.App, app)
			}
			h.App, h.Process = app, proc
		}
		return h, nil

	case ev.Source == contract.SourceECS && (ev.DetailType == contract.DetailDeploymentState || ev.DetailType == contract.DetailServiceAction):
		h.Kind = KindDeploymentState
		if ev.DetailType == contract.DetailServiceAction {
			h.Kind = KindServiceAction
		}
		if len(ev.Resources) == 0 {
			return h, fmt.Errorf("ecs service event: resources must name the service")
		}
		h.ServiceARN = ev.Resources[0]
		cluster, service, ok := parseServiceARN(h.ServiceARN)
		if !ok {
			return h, fmt.Errorf("ecs service event: resources[0] is not a service ARN: %q", h.ServiceARN)
		}
		h.Cluster = cluster
		if app, proc, ok := splitFamily(service, prefix); ok {
			h.App, h.Process = app, proc
		}
		return h, nil

	case ev.Source == contract.SourceSSM && ev.DetailType == contract.DetailParameterChange:
		var d struct {
			Name string `json:"name"`
		}
		if err := json.Unmarshal(ev.Detail, &d); err != nil {
			return h, fmt.Errorf("parameter store event detail: %w", err)
		}
		if d.Name == "" {
			return h, fmt.Errorf("parameter store event detail: name is required")
		}
		h.Parameter = d.Name
		h.Kind = KindConfigChange
		app, sub, ok := (contract.Names{Prefix: prefix}).AppOfParameter(d.Name)
		if !ok {
			return h, nil
		}
		// Any other parameter of the app, its published status document
		// (status.go) included, names no app: it is rejected without an
		// AWS call, so publishing the status does not loop through the
		// Account's Parameter Store change rule.
		switch {
		case sub == "settings":
			h.Kind = KindSettingsChange
			h.App = app
		case sub == contract.ScaleKey || sub == contract.RestartKey || sub == contract.RollbackKey:
			// A runtime request: it only says which app to look at;
			// the reconcile reads all three parameters.
			h.Kind = KindRequest
			h.App = app
		case strings.HasPrefix(sub, "config/") && len(sub) > len("config/"):
			h.App = app
		}
		return h, nil
	}
	return h, nil
}

// route decodes an event and admits it: the account must be registered,
// the app registered in that account (and region). It returns a rejection
// reason and detail instead of a hint when the event is not admitted. The
// observer role is asked only for registered accounts and only for ECS
// events whose names do not resolve.
func (c *ControlPlane) route(ctx context.Context, ev events.CloudWatchEvent) (Hint, string, string) {
	h, err := Decode(ev, c.reg.Prefix)
	if err != nil {
		return h, RejectMalformed, err.Error()
	}
	if h.Kind == "" {
		return h, RejectUnsupported, ev.Source + " / " + ev.DetailType
	}
	acct := c.accts[ev.AccountID]
	if acct == nil {
		return h, RejectUnregisteredAccount, "account " + ev.AccountID + " is not registered"
	}
	if h.App == "" {
		switch h.Kind {
		case KindTaskState, KindDeploymentState, KindServiceAction:
			app, err := c.observe(ctx, acct, h)
			if err != nil {
				return h, RejectUnresolved, err.Error()
			}
			h.App = app
		default:
			return h, RejectUnresolved, "resource names do not follow the " + c.reg.Prefix + " naming conventions"
		}
	}
	reg := c.apps[appKey(ev.AccountID, h.App)]
	if reg == nil {
		return h, RejectUnregisteredApp, "app " + h.App + " is not registered in account " + ev.AccountID
	}
	if ev.Region != "" && reg.Region != ev.Region {
		return h, RejectWrongRegion, "app " + h.App + " is registered in " + reg.Region + ", event from " + ev.Region
	}
	return h, "", ""
}

// TagApp is the tag that names a resource's Wharf app.
const TagApp = contract.TagApp

// observe asks the account's observer role which app an ECS task or
// service belongs to, from its wharf:app tag.
func (c *ControlPlane) observe(ctx context.Context, acct *contract.AccountRegistration, h Hint) (string, error) {
	cl, err := c.opts.Clients.ForObserver(ctx, *acct)
	if err != nil {
		return "", fmt.Errorf("observer clients: %w", err)
	}
	var tags []ecstypes.Tag
	if h.TaskARN != "" {
		out, err := cl.ECS.DescribeTasks(ctx, &ecs.DescribeTasksInput{
			Cluster: aws.String(h.Cluster), Tasks: []string{h.TaskARN},
			Include: []ecstypes.TaskField{ecstypes.TaskFieldTags},
		})
		if err != nil {
			return "", fmt.Errorf("observer DescribeTasks: %w", err)
		}
		if len(out.Tasks) == 1 {
			tags = out.Tasks[0].Tags
		}
	} else {
		out, err := cl.ECS.DescribeServices(ctx, &ecs.DescribeServicesInput{
			Cluster: aws.String(h.Cluster), Services: []string{h.ServiceARN},
			Include: []ecstypes.ServiceField{ecstypes.ServiceFieldTags},
		})
		if err != nil {
			return "", fmt.Errorf("observer DescribeServices: %w", err)
		}
		if len(out.Services) == 1 {
			tags = out.Services[0].Tags
		}
	}
	for _, t := range tags {
		if aws.ToString(t.Key) == TagApp && contract.ValidateAppName(aws.ToString(t.Value)) == nil {
			return aws.ToString(t.Value), nil
		}
	}
	return "", fmt.Errorf("names do not follow the conventions and the resource has no %s tag", TagApp)
}

// buildIDFromARN turns arn:aws:codebuild:<r>:<a>:build/<project>:<uuid>
// into <project>:<uuid>; an ID passes through.
func buildIDFromARN(s string) string {
	if i := strings.Index(s, ":build/"); i >= 0 && strings.HasPrefix(s, "arn:") {
		return s[i+len(":build/"):]
	}
	return s
}

// familyFromTaskDefARN returns the family of a task definition ARN.
func familyFromTaskDefARN(arn string) string {
	_, rest, ok := strings.Cut(arn, ":task-definition/")
	if !ok {
		return ""
	}
	fam, _, _ := strings.Cut(rest, ":")
	return fam
}

// revisionFromTaskDefARN returns the revision number of a task definition
// ARN (0 when absent).
func revisionFromTaskDefARN(arn string) int {
	_, rest, ok := strings.Cut(arn, ":task-definition/")
	if !ok {
		return 0
	}
	_, rev, _ := strings.Cut(rest, ":")
	n, _ := strconv.Atoi(rev)
	return n
}

// splitFamily splits <prefix>-<app>_<proc> (a task family or a service
// name) into app and process type.
func splitFamily(name, prefix string) (app, proc string, ok bool) {
	return contract.Names{Prefix: prefix}.ParseFamily(name)
}

// parseServiceARN splits arn:aws:ecs:<r>:<a>:service/<cluster>/<service>
// (or the old format service/<service>) into cluster and service names.
func parseServiceARN(arn string) (cluster, service string, ok bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "ecs" {
		return "", "", false
	}
	res, ok := strings.CutPrefix(parts[5], "service/")
	if !ok || res == "" {
		return "", "", false
	}
	if c, s, ok := strings.Cut(res, "/"); ok {
		return c, s, s != ""
	}
	return "default", res, true
}
