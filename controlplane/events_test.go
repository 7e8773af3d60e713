package controlplane

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/wharf-paas/wharf/contract"
)

// samplesDir holds the real EventBridge samples AWS publishes (see its
// sources.md), relative to this package's directory.
const samplesDir = "testdata/events"

func loadSample(t *testing.T, name string) events.CloudWatchEvent {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(samplesDir, name))
	if err != nil {
		t.Fatalf("sample %s: %v (the samples must be present)", name, err)
	}
	var ev events.CloudWatchEvent
	if err := json.Unmarshal(data, &ev); err != nil {
		t.Fatalf("sample %s: %v", name, err)
	}
	return ev
}

// sampleRegistry registers the samples' accounts: in 123456789012 the
// CodeBuild project my-sample-project is app "sample-project" under prefix
// "my"; in 111122223333 the ECS service "servicetest" and the task of
// family sample-fargate carry the tag wharf:app=api (names that do not
// follow the conventions, so the observer role resolves them).
func sampleHarness(t *testing.T) (*ControlPlane, *twProvider) {
	t.Helper()
	reg := contract.Registry{Prefix: "my",
		Accounts: []contract.AccountRegistration{
			{AccountID: "123456789012", ObserverRoleARN: "arn:aws:iam::123456789012:role/my-account-observer", ExternalID: "xx"},
			{AccountID: "111122223333", ObserverRoleARN: "arn:aws:iam::111122223333:role/my-account-observer", ExternalID: "yy"},
		},
		Apps: []contract.AppRegistration{
			{Name: "sample-project", AccountID: "123456789012", Region: "us-west-2", ManagementRoleARN: "arn:aws:iam::123456789012:role/my-app-sample-project-management", ExternalID: "xx"},
			{Name: "api", AccountID: "111122223333", Region: "us-west-2", ManagementRoleARN: "arn:aws:iam::111122223333:role/my-app-api-management", ExternalID: "yy"},
		},
	}
	w1, w2 := newWorld(), newWorld()
	tag := []ecstypes.Tag{{Key: aws.String(TagApp), Value: aws.String("api")}}
	w2.services["servicetest"] = &ecstypes.Service{ServiceName: aws.String("servicetest"), Status: aws.String("ACTIVE"), Tags: tag}
	for _, arn := range []string{
		"arn:aws:ecs:us-west-2:111122223333:task/FargateCluster/c13b4cb40f1f4fe4a2971f76ae5a47ad",
		"arn:aws:ecs:us-east-1:111122223333:task/b99d40b3-5176-4f71-9a52-9dbd6f1cebef",
	} {
		w2.tasks[arn] = &ecstypes.Task{TaskArn: aws.String(arn), Tags: tag}
	}
	prov := &twProvider{w: map[string]*twWorld{"123456789012": w1, "111122223333": w2}}
	cp, err := New(Options{Registry: reg, Store: NewMemoryStore(), Clients: prov})
	if err != nil {
		t.Fatal(err)
	}
	return cp, prov
}

