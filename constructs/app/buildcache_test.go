package app_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/wharf-paas/wharf/constructs/app"
	"github.com/wharf-paas/wharf/constructs/app/apptest"
)

// Layer cache and build-time config (issue 15), in the stub sandbox.

// TestBuildCacheDockerfile: with the cache tag readable the image build
// imports it; the cache is exported only in publish (after the tests), as
// an image manifest with OCI media types, to the app's own repository.
func TestBuildCacheDockerfile(t *testing.T) {
	s := newSandbox(t, testRepo(`{"test": "true"}`))
	s.env["STUB_CACHE"] = "present"
	out, err := s.runAll("prepare", "image", "test", "publish")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	img := s.index("docker buildx build --pull --load --cache-from type=registry,ref=" + sandboxRepo + ":cache-docker -f Dockerfile")
	if img < 0 {
		t.Fatalf("image build without the cache import:\n%s", s.file("calls.log"))
	}
	exp := s.index("docker buildx build --output type=cacheonly --cache-to type=registry,ref=" + sandboxRepo +
		":cache-docker,mode=max,image-manifest=true,oci-mediatypes=true -f Dockerfile")
	tests := s.index("docker run --pull never --name wharf-test-42-app")
	if exp < 0 || exp < tests {
		t.Errorf("cache export missing or before the tests (export %d, tests %d):\n%s", exp, tests, s.file("calls.log"))
	}
	if c := s.calls()[img]; strings.Contains(c, "--cache-to") {
		t.Errorf("the image step writes the cache before the tests: %s", c)
	}
	if s.index("docker buildx create --name wharf --driver docker-container") < 0 && s.index("docker buildx inspect wharf") < 0 {
		t.Error("no docker-container builder")
	}
	if !strings.Contains(out, "using the layer cache "+sandboxRepo+":cache-docker") {
		t.Errorf("log does not say the cache is used:\n%s", out)
	}
}

// TestBuildCacheMissingBuildsCold: no readable cache, no import; the build
// succeeds and says it is cold. A failed cache export does not fail it.
func TestBuildCacheMissingBuildsCold(t *testing.T) {
	s := newSandbox(t, testRepo(`{"test": "true"}`))
	out, err := s.runAll("prepare", "image", "test", "publish")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if strings.Contains(s.file("calls.log"), "--cache-from") {
		t.Errorf("imports a cache that is not there:\n%s", s.file("calls.log"))
	}
	if !strings.Contains(out, "no readable layer cache at "+sandboxRepo+":cache-docker") || !strings.Contains(out, "building cold") {
		t.Errorf("log does not say the build is cold:\n%s", out)
	}
}

// TestBuildCacheBuildpacks: pack keeps its cache in the app's repository
// (cache-cnb); a missing cache clears instead of failing; the candidate is
// published only as cnb-<n> before the tests, the deployable tags after.
func TestBuildCacheBuildpacks(t *testing.T) {
	for _, present := range []bool{true, false} {
		s := newSandbox(t, map[string]string{"Procfile": "web: bin/web\n", "wharf.json": `{"test": "bin/test"}`})
		if present {
			s.env["STUB_CACHE"] = "present"
		}
		out, err := s.runAll("prepare", "image", "test", "publish")
		if err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		i := s.index("pack build " + sandboxRepo + ":cnb-42")
		if i < 0 {
			t.Fatalf("no pack build:\n%s", s.file("calls.log"))
		}
		call := s.calls()[i]
		if !strings.Contains(call, "--publish --cache-image "+sandboxRepo+":cache-cnb") {
			t.Errorf("pack without the registry cache: %s", call)
		}
		if got := strings.Contains(call, "--clear-cache"); got == present {
			t.Errorf("cache present %v: --clear-cache %v: %s", present, got, call)
		}
		if !present && !strings.Contains(out, "building cold") {
			t.Errorf("log does not say the build is cold:\n%s", out)
		}
		tests, push := s.index("docker run --pull never --name wharf-test-42-app"), s.index("docker push")
		if tests < 0 || push < tests {
			t.Errorf("deployable tags pushed before the tests (tests %d, push %d)", tests, push)
		}
	}
}

