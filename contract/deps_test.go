package contract

import (
	"os/exec"
	"strings"
	"testing"
)

// goList runs go list with args from the module root.
func goList(t *testing.T, args ...string) []string {
	t.Helper()
	cmd := exec.Command("go", append([]string{"list"}, args...)...)
	cmd.Dir = ".."
	out, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("go list %v: %v\n%s", args, err, stderr)
	}
	return strings.Fields(string(out))
}

// TestContractIsALeaf: the contract package imports only the standard
// library, so any package (constructs, Lambdas, CLI) may import it.
func TestContractIsALeaf(t *testing.T) {
	for _, p := range goList(t, "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", "./contract") {
		if p != "github.com/wharf-paas/wharf/contract" {
			t.Errorf("contract depends on %s", p)
		}
	}
}

// TestCDKPackagesLinkNoSDKClients: the constructs and the CDK apps take
// names and documents from the contract package, not from the control
// plane runtime, so no CDK app links AWS SDK service clients (the
// constructs/controlplane package used to import the controlplane package
// and with it the ECS, CodeBuild, S3, SSM and EventBridge clients).
func TestCDKPackagesLinkNoSDKClients(t *testing.T) {
	// One line per package: its import path, then every dependency.
	lines := goList(t, "-f", "{{.ImportPath}}:{{join .Deps \",\"}}", "./constructs/...", "./apps/...")
	if len(lines) < 5 {
		t.Fatalf("go list found only %v", lines)
	}
	for _, line := range lines {
		pkg, deps, _ := strings.Cut(line, ":")
		for _, dep := range strings.Split(deps, ",") {
			if strings.HasPrefix(dep, "github.com/aws/aws-sdk-go-v2/service/") || dep == "github.com/wharf-paas/wharf/controlplane" {
				t.Errorf("%s links %s", pkg, dep)
			}
		}
	}
}