func TestSamplesDecodedAndRouted(t *testing.T) {
	const buildID = "my-sample-project:8745a7a9-c340-456a-9166-edf953571bEX"
	cases := []struct {
		file     string
		kind     EventKind
		app      string // "" when rejected
		reject   string
		build    int64
		status   string
		observer bool // resolved through the observer role
	}{
		{file: "codebuild-build-phase-change-aws-lambda-go.json", kind: KindBuildPhase, app: "sample-project", build: 55},
		{file: "codebuild-build-phase-change.json", kind: KindBuildPhase, app: "sample-project"},
		{file: "codebuild-build-state-succeeded-aws-lambda-go.json", kind: KindBuildState, app: "sample-project", build: 55, status: "SUCCEEDED"},
		{file: "codebuild-build-state-succeeded.json", kind: KindBuildState, app: "sample-project", status: "SUCCEEDED"},
		{file: "ecs-deployment-state-change-completed.json", kind: KindDeploymentState, app: "api", observer: true},
		{file: "ecs-deployment-state-change-failed.json", kind: KindDeploymentState, app: "api", observer: true},
		{file: "ecs-deployment-state-change-in-progress-rollback.json", kind: KindDeploymentState, app: "api", observer: true},
		{file: "ecs-deployment-state-change-in-progress.json", kind: KindDeploymentState, app: "api", observer: true},
		{file: "ecs-service-action-capacity-provider-steady-state.json", kind: KindServiceAction, app: "api", observer: true},
		{file: "ecs-service-action-service-steady-state.json", kind: KindServiceAction, app: "api", observer: true},
		{file: "ecs-service-action-service-task-start-impaired.json", kind: KindServiceAction, app: "api", observer: true},
		{file: "ecs-service-action-task-placement-failure-cpu.json", kind: KindServiceAction, app: "api", observer: true},
		{file: "ecs-service-action-task-placement-failure-fargate-spot.json", kind: KindServiceAction, app: "api", observer: true},
		{file: "ecs-task-state-change-running.json", kind: KindTaskState, app: "api", observer: true},
		// us-east-1, but the app lives in us-west-2.
		{file: "ecs-task-state-change-container-stopped-exitcode0.json", kind: KindTaskState, reject: RejectWrongRegion, observer: true},
		// Parameter names outside /<prefix>/apps/<app>/.
		{file: "ssm-parameter-store-change-create-exception.json", kind: KindConfigChange, reject: RejectUnresolved},
		{file: "ssm-parameter-store-change-create.json", kind: KindConfigChange, reject: RejectUnresolved},
		{file: "ssm-parameter-store-change-delete.json", kind: KindConfigChange, reject: RejectUnresolved},
		{file: "ssm-parameter-store-change-update.json", kind: KindConfigChange, reject: RejectUnresolved},
	}
	files, _ := filepath.Glob(filepath.Join(samplesDir, "*.json"))
	if len(files) != len(cases) {
		t.Fatalf("%d sample files, %d cases: every sample needs a case", len(files), len(cases))
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			ev := loadSample(t, c.file)
			cp, prov := sampleHarness(t)
			h, rej, detail := cp.route(context.Background(), ev)
			if h.Kind != c.kind || rej != c.reject || (c.reject == "" && h.App != c.app) {
				t.Fatalf("route = kind %s app %q reject %q (%s), want kind %s app %q reject %q", h.Kind, h.App, rej, detail, c.kind, c.app, c.reject)
			}
			if c.kind == KindBuildState || c.kind == KindBuildPhase {
				if h.BuildID != buildID || h.BuildNumber != c.build || h.BuildStatus != c.status {
					t.Errorf("build = %q #%d %q", h.BuildID, h.BuildNumber, h.BuildStatus)
				}
			}
			if (prov.obsCalls > 0) != c.observer {
				t.Errorf("observer calls = %d, want observer=%v", prov.obsCalls, c.observer)
			}
			if prov.appCalls != 0 {
				t.Errorf("routing assumed the management role")
			}
			// Handled end to end: accepted or rejected, never an error.
			if err := cp.Handle(context.Background(), ev); err != nil {
				t.Fatalf("Handle: %v", err)
			}
			stats := cp.Stats()
			if c.reject != "" && stats["rejected:"+c.reject] != 1 {
				t.Errorf("rejection not counted: %v", stats)
			}
			if c.reject == "" && stats[CountAccepted] != 1 {
				t.Errorf("acceptance not counted: %v", stats)
			}
		})
	}
}

