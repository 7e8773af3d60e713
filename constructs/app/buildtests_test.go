package app_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Tests in the build (issue 15): the build script runs the app's test
// command in the built image, with services beside it, and pushes only
// when the tests pass.

const testRepoDockerfile = "FROM scratch\n"

func testRepo(config string) map[string]string {
	return map[string]string{"Procfile": "web: bin/web\n", "Dockerfile": testRepoDockerfile, "wharf.json": config}
}

// TestBuildTestsPassThenPush: passing tests, then the push; services are
// started before the tests with their URLs and CI=true, and removed after.
func TestBuildTestsPassThenPush(t *testing.T) {
	s := newSandbox(t, testRepo(`{"test": {"command": "go test ./...", "services": {"postgres": "15", "redis": ""}}}`))
	out, err := s.runAll("prepare", "image", "test", "publish")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	pg := s.index("docker run -d --pull never --name wharf-test-42-postgres --network wharf-test-42")
	redis := s.index("docker run -d --pull never --name wharf-test-42-redis")
	tests := s.index("docker run --pull never --name wharf-test-42-app --network wharf-test-42 -e CI=true")
	push := s.index("docker push")
	if pg < 0 || redis < 0 || tests < 0 || push < 0 {
		t.Fatalf("missing service, test or push call:\n%s", s.file("calls.log"))
	}
	if !(pg < tests && redis < tests && tests < push) {
		t.Errorf("order: postgres %d redis %d tests %d push %d", pg, redis, tests, push)
	}
	call := s.calls()[tests]
	for _, want := range []string{"DATABASE_URL=postgres://postgres:postgres@postgres:5432/test?sslmode=disable", "REDIS_URL=redis://redis:6379/0",
		sandboxRepo + ":0123abcd /bin/sh -c go test ./..."} {
		if !strings.Contains(call, want) {
			t.Errorf("test run lacks %q: %s", want, call)
		}
	}
	if !strings.Contains(s.calls()[pg], "postgres:15") || !strings.Contains(s.calls()[redis], "redis:7") {
		t.Errorf("service versions: %s / %s", s.calls()[pg], s.calls()[redis])
	}
	// The service images were pulled in the image step, while logged in,
	// not by the test step.
	if p := s.index("docker pull postgres:15"); p < 0 || p > pg {
		t.Errorf("postgres image not pulled before the tests:\n%s", s.file("calls.log"))
	}
	// Services stopped and the network removed after the tests.
	for _, want := range []string{"docker rm -f wharf-test-42-postgres", "docker rm -f wharf-test-42-redis", "docker network rm wharf-test-42"} {
		if i := s.lastIndex(want); i < tests {
			t.Errorf("%q not called after the tests (at %d):\n%s", want, i, s.file("calls.log"))
		}
	}
	if !strings.Contains(out, "the tests passed") {
		t.Errorf("log does not say the tests passed:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(s.repo, ".wharf", "wharf-build.json")); err != nil {
		t.Error("no wharf-build.json after passing tests")
	}
}

// TestBuildTestsFailNoPush: a failing test fails the test step; nothing is
// pushed, no metadata is written, the services are still removed, and
// publish on its own refuses too.
func TestBuildTestsFailNoPush(t *testing.T) {
	s := newSandbox(t, testRepo(`{"test": {"command": "bin/test", "services": {"postgres": "16"}}}`))
	s.env["STUB_TEST_EXIT"] = "3"
	out, err := s.runAll("prepare", "image", "test", "publish")
	if err == nil {
		t.Fatalf("the build succeeded with failing tests:\n%s", out)
	}
	if !strings.Contains(out, "the tests failed (exit status 3); nothing is pushed") {
		t.Errorf("log does not say the tests failed:\n%s", out)
	}
	if s.index("docker push") >= 0 {
		t.Errorf("pushed after failing tests:\n%s", s.file("calls.log"))
	}
	if s.lastIndex("docker rm -f wharf-test-42-postgres") < s.index("docker run --pull never --name wharf-test-42-app") {
		t.Errorf("postgres left running after the failed tests:\n%s", s.file("calls.log"))
	}
	// Even when something runs publish after the failure.
	pout, perr := s.run("publish")
	if perr == nil || !strings.Contains(pout, "the tests did not pass; not pushing") || s.index("docker push") >= 0 {
		t.Errorf("publish after failed tests: %v\n%s", perr, pout)
	}
	if _, err := os.Stat(filepath.Join(s.repo, ".wharf", "wharf-build.json")); err == nil {
		t.Error("wharf-build.json written after failing tests")
	}
}

// TestBuildWithoutTestCommand: a repository without a test command builds
// as before and says so.
func TestBuildWithoutTestCommand(t *testing.T) {
	s := newSandbox(t, map[string]string{"Procfile": "web: bin/web\n", "Dockerfile": testRepoDockerfile})
	out, err := s.runAll("prepare", "image", "test", "publish")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.Contains(out, "no test command") {
		t.Errorf("log does not say there is no test command:\n%s", out)
	}
	if s.index("docker run") >= 0 || s.index("docker network") >= 0 {
		t.Errorf("ran containers without a test command:\n%s", s.file("calls.log"))
	}
	if s.index("docker push") < 0 {
		t.Error("not pushed")
	}
}

// TestBuildTestsFromAppJSON: Heroku CI's app.json gives the test command,
// its in-dyno add-ons become services and its env reaches the tests.
func TestBuildTestsFromAppJSON(t *testing.T) {
	s := newSandbox(t, map[string]string{"Procfile": "web: bin/web\n", "Dockerfile": testRepoDockerfile,
		"app.json": `{"environments": {"test": {"scripts": {"test": "npm test"},
			"addons": ["heroku-postgresql:in-dyno", {"plan": "heroku-redis:in-dyno"}, "papertrail"],
			"env": {"NODE_ENV": "test", "GREETING": "hello world"}}}}`})
	out, err := s.runAll("prepare", "image", "test")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if s.index("docker run -d --pull never --name wharf-test-42-postgres") < 0 || s.index("docker run -d --pull never --name wharf-test-42-redis") < 0 {
		t.Errorf("in-dyno add-ons did not start services:\n%s", s.file("calls.log"))
	}
	if !strings.Contains(out, "'papertrail' is not provided") {
		t.Errorf("unsupported add-on not reported:\n%s", out)
	}
	call := s.calls()[s.index("docker run --pull never --name wharf-test-42-app")]
	if !strings.Contains(call, "/bin/sh -c npm test") || !strings.Contains(call, "--env-file .wharf/test.env") {
		t.Errorf("test run %s", call)
	}
	env, _ := os.ReadFile(filepath.Join(s.repo, ".wharf", "test.env"))
	if string(env) != "GREETING=hello world\nNODE_ENV=test\n" {
		t.Errorf("test env file %q", env)
	}
	// wharf.json wins over app.json.
	s2 := newSandbox(t, map[string]string{"Procfile": "web: bin/web\n", "Dockerfile": testRepoDockerfile, "wharf.json": `{"test": "make check"}`,
		"app.json": `{"environments": {"test": {"scripts": {"test": "npm test"}}}}`})
	if out, err := s2.runAll("prepare", "image", "test"); err != nil || !strings.Contains(out, "from wharf.json") {
		t.Errorf("wharf.json test: %v\n%s", err, out)
	}
}

// TestBuildTestReport: a JUnit report the test command writes is copied
// out of the test container to .wharf/reports, which the buildspec's
// reports section sends to the report group; a missing one is said.
func TestBuildTestReport(t *testing.T) {
	s := newSandbox(t, testRepo(`{"test": {"command": "go test ./... 2>&1 | go-junit-report > junit.xml", "report": "junit.xml"}}`))
	s.env["STUB_REPORT"] = "<testsuites/>"
	if out, err := s.runAll("prepare", "image", "test"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if s.index("docker cp wharf-test-42-app:/app/junit.xml .wharf/reports/") < 0 {
		t.Errorf("report not copied from the image's working directory:\n%s", s.file("calls.log"))
	}
	if b, _ := os.ReadFile(filepath.Join(s.repo, ".wharf", "reports", "junit.xml")); string(b) != "<testsuites/>" {
		t.Errorf("report %q", b)
	}
	s2 := newSandbox(t, testRepo(`{"test": {"command": "true", "report": "out/junit.xml"}}`))
	if out, err := s2.runAll("prepare", "image", "test"); err != nil || !strings.Contains(out, "wrote no report at /app/out/junit.xml") {
		t.Errorf("missing report: %v\n%s", err, out)
	}
}

// TestTestConfigRejected: bad test settings fail in prepare, naming the
// field.
func TestTestConfigRejected(t *testing.T) {
	scripts := writeScripts(t)
	for name, c := range map[string]struct{ files map[string]string }{
		"services.mysql: unknown service":           {testRepo(`{"test": {"command": "x", "services": {"mysql": "8"}}}`)},
		"test.command: must be a non-empty string":  {testRepo(`{"test": {"command": ""}}`)},
		"test: unknown keys ['cmd']":                {testRepo(`{"test": {"cmd": "x"}}`)},
		"services.postgres 'latest; rm'":            {testRepo(`{"test": {"command": "x", "services": {"postgres": "latest; rm"}}}`)},
		"test.report '../x.xml'":                    {testRepo(`{"test": {"command": "x", "report": "../x.xml"}}`)},
		"scripts.test must be a non-empty string":   {map[string]string{"app.json": `{"environments": {"test": {"scripts": {"test": 1}}}}`}},
		"environments.test.env must map variable n": {map[string]string{"app.json": `{"environments": {"test": {"scripts": {"test": "x"}, "env": {"A-B": "1"}}}}`}},
	} {
		repo := writeRepo(t, c.files)
		_, stderr, err := meta(t, scripts, repo, "detect")
		if err == nil || !strings.Contains(stderr, name) {
			t.Errorf("%s: err %v stderr %q", name, err, stderr)
		}
	}
}
