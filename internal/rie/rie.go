// Package rie runs a Go Lambda function's bootstrap under the AWS Lambda
// Runtime Interface Emulator (RIE), on the local machine, without Docker.
//
// Usage, in any test package of this module:
//
//	func TestMyLambda(t *testing.T) {
//		bootstrap := rie.BuildBootstrap(t, "./lambda/controlplane") // path from the module root
//		fn := rie.Start(t, bootstrap, map[string]string{"TABLE": "x"})
//		status, body, err := fn.Invoke(ctx, []byte(`{"hello":"world"}`))
//		...
//	}
//
// API:
//   - [Binary](tb) builds the pinned emulator ([Module]@[Version]) once with
//     `go install` into a cache folder under os.UserCacheDir() (or the
//     system temp directory), shared by every test binary and test run, and
//     returns its path. Start calls it.
//   - [BuildBootstrap](tb, pkg) builds pkg (a "./path" relative to the module
//     root, or an import path) for linux on the host architecture with
//     CGO_ENABLED=0, -tags lambda.norpc and -trimpath into tb.TempDir() and
//     returns the bootstrap's path.
//   - [Start](tb, bootstrap, env) starts the emulator on 127.0.0.1 (free
//     ports for both the invoke endpoint and the Runtime API, so several
//     emulators can run at once), waits until it listens, and stops it (and
//     the bootstrap) in tb.Cleanup. The function sees only the environment
//     given plus defaults: PATH, AWS_REGION=us-east-1, static dummy
//     credentials (AWS_ACCESS_KEY_ID=test, AWS_SECRET_ACCESS_KEY=test),
//     AWS_EC2_METADATA_DISABLED=true, AWS_LAMBDA_FUNCTION_TIMEOUT=30; env
//     overrides any of them. The host's AWS settings never leak in.
//   - [Function.Invoke](ctx, payload) POSTs one invocation and returns the
//     HTTP status and body. Invocations are serialised: the emulator crashes
//     on concurrent invokes. Note the emulator answers 200 for handler
//     errors ({"errorMessage":...,"errorType":...}), bad JSON and timeouts,
//     and 502 for panics: always assert on the body.
//   - [Function.Logs] returns what the emulator and the function wrote to
//     stdout and stderr so far; it is also logged when the test fails.
//
// The emulator is Linux-only (amd64, arm64). Do not set
// AWS_LAMBDA_MAX_CONCURRENCY: it switches the emulator to another mode.
package rie

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Module and Version pin the emulator built from the Go module proxy. Its
// git tags are not semver, so a pseudo-version is used.
const (
	Module  = "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie"
	Version = "v0.0.0-20261030222936-bef5c4ba774d"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// Binary returns the path of the emulator, building it on first use.
func Binary(tb testing.TB) string {
	tb.Helper()
	binOnce.Do(func() { binPath, binErr = buildEmulator() })
	if binErr != nil {
		tb.Fatalf("rie: %v", binErr)
	}
	return binPath
}

// goTool is the go command: $GOROOT/bin/go when GOROOT is set (go test
// sets it for the test binary), else the one on PATH.
func goTool() string {
	if root := os.Getenv("GOROOT"); root != "" {
		if p := filepath.Join(root, "bin", "go"); isExec(p) {
			return p
		}
	}
	return "go"
}

func isExec(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir() && st.Mode()&0o111 != 0
}

func buildEmulator() (string, error) {
	if runtime.GOOS != "linux" {
		return "", fmt.Errorf("the lambda runtime interface emulator runs on linux only, not %s", runtime.GOOS)
	}
	base, err := os.UserCacheDir()
	if err != nil || base == "" {
		base = os.TempDir()
	}
	dir := filepath.Join(base, "wharf", "aws-lambda-rie", Version, runtime.GOOS+"_"+runtime.GOARCH)
	final := filepath.Join(dir, "aws-lambda-rie")
	if st, err := os.Stat(final); err == nil && st.Mode()&0o111 != 0 {
		return final, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("create emulator cache folder: %w", err)
	}
	tmp, err := os.MkdirTemp(dir, "build-")
	if err != nil {
		return "", fmt.Errorf("create emulator build folder: %w", err)
	}
	defer os.RemoveAll(tmp)
	cmd := exec.Command(goTool(), "install", "-trimpath", Module+"@"+Version)
	cmd.Dir = tmp // outside any module
	cmd.Env = append(os.Environ(), "GOBIN="+tmp, "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH, "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go install %s@%s: %w\n%s", Module, Version, err, out)
	}
	// Rename is atomic, so concurrent test binaries never see half a file.
	if err := os.Rename(filepath.Join(tmp, "aws-lambda-rie"), final); err != nil {
		return "", fmt.Errorf("move emulator into the cache: %w", err)
	}
	return final, nil
}

// moduleRoot finds the directory of the go.mod enclosing the working
// directory.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod found above the working directory")
		}
		dir = parent
	}
}

// BuildBootstrap builds the Lambda main package pkg for linux on the host
// architecture and returns the path of the resulting "bootstrap" file.
func BuildBootstrap(tb testing.TB, pkg string) string {
	tb.Helper()
	root, err := moduleRoot()
	if err != nil {
		tb.Fatalf("rie: build %s: %v", pkg, err)
	}
	out := filepath.Join(tb.TempDir(), "bootstrap")
	cmd := exec.Command(goTool(), "build", "-tags", "lambda.norpc", "-trimpath", "-o", out, pkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+runtime.GOARCH, "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("rie: go build %s: %v\n%s", pkg, err, b)
	}
	return out
}

