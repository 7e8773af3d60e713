package app_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/wharf-paas/wharf/constructs/app"
	"gopkg.in/yaml.v3"
)

// The build scripts run in CodeBuild's standard image; here they run with
// the local bash and python3, with docker, aws and pack replaced by stubs
// that log their arguments. python3 and bash are required (make test
// installs nothing else for them).

func writeScripts(t *testing.T) string {
	t.Helper()
	files, err := app.BuildScripts()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), body, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func need(t *testing.T, tool string) {
	t.Helper()
	if _, err := exec.LookPath(tool); err != nil {
		t.Fatalf("%s is required to test the build scripts: %v", tool, err)
	}
}

func writeRepo(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func meta(t *testing.T, scripts, repo string, args ...string) (string, string, error) {
	t.Helper()
	need(t, "python3")
	cmd := exec.Command("python3", append([]string{filepath.Join(scripts, "wharf-meta.py")}, args...)...)
	cmd.Dir = repo
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return out.String(), errb.String(), err
}

const digest = "111122223333.dkr.ecr.eu-west-1.amazonaws.com/wharf-api@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func generate(t *testing.T, scripts, repo string, extra ...string) (map[string]interface{}, string, error) {
	t.Helper()
	args := append([]string{"generate", "--prefix", "wharf", "--app", "api", "--build-number", "42", "--build-id", "wharf-api:7f0c",
		"--commit", "0123abcd", "--image", digest}, extra...)
	out, stderr, err := meta(t, scripts, repo, args...)
	if err != nil {
		return nil, stderr, err
	}
	var doc map[string]interface{}
	if jerr := json.Unmarshal([]byte(out), &doc); jerr != nil {
		t.Fatalf("generate printed invalid JSON: %v\n%s", jerr, out)
	}
	return doc, stderr, nil
}

