package iam

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/wharf-paas/wharf/constructs/account"
	"github.com/wharf-paas/wharf/constructs/app"
	"github.com/wharf-paas/wharf/constructs/app/apptest"
	"github.com/wharf-paas/wharf/controlplane"
	"github.com/wharf-paas/wharf/controlplane/sim"
	"github.com/wharf-paas/wharf/internal/cdktest"
	"github.com/wharf-paas/wharf/internal/iampolicy"
)

func TestMain(m *testing.M) { cdktest.Main(m) }

const (
	region = "eu-west-1"
	// controlPlaneRole is the identity the control-plane Lambda calls STS
	// with (any principal of the control-plane account: the trust policies
	// name the account root).
	busArn = "arn:aws:events:eu-west-1:" + sim.ControlPlaneAccount + ":event-bus/wharf-controlplane"
)

var controlPlaneSession = "arn:aws:sts::" + sim.ControlPlaneAccount + ":assumed-role/wharf-controlplane/wharf-controlplane-fn"

// layout is where the simulator's RandomScenario puts its apps: api in
// 111122223333, shop in either account, blog in 444455556666.
var layout = map[string][]string{
	"111122223333": {"api", "shop"},
	"444455556666": {"shop", "blog"},
}

// roleSet is a synthesized role: its identity policies and trust policy.
type roleSet struct {
	kind     string // "management" or "observer"
	policies []*iampolicy.Policy
	trust    *iampolicy.Policy
}

var (
	synthOnce sync.Once
	roles     map[string]*roleSet // role ARN → policies
	synthErr  error
)

// synthesize builds, in one CDK app, for each account of the layout: the
// Account construct (observer role), a stand-in cluster named wharf-main
// (as in the simulator), and the App construct of each app placed there;
// then it resolves each management and observer role from the templates.
// The simulator's invented physical names (its roles, its per-account
// artifact bucket) are given to the resolver as what the Refs resolve to.
func synthesize(t *testing.T) map[string]*roleSet {
	t.Helper()
	synthOnce.Do(func() {
		roles, synthErr = doSynthesize(t)
	})
	if synthErr != nil {
		t.Fatal(synthErr)
	}
	return roles
}

