package assemble_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/wharf-paas/wharf/apps/config"
	"github.com/wharf-paas/wharf/apps/platform/assemble"
	controlplanestack "github.com/wharf-paas/wharf/constructs/controlplane"
	"github.com/wharf-paas/wharf/internal/cdkcli"
	"github.com/wharf-paas/wharf/internal/cdktest"
)

func TestMain(m *testing.M) { cdktest.Main(m) }

const examplePath = "../wharf.example.yaml"

func loadExample(t *testing.T) *config.Platform {
	t.Helper()
	cfg, err := config.Load(examplePath)
	if err != nil {
		t.Fatalf("example config: %v", err)
	}
	return cfg
}

// TestExamplePlatform synthesizes the example platform once, through the
// pinned CDK CLI exactly as `make synth` does but with cdk-nag on every
// stack (-c wharf:nag=true), and checks the whole assembly and what the CLI
// printed. The checks of the construct objects (stack names, dependencies,
// the registry shipped) use a second Build of the same config in process,
// which creates the constructs but never synthesizes them: one synthesis
// of the example platform per test run (issue 14).
func TestExamplePlatform(t *testing.T) {
	cfg := loadExample(t)
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
	p, err := assemble.Build(app, cfg)
	if err != nil {
		t.Fatalf("build example platform: %v", err)
	}
	abs, err := filepath.Abs(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	// cdk-nag's findings are read from the assembly's metadata.
	dir, log, err := cdkcli.Synth(t, abs, "--context", assemble.NagContext+"=true")
	if err != nil {
		t.Fatalf("cdk synth failed: %v\n%s", err, log)
	}

	t.Run("cli", func(t *testing.T) {
		var m cliManifest
		raw, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
		if err != nil {
			t.Fatalf("read manifest: %v", err)
		}
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		checkCLISynth(t, dir, log, m)
	})

	templates := map[string]assertions.Template{}
	for _, st := range p.Stacks {
		raw, err := os.ReadFile(filepath.Join(dir, *st.TemplateFile()))
		if err != nil {
			t.Fatalf("read template of %s: %v", *st.StackName(), err)
		}
		cdktest.Check(t, func() { templates[*st.StackName()] = assertions.Template_FromString(jsii.String(string(raw)), nil) })
	}

	t.Run("stack names", func(t *testing.T) {
		want := []string{"wharf-account", "wharf-cluster-main", "wharf-database-main", "wharf-redis-cache", "wharf-app-api", "wharf-app-web", "wharf-controlplane", "wharf-dashboard"}
		if got := assemble.StackNames(cfg); !slices.Equal(got, want) {
			t.Errorf("StackNames = %v, want %v", got, want)
		}
		var got []string
		for _, st := range p.Stacks {
			got = append(got, *st.StackName())
		}
		if !slices.Equal(got, want) {
			t.Errorf("stacks created = %v, want %v", got, want)
		}
	})

	manifest := readManifest(t, dir)

	t.Run("cost", func(t *testing.T) {
		var names []string
		files := map[string]string{}
		for _, st := range p.Stacks {
			names = append(names, *st.StackName())
			files[*st.StackName()] = *st.TemplateFile()
		}
		checkCostDoc(t, dir, names, files)
	})

	t.Run("cdk-nag", func(t *testing.T) {
		for _, st := range p.Stacks {
			assertNagClean(t, dir, *st.ArtifactId())
		}
	})

	t.Run("env on every stack", func(t *testing.T) {
		for _, st := range p.Stacks {
			art, ok := manifest.Artifacts[*st.ArtifactId()]
			if !ok {
				t.Errorf("%s: no artifact in manifest", *st.StackName())
				continue
			}
			if want := "aws://111122223333/eu-west-1"; art.Environment != want {
				t.Errorf("%s: environment %q, want %q", *st.StackName(), art.Environment, want)
			}
		}
	})

	t.Run("no missing context", func(t *testing.T) {
		if len(manifest.Missing) > 0 {
			t.Errorf("assembly has missing context (a lookup at synth): %v", manifest.Missing)
		}
	})

	t.Run("no exports or imports", func(t *testing.T) {
		for _, st := range p.Stacks {
			raw, err := os.ReadFile(filepath.Join(dir, *st.TemplateFile()))
			if err != nil {
				t.Fatal(err)
			}
			assertNoExports(t, *st.StackName(), raw)
		}
	})

	t.Run("key resources", func(t *testing.T) {
		counts := map[string]map[string]int{
			"wharf-account": {
				"AWS::IAM::OIDCProvider": 1,
				"AWS::Events::Rule":      1,
				"AWS::SSM::Parameter":    1,
			},
			"wharf-cluster-main": {
				"AWS::EC2::VPC":                                 1,
				"AWS::EC2::NatGateway":                          0,
				"AWS::ECS::Cluster":                             1,
				"AWS::ElasticLoadBalancingV2::LoadBalancer":     1,
				"AWS::CertificateManager::Certificate":          1,
				"AWS::ElasticLoadBalancingV2::Listener":         2,
				"AWS::AutoScaling::AutoScalingGroup":            0,
				"AWS::Route53::RecordSet":                       1,
				"AWS::EC2::Subnet":                              6,
				"AWS::EC2::FlowLog":                             1,
				"AWS::ElasticLoadBalancingV2::ListenerRule":     0,
				"AWS::ElasticLoadBalancingV2::TargetGroup":      0,
				"AWS::ECS::ClusterCapacityProviderAssociations": 1,
			},
			"wharf-controlplane": {
				"AWS::Events::EventBus":  1,
				"AWS::Lambda::Function":  1,
				"AWS::DynamoDB::Table":   1,
				"AWS::SNS::Topic":        1,
				"AWS::SNS::Subscription": 1,
			},
		}
		for _, st := range p.Stacks {
			want, ok := counts[*st.StackName()]
			if !ok {
				continue
			}
			tpl := templates[*st.StackName()]
			for typ, n := range want {
				cdktest.Check(t, func() { tpl.ResourceCountIs(jsii.String(typ), jsii.Number(n)) })
			}
		}
	})

	t.Run("cluster zones from config", func(t *testing.T) {
		tpl := templates["wharf-cluster-main"]
		for _, az := range cfg.AvailabilityZones {
			cdktest.Check(t, func() {
				tpl.HasResourceProperties(jsii.String("AWS::EC2::Subnet"), map[string]any{"AvailabilityZone": az})
			})
		}
	})

	t.Run("control plane registry", func(t *testing.T) {
		tpl := templates["wharf-controlplane"]
		reg, err := json.Marshal(assemble.Registry(cfg))
		if err != nil {
			t.Fatal(err)
		}
		var r map[string]any
		_ = json.Unmarshal(reg, &r)
		// The registry reaches the Lambda as a file of its layer.
		cdktest.Check(t, func() {
			tpl.HasResourceProperties(jsii.String("AWS::Lambda::Function"), map[string]any{
				"Environment": map[string]any{"Variables": assertions.Match_ObjectLike(&map[string]any{
					"WHARF_REGISTRY_FILE": controlplanestack.RegistryFilePath,
				})},
			})
		})
		cdktest.Check(t, func() { tpl.ResourceCountIs(jsii.String("AWS::Lambda::LayerVersion"), jsii.Number(1)) })
		var shipped controlplanestack.Registry
		if err := json.Unmarshal([]byte(p.ControlPlane.RegistryJSON), &shipped); err != nil {
			t.Fatal(err)
		}
		if len(shipped.Accounts) != 1 || shipped.Accounts[0].AccountID != "111122223333" ||
			shipped.Accounts[0].ObserverRoleARN != "arn:aws:iam::111122223333:role/wharf-account-observer" ||
			shipped.Accounts[0].ExternalID != cfg.Account.ObserverExternalID {
			t.Errorf("registry accounts shipped = %+v", shipped.Accounts)
		}
		if len(r["apps"].([]any)) != 2 {
			t.Errorf("registry lists %d apps, want 2", len(r["apps"].([]any)))
		}
	})

	t.Run("deploy order", func(t *testing.T) {
		for name, st := range p.AppStacks {
			if !dependsOn(st, p.ClusterStacks["main"]) {
				t.Errorf("app %s does not depend on its cluster stack", name)
			}
		}
		for name, st := range p.DatabaseStacks {
			if !dependsOn(st, p.ClusterStacks["main"]) {
				t.Errorf("database %s does not depend on its cluster stack", name)
			}
		}
		if r := p.RedisStacks["cache"]; r == nil || !dependsOn(p.AppStacks["api"], r) || !dependsOn(r, p.ClusterStacks["main"]) {
			t.Error("app api does not depend on its redis stack, or the redis stack not on its cluster")
		}
		if r := p.Redis["cache"]; r == nil || !r.HasApp("api") || r.HasApp("web") {
			t.Error("redis cache must have a user for api (redis: cache) and none for web")
		}
		if db := p.DatabaseStacks["main"]; db != nil && !dependsOn(p.AppStacks["api"], db) {
			t.Error("app api does not depend on its database stack")
		}
	})
}

func dependsOn(st, on awscdk.Stack) bool {
	if st == nil || on == nil {
		return false
	}
	for _, d := range *st.Dependencies() {
		if *d.StackName() == *on.StackName() {
			return true
		}
	}
	return false
}

type cloudManifest struct {
	Artifacts map[string]struct {
		Type        string `json:"type"`
		Environment string `json:"environment"`
	} `json:"artifacts"`
	Missing []any `json:"missing"`
}

// assertNagClean fails t for every unsuppressed AwsSolutions error or
// warning cdk-nag recorded on the stack (cdktest.NagFindings, read from
// the synthesized assembly; cdktest's own test checks the checker).
func assertNagClean(t *testing.T, dir string, artifact string) {
	t.Helper()
	findings, err := cdktest.NagFindings(dir, artifact)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range findings {
		t.Error(f)
	}
}

// assertNoExports fails when a template exports an output or imports one:
// stacks must stay independently deployable.
func assertNoExports(t *testing.T, name string, raw []byte) {
	t.Helper()
	var tpl struct {
		Outputs map[string]struct {
			Export any `json:"Export"`
		} `json:"Outputs"`
	}
	if err := json.Unmarshal(raw, &tpl); err != nil {
		t.Fatalf("%s: parse template: %v", name, err)
	}
	for id, out := range tpl.Outputs {
		if out.Export != nil {
			t.Errorf("%s: output %s is exported; stacks must share values through SSM parameters only", name, id)
		}
	}
	if strings.Contains(string(raw), "Fn::ImportValue") {
		t.Errorf("%s: template uses Fn::ImportValue; stacks must share values through SSM parameters only", name)
	}
}

// TestBadConfigCreatesNoStack checks that a problem found only by a
// construct's own validation (here the admin role's trust-policy size)
// still stops Build before any stack exists, with the config path.
func TestBadConfigCreatesNoStack(t *testing.T) {
	cfg := loadExample(t)
	for i := range 80 {
		cfg.Account.Administrators = append(cfg.Account.Administrators, strings.Repeat("x", 20)+string(rune('a'+i%26))+strings.Repeat("y", i/26+1)+"@example.com")
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("the config itself must be valid for this test: %v", err)
	}
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
	_, err := assemble.Build(app, cfg)
	if err == nil || !strings.HasPrefix(err.Error(), "account: administrators: ") || !strings.Contains(err.Error(), "trust policy of about") {
		t.Fatalf("want the account trust-policy error with its config path, got %v", err)
	}
	if n := len(*app.Node().Children()); n != 0 {
		t.Errorf("a failed build created %d constructs", n)
	}
}

// TestInvalidConfigCreatesNoStack checks that Build re-validates the config
// and creates nothing when it is invalid.
func TestInvalidConfigCreatesNoStack(t *testing.T) {
	cfg := loadExample(t)
	cfg.Apps[1].Cluster = "nope"
	cfg.Clusters[0].CIDR = "10.100.0.0/8"
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
	_, err := assemble.Build(app, cfg)
	var errs config.Errors
	if !errors.As(err, &errs) || len(errs) != 2 {
		t.Fatalf("want 2 config errors, got %v", err)
	}
	if errs[0].Path != "clusters[0].cidr" || errs[1].Path != "apps[1].cluster" {
		t.Errorf("error paths %s, %s; want clusters[0].cidr, apps[1].cluster", errs[0].Path, errs[1].Path)
	}
	if n := len(*app.Node().Children()); n != 0 {
		t.Errorf("a failed build created %d constructs", n)
	}
}

func readManifest(t *testing.T, dir string) cloudManifest {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatalf("read manifest: %v", err)
	}
	var m cloudManifest
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("parse manifest: %v", err)
	}
	return m
}
