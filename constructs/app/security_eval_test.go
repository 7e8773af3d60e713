package app_test

import (
	"strings"
	"testing"

	"github.com/wharf-paas/wharf/internal/iampolicy"
)

const apiProjectArn = "arn:aws:codebuild:eu-west-1:111122223333:project/wharf-api"

// startBuild is a codebuild:StartBuild request on the api app's project
// carrying the condition keys CodeBuild sets for the overrides given
// (AWS CodeBuild condition keys, Service Authorization Reference: the
// true/false keys are present when the request sets that field; the user
// guide's "Prevent unauthorized modifications to project buildspec" denies
// with Null codebuild:source.buildspec false).
func startBuild(keys ...string) iampolicy.Request {
	ctx := iampolicy.Context{}
	for _, k := range keys {
		ctx[k] = []string{"true"}
	}
	return iampolicy.Request{Action: "codebuild:StartBuild", Resource: apiProjectArn, Context: ctx}
}

// An allowed user of the api app (a malicious one, or one whose laptop is)
// starts a build that runs their own commands as the build role, which
// reads the account's Docker Hub token and pushes to the app's image
// repository; or builds another repository through the account's source
// credentials; or asks for a privileged build or another image.
func TestAttackUserStartBuildOverrides(t *testing.T) {
	role := managementRole(t, getFixture(t).apiJSON, "wharf-app-api-user")
	eval := func(req iampolicy.Request) iampolicy.Decision {
		t.Helper()
		d, err := iampolicy.Evaluate(req, role.Policies...)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	// A plain build of the configured source (optionally of a given
	// revision: the control plane deploys only builds of the app's
	// branch) is what `wharf builds start` sends.
	if d := eval(startBuild()); !d.Allowed() {
		t.Errorf("a plain StartBuild is refused: %s", d)
	}
	for name, keys := range map[string][]string{
		"buildspec override":              {"codebuild:source.buildspec"},
		"source override":                 {"codebuild:source", "codebuild:source.location"},
		"source location only":            {"codebuild:source.location"},
		"source credentials":              {"codebuild:source.auth.type", "codebuild:source.auth.resource"},
		"secondary sources":               {"codebuild:secondarySources"},
		"environment variables":           {"codebuild:environment", "codebuild:environment.environmentVariables"},
		"another image":                   {"codebuild:environment.image"},
		"privileged mode":                 {"codebuild:environment.privilegedMode"},
		"registry credential":             {"codebuild:environment.registryCredential"},
		"another service role":            {"codebuild:serviceRole"},
		"artifacts elsewhere":             {"codebuild:artifacts"},
		"secondary artifacts":             {"codebuild:secondaryArtifacts"},
		"cache elsewhere":                 {"codebuild:cache"},
		"logs elsewhere":                  {"codebuild:logsConfig"},
		"another encryption key":          {"codebuild:encryptionKey"},
		"another compute or environment":  {"codebuild:environment.type", "codebuild:environment.computeType"},
		"image pull credentials override": {"codebuild:environment.imagePullCredentialsType"},
		"certificate override":            {"codebuild:environment.certificate"},
	} {
		if d := eval(startBuild(keys...)); d.Allowed() {
			t.Errorf("StartBuild with override %q is allowed: %s", name, d)
		}
	}
}

// The user role reads only its own app's tasks and no account-wide
// parameter listing.
func TestUserRoleReadsOnlyOwnTasksAndNames(t *testing.T) {
	role := managementRole(t, getFixture(t).apiJSON, "wharf-app-api-user")
	eval := func(req iampolicy.Request) iampolicy.Decision {
		t.Helper()
		d, err := iampolicy.Evaluate(req, role.Policies...)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	task := "arn:aws:ecs:eu-west-1:111122223333:task/wharf-main/0123456789abcdef0123456789abcdef"
	describe := func(app string) iampolicy.Request {
		return iampolicy.Request{Action: "ecs:DescribeTasks", Resource: task, Context: iampolicy.Context{
			"ecs:cluster": {realClusterArn}, "aws:ResourceTag/wharf:app": {app}}}
	}
	if d := eval(describe("api")); !d.Allowed() {
		t.Errorf("the user cannot describe the app's own task: %s", d)
	}
	if d := eval(describe("web")); d.Allowed() {
		t.Errorf("the user can describe another app's task: %s", d)
	}
	if d := eval(iampolicy.Request{Action: "ssm:DescribeParameters", Resource: "*"}); d.Allowed() {
		t.Errorf("the user can list every parameter name of the account: %s", d)
	}
	// Names under the app's own config path stay listable.
	byPath := iampolicy.Request{Action: "ssm:GetParametersByPath", Resource: "arn:aws:ssm:eu-west-1:111122223333:parameter/wharf/apps/api/config"}
	if d := eval(byPath); !d.Allowed() {
		t.Errorf("the user cannot list its own config: %s", d)
	}
}

// Another principal of the control-plane account (in a same-account setup,
// anyone with iam:GetRole can read the external ID) assumes the management
// role: only the control-plane Lambda's role may.
func TestManagementRoleTrustsOnlyTheControlPlaneRole(t *testing.T) {
	role := managementRole(t, getFixture(t).apiJSON, "wharf-app-api-management")
	for principal, want := range map[string]bool{
		"arn:aws:iam::" + controlPlaneAccount + ":role/wharf-controlplane": true,
		"arn:aws:iam::" + controlPlaneAccount + ":role/ci-deployer":        false,
		"arn:aws:iam::" + controlPlaneAccount + ":user/alice":              false,
		"arn:aws:iam::111122223333:role/wharf-controlplane":                false,
	} {
		d, err := iampolicy.EvaluateTrust(role.Trust, iampolicy.AssumeRoleRequest(principal, "ext-api-123", nil))
		if err != nil {
			t.Fatal(err)
		}
		if d.Allowed() != want {
			t.Errorf("%s with the right external ID: allowed=%v, want %v (%s)", principal, d.Allowed(), want, d)
		}
	}
	d, err := iampolicy.EvaluateTrust(role.Trust, iampolicy.AssumeRoleRequest("arn:aws:iam::"+controlPlaneAccount+":role/wharf-controlplane", "wrong", nil))
	if err != nil {
		t.Fatal(err)
	}
	if d.Allowed() {
		t.Errorf("the control plane with a wrong external ID: %s", d)
	}
}

// A control plane tricked into (or a session of the management role used
// for) registering a task definition tagged for another app, or pointing
// a schedule at another cluster.
func TestManagementRoleTagsAndTargetsOnlyOwn(t *testing.T) {
	role := managementRole(t, getFixture(t).apiJSON, "wharf-app-api-management")
	eval := func(req iampolicy.Request) iampolicy.Decision {
		t.Helper()
		d, err := iampolicy.Evaluate(req, role.Policies...)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	register := func(app string) iampolicy.Request {
		ctx := iampolicy.Context{}
		if app != "" {
			ctx["aws:RequestTag/wharf:app"] = []string{app}
		}
		return iampolicy.Request{Action: "ecs:RegisterTaskDefinition", Resource: "*", Context: ctx}
	}
	if d := eval(register("api")); !d.Allowed() {
		t.Errorf("registering the app's own task definition: %s", d)
	}
	for _, app := range []string{"web", ""} {
		if d := eval(register(app)); d.Allowed() {
			t.Errorf("registering a task definition tagged %q: %s", app, d)
		}
	}
	tag := func(app string) iampolicy.Request {
		return iampolicy.Request{Action: "ecs:TagResource",
			Resource: "arn:aws:ecs:eu-west-1:111122223333:task-definition/wharf-api_web:3",
			Context:  iampolicy.Context{"ecs:CreateAction": {"RegisterTaskDefinition"}, "aws:RequestTag/wharf:app": {app}}}
	}
	if d := eval(tag("api")); !d.Allowed() {
		t.Errorf("tag-on-create with the app's tag: %s", d)
	}
	if d := eval(tag("web")); d.Allowed() {
		t.Errorf("tag-on-create with another app's tag: %s", d)
	}
	rule := "arn:aws:events:eu-west-1:111122223333:rule/wharf-api_schedule-nightly"
	put := func(targets ...string) iampolicy.Request {
		return iampolicy.Request{Action: "events:PutTargets", Resource: rule, Context: iampolicy.Context{"events:TargetArn": targets}}
	}
	if d := eval(put(realClusterArn)); !d.Allowed() {
		t.Errorf("a schedule target in the app's cluster: %s", d)
	}
	for name, req := range map[string]iampolicy.Request{
		"another cluster":          put("arn:aws:ecs:eu-west-1:111122223333:cluster/other"),
		"a Lambda function":        put("arn:aws:lambda:eu-west-1:111122223333:function:anything"),
		"own cluster and a Lambda": put(realClusterArn, "arn:aws:lambda:eu-west-1:111122223333:function:anything"),
		"no target key":            {Action: "events:PutTargets", Resource: rule},
	} {
		if d := eval(req); d.Allowed() {
			t.Errorf("PutTargets with %s: %s", name, d)
		}
	}
}

// A service acting for another account, or for another app's resource,
// cannot assume this app's service roles (confused deputy).
func TestServiceRolesTrustOnlyOwnSources(t *testing.T) {
	f := getFixture(t)
	r := iampolicy.Resolver{AccountID: "111122223333", Region: "eu-west-1", StackName: "wharf-cluster-main"}
	ct, err := iampolicy.NewTemplate(f.clusterJSON, r)
	if err != nil {
		t.Fatal(err)
	}
	r.Imports, _ = ct.Exports()
	// The build role's policy names the test report group, whose ARN has
	// no default in the resolver.
	r.Attrs = map[string]string{}
	for id, res := range f.apiJSON["Resources"].(map[string]interface{}) {
		if res.(map[string]interface{})["Type"] == "AWS::CodeBuild::ReportGroup" {
			r.Attrs[id+".Arn"] = "arn:aws:codebuild:eu-west-1:111122223333:report-group/" + id
		}
	}
	at, err := iampolicy.NewTemplate(f.apiJSON, r)
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct{ own, other string }{
		"codebuild.amazonaws.com": {"arn:aws:codebuild:eu-west-1:111122223333:project/wharf-api", "arn:aws:codebuild:eu-west-1:111122223333:project/wharf-web"},
		"events.amazonaws.com":    {"arn:aws:events:eu-west-1:111122223333:rule/wharf-api_schedule-nightly", "arn:aws:events:eu-west-1:111122223333:rule/wharf-web_schedule-nightly"},
	}
	checked := 0
	for _, id := range at.Roles() {
		if !strings.Contains(id, "BuildRole") && !strings.Contains(id, "EventsRole") {
			continue // the task role's policies import the database stack's values
		}
		role, err := at.Role(id)
		if err != nil {
			t.Fatal(err)
		}
		for svc, c := range cases {
			req := func(account, source string) iampolicy.Request {
				return iampolicy.Request{Action: "sts:AssumeRole", Principal: &iampolicy.Principal{Type: "Service", ID: svc},
					Context: iampolicy.Context{"aws:SourceAccount": {account}, "aws:SourceArn": {source}}}
			}
			d, err := iampolicy.EvaluateTrust(role.Trust, req("111122223333", c.own))
			if err != nil {
				t.Fatal(err)
			}
			if !d.Allowed() {
				continue // a role this service does not assume
			}
			checked++
			for name, bad := range map[string]iampolicy.Request{
				"another app's resource": req("111122223333", c.other),
				"another account":        req("444455556666", strings.Replace(c.own, "111122223333", "444455556666", 1)),
			} {
				if d, _ := iampolicy.EvaluateTrust(role.Trust, bad); d.Allowed() {
					t.Errorf("%s trusts %s acting for %s: %s", id, svc, name, d)
				}
			}
		}
	}
	if checked != 2 {
		t.Errorf("checked %d service roles (build, events), want 2", checked)
	}
}