func TestUnregisteredAccountsAndAppsCostNoAWSCall(t *testing.T) {
	ev := &twEvents{}
	foreign := ev.build("api", 1, "SUCCEEDED")
	foreign.AccountID = "444455556666"
	otherApp := ev.build("billing", 1, "SUCCEEDED")
	badTask := ev.envelope("aws.ecs", "ECS Task State Change", []string{"arn:aws:ecs:eu-west-1:111122223333:task/x/1"},
		map[string]any{"taskArn": "arn:aws:ecs:eu-west-1:111122223333:task/x/1", "group": "family:wharf-billing_web",
			"taskDefinitionArn": "arn:aws:ecs:eu-west-1:111122223333:task-definition/wharf-billing_web:3"})
	mixed := ev.envelope("aws.ecs", "ECS Task State Change", []string{"arn:aws:ecs:eu-west-1:111122223333:task/x/1"},
		map[string]any{"taskArn": "arn:aws:ecs:eu-west-1:111122223333:task/x/1", "group": "service:wharf-billing_web",
			"taskDefinitionArn": "arn:aws:ecs:eu-west-1:111122223333:task-definition/wharf-api_web:3"})
	otherParam := ev.config("billing", "A")
	foreignParam := ev.config("api", "A")
	foreignParam.AccountID = "444455556666"
	ssmOutside := ev.envelope("aws.ssm", "Parameter Store Change", nil, map[string]any{"name": "/wharf/apps/api", "operation": "Update"})
	// The Account's rule forwards every change under /wharf/, the status
	// document the control plane publishes included: it must not start a
	// reconcile (which would publish again).
	statusParam := ev.envelope("aws.ssm", "Parameter Store Change", []string{"arn:aws:ssm:eu-west-1:111122223333:parameter/wharf/apps/api/status"},
		map[string]any{"name": "/wharf/apps/api/status", "type": "String", "operation": "Update"})
	unsupported := ev.envelope("aws.s3", "Object Created", nil, map[string]any{})
	malformed := ev.envelope("aws.codebuild", "CodeBuild Build State Change", nil, map[string]any{"project-name": "wharf-api"})
	badJSON := ev.build("api", 1, "SUCCEEDED")
	badJSON.Detail = json.RawMessage(`"not an object"`)
	noResources := ev.envelope("aws.ecs", "ECS Deployment State Change", nil, map[string]any{"eventName": "SERVICE_DEPLOYMENT_COMPLETED"})
	wrongRegion := ev.build("api", 1, "SUCCEEDED")
	wrongRegion.Region = "us-east-1"
	foreignProject := ev.envelope("aws.codebuild", "CodeBuild Build State Change", nil,
		map[string]any{"project-name": "wharf-api", "build-id": "arn:aws:codebuild:eu-west-1:111122223333:build/other:1"})
	cases := []struct {
		name   string
		ev     events.CloudWatchEvent
		reject string
	}{
		{"unregistered account", foreign, RejectUnregisteredAccount},
		{"unregistered app", otherApp, RejectUnregisteredApp},
		{"task of unregistered app", badTask, RejectUnregisteredApp},
		{"task naming two apps", mixed, RejectMalformed},
		{"parameter of unregistered app", otherParam, RejectUnregisteredApp},
		{"parameter from unregistered account", foreignParam, RejectUnregisteredAccount},
		{"parameter outside an app", ssmOutside, RejectUnresolved},
		{"the app's published status", statusParam, RejectUnresolved},
		{"unsupported source", unsupported, RejectUnsupported},
		{"codebuild without build-id", malformed, RejectMalformed},
		{"detail not an object", badJSON, RejectMalformed},
		{"deployment without resources", noResources, RejectMalformed},
		{"wrong region", wrongRegion, RejectWrongRegion},
		{"build id of another project", foreignProject, RejectUnresolved},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, nil, nil)
			if err := h.cp.Handle(context.Background(), c.ev); err != nil {
				t.Fatalf("Handle returned %v; a rejection must return nil", err)
			}
			if got := h.cp.Stats()["rejected:"+c.reject]; got != 1 {
				t.Fatalf("stats = %v, want rejected:%s", h.cp.Stats(), c.reject)
			}
			if n := len(h.w.Calls()); n != 0 || h.prov.appCalls != 0 || h.prov.obsCalls != 0 {
				t.Fatalf("rejected event made %d AWS calls (%d role assumptions)", n, h.prov.appCalls+h.prov.obsCalls)
			}
			if !strings.Contains(h.logs.String(), `"reason":"`+c.reject+`"`) {
				t.Errorf("rejection not logged with its reason: %s", h.logs.String())
			}
		})
	}
}

func TestSweepAccountRestriction(t *testing.T) {
	h := newHarness(t, nil, func(o *Options) { o.SweepAccountID = "999999999999" })
	h.deployBuild(1, twMeta("api", 1, "", "web"))
	h.w.resetCalls()
	sw := h.ev.sweep() // from twAccount
	h.handle(sw)
	if h.cp.Stats()["rejected:"+RejectSweepAccount] != 1 || len(h.w.Calls()) != 0 {
		t.Fatalf("sweep from a customer account was not rejected: %v", h.cp.Stats())
	}
	sw = h.ev.sweep()
	sw.AccountID = "999999999999"
	h.handle(sw)
	if h.cp.Stats()[CountSweep] != 1 || len(h.w.Calls("DescribeParameters")) != 1 {
		t.Fatalf("own sweep did not check the idle app's config: %v", h.cp.Stats())
	}
}

