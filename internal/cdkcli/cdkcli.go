// Package cdkcli runs the pinned CDK CLI the way `make synth` does, for the
// tests that check what a user's synth prints and writes
// (apps/platform/assemble, test/).
package cdkcli

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// RepoRoot is the repository root, where cdk.json is: the nearest
// directory at or above the test's working directory that holds one.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "cdk.json")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no cdk.json in the working directory or any directory above it")
		}
		dir = parent
	}
}

// CLI returns the pinned CDK CLI installed by `make deps` (npm ci). A
// missing CLI is a failure, not a skip: `make test` installs it.
func CLI(t testing.TB, root string) string {
	t.Helper()
	cli := filepath.Join(root, "node_modules", ".bin", "cdk")
	if _, err := os.Stat(cli); err != nil {
		t.Fatalf("the CDK CLI is not installed (%v); run `make deps` (npm ci from package-lock.json) or `make test`, which does it", err)
	}
	return cli
}

// Synth runs `cdk synth` through the CLI, exactly as `make synth` does,
// with the platform config at configPath, into a new output folder; args
// are added to the command line. log is everything the CLI printed.
func Synth(t testing.TB, configPath string, args ...string) (out, log string, err error) {
	t.Helper()
	root := RepoRoot(t)
	out = filepath.Join(t.TempDir(), "cdk.out")
	cmd := exec.Command(CLI(t, root), "synth", "--quiet", "--no-notices", "--no-version-reporting", "--no-lookups", "--output", out)
	cmd.Args = append(cmd.Args, args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(),
		"WHARF_CONFIG="+configPath,
		"CDK_DISABLE_CLI_TELEMETRY=true",
		"JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20",
	)
	var buf bytes.Buffer
	cmd.Stdout = &buf
	cmd.Stderr = &buf
	err = cmd.Run()
	return out, buf.String(), err
}

// Template is the part of a synthesized CloudFormation template the tests
// read: each resource's type and properties, and which outputs are
// exported.
type Template struct {
	Resources map[string]struct {
		Type       string         `json:"Type"`
		Properties map[string]any `json:"Properties"`
	} `json:"Resources"`
	Outputs map[string]struct {
		Export any `json:"Export"`
	} `json:"Outputs"`
}

// Count is the number of resources of type typ.
func (tpl Template) Count(typ string) int {
	n := 0
	for _, r := range tpl.Resources {
		if r.Type == typ {
			n++
		}
	}
	return n
}
