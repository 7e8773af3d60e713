package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	controlplanestack "github.com/wharf-paas/wharf/constructs/controlplane"
	"github.com/wharf-paas/wharf/internal/cdktest"
)

func TestMain(m *testing.M) { cdktest.Main(m) }

const exampleFile = "controlplane.example.yaml"

func TestConfigPathPrecedence(t *testing.T) {
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == ConfigEnv {
				return v
			}
			return ""
		}
	}
	for _, tc := range []struct {
		args []string
		env  string
		want string
	}{
		{nil, "", DefaultConfigPath},
		{nil, "from-env.yaml", "from-env.yaml"},
		{[]string{"-config", "flag.yaml"}, "from-env.yaml", "flag.yaml"},
		{[]string{"--config=flag.yaml"}, "", "flag.yaml"},
	} {
		got, err := ConfigPath(tc.args, env(tc.env), &bytes.Buffer{})
		if err != nil || got != tc.want {
			t.Errorf("ConfigPath(%q, env %q) = %q, %v; want %q", tc.args, tc.env, got, err, tc.want)
		}
	}
	if _, err := ConfigPath([]string{"-bogus"}, env(""), &bytes.Buffer{}); err == nil {
		t.Error("unknown flag accepted")
	}
	if _, err := ConfigPath([]string{"extra"}, env(""), &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "unexpected") {
		t.Errorf("stray argument: %v", err)
	}
}

func TestExampleConfigParsesWithConventionalRoles(t *testing.T) {
	cfg, err := LoadConfig(exampleFile)
	if err != nil {
		t.Fatalf("example config: %v", err)
	}
	if cfg.Prefix != "wharf" || cfg.Account != "999988887777" || cfg.Region != "eu-west-1" {
		t.Errorf("example config = %+v", cfg)
	}
	reg := cfg.Registry()
	if len(reg.Accounts) != 2 || len(reg.Apps) != 3 {
		t.Fatalf("example registry: %+v", reg)
	}
	if got := reg.Accounts[0].ObserverRoleARN; got != "arn:aws:iam::111122223333:role/wharf-account-observer" {
		t.Errorf("default observer role = %s", got)
	}
	if got := reg.Apps[1].ManagementRoleARN; got != "arn:aws:iam::111122223333:role/wharf-app-worker-jobs-management" {
		t.Errorf("default management role = %s", got)
	}
}

func TestDefaultConfigPathIsTheExample(t *testing.T) {
	// DefaultConfigPath is relative to the repository root, where the CDK
	// CLI runs the app.
	if _, err := os.Stat(filepath.Join("..", "..", DefaultConfigPath)); err != nil {
		t.Errorf("default config path: %v", err)
	}
}

func TestPartitionDefaults(t *testing.T) {
	cfg, err := ParseConfig([]byte(`
account: "999988887777"
region: cn-north-1
accounts: [{accountId: "111122223333", externalId: abc123}]
apps: [{name: api, accountId: "111122223333", region: cn-north-1, externalId: def456}]
`))
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Registry().Apps[0].ManagementRoleARN; got != "arn:aws-cn:iam::111122223333:role/wharf-app-api-management" {
		t.Errorf("China management role = %s", got)
	}
}

const validConfig = `
prefix: wharf
account: "999988887777"
region: eu-west-1
accounts:
  - accountId: "111122223333"
    externalId: ext-1
apps:
  - name: api
    accountId: "111122223333"
    region: eu-west-1
    externalId: ext-api
`

