package controlplanestack_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/jsii-runtime-go"

	cps "github.com/wharf-paas/wharf/constructs/controlplane"
	"github.com/wharf-paas/wharf/contract"
	"github.com/wharf-paas/wharf/controlplane"
	"github.com/wharf-paas/wharf/internal/cdktest"
)

func TestMain(m *testing.M) { cdktest.Main(m) }

const cpAccount = "999988887777"

func testRegistry() *cps.Registry {
	return &cps.Registry{
		// Deliberately out of order: the template must sort them.
		Accounts: []cps.AccountRegistration{
			{AccountID: "222233334444", ObserverRoleARN: "arn:aws:iam::222233334444:role/wharf-account-observer", ExternalID: "ext-observer-2"},
			{AccountID: "111122223333", ObserverRoleARN: "arn:aws:iam::111122223333:role/wharf-account-observer", ExternalID: "ext-observer-1"},
		},
		Apps: []cps.AppRegistration{
			{Name: "web", AccountID: "222233334444", Region: "us-east-1", ManagementRoleARN: "arn:aws:iam::222233334444:role/wharf-app-web-management", ExternalID: "ext-web"},
			{Name: "api", AccountID: "111122223333", Region: "eu-west-1", ManagementRoleARN: "arn:aws:iam::111122223333:role/wharf-app-api-management", ExternalID: "ext-api"},
		},
	}
}

// synthesized is one stack synthesized once and asserted on by many tests.
type synthesized struct {
	stack awscdk.Stack
	cp    *cps.ControlPlane
	tpl   assertions.Template
	ann   assertions.Annotations
	raw   map[string]any // the template as plain JSON
	// layer is the registry layer's asset as staged in the cloud assembly.
	layer stagedAsset
}

// stagedAsset is a folder asset as synthesis staged it in the cloud
// assembly: the files Lambda would extract, by slash-separated path.
type stagedAsset struct {
	s3Key string
	files map[string][]byte
	modes map[string]os.FileMode // files and folders
}

var defaultStack, customStack *synthesized

func newStack(t *testing.T, props *cps.ControlPlaneProps, withTopic bool) *synthesized {
	t.Helper()
	app := cdktest.NewApp(t)
	stack := awscdk.NewStack(app, jsii.String("wharf-controlplane"), &awscdk.StackProps{
		Env: &awscdk.Environment{Account: jsii.String(cpAccount), Region: jsii.String("eu-west-1")},
	})
	if withTopic {
		props.AlarmTopic = awssns.Topic_FromTopicArn(stack, jsii.String("Alarms"), jsii.String("arn:aws:sns:eu-west-1:"+cpAccount+":ops"))
	}
	var cp *cps.ControlPlane
	cdktest.Check(t, func() { cp = cps.NewControlPlane(stack, "ControlPlane", props) })
	if cp == nil {
		t.Fatal("NewControlPlane failed")
	}
	tpl := cdktest.Template(t, stack)
	if tpl == nil {
		t.Fatal("synthesis failed")
	}
	b, err := json.Marshal(tpl.ToJSON())
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	// Both synthesize now, while the creating test's output folder exists;
	// later tests use the in-memory results.
	var ann assertions.Annotations
	cdktest.Check(t, func() { ann = assertions.Annotations_FromStack(stack) })
	s := &synthesized{stack: stack, cp: cp, tpl: tpl, ann: ann, raw: raw}
	s.layer = s.stagedLayer(t, *app.Outdir())
	return s
}

// stagedLayer reads the registry layer's asset from the cloud assembly in
// outdir: the layer's Content.S3Key is <asset hash>.zip, and synthesis
// stages a folder asset as the folder asset.<asset hash>.
func (s *synthesized) stagedLayer(t *testing.T, outdir string) stagedAsset {
	t.Helper()
	_, layer := s.only(t, "AWS::Lambda::LayerVersion")
	key, _ := props(layer)["Content"].(map[string]any)["S3Key"].(string)
	m := regexp.MustCompile(`^([0-9a-f]{64})\.zip$`).FindStringSubmatch(key)
	if m == nil {
		t.Fatalf("layer content is not a folder asset: %v", props(layer)["Content"])
	}
	dir := filepath.Join(outdir, "asset."+m[1])
	a := stagedAsset{s3Key: key, files: map[string][]byte{}, modes: map[string]os.FileMode{}}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		info, err := d.Info()
		if err != nil {
			return err
		}
		a.modes[filepath.ToSlash(rel)] = info.Mode()
		if d.Type().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			a.files[filepath.ToSlash(rel)] = b
		}
		return nil
	})
	if err != nil {
		t.Fatalf("staged registry layer: %v", err)
	}
	return a
}

func defaults(t *testing.T) *synthesized {
	t.Helper()
	if defaultStack == nil {
		// Default code: builds lambda/controlplane with lambdabuild.
		defaultStack = newStack(t, &cps.ControlPlaneProps{Registry: testRegistry()}, false)
	}
	return defaultStack
}

