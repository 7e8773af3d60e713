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
package lambdabuild

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
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

// Architecture is the Lambda architecture the binaries are built for.
func Architecture() awslambda.Architecture { return awslambda.Architecture_ARM_64() }

// Runtime is the Lambda runtime the binaries are built for.
func Runtime() awslambda.Runtime { return awslambda.Runtime_PROVIDED_AL2023() }

var (
	mu    sync.Mutex
	built = map[string]string{}
)

// Dir builds the Lambda under lambda/<name> (for example "dbmanager") and
// returns the folder holding its bootstrap binary. Builds are memoised per
// process; the Go build cache makes a rebuild in a new process cheap.
func Dir(name string) (string, error) {
	mu.Lock()
	defer mu.Unlock()
	if dir, ok := built[name]; ok {
		return dir, nil
	}
	if strings.ContainsAny(name, `/\.`) || name == "" {
		return "", fmt.Errorf("lambdabuild: name %q must be a single folder name under lambda/", name)
	}
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(root + "\x00" + name))
	out := filepath.Join(os.TempDir(), "wharf-lambda", hex.EncodeToString(sum[:8]), name)
	if err := os.MkdirAll(out, 0o755); err != nil {
		return "", fmt.Errorf("lambdabuild: create %s: %w", out, err)
	}
	if err := buildInto(root, name, out); err != nil {
		return "", err
	}
	built[name] = out
	return out, nil
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
	cmd := exec.Command("go", "build",
		"-trimpath", "-buildvcs=false", "-tags", "lambda.norpc",
		"-ldflags", "-s -w -buildid=",
		"-o", tmp.Name(), "./lambda/"+name)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0", "GOWORK=off", "GOFLAGS=-mod=readonly")
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

// moduleRoot finds the folder of the Wharf module as the current module
// graph resolves it.
func moduleRoot() (string, error) {
	cmd := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", ModulePath)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("lambdabuild: locate module %s (run synth from a Go module that requires it): %w: %s", ModulePath, err, strings.TrimSpace(stderr.String()))
	}
	dir := strings.TrimSpace(string(out))
	if dir == "" {
		return "", fmt.Errorf("lambdabuild: module %s has no folder on disk; run `go mod download %s`", ModulePath, ModulePath)
	}
	return dir, nil
}