func TestParseRegistry(t *testing.T) {
	valid := `{"prefix":"wharf","accounts":[{"accountId":"111122223333","observerRoleArn":"arn:aws:iam::111122223333:role/wharf-account-observer","externalId":"ee"}],
	"apps":[{"name":"api","accountId":"111122223333","region":"eu-west-1","managementRoleArn":"arn:aws:iam::111122223333:role/wharf-app-api-management","externalId":"ff"}]}`
	r, err := contract.ParseRegistry([]byte(valid))
	if err != nil || len(r.Apps) != 1 || r.Prefix != "wharf" {
		t.Fatalf("valid registry: %+v, %v", r, err)
	}
	r, err = contract.ParseRegistry([]byte(`{"accounts":[],"apps":[]}`))
	if err != nil || r.Prefix != contract.DefaultPrefix {
		t.Fatalf("empty registry: %+v, %v", r, err)
	}
	cases := []struct{ doc, field string }{
		{`{"prefix":"Wharf"}`, "prefix"},
		{`{"unknown":1}`, "unknown"},
		{`{"accounts":[{"accountId":"1234","observerRoleArn":"arn:aws:iam::1234:role/x","externalId":"ee"}]}`, "accounts[0].accountId"},
		{`{"accounts":[{"accountId":"111122223333","observerRoleArn":"arn:aws:iam::999999999999:role/x","externalId":"ee"}]}`, "accounts[0].observerRoleArn"},
		{`{"accounts":[{"accountId":"111122223333","observerRoleArn":"arn:aws:iam::111122223333:role/x"}]}`, "accounts[0].externalId"},
		{`{"accounts":[{"accountId":"111122223333","observerRoleArn":"arn:aws:iam::111122223333:role/x","externalId":"ee"},{"accountId":"111122223333","observerRoleArn":"arn:aws:iam::111122223333:role/x","externalId":"ee"}]}`, "accounts[1].accountId"},
		{`{"accounts":[],"apps":[{"name":"api","accountId":"111122223333","region":"eu-west-1","managementRoleArn":"arn:aws:iam::111122223333:role/m","externalId":"ff"}]}`, "apps[0].accountId"},
		{strings.Replace(valid, `"name":"api"`, `"name":"a--b"`, 1), "apps[0].name"},
		{strings.Replace(valid, `"name":"api"`, `"name":"Api"`, 1), "apps[0].name"},
		{strings.Replace(valid, `"region":"eu-west-1"`, `"region":""`, 1), "apps[0].region"},
		{strings.Replace(valid, `role/wharf-app-api-management`, `user/x`, 1), "apps[0].managementRoleArn"},
		{strings.Replace(valid, `"externalId":"ff"`, `"externalId":""`, 1), "apps[0].externalId"},
		{strings.Replace(valid, `}]}`, `},{"name":"api","accountId":"111122223333","region":"eu-west-1","managementRoleArn":"arn:aws:iam::111122223333:role/m","externalId":"ff"}]}`, 1), "apps[1].name"},
	}
	for _, c := range cases {
		_, err := contract.ParseRegistry([]byte(c.doc))
		if err == nil || !strings.Contains(err.Error(), c.field) {
			t.Errorf("ParseRegistry(%s) = %v, want an error naming %s", c.doc, err, c.field)
		}
	}
	if _, err := New(Options{Registry: contract.Registry{Prefix: "BAD"}, Store: NewMemoryStore(), Clients: &twProvider{}}); err == nil {
		t.Errorf("New accepted an invalid registry")
	}
	if _, err := New(Options{Clients: &twProvider{}}); err == nil {
		t.Errorf("New accepted a nil store")
	}
}