func custom(t *testing.T) *synthesized {
	t.Helper()
	if customStack == nil {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "bootstrap"), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		reg := &cps.Registry{
			Prefix: "acme",
			Accounts: []cps.AccountRegistration{
				{AccountID: "111122223333", ObserverRoleARN: "arn:aws:iam::111122223333:role/acme-account-observer", ExternalID: "ext-1"},
			},
		}
		customStack = newStack(t, &cps.ControlPlaneProps{
			Prefix:              jsii.String("acme"),
			Registry:            reg,
			Code:                awslambda.Code_FromAsset(jsii.String(dir), nil),
			SweepInterval:       awscdk.Duration_Minutes(jsii.Number(5)),
			RetryAttempts:       jsii.Number(3),
			MaxEventAge:         awscdk.Duration_Hours(jsii.Number(2)),
			Timeout:             awscdk.Duration_Seconds(jsii.Number(60)),
			ReservedConcurrency: jsii.Number(5),
			LogRetention:        awslogs.RetentionDays_ONE_WEEK,
			TableRemovalPolicy:  awscdk.RemovalPolicy_DESTROY,
		}, true)
	}
	return customStack
}

// resources returns the resources of type typ, keyed by logical ID.
func (s *synthesized) resources(typ string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for id, r := range s.raw["Resources"].(map[string]any) {
		res := r.(map[string]any)
		if res["Type"] == typ {
			out[id] = res
		}
	}
	return out
}

// only returns the single resource of type typ and its logical ID.
func (s *synthesized) only(t *testing.T, typ string) (string, map[string]any) {
	t.Helper()
	rs := s.resources(typ)
	if len(rs) != 1 {
		t.Fatalf("want exactly one %s, got %d", typ, len(rs))
	}
	for id, r := range rs {
		return id, r
	}
	return "", nil
}

func props(r map[string]any) map[string]any { return r["Properties"].(map[string]any) }

// equalJSON compares got with want after a JSON round trip of want.
func equalJSON(t *testing.T, what string, got, want any) {
	t.Helper()
	b, _ := json.Marshal(want)
	var w any
	_ = json.Unmarshal(b, &w)
	if !reflect.DeepEqual(got, w) {
		g, _ := json.MarshalIndent(got, "", "  ")
		wb, _ := json.MarshalIndent(w, "", "  ")
		t.Errorf("%s:\n got %s\nwant %s", what, g, wb)
	}
}

func partitionARN(rest string) map[string]any {
	return map[string]any{"Fn::Join": []any{"", []any{"arn:", map[string]any{"Ref": "AWS::Partition"}, rest}}}
}

func getAtt(id, attr string) map[string]any {
	return map[string]any{"Fn::GetAtt": []any{id, attr}}
}

func ref(id string) map[string]any { return map[string]any{"Ref": id} }

// Logical IDs of stateful resources are a contract: changing them replaces
// the table (losing deploy history) or the queue (losing dead letters).
func TestLogicalIDsPinned(t *testing.T) {
	s := defaults(t)
	for typ, want := range map[string]string{
		"AWS::DynamoDB::Table":  "ControlPlaneTable1210433C",
		"AWS::SQS::Queue":       "ControlPlaneDeadLetterQueue3DA07214",
		"AWS::Events::EventBus": "ControlPlaneEventBus80672A74",
		"AWS::Logs::LogGroup":   "ControlPlaneLogGroup8A392AC5",
	} {
		if id, _ := s.only(t, typ); id != want {
			t.Errorf("%s logical ID = %s, want %s", typ, id, want)
		}
	}
}

// cdk-nag AwsSolutions: no unsuppressed error or warning (the same checks
// as cdktest.AssertNagClean, on the annotations taken at synthesis).
func TestNagClean(t *testing.T) {
	nag := assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*"))
	for _, s := range []*synthesized{defaults(t), custom(t)} {
		cdktest.Check(t, func() { s.ann.HasNoError(jsii.String("*"), nag) })
		cdktest.Check(t, func() { s.ann.HasNoWarning(jsii.String("*"), nag) })
	}
}

func TestEventBusAndPolicy(t *testing.T) {
	s := defaults(t)
	busID, bus := s.only(t, "AWS::Events::EventBus")
	if got := props(bus)["Name"]; got != "wharf-controlplane" {
		t.Errorf("bus name = %v", got)
	}
	_, pol := s.only(t, "AWS::Events::EventBusPolicy")
	p := props(pol)
	equalJSON(t, "bus policy EventBusName", p["EventBusName"], ref(busID))
	equalJSON(t, "bus policy statement", p["Statement"], map[string]any{
		"Sid":    "cdk-RegisteredAccountsPutEvents",
		"Effect": "Allow",
		"Action": "events:PutEvents",
		"Principal": map[string]any{"AWS": []any{
			partitionARN(":iam::111122223333:root"),
			partitionARN(":iam::222233334444:root"),
		}},
		"Resource": getAtt(busID, "Arn"),
		"Condition": map[string]any{"ForAllValues:StringEquals": map[string]any{
			"events:source": []string{"aws.codebuild", "aws.ecs", "aws.ssm"},
		}},
	})
	// The control plane's own account is not admitted by the policy (it
	// needs no resource policy) and no wildcard principal appears.
	b, _ := json.Marshal(p)
	if strings.Contains(string(b), cpAccount) || strings.Contains(string(b), `"*"`) {
		t.Errorf("bus policy admits more than the registered accounts: %s", b)
	}
}

