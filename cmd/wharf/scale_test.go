package main

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/wharf-paas/wharf/contract"
)

func i32p(v int32) *int32 { return &v }

// TestParseScaleArg: the argument forms, and every bad form is a usage
// error that quotes the argument.
func TestParseScaleArg(t *testing.T) {
	cases := []struct {
		arg      string
		count    *int32
		min, max int32
		ranged   bool
		bad      string // substring of the error; "" = valid
	}{
		{arg: "web=3", count: i32p(3)},
		{arg: "worker=0", count: i32p(0)},
		{arg: "web=2-10", min: 2, max: 10, ranged: true},
		{arg: "web=0-4", min: 0, max: 4, ranged: true},
		{arg: "web"},
		{arg: "web=", bad: `count "" is not a whole number`},
		{arg: "web=three", bad: `count "three" is not a whole number`},
		{arg: "web=-1", bad: `minimum "" is not a whole number`},
		{arg: "web=5-2", bad: "0 <= MIN <= MAX"},
		{arg: "web=0-0", bad: "MAX >= 1"},
		{arg: "web=2-", bad: `maximum "" is not a whole number`},
		{arg: "web=1001", bad: "over the maximum of 1000"},
		{arg: "web=1-2000", bad: "maximum 2000 is over the maximum"},
		{arg: "Web=3", bad: "process"},
		{arg: "release=1", bad: "reserved"},
		{arg: "=3", bad: "process is required"},
		{arg: "web=3.5", bad: "not a whole number"},
	}
	for _, c := range cases {
		a, err := parseScaleArg(c.arg)
		if c.bad != "" {
			var u *usageError
			if !errors.As(err, &u) || !strings.Contains(err.Error(), c.bad) || !strings.Contains(err.Error(), `"`+c.arg+`"`) {
				t.Errorf("%q: got %v, want a usage error quoting the argument and containing %q", c.arg, err, c.bad)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", c.arg, err)
			continue
		}
		if (a.count == nil) != (c.count == nil) || (a.count != nil && *a.count != *c.count) || a.min != c.min || a.max != c.max || a.ranged != c.ranged {
			t.Errorf("%q: got %+v", c.arg, a)
		}
	}
}

func mustArgs(t *testing.T, raw ...string) []scaleArg {
	t.Helper()
	var out []scaleArg
	for _, r := range raw {
		a, err := parseScaleArg(r)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, a)
	}
	return out
}

// TestApplyScaleArgs: merging into the stored setting, and errors that
// name the argument or flag at fault.
func TestApplyScaleArgs(t *testing.T) {
	cur := &contract.ScaleSetting{Version: 1, Processes: map[string]contract.ProcessScale{
		"web":    {Min: 2, Max: 8, CPUTarget: 70, CPU: 512, Memory: 1024},
		"worker": {Count: i32p(1)},
	}}
	// A count replaces the range and keeps the size; other processes stay.
	got, err := applyScaleArgs(cur, mustArgs(t, "web=3"), scaleFlags{})
	if err != nil {
		t.Fatal(err)
	}
	if w := got.Processes["web"]; w.Count == nil || *w.Count != 3 || w.Max != 0 || w.CPUTarget != 0 || w.CPU != 512 || w.Memory != 1024 {
		t.Errorf("web=3 over a range: %+v", w)
	}
	if got.Processes["worker"].Count == nil || *got.Processes["worker"].Count != 1 {
		t.Errorf("worker changed: %+v", got.Processes["worker"])
	}
	if cur.Processes["web"].Max != 8 {
		t.Error("applyScaleArgs changed the stored setting it was given")
	}
	// A new range keeps the old target; a target flag replaces it.
	got, _ = applyScaleArgs(cur, mustArgs(t, "web=1-4"), scaleFlags{})
	if w := got.Processes["web"]; w.Min != 1 || w.Max != 4 || w.CPUTarget != 70 {
		t.Errorf("web=1-4 over a range: %+v", w)
	}
	got, _ = applyScaleArgs(cur, mustArgs(t, "web=1-4"), scaleFlags{requestsPerTarget: 500})
	if w := got.Processes["web"]; w.CPUTarget != 0 || w.RequestsPerTarget != 500 {
		t.Errorf("--requests-per-target: %+v", w)
	}
	// A range over a count starts without a target (CPU 60% by default).
	got, _ = applyScaleArgs(cur, mustArgs(t, "worker=2-10"), scaleFlags{})
	if w := got.Processes["worker"]; w.Count != nil || w.Max != 10 || w.CPUTarget != 0 {
		t.Errorf("worker=2-10: %+v", w)
	}
	// A bare process with a size.
	got, _ = applyScaleArgs(nil, mustArgs(t, "worker"), scaleFlags{cpu: 1024, memory: 4096})
	if w := got.Processes["worker"]; w.Count != nil || w.CPU != 1024 || w.Memory != 4096 {
		t.Errorf("worker --cpu: %+v", w)
	}
	for name, c := range map[string]struct {
		args []string
		f    scaleFlags
		want string
	}{
		"cpu without memory":       {[]string{"web=2"}, scaleFlags{cpu: 512}, "--cpu and --memory go together"},
		"bad size":                 {[]string{"web=2"}, scaleFlags{cpu: 256, memory: 4096}, "--memory 4096 (with --cpu 256)"},
		"bad cpu":                  {[]string{"web=2"}, scaleFlags{cpu: 300, memory: 1024}, "--cpu 300"},
		"target too high":          {[]string{"web=2-4"}, scaleFlags{cpuTarget: 95}, "--cpu-target 95"},
		"target on a count":        {[]string{"web=2"}, scaleFlags{cpuTarget: 50}, `argument "web=2": --cpu-target and --requests-per-target need a range`},
		"requests on worker":       {[]string{"worker=1-3"}, scaleFlags{requestsPerTarget: 100}, `argument "worker=1-3": --requests-per-target applies only to the web process`},
		"both targets":             {[]string{"web=1-3"}, scaleFlags{cpuTarget: 50, requestsPerTarget: 100}, "exclusive"},
		"bare without size":        {[]string{"web"}, scaleFlags{}, `argument "web": give a count`},
		"named twice":              {[]string{"web=1", "web=2"}, scaleFlags{}, `argument "web=2": process web is named twice`},
		"negative requests target": {[]string{"web=1-3"}, scaleFlags{requestsPerTarget: -5}, "--requests-per-target -5"},
	} {
		_, err := applyScaleArgs(nil, mustArgs(t, c.args...), c.f)
		var u *usageError
		if !errors.As(err, &u) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want a usage error containing %q", name, err, c.want)
		}
	}
}