func TestMetadataFromProcfileAndConfig(t *testing.T) {
	scripts := writeScripts(t)
	repo := writeRepo(t, map[string]string{
		"Dockerfile": "FROM scratch\n",
		"Procfile":   "# processes\nweb: bin/web --port $PORT\nworker: bin/worker\nrelease: bin/migrate\n",
		"wharf.json": `{"processes": {"web": {"cpu": 512, "memory": 1024, "count": 2}, "clock": {"command": "bin/clock"}},
			"schedules": [{"name": "nightly", "schedule": "cron(0 3 * * ? *)", "command": "bin/nightly"}]}`,
	})
	doc, _, err := generate(t, scripts, repo)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"app":"api","buildId":"wharf-api:7f0c","buildNumber":42,"commit":"0123abcd","image":"` + digest + `",` +
		`"processes":{"clock":{"command":"bin/clock"},"web":{"command":"bin/web --port $PORT","count":2,"cpu":512,"memory":1024},"worker":{"command":"bin/worker"}},` +
		`"releaseCommand":"bin/migrate","schedules":[{"command":"bin/nightly","name":"nightly","schedule":"cron(0 3 * * ? *)"}],"version":1}`
	if got, _ := json.Marshal(doc); string(got) != want {
		t.Errorf("wharf-build.json\n got %s\nwant %s", got, want)
	}
	out, _, err := meta(t, scripts, repo, "detect")
	if err != nil || out != "WHARF_SYSTEM=dockerfile\nWHARF_DOCKERFILE=Dockerfile\nWHARF_BUILDER=heroku/builder:24\n" {
		t.Errorf("detect = %q, %v", out, err)
	}
}

func TestMetadataFromBuildpackLabel(t *testing.T) {
	scripts := writeScripts(t)
	repo := writeRepo(t, map[string]string{"wharf.json": `{"release": "rake db:migrate"}`})
	label := filepath.Join(t.TempDir(), "label.json")
	os.WriteFile(label, []byte(`{"processes":[
		{"type":"web","command":["bundle exec puma -p $PORT"],"args":[],"direct":false},
		{"type":"console","command":["irb"],"direct":false},
		{"type":"worker","command":["bin/worker","--queue","a b"],"direct":true},
		{"type":"Bad-Type","command":["x"],"direct":true}]}`), 0o644)
	doc, stderr, err := generate(t, scripts, repo, "--cnb-metadata", label)
	if err != nil {
		t.Fatalf("%v: %s", err, stderr)
	}
	procs, _ := json.Marshal(doc["processes"])
	if string(procs) != `{"web":{"command":"bundle exec puma -p $PORT"},"worker":{"command":"bin/worker --queue 'a b'"}}` {
		t.Errorf("processes %s", procs)
	}
	if doc["releaseCommand"] != "rake db:migrate" {
		t.Errorf("releaseCommand %v", doc["releaseCommand"])
	}
	if !strings.Contains(stderr, "Bad-Type") {
		t.Errorf("skipped process type not reported: %q", stderr)
	}
	out, _, err := meta(t, scripts, repo, "detect")
	if err != nil || !strings.HasPrefix(out, "WHARF_SYSTEM=buildpacks\n") {
		t.Errorf("detect without Dockerfile = %q, %v", out, err)
	}
}

func TestMetadataRejectsBadInput(t *testing.T) {
	scripts := writeScripts(t)
	cases := map[string]struct {
		files map[string]string
		image string
		want  string
	}{
		"bad json":         {map[string]string{"wharf.json": "{"}, "", "not valid JSON"},
		"unknown key":      {map[string]string{"wharf.json": `{"proceses": {}}`}, "", "unknown keys"},
		"bad process name": {map[string]string{"Procfile": "web-1: x\n"}, "", "process type 'web-1'"},
		"reserved release": {map[string]string{"wharf.json": `{"processes": {"release": {"command": "x"}}}`}, "", "reserved"},
		"no command":       {map[string]string{"wharf.json": `{"processes": {"web": {"count": 1}}}`}, "", "no command"},
		"bad cpu":          {map[string]string{"Procfile": "web: x\n", "wharf.json": `{"processes": {"web": {"cpu": 300}}}`}, "", "cpu"},
		"bad count":        {map[string]string{"Procfile": "web: x\n", "wharf.json": `{"processes": {"web": {"count": -1}}}`}, "", "count"},
		"duplicate":        {map[string]string{"Procfile": "web: x\nweb: y\n"}, "", "declared twice"},
		"bad line":         {map[string]string{"Procfile": "web\n"}, "", "Procfile:1"},
		"bad schedule":     {map[string]string{"Procfile": "web: x\n", "wharf.json": `{"schedules": [{"name": "n", "schedule": "every day", "command": "x"}]}`}, "", "schedule"},
		"long rule":        {map[string]string{"Procfile": "web: x\n", "wharf.json": `{"schedules": [{"name": "` + strings.Repeat("n", 60) + `", "schedule": "rate(1 day)", "command": "x"}]}`}, "", "64"},
		"no processes":     {map[string]string{}, "", "no process types"},
		"tag not digest":   {map[string]string{"Procfile": "web: x\n"}, "repo:latest", "digest"},
		"dockerfile path":  {map[string]string{"wharf.json": `{"build": {"dockerfile": "../Dockerfile"}}`}, "", "build.dockerfile"},
		"missing docker":   {map[string]string{"wharf.json": `{"build": {"system": "dockerfile"}}`}, "", "does not exist"},
	}
	for name, c := range cases {
		repo := writeRepo(t, c.files)
		image := digest
		if c.image != "" {
			image = c.image
		}
		_, stderr, err := meta(t, scripts, repo, "generate", "--prefix", "wharf", "--app", "api", "--build-number", "1", "--build-id", "b", "--commit", "c", "--image", image)
		if err == nil || !strings.Contains(stderr, c.want) {
			t.Errorf("%s: err %v stderr %q, want %q", name, err, stderr, c.want)
		}
	}
}

// TestBuildScriptEndToEnd runs wharf-build.sh prepare and build the way the
// buildspec does, with docker, aws and pack stubbed, and checks the commands
// and the wharf-build.json it leaves for the artifact upload. The docker
// stub reads stdin for login and build like the real one: the script runs
// with pipefail, so a reader that exits early fails it with SIGPIPE.
func TestBuildScriptEndToEnd(t *testing.T) {
	need(t, "bash")
	for _, system := range []string{"dockerfile", "buildpacks"} {
		t.Run(system, func(t *testing.T) {
			scripts := writeScripts(t)
			files := map[string]string{"Procfile": "web: bin/web\nrelease: bin/migrate\n"}
			if system == "dockerfile" {
				files["Dockerfile"] = "FROM scratch\n"
			}
			repo := writeRepo(t, files)
			bin := t.TempDir()
			calls := filepath.Join(t.TempDir(), "calls.log")
			stub := `#!/bin/sh
echo "$(basename "$0") $*" >> "` + calls + `"
case "$(basename "$0") $1" in
  "aws ecr") echo token ;;
  "aws ssm") echo "An error occurred (ParameterNotFound) when calling the GetParameter operation:" >&2; exit 254 ;;
  "docker inspect")
    case "$*" in
      *RepoDigests*) echo "other.example/x@sha256:ffff"; echo "` + digest + `" ;;
      *) echo '{"processes":[{"type":"web","command":["bin/web"],"direct":true}]}' ;;
    esac ;;
  "docker build"|"docker login") cat > /dev/null ;;