func TestRuleRoutesForwardedEventsWithRetriesAndDLQ(t *testing.T) {
	s := defaults(t)
	busID, _ := s.only(t, "AWS::Events::EventBus")
	fnID, _ := s.only(t, "AWS::Lambda::Function")
	qID, _ := s.only(t, "AWS::SQS::Queue")
	var found bool
	for id, r := range s.resources("AWS::Events::Rule") {
		p := props(r)
		if p["EventBusName"] == nil {
			continue
		}
		found = true
		equalJSON(t, "rule bus", p["EventBusName"], ref(busID))
		equalJSON(t, "rule pattern", p["EventPattern"], map[string]any{
			"source":  []string{"aws.codebuild", "aws.ecs", "aws.ssm"},
			"account": []string{"111122223333", "222233334444"},
			"detail-type": []string{
				"CodeBuild Build State Change", "CodeBuild Build Phase Change",
				"ECS Task State Change", "ECS Deployment State Change", "ECS Service Action",
				"Parameter Store Change",
			},
		})
		equalJSON(t, "rule targets", p["Targets"], []any{map[string]any{
			"Arn":              getAtt(fnID, "Arn"),
			"Id":               "Target0",
			"DeadLetterConfig": map[string]any{"Arn": getAtt(qID, "Arn")},
			"RetryPolicy":      map[string]any{"MaximumRetryAttempts": 10, "MaximumEventAgeInSeconds": 3600},
		}})
		cdktest.Check(t, func() {
			s.tpl.HasResourceProperties(jsii.String("AWS::Lambda::Permission"), map[string]any{
				"Action": "lambda:InvokeFunction", "Principal": "events.amazonaws.com",
				"FunctionName": getAtt(fnID, "Arn"), "SourceArn": getAtt(id, "Arn"),
			})
		})
	}
	if !found {
		t.Fatal("no rule on the control plane bus")
	}
}

func TestDeadLetterQueue(t *testing.T) {
	s := defaults(t)
	qID, q := s.only(t, "AWS::SQS::Queue")
	equalJSON(t, "queue properties", props(q), map[string]any{"MessageRetentionPeriod": 1209600, "SqsManagedSseEnabled": true})
	var ruleID string
	for id, r := range s.resources("AWS::Events::Rule") {
		if props(r)["EventBusName"] != nil {
			ruleID = id
		}
	}
	_, pol := s.only(t, "AWS::SQS::QueuePolicy")
	stmts := props(pol)["PolicyDocument"].(map[string]any)["Statement"].([]any)
	if len(stmts) != 2 {
		t.Fatalf("queue policy has %d statements, want 2 (deny non-TLS, allow the rule)", len(stmts))
	}
	equalJSON(t, "queue policy TLS statement", stmts[0], map[string]any{
		"Action": "sqs:*", "Effect": "Deny", "Principal": map[string]any{"AWS": "*"},
		"Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}},
		"Resource":  getAtt(qID, "Arn"),
	})
	allow := stmts[1].(map[string]any)
	delete(allow, "Sid")
	equalJSON(t, "queue policy EventBridge statement", allow, map[string]any{
		"Action": "sqs:SendMessage", "Effect": "Allow",
		"Principal": map[string]any{"Service": "events.amazonaws.com"},
		"Condition": map[string]any{"ArnEquals": map[string]any{"aws:SourceArn": getAtt(ruleID, "Arn")}},
		"Resource":  getAtt(qID, "Arn"),
	})
}

