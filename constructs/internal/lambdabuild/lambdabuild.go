// Package lambdabuild compiles Wharf's Go Lambda functions at synth time with
// the local Go toolchain, without Docker, into deterministic asset folders.
//
// The binary is built for provided.al2023 on arm64 (GOOS=linux GOARCH=arm64
// CGO_ENABLED=0, -trimpath, stripped, -tags lambda.norpc, no build ID and no
// VCS stamp), so the same source always gives the same bytes and the CDK asset
// hash changes only when the code does.
//
// The build runs from the root of the Wharf module, found with `go list -m`
// from the working directory: inside this repository that is the checkout,
// and in another CDK app that imports Wharf it is the module cache (or the
// target of a replace directive). Either way Wharf's own go.mod and go.sum
// decide the dependencies, not the importing app's.
//
// Built binaries are kept in a content-addressed cache (the user cache
// directory's wharf/lambda, or $WHARF_LAMBDA_CACHE): the key hashes
// everything the build reads that can change (the Go files and embedded
// files of every package of the main module, or of a directory replace,
// that the function imports; go.mod and go.sum, which pin every other
// module's content; the build flags and environment; the identity of the
// go command), so a synth whose inputs did not change reuses the binary
// without running the linker.
package lambdabuild

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/jsii-runtime-go"
)

// ModulePath is the Go module path of Wharf.
const ModulePath = "github.com/wharf-paas/wharf"

// EnvCacheDir overrides the folder of the binary cache.
const EnvCacheDir = "WHARF_LAMBDA_CACHE"

// Architecture is the Lambda architecture the binaries are built for.
func Architecture() awslambda.Architecture { return awslambda.Architecture_ARM_64() }

// Runtime is the Lambda runtime the binaries are built for.
func Runtime() awslambda.Runtime { return awslambda.Runtime_PROVIDED_AL2023() }

// buildArgs are the go build flags; buildEnv the environment they run in.
var (
	buildArgs = []string{"build", "-trimpath", "-buildvcs=false", "-tags", "lambda.norpc", "-ldflags", "-s -w -buildid="}
	buildEnv  = []string{"GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0", "GOWORK=off", "GOFLAGS=-mod=readonly"}
)

// result is one build, shared by every caller in the process.
type result struct {
	done chan struct{}
	dir  string
	err  error
	hit  bool
}

var (
	mu     sync.Mutex
	builds = map[string]*result{}
)

// start begins building name unless that has begun, and returns its result.
func start(name string) *result {
	mu.Lock()
	defer mu.Unlock()
	if r, ok := builds[name]; ok {
		return r
	}
	r := &result{done: make(chan struct{})}
	builds[name] = r
	go func() {
		defer close(r.done)
		r.dir, r.hit, r.err = build(name)
	}()
	return r
}

// Prebuild starts building the named Lambdas in the background, so that the
// builds overlap with the CDK's own start-up; Dir and Code wait for them.
func Prebuild(names ...string) {
	for _, n := range names {
		start(n)
	}
}

// Dir builds the Lambda under lambda/<name> (for example "dbmanager") and
// returns the folder holding its bootstrap binary. Builds are memoised per
// process and cached on disk by their inputs.
func Dir(name string) (string, error) {
	r := start(name)
	<-r.done
	return r.dir, r.err
}

// CacheHit reports whether the build of name was served from the cache
// (false while it runs or when it ran the compiler).
func CacheHit(name string) bool {
	mu.Lock()
	r, ok := builds[name]
	mu.Unlock()
	if !ok {
		return false
	}
	select {
	case <-r.done:
		return r.hit
	default:
		return false
	}
}

// Code builds the Lambda under lambda/<name> and returns it as asset code.
// It panics with the build error, as CDK constructs do for bad input, so
// synthesis stops with the compiler's message.
func Code(name string) awslambda.Code {
	dir, err := Dir(name)
	if err != nil {
		panic(err)
	}
	return awslambda.Code_FromAsset(jsii.String(dir), nil)
}

func build(name string) (dir string, hit bool, err error) {
	if strings.ContainsAny(name, `/\.`) || name == "" {
		return "", false, fmt.Errorf("lambdabuild: name %q must be a single folder name under lambda/", name)
	}
	root, err := moduleRoot()
	if err != nil {
		return "", false, err
	}
	return buildIn(root, name)
}

// buildIn returns the cached build of ./lambda/<name> of the module at root,
// building it first if its inputs are new.
func buildIn(root, name string) (dir string, hit bool, err error) {
	key, err := inputKey(root, name)
	if err != nil {
		return "", false, err
	}
	out := filepath.Join(cacheDir(), key[:32], name)
	if st, err := os.Stat(filepath.Join(out, "bootstrap")); err == nil && st.Mode().IsRegular() && st.Size() > 0 {
		return out, true, nil
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return "", false, fmt.Errorf("lambdabuild: create %s: %w", out, err)
	}
	if err := buildInto(root, name, out); err != nil {
		return "", false, err
	}
	return out, false, nil
}