esac
`
			for _, tool := range []string{"docker", "aws", "pack"} {
				os.WriteFile(filepath.Join(bin, tool), []byte(stub), 0o755)
			}
			run := func(phase string) {
				cmd := exec.Command("bash", filepath.Join(scripts, "wharf-build.sh"), phase)
				cmd.Dir = repo
				cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"), "WHARF_PREFIX=wharf", "WHARF_APP=api",
					"WHARF_IMAGE_REPO=111122223333.dkr.ecr.eu-west-1.amazonaws.com/wharf-api", "CODEBUILD_BUILD_NUMBER=42",
					"CODEBUILD_BUILD_ID=wharf-api:7f0c", "CODEBUILD_RESOLVED_SOURCE_VERSION=0123abcd", "AWS_REGION=eu-west-1")
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("%s: %v\n%s", phase, err, out)
				}
			}
			run("prepare")
			run("build")
			log, _ := os.ReadFile(calls)
			repoURI := "111122223333.dkr.ecr.eu-west-1.amazonaws.com/wharf-api"
			wants := []string{
				"aws ecr get-login-password --region eu-west-1",
				"docker login --username AWS --password-stdin 111122223333.dkr.ecr.eu-west-1.amazonaws.com",
				"docker push " + repoURI + ":0123abcd",
				"docker push " + repoURI + ":build-42",
			}
			if system == "dockerfile" {
				wants = append(wants, "docker buildx build --pull --load", "-f Dockerfile -t "+repoURI+":0123abcd -t "+repoURI+":build-42")
			} else {
				wants = append(wants, "pack build "+repoURI+":cnb-42 --builder heroku/builder:24", "docker build -t "+repoURI+":0123abcd -t "+repoURI+":build-42 -")
			}
			for _, w := range wants {
				if !strings.Contains(string(log), w) {
					t.Errorf("no call %q in\n%s", w, log)
				}
			}
			b, err := os.ReadFile(filepath.Join(repo, ".wharf", "wharf-build.json"))
			if err != nil {
				t.Fatal(err)
			}
			var doc map[string]interface{}
			if err := json.Unmarshal(b, &doc); err != nil {
				t.Fatal(err)
			}
			if doc["image"] != digest || doc["releaseCommand"] != "bin/migrate" || doc["buildNumber"] != 42.0 || doc["commit"] != "0123abcd" {
				t.Errorf("wharf-build.json %s", b)
			}
		})
	}
}

// TestBuildSpecCarriesTheScripts checks the synthesized buildspec: the
// phases, the artifact, and that the inline bundle unpacks to exactly the
// embedded scripts.
func TestBuildSpecCarriesTheScripts(t *testing.T) {
	f := getFixture(t)
	src, _ := props(t, f.apiJSON, "AppBuildC4D5B8FE")["Source"].(map[string]interface{})
	var spec struct {
		Version   string                         `yaml:"version"`
		Env       map[string]string              `yaml:"env"`
		Phases    map[string]map[string][]string `yaml:"phases"`
		Artifacts map[string]interface{}         `yaml:"artifacts"`
		Reports   map[string]interface{}         `yaml:"reports"`
	}
	if err := yaml.Unmarshal([]byte(src["BuildSpec"].(string)), &spec); err != nil {
		t.Fatal(err)
	}
	if spec.Version != "0.2" || spec.Env["shell"] != "bash" {
		t.Errorf("buildspec header %+v", spec)
	}
	if a, _ := json.Marshal(spec.Artifacts); string(a) != `{"base-directory":".wharf","discard-paths":"yes","files":["wharf-build.json"]}` {
		t.Errorf("artifacts %s", a)
	}
	if r, _ := json.Marshal(spec.Reports); string(r) != `{"tests":{"base-directory":".wharf/reports","file-format":"JUNITXML","files":["**/*"]}}` {
		t.Errorf("reports %s", r)
	}
	if b := spec.Phases["build"]["commands"]; strings.Join(b, "|") != "bash /tmp/wharf/wharf-build.sh image|bash /tmp/wharf/wharf-build.sh test|bash /tmp/wharf/wharf-build.sh publish" {
		t.Errorf("build phase %v", b)
	}
	pre := spec.Phases["pre_build"]["commands"]
	if len(pre) != 2 || pre[1] != "bash /tmp/wharf/wharf-build.sh prepare" {
		t.Fatalf("pre_build %v", pre)
	}
	m := regexp.MustCompile(`^mkdir -p /tmp/wharf && echo ([A-Za-z0-9+/=]+) \| base64 -d \| tar -xz -C /tmp/wharf$`).FindStringSubmatch(pre[0])
	if m == nil {
		t.Fatalf("unpack command %q", pre[0])
	}
	raw, err := base64.StdEncoding.DecodeString(m[1])
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	want, _ := app.BuildScripts()
	got := map[string][]byte{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got[h.Name], _ = io.ReadAll(tr)
		if h.Mode&0o111 == 0 {
			t.Errorf("%s is not executable", h.Name)
		}
	}
	if len(got) != len(want) || len(got) != 2 {
		t.Fatalf("bundle has %d files, want %d", len(got), len(want))
	}
	for name, body := range want {
		if !bytes.Equal(got[name], body) {
			t.Errorf("bundled %s differs from the embedded script", name)
		}
	}
	// Deterministic: the worker's (different app) buildspec carries the
	// same bundle bytes.
	wsrc, _ := props(t, f.workerJSON, "AppBuildC4D5B8FE")["Source"].(map[string]interface{})
	if !strings.Contains(wsrc["BuildSpec"].(string), m[1]) {
		t.Error("the script bundle differs between two synths")
	}
}

// TestBuildScriptDockerHubLogin runs the prepare and image steps with the aws CLI
// stubbed to return the Docker Hub parameter, to say it does not exist, or
// to refuse access: the script logs in with the stored user and never
// prints the token, pulls anonymously without the parameter, and stops the
// build on any other error.
func TestBuildScriptDockerHubLogin(t *testing.T) {
	need(t, "bash")
	need(t, "python3")
	const token = "dckr_pat_s3cr3t"
	cases := []struct {
		name      string
		ssm       string // the stub's reply to aws ssm get-parameter
		wantErr   bool
		wantLogin bool
		wantOut   string
	}{
		{name: "credentials", ssm: `echo "builder:` + token + `"`, wantLogin: true},
		{name: "no parameter", ssm: `echo "An error occurred (ParameterNotFound) when calling the GetParameter operation: " >&2; exit 254`, wantOut: "pulling anonymously"},
		{name: "access denied", ssm: `echo "An error occurred (AccessDeniedException) when calling the GetParameter operation" >&2; exit 254`, wantErr: true, wantOut: "cannot read Docker Hub credentials at /wharf/account/dockerhub"},
		{name: "malformed value", ssm: `echo "no-colon-here"`, wantErr: true, wantOut: "must hold <username>:<access token>"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			scripts := writeScripts(t)
			repo := writeRepo(t, map[string]string{"Procfile": "web: bin/web\n", "Dockerfile": "FROM scratch\n"})
			bin := t.TempDir()
			calls := filepath.Join(t.TempDir(), "calls.log")
			stdin := filepath.Join(t.TempDir(), "stdin.log")
			stub := `#!/bin/sh
