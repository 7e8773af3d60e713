package contract

import (
	"encoding/json"
	"strings"
)

// SettingsVersion is the version of the settings document.
const SettingsVersion = 1

// Launch types of the settings document.
const (
	LaunchTypeFargate = "FARGATE"
	LaunchTypeEC2     = "EC2"
)

// Settings is the app settings document (/<prefix>/apps/<app>/settings)
// of docs/conventions.md, written by the App construct and read by the
// control plane.
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
	// Branch is the one branch whose builds the app deploys; the control
	// plane refuses a build whose metadata names another (or none).
	// Empty in settings written before it existed: then no check.
	Branch string `json:"branch,omitempty"`
	// Repository is the name of the app's own ECR repository; the control
	// plane refuses an image from any other repository. Empty in settings
	// written before it existed: then only account and region are checked.
	Repository string `json:"repository,omitempty"`
	// RequestCountLabel is the Application Auto Scaling resource label of
	// the web target group, app/<lb-name>/<lb-id>/targetgroup/<tg-name>/<tg-id>
	// (ALBRequestCountPerTarget). Empty: a requestsPerTarget range is
	// refused with a visible reason.
	RequestCountLabel string `json:"requestCountLabel,omitempty"`
}

// ParseSettings decodes and validates an app settings document for app
// under prefix. The error is a *FieldError whose field is
// "settings.<json field>".
func ParseSettings(data []byte, prefix, app string) (*Settings, error) {
	var s Settings
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, Errorf("settings", RuleSyntax, "%v", err)
	}
	if err := s.Validate(prefix, app); err != nil {
		return nil, err
	}
	return &s, nil
}

// Validate checks s as the settings of app under prefix.
func (s *Settings) Validate(prefix, app string) error {
	f := func(field, rule, format string, args ...any) error {
		return Errorf("settings."+field, rule, format, args...)
	}
	configPath := Names{Prefix: prefix}.ConfigPath(app)
	switch {
	case s.Version != SettingsVersion:
		return f("version", RuleEnum, "must be %d, got %d", SettingsVersion, s.Version)
	case s.App != app:
		return f("app", RuleMismatch, "must be %q, got %q", app, s.App)
	case s.Prefix != prefix:
		return f("prefix", RuleMismatch, "must be %q, got %q", prefix, s.Prefix)
	case !strings.HasPrefix(s.ClusterARN, "arn:"):
		return f("clusterArn", RulePattern, "must be an ARN, got %q", s.ClusterARN)
	case len(s.Subnets) == 0:
		return f("subnets", RuleRequired, "must not be empty")
	case len(s.SecurityGroups) == 0:
		return f("securityGroups", RuleRequired, "must not be empty")
	case s.LaunchType != LaunchTypeFargate && s.LaunchType != LaunchTypeEC2:
		return f("launchType", RuleEnum, "must be %s or %s, got %q", LaunchTypeFargate, LaunchTypeEC2, s.LaunchType)
	case s.ContainerPort < 0 || s.ContainerPort > 65535:
		return f("containerPort", RuleRange, "must be 0-65535, got %d", s.ContainerPort)
	case s.TargetGroupARN != "" && s.ContainerPort == 0:
		return f("containerPort", RuleRequired, "is required with targetGroupArn")
	case !strings.HasPrefix(s.ExecutionRoleARN, "arn:"):
		return f("executionRoleArn", RulePattern, "must be an ARN, got %q", s.ExecutionRoleARN)
	case !strings.HasPrefix(s.TaskRoleARN, "arn:"):
		return f("taskRoleArn", RulePattern, "must be an ARN, got %q", s.TaskRoleARN)
	case s.LogGroup == "":
		return f("logGroup", RuleRequired, "must not be empty")
	case s.ConfigPrefix != configPath:
		return f("configPrefix", RuleMismatch, "must be %q, got %q", configPath, s.ConfigPrefix)
	}
	return nil
}