// cacheDir is $WHARF_LAMBDA_CACHE, else <user cache dir>/wharf/lambda, else
// a folder in the temporary directory.
func cacheDir() string {
	if d := os.Getenv(EnvCacheDir); d != "" {
		return d
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "wharf", "lambda")
	}
	return filepath.Join(os.TempDir(), "wharf-lambda")
}

// listFormat prints, for every package the function imports from the main
// module or from a directory replace, its folder and the files the
// compiler reads there. Packages of other modules are pinned by go.sum.
const listFormat = `{{if not .Standard}}{{if .Module}}{{if or .Module.Main (and .Module.Replace (not .Module.Replace.Version))}}` +
	`{{.Dir}}{{range .GoFiles}}|{{.}}{{end}}{{range .EmbedFiles}}|{{.}}{{end}}{{range .SFiles}}|{{.}}{{end}}` + "\n" +
	`{{end}}{{end}}{{end}}`

// inputKey hashes what the build of lambda/<name> in root depends on.
func inputKey(root, name string) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "wharf-lambdabuild v1\x00%s\x00%q\x00%q\x00", name, buildArgs, buildEnv)
	for _, k := range []string{"GOEXPERIMENT", "GOARM64", "GOTOOLCHAIN", "GOROOT"} {
		fmt.Fprintf(h, "%s=%s\x00", k, os.Getenv(k))
	}
	// The go command's identity: a new toolchain is a new binary.
	if p, err := exec.LookPath("go"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		if st, err := os.Stat(p); err == nil {
			fmt.Fprintf(h, "go=%s %d %d\x00", p, st.Size(), st.ModTime().UnixNano())
		}
	}
	for _, f := range []string{"go.mod", "go.sum"} {
		if err := hashFile(h, root, f); err != nil && !os.IsNotExist(err) {
			return "", err
		}
	}
	cmd := exec.Command("go", "list", "-deps", "-f", listFormat, "./lambda/"+name)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), buildEnv...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("lambdabuild: go list ./lambda/%s in %s: %w: %s", name, root, err, strings.TrimSpace(stderr.String()))
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		parts := strings.Split(line, "|")
		if len(parts) < 2 {
			continue
		}
		for _, f := range parts[1:] {
			if err := hashFile(h, parts[0], f); err != nil {
				return "", err
			}
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// hashFile adds a file's path and content to h.
func hashFile(h io.Writer, dir, name string) error {
	f, err := os.Open(filepath.Join(dir, name))
	if err != nil {
		return err
	}
	defer f.Close()
	fmt.Fprintf(h, "file %s/%s\x00", dir, name)
	n, err := io.Copy(h, f)
	fmt.Fprintf(h, "\x00%d\x00", n)
	return err
}

// buildInto compiles ./lambda/<name> of the module at root into
// out/bootstrap. It builds next to the final file and renames, so a
// concurrent synth never sees a half-written binary.
func buildInto(root, name, out string) error {
	tmp, err := os.CreateTemp(out, ".bootstrap-*")
	if err != nil {
		return fmt.Errorf("lambdabuild: temp file: %w", err)
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	args := append(append([]string(nil), buildArgs...), "-o", tmp.Name(), "./lambda/"+name)
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), buildEnv...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("lambdabuild: go build ./lambda/%s in %s: %w: %s", name, root, err, strings.TrimSpace(stderr.String()))
	}
	if err := os.Chmod(tmp.Name(), 0o755); err != nil {
		return fmt.Errorf("lambdabuild: chmod: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(out, "bootstrap")); err != nil {
		return fmt.Errorf("lambdabuild: rename: %w", err)
	}
	return nil
}

var (
	rootOnce sync.Once
	rootDir  string
	rootErr  error
)

// moduleRoot finds the folder of the Wharf module as the current module
// graph resolves it (once per process).
func moduleRoot() (string, error) {
	rootOnce.Do(func() {
		cmd := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", ModulePath)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			rootErr = fmt.Errorf("lambdabuild: locate module %s (run synth from a Go module that requires it): %w: %s", ModulePath, err, strings.TrimSpace(stderr.String()))
			return
		}
		rootDir = strings.TrimSpace(string(out))
		if rootDir == "" {
			rootErr = fmt.Errorf("lambdabuild: module %s has no folder on disk; run `go mod download %s`", ModulePath, ModulePath)
		}
	})
	return rootDir, rootErr
}