echo "$(basename "$0") $*" >> "` + calls + `"
case "$(basename "$0") $1" in
  "aws ecr") echo token ;;
  "aws ssm") ` + c.ssm + ` ;;
  "docker login") cat >> "` + stdin + `"; echo >> "` + stdin + `" ;;
esac
`
			for _, tool := range []string{"docker", "aws"} {
				if err := os.WriteFile(filepath.Join(bin, tool), []byte(stub), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			cmd := exec.Command("bash", "-c", `bash "$0" prepare && bash "$0" image`, filepath.Join(scripts, "wharf-build.sh"))
			cmd.Dir = repo
			cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"), "WHARF_PREFIX=wharf", "WHARF_APP=api",
				"WHARF_IMAGE_REPO=111122223333.dkr.ecr.eu-west-1.amazonaws.com/wharf-api", "CODEBUILD_BUILD_NUMBER=42",
				"CODEBUILD_BUILD_ID=wharf-api:7f0c", "CODEBUILD_RESOLVED_SOURCE_VERSION=0123abcd", "AWS_REGION=eu-west-1",
				"WHARF_DOCKERHUB_PARAMETER=/wharf/account/dockerhub")
			out, err := cmd.CombinedOutput()
			if (err != nil) != c.wantErr {
				t.Fatalf("prepare, image: err = %v, want error %v\n%s", err, c.wantErr, out)
			}
			if !strings.Contains(string(out), c.wantOut) {
				t.Errorf("output lacks %q:\n%s", c.wantOut, out)
			}
			if strings.Contains(string(out), token) {
				t.Errorf("the Docker Hub token reached the build log:\n%s", out)
			}
			log, _ := os.ReadFile(calls)
			if !strings.Contains(string(log), "aws ssm get-parameter --name /wharf/account/dockerhub --with-decryption") {
				t.Errorf("the script did not read the parameter:\n%s", log)
			}
			if strings.Contains(string(log), token) {
				t.Errorf("the token was passed as an argument (visible in ps):\n%s", log)
			}
			login := strings.Contains(string(log), "docker login --username builder --password-stdin")
			if login != c.wantLogin {
				t.Errorf("docker login to Docker Hub = %v, want %v:\n%s", login, c.wantLogin, log)
			}
			if c.wantLogin {
				in, _ := os.ReadFile(stdin)
				if !strings.Contains(string(in), token) {
					t.Errorf("docker login did not get the token on stdin: %q", in)
				}
			}
		})
	}
}
