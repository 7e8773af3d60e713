package contract

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"sync"
)

// Runtime requests: documents the app's users write (wharf scale, wharf
// restart, wharf rollback; the user role may put exactly these three
// parameters) and the control plane applies. Each is an SSM String
// parameter under the app's path, so a change reaches the control plane as
// a forwarded Parameter Store Change event and, when that event is lost,
// through the sweep. The control plane never writes them.

// Versions of the runtime request documents.
const (
	ScaleVersion    = 1
	RestartVersion  = 1
	RollbackVersion = 1
)

// Names of the runtime request parameters, relative to the app's parameter
// path (Names.AppParameterPath).
const (
	ScaleKey    = "scale"
	RestartKey  = "restart"
	RollbackKey = "rollback"
)

// ScaleParameter is /<prefix>/apps/<app>/scale (ScaleSetting).
func (n Names) ScaleParameter(app string) string { return n.AppParameterPath(app) + ScaleKey }

// RestartParameter is /<prefix>/apps/<app>/restart (RestartRequest).
func (n Names) RestartParameter(app string) string { return n.AppParameterPath(app) + RestartKey }

// RollbackParameter is /<prefix>/apps/<app>/rollback (RollbackRequest).
func (n Names) RollbackParameter(app string) string { return n.AppParameterPath(app) + RollbackKey }

// RuntimeRequestParameters are the three parameters the app's users may
// write, in a fixed order.
func (n Names) RuntimeRequestParameters(app string) []string {
	return []string{n.ScaleParameter(app), n.RestartParameter(app), n.RollbackParameter(app)}
}

// ScalingPolicyName is the target-tracking policy of a process's service:
// <prefix>-<app>_<process>-target (one per service; PutScalingPolicy with
// the same name updates it).
func (n Names) ScalingPolicyName(app, process string) string {
	return n.Family(app, process) + "-target"
}

// ScalableResourceID is the Application Auto Scaling resource ID of an ECS
// service: service/<cluster-name>/<service-name>.
func ScalableResourceID(cluster, service string) string {
	return "service/" + cluster + "/" + service
}

// Caps of runtime scale settings.
const (
	// MaxScaleCount is the largest count, or autoscaling maximum, a scale
	// setting may name; the control plane's own MaxCount cap (default 50)
	// may be lower and then wins, with a visible refusal.
	MaxScaleCount = 1000
	// MinTargetPercent and MaxTargetPercent bound a CPU target.
	MinTargetPercent = 10
	MaxTargetPercent = 90
)

// ProcessScale is the runtime scale of one process type. Either Count is
// set (a fixed count), or Min and Max are (Application Auto Scaling target
// tracking between them, on CPUTarget percent or, for the web process,
// RequestsPerTarget requests per target per minute; CPUTarget defaults to
// 60 when neither is given). CPU and Memory, when non-zero, override the
// build's declared size (Fargate CPU units and MiB, a valid Fargate
// combination: ValidateTaskSize).
type ProcessScale struct {
	Count             *int32 `json:"count,omitempty"`
	Min               int32  `json:"min,omitempty"`
	Max               int32  `json:"max,omitempty"`
	CPUTarget         int32  `json:"cpuTarget,omitempty"`
	RequestsPerTarget int32  `json:"requestsPerTarget,omitempty"`
	CPU               int32  `json:"cpu,omitempty"`
	Memory            int32  `json:"memory,omitempty"`
}

// Autoscaled reports whether p turns on target tracking.
func (p ProcessScale) Autoscaled() bool { return p.Max > 0 }

// DefaultCPUTarget is the CPU target of a range without a target.
const DefaultCPUTarget = 60

// ScaleSetting is the runtime scale of an app
// (/<prefix>/apps/<app>/scale). Precedence, per process type: a process
// named here takes its count (or autoscaling range) and size from here;
// every other process, and every field left zero, takes the build's
// declared value. A process named here that the deployed build does not
// declare is ignored until a build declares it. "wharf scale --reset"
// deletes the parameter, which returns every process to the build's
// values.
type ScaleSetting struct {
	Version   int                     `json:"version"`
	Processes map[string]ProcessScale `json:"processes"`
	// UpdatedAt (RFC 3339) and UpdatedBy (the writer's identity, e.g. the
	// user's email) are informational.
	UpdatedAt string `json:"updatedAt,omitempty"`
	UpdatedBy string `json:"updatedBy,omitempty"`
}