// TestBuildSecretsStayOutOfArgsHistoryAndLog: the build config reaches the
// image build as BuildKit secrets (Dockerfile) or pack --env by name, in
// the environment of that command only; the value is never an argument
// (visible in ps and, as --build-arg, in the image history), never in the
// log, never in the tests' environment.
func TestBuildSecretsStayOutOfArgsHistoryAndLog(t *testing.T) {
	const secret = "npm_s3cr3t-t0ken with spaces'\"$(id)"
	reply := `{"Parameters":[{"Name":"/wharf/apps/api/config/NPM_TOKEN","Value":` + jsonString(secret) + `}],"InvalidParameters":[]}`
	for _, system := range []string{"dockerfile", "buildpacks"} {
		t.Run(system, func(t *testing.T) {
			files := map[string]string{"Procfile": "web: bin/web\n", "wharf.json": `{"test": "bin/test"}`}
			if system == "dockerfile" {
				files["Dockerfile"] = testRepoDockerfile
			}
			s := newSandbox(t, files)
			s.env["WHARF_BUILD_CONFIG"] = "NPM_TOKEN"
			s.env["STUB_SSM_VALUES"] = reply
			out, err := s.runAll("prepare", "image", "test", "publish")
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			if !strings.Contains(s.file("calls.log"), "aws ssm get-parameters --names /wharf/apps/api/config/NPM_TOKEN --with-decryption") {
				t.Errorf("build config not read:\n%s", s.file("calls.log"))
			}
			if strings.Contains(s.file("calls.log"), "s3cr3t") {
				t.Errorf("the secret is in a command's arguments:\n%s", s.file("calls.log"))
			}
			if strings.Contains(s.file("history.log"), "s3cr3t") {
				t.Error("the secret is in the image build's arguments (image history)")
			}
			if strings.Contains(out, "s3cr3t") {
				t.Errorf("the secret reached the build log:\n%s", out)
			}
			// (The stubs' own STUB_SSM_VALUES holds the value; the
			// variable must not.)
			if strings.Contains(s.file("run-env.log"), "NPM_TOKEN=") {
				t.Error("the secret reached the environment of the tests")
			}
			if system == "dockerfile" {
				if !strings.Contains(s.file("calls.log"), "--secret id=NPM_TOKEN,env=NPM_TOKEN") {
					t.Errorf("no BuildKit secret:\n%s", s.file("calls.log"))
				}
				if strings.Contains(s.file("calls.log"), "--build-arg NPM_TOKEN") {
					t.Error("the secret is passed as a build argument")
				}
				if !strings.Contains(s.file("buildx-env.log"), "NPM_TOKEN="+secret+"\n") {
					t.Error("BuildKit did not get the secret's value in its environment")
				}
			} else {
				if !strings.Contains(s.file("calls.log"), "--env NPM_TOKEN") {
					t.Errorf("pack without --env NPM_TOKEN:\n%s", s.file("calls.log"))
				}
				if !strings.Contains(s.file("pack-env.log"), "NPM_TOKEN="+secret+"\n") {
					t.Error("pack did not get the secret's value in its environment")
				}
			}
		})
	}
	// A config var the platform lets the build read but that is not set
	// fails the build, naming it.
	s := newSandbox(t, testRepo(`{"test": "true"}`))
	s.env["WHARF_BUILD_CONFIG"] = "NPM_TOKEN"
	s.env["STUB_SSM_VALUES"] = `{"Parameters":[],"InvalidParameters":["/wharf/apps/api/config/NPM_TOKEN"]}`
	out, err := s.runAll("prepare", "image")
	if err == nil || !strings.Contains(out, "NPM_TOKEN not set") {
		t.Errorf("missing build config: %v\n%s", err, out)
	}
}

