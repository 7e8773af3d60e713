package sim

import (
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/wharf-paas/wharf/contract"
)

// Prefix is the resource prefix of the simulated installation.
const Prefix = "wharf"

// ControlPlaneAccount is the account the control plane (and its sweep rule)
// lives in.
const ControlPlaneAccount = "999999999999"

// The documents the simulated account holds are the control plane's own
// types: the App construct and the build script are checked against them
// (constructs/app contract tests), so the simulator writes exactly what a
// real account holds.
type (
	// Settings is the app settings document of docs/conventions.md.
	Settings = contract.Settings
	// BuildMetadata is the wharf-build.json document of docs/conventions.md.
	BuildMetadata = contract.BuildMetadata
	// Process is one process type in BuildMetadata.
	Process = contract.Process
	// Schedule is one scheduled task in BuildMetadata.
	Schedule = contract.Schedule
)

// Release behaviours of a build's release task.
const (
	ReleaseOK        = "ok"         // exits 0
	ReleaseExitCode  = "exit-code"  // exits 1
	ReleaseFailStart = "fail-start" // stops with TaskFailedToStart
	ReleaseHang      = "hang"       // runs until stopped
)

// BuildPlan says how a simulated build behaves.
type BuildPlan struct {
	// Duration is how long the build runs.
	Duration time.Duration
	// Status is the terminal status: SUCCEEDED, FAILED or STOPPED.
	Status string
	// Processes are the process types the build declares (with counts).
	Processes map[string]Process
	// ReleaseCommand is empty for no release step.
	ReleaseCommand string
	// Release is the release task's behaviour (Release* constants).
	Release string
	// Broken builds start tasks that crash, so a deployment fails through
	// the circuit breaker.
	Broken bool
	// BrokenProcesses limits Broken to these process types (empty: all).
	BrokenProcesses []string
	// Schedules are the declared scheduled tasks.
	Schedules []Schedule
}

// account is one simulated AWS account in one region.
type account struct {
	id, region string
	ecs        *ecsState
	projects   map[string]int64 // CodeBuild project → last build number
	builds     map[string]*build
	objects    map[string][]byte // "bucket/key"
	params     map[string]*param
	rules      map[string]*rule
	clusters   map[string]bool // cluster ARNs
}

func newAccount(id, region string) *account {
	return &account{
		id: id, region: region,
		ecs:      newECSState(),
		projects: map[string]int64{},
		builds:   map[string]*build{},
		objects:  map[string][]byte{},
		params:   map[string]*param{},
		rules:    map[string]*rule{},
		clusters: map[string]bool{},
	}
}

// appWorld is one app's simulated resources and the oracle's knowledge of
// what should happen to it.
type appWorld struct {
	name     string
	acct     *account
	reg      contract.AppRegistration
	settings Settings
	builds   []*build // in build-number order

	lastConfigChange time.Time
	configChanges    int
	settingsChanges  int
}

type build struct {
	app          *appWorld
	id, arn      string
	number       int64
	status       string
	phase        string
	start, end   time.Time
	plan         BuildPlan
	image        string
	commit       string
	artifactPath string // "bucket/path"
	// eventsLost: every copy of every event of this build is lost (the
	// build-events-lost fault), so only the sweep's listing can find it.
	eventsLost bool
}

func (b *build) label() string { return fmt.Sprintf("%s#%d", b.app.name, b.number) }

// account returns (creating) the account with id.
func (w *World) account(id string) *account {
	a, ok := w.accounts[id]
	if !ok {
		a = newAccount(id, "eu-west-1")
		w.accounts[id] = a
	}
	return a
}

// AddApp creates an app's resources in account acct: its cluster (shared
// by apps of one account), settings parameter, CodeBuild project and
// management role registration.
func (w *World) AddApp(name, acct string) contract.AppRegistration {
	a := w.account(acct)
	cluster := fmt.Sprintf("arn:aws:ecs:%s:%s:cluster/%s-main", a.region, acct, Prefix)
	a.clusters[cluster] = true
	app := &appWorld{name: name, acct: a}
	app.reg = contract.AppRegistration{
		Name:              name,
		AccountID:         acct,
		Region:            a.region,
		ManagementRoleARN: fmt.Sprintf("arn:aws:iam::%s:role/%s-app-%s-management", acct, Prefix, name),
		ExternalID:        "ext-" + name,
	}
	app.settings = Settings{
		Version:          1,
		App:              name,
		Prefix:           Prefix,
		ClusterARN:       cluster,
		Subnets:          []string{"subnet-1", "subnet-2", "subnet-3"},
		SecurityGroups:   []string{"sg-" + name},
		AssignPublicIP:   true,
		LaunchType:       "FARGATE",
		TargetGroupARN:   fmt.Sprintf("arn:aws:elasticloadbalancing:%s:%s:targetgroup/%s-%s/%s", a.region, acct, Prefix, name, w.hexID(16)),
		ContainerPort:    8080,
		ExecutionRoleARN: fmt.Sprintf("arn:aws:iam::%s:role/%s-app-%s-execution", acct, Prefix, name),
		TaskRoleARN:      fmt.Sprintf("arn:aws:iam::%s:role/%s-app-%s-task", acct, Prefix, name),
		EventsRoleARN:    fmt.Sprintf("arn:aws:iam::%s:role/%s-app-%s-events", acct, Prefix, name),
		LogGroup:         fmt.Sprintf("/%s/apps/%s", Prefix, name),
		CodeBuildProject: fmt.Sprintf("%s-%s", Prefix, name),
		ConfigPrefix:     fmt.Sprintf("/%s/apps/%s/config/", Prefix, name),
	}
	doc, _ := json.Marshal(app.settings)
	a.params[fmt.Sprintf("/%s/apps/%s/settings", Prefix, name)] = &param{
		name: fmt.Sprintf("/%s/apps/%s/settings", Prefix, name), typ: "String", value: string(doc), version: 1, modified: w.now,
	}
	w.apps[name] = app
	return app.reg
}

// Registry returns the control-plane registry for every app in the world.
func (w *World) Registry() contract.Registry {
	reg := contract.Registry{Prefix: Prefix}
	for _, id := range sortedKeys(w.accounts) {
		reg.Accounts = append(reg.Accounts, contract.AccountRegistration{
			AccountID:       id,
			ObserverRoleARN: fmt.Sprintf("arn:aws:iam::%s:role/%s-account-observer", id, Prefix),
			ExternalID:      "ext-account-" + id,
		})
	}
	for _, name := range sortedKeys(w.apps) {
		reg.Apps = append(reg.Apps, w.apps[name].reg)
	}
	return reg
}

// appNames returns the app names in order.
func (w *World) appNames() []string { return sortedKeys(w.apps) }

// processNames returns a process map's keys in order.
func processNames(p map[string]Process) []string {
	names := make([]string, 0, len(p))
	for k := range p {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}
