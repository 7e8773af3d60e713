package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

const examplePath = "../platform/wharf.example.yaml"

// minimal is the smallest valid config; each rule test edits one field.
const minimal = `
accountId: "111122223333"
region: eu-west-1
account:
  oidcIssuerUrl: https://login.example.com
  oidcClientIds: [wharf]
  administrators: [alice@example.com]
  observerExternalId: observer-123
clusters:
  - name: main
    domain: apps.example.com
    hostedZone: {id: Z0123456789ABC, name: example.com}
databases:
  - {name: main, cluster: main}
apps:
  - name: api
    cluster: main
    repository: {url: "https://github.com/example/api.git"}
    managementExternalId: api-123
`

func parseMinimal(t *testing.T, edit func(m map[string]any)) error {
	t.Helper()
	var m map[string]any
	if err := yaml.Unmarshal([]byte(minimal), &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	data, err := yaml.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Parse(data, false)
	return err
}

func at(m map[string]any, path ...any) map[string]any {
	var cur any = m
	for _, p := range path {
		switch k := p.(type) {
		case string:
			cur = cur.(map[string]any)[k]
		case int:
			cur = cur.([]any)[k]
		}
	}
	return cur.(map[string]any)
}

// wantError asserts that err holds exactly one FieldError at path whose
// message contains every fragment.
func wantError(t *testing.T, err error, path string, fragments ...string) {
	t.Helper()
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("want config.Errors with %s, got %v", path, err)
	}
	var hits []FieldError
	for _, fe := range errs {
		if fe.Path == path {
			hits = append(hits, fe)
		}
	}
	if len(hits) != 1 {
		t.Fatalf("want one error at %s, got %d in:\n%v", path, len(hits), err)
	}
	for _, f := range fragments {
		if !strings.Contains(hits[0].Error(), f) {
			t.Errorf("error %q does not contain %q", hits[0].Error(), f)
		}
	}
	if len(errs) != 1 {
		t.Errorf("want only the error at %s, got:\n%v", path, err)
	}
}

func TestExampleIsValid(t *testing.T) {
	p, err := Load(examplePath)
	if err != nil {
		t.Fatalf("example config: %v", err)
	}
	if len(p.Apps) != 2 || len(p.Databases) != 1 || len(p.Clusters) != 1 {
		t.Errorf("example has %d apps, %d databases, %d clusters; want 2, 1, 1", len(p.Apps), len(p.Databases), len(p.Clusters))
	}
	if !*p.ControlPlane.Deploy {
		t.Error("example must deploy the control plane so make synth shows the whole system")
	}
}

func TestMinimalDefaults(t *testing.T) {
	p, err := Parse([]byte(minimal), false)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"prefix", p.Prefix, "wharf"},
		{"availabilityZones", p.AvailabilityZones, []string{"eu-west-1a", "eu-west-1b", "eu-west-1c"}},
		{"controlPlane.accountId", p.ControlPlane.AccountID, "111122223333"},
		{"controlPlane.region", p.ControlPlane.Region, "eu-west-1"},
		{"controlPlane.eventBusArn", p.ControlPlane.EventBusArn, "arn:aws:events:eu-west-1:111122223333:event-bus/wharf-controlplane"},
		{"controlPlane.deploy", *p.ControlPlane.Deploy, true},
		{"account.cdkBootstrapQualifier", p.Account.CdkBootstrapQualifier, "hnb659fds"},
		{"clusters[0].cidr", p.Clusters[0].CIDR, "10.100.0.0/16"},
		{"clusters[0].ec2", p.Clusters[0].EC2, (*EC2Capacity)(nil)},
		{"apps[0].repository.type", p.Apps[0].Repository.Type, "github"},
		{"apps[0].branch", p.Apps[0].Branch, "main"},
		{"apps[0].webhook", *p.Apps[0].Webhook, true},
		{"apps[0].healthCheck", p.Apps[0].HealthCheck, HealthCheck{Path: "/", HealthyThreshold: 2, UnhealthyThreshold: 3, IntervalSeconds: 5, TimeoutSeconds: 4}},
		{"apps[0].containerPort", p.Apps[0].ContainerPort, 8080},
		{"apps[0].priority", p.Apps[0].Priority, (*int)(nil)},
		{"apps[0].imagesToKeep", p.Apps[0].ImagesToKeep, 30},
		{"apps[0].artifactRetentionDays", p.Apps[0].ArtifactRetentionDays, 90},
		{"apps[0].keepDatabaseOnDelete", *p.Apps[0].KeepDatabaseOnDelete, true},
		{"clusters[0].flowLogRetentionDays", p.Clusters[0].FlowLogRetentionDays, 30},
		{"clusters[0].accessLogRetentionDays", p.Clusters[0].AccessLogRetentionDays, 90},
		{"databases[0].backupRetentionDays", p.Databases[0].BackupRetentionDays, 7},
		{"databases[0].logRetentionDays", p.Databases[0].LogRetentionDays, 30},
		{"databases[0].deletionProtection", *p.Databases[0].DeletionProtection, true},
		{"apps[0].deregistrationDelaySeconds", *p.Apps[0].DeregistrationDelaySeconds, 15},
		{"apps[0].logRetentionDays", p.Apps[0].LogRetentionDays, 30},
		{"apps[0].launchType", p.Apps[0].LaunchType, "fargate"},
		{"databases[0].engineVersion", p.Databases[0].EngineVersion, "16.6"},
		{"databases[0].instanceClass", p.Databases[0].InstanceClass, "db.t4g.medium"},
		{"databases[0].multiAz", p.Databases[0].MultiAZ, false},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %#v, want %#v", c.name, c.got, c.want)
		}
	}
}