func TestTable(t *testing.T) {
	s := defaults(t)
	_, tbl := s.only(t, "AWS::DynamoDB::Table")
	if tbl["DeletionPolicy"] != "Retain" || tbl["UpdateReplacePolicy"] != "Retain" {
		t.Errorf("table policies = %v/%v, want Retain", tbl["DeletionPolicy"], tbl["UpdateReplacePolicy"])
	}
	equalJSON(t, "table properties", props(tbl), map[string]any{
		// The keys and TTL attribute are the store's (controlplane.DynamoStore).
		"AttributeDefinitions": []any{
			map[string]any{"AttributeName": controlplane.DynamoPartitionKey, "AttributeType": "S"},
			map[string]any{"AttributeName": controlplane.DynamoSortKey, "AttributeType": "S"},
		},
		"KeySchema": []any{
			map[string]any{"AttributeName": controlplane.DynamoPartitionKey, "KeyType": "HASH"},
			map[string]any{"AttributeName": controlplane.DynamoSortKey, "KeyType": "RANGE"},
		},
		"BillingMode":                      "PAY_PER_REQUEST",
		"DeletionProtectionEnabled":        true,
		"PointInTimeRecoverySpecification": map[string]any{"PointInTimeRecoveryEnabled": true},
		"SSESpecification":                 map[string]any{"SSEEnabled": true},
		"TimeToLiveSpecification":          map[string]any{"AttributeName": controlplane.DynamoTTLAttribute, "Enabled": true},
	})
	// DESTROY turns deletion protection off, or the stack could not delete it.
	_, ctbl := custom(t).only(t, "AWS::DynamoDB::Table")
	if ctbl["DeletionPolicy"] != "Delete" || props(ctbl)["DeletionProtectionEnabled"] != false {
		t.Errorf("custom table: DeletionPolicy %v, DeletionProtectionEnabled %v; want Delete, false", ctbl["DeletionPolicy"], props(ctbl)["DeletionProtectionEnabled"])
	}
}

func TestFunction(t *testing.T) {
	s := defaults(t)
	tblID, _ := s.only(t, "AWS::DynamoDB::Table")
	roleID, _ := s.only(t, "AWS::IAM::Role")
	lgID, lg := s.only(t, "AWS::Logs::LogGroup")
	fnID, fn := s.only(t, "AWS::Lambda::Function")
	p := props(fn)
	for k, want := range map[string]any{
		"Runtime": "provided.al2023", "Architectures": []string{"arm64"}, "Handler": "bootstrap",
		"Timeout": 120, "MemorySize": 256, "Role": getAtt(roleID, "Arn"),
		"LoggingConfig": map[string]any{"LogFormat": "JSON", "LogGroup": ref(lgID)},
	} {
		equalJSON(t, "function "+k, p[k], want)
	}
	if _, ok := p["ReservedConcurrentExecutions"]; ok {
		t.Errorf("default function reserves concurrency: %v", p["ReservedConcurrentExecutions"])
	}
	vars := p["Environment"].(map[string]any)["Variables"].(map[string]any)
	equalJSON(t, "environment", vars, map[string]any{
		"WHARF_TABLE":         ref(tblID),
		"WHARF_PREFIX":        "wharf",
		"WHARF_REGISTRY_FILE": "/opt/wharf/registry.json",
		// The stack's account, resolved by CloudFormation.
		"WHARF_ACCOUNT_ID": ref("AWS::AccountId"),
	})
	if cps.EnvRegistryFile != "WHARF_REGISTRY_FILE" || cps.RegistryFilePath != "/opt/"+cps.RegistryLayerFile || cps.EnvAccountID != "WHARF_ACCOUNT_ID" {
		t.Errorf("constants: %s=%s, %s", cps.EnvRegistryFile, cps.RegistryFilePath, cps.EnvAccountID)
	}
	// The default code is the real lambda/controlplane build: an asset.
	code := p["Code"].(map[string]any)
	if key, _ := code["S3Key"].(string); !regexp.MustCompile(`^[0-9a-f]{64}\.zip$`).MatchString(key) {
		t.Errorf("default code is not a built asset: %v", code)
	}
	equalJSON(t, "log group", props(lg), map[string]any{"RetentionInDays": 90})
	if lg["DeletionPolicy"] != "Retain" {
		t.Errorf("log group DeletionPolicy = %v", lg["DeletionPolicy"])
	}
	_, eic := s.only(t, "AWS::Lambda::EventInvokeConfig")
	equalJSON(t, "async invoke config", props(eic), map[string]any{
		"FunctionName": ref(fnID), "MaximumEventAgeInSeconds": 3600, "MaximumRetryAttempts": 2, "Qualifier": "$LATEST",
	})
}

