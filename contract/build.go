package contract

import (
	"encoding/json"
	"fmt"
	"strings"
)

// BuildMetadataVersion is the version of wharf-build.json.
const BuildMetadataVersion = 1

// MetadataFile is the name of the build metadata file in a build's
// artifact folder.
const MetadataFile = "wharf-build.json"

// Defaults of a process without cpu, memory or count.
const (
	DefaultCPU    = 256
	DefaultMemory = 512
	DefaultCount  = 1
)

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
		return DefaultCount
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
	Version     int    `json:"version"`
	App         string `json:"app"`
	BuildNumber int64  `json:"buildNumber"`
	BuildID     string `json:"buildId"`
	Commit      string `json:"commit"`
	// Branch is the branch the build was made from, written by the build
	// after it checked the resolved head ref against the app's branch
	// (docs/build-metadata.md); empty in metadata of older builds.
	Branch         string             `json:"branch,omitempty"`
	Image          string             `json:"image"`
	ReleaseCommand string             `json:"releaseCommand,omitempty"`
	Processes      map[string]Process `json:"processes"`
	Schedules      []Schedule         `json:"schedules,omitempty"`
}

// ParseBuildMetadata decodes and validates wharf-build.json of app under
// n's prefix for build number build (0: any), and fills in the defaults
// (cpu 256, memory 512). Process names follow ValidateProcessName and
// schedule names n.ValidateScheduleName. The error is a *FieldError whose
// field is "build metadata.<json path>".
func (n Names) ParseBuildMetadata(data []byte, app string, build int64) (*BuildMetadata, error) {
	var m BuildMetadata
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, Errorf("build metadata", RuleSyntax, "%v", err)
	}
	if err := n.validateBuildMetadata(&m, app, build); err != nil {
		return nil, err
	}
	return &m, nil
}

func (n Names) validateBuildMetadata(m *BuildMetadata, app string, build int64) error {
	f := func(field, rule, format string, args ...any) error {
		return Errorf("build metadata."+field, rule, format, args...)
	}
	switch {
	case m.Version != BuildMetadataVersion:
		return f("version", RuleEnum, "must be %d, got %d", BuildMetadataVersion, m.Version)
	case m.App != app:
		return f("app", RuleMismatch, "must be %q, got %q", app, m.App)
	case build > 0 && m.BuildNumber != build:
		return f("buildNumber", RuleMismatch, "must be %d, got %d", build, m.BuildNumber)
	case m.Image == "":
		return f("image", RuleRequired, "must not be empty")
	case len(m.Processes) == 0:
		return f("processes", RuleRequired, "must not be empty")
	}
	for name, p := range m.Processes {
		if err := ValidateProcessName(name); err != nil {
			fe := AsFieldError(err)
			return f(fmt.Sprintf("processes[%q]", name), fe.Rule, "%s", fe.Msg)
		}
		if strings.TrimSpace(p.Command) == "" {
			return f("processes."+name+".command", RuleRequired, "must not be empty")
		}
		if p.CPU == 0 {
			p.CPU = DefaultCPU
		}
		if p.Memory == 0 {
			p.Memory = DefaultMemory
		}
		if p.CPU < 0 || p.Memory < 0 || (p.Count != nil && *p.Count < 0) {
			return f("processes."+name, RuleRange, "cpu, memory and count must not be negative")
		}
		m.Processes[name] = p
	}
	seen := map[string]bool{}
	for i, s := range m.Schedules {
		at := fmt.Sprintf("schedules[%d]", i)
		if err := n.ValidateScheduleName(app, s.Name); err != nil {
			return AsFieldError(err).At("build metadata." + at)
		}
		if seen[s.Name] {
			return f(at+".name", RuleUnique, "%q is repeated", s.Name)
		}
		if err := ValidateScheduleExpression(s.Schedule); err != nil {
			return AsFieldError(err).At("build metadata." + at)
		}
		if strings.TrimSpace(s.Command) == "" {
			return f(at+".command", RuleRequired, "must not be empty")
		}
		seen[s.Name] = true
	}
	return nil
}