// requestIDRE is a request ID: 1-64 of [A-Za-z0-9_.:-]. It is compiled on
// first use (a counted repetition: about 0.2 ms of package init otherwise).
var requestIDRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9_.:-]{1,64}$`) })

// RestartRequest asks for a new deployment of the current task
// definitions (/<prefix>/apps/<app>/restart). The control plane acts on
// each ID once: writing the same ID again does nothing, a new ID restarts
// again. Process limits the restart to one process type ("" = all).
type RestartRequest struct {
	Version     int    `json:"version"`
	ID          string `json:"id"`
	Process     string `json:"process,omitempty"`
	RequestedAt string `json:"requestedAt,omitempty"`
	RequestedBy string `json:"requestedBy,omitempty"`
}

// RollbackRequest asks to redeploy an earlier successful build's image and
// process spec without rebuilding (/<prefix>/apps/<app>/rollback). The
// control plane acts on each ID once; the rollback supersedes every build
// it knows of at that moment, and a build that succeeds afterwards deploys
// as usual.
type RollbackRequest struct {
	Version     int    `json:"version"`
	ID          string `json:"id"`
	Build       int64  `json:"build"`
	RequestedAt string `json:"requestedAt,omitempty"`
	RequestedBy string `json:"requestedBy,omitempty"`
}

// fargateSizes are the valid Fargate Linux CPU (units) and memory (MiB)
// combinations (Amazon ECS Developer Guide, "Task CPU and memory").
var fargateSizes = map[int32][]int32{
	256:  {512, 1024, 2048},
	512:  rangeStep(1024, 4096, 1024),
	1024: rangeStep(2048, 8192, 1024),
	2048: rangeStep(4096, 16384, 1024),
	4096: rangeStep(8192, 30720, 1024),
	8192: rangeStep(16384, 61440, 4096),
	// 16 vCPU: 32 GB to 120 GB in 8 GB increments.
	16384: rangeStep(32768, 122880, 8192),
}

func rangeStep(lo, hi, step int32) []int32 {
	var out []int32
	for v := lo; v <= hi; v += step {
		out = append(out, v)
	}
	return out
}

// ValidateTaskSize checks cpu (units) and memory (MiB) as a Fargate task
// size. field names the pair in the error ("scale.processes.web").
func ValidateTaskSize(field string, cpu, memory int32) error {
	mems, ok := fargateSizes[cpu]
	if !ok {
		cpus := make([]int, 0, len(fargateSizes))
		for c := range fargateSizes {
			cpus = append(cpus, int(c))
		}
		sort.Ints(cpus)
		return Errorf(field+".cpu", RuleEnum, "must be one of %v CPU units, got %d", cpus, cpu)
	}
	for _, m := range mems {
		if m == memory {
			return nil
		}
	}
	return Errorf(field+".memory", RuleEnum, "with cpu %d must be one of %v MiB, got %d", cpu, mems, memory)
}

// Validate checks s. The error is a *FieldError whose field starts with
// "scale.".
func (s *ScaleSetting) Validate() error {
	if s.Version != ScaleVersion {
		return Errorf("scale.version", RuleEnum, "must be %d, got %d", ScaleVersion, s.Version)
	}
	names := make([]string, 0, len(s.Processes))
	for name := range s.Processes {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		f := "scale.processes." + name
		if err := ValidateProcessName(name); err != nil {
			return Errorf(f, RulePattern, "%v", err)
		}
		p := s.Processes[name]
		switch {
		case p.Count != nil && p.Max > 0:
			return Errorf(f, RuleMismatch, "count and min/max are exclusive")
		case p.Count == nil && p.Max == 0 && (p.Min != 0 || p.CPUTarget != 0 || p.RequestsPerTarget != 0):
			return Errorf(f+".max", RuleRequired, "is required with min, cpuTarget or requestsPerTarget")
		case p.Count != nil && (*p.Count < 0 || *p.Count > MaxScaleCount):
			return Errorf(f+".count", RuleRange, "must be 0-%d, got %d", MaxScaleCount, *p.Count)
		case p.Max > 0 && (p.Min < 0 || p.Min > p.Max || p.Max > MaxScaleCount):
			return Errorf(f+".min", RuleRange, "must satisfy 0 <= min <= max <= %d, got %d-%d", MaxScaleCount, p.Min, p.Max)
		case p.CPUTarget != 0 && (p.CPUTarget < MinTargetPercent || p.CPUTarget > MaxTargetPercent):
			return Errorf(f+".cpuTarget", RuleRange, "must be %d-%d percent, got %d", MinTargetPercent, MaxTargetPercent, p.CPUTarget)
		case p.CPUTarget != 0 && p.RequestsPerTarget != 0:
			return Errorf(f, RuleMismatch, "cpuTarget and requestsPerTarget are exclusive")
		case p.RequestsPerTarget < 0:
			return Errorf(f+".requestsPerTarget", RuleRange, "must be positive, got %d", p.RequestsPerTarget)
		case p.Count == nil && p.Max == 0 && p.CPU == 0 && p.Memory == 0:
			return Errorf(f, RuleRequired, "must set count, min/max, or cpu and memory")
		}
		if p.CPU != 0 || p.Memory != 0 {
			if err := ValidateTaskSize(f, p.CPU, p.Memory); err != nil {
				return err
			}
		}
	}
	return nil
}

// ParseScaleSetting decodes and validates a scale setting document.
func ParseScaleSetting(data []byte) (*ScaleSetting, error) {
	var s ScaleSetting
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, Errorf("scale", RuleSyntax, "%v", err)
	}
	if s.Processes == nil {
		s.Processes = map[string]ProcessScale{}
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return &s, nil
}

// Validate checks r.
func (r *RestartRequest) Validate() error {
	switch {
	case r.Version != RestartVersion:
		return Errorf("restart.version", RuleEnum, "must be %d, got %d", RestartVersion, r.Version)
	case !requestIDRE().MatchString(r.ID):
		return Errorf("restart.id", RulePattern, "must be 1-64 of A-Z a-z 0-9 _ . : -, got %q", r.ID)
	case r.Process != "" && ValidateProcessName(r.Process) != nil:
		return Errorf("restart.process", RulePattern, "%v", ValidateProcessName(r.Process))
	}
	return nil
}

// ParseRestartRequest decodes and validates a restart request.
func ParseRestartRequest(data []byte) (*RestartRequest, error) {
	var r RestartRequest
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, Errorf("restart", RuleSyntax, "%v", err)
	}
	if err := r.Validate(); err != nil {
		return nil, err
	}
	return &r, nil
}

// Validate checks r.
func (r *RollbackRequest) Validate() error {
	switch {
	case r.Version != RollbackVersion:
		return Errorf("rollback.version", RuleEnum, "must be %d, got %d", RollbackVersion, r.Version)
	case !requestIDRE().MatchString(r.ID):
		return Errorf("rollback.id", RulePattern, "must be 1-64 of A-Z a-z 0-9 _ . : -, got %q", r.ID)
	case r.Build <= 0:
		return Errorf("rollback.build", RuleRange, "must be a build number (1 or more), got %d", r.Build)
	}
	return nil
}

// ParseRollbackRequest decodes and validates a rollback request.
func ParseRollbackRequest(data []byte) (*RollbackRequest, error) {
	var r RollbackRequest
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, Errorf("rollback", RuleSyntax, "%v", err)
	}
	if err := r.Validate(); err != nil {
		return nil, err
	}
	return &r, nil
}

// String renders p the way "wharf scale" takes it: "3", "2-10 cpu 60%",
// "2-10 250 req/target", with " 512/1024" for a size.
func (p ProcessScale) String() string {
	s := ""
	switch {
	case p.Count != nil:
		s = fmt.Sprint(*p.Count)
	case p.Max > 0:
		s = fmt.Sprintf("%d-%d", p.Min, p.Max)
		if p.RequestsPerTarget > 0 {
			s += fmt.Sprintf(" %d req/target", p.RequestsPerTarget)
		} else {
			t := p.CPUTarget
			if t == 0 {
				t = DefaultCPUTarget
			}
			s += fmt.Sprintf(" cpu %d%%", t)
		}
	}
	if p.CPU != 0 {
		if s != "" {
			s += " "
		}
		s += fmt.Sprintf("%d/%d", p.CPU, p.Memory)
	}
	return s
}