func TestSweepSchedule(t *testing.T) {
	s := defaults(t)
	fnID, _ := s.only(t, "AWS::Lambda::Function")
	var sweep map[string]any
	for _, r := range s.resources("AWS::Events::Rule") {
		if props(r)["ScheduleExpression"] != nil {
			sweep = props(r)
		}
	}
	if sweep == nil {
		t.Fatal("no schedule rule")
	}
	if sweep["EventBusName"] != nil {
		t.Errorf("sweep rule must be on the default bus, is on %v", sweep["EventBusName"])
	}
	if sweep["ScheduleExpression"] != "rate(1 minute)" {
		t.Errorf("sweep schedule = %v", sweep["ScheduleExpression"])
	}
	targets := sweep["Targets"].([]any)
	if len(targets) != 1 {
		t.Fatalf("sweep targets = %v", targets)
	}
	tg := targets[0].(map[string]any)
	equalJSON(t, "sweep target arn", tg["Arn"], getAtt(fnID, "Arn"))
	equalJSON(t, "sweep retry policy", tg["RetryPolicy"], map[string]any{"MaximumRetryAttempts": 0, "MaximumEventAgeInSeconds": 60})
	it := tg["InputTransformer"].(map[string]any)
	equalJSON(t, "sweep input paths", it["InputPathsMap"], map[string]string{
		"id": "$.id", "time": "$.time", "account": "$.account", "region": "$.region",
	})
	// Apply the transformer as EventBridge does (a string value replaces an
	// unquoted placeholder as a JSON string) and decode the result as the
	// Lambda will.
	tmpl := it["InputTemplate"].(string)
	for k, v := range map[string]string{"id": "89d1a02d-5ec7-412e-82f5-13505f849b41", "time": "2026-11-25T20:00:00Z", "account": cpAccount, "region": "eu-west-1"} {
		tmpl = strings.ReplaceAll(tmpl, "<"+k+">", fmt.Sprintf("%q", v))
	}
	var ev struct {
		Version    string            `json:"version"`
		ID         string            `json:"id"`
		DetailType string            `json:"detail-type"`
		Source     string            `json:"source"`
		Account    string            `json:"account"`
		Time       string            `json:"time"`
		Region     string            `json:"region"`
		Resources  []string          `json:"resources"`
		Detail     map[string]string `json:"detail"`
	}
	if err := json.Unmarshal([]byte(tmpl), &ev); err != nil {
		t.Fatalf("sweep input %q is not JSON after substitution: %v", tmpl, err)
	}
	if ev.Source != "aws.events" || ev.DetailType != "Scheduled Event" || ev.ID != "89d1a02d-5ec7-412e-82f5-13505f849b41" ||
		ev.Time != "2026-11-25T20:00:00Z" || ev.Account != cpAccount || !reflect.DeepEqual(ev.Detail, map[string]string{"wharf": "sweep"}) {
		t.Errorf("sweep event = %+v", ev)
	}
	if c, _ := custom(t).only(t, "AWS::Lambda::Function"); c == "" {
		t.Fatal("custom stack has no function")
	}
	for _, r := range custom(t).resources("AWS::Events::Rule") {
		if e := props(r)["ScheduleExpression"]; e != nil && e != "rate(5 minutes)" {
			t.Errorf("custom sweep schedule = %v, want rate(5 minutes)", e)
		}
	}
}

func TestAlarms(t *testing.T) {
	s := defaults(t)
	fnID, _ := s.only(t, "AWS::Lambda::Function")
	qID, _ := s.only(t, "AWS::SQS::Queue")
	alarms := s.resources("AWS::CloudWatch::Alarm")
	if len(alarms) != 3 {
		t.Fatalf("want 3 alarms, got %d", len(alarms))
	}
	want := map[string]map[string]any{
		"Errors":                             {"Namespace": "AWS/Lambda", "Statistic": "Sum", "Dimensions": []any{map[string]any{"Name": "FunctionName", "Value": ref(fnID)}}},
		"Throttles":                          {"Namespace": "AWS/Lambda", "Statistic": "Sum", "Dimensions": []any{map[string]any{"Name": "FunctionName", "Value": ref(fnID)}}},
		"ApproximateNumberOfMessagesVisible": {"Namespace": "AWS/SQS", "Statistic": "Maximum", "Dimensions": []any{map[string]any{"Name": "QueueName", "Value": getAtt(qID, "QueueName")}}},
	}
	for _, a := range alarms {
		p := props(a)
		name, _ := p["MetricName"].(string)
		w, ok := want[name]
		if !ok {
			t.Errorf("unexpected alarm on %s", name)
			continue
		}
		delete(want, name)
		for k, v := range map[string]any{"Threshold": 1, "EvaluationPeriods": 1, "Period": 300,
			"ComparisonOperator": "GreaterThanOrEqualToThreshold", "TreatMissingData": "notBreaching"} {
			w[k] = v
		}
		for k, v := range w {
			equalJSON(t, name+" alarm "+k, p[k], v)
		}
		if p["AlarmActions"] != nil || p["OKActions"] != nil {
			t.Errorf("%s alarm has actions without an AlarmTopic", name)
		}
	}
	if len(want) > 0 {
		t.Errorf("missing alarms: %v", want)
	}
	topic := "arn:aws:sns:eu-west-1:" + cpAccount + ":ops"
	calarms := custom(t).resources("AWS::CloudWatch::Alarm")
	if len(calarms) != 3 {
		t.Fatalf("custom: want 3 alarms, got %d", len(calarms))
	}
	for id, a := range calarms {
		equalJSON(t, id+" AlarmActions", props(a)["AlarmActions"], []string{topic})
		equalJSON(t, id+" OKActions", props(a)["OKActions"], []string{topic})
	}
}

