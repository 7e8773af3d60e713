package test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// repoRoot is the repository root, where cdk.json is.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "cdk.json")); err != nil {
		t.Fatalf("no cdk.json in %s: %v", root, err)
	}
	return root
}

// cdkCLI returns the pinned CDK CLI installed by `make deps` (npm ci). A
// missing CLI is a failure, not a skip: `make test` installs it.
func cdkCLI(t *testing.T, root string) string {
	t.Helper()
	cli := filepath.Join(root, "node_modules", ".bin", "cdk")
	if _, err := os.Stat(cli); err != nil {
		t.Fatalf("the CDK CLI is not installed (%v); run `make deps` (npm ci from package-lock.json) or `make test`, which does it", err)
	}
	return cli
}

// runSynth runs `cdk synth` through the CLI, exactly as `make synth` does,
// with the platform config at configPath, into a new output folder.
func runSynth(t *testing.T, configPath string) (out string, stderr string, err error) {
	t.Helper()
	root := repoRoot(t)
	cli := cdkCLI(t, root)
	out = filepath.Join(t.TempDir(), "cdk.out")
	cmd := exec.Command(cli, "synth", "--quiet", "--no-notices", "--no-version-reporting", "--no-lookups", "--output", out)
	cmd.Dir = root
	cmd.Env = append(os.Environ(),
		"WHARF_CONFIG="+configPath,
		"CDK_DISABLE_CLI_TELEMETRY=true",
		"JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20",
	)
	var errBuf bytes.Buffer
	cmd.Stdout = &errBuf
	cmd.Stderr = &errBuf
	err = cmd.Run()
	return out, errBuf.String(), err
}

type template struct {
	Resources map[string]struct {
		Type       string         `json:"Type"`
		Properties map[string]any `json:"Properties"`
	} `json:"Resources"`
	Outputs map[string]struct {
		Export any `json:"Export"`
	} `json:"Outputs"`
}

func (tpl template) count(typ string) int {
	n := 0
	for _, r := range tpl.Resources {
		if r.Type == typ {
			n++
		}
	}
	return n
}

// TestSynthRejectsBadConfig checks that the CLI run fails on a bad config
// with the field path in its message, and writes no template.
func TestSynthRejectsBadConfig(t *testing.T) {
	root := repoRoot(t)
	data, err := os.ReadFile(filepath.Join(root, "apps", "platform", "wharf.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(data), "  - name: web\n", "  - name: Web\n", 1)
	bad = strings.Replace(bad, "cidr: 10.100.0.0/16", "cidr: 10.100.0.0/33", 1)
	if bad == string(data) {
		t.Fatal("could not edit the example config")
	}
	path := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(path, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	out, log, err := runSynth(t, path)
	if err == nil {
		t.Fatalf("cdk synth succeeded on a bad config:\n%s", log)
	}
	for _, want := range []string{`apps[1].name: "Web" must be lowercase letters`, `clusters[0].cidr: "10.100.0.0/33" must be an IPv4 CIDR block`} {
		if !strings.Contains(log, want) {
			t.Errorf("synth output does not contain %q:\n%s", want, log)
		}
	}
	if matches, _ := filepath.Glob(filepath.Join(out, "*.template.json")); len(matches) > 0 {
		t.Errorf("a failed synth wrote templates: %v", matches)
	}
}