func jsonString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// TestBuildConfigAndCacheInTheTemplate: the build role reads exactly the
// config vars the platform config names, the project tells the build
// their names, the trusted builders are passed (none for the worker), and
// the repository's lifecycle keeps the cache tags.
func TestBuildConfigAndCacheInTheTemplate(t *testing.T) {
	f := getFixture(t)
	const acct = ":eu-west-1:111122223333:"
	wantStatement(t, f.apiJSON, build, "ReadBuildConfig", []string{"ssm:GetParameters"},
		"arn:<AWS::Partition>:ssm"+acct+"parameter/wharf/apps/api/config/NPM_TOKEN",
		"arn:<AWS::Partition>:ssm"+acct+"parameter/wharf/apps/api/config/ASSET_KEY")
	if got := apptest.FindStatement(f.workerJSON, build, "ReadBuildConfig"); len(got) != 0 {
		t.Error("the worker names no build config but its build role reads some")
	}
	env := apptest.JSON(props(t, f.apiJSON, "AppBuildC4D5B8FE")["Environment"])
	if !strings.Contains(env, `"Name":"WHARF_BUILD_CONFIG","Type":"PLAINTEXT","Value":"NPM_TOKEN ASSET_KEY"`) {
		t.Errorf("api environment lacks WHARF_BUILD_CONFIG: %s", env)
	}
	wenv := apptest.JSON(props(t, f.workerJSON, "AppBuildC4D5B8FE")["Environment"])
	if strings.Contains(wenv, "WHARF_BUILD_CONFIG") || !strings.Contains(wenv, `"Name":"WHARF_TRUSTED_BUILDERS","Type":"PLAINTEXT","Value":"-"`) ||
		!strings.Contains(wenv, `"Name":"WHARF_BRANCH","Type":"PLAINTEXT","Value":"release/2.x"`) {
		t.Errorf("worker environment %s", wenv)
	}
	lp := props(t, f.apiJSON, "AppRepository2CEDC083")["LifecyclePolicy"].(map[string]interface{})
	var policy struct {
		Rules []struct {
			RulePriority int
			Selection    struct {
				TagStatus     string
				TagPrefixList []string
				CountType     string
				CountNumber   int
			}
		}
	}
	if err := json.Unmarshal([]byte(lp["LifecyclePolicyText"].(string)), &policy); err != nil {
		t.Fatal(err)
	}
	// The cache tags are matched by the first rule, which never expires
	// them (two tags, count 10); the image count comes last.
	first := policy.Rules[0]
	if first.RulePriority != 1 || first.Selection.TagStatus != "tagged" || strings.Join(first.Selection.TagPrefixList, ",") != app.CacheTagPrefix || first.Selection.CountNumber < 2 {
		t.Errorf("first lifecycle rule %+v", first)
	}
	last := policy.Rules[len(policy.Rules)-1]
	for _, r := range policy.Rules[:len(policy.Rules)-1] {
		if r.RulePriority >= last.RulePriority {
			t.Errorf("rule %+v is not before the image count %+v", r, last)
		}
	}
	if last.Selection.TagStatus != "any" || last.Selection.CountNumber != 30 {
		t.Errorf("last lifecycle rule %+v", last)
	}
}

// TestBuildConfigNamesValidated: names are config var names, not the
// build's own variables, not repeated.
func TestBuildConfigNamesValidated(t *testing.T) {
	p := validProps()
	p.BuildConfig = []string{"NPM_TOKEN", "1BAD", "WHARF_APP", "PATH", "NPM_TOKEN"}
	err := p.Validate()
	for _, want := range []string{`buildConfig[1] "1BAD": must be a config var name`, `buildConfig[2] "WHARF_APP": the build sets this variable itself`,
		`buildConfig[3] "PATH"`, `buildConfig[4] "NPM_TOKEN": listed twice`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v, want %s", err, want)
		}
	}
}