// TestEffectiveScaleAndApplied: precedence per process, and when a wait
// counts the setting as applied.
func TestEffectiveScaleAndApplied(t *testing.T) {
	s := &contract.ScaleSetting{Version: 1, Processes: map[string]contract.ProcessScale{
		"web": {Count: i32p(3)}, "cron": {Count: i32p(1)}, "worker": {Min: 1, Max: 4},
	}}
	st := &appStatus{Phase: "deployed", UpdatedAt: "t2", Processes: map[string]contract.StatusProcess{"web": {Desired: 3}, "worker": {Desired: 2}, "mailer": {Desired: 1}}}
	out := effectiveScale("api", s, st)
	got := map[string]effectiveProcess{}
	for _, p := range out.Processes {
		got[p.Name] = p
	}
	if got["web"].Source != "scale" || got["mailer"].Source != "build" || got["cron"].Deployed || !got["worker"].Deployed || *got["mailer"].Desired != 1 {
		t.Errorf("effective scale: %+v", out.Processes)
	}
	before := &appStatus{Phase: "deployed", UpdatedAt: "t1"}
	if !scaleApplied(before, st, s) {
		t.Error("counts match and the status is newer: applied")
	}
	if scaleApplied(st, st, s) {
		t.Error("no new status since the write: not applied yet")
	}
	wrong := *st
	wrong.Processes = map[string]contract.StatusProcess{"web": {Desired: 2}, "worker": {Desired: 2}}
	if scaleApplied(before, &wrong, s) {
		t.Error("web desired 2, setting 3: not applied")
	}
	outside := *st
	outside.Processes = map[string]contract.StatusProcess{"web": {Desired: 3}, "worker": {Desired: 5}}
	if scaleApplied(before, &outside, s) {
		t.Error("worker desired 5 outside 1-4: not applied")
	}
	busy := *st
	busy.Op = &statusOp{Kind: "build"}
	if scaleApplied(before, &busy, s) {
		t.Error("an operation in progress: not applied")
	}
	// With the effective scale published (autoscaling, sizes).
	auto := *st
	auto.Processes = map[string]contract.StatusProcess{"web": {Desired: 3}, "worker": {Desired: 1, Autoscaled: true, Min: 1, Max: 4, CPUTarget: 60}}
	if !scaleApplied(before, &auto, s) {
		t.Error("worker autoscaled 1-4 as asked: applied")
	}
	auto.Processes["worker"] = contract.StatusProcess{Desired: 2, Autoscaled: true, Min: 2, Max: 4}
	if scaleApplied(before, &auto, s) {
		t.Error("worker autoscaled 2-4, asked 1-4: not applied")
	}
	auto.Processes["worker"] = contract.StatusProcess{Desired: 1, Autoscaled: true, Min: 1, Max: 4}
	auto.Processes["web"] = contract.StatusProcess{Desired: 3, Autoscaled: true, Min: 3, Max: 3}
	if scaleApplied(before, &auto, s) {
		t.Error("web still autoscaled, asked a fixed 3: not applied")
	}
	sized := &contract.ScaleSetting{Version: 1, Processes: map[string]contract.ProcessScale{"web": {Count: i32p(3), CPU: 1024, Memory: 2048}}}
	old := &appStatus{Phase: "deployed", UpdatedAt: "t2", Processes: map[string]contract.StatusProcess{"web": {Desired: 3, CPU: 512, Memory: 1024}}}
	if scaleApplied(before, old, sized) {
		t.Error("web published at 512/1024, asked 1024/2048: not applied")
	}
	old.Processes["web"] = contract.StatusProcess{Desired: 3, CPU: 1024, Memory: 2048, Source: "scale"}
	if !scaleApplied(before, old, sized) {
		t.Error("web at the size asked: applied")
	}
	if got := effectiveString(contract.StatusProcess{Desired: 2, Autoscaled: true, Min: 2, Max: 10, RequestsPerTarget: 500, CPU: 512, Memory: 1024}); got != "2-10 500 req/target 512/1024" {
		t.Errorf("effectiveString = %q", got)
	}
}