// statements returns every statement of every identity policy in the
// template.
func (s *synthesized) statements(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, typ := range []string{"AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"} {
		for _, r := range s.resources(typ) {
			for _, st := range props(r)["PolicyDocument"].(map[string]any)["Statement"].([]any) {
				out = append(out, st.(map[string]any))
			}
		}
	}
	return out
}

func TestIAMExact(t *testing.T) {
	s := defaults(t)
	roleID, role := s.only(t, "AWS::IAM::Role")
	tblID, _ := s.only(t, "AWS::DynamoDB::Table")
	lgID, _ := s.only(t, "AWS::Logs::LogGroup")
	rp := props(role)
	if rp["ManagedPolicyArns"] != nil || rp["Policies"] != nil {
		t.Errorf("role has managed or inline policies besides its default policy: %v", rp)
	}
	equalJSON(t, "role trust", rp["AssumeRolePolicyDocument"], map[string]any{
		"Version": "2012-10-17",
		"Statement": []any{map[string]any{"Action": "sts:AssumeRole", "Effect": "Allow",
			"Principal": map[string]any{"Service": "lambda.amazonaws.com"}}},
	})
	_, pol := s.only(t, "AWS::IAM::Policy")
	equalJSON(t, "policy roles", props(pol)["Roles"], []any{ref(roleID)})
	equalJSON(t, "execution role statements", props(pol)["PolicyDocument"].(map[string]any)["Statement"], []any{
		map[string]any{"Sid": "AssumeWharfRoles", "Effect": "Allow", "Action": "sts:AssumeRole", "Resource": []any{
			partitionARN(":iam::111122223333:role/wharf-app-*-management"),
			partitionARN(":iam::111122223333:role/wharf-account-observer"),
			partitionARN(":iam::222233334444:role/wharf-app-*-management"),
			partitionARN(":iam::222233334444:role/wharf-account-observer"),
		}},
		map[string]any{"Sid": "UseStateTable", "Effect": "Allow", "Action": cps.TableActions, "Resource": getAtt(tblID, "Arn")},
		map[string]any{"Sid": "WriteLogs", "Effect": "Allow", "Action": []string{"logs:CreateLogStream", "logs:PutLogEvents"}, "Resource": getAtt(lgID, "Arn")},
	})
	// Whatever else changes: no wildcard action anywhere, and AssumeRole
	// only on the Wharf role patterns of registered accounts.
	for _, st := range append(s.statements(t), custom(t).statements(t)...) {
		var actions []string
		switch a := st["Action"].(type) {
		case string:
			actions = []string{a}
		case []any:
			for _, x := range a {
				actions = append(actions, x.(string))
			}
		}
		for _, a := range actions {
			if strings.Contains(a, "*") {
				t.Errorf("wildcard action %q in %v", a, st)
			}
			if strings.HasPrefix(a, "sts:") {
				b, _ := json.Marshal(st["Resource"])
				for _, m := range regexp.MustCompile(`:iam::[^"]*`).FindAllString(string(b), -1) {
					if !regexp.MustCompile(`^:iam::(111122223333|222233334444):role/(wharf-app-\*-management|wharf-account-observer|acme-app-\*-management|acme-account-observer)$`).MatchString(m) {
						t.Errorf("sts action on unexpected resource %s", m)
					}
				}
			}
		}
	}
}

