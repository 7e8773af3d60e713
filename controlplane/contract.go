package controlplane

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// The name rules of docs/conventions.md.
var (
	appNameRE      = regexp.MustCompile(`^[a-z][a-z0-9-]*[a-z0-9]$`)
	processNameRE  = regexp.MustCompile(`^[a-z][a-z0-9]*$`)
	scheduleNameRE = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)
	prefixRE       = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)
	accountIDRE    = regexp.MustCompile(`^[0-9]{12}$`)
	envNameRE      = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// ValidAppName reports whether name follows the app-name rule of
// docs/conventions.md.
func ValidAppName(name string) bool {
	return len(name) >= 2 && len(name) <= 30 && appNameRE.MatchString(name) && !strings.Contains(name, "--")
}

// ValidProcessName reports whether name is a valid process type (and not
// the reserved "release").
func ValidProcessName(name string) bool {
	return len(name) >= 1 && len(name) <= 16 && processNameRE.MatchString(name) && name != ReleaseFamilySuffix
}

// ReleaseFamilySuffix is the reserved process name of the release task
// definition family (<prefix>-<app>_release), which also runs the app's
// scheduled tasks.
const ReleaseFamilySuffix = "release"

// ContainerName is the name of the single container in every task
// definition the control plane registers.
const ContainerName = "app"

// Settings is the app settings document (/<prefix>/apps/<app>/settings)
// of docs/conventions.md.
type Settings struct {
	Version          int      `json:"version"`
	App              string   `json:"app"`
	Prefix           string   `json:"prefix"`
	ClusterARN       string   `json:"clusterArn"`
	Subnets          []string `json:"subnets"`
	SecurityGroups   []string `json:"securityGroups"`
	AssignPublicIP   bool     `json:"assignPublicIp"`
	LaunchType       string   `json:"launchType"`
	TargetGroupARN   string   `json:"targetGroupArn"`
	ContainerPort    int32    `json:"containerPort"`
	ExecutionRoleARN string   `json:"executionRoleArn"`
	TaskRoleARN      string   `json:"taskRoleArn"`
	EventsRoleARN    string   `json:"eventsRoleArn"`
	LogGroup         string   `json:"logGroup"`
	CodeBuildProject string   `json:"codebuildProject"`
	ConfigPrefix     string   `json:"configPrefix"`
}

// ParseSettings decodes and validates an app settings document for app
// under prefix.
func ParseSettings(data []byte, prefix, app string) (*Settings, error) {
	var s Settings
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("settings: %w", err)
	}
	switch {
	case s.Version != 1:
		return nil, fmt.Errorf("settings: version must be 1, got %d", s.Version)
	case s.App != app:
		return nil, fmt.Errorf("settings: app must be %q, got %q", app, s.App)
	case s.Prefix != prefix:
		return nil, fmt.Errorf("settings: prefix must be %q, got %q", prefix, s.Prefix)
	case !strings.HasPrefix(s.ClusterARN, "arn:"):
		return nil, fmt.Errorf("settings: clusterArn must be an ARN, got %q", s.ClusterARN)
	case len(s.Subnets) == 0:
		return nil, fmt.Errorf("settings: subnets must not be empty")
	case len(s.SecurityGroups) == 0:
		return nil, fmt.Errorf("settings: securityGroups must not be empty")
	case s.LaunchType != "FARGATE" && s.LaunchType != "EC2":
		return nil, fmt.Errorf("settings: launchType must be FARGATE or EC2, got %q", s.LaunchType)
	case s.ContainerPort < 0 || s.ContainerPort > 65535:
		return nil, fmt.Errorf("settings: containerPort must be 0-65535, got %d", s.ContainerPort)
	case s.TargetGroupARN != "" && s.ContainerPort == 0:
		return nil, fmt.Errorf("settings: containerPort is required with targetGroupArn")
	case !strings.HasPrefix(s.ExecutionRoleARN, "arn:"):
		return nil, fmt.Errorf("settings: executionRoleArn must be an ARN, got %q", s.ExecutionRoleARN)
	case !strings.HasPrefix(s.TaskRoleARN, "arn:"):
		return nil, fmt.Errorf("settings: taskRoleArn must be an ARN, got %q", s.TaskRoleARN)
	case s.LogGroup == "":
		return nil, fmt.Errorf("settings: logGroup must not be empty")
	case s.ConfigPrefix != "/"+prefix+"/apps/"+app+"/config/":
		return nil, fmt.Errorf("settings: configPrefix must be %q, got %q", "/"+prefix+"/apps/"+app+"/config/", s.ConfigPrefix)
	}
	return &s, nil
}

