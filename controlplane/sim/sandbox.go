package sim

import (
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"
)

// SandboxScenario is the scripted scenario of `make sandbox`: two apps in
// one cluster, several builds in a row, a failing release, a config change
// during a deploy and a circuit-breaker rollback.
func SandboxScenario(w *World) {
	w.AddApp("api", "111122223333")
	w.AddApp("shop", "111122223333")
	web2 := map[string]Process{"web": {Command: "bin/web", Count: ptr(int32(2))}, "worker": {Command: "bin/worker"}}
	at := func(d time.Duration, f func()) { w.at(Epoch.Add(d), "sandbox", f) }
	at(0, func() {
		w.PutConfig("api", "DATABASE_URL")
		w.StartBuild("api", BuildPlan{Duration: 4 * time.Minute, Status: "SUCCEEDED", Processes: web2, ReleaseCommand: "bin/migrate", Release: ReleaseOK,
			Schedules: []Schedule{{Name: "nightly", Schedule: "cron(0 3 * * ? *)", Command: "bin/nightly"}}})
	})
	at(1*time.Minute, func() {
		w.StartBuild("shop", BuildPlan{Duration: 3 * time.Minute, Status: "SUCCEEDED", Processes: map[string]Process{"web": {Command: "bin/web"}}})
	})
	// Two pushes in a row: #3 builds faster and finishes before #2, so #2
	// must never be deployed over it.
	at(20*time.Minute, func() {
		w.StartBuild("api", BuildPlan{Duration: 6 * time.Minute, Status: "SUCCEEDED", Processes: web2, ReleaseCommand: "bin/migrate", Release: ReleaseOK})
	})
	at(21*time.Minute, func() {
		w.StartBuild("api", BuildPlan{Duration: 3 * time.Minute, Status: "SUCCEEDED", Processes: web2, ReleaseCommand: "bin/migrate", Release: ReleaseOK})
	})
	// A config change while #3 deploys.
	at(26*time.Minute, func() { w.PutConfig("api", "FEATURE_FLAGS") })
	// shop #2: the migration fails; the running services stay on #1.
	at(35*time.Minute, func() {
		w.StartBuild("shop", BuildPlan{Duration: 3 * time.Minute, Status: "SUCCEEDED", Processes: map[string]Process{"web": {Command: "bin/web"}}, ReleaseCommand: "bin/migrate", Release: ReleaseExitCode})
	})
	// api #4 fails to compile.
	at(45*time.Minute, func() {
		w.StartBuild("api", BuildPlan{Duration: 2 * time.Minute, Status: "FAILED", Processes: web2})
	})
	// shop #3: tasks crash on start; the circuit breaker rolls back to #1.
	at(55*time.Minute, func() {
		w.StartBuild("shop", BuildPlan{Duration: 3 * time.Minute, Status: "SUCCEEDED", Processes: map[string]Process{"web": {Command: "bin/web", Count: ptr(int32(2))}}, Broken: true})
	})
	// api #5 drops the worker and adds a clock process.
	at(70*time.Minute, func() {
		w.StartBuild("api", BuildPlan{Duration: 4 * time.Minute, Status: "SUCCEEDED",
			Processes:      map[string]Process{"web": {Command: "bin/web", Count: ptr(int32(2))}, "clock": {Command: "bin/clock"}},
			ReleaseCommand: "bin/migrate", Release: ReleaseOK})
	})
}

// SandboxFaults is the sandbox's light fault mix: enough to see duplicate
// and late events and a throttled call handled, not enough to drown the
// story.
var SandboxFaults = FaultConfig{Duplicate: 0.05, Delay: 0.02, Throttle: 0.01}

// RunSandbox runs the sandbox scenario against the real control plane and
// writes a timeline to out as it goes, then the summary table.
func RunSandbox(out io.Writer, verbose bool) (*Result, error) {
	fmt.Fprintln(out, "Wharf sandbox: the real control plane against a simulated AWS account")
	fmt.Fprintln(out, "(simulated time; apps api and shop share one ECS cluster; seed 1)")
	fmt.Fprintln(out)
	if !verbose {
		writeLegend(out)
		fmt.Fprintln(out)
	}
	res, err := Run(Options{
		Seed:     1,
		Faults:   &SandboxFaults,
		Scenario: SandboxScenario,
		Active:   100 * time.Minute,
		Settle:   60 * time.Minute,
		Output: func(line string) {
			if l, ok := timelineLine(line, verbose); ok {
				fmt.Fprintln(out, l)
			}
		},
	})
	if err != nil {
		return nil, err
	}
	fmt.Fprintln(out)
	SummaryTable(out, res.Apps)
	fmt.Fprintln(out)
	fmt.Fprintf(out, "%d events, %d control-plane invocations (%d returned an error and were retried), %d AWS calls (%d writes)\n",
		res.Stats.Events, res.Stats.Invocations, res.Stats.HandleErrors, sum(res.Stats.Calls), res.Stats.WriteCalls)
	if res.Violated() {
		fmt.Fprintf(out, "INVARIANT VIOLATIONS:\n%s", violationLines(res))
	} else {
		fmt.Fprintln(out, "all invariants held")
	}
	return res, nil
}