func doSynthesize(t *testing.T) (map[string]*roleSet, error) {
	cdk := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
	accounts := make([]string, 0, len(layout))
	for acct := range layout {
		accounts = append(accounts, acct)
		cdk.Node().SetContext(jsii.String("availability-zones:account="+acct+":region="+region), apptest.AvailabilityZones)
	}
	sort.Strings(accounts)
	type stackRef struct {
		acct, app string
		stack     awscdk.Stack
	}
	var clusters, accts, apps []stackRef
	for _, acct := range accounts {
		env := &awscdk.Environment{Account: jsii.String(acct), Region: jsii.String(region)}
		as := awscdk.NewStack(cdk, jsii.String("wharf-account-"+acct), &awscdk.StackProps{Env: env})
		account.NewAccount(as, "Account", &account.AccountProps{
			OIDCIssuerURL:           jsii.String("https://login.example.com"),
			OIDCClientIDs:           []string{"wharf-cli"},
			Administrators:          []string{"admin@example.com"},
			ControlPlaneAccountID:   jsii.String(sim.ControlPlaneAccount),
			ControlPlaneEventBusArn: jsii.String(busArn),
			ObserverExternalID:      jsii.String("ext-account-" + acct),
		})
		accts = append(accts, stackRef{acct: acct, stack: as})
		cs := awscdk.NewStack(cdk, jsii.String("wharf-cluster-main-"+acct), &awscdk.StackProps{Env: env})
		c := apptest.NewCluster(cs, "Cluster")
		clusters = append(clusters, stackRef{acct: acct, stack: cs})
		for _, name := range layout[acct] {
			st := awscdk.NewStack(cdk, jsii.String("wharf-app-"+name+"-"+acct), &awscdk.StackProps{Env: env})
			app.NewApp(st, "App", &app.AppProps{
				Name:                    jsii.String(name),
				Cluster:                 c,
				RepositoryURL:           jsii.String("https://github.com/acme/" + name + ".git"),
				ControlPlaneAccountID:   jsii.String(sim.ControlPlaneAccount),
				ControlPlaneEventBusArn: jsii.String(busArn),
				ManagementExternalID:    jsii.String("ext-" + name),
			})
			apps = append(apps, stackRef{acct: acct, app: name, stack: st})
		}
	}
	asm := cdk.Synth(nil)
	template := func(s awscdk.Stack) (map[string]any, error) {
		art := asm.GetStackArtifact(s.ArtifactId())
		b, err := json.Marshal(art.Template())
		if err != nil {
			return nil, err
		}
		var raw map[string]any
		if err := json.Unmarshal(b, &raw); err != nil {
			return nil, fmt.Errorf("template of %s: %w", *s.StackName(), err)
		}
		return raw, nil
	}
	out := map[string]*roleSet{}
	imports := map[string]map[string]string{}
	for _, c := range clusters {
		raw, err := template(c.stack)
		if err != nil {
			return nil, err
		}
		tpl, err := iampolicy.NewTemplate(raw, iampolicy.Resolver{AccountID: c.acct, Region: region, StackName: *c.stack.StackName()})
		if err != nil {
			return nil, err
		}
		imports[c.acct], _ = tpl.Exports()
	}
	for _, a := range accts {
		raw, err := template(a.stack)
		if err != nil {
			return nil, err
		}
		tpl, err := iampolicy.NewTemplate(raw, iampolicy.Resolver{AccountID: a.acct, Region: region, StackName: *a.stack.StackName(), Imports: imports[a.acct]})
		if err != nil {
			return nil, err
		}
		role, err := tpl.Role("wharf-account-observer")
		if err != nil {
			return nil, err
		}
		out[role.ARN] = &roleSet{kind: "observer", policies: role.Policies, trust: role.Trust}
	}
	for _, a := range apps {
		raw, err := template(a.stack)
		if err != nil {
			return nil, err
		}
		refs := map[string]string{}
		res, _ := raw["Resources"].(map[string]any)
		for id, r := range res {
			typ, _ := r.(map[string]any)["Type"].(string)
			// The simulator's names for the app's resources (controlplane/sim
			// model.go): roles wharf-app-<app>-<kind>, one artifact bucket
			// per account, project wharf-<app>.
			switch {
			case typ == "AWS::IAM::Role" && strings.HasPrefix(id, "AppExecutionRole"):
				refs[id] = "wharf-app-" + a.app + "-execution"
			case typ == "AWS::IAM::Role" && strings.HasPrefix(id, "AppTaskRole"):
				refs[id] = "wharf-app-" + a.app + "-task"
			case typ == "AWS::IAM::Role" && strings.HasPrefix(id, "AppEventsRole"):
				refs[id] = "wharf-app-" + a.app + "-events"
			case typ == "AWS::S3::Bucket" && strings.HasPrefix(id, "AppArtifacts"):
				refs[id] = "wharf-artifacts-" + a.acct
			case typ == "AWS::CodeBuild::Project":
				refs[id] = "wharf-" + a.app
			}
		}
		tpl, err := iampolicy.NewTemplate(raw, iampolicy.Resolver{AccountID: a.acct, Region: region, StackName: *a.stack.StackName(), Imports: imports[a.acct], Refs: refs})
		if err != nil {
			return nil, err
		}
		role, err := tpl.Role(app.ManagementRoleName("wharf", a.app))
		if err != nil {
			return nil, fmt.Errorf("%s in %s: %w", a.app, a.acct, err)
		}
		if len(role.ExternalManagedPolicies) > 0 {
			return nil, fmt.Errorf("management role of %s has managed policies whose content the test cannot see: %v", a.app, role.ExternalManagedPolicies)
		}
		out[role.ARN] = &roleSet{kind: "management", policies: role.Policies, trust: role.Trust}
	}
	return out, nil
}

// recorded is everything a run of the control plane asked AWS for.
type recorded struct {
	requests []Request
	// assumes are the AssumeRole requests, by target role ARN.
	assumes map[string][]iampolicy.Request
	calls   map[string]int // "ecs:RunTask" → count
}