func TestParseContracts(t *testing.T) {
	good := `{"version":1,"app":"api","buildNumber":42,"buildId":"wharf-api:x","commit":"c","image":"i",
	"releaseCommand":"bin/migrate","processes":{"web":{"command":"bin/web","cpu":512,"memory":1024,"count":2},"worker":{"command":"bin/worker"}},
	"schedules":[{"name":"nightly","schedule":"cron(0 3 * * ? *)","command":"bin/nightly"}]}`
	m, err := contract.Names{Prefix: "wharf"}.ParseBuildMetadata([]byte(good), "api", 42)
	if err != nil {
		t.Fatal(err)
	}
	if w := m.Processes["worker"]; w.CPU != 256 || w.Memory != 512 || w.DesiredCount() != 1 {
		t.Errorf("defaults not applied: %+v", w)
	}
	if w := m.Processes["web"]; w.CPU != 512 || w.DesiredCount() != 2 {
		t.Errorf("web = %+v", w)
	}
	bad := map[string]string{
		"version":     strings.Replace(good, `"version":1`, `"version":2`, 1),
		"buildNumber": strings.Replace(good, `42`, `41`, 1),
		"image":       strings.Replace(good, `"image":"i"`, `"image":""`, 1),
		"process":     strings.Replace(good, `"worker":{`, `"Worker":{`, 1),
		"command":     strings.Replace(good, `"command":"bin/worker"`, `"command":" "`, 1),
		"schedule":    strings.Replace(good, `cron(0 3 * * ? *)`, `0 3 * * *`, 1),
		"name":        strings.Replace(good, `"name":"nightly"`, `"name":"Nightly"`, 1),
	}
	wharf := contract.Names{Prefix: "wharf"}
	for field, doc := range bad {
		if _, err := wharf.ParseBuildMetadata([]byte(doc), "api", 42); err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("%s: err = %v", field, err)
		}
	}
	w := newWorld()
	w.putSettings("api", nil)
	raw := aws.ToString(w.params["/wharf/apps/api/settings"].Value)
	if _, err := contract.ParseSettings([]byte(raw), "wharf", "api"); err != nil {
		t.Fatalf("settings: %v", err)
	}
	for field, mut := range map[string]func(*contract.Settings){
		"launchType":    func(s *contract.Settings) { s.LaunchType = "LAMBDA" },
		"subnets":       func(s *contract.Settings) { s.Subnets = nil },
		"configPrefix":  func(s *contract.Settings) { s.ConfigPrefix = "/other/" },
		"app":           func(s *contract.Settings) { s.App = "web" },
		"containerPort": func(s *contract.Settings) { s.ContainerPort = 0 },
	} {
		w.putSettings("api", mut)
		raw := aws.ToString(w.params["/wharf/apps/api/settings"].Value)
		if _, err := contract.ParseSettings([]byte(raw), "wharf", "api"); err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("%s: err = %v", field, err)
		}
	}
}

func TestDecodeHelpers(t *testing.T) {
	if a, p, ok := splitFamily("wharf-api-v2_web", "wharf"); !ok || a != "api-v2" || p != "web" {
		t.Errorf("splitFamily = %s %s %v", a, p, ok)
	}
	for _, bad := range []string{"wharf-api", "other-api_web", "wharf-api_Web", "wharf-a_web", "wharf-api_"} {
		if _, _, ok := splitFamily(bad, "wharf"); ok {
			t.Errorf("splitFamily(%s) accepted", bad)
		}
	}
	if c, s, ok := parseServiceARN("arn:aws:ecs:us-west-2:111122223333:service/default/servicetest"); !ok || c != "default" || s != "servicetest" {
		t.Errorf("parseServiceARN = %s %s %v", c, s, ok)
	}
	if _, s, ok := parseServiceARN("arn:aws:ecs:us-west-2:111122223333:service/old"); !ok || s != "old" {
		t.Errorf("old-format service ARN not parsed")
	}
	if got := buildIDFromARN("arn:aws:codebuild:r:1:build/p:u"); got != "p:u" {
		t.Errorf("buildIDFromARN = %s", got)
	}
	if ConfigVersion(map[string]int64{"a": 1, "b": 2}) == ConfigVersion(map[string]int64{"a": 1, "b": 3}) {
		t.Errorf("config version ignores versions")
	}
}

// TestDocsListEveryReason keeps docs/controlplane.md in step with the
// failure reasons and rejection reasons in code.
func TestDocsListEveryReason(t *testing.T) {
	doc, err := os.ReadFile("../docs/controlplane.md")
	if err != nil {
		t.Fatal(err)
	}
	if len(Reasons) != 22 {
		t.Errorf("Reasons lists %d reasons; update the list", len(Reasons))
	}
	for _, r := range Reasons {
		if !strings.Contains(string(doc), "`"+string(r)+"`") {
			t.Errorf("docs/controlplane.md does not list reason %s", r)
		}
	}
	for _, r := range []string{RejectUnsupported, RejectMalformed, RejectUnregisteredAccount, RejectUnregisteredApp,
		RejectUnresolved, RejectWrongRegion, RejectSweepAccount} {
		if !strings.Contains(string(doc), "`"+r+"`") {
			t.Errorf("docs/controlplane.md does not list rejection %s", r)
		}
	}
}