func TestRollbackTarget(t *testing.T) {
	history := []deploy{ // newest first, as deployHistory returns it
		{Build: 9, Outcome: "failed"},
		{Build: 8, Outcome: "deployed"},
		{Build: 7, Outcome: "failed"},
		{Build: 6, Outcome: "deployed"},
	}
	if b, err := rollbackTarget(history, 8); err != nil || b != 6 {
		t.Errorf("current 8: got %d %v, want 6", b, err)
	}
	if b, err := rollbackTarget(history, 0); err != nil || b != 6 {
		t.Errorf("current unknown: got %d %v, want 6 (8 is taken as deployed)", b, err)
	}
	// After a rollback to 6 the previous deploy is 8.
	if b, err := rollbackTarget(append([]deploy{{Build: 6, Outcome: "deployed"}}, history...), 6); err != nil || b != 8 {
		t.Errorf("after a rollback: got %d %v, want 8", b, err)
	}
	if _, err := rollbackTarget(history[:2], 8); err == nil {
		t.Error("no earlier successful deploy: want an error")
	}
}

func TestRequestIDs(t *testing.T) {
	now := time.Date(2026, 12, 6, 1, 2, 3, 0, time.UTC)
	a, b := newRequestID(now), newRequestID(now)
	if a == b {
		t.Errorf("two IDs in the same second are equal: %s", a)
	}
	for _, id := range []string{a, b} {
		r := contract.RestartRequest{Version: 1, ID: id}
		if err := r.Validate(); err != nil {
			t.Errorf("%s: %v", id, err)
		}
		if !strings.HasPrefix(id, "20261206T010203Z-") {
			t.Errorf("%s does not start with the time", id)
		}
	}
}

func TestParseDatabaseURL(t *testing.T) {
	u, err := parseDatabaseURL("api", "postgres://api@db.cluster-abc.eu-west-1.rds.amazonaws.com:5432/api?sslmode=require")
	if err != nil || u.Auth != "iam" || u.User != "api" || u.Database != "api" || u.Port != "5432" || u.SSLMode != "require" ||
		u.URL != "postgres://api@db.cluster-abc.eu-west-1.rds.amazonaws.com:5432/api?sslmode=require" {
		t.Errorf("IAM URL: %+v %v", u, err)
	}
	u, err = parseDatabaseURL("api", "postgresql://app:hunter2@10.0.0.5/shop")
	if err != nil || u.Auth != "password" || strings.Contains(u.URL, "hunter2") || u.Port != "5432" || !strings.Contains(u.URL, "<password hidden>") {
		t.Errorf("password URL: %+v %v", u, err)
	}
	for _, bad := range []string{"mysql://x@h/db", "not a url", "postgres:///db"} {
		if _, err := parseDatabaseURL("api", bad); err == nil {
			t.Errorf("%q: accepted", bad)
		}
	}
}

func TestParseAccess(t *testing.T) {
	doc := `{"Version":"2012-10-17","Statement":[` +
		`{"Effect":"Allow","Action":"sts:AssumeRoleWithWebIdentity","Principal":{"Federated":"arn:aws:iam::1:oidc-provider/login.example.com"},` +
		`"Condition":{"StringEquals":{"login.example.com:aud":["wharf-cli"]},"StringEqualsIgnoreCase":{"login.example.com:email":["bob@example.com","Alice@example.com"]}}},` +
		`{"Effect":"Allow","Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"login.example.com:aud":"wharf-cli","login.example.com:sub":"sam-1"}}},` +
		`{"Effect":"Deny","Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"login.example.com:email":"mallory@example.com"}}}]}`
	for _, in := range []string{doc, strings.NewReplacer(`"`, "%22", "{", "%7B", "}", "%7D", ":", "%3A", ",", "%2C", " ", "%20").Replace(doc)} {
		users, subjects, err := parseAccess(in)
		if err != nil || strings.Join(users, ",") != "alice@example.com,bob@example.com" || strings.Join(subjects, ",") != "sam-1" {
			t.Errorf("users %v subjects %v err %v", users, subjects, err)
		}
	}
	steps := accessChangeSteps("wharf", "api", "add", "carol@example.com")
	for _, want := range []string{`add "carol@example.com" to`, "name: api", "npx cdk deploy wharf-app-api", "allowedUsers"} {
		if !strings.Contains(steps, want) {
			t.Errorf("steps lack %q:\n%s", want, steps)
		}
	}
}