func TestRedisDefaults(t *testing.T) {
	p, err := Parse([]byte(minimal+`
redis:
  - {name: cache, cluster: main}
  - {name: oss, cluster: main, engine: redis, multiAz: true, snapshotRetentionDays: 0}
`), false)
	if err != nil {
		t.Fatal(err)
	}
	if r := p.Redis[0]; r.Engine != "valkey" || r.EngineVersion != "8.0" || r.NodeType != "cache.t4g.micro" || r.MultiAZ || deref(r.SnapshotRetentionDays) != 1 {
		t.Errorf("valkey defaults %+v", r)
	}
	if r := p.Redis[1]; r.Engine != "redis" || r.EngineVersion != "7.1" || !r.MultiAZ || r.SnapshotRetentionDays == nil || *r.SnapshotRetentionDays != 0 {
		t.Errorf("redis OSS defaults %+v", r)
	}
}

func TestTimeoutDefaultFollowsInterval(t *testing.T) {
	p, err := Parse([]byte(strings.Replace(minimal, "managementExternalId: api-123", "managementExternalId: api-123\n    healthCheck: {intervalSeconds: 30}", 1)), false)
	if err != nil {
		t.Fatal(err)
	}
	if hc := p.Apps[0].HealthCheck; hc.IntervalSeconds != 30 || hc.TimeoutSeconds != 4 {
		t.Errorf("health check %+v, want interval 30 and the default timeout 4", hc)
	}
}

func TestOtherControlPlaneAccountIsNotDeployed(t *testing.T) {
	p, err := Parse([]byte(minimal+"controlPlane: {accountId: \"444455556666\"}\n"), false)
	if err != nil {
		t.Fatal(err)
	}
	if *p.ControlPlane.Deploy {
		t.Error("a control plane in another account must not be deployed by default")
	}
	if want := "arn:aws:events:eu-west-1:444455556666:event-bus/wharf-controlplane"; p.ControlPlane.EventBusArn != want {
		t.Errorf("eventBusArn = %s, want %s", p.ControlPlane.EventBusArn, want)
	}
}

func TestEC2Defaults(t *testing.T) {
	err := parseMinimal(t, func(m map[string]any) {
		at(m, "clusters", 0)["ec2"] = map[string]any{"minCapacity": 5}
	})
	if err != nil {
		t.Fatalf("maxCapacity must default to minCapacity when that is larger: %v", err)
	}
	var m map[string]any
	_ = yaml.Unmarshal([]byte(minimal), &m)
	at(m, "clusters", 0)["ec2"] = map[string]any{}
	data, _ := yaml.Marshal(m)
	p, err := Parse(data, false)
	if err != nil {
		t.Fatal(err)
	}
	if e := p.Clusters[0].EC2; e.InstanceType != "t4g.medium" || *e.MinCapacity != 1 || *e.MaxCapacity != 3 {
		t.Errorf("ec2 defaults = %s %d %d, want t4g.medium 1 3", e.InstanceType, *e.MinCapacity, *e.MaxCapacity)
	}
}

func TestJSONEquivalentToYAML(t *testing.T) {
	y, err := Load(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	var generic any
	data, _ := os.ReadFile(examplePath)
	if err := yaml.Unmarshal(data, &generic); err != nil {
		t.Fatal(err)
	}
	js, err := jsonMarshal(generic)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "wharf.json")
	if err := os.WriteFile(path, js, 0o644); err != nil {
		t.Fatal(err)
	}
	j, err := Load(path)
	if err != nil {
		t.Fatalf("JSON form of the example: %v", err)
	}
	if !reflect.DeepEqual(y, j) {
		t.Errorf("JSON and YAML forms differ:\n%+v\n%+v", y, j)
	}
}

func TestAllErrorsReportedAtOnce(t *testing.T) {
	err := parseMinimal(t, func(m map[string]any) {
		m["prefix"] = "Bad"
		at(m, "clusters", 0)["cidr"] = "10.0.0.0/8"
		at(m, "apps", 0)["name"] = "Api"
	})
	var errs Errors
	if !errors.As(err, &errs) || len(errs) != 3 {
		t.Fatalf("want 3 errors, got %v", err)
	}
	for i, p := range []string{"prefix", "clusters[0].cidr", "apps[0].name"} {
		if errs[i].Path != p {
			t.Errorf("error %d at %s, want %s", i, errs[i].Path, p)
		}
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"))
	if err == nil || !strings.Contains(err.Error(), "read platform config") {
		t.Errorf("want a read error, got %v", err)
	}
}