// SandboxLegend explains the markers of the sandbox timeline, in the order
// printed; every line of the timeline (without -v) starts with one.
var SandboxLegend = []struct{ Marker, Meaning string }{
	{">", "what a developer does: a push starts a build, a config change"},
	{"aws", "an event AWS sends the control plane (build finished, deployment, release task)"},
	{"wharf state", "the control plane saves the app's state: phase, build, current step"},
	{"wharf →", "a call the control plane makes to AWS, and its answer"},
	{"wharf record", "a build's outcome in the deploy history: deployed, failed, or skipped (superseded by a newer build, which went ahead)"},
	{"app", "the simulator's check: a build runs on every service"},
	{"FAULT", "a fault the simulator injects: a duplicated or late event; after a call: it was throttled"},
	{"VIOLATION", "an invariant the control plane broke (none expected)"},
	{"---", "the scenario's phases: after the active part, faults stop and the world settles"},
}

func writeLegend(out io.Writer) {
	fmt.Fprintln(out, "Legend:")
	for _, l := range SandboxLegend {
		fmt.Fprintf(out, "  %-13s %s\n", l.Marker, l.Meaning)
	}
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func violationLines(r *Result) string {
	var b strings.Builder
	for _, v := range r.Stats.Violations {
		b.WriteString("  " + v.String() + "\n")
	}
	return b.String()
}

// timelineLine picks the trace lines a user wants to see and tidies them.
func timelineLine(line string, verbose bool) (string, bool) {
	if verbose {
		return line, true
	}
	ts, rest, _ := strings.Cut(line, " ")
	body := strings.TrimSpace(rest)
	keep := false
	switch {
	case strings.HasPrefix(body, "push "), strings.HasPrefix(body, "user: "):
		body = "> " + body
		keep = true
	case strings.HasPrefix(body, "emit CodeBuild Build State Change"):
		keep = !strings.Contains(body, "IN_PROGRESS")
		body = "   aws  " + strings.TrimPrefix(body, "emit ")
	case strings.HasPrefix(body, "emit ECS Deployment State Change"), strings.HasPrefix(body, "emit ECS Task State Change") && strings.Contains(body, "_release") && (strings.Contains(body, " STOPPED ") || strings.Contains(body, " RUNNING v")):
		keep = true
		body = "   aws  " + strings.TrimPrefix(body, "emit ")
	case strings.HasPrefix(body, "state "), strings.HasPrefix(body, "record "):
		keep = true
		body = "   wharf " + body
	case strings.HasPrefix(body, "ECS.RunTask"), strings.HasPrefix(body, "ECS.CreateService"), strings.HasPrefix(body, "ECS.UpdateService"),
		strings.HasPrefix(body, "ECS.DeleteService"), strings.HasPrefix(body, "ECS.StopTask"), strings.HasPrefix(body, "ECS.RegisterTaskDefinition"),
		strings.HasPrefix(body, "EventBridge.PutRule"), strings.HasPrefix(body, "EventBridge.DeleteRule"):
		keep = true
		body = "   wharf → " + body
	case strings.Contains(body, "FAULT") && !strings.HasPrefix(body, "FAULT"):
		// A read the simulator failed (throttled): a call like the others.
		keep = true
		body = "   wharf → " + body
	case strings.HasPrefix(body, "FAULT"), strings.HasPrefix(body, "VIOLATION"), strings.HasPrefix(body, "app "), strings.HasPrefix(body, "---"):
		keep = true
		body = "   " + body
	}
	for _, r := range tidy {
		body = r.re.ReplaceAllString(body, r.with)
	}
	return ts + " " + body, keep
}

// tidy shortens what a reader of the timeline does not need: ARN
// prefixes, idempotency tokens, content hashes, event IDs and ECS's
// boilerplate reasons.
var tidy = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`arn:aws:ecs:[^:]+:[0-9]+:task-definition/`), ""},
	{regexp.MustCompile(` token=\S+`), ""},
	{regexp.MustCompile(` content=\S+`), ""},
	{regexp.MustCompile(` force=false`), ""},
	{regexp.MustCompile(` \[[0-9a-f]{8}\]$`), ""},
	{regexp.MustCompile(` [0-9]{6} \(ECS deployment ecs-svc/[0-9]+ (in progress|completed)\.\)`), ""},
}
