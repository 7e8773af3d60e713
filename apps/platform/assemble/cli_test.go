package assemble_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wharf-paas/wharf/internal/cdkcli"
)

type cliManifest struct {
	Artifacts map[string]struct {
		Type        string `json:"type"`
		Environment string `json:"environment"`
		Properties  struct {
			TemplateFile string `json:"templateFile"`
			StackName    string `json:"stackName"`
		} `json:"properties"`
		Dependencies []string `json:"dependencies"`
	} `json:"artifacts"`
	Missing []any `json:"missing"`
}

// checkCLISynth checks what the CDK CLI printed (log) and wrote (out, with
// its manifest m) when it synthesized the example platform: the checks of
// what `make synth` produces.
func checkCLISynth(t *testing.T, out, log string, m cliManifest) {
	t.Helper()
	if len(m.Missing) > 0 {
		t.Errorf("manifest has missing context (synth would need a lookup): %v", m.Missing)
	}
	// A clean synth: no CDK annotation warning and no template
	// validation finding that a user would have to read past.
	for _, line := range strings.Split(log, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "WARNING") || strings.Contains(line, "[Warning]") {
			t.Errorf("cdk synth printed a warning: %s", line)
		}
	}

	// Each stack with the resources that identify it.
	want := map[string]map[string]int{
		"wharf-account": {
			"AWS::IAM::OIDCProvider": 1,
			"AWS::IAM::Role":         3, // admin, observer, event bus role
			"AWS::Events::Rule":      1,
		},
		"wharf-cluster-main": {
			"AWS::EC2::VPC":                             1,
			"AWS::EC2::NatGateway":                      0,
			"AWS::ECS::Cluster":                         1,
			"AWS::ElasticLoadBalancingV2::LoadBalancer": 1,
			"AWS::CertificateManager::Certificate":      1,
		},
		"wharf-database-main": {
			"AWS::RDS::DBCluster":   1,
			"AWS::Lambda::Function": 1,
		},
		"wharf-app-api": {
			"AWS::CodeBuild::Project":                   1,
			"AWS::ECR::Repository":                      1,
			"AWS::ElasticLoadBalancingV2::ListenerRule": 1,
			"AWS::ElasticLoadBalancingV2::TargetGroup":  1,
		},
		"wharf-app-web": {
			"AWS::CodeBuild::Project": 1,
			"AWS::ECR::Repository":    1,
		},
		"wharf-redis-cache": {
			"AWS::ElastiCache::ReplicationGroup": 1,
			"AWS::ElastiCache::UserGroup":        1,
		},
		"wharf-controlplane": {
			"AWS::Events::EventBus": 1,
			"AWS::Lambda::Function": 1,
			"AWS::DynamoDB::Table":  1,
		},
		"wharf-dashboard": {
			"AWS::S3::Bucket":                        1,
			"AWS::CloudFront::Distribution":          1,
			"AWS::CloudFront::ResponseHeadersPolicy": 1,
			"Custom::CDKBucketDeployment":            2,
		},
	}
	stacks := map[string]string{} // stack name -> template file
	for id, a := range m.Artifacts {
		if a.Type != "aws:cloudformation:stack" {
			continue
		}
		name := a.Properties.StackName
		if name == "" {
			name = id // the manifest omits stackName when it equals the artifact ID
		}
		stacks[name] = a.Properties.TemplateFile
		if a.Environment != "aws://111122223333/eu-west-1" {
			t.Errorf("%s: environment %q, want aws://111122223333/eu-west-1", id, a.Environment)
		}
	}
	if len(stacks) != len(want) {
		t.Errorf("synth wrote %d stacks %v, want %d", len(stacks), keys(stacks), len(want))
	}
	for name, counts := range want {
		file, ok := stacks[name]
		if !ok {
			t.Errorf("stack %s missing from the assembly", name)
			continue
		}
		raw, err := os.ReadFile(filepath.Join(out, file))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		var tpl cdkcli.Template
		if err := json.Unmarshal(raw, &tpl); err != nil {
			t.Errorf("%s: parse template: %v", name, err)
			continue
		}
		for typ, n := range counts {
			if got := tpl.Count(typ); got != n {
				t.Errorf("%s: %d %s, want %d", name, got, typ, n)
			}
		}
		for oid, o := range tpl.Outputs {
			if o.Export != nil {
				t.Errorf("%s: output %s is exported; stacks must stay independent", name, oid)
			}
		}
		if strings.Contains(string(raw), "Fn::ImportValue") {
			t.Errorf("%s: template imports an export", name)
		}
	}

	// The Lambda assets built at synth hold a linux/arm64 bootstrap.
	assets := 0
	entries, _ := os.ReadDir(out)
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), "asset.") {
			continue
		}
		bin := filepath.Join(out, e.Name(), "bootstrap")
		head := make([]byte, 20)
		f, err := os.Open(bin)
		if err != nil {
			continue
		}
		_, _ = f.Read(head)
		f.Close()
		// ELF magic, 64-bit, e_machine 0xB7 (AArch64) at offset 18.
		if string(head[:4]) != "\x7fELF" || head[18] != 0xB7 {
			t.Errorf("%s is not a linux/arm64 ELF binary", bin)
		}
		assets++
	}
	if assets < 2 {
		t.Errorf("found %d Lambda bootstrap assets, want at least 2 (control plane, database manager)", assets)
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