// Process is one process type of a build.
type Process struct {
	Command string `json:"command"`
	CPU     int32  `json:"cpu,omitempty"`
	Memory  int32  `json:"memory,omitempty"`
	// Count is the declared desired count; nil means 1.
	Count *int32 `json:"count,omitempty"`
}

// DesiredCount is the declared count, 1 by default.
func (p Process) DesiredCount() int32 {
	if p.Count == nil {
		return 1
	}
	return *p.Count
}

// Schedule is a scheduled task of a build.
type Schedule struct {
	Name     string `json:"name"`
	Schedule string `json:"schedule"`
	Command  string `json:"command"`
}

// BuildMetadata is wharf-build.json of docs/conventions.md.
type BuildMetadata struct {
	Version        int                `json:"version"`
	App            string             `json:"app"`
	BuildNumber    int64              `json:"buildNumber"`
	BuildID        string             `json:"buildId"`
	Commit         string             `json:"commit"`
	Image          string             `json:"image"`
	ReleaseCommand string             `json:"releaseCommand,omitempty"`
	Processes      map[string]Process `json:"processes"`
	Schedules      []Schedule         `json:"schedules,omitempty"`
}

// MetadataFile is the name of the build metadata file in a build's
// artifact folder.
const MetadataFile = "wharf-build.json"

// ParseBuildMetadata decodes and validates wharf-build.json for app and
// build number, and fills in the defaults (cpu 256, memory 512).
func ParseBuildMetadata(data []byte, app string, build int64) (*BuildMetadata, error) {
	var m BuildMetadata
	dec := json.NewDecoder(strings.NewReader(string(data)))
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("build metadata: %w", err)
	}
	switch {
	case m.Version != 1:
		return nil, fmt.Errorf("build metadata: version must be 1, got %d", m.Version)
	case m.App != app:
		return nil, fmt.Errorf("build metadata: app must be %q, got %q", app, m.App)
	case build > 0 && m.BuildNumber != build:
		return nil, fmt.Errorf("build metadata: buildNumber must be %d, got %d", build, m.BuildNumber)
	case m.Image == "":
		return nil, fmt.Errorf("build metadata: image must not be empty")
	case len(m.Processes) == 0:
		return nil, fmt.Errorf("build metadata: processes must not be empty")
	}
	for name, p := range m.Processes {
		if !ValidProcessName(name) {
			return nil, fmt.Errorf("build metadata: process %q must match %s, 1-16 characters, not %q", name, processNameRE, ReleaseFamilySuffix)
		}
		if strings.TrimSpace(p.Command) == "" {
			return nil, fmt.Errorf("build metadata: processes.%s.command must not be empty", name)
		}
		if p.CPU == 0 {
			p.CPU = 256
		}
		if p.Memory == 0 {
			p.Memory = 512
		}
		if p.CPU < 0 || p.Memory < 0 || (p.Count != nil && *p.Count < 0) {
			return nil, fmt.Errorf("build metadata: processes.%s cpu, memory and count must not be negative", name)
		}
		m.Processes[name] = p
	}
	seen := map[string]bool{}
	for i, s := range m.Schedules {
		switch {
		case !scheduleNameRE.MatchString(s.Name) || len(s.Name) > 32:
			return nil, fmt.Errorf("build metadata: schedules[%d].name must match %s, at most 32 characters, got %q", i, scheduleNameRE, s.Name)
		case seen[s.Name]:
			return nil, fmt.Errorf("build metadata: schedules[%d].name %q is repeated", i, s.Name)
		case !strings.HasPrefix(s.Schedule, "cron(") && !strings.HasPrefix(s.Schedule, "rate("):
			return nil, fmt.Errorf("build metadata: schedules[%d].schedule must be cron(...) or rate(...), got %q", i, s.Schedule)
		case strings.TrimSpace(s.Command) == "":
			return nil, fmt.Errorf("build metadata: schedules[%d].command must not be empty", i)
		}
		seen[s.Name] = true
	}
	return &m, nil
}