func TestCustomProps(t *testing.T) {
	s := custom(t)
	_, fn := s.only(t, "AWS::Lambda::Function")
	p := props(fn)
	equalJSON(t, "timeout", p["Timeout"], 60)
	equalJSON(t, "reserved concurrency", p["ReservedConcurrentExecutions"], 5)
	vars := p["Environment"].(map[string]any)["Variables"].(map[string]any)
	if vars["WHARF_PREFIX"] != "acme" || vars["WHARF_REGISTRY_FILE"] != cps.RegistryFilePath || vars["WHARF_REGISTRY"] != nil {
		t.Errorf("custom env = %v", vars)
	}
	// User code gets the registry layer all the same.
	layerID, _ := s.only(t, "AWS::Lambda::LayerVersion")
	equalJSON(t, "custom function layers", p["Layers"], []any{ref(layerID)})
	if got := string(s.layer.files[cps.RegistryLayerFile]); !strings.Contains(got, `"prefix":"acme"`) || got != s.cp.RegistryJSON {
		t.Errorf("custom registry file = %s, want %s", got, s.cp.RegistryJSON)
	}
	if key, _ := p["Code"].(map[string]any)["S3Key"].(string); key == "" {
		t.Errorf("custom code not an asset: %v", p["Code"])
	}
	_, bus := s.only(t, "AWS::Events::EventBus")
	if props(bus)["Name"] != "acme-controlplane" {
		t.Errorf("custom bus name = %v", props(bus)["Name"])
	}
	_, lg := s.only(t, "AWS::Logs::LogGroup")
	equalJSON(t, "custom log retention", props(lg)["RetentionInDays"], 7)
	_, eic := s.only(t, "AWS::Lambda::EventInvokeConfig")
	equalJSON(t, "custom async max age", props(eic)["MaximumEventAgeInSeconds"], 7200)
	for _, r := range s.resources("AWS::Events::Rule") {
		if props(r)["EventBusName"] != nil {
			tg := props(r)["Targets"].([]any)[0].(map[string]any)
			equalJSON(t, "custom retry policy", tg["RetryPolicy"], map[string]any{"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 7200})
			equalJSON(t, "custom pattern accounts", props(r)["EventPattern"].(map[string]any)["account"], []string{"111122223333"})
		}
	}
	if s.cp.Prefix != "acme" || s.cp.Table == nil || s.cp.Function == nil || s.cp.EventBus == nil || s.cp.DeadLetterQueue == nil || s.cp.Role == nil {
		t.Errorf("exposed fields not set: %+v", s.cp)
	}
}

// Bad props fail synthesis with a message naming the field.
func TestNewControlPlanePanicsOnBadProps(t *testing.T) {
	bad := testRegistry()
	bad.Accounts[0].AccountID = "12345"
	cases := map[string]struct {
		props *cps.ControlPlaneProps
		want  []string
	}{
		"no registry":     {&cps.ControlPlaneProps{}, []string{"registry: required"}},
		"bad account":     {&cps.ControlPlaneProps{Registry: bad}, []string{`accounts[0].accountId: "12345" must be a 12-digit AWS account ID`, "apps[0].accountId"}},
		"bad prefix":      {&cps.ControlPlaneProps{Prefix: jsii.String("Wharf"), Registry: testRegistry()}, []string{`prefix: "Wharf"`}},
		"sweep 90s":       {&cps.ControlPlaneProps{Registry: testRegistry(), SweepInterval: awscdk.Duration_Seconds(jsii.Number(90))}, []string{"sweepInterval"}},
		"retries 200":     {&cps.ControlPlaneProps{Registry: testRegistry(), RetryAttempts: jsii.Number(200)}, []string{"retryAttempts: 200"}},
		"age 7h":          {&cps.ControlPlaneProps{Registry: testRegistry(), MaxEventAge: awscdk.Duration_Hours(jsii.Number(7))}, []string{"maxEventAge: 25200"}},
		"timeout 16m":     {&cps.ControlPlaneProps{Registry: testRegistry(), Timeout: awscdk.Duration_Minutes(jsii.Number(16))}, []string{"timeout: 960"}},
		"concurrency 0":   {&cps.ControlPlaneProps{Registry: testRegistry(), ReservedConcurrency: jsii.Number(0)}, []string{"reservedConcurrency"}},
		"prefix mismatch": {&cps.ControlPlaneProps{Prefix: jsii.String("acme"), Registry: testRegistry()}, []string{`accounts[0].observerRoleArn`, `acme-account-observer`}},
	}
	names := make([]string, 0, len(cases))
	for n := range cases {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		tc := cases[name]
		t.Run(name, func(t *testing.T) {
			stack := awscdk.NewStack(awscdk.NewApp(nil), jsii.String("s"), nil)
			msg := func() (msg string) {
				defer func() { msg = fmt.Sprint(recover()) }()
				cps.NewControlPlane(stack, "ControlPlane", tc.props)
				return
			}()
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("panic %q does not contain %q", msg, w)
				}
			}
			if err := tc.props.Validate(); err == nil || !strings.Contains(msg, err.Error()) {
				t.Errorf("Validate() = %v, want the panic's message", err)
			}
		})
	}
}

// sortedTestRegistry is testRegistry as the construct writes it: prefix
// set, accounts and apps sorted.
func sortedTestRegistry() cps.Registry {
	want := *testRegistry()
	want.Prefix = "wharf"
	want.Accounts[0], want.Accounts[1] = want.Accounts[1], want.Accounts[0]
	want.Apps[0], want.Apps[1] = want.Apps[1], want.Apps[0]
	return want
}