// Function is a bootstrap running under the emulator.
type Function struct {
	// URL is the invoke endpoint.
	URL string

	mu     sync.Mutex // serialises invocations
	cmd    *exec.Cmd
	exited chan struct{}
	logs   *syncBuffer
	client *http.Client
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Start runs bootstrap under the emulator with env (see the package
// documentation for defaults) and stops it when the test ends.
func Start(tb testing.TB, bootstrap string, env map[string]string) *Function {
	tb.Helper()
	bin := Binary(tb)
	if _, ok := env["AWS_LAMBDA_MAX_CONCURRENCY"]; ok {
		tb.Fatalf("rie: do not set AWS_LAMBDA_MAX_CONCURRENCY: it switches the emulator to Lambda Managed Instances mode")
	}
	abs, err := filepath.Abs(bootstrap)
	if err != nil {
		tb.Fatalf("rie: %v", err)
	}
	vars := map[string]string{
		"PATH":                        os.Getenv("PATH"),
		"AWS_REGION":                  "us-east-1",
		"AWS_DEFAULT_REGION":          "us-east-1",
		"AWS_ACCESS_KEY_ID":           "test",
		"AWS_SECRET_ACCESS_KEY":       "test",
		"AWS_EC2_METADATA_DISABLED":   "true",
		"AWS_LAMBDA_FUNCTION_TIMEOUT": "30",
	}
	for k, v := range env {
		vars[k] = v
	}
	environ := make([]string, 0, len(vars))
	for k, v := range vars {
		environ = append(environ, k+"="+v)
	}
	sort.Strings(environ)

	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		f, err := launch(bin, abs, environ)
		if err == nil {
			tb.Cleanup(func() {
				f.stop()
				if tb.Failed() {
					tb.Logf("rie: emulator and function output:\n%s", f.Logs())
				}
			})
			return f
		}
		lastErr = err
	}
	tb.Fatalf("rie: %v", lastErr)
	return nil
}

func launch(bin, bootstrap string, environ []string) (*Function, error) {
	invokePort, err := freePort()
	if err != nil {
		return nil, err
	}
	apiPort, err := freePort()
	if err != nil {
		return nil, err
	}
	logs := &syncBuffer{}
	addr := "127.0.0.1:" + strconv.Itoa(invokePort)
	cmd := exec.Command(bin,
		"--runtime-interface-emulator-address", addr,
		"--runtime-api-address", "127.0.0.1:"+strconv.Itoa(apiPort),
		bootstrap)
	cmd.Dir = filepath.Dir(bootstrap)
	cmd.Env = environ
	cmd.Stdout, cmd.Stderr = logs, logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start emulator: %w", err)
	}
	f := &Function{
		URL:    "http://" + addr + "/2015-03-31/functions/function/invocations",
		cmd:    cmd,
		exited: make(chan struct{}),
		logs:   logs,
		client: &http.Client{},
	}
	go func() { _ = cmd.Wait(); close(f.exited) }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			_ = c.Close()
			return f, nil
		}
		select {
		case <-f.exited:
			return nil, fmt.Errorf("emulator exited during start-up:\n%s", logs.String())
		case <-time.After(25 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			f.stop()
			return nil, fmt.Errorf("emulator did not listen on %s within 20s:\n%s", addr, logs.String())
		}
	}
}

// Invoke sends one invocation and returns the HTTP status and body. It
// waits for any invocation already in flight on f.
func (f *Function) Invoke(ctx context.Context, payload []byte) (status int, body []byte, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	select {
	case <-f.exited:
		return 0, nil, fmt.Errorf("rie: emulator is not running; output:\n%s", f.Logs())
	default:
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.URL, bytes.NewReader(payload))
	if err != nil {
		return 0, nil, fmt.Errorf("rie: build invoke request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := f.client.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("rie: invoke: %w", err)
	}
	defer resp.Body.Close()
	body, err = io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, body, fmt.Errorf("rie: read invoke response: %w", err)
	}
	return resp.StatusCode, body, nil
}

// Logs returns the emulator's and the function's output so far.
func (f *Function) Logs() string { return f.logs.String() }

// WaitLogs waits until the function's output contains substr, the
// function exits, or ctx ends, and returns the output then. The emulator
// answers an invocation as soon as the runtime reports its error, which can
// be before the bootstrap's own log line has come through the pipe.
func (f *Function) WaitLogs(ctx context.Context, substr string) string {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		if logs := f.Logs(); strings.Contains(logs, substr) {
			return logs
		}
		select {
		case <-ctx.Done():
			return f.Logs()
		case <-f.exited:
			return f.Logs()
		case <-tick.C:
		}
	}
}

// Stop ends the emulator and the bootstrap now (benchmarks that start many
// functions in one test); the cleanup Start registered then does nothing.
func (f *Function) Stop() { f.stop() }

// stop ends the emulator and the bootstrap (one process group).
func (f *Function) stop() {
	select {
	case <-f.exited:
		return
	default:
	}
	pgid := f.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-f.exited:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-f.exited
	}
	// The bootstrap may outlive the emulator for a moment; the group kill
	// reaches it too.
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// String describes the function for test messages.
func (f *Function) String() string {
	return "rie function at " + strings.TrimSuffix(f.URL, "/2015-03-31/functions/function/invocations")
}
