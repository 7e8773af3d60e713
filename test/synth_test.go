package test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wharf-paas/wharf/internal/cdkcli"
)

// TestSynthRejectsBadConfig checks that the CLI run fails on a bad config
// with the field path in its message, and writes no template.
func TestSynthRejectsBadConfig(t *testing.T) {
	root := cdkcli.RepoRoot(t)
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
	out, log, err := cdkcli.Synth(t, path)
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