func TestBadConfigNamesTheField(t *testing.T) {
	for name, tc := range map[string]struct{ old, new, want string }{
		"unknown key":         {"prefix: wharf", "prefix: wharf\nprefx: x", "field prefx not found"},
		"account":             {`account: "999988887777"`, `account: "9999"`, `account: "9999" must be the control plane's 12-digit account ID`},
		"region":              {"region: eu-west-1\naccounts", "region: Ireland\naccounts", `region: "Ireland" is not a region name`},
		"prefix":              {"prefix: wharf", "prefix: Wharf", `prefix: "Wharf" must be a lowercase letter`},
		"sweep not duration":  {"prefix: wharf", "prefix: wharf\nsweepInterval: often", `sweepInterval: "often" is not a duration`},
		"sweep seconds":       {"prefix: wharf", "prefix: wharf\nsweepInterval: 90s", "sweepInterval: 90s must be a whole number of minutes"},
		"retries":             {"prefix: wharf", "prefix: wharf\nretryAttempts: 186", "retryAttempts: 186 must be from 0 to 185"},
		"max age":             {"prefix: wharf", "prefix: wharf\nmaxEventAge: 7h", "maxEventAge: 7h must be whole seconds from 1m to 6h"},
		"timeout":             {"prefix: wharf", "prefix: wharf\ntimeout: 20m", "timeout: 20m must be whole seconds from 1s to 15m"},
		"concurrency":         {"prefix: wharf", "prefix: wharf\nreservedConcurrency: 0", "reservedConcurrency: 0 must be at least 1"},
		"retention":           {"prefix: wharf", "prefix: wharf\nlogRetentionDays: 10", "logRetentionDays: 10 is not a CloudWatch Logs retention"},
		"topic":               {"prefix: wharf", "prefix: wharf\nalarmTopicArn: ops", `alarmTopicArn: "ops" is not an SNS topic ARN`},
		"removal":             {"prefix: wharf", "prefix: wharf\ntableRemovalPolicy: snapshot", `tableRemovalPolicy: "snapshot" must be retain or destroy`},
		"account id":          {`- accountId: "111122223333"`, `- accountId: "11112222333x"`, `accounts[0].accountId: "11112222333x" must be a 12-digit AWS account ID`},
		"external id missing": {"    externalId: ext-1\n", "", "accounts[0].externalId: must not be empty"},
		"app account":         {`  - name: api` + "\n" + `    accountId: "111122223333"`, `  - name: api` + "\n" + `    accountId: "555566667777"`, "apps[0].accountId: 555566667777 is not a registered account"},
		"app name":            {"name: api", "name: API", `apps[0].name: "API" must be lowercase letters, digits and single hyphens`},
		"app region":          {"    region: eu-west-1\n    externalId: ext-api", "    region: moon\n    externalId: ext-api", `apps[0].region: "moon"`},
		"role by hand": {"    externalId: ext-api", "    externalId: ext-api\n    managementRoleArn: arn:aws:iam::111122223333:role/deployer",
			`apps[0].managementRoleArn: "arn:aws:iam::111122223333:role/deployer" must be arn:aws:iam::111122223333:role/wharf-app-api-management`},
	} {
		t.Run(name, func(t *testing.T) {
			doc := strings.Replace(validConfig, tc.old, tc.new, 1)
			if doc == validConfig {
				t.Fatalf("edit %q not applied", tc.old)
			}
			_, err := ParseConfig([]byte(doc))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ParseConfig() = %v, want it to contain %q", err, tc.want)
			}
		})
	}
	if _, err := ParseConfig([]byte(validConfig)); err != nil {
		t.Errorf("valid config rejected: %v", err)
	}
	if _, err := LoadConfig("does-not-exist.yaml"); err == nil || !strings.Contains(err.Error(), "does-not-exist.yaml") {
		t.Errorf("missing file: %v", err)
	}
}

func TestBuildRejectsInvalidConfig(t *testing.T) {
	cfg := &Config{Prefix: "wharf", Account: "1", Region: "eu-west-1"}
	_, _, err := Build(awscdk.NewApp(nil), cfg)
	if err == nil || !strings.Contains(err.Error(), "account:") || !strings.Contains(err.Error(), "accounts: at least one") {
		t.Errorf("Build() = %v", err)
	}
}