func newRecorded() *recorded {
	return &recorded{assumes: map[string][]iampolicy.Request{}, calls: map[string]int{}}
}

var simServices = map[string]string{"ECS": "ecs", "CodeBuild": "codebuild", "S3": "s3", "SSM": "ssm", "EventBridge": "events", "CloudWatchLogs": "logs", "STS": "sts"}

// recordSim runs the simulator's random scenario for the seeds and maps
// every call the control plane made.
func recordSim(t *testing.T, seeds int) *recorded {
	t.Helper()
	rec := newRecorded()
	for seed := 1; seed <= seeds; seed++ {
		m := NewMapper()
		var mapErr error
		active := 2 * time.Hour
		_, err := sim.Run(sim.Options{Seed: uint64(seed), Active: active, Scenario: func(w *sim.World) {
			m.TaskTags = w.TaskTags
			w.RecordCalls(func(c *sim.Call) {
				if mapErr != nil {
					return
				}
				svc := simServices[c.Service]
				rec.calls[svc+":"+c.Op]++
				if svc == "sts" {
					switch r := c.Input.(type) {
					case controlplane.AppRegistration:
						rec.assumes[r.ManagementRoleARN] = append(rec.assumes[r.ManagementRoleARN], iampolicy.AssumeRoleRequest(controlPlaneSession, r.ExternalID, nil))
					case controlplane.AccountRegistration:
						rec.assumes[r.ObserverRoleARN] = append(rec.assumes[r.ObserverRoleARN], iampolicy.AssumeRoleRequest(controlPlaneSession, r.ExternalID, nil))
					default:
						mapErr = fmt.Errorf("AssumeRole input %T", c.Input)
					}
					return
				}
				in, err := ToJSONMap(c.Input)
				if err != nil {
					mapErr = err
					return
				}
				out, err := ToJSONMap(c.Output)
				if err != nil {
					mapErr = err
					return
				}
				reqs, err := m.Requests(Call{Service: svc, Op: c.Op, Role: c.Role, Account: c.Account, Region: c.Region, Input: in, Output: out})
				if err != nil {
					mapErr = err
					return
				}
				rec.requests = append(rec.requests, reqs...)
			})
			sim.RandomScenario(active)(w)
		}})
		if err != nil {
			t.Fatal(err)
		}
		if mapErr != nil {
			t.Fatalf("seed %d: %v", seed, mapErr)
		}
	}
	return rec
}

// verdict evaluates recorded requests against roles.
type verdict struct {
	denied []string
	// used is role kind → action → true for every action a request was
	// allowed.
	used map[string]map[string]bool
}

func evaluate(t *testing.T, roles map[string]*roleSet, rec *recorded) verdict {
	t.Helper()
	v := verdict{used: map[string]map[string]bool{"management": {}, "observer": {}}}
	seen := map[string]bool{}
	deny := func(s string) {
		if !seen[s] {
			seen[s] = true
			v.denied = append(v.denied, s)
		}
	}
	for _, r := range rec.requests {
		rs, ok := roles[r.Role]
		if !ok {
			deny(fmt.Sprintf("%s by %s: no synthesized role with that ARN", r.Call, r.Role))
			continue
		}
		d, err := iampolicy.Evaluate(r.Request, rs.policies...)
		if err != nil {
			t.Fatalf("%s: %v", r.Call, err)
		}
		if !d.Allowed() {
			deny(fmt.Sprintf("%s (%s role %s): %s", r.Call, rs.kind, r.Role, d))
			continue
		}
		v.used[rs.kind][strings.ToLower(r.Action)] = true
	}
	for arn, reqs := range rec.assumes {
		rs, ok := roles[arn]
		if !ok {
			deny("sts:AssumeRole of " + arn + ": no synthesized role with that ARN")
			continue
		}
		for _, r := range reqs {
			d, err := iampolicy.EvaluateTrust(rs.trust, r)
			if err != nil {
				t.Fatal(err)
			}
			if !d.Allowed() {
				deny(fmt.Sprintf("sts:AssumeRole of %s with external ID %v: %s", arn, r.Context["sts:ExternalId"], d))
			}
		}
	}
	sort.Strings(v.denied)
	return v
}

