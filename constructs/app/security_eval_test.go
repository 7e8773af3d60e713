package app_test

import (
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
