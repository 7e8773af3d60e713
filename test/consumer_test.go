package test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wharf-paas/wharf/internal/cdkcli"
)

// TestConsumerModule builds and runs test/consumer, a CDK app in its own Go
// module that imports Wharf's constructs, as another team's app would. It is
// copied to a temporary folder with its replace directive pointing at this
// checkout and tidied there, so it resolves its dependencies like a fresh
// `go get`. Its control plane Lambda is built at synth time from the Wharf
// module found through the consumer's module graph.
func TestConsumerModule(t *testing.T) {
	root := cdkcli.RepoRoot(t)
	dir := t.TempDir()
	for _, f := range []string{"main.go", "go.mod"} {
		data, err := os.ReadFile(filepath.Join(root, "test", "consumer", f))
		if err != nil {
			t.Fatal(err)
		}
		if f == "go.mod" {
			data = []byte(strings.Replace(string(data), "=> ../..", "=> "+root, 1))
		}
		if err := os.WriteFile(filepath.Join(dir, f), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	goCmd := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("go", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=", "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("go %s in the consumer module: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	goCmd("mod", "tidy")
	out := filepath.Join(dir, "cdk.out")
	// Issue 14: the constructs handle the unused-parameter warning (W2001)
	// themselves, so a consumer's synth prints none.
	if log := goCmd("run", ".", out); strings.Contains(log, "W2001") {
		t.Errorf("the consumer's synth printed CloudFormation's unused-parameter warning:\n%s", log)
	}

	raw, err := os.ReadFile(filepath.Join(out, "consumer-controlplane.template.json"))
	if err != nil {
		t.Fatalf("the consumer wrote no control plane template: %v", err)
	}
	var tpl cdkcli.Template
	if err := json.Unmarshal(raw, &tpl); err != nil {
		t.Fatal(err)
	}
	var assetHash string
	for _, r := range tpl.Resources {
		if r.Type != "AWS::Lambda::Function" {
			continue
		}
		if r.Properties["Runtime"] != "provided.al2023" {
			continue
		}
		code, _ := r.Properties["Code"].(map[string]any)
		key, _ := code["S3Key"].(string)
		assetHash = strings.TrimSuffix(key, ".zip")
	}
	if assetHash == "" {
		t.Fatal("no provided.al2023 Lambda with an asset in the consumer's control plane stack")
	}
	bin := filepath.Join(out, "asset."+assetHash, "bootstrap")
	head := make([]byte, 20)
	f, err := os.Open(bin)
	if err != nil {
		t.Fatalf("the Lambda asset has no bootstrap: %v", err)
	}
	defer f.Close()
	if _, err := f.Read(head); err != nil {
		t.Fatal(err)
	}
	if string(head[:4]) != "\x7fELF" || head[18] != 0xB7 {
		t.Errorf("%s is not a linux/arm64 ELF binary", bin)
	}

	raw, err = os.ReadFile(filepath.Join(out, "consumer-cluster.template.json"))
	if err != nil {
		t.Fatalf("the consumer wrote no cluster template: %v", err)
	}
	tpl = cdkcli.Template{}
	if err := json.Unmarshal(raw, &tpl); err != nil {
		t.Fatal(err)
	}
	if tpl.Count("AWS::EC2::VPC") != 1 || tpl.Count("AWS::ECS::Cluster") != 1 || tpl.Count("AWS::EC2::NatGateway") != 0 {
		t.Errorf("consumer cluster: %d VPC, %d ECS cluster, %d NAT gateways; want 1, 1, 0",
			tpl.Count("AWS::EC2::VPC"), tpl.Count("AWS::ECS::Cluster"), tpl.Count("AWS::EC2::NatGateway"))
	}
	if !strings.Contains(string(raw), "/acme/clusters/shared/") {
		t.Error("consumer cluster does not publish its SSM parameters under /acme/clusters/shared/")
	}

	raw, err = os.ReadFile(filepath.Join(out, "consumer-app.template.json"))
	if err != nil {
		t.Fatalf("the consumer wrote no app template: %v", err)
	}
	tpl = cdkcli.Template{}
	if err := json.Unmarshal(raw, &tpl); err != nil {
		t.Fatal(err)
	}
	if tpl.Count("AWS::CodeBuild::Project") != 1 || tpl.Count("AWS::ElasticLoadBalancingV2::ListenerRule") != 1 {
		t.Errorf("consumer app: %d CodeBuild projects, %d listener rules; want 1, 1",
			tpl.Count("AWS::CodeBuild::Project"), tpl.Count("AWS::ElasticLoadBalancingV2::ListenerRule"))
	}
	if strings.Contains(string(raw), "Fn::ImportValue") || !strings.Contains(string(raw), "/acme/clusters/shared/") {
		t.Error("consumer app must read the cluster from its SSM parameters, without imports")
	}
}