// unusedGrants are actions the roles grant that no recorded call used,
// each with the reason it stays. An entry that a call does use is stale
// and fails the test, so the list stays honest.
var unusedGrants = map[string]map[string]string{
	"management": {},
	"observer": {
		"ecs:describeservices":    "the observer resolves an ECS Service Action event whose names do not identify the app (DescribeServices include=TAGS, controlplane/events.go observe); the simulator's events always name a Wharf group or family, so no run needs it",
		"ecs:describetasks":       "the observer resolves an ECS Task State Change event whose names do not identify the app (DescribeTasks include=TAGS); as above, no simulated event needs it",
		"ecs:listtagsforresource": "not called: the observer reads tags through include=TAGS; kept because the Service Authorization Reference does not say whether include=TAGS is authorized as ecs:ListTagsForResource",
	},
}

func grantedActions(rs *roleSet) []string {
	seen := map[string]bool{}
	for _, p := range rs.policies {
		for _, a := range p.Actions() {
			seen[strings.ToLower(a)] = true
		}
	}
	out := make([]string, 0, len(seen))
	for a := range seen {
		out = append(out, a)
	}
	sort.Strings(out)
	return out
}

// TestControlPlaneCallsAreAllowed runs the simulator against the real
// control plane and checks every AWS call it made against the synthesized
// management and observer roles.
func TestControlPlaneCallsAreAllowed(t *testing.T) {
	roles := synthesize(t)
	rec := recordSim(t, 40)
	if len(rec.requests) == 0 {
		t.Fatal("the simulator recorded no call")
	}
	v := evaluate(t, roles, rec)
	for _, d := range v.denied {
		t.Errorf("denied: %s", d)
	}
	// Granted but never called.
	kinds := map[string]*roleSet{}
	for _, rs := range roles {
		kinds[rs.kind] = rs
	}
	for kind, rs := range kinds {
		for _, a := range grantedActions(rs) {
			reason, listed := unusedGrants[kind][a]
			switch {
			case !v.used[kind][a] && !listed:
				t.Errorf("%s role grants %s but no recorded call uses it: remove it or justify it in unusedGrants", kind, a)
			case v.used[kind][a] && listed:
				t.Errorf("%s role: %s is used, its unusedGrants entry (%q) is stale", kind, a, reason)
			}
		}
	}
	var calls []string
	for c, n := range rec.calls {
		calls = append(calls, fmt.Sprintf("%s=%d", c, n))
	}
	sort.Strings(calls)
	t.Logf("%d IAM requests from %d kinds of call: %s", len(rec.requests), len(rec.calls), strings.Join(calls, " "))
}

// TestContractCatchesMissingGrant is the test of the test: the same
// recorded calls against a management role without ecs:StopTask (issue 8
// defect 2) must be denied, naming the action.
func TestContractCatchesMissingGrant(t *testing.T) {
	roles := synthesize(t)
	rec := recordSim(t, 40)
	if rec.calls["ecs:StopTask"] == 0 {
		t.Fatal("no seed stopped a task; pick seeds that do")
	}
	broken := map[string]*roleSet{}
	for arn, rs := range roles {
		b := *rs
		b.policies = nil
		for _, p := range rs.policies {
			b.policies = append(b.policies, p.Without("ecs:StopTask"))
		}
		broken[arn] = &b
	}
	v := evaluate(t, broken, rec)
	found := false
	for _, d := range v.denied {
		if strings.HasPrefix(d, "ecs:StopTask") && strings.Contains(d, "implicit deny: no statement allows ecs:StopTask") {
			found = true
		}
	}
	if !found {
		t.Errorf("a management role without ecs:StopTask passed the contract: %v", v.denied)
	}
	// And a wrong external ID in the trust policy.
	for arn, rs := range roles {
		if rs.kind != "management" {
			continue
		}
		for _, r := range rec.assumes[arn][:1] {
			r.Context["sts:ExternalId"] = []string{"guessed"}
			if d, _ := iampolicy.EvaluateTrust(rs.trust, r); d.Allowed() {
				t.Errorf("%s trusts a caller with a wrong external ID", arn)
			}
		}
	}
}