// The example config synthesizes the stack <prefix>-controlplane, nag-clean,
// with the registry in the Lambda and every setting applied.
func TestBuildExample(t *testing.T) {
	cfg, err := LoadConfig(exampleFile)
	if err != nil {
		t.Fatal(err)
	}
	cfg.AlarmTopicArn = "arn:aws:sns:eu-west-1:999988887777:wharf-alarms"
	cfg.SweepInterval = "3m"
	cfg.Timeout = "90s"
	app := cdktest.NewApp(t)
	stack, cp, err := Build(app, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if *stack.StackName() != "wharf-controlplane" || *stack.Account() != "999988887777" || *stack.Region() != "eu-west-1" {
		t.Errorf("stack %s in %s/%s", *stack.StackName(), *stack.Account(), *stack.Region())
	}
	tpl := cdktest.Template(t, stack)
	cdktest.AssertNagClean(t, stack)
	cdktest.Check(t, func() {
		tpl.HasResourceProperties(jsii.String("AWS::Events::EventBus"), map[string]any{"Name": "wharf-controlplane"})
	})
	cdktest.Check(t, func() {
		tpl.HasResourceProperties(jsii.String("AWS::Events::Rule"), map[string]any{"ScheduleExpression": "rate(3 minutes)"})
	})
	cdktest.Check(t, func() {
		tpl.HasResourceProperties(jsii.String("AWS::Lambda::Function"), map[string]any{
			"Timeout": 90,
			"Environment": map[string]any{"Variables": assertions.Match_ObjectLike(&map[string]any{
				"WHARF_PREFIX":        "wharf",
				"WHARF_REGISTRY_FILE": controlplanestack.RegistryFilePath,
			})},
		})
	})
	cdktest.Check(t, func() {
		tpl.ResourcePropertiesCountIs(jsii.String("AWS::CloudWatch::Alarm"), map[string]any{
			"AlarmActions": []any{"arn:aws:sns:eu-west-1:999988887777:wharf-alarms"},
		}, jsii.Number(3))
	})
	var reg controlplanestack.Registry
	if err := json.Unmarshal([]byte(cp.RegistryJSON), &reg); err != nil {
		t.Fatal(err)
	}
	if len(reg.Accounts) != 2 || len(reg.Apps) != 3 || reg.Prefix != "wharf" {
		t.Errorf("registry in the Lambda: %+v", reg)
	}
	for _, o := range []string{"EventBusArn", "TableName", "FunctionName", "DeadLetterQueueUrl", "RoleArn"} {
		cdktest.Check(t, func() { tpl.HasOutput(jsii.String(o), map[string]any{}) })
	}
}

// run is main without the exit: it reads the config named by the flag,
// applies cdk-nag and writes the cloud assembly to $CDK_OUTDIR (set by the
// CDK CLI, here a temporary folder).
func TestRunWritesTheAssembly(t *testing.T) {
	out := t.TempDir()
	getenv := func(k string) string {
		if k == "CDK_OUTDIR" {
			return out
		}
		return ""
	}
	cdktest.Check(t, func() {
		if err := run([]string{"-config", exampleFile}, getenv); err != nil {
			t.Fatalf("run: %v", err)
		}
	})
	b, err := os.ReadFile(filepath.Join(out, "wharf-controlplane.template.json"))
	if err != nil {
		t.Fatalf("no template written: %v", err)
	}
	var tpl struct {
		Resources map[string]struct{ Type string }
	}
	if err := json.Unmarshal(b, &tpl); err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, r := range tpl.Resources {
		counts[r.Type]++
	}
	if counts["AWS::Events::EventBus"] != 1 || counts["AWS::Lambda::Function"] != 1 || counts["AWS::DynamoDB::Table"] != 1 {
		t.Errorf("assembly resources: %v", counts)
	}

	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte(strings.Replace(validConfig, `account: "999988887777"`, `account: "x"`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := run(nil, func(k string) string {
		if k == ConfigEnv {
			return bad
		}
		return ""
	}); err == nil || !strings.Contains(err.Error(), `account: "x"`) || !strings.Contains(err.Error(), bad) {
		t.Errorf("run with a bad config: %v", err)
	}
}