// The registry reaches the Lambda as a file in its only layer, not in its
// environment.
func TestRegistryLayer(t *testing.T) {
	s := defaults(t)
	layerID, layer := s.only(t, "AWS::Lambda::LayerVersion")
	_, fn := s.only(t, "AWS::Lambda::Function")
	equalJSON(t, "function layers", props(fn)["Layers"], []any{ref(layerID)})
	lp := props(layer)
	equalJSON(t, "layer architectures", lp["CompatibleArchitectures"], []string{"arm64"})
	equalJSON(t, "layer runtimes", lp["CompatibleRuntimes"], []string{"provided.al2023"})
	// An asset in the stack's asset bucket, as the function's code.
	equalJSON(t, "layer content bucket", lp["Content"].(map[string]any)["S3Bucket"], props(fn)["Code"].(map[string]any)["S3Bucket"])
	if d, _ := lp["Description"].(string); !strings.Contains(d, "(accounts: 2, apps: 2)") || !strings.Contains(d, "/opt/wharf/registry.json") {
		t.Errorf("layer description = %q", d)
	}
	if s.cp.RegistryLayer == nil {
		t.Error("RegistryLayer not exposed")
	}

	// The staged asset is exactly the registry file, readable by the
	// runtime user once Lambda extracts it under /opt.
	if len(s.layer.files) != 1 {
		t.Errorf("layer asset holds %d files, want only %s: %v", len(s.layer.files), cps.RegistryLayerFile, s.layer.modes)
	}
	content, ok := s.layer.files[cps.RegistryLayerFile]
	if !ok {
		t.Fatalf("layer asset has no %s: %v", cps.RegistryLayerFile, s.layer.modes)
	}
	if m := s.layer.modes[cps.RegistryLayerFile].Perm(); m != 0o644 {
		t.Errorf("registry file mode = %v, want 0644", m)
	}
	if m := s.layer.modes["wharf"].Perm(); m != 0o755 {
		t.Errorf("registry folder mode = %v, want 0755", m)
	}
	want := sortedTestRegistry()
	parsed, err := contract.ParseRegistry(content)
	if err != nil || !reflect.DeepEqual(parsed, want) {
		t.Errorf("the Lambda's parser reads the registry file as %+v, %v; want %+v (sorted, prefix set)", parsed, err, want)
	}
	if string(content) != s.cp.RegistryJSON {
		t.Errorf("RegistryJSON field differs from the registry file:\n%s\n%s", s.cp.RegistryJSON, content)
	}
}

// A registry of 200 apps (3 accounts, 20-character app names, 36-character
// external IDs: about 46 KB of JSON) synthesizes, cdk-nag clean; in the
// environment, whose 4 KB limit it used to share, about 15 apps fitted.
func TestLargeRegistrySynthesizesAndLayerHashIsStable(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "bootstrap"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	big := registryOf(200, 3, 20, 36)
	app := cdktest.NewApp(t)
	env := &awscdk.Environment{Account: jsii.String(cpAccount), Region: jsii.String("eu-west-1")}
	bigStack := awscdk.NewStack(app, jsii.String("big"), &awscdk.StackProps{Env: env})
	// The default stack's registry, given in another order and with other
	// code: the layer asset must be the same.
	sorted := sortedTestRegistry()
	sameStack := awscdk.NewStack(app, jsii.String("same"), &awscdk.StackProps{Env: env})
	var bigCP, sameCP *cps.ControlPlane
	cdktest.Check(t, func() {
		bigCP = cps.NewControlPlane(bigStack, "ControlPlane", &cps.ControlPlaneProps{
			Registry: &big, Code: awslambda.Code_FromAsset(jsii.String(dir), nil)})
		sameCP = cps.NewControlPlane(sameStack, "ControlPlane", &cps.ControlPlaneProps{
			Registry: &sorted, Code: awslambda.Code_FromAsset(jsii.String(dir), nil)})
	})
	if bigCP == nil || sameCP == nil {
		t.Fatal("NewControlPlane failed")
	}
	if n := len(bigCP.RegistryJSON); n < 40000 {
		t.Fatalf("registry JSON is only %d bytes; the test wants one far over 4 KB", n)
	}
	stacks := map[string]*synthesized{}
	for name, st := range map[string]awscdk.Stack{"big": bigStack, "same": sameStack} {
		tpl := cdktest.Template(t, st)
		if tpl == nil {
			t.Fatalf("%s: synthesis failed", name)
		}
		b, _ := json.Marshal(tpl.ToJSON())
		s := &synthesized{stack: st, tpl: tpl}
		if err := json.Unmarshal(b, &s.raw); err != nil {
			t.Fatal(err)
		}
		s.layer = s.stagedLayer(t, *app.Outdir())
		cdktest.AssertNagClean(t, st)
		stacks[name] = s
	}

	s := stacks["big"]
	parsed, err := contract.ParseRegistry(s.layer.files[cps.RegistryLayerFile])
	if err != nil || len(parsed.Apps) != 200 || len(parsed.Accounts) != 3 {
		t.Fatalf("registry file of the big stack: %d accounts, %d apps, %v", len(parsed.Accounts), len(parsed.Apps), err)
	}
	// The environment does not grow with the registry.
	_, fn := s.only(t, "AWS::Lambda::Function")
	envJSON, _ := json.Marshal(props(fn)["Environment"])
	if len(envJSON) > 512 || strings.Contains(string(envJSON), "externalId") {
		t.Errorf("environment of a 200-app control plane is %d bytes: %s", len(envJSON), envJSON)
	}

	// Same registry, same asset hash; another registry, another.
	if got, want := stacks["same"].layer.s3Key, defaults(t).layer.s3Key; got != want {
		t.Errorf("the same registry gave layer asset %s, the default stack %s", got, want)
	}
	if s.layer.s3Key == defaults(t).layer.s3Key {
		t.Errorf("different registries share the layer asset %s", s.layer.s3Key)
	}
}
