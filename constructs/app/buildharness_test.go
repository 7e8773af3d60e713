package app_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// buildSandbox runs wharf-build.sh steps in a scratch repository with
// docker, aws, pack and curl replaced by one stub that logs every call
// ("<tool> <args>") to calls.log, keeps what it read on stdin, and behaves
// as the STUB_* environment variables say (see stubScript). Nothing in it
// reaches a network or a Docker daemon.
type buildSandbox struct {
	t       *testing.T
	scripts string
	repo    string
	bin     string
	state   string
	env     map[string]string
}

const sandboxRepo = "111122223333.dkr.ecr.eu-west-1.amazonaws.com/wharf-api"

// stubScript is the one stub behind every replaced tool. Behaviour knobs:
//
//	STUB_DOCKERHUB     value of the Docker Hub parameter ("" = ParameterNotFound)
//	STUB_TEST_EXIT     exit status of `docker run` of the built image (tests)
//	STUB_CACHE         "present" when the cache tags exist in the registry
//	STUB_SSM_VALUES    JSON reply of `aws ssm get-parameters` (build config)
//	STUB_CURL_DIR      folder whose files curl serves by URL base name
//	STUB_REPORT        content `docker cp` copies out as the test report
//	                   (unset: the container has no such file)
//
// Every docker call's full argument list goes to calls.log; stdin of
// login, build and run goes to stdin.log. `docker history` prints the
// build arguments the stub saw (as the real history shows ARG values
// used in RUN lines).
const stubScript = `#!/bin/bash
state="$STUB_STATE"
tool="$(basename "$0")"
echo "$tool $*" >> "$state/calls.log"
case "$tool $1" in
  "aws ecr") echo ecr-token ;;
  "aws ssm")
    case "$2" in
      get-parameter)
        if [ -n "${STUB_DOCKERHUB:-}" ]; then echo "$STUB_DOCKERHUB"; else
          echo "An error occurred (ParameterNotFound) when calling the GetParameter operation:" >&2; exit 254; fi ;;
      get-parameters)
        if [ -n "${STUB_SSM_VALUES:-}" ]; then printf '%s\n' "$STUB_SSM_VALUES"; else echo '{"Parameters":[],"InvalidParameters":[]}'; fi ;;
    esac ;;
  "docker login") { cat; echo; } >> "$state/stdin.log" ;;
  "docker logout") ;;
  "docker build") cat > /dev/null; echo "$*" >> "$state/history.log" ;;
  "docker buildx")
    case "$2" in
      build) env >> "$state/buildx-env.log"; echo "$*" >> "$state/history.log" ;;
      imagetools) [ "${STUB_CACHE:-}" = present ] || { echo "ERROR: $4: not found" >&2; exit 1; } ;;
      create|use|inspect|rm) ;;
    esac ;;
  "docker history") cat "$state/history.log" 2>/dev/null ;;
  "docker inspect")
    case "$*" in
      *WorkingDir*) echo /app ;;
      *RepoDigests*) echo "other.example/x@sha256:ffff"; echo "` + sandboxRepo + `@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" ;;
      *) echo '{"processes":[{"type":"web","command":["bin/web"],"direct":true}]}' ;;
    esac ;;
  "docker run")
    case " $* " in *" -d "*) exit 0 ;; esac
    env >> "$state/run-env.log"
    exit "${STUB_TEST_EXIT:-0}" ;;
  "pack build") env >> "$state/pack-env.log" ;;
  "docker cp")
    [ -n "${STUB_REPORT:-}" ] || exit 1
    printf '%s' "$STUB_REPORT" > "$3/$(basename "${2#*:}")" ;;
  "docker pull"|"docker push"|"docker rm"|"docker network"|"docker tag"|"docker exec"|"docker stop") ;;
  curl*)
    out=""; url=""
    while [ $# -gt 0 ]; do
      case "$1" in -o) out="$2"; shift 2 ;; -*) shift ;; *) url="$1"; shift ;; esac
    done
    f="${STUB_CURL_DIR:-/nonexistent}/$(basename "$url")"
    [ -f "$f" ] || { echo "curl: (22) 404 $url" >&2; exit 22; }
    if [ -n "$out" ]; then cp "$f" "$out"; else cat "$f"; fi ;;
esac
exit 0
`

func newSandbox(t *testing.T, files map[string]string) *buildSandbox {
	t.Helper()
	need(t, "bash")
	need(t, "python3")
	s := &buildSandbox{t: t, scripts: writeScripts(t), repo: writeRepo(t, files), bin: t.TempDir(), state: t.TempDir()}
	for _, tool := range []string{"docker", "aws", "pack", "curl"} {
		if err := os.WriteFile(filepath.Join(s.bin, tool), []byte(stubScript), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	s.env = map[string]string{
		"STUB_STATE": s.state, "WHARF_PREFIX": "wharf", "WHARF_APP": "api", "WHARF_IMAGE_REPO": sandboxRepo,
		"CODEBUILD_BUILD_NUMBER": "42", "CODEBUILD_BUILD_ID": "wharf-api:7f0c", "CODEBUILD_RESOLVED_SOURCE_VERSION": "0123abcd",
		"AWS_REGION": "eu-west-1", "WHARF_BRANCH": "main", "CODEBUILD_WEBHOOK_HEAD_REF": "refs/heads/main",
		"WHARF_BIN_DIR": t.TempDir(), "TMPDIR": t.TempDir(),
	}
	return s
}

// withoutPack removes the pack stub, so prepare installs pack.
func (s *buildSandbox) withoutPack() {
	os.Remove(filepath.Join(s.bin, "pack"))
}

// run runs one step and returns its combined output and error.
func (s *buildSandbox) run(step string) (string, error) {
	cmd := exec.Command("bash", filepath.Join(s.scripts, "wharf-build.sh"), step)
	cmd.Dir = s.repo
	// Only a clean PATH (the stubs first, then the system's) and the
	// variables the test sets: nothing of the developer's environment.
	env := []string{"PATH=" + s.bin + ":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=" + s.state}
	if p, err := exec.LookPath("python3"); err == nil {
		env[0] = "PATH=" + s.bin + ":" + filepath.Dir(p) + ":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	}
	for k, v := range s.env {
		env = append(env, k+"="+v)
	}
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// runAll runs the steps in order and stops at the first failure.
func (s *buildSandbox) runAll(steps ...string) (string, error) {
	var all strings.Builder
	for _, st := range steps {
		out, err := s.run(st)
		all.WriteString(out)
		if err != nil {
			return all.String(), err
		}
	}
	return all.String(), nil
}

func (s *buildSandbox) file(name string) string {
	b, _ := os.ReadFile(filepath.Join(s.state, name))
	return string(b)
}

// calls returns the logged tool calls, one per line.
func (s *buildSandbox) calls() []string {
	return strings.Split(strings.TrimSpace(s.file("calls.log")), "\n")
}

// index returns the position of the first call with the prefix, or -1.
func (s *buildSandbox) index(prefix string) int {
	for i, c := range s.calls() {
		if strings.HasPrefix(c, prefix) {
			return i
		}
	}
	return -1
}

// lastIndex returns the position of the last call with the prefix, or -1.
func (s *buildSandbox) lastIndex(prefix string) int {
	last := -1
	for i, c := range s.calls() {
		if strings.HasPrefix(c, prefix) {
			last = i
		}
	}
	return last
}
